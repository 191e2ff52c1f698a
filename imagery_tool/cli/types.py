"""Parameter types shared by every command: finite numbers in a range."""

from __future__ import annotations

import math
from typing import Any

import click

from imagery_tool.georef import MAX_PIXEL_SIZE_M

__all__ = ["Number", "numbers", "pixel_size"]


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


def pixel_size() -> Number:
    """Return the type of a ground-sample-distance option: metres per pixel, in (0, 1000].

    The bound is the core's, `imagery_tool.georef.MAX_PIXEL_SIZE_M`.
    """
    return Number(min=0, min_open=True, max=MAX_PIXEL_SIZE_M)
