"""Checked values from foreign annotation files: each refusal names the file, element and field.

Every reader takes the numbers, names and lists of a foreign file through these functions, so
that a string where a number belongs, a ragged point list, ``1e400`` or a coordinate of ``1e15``
px ends in one `AnnotationFormatError` line (``a.json: annotations[3]: bbox: ...``) instead of
a numpy, OpenCV or SQLite error deep inside, or a computation that overflows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from imagery_tool.annotations.model import MAX_COORD_PX
from imagery_tool.errors import AnnotationFormatError

__all__ = [
    "MAX_COORD_PX",
    "MAX_IMAGE_PX",
    "array",
    "coordinates",
    "identifier",
    "image_size",
    "integer",
    "number",
    "obj",
    "optional_text",
    "points",
    "text",
]

# A tile side cannot exceed the coordinate bound: boxes must be able to reach its far edge.
MAX_IMAGE_PX = int(MAX_COORD_PX)


def show(value: Any, width: int = 40) -> str:
    """``repr(value)`` cut to ``width`` characters (a 5,000-digit number stays one short line)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _fail(where: str, field: str, problem: str) -> AnnotationFormatError:
    return AnnotationFormatError(f"{where}: {field}: {problem}; fix the file")


def number(
    value: Any,
    *,
    where: str,
    field: str,
    text_ok: bool = False,
    low: float = -math.inf,
    high: float = math.inf,
) -> float:
    """Return ``value`` as a finite float in ``[low, high]``.

    Parameters
    ----------
    value : Any
        A JSON number (``bool`` is refused), or with ``text_ok`` also a numeric string (the
        tokens of DOTA, YOLO, VOC and CSV files).
    where, field : str
        The file and element (``"a.json: annotations[3]"``), and the field (``"bbox"``).
    text_ok : bool
        Whether strings holding a number are accepted.
    low, high : float
        Allowed range, inclusive.

    Raises
    ------
    AnnotationFormatError
        When the value is not a number, not finite or out of range.
    """
    if isinstance(value, bool) or not (
        isinstance(value, int | float) or (text_ok and isinstance(value, str))
    ):
        raise _fail(where, field, f"{show(value)} is not a number")
    if isinstance(value, int) and abs(value) > 10**308:
        raise _fail(where, field, f"{show(value)} is not a finite number")
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise _fail(where, field, f"{show(value)} is not a number") from None
    if not math.isfinite(result):
        raise _fail(where, field, f"{show(value)} is not a finite number")
    if not low <= result <= high:
        raise _fail(where, field, f"{result:g} is outside [{low:g}, {high:g}]")
    return result


def coordinates(values: Any, *, where: str, field: str, text_ok: bool = False) -> list[float]:
    """Return a flat list of pixel coordinates, each finite and within +-`MAX_COORD_PX`."""
    return [
        number(v, where=where, field=field, text_ok=text_ok, low=-MAX_COORD_PX, high=MAX_COORD_PX)
        for v in array(values, where=where, field=field)
    ]


def points(
    value: Any,
    *,
    where: str,
    field: str,
    text_ok: bool = False,
    bound: float = MAX_COORD_PX,
) -> np.ndarray:
    """Return ``[[x, y], ...]`` as an ``(N, 2)`` float64 array, each value within +-``bound``.

    Raises
    ------
    AnnotationFormatError
        When ``value`` is not a list of 2-number points (ragged, nested, strings, empty).
    """
    items = array(value, where=where, field=field)
    if not items:
        raise _fail(where, field, "no points")
    out = []
    for i, point in enumerate(items):
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise _fail(where, field, f"point {i} is {show(point)}, not a pair [x, y]")
        out.append(
            [
                number(v, where=where, field=f"{field} point {i}", text_ok=text_ok,
                       low=-bound, high=bound)
                for v in point
            ]
        )  # fmt: skip
    return np.array(out, dtype=np.float64)


def integer(
    value: Any,
    *,
    where: str,
    field: str,
    low: int = 0,
    high: int = MAX_IMAGE_PX,
    text_ok: bool = False,
) -> int:
    """Return a whole number in ``[low, high]`` (``100.0`` is; ``1e400`` and ``"abc"`` are not)."""
    result = number(value, where=where, field=field, low=low, high=high, text_ok=text_ok)
    if result != int(result):
        raise _fail(where, field, f"{show(value)} is not a whole number")
    return int(result)


def image_size(value: Any, *, where: str, field: str, text_ok: bool = False) -> int:
    """Return an image width or height in pixels: ``0`` (unknown) to `MAX_IMAGE_PX`."""
    if value is None or (text_ok and isinstance(value, str) and not value.strip()):
        return 0
    return integer(value, where=where, field=field, low=0, high=MAX_IMAGE_PX, text_ok=text_ok)


def identifier(value: Any, *, where: str, field: str) -> int | str:
    """Return a JSON id: an integer or a string (a list, an object or a float is refused)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail(where, field, f"{show(value)} is not an integer or string id")
    return value


def text(value: Any, *, where: str, field: str) -> str:
    """Return a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, field, f"{show(value)} is not a non-empty string")
    return value


def optional_text(value: Any, *, where: str, field: str) -> str | None:
    """Return a string, or None for a missing value."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(where, field, f"{show(value)} is not a string")
    return value


def obj(value: Any, *, where: str, field: str, optional: bool = False) -> dict[str, Any]:
    """Return a JSON object (with ``optional``, ``None`` counts as an empty one)."""
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(where, field, f"{show(value)} is not an object")
    return dict(value)


def array(value: Any, *, where: str, field: str, optional: bool = False) -> list[Any]:
    """Return a JSON array (with ``optional``, ``None`` counts as an empty one)."""
    if value is None and optional:
        return []
    if not isinstance(value, list | tuple):
        raise _fail(where, field, f"{show(value)} is not a list")
    return list(value)
