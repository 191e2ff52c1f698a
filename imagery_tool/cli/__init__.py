"""The ``imagery-tool`` command line: one module per command, all thin wrappers of the core."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import click

__all__ = ["COMMANDS", "cli", "main"]

# Command name -> "module:attribute". Modules are imported only when their command runs, so
# that ``imagery-tool info`` does not pay for the detection or rendering stack.
COMMANDS = {
    "detect": "imagery_tool.cli.detect:detect",
    "annotations": "imagery_tool.cli.annotations:annotations",
    "info": "imagery_tool.cli.info:info",
    "inventory": "imagery_tool.cli.inventory:inventory",
    "propose": "imagery_tool.cli.propose:propose",
    "render": "imagery_tool.cli.render:render",
    "series": "imagery_tool.cli.series:series",
}


class LazyGroup(click.Group):
    """A click group that imports each command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: D102
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: D102
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="imagery-tool")
def cli() -> None:
    """Annotate and compare dated satellite tiles."""


# click >= 8.2 raises this (a UsageError) for a group called without a command.
_NoArgsIsHelp = getattr(click.exceptions, "NoArgsIsHelpError", ())


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C, so that every ``finally`` removes its temporaries."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def _signals() -> Iterator[None]:
    """While a command runs, SIGTERM unwinds the stack like Ctrl-C; restored afterwards.

    (A file-size limit needs nothing here: Python ignores SIGXFSZ at start-up, so ``ulimit -f``
    makes the write fail with EFBIG, which is reported like a full disk.)
    """
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
        installed = True
    except ValueError:  # not the main thread: leave the process's signals alone
        installed = False
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> None:
    """Run the command line.

    Exit 0 on success, 2 on bad usage or input (one line on standard error naming the file or
    option and what to do), 1 on a bug, 130 when interrupted (Ctrl-C) and 143 when terminated
    (SIGTERM); an interrupted or failed run leaves no temporary file and previous outputs intact.
    """
    from imagery_tool.atomic import no_space_error
    from imagery_tool.cli.flags import with_flags
    from imagery_tool.errors import ImageryToolError
    from imagery_tool.runtime import runtime

    try:
        # the process ends with its command: its heap may keep freed blocks (opt-in elsewhere)
        with _signals(), runtime(heap_tuning=True):
            cli.main(args=argv, prog_name="imagery-tool", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("imagery-tool: interrupted", err=True)
        sys.exit(130)
    except Terminated:
        click.echo("imagery-tool: terminated", err=True)
        sys.exit(143)
    except _NoArgsIsHelp as exc:  # a group without a command: its help, as before
        exc.show()
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # one line too: the option at fault, what is wrong, --help
        where = exc.ctx.command_path if exc.ctx is not None else "imagery-tool"
        message = exc.format_message().rstrip(".")
        click.echo(f"imagery-tool: {message} (see {where} --help)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ImageryToolError as exc:  # the core names parameters: shown as their flags
        click.echo(f"imagery-tool: {with_flags(str(exc))}", err=True)
        sys.exit(2)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        full = no_space_error(exc, getattr(exc, "filename", None) or "the output")
        if full is not None:
            click.echo(f"imagery-tool: {full}", err=True)
            sys.exit(2)
        if os.environ.get("IMAGERY_TOOL_DEBUG"):
            traceback.print_exc()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        click.echo(
            f"imagery-tool: internal error: {type(exc).__name__}: {first} "
            "(a bug: please report it; set IMAGERY_TOOL_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(1)
    sys.exit(0)
