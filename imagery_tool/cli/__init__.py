"""The ``imagery-tool`` command line: one module per command, all thin wrappers of the core."""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import click

__all__ = ["COMMANDS", "cli", "main"]

# Command name -> "module:attribute". Modules are imported only when their command runs, so
# that ``imagery-tool info`` does not pay for the detection or rendering stack.
COMMANDS = {
    "detect": "imagery_tool.cli.detect:detect",
    "annotations": "imagery_tool.cli.annotations:annotations",
    "info": "imagery_tool.cli.info:info",
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


def main(argv: list[str] | None = None) -> None:
    """Run the command line; exit 0 on success, 2 on bad usage or input, 1 on a bug."""
    from imagery_tool.errors import ImageryToolError

    try:
        cli.main(args=argv, prog_name="imagery-tool", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("imagery-tool: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ImageryToolError as exc:
        click.echo(f"imagery-tool: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # the last line of defence: one line, never a traceback
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
