"""Click-to-box: one point on an aircraft gives its rotated box, size in metres and likely types."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rasterio.windows import Window

from imagery_tool.aircraft.body import BodyFit, fit_body, last_rejection
from imagery_tool.aircraft.types import AIRCRAFT_SIZE_RANGE_M, TypeMatch, rank_types, suggest_label
from imagery_tool.aircraft_catalogue import lookup
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.errors import ImageryToolError
from imagery_tool.georef import ASSUMED_PIXEL_SIZE_M
from imagery_tool.tile import Tile, open_tile

__all__ = [
    "AssistedBox",
    "NothingAircraftLike",
    "box_at",
    "box_in_image",
]

# The window read around a click: this many times the largest plausible size, each side.
_WINDOW_REACH = 1.0
# A fitted box reaching this many pixels past the image's edge is an aircraft cut by it.
_EDGE_PX = 2.0


class NothingAircraftLike(ImageryToolError, ValueError):
    """Nothing aircraft-like at the point given (no compact symmetric body of a plausible size)."""


@dataclass(frozen=True)
class AssistedBox:
    """An aircraft box fitted from one click.

    Attributes
    ----------
    corners_px : (4, 2) float64 ndarray
        ``(x, y)`` corners in the tile's pixels, clockwise from the front-left (nose end first).
    length_m, width_m : float
        Measured length along the fuselage and span across it, metres.
    heading_deg : float
        Clockwise from up (north on a north-up tile), toward the nose when `nose_known`.
    nose_known : bool
        Whether the nose end was told from the tail end.
    types : list of TypeMatch
        Plausible catalogue types, best first.
    score : float
        How aircraft-like the body is, in [0, 1].
    pixel_size_m : float
        Pixel size used to measure, metres.
    assumed_pixel_size : bool
        True when the tile has no GSD and none was given: `pixel_size_m` is an assumption.
    """

    corners_px: np.ndarray
    length_m: float
    width_m: float
    heading_deg: float
    nose_known: bool
    types: list[TypeMatch]
    score: float
    pixel_size_m: float
    assumed_pixel_size: bool
    fit: BodyFit | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """The suggested class of the default label schema (`suggest_label`): storable."""
        return suggest_label(self.length_m, self.width_m, gsd_m=self.pixel_size_m)

    def to_annotation(self, tile_name: str | None = None, *, label: str | None = None,
                      **fields: Any) -> BoxAnnotation:  # fmt: skip
        """Return the box as a `BoxAnnotation` with ``source="assisted"``.

        Parameters
        ----------
        tile_name : str, optional
            Tile file name the corners refer to.
        label : str, optional
            Class; the suggested type by default.
        **fields
            Other `BoxAnnotation` fields (``author``, ``acquired``, ...).
        """
        attrs = dict(fields.pop("attributes", {}) or {})
        return BoxAnnotation(
            tuple(map(tuple, self.corners_px)), label or self.label, tile=tile_name,
            source="assisted", score=round(min(max(self.score, 0.0), 1.0), 4),
            attributes=attrs, **fields,
        )  # fmt: skip


def _length_range(class_name: str | None) -> tuple[tuple[float, float], list[str] | None]:
    """Size range and candidate types for a selected class (all aircraft when none)."""
    if not class_name:
        return AIRCRAFT_SIZE_RANGE_M, None
    try:
        t = lookup(class_name)
    except (KeyError, ValueError, LookupError):
        return AIRCRAFT_SIZE_RANGE_M, None
    big = max(t.length_m, t.span_m)
    small = min(t.length_m, t.span_m)
    return (max(0.5 * small, 3.0), 1.3 * big), [t.name]


def box_in_image(
    image: np.ndarray,
    point: tuple[float, float],
    *,
    pixel_size_m: float,
    class_name: str | None = None,
    valid: np.ndarray | None = None,
    assumed_pixel_size: bool = False,
) -> AssistedBox:
    """Box the aircraft at a point of an in-memory image.

    Parameters
    ----------
    image : (H, W, C) or (H, W) ndarray
        The image (or a window of it), any dtype; bands red, green, blue first.
    point : tuple of float
        ``(x, y)`` pixel of the click.
    pixel_size_m : float
        Ground size of a pixel, metres.
    class_name : str, optional
        Selected class: its catalogue size bounds the search and the types offered.
    valid : (H, W) bool ndarray, optional
        True where the image holds data.
    assumed_pixel_size : bool, optional
        Record that `pixel_size_m` is an assumption.

    Returns
    -------
    AssistedBox

    Raises
    ------
    NothingAircraftLike
        When no aircraft-like body is at the point.
    """
    _check_pixel_size(pixel_size_m)
    img = np.asarray(image)
    h, w = img.shape[:2]
    x, y = float(point[0]), float(point[1])
    if not (0 <= x < w and 0 <= y < h):
        raise NothingAircraftLike(
            f"point ({x:g}, {y:g}) is outside the image ({w} x {h} px); click on the aircraft"
        )
    length_range, candidates = _length_range(class_name)
    reach = int(math.ceil(_WINDOW_REACH * length_range[1] / pixel_size_m))
    c0, r0 = max(int(x) - reach, 0), max(int(y) - reach, 0)
    c1, r1 = min(int(x) + reach + 1, w), min(int(y) + reach + 1, h)
    sub = img[r0:r1, c0:c1]
    sub_valid = None if valid is None else np.asarray(valid)[r0:r1, c0:c1]
    fit = fit_body(sub, (x - c0, y - r0), gsd_m=pixel_size_m, length_range_m=length_range,
                   mask=sub_valid)  # fmt: skip
    return _assisted(fit, (c0, r0), pixel_size_m, candidates, assumed_pixel_size, (x, y), (h, w))


def _assisted(
    fit: BodyFit | None,
    offset: tuple[int, int],
    pixel_size_m: float,
    candidates: list[str] | None,
    assumed: bool,
    point: tuple[float, float],
    shape: tuple[int, int],
) -> AssistedBox:
    if fit is None:
        why = last_rejection()
        raise NothingAircraftLike(
            f"nothing aircraft-like at pixel ({point[0]:.0f}, {point[1]:.0f})"
            + (f" ({why})" if why else "")
            + "; click on the body of an aircraft, or draw its box by hand"
        )
    corners = fit.corners_px + np.asarray(offset, dtype=np.float64)
    h, w = shape
    if (
        (corners < -_EDGE_PX).any()
        or (corners[:, 0] > w + _EDGE_PX).any()
        or (corners[:, 1] > h + _EDGE_PX).any()
    ):  # cut by the image's edge: its size, and so its type, would be wrong
        raise NothingAircraftLike(
            f"the aircraft at pixel ({point[0]:.0f}, {point[1]:.0f}) runs off the edge of the "
            "image, so its size cannot be measured; draw its box by hand"
        )
    length_m, width_m = fit.length_px * pixel_size_m, fit.width_px * pixel_size_m
    types = rank_types(length_m, width_m, candidates=candidates, top=5, gsd_m=pixel_size_m)
    if candidates and not types:
        types = rank_types(length_m, width_m, top=5, gsd_m=pixel_size_m)
    return AssistedBox(
        corners_px=corners, length_m=length_m, width_m=width_m, heading_deg=fit.heading_deg,
        nose_known=fit.nose_known, types=types, score=fit.score, pixel_size_m=pixel_size_m,
        assumed_pixel_size=assumed, fit=fit,
    )  # fmt: skip


def box_at(
    tile: Tile | str,
    point: tuple[float, float],
    *,
    crs_point: bool = False,
    class_name: str | None = None,
    pixel_size_m: float | None = None,
    candidates: Iterable[str] | None = None,
) -> AssistedBox:
    """Box the aircraft at a point of a tile: rotated box, size in metres, likely types.

    Reads a window around the point (sized from the largest plausible aircraft at the tile's
    pixel size), segments the body under the point and fits its box (`fit_body`), and ranks
    catalogue types by the measured length and span (only the selected class's type when one
    is given and the catalogue knows it).

    Parameters
    ----------
    tile : Tile or path
        The tile.
    point : tuple of float
        ``(x, y)`` = ``(col, row)`` pixel of the click, or ``(lon, lat)`` with `crs_point`.
    crs_point : bool, optional
        The point is ``(lon, lat)`` in degrees (georeferenced tiles only).
    class_name : str, optional
        Selected class (e.g. ``"An-124"``): its size bounds the search.
    pixel_size_m : float, optional
        Pixel size in metres for a tile without GSD; without either,
        `ASSUMED_PIXEL_SIZE_M` is assumed and the result says so (``assumed_pixel_size``).
    candidates : iterable of str, optional
        Types to rank (e.g. those of the project's label schema); the whole catalogue by
        default. A selected `class_name` narrows them to that type.

    Returns
    -------
    AssistedBox
        Corners in the tile's pixels.

    Raises
    ------
    NothingAircraftLike
        No aircraft-like body at the point, or the point is outside the tile.
    """
    if pixel_size_m is not None:
        _check_pixel_size(pixel_size_m)
    if not isinstance(tile, Tile):
        tile = open_tile(tile)
    georef = tile.georef
    if crs_point:
        x, y = georef.lonlat_to_pixel(float(point[0]), float(point[1]))
        x, y = float(np.asarray(x)), float(np.asarray(y))
    else:
        x, y = float(point[0]), float(point[1])
    gsd = georef.mean_gsd_m
    assumed = False
    if gsd is None:
        if pixel_size_m is not None:
            gsd = float(pixel_size_m)
        else:
            gsd, assumed = ASSUMED_PIXEL_SIZE_M, True
    h, w = tile.shape
    if not (0 <= x < w and 0 <= y < h):
        raise NothingAircraftLike(
            f"point ({x:.1f}, {y:.1f}) is outside {tile.name} ({w} x {h} px); click on the tile"
        )
    length_range, only = _length_range(class_name)
    candidates = only or (list(candidates) if candidates is not None else None)
    reach = int(math.ceil(_WINDOW_REACH * length_range[1] / gsd))
    c0, r0 = max(int(x) - reach, 0), max(int(y) - reach, 0)
    c1, r1 = min(int(x) + reach + 1, w), min(int(y) + reach + 1, h)
    window = Window(c0, r0, c1 - c0, r1 - r0)
    bands = list(tile.rgb_bands)[:3]
    pixels, valid = tile.read_masked(window=window, bands=bands)
    image = np.moveaxis(pixels, 0, -1)
    fit = fit_body(image, (x - c0, y - r0), gsd_m=gsd, length_range_m=length_range, mask=valid)
    return _assisted(fit, (c0, r0), gsd, candidates, assumed, (x, y), (h, w))


def _check_pixel_size(pixel_size_m: float) -> None:
    if not (math.isfinite(pixel_size_m) and pixel_size_m > 0):
        raise ValueError(f"pixel_size_m={pixel_size_m}; give the metres per pixel, above 0")
