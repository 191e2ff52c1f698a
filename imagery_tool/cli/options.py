"""Options shared by several commands, declared once."""

from __future__ import annotations

import math
from typing import Any

import click

from imagery_tool.change.methods import METHODS

__all__ = ["Number", "method_option", "min_score_option", "numbers", "quiet_option"]


class Number(click.FloatRange):
    """A finite number, optionally within a range: every numeric option of every command.

    ``nan`` and ``inf`` are refused with the option's name (a plain ``float`` takes them, and
    ``nan`` then passes every range check and silently selects nothing).

    Parameters
    ----------
    min, max : float, optional
        Bounds (inclusive unless ``min_open`` / ``max_open``).
    min_open, max_open : bool
        Exclude the bound itself.

    Examples
    --------
    >>> Number(min=0, min_open=True).convert("2.5", None, None)
    2.5
    """

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return ``value`` as a float, refusing text, NaN, infinities and out-of-range values."""
        given = value
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                self.fail(f"{given!r} is not a number", param, ctx)
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(f"{given!r} is not a finite number", param, ctx)
        return super().convert(value, param, ctx)

    def __repr__(self) -> str:
        return f"Number({self._describe_range()})"


def numbers(value: str, count: int, hint: str, example: str) -> tuple[float, ...]:
    """Parse ``count`` comma-separated finite numbers given to option ``hint``.

    Raises
    ------
    click.BadParameter
        Not ``count`` numbers, or one of them is NaN or infinite.
    """
    try:
        parsed = tuple(float(v) for v in value.split(","))
    except ValueError:
        parsed = ()
    if len(parsed) != count or not all(math.isfinite(v) for v in parsed):
        raise click.BadParameter(
            f"{value!r}: give {count} finite numbers, e.g. {example}", param_hint=hint
        )
    return parsed


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
