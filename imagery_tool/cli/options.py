"""Options shared by several commands, declared once."""

from __future__ import annotations

import click

from imagery_tool.change.methods import METHODS
from imagery_tool.cli.types import Number

__all__ = ["method_option", "min_score_option", "quiet_option"]


method_option = click.option(
    "--method",
    type=click.Choice(list(METHODS)),
    default="robust",
    show_default=True,
    help="Change-detection method.",
)

min_score_option = click.option(
    "--min-score", type=Number(0, 1), default=None,
    help="For --method robust: report objects whose score (the region model's probability) "
    "reaches this (default: the model's operating point for the pair: chosen for precision "
    "0.95 on dates that differ by sensor noise, on real pairs for dates months apart; lower = "
    "more found, more false alarms).",
)  # fmt: skip

quiet_option = click.option(
    "-q", "--quiet", is_flag=True,
    help="No progress bar (there is none either when standard error is not a terminal).",
)  # fmt: skip
