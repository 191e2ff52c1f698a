"""Options shared by several commands, declared once."""

from __future__ import annotations

import click

from imagery_tool.change.methods import METHODS

method_option = click.option(
    "--method",
    type=click.Choice(list(METHODS)),
    default="robust",
    show_default=True,
    help="Change-detection method.",
)
