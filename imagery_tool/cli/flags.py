"""The command line's name for each API parameter: core messages shown with flags."""

from __future__ import annotations

import re

__all__ = ["FLAGS", "flag", "with_flags"]

# API parameter -> the flag that sets it. Core messages name parameters in backquotes
# (`tile`); the command line shows them as these flags.
FLAGS = {
    "method": "--method",
    "min_size_m": "--min-size-m",
    "max_size_m": "--max-size-m",
    "threshold": "--threshold",
    "min_score": "--min-score",
    "registration_model": "--registration",
    "pixel_size_m": "--pixel-size-m",
    "scheduler": "--scheduler",
    "duplicates": "--duplicates",
    "tiles": "--tile",
    "class_map": "--map",
    "gsd": "--tile or --gsd",  # the command line's gsd comes from the tiles, or is given
    "heat": "--heat",
    "before": "--before",
    "width": "--width",
    "scale": "--scale",
    "size_m": "--size",
    "region": "--bbox or --center",
    "crs": "--lonlat or --bbox-crs",
}

_NAMED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


def flag(parameter: str) -> str:
    """Return the flag of an API parameter (``min_size_m`` -> ``--min-size-m``).

    Raises
    ------
    KeyError
        No flag sets ``parameter``.
    """
    return FLAGS[parameter]


def with_flags(message: str) -> str:
    """Return a core message with each backquoted parameter named by its flag.

    Backquoted names no flag sets are left as they are.

    Examples
    --------
    >>> with_flags("`min_size_m` 5 must be below `max_size_m` 4")
    '--min-size-m 5 must be below --max-size-m 4'
    """
    return _NAMED.sub(lambda m: FLAGS.get(m.group(1), m.group(0)), message)
