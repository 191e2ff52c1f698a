"""The ``imagery-tool`` command line: one module per command, all thin wrappers of the core."""

from __future__ import annotations

import os
import sys
import traceback

import click

from imagery_tool.cli.info import info

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="imagery-tool")
def cli() -> None:
    """Annotate and compare dated satellite tiles."""


cli.add_command(info)


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
