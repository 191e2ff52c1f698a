"""How change kinds look in every picture and view: their names, colours and signs."""

from __future__ import annotations

__all__ = ["CHANGE_COLOURS", "CHANGE_KINDS", "CHANGE_SIGNS", "change_bgr", "change_hex"]

# What a changed object did between two dates (`imagery_tool.change.ChangeRegion.change`).
CHANGE_KINDS = ("appeared", "disappeared", "changed")

# One colour per kind, RGB, in the reviewer sheet, the quick look, the series chips and napari:
# Okabe & Ito's colour-blind-safe orange, sky blue and reddish purple. The reviewer sheet also
# dashes change outlines, so they read apart from annotation boxes without colour.
CHANGE_COLOURS = {
    "appeared": (230, 159, 0),
    "disappeared": (86, 180, 233),
    "changed": (204, 121, 167),
}

# Change labels are short: the sign of the kind and the area (the legend says the kinds).
CHANGE_SIGNS = {"appeared": "+", "disappeared": "−", "changed": "Δ"}


def change_hex(kind: str) -> str:
    """Return a kind's colour as ``"#rrggbb"`` (napari, Qt).

    Examples
    --------
    >>> change_hex("appeared")
    '#e69f00'
    """
    return "#{:02x}{:02x}{:02x}".format(*CHANGE_COLOURS[kind])


def change_bgr(kind: str) -> tuple[int, int, int]:
    """Return a kind's colour in OpenCV's ``(blue, green, red)`` order.

    Examples
    --------
    >>> change_bgr("appeared")
    (0, 159, 230)
    """
    r, g, b = CHANGE_COLOURS[kind]
    return (b, g, r)
