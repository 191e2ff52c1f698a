"""What gets drawn on a tile: annotation boxes and change regions as one small protocol."""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from pyproj import Geod

from imagery_tool.errors import RenderError
from imagery_tool.georef import GeoRef
from imagery_tool.render.text import isolate
from imagery_tool.style import CHANGE_KINDS, CHANGE_SIGNS

__all__ = [
    "CLASS_PALETTE",
    "Mark",
    "class_colours",
    "label_text",
    "marks_from_annotations",
    "move_marks",
    "read_changes",
    "read_residual",
    "size_m",
    "transform_marks",
]

# Classes: Paul Tol's colour-blind-safe "bright" and "vibrant" schemes, minus the hues used for
# change kinds. Schema classes take them in schema order; other names by a stable hash.
CLASS_PALETTE = (
    (68, 119, 170),  # blue
    (238, 102, 119),  # red
    (34, 136, 51),  # green
    (204, 187, 68),  # yellow
    (102, 204, 238),  # cyan
    (170, 51, 119),  # purple
    (0, 153, 136),  # teal
    (238, 51, 119),  # magenta
    (187, 187, 187),  # grey
    (51, 34, 136),  # indigo
)

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Mark:
    """One outline to draw: an annotation box or a change region, on a tile's pixel grid.

    Attributes
    ----------
    corners : tuple of (float, float)
        Polygon vertices ``(x, y)`` = ``(col, row)`` in continuous pixels of ``tile``'s grid; a
        box has four, clockwise from its head (front-left) corner.
    label : str
        The class (``"An-124"``) or, for a change, its kind.
    kind : {"annotation", "appeared", "disappeared", "changed"}
        What the outline shows.
    attributes : dict
        Annotation attributes (``{"nose_open": True}``) or change properties.
    tile : str or None
        File name of the tile the corners refer to; ``None`` for the tile being drawn.
    """

    corners: tuple[tuple[float, float], ...]
    label: str
    kind: str = "annotation"
    attributes: Mapping[str, Any] = field(default_factory=dict)
    tile: str | None = None

    @property
    def xy(self) -> np.ndarray:
        """(N, 2) float64 vertices."""
        return np.asarray(self.corners, dtype=np.float64)

    @property
    def is_change(self) -> bool:
        """Whether the mark is a change region."""
        return self.kind in CHANGE_KINDS


def marks_from_annotations(annotations: Iterable[Any]) -> list[Mark]:
    """Adapt annotation objects to `Mark`.

    Parameters
    ----------
    annotations : iterable
        `imagery_tool.annotations.BoxAnnotation` objects, `Mark` objects, or anything with
        ``corners`` and ``label`` (and optionally ``attributes`` and ``tile``) attributes or
        keys. Rejected annotations (``review == "rejected"``) are left out.

    Returns
    -------
    list of Mark
    """
    marks = []
    for item in annotations:
        if isinstance(item, Mark):
            marks.append(item)
            continue
        get = item.get if isinstance(item, Mapping) else lambda k, d=None, o=item: getattr(o, k, d)
        if get("review") == "rejected":
            continue
        corners = tuple((float(x), float(y)) for x, y in np.asarray(get("corners"), dtype=float))
        marks.append(
            Mark(
                corners, str(get("label")), "annotation", dict(get("attributes") or {}), get("tile")
            )
        )
    return marks


def label_text(mark: Mark, *, attributes: Sequence[str] | None = None) -> str:
    """Return the label drawn beside a mark: class and key attributes, e.g. ``An-124 · nose open``.

    Parameters
    ----------
    mark : Mark
        The annotation or change.
    attributes : sequence of str, optional
        Attribute names to show. By default every boolean attribute that is true is shown by
        its name (``nose_open`` -> ``nose open``); with a list, those attributes are shown,
        booleans by name when true and other values as ``name value``.

    Returns
    -------
    str
        For a change: the kind's sign and the area, e.g. ``+ 5,065 m²``.
    """
    if mark.is_change:
        area = mark.attributes.get("area_m2")
        sign = CHANGE_SIGNS[mark.kind]
        return mark.kind if area is None else f"{sign} {_area(float(area))}"
    parts = [isolate(mark.label)]
    names = list(attributes) if attributes is not None else sorted(mark.attributes)
    for name in names:
        value = mark.attributes.get(name)
        words = name.replace("_", " ")
        if value is True:
            parts.append(words)
        elif attributes is not None and value not in (None, False, ""):
            parts.append(isolate(f"{words} {value}"))
    return " · ".join(parts)


def _area(m2: float) -> str:
    return f"{m2 / 1e4:.2f} ha" if m2 >= 1e5 else f"{m2:,.0f} m²"


def class_colours(labels: Iterable[str], schema_order: Sequence[str] = ()) -> dict[str, tuple]:
    """Give each class a colour, the same in every picture and distinct within one.

    Parameters
    ----------
    labels : iterable of str
        The classes present in the picture.
    schema_order : sequence of str
        Class names of the label schema; a class takes the palette colour at its schema index,
        other classes one chosen by a CRC-32 of their name.

    Returns
    -------
    dict
        Class -> RGB, for the classes in ``labels``.
    """
    index = {name: i for i, name in enumerate(schema_order)}
    colours: dict[str, tuple] = {}
    used: set[int] = set()
    n = len(CLASS_PALETTE)

    def preferred(name: str) -> int:
        return index[name] % n if name in index else zlib.crc32(name.encode("utf-8")) % n

    ordered = sorted(set(labels), key=lambda s: (s not in index, index.get(s, 0), s))
    for name in ordered:
        slot = preferred(name)
        for step in range(n):  # a clash within one picture moves to the next free colour
            if (slot + step) % n not in used:
                slot = (slot + step) % n
                break
        used.add(slot)
        colours[name] = CLASS_PALETTE[slot]
    return colours


def size_m(corners: np.ndarray, georef: GeoRef) -> tuple[float, float] | None:
    """Length and width of a 4-corner box on the ground, in metres (geodesic).

    Parameters
    ----------
    corners : (4, 2) array_like of float
        Pixel corners, clockwise from the head.
    georef : GeoRef
        The grid of the corners.

    Returns
    -------
    (float, float) or None
        ``(length, width)``: length along the heading (edge 1 -> 2), width across it (edge
        0 -> 1); ``None`` without georeference or lon/lat (`GeoRef.has_lonlat`).
    """
    if not georef.has_lonlat:
        return None
    xy = np.asarray(corners, dtype=np.float64)
    lon, lat = georef.pixel_to_lonlat(xy[:, 0], xy[:, 1])
    width = _GEOD.inv(lon[0], lat[0], lon[1], lat[1])[2]
    length = _GEOD.inv(lon[1], lat[1], lon[2], lat[2])[2]
    return float(length), float(width)


def read_changes(path: str | Path, georef: GeoRef, *, tile_name: str = "the tile") -> list[Mark]:
    """Read the change regions of ``imagery-tool detect`` onto a tile's pixel grid.

    Parameters
    ----------
    path : str or Path
        An RFC 7946 GeoJSON FeatureCollection with lon/lat polygons (``.geojson``), or the
        pixel-mode ``.json`` (features whose ``bbox_px`` is on the BEFORE tile's grid).
    georef : GeoRef
        The grid to draw on (the BEFORE tile's for a before/after sheet).
    tile_name : str
        For error messages.

    Returns
    -------
    list of Mark
        One per feature, with ``kind`` the feature's ``change`` and ``attributes`` its
        properties (``score``, ``area_m2``, ...).

    Raises
    ------
    RenderError
        When the file is missing, not JSON, not a FeatureCollection, or a feature has no usable
        geometry.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RenderError(f"{path}: no such changes file; check the path") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RenderError(
            f"{path}: not a JSON changes file ({exc}); pass the output of imagery-tool detect"
        ) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RenderError(
            f"{path}: not a GeoJSON FeatureCollection; pass the output of imagery-tool detect"
        )
    marks = []
    for n, feature in enumerate(data.get("features") or []):
        props = dict(feature.get("properties") or {})
        kind = props.get("change")
        if kind not in CHANGE_KINDS:
            raise RenderError(
                f"{path}: feature {n} has change={kind!r}; expected one of "
                f"{', '.join(CHANGE_KINDS)}"
            )
        corners = _feature_pixels(feature, props, georef)
        if corners is None:
            raise RenderError(
                f"{path}: feature {n} has neither a lon/lat polygon usable on {tile_name} nor a "
                "bbox_px; pass the output of imagery-tool detect"
            )
        marks.append(Mark(corners, kind, kind, props))
    return marks


def _feature_pixels(feature: Mapping, props: Mapping, georef: GeoRef):
    geometry = feature.get("geometry") or {}
    if georef.has_lonlat and geometry.get("type") in ("Polygon", "MultiPolygon"):
        coords = geometry["coordinates"]
        ring = coords[0] if geometry["type"] == "Polygon" else max(coords, key=len)[0]
        ring = np.asarray(ring, dtype=np.float64)[:, :2]
        if len(ring) > 1 and np.allclose(ring[0], ring[-1]):
            ring = ring[:-1]
        if len(ring) >= 3 and np.isfinite(ring).all():
            cols, rows = georef.lonlat_to_pixel(ring[:, 0], ring[:, 1])
            return tuple((float(c), float(r)) for c, r in zip(cols, rows, strict=True))
    bbox = props.get("bbox_px")
    if bbox is not None and len(bbox) == 4 and all(math.isfinite(float(v)) for v in bbox):
        c0, r0, c1, r1 = (float(v) for v in bbox)
        return ((c0, r0), (c1, r0), (c1, r1), (c0, r1))
    return None


def move_marks(marks: Sequence[Mark], source: GeoRef, target: GeoRef) -> list[Mark]:
    """Carry marks from one tile's pixel grid to another's, through map coordinates.

    Parameters
    ----------
    marks : sequence of Mark
        Marks on ``source``'s grid.
    source, target : GeoRef
        The two grids (both georeferenced, or of the same shape without georeference, when the
        marks are kept as they are).

    Returns
    -------
    list of Mark
        The same marks with corners on ``target``'s grid.
    """
    if not (source.is_georeferenced and target.is_georeferenced) or source == target:
        return list(marks)
    from imagery_tool.georef import crs_transformer

    transformer = None if source.crs == target.crs else crs_transformer(source.crs, target.crs)
    moved = []
    for mark in marks:
        xy = mark.xy
        x, y = source.pixel_to_map(xy[:, 0], xy[:, 1])
        if transformer is not None:
            x, y = transformer.transform(x, y)
        c, r = target.map_to_pixel(np.asarray(x), np.asarray(y))
        corners = tuple((float(a), float(b)) for a, b in zip(c, r, strict=True))
        moved.append(Mark(corners, mark.label, mark.kind, mark.attributes, mark.tile))
    return moved


def transform_marks(marks: Sequence[Mark], transform: Affine) -> list[Mark]:
    """Apply a pixel-to-pixel affine ``transform`` (on one grid) to the corners of ``marks``."""
    moved = []
    for mark in marks:
        corners = tuple(transform * (float(x), float(y)) for x, y in mark.corners)
        moved.append(Mark(corners, mark.label, mark.kind, mark.attributes, mark.tile))
    return moved


def read_residual(path: str | Path, *, before: str, after: str) -> tuple[float, ...] | None:
    """Return the co-registration residual a detect output records for these two tiles, if any.

    Parameters
    ----------
    path : str or Path
        A GeoJSON / JSON written by ``imagery-tool detect``.
    before, after : str
        File names of the two tiles being drawn; the record must name the same two.

    Returns
    -------
    tuple of 6 float or None
        ``registration.matrix`` of the file; ``None`` when the file records no registration or
        one for other tiles (errors in the file itself are reported by `read_changes`).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        matrix = data["registration"]["matrix"]
        names = (Path(data["before"]).name, Path(data["after"]).name)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if names != (before, after) or len(matrix) != 6:
        return None
    return tuple(float(v) for v in matrix)
