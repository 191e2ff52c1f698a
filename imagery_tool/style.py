"""How change kinds and review states look in every picture and view: names, colours, signs."""

from __future__ import annotations

__all__ = [
    "CHANGE_COLOURS",
    "CHANGE_KINDS",
    "CHANGE_SIGNS",
    "DETECTED_COLOUR",
    "REVIEW_COLOURS",
    "change_bgr",
    "change_hex",
    "review_hex",
]

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

# One colour per review state of a box (`imagery_tool.annotations.REVIEW_STATUSES`), RGB, in
# napari's boxes layer and proposals queue: the Okabe & Ito colours the change kinds leave,
# yellow, bluish green and vermillion, which colour-blind readers tell apart (a green/red
# pair they do not).
REVIEW_COLOURS = {
    "unreviewed": (240, 228, 66),
    "accepted": (0, 158, 115),
    "rejected": (213, 94, 0),
}
# A box a detector proposed that nobody reviewed yet: Okabe & Ito's blue.
DETECTED_COLOUR = (0, 114, 178)


def change_hex(kind: str) -> str:
    """Return a kind's colour as ``"#rrggbb"`` (napari, Qt).

    Examples
    --------
    >>> change_hex("appeared")
    '#e69f00'
    """
    return _hex(CHANGE_COLOURS[kind])


def review_hex(state: str) -> str:
    """Return a review state's colour (or ``"detected"``'s) as ``"#rrggbb"`` (napari, Qt).

    Examples
    --------
    >>> review_hex("accepted")
    '#009e73'
    >>> review_hex("detected")
    '#0072b2'
    """
    return _hex(DETECTED_COLOUR if state == "detected" else REVIEW_COLOURS[state])


def change_bgr(kind: str) -> tuple[int, int, int]:
    """Return a kind's colour in OpenCV's ``(blue, green, red)`` order.

    Examples
    --------
    >>> change_bgr("appeared")
    (0, 159, 230)
    """
    r, g, b = CHANGE_COLOURS[kind]
    return (b, g, r)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
