"""Rows of the store: tiles and boxes as stored, decoded back, and a box's row values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from affine import Affine
from rasterio.crs import CRS

from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.store.wkb import gpkg_polygon
from imagery_tool.georef import GeoRef

__all__ = [
    "DamagedRowError",
    "TileRecord",
    "box_from_row",
    "box_values",
    "decode_json",
    "tile_from_row",
    "with_defaults",
]


class DamagedRowError(ValueError):
    """A stored row that cannot be decoded; the store turns it into `StoreDamagedError`."""


@dataclass(frozen=True)
class TileRecord:
    """What the store keeps of a tile so that pixel <-> lon/lat works without the file.

    Attributes
    ----------
    name : str
        The tile's key: its file name (``"hmeimim_2024-12-13.tif"``).
    height, width : int
        Grid size in pixels.
    transform : tuple of 6 float
        Affine ``(a, b, c, d, e, f)`` from pixel ``(col, row)`` to map ``(x, y)``.
    crs_wkt : str or None
        The CRS as WKT; ``None`` for a tile without georeference.
    path : str or None
        Where the file was when registered.
    acquired : str or None
        Acquisition date/time, ISO 8601.
    """

    name: str
    height: int
    width: int
    transform: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    crs_wkt: str | None = None
    path: str | None = None
    acquired: str | None = None

    @classmethod
    def from_tile(cls, tile) -> TileRecord:
        """Describe an open `imagery_tool.tile.Tile`."""
        return cls.from_georef(
            tile.name, tile.georef, path=str(tile.path), acquired=tile.acquired.isoformat()
        )

    @classmethod
    def from_georef(
        cls, name: str, georef: GeoRef, *, path: str | None = None, acquired: str | None = None
    ) -> TileRecord:
        """Describe a grid by name and `GeoRef`."""
        return cls(
            name,
            georef.height,
            georef.width,
            tuple(float(v) for v in tuple(georef.transform)[:6]),
            None if georef.crs is None else georef.crs.to_wkt(),
            path,
            acquired,
        )

    @property
    def georef(self) -> GeoRef:
        """The tile's `GeoRef` (``crs`` is ``None`` without georeference)."""
        crs = None if not self.crs_wkt else CRS.from_wkt(self.crs_wkt)
        return GeoRef(self.height, self.width, Affine(*self.transform), crs)


def decode_json(text: Any, what: str) -> Any:
    """Decode a stored JSON value; `DamagedRowError` naming ``what`` when it does not decode."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise DamagedRowError(f"{what} is not valid JSON ({exc})") from exc


def box_from_row(row: Sequence[Any]) -> BoxAnnotation:
    """Decode a row of ``READ_COLUMNS``; `DamagedRowError` naming the box when it does not."""
    (uid, label, attributes, corners, review, reviewer, note, author, created, modified, tile,
     acquired, source, score, revision) = row  # fmt: skip
    try:
        return BoxAnnotation(
            decode_json(corners, "corners_px"),
            label,
            attributes=decode_json(attributes, "attributes"),
            id=uid,
            review=review,
            reviewer=reviewer,
            review_note=note,
            author=author,
            created=created,
            modified=modified,
            tile=tile,
            acquired=acquired,
            source=source,
            score=score,
            revision=revision,
        )
    except (TypeError, ValueError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise DamagedRowError(f"box {uid}: {first}") from exc


def tile_from_row(row: Sequence[Any]) -> TileRecord:
    """Decode a row of ``TILE_COLUMNS``; `DamagedRowError` naming the tile when it does not."""
    name, height, width, transform, crs_wkt, path, acquired = row
    try:
        numbers = tuple(float(v) for v in decode_json(transform, "transform"))
        if len(numbers) != 6 or not all(isinstance(v, int) for v in (height, width)):
            raise ValueError(f"size {height!r} x {width!r}, transform of {len(numbers)} numbers")
    except (TypeError, ValueError) as exc:
        raise DamagedRowError(f"tile {name}: {exc}") from exc
    return TileRecord(name, height, width, numbers, crs_wkt or None, path, acquired)


def with_defaults(a: BoxAnnotation, author: str | None, tile: TileRecord | None) -> BoxAnnotation:
    """Return the box with its author and acquisition date filled in where it has none."""
    changes: dict[str, Any] = {}
    if a.author is None and author is not None:
        changes["author"] = author
    if a.acquired is None and tile is not None and tile.acquired:
        changes["acquired"] = tile.acquired
    if not changes:
        return a
    changes.setdefault("modified", a.modified)
    return a.replace(**changes)


def box_values(
    a: BoxAnnotation, georef: GeoRef | None, *, attribute_columns: Sequence[str]
) -> dict[str, Any]:
    """Return the column values of a box's row, attribute columns included.

    Parameters
    ----------
    a : BoxAnnotation
        The box.
    georef : GeoRef or None
        Its tile's georeference; ``None`` (no lon/lat) gives an empty polygon and no size.
    attribute_columns : sequence of str
        The store's attribute columns: each takes the box's attribute of that name (``None``
        when it has none; values that are no SQL scalar as JSON).

    Returns
    -------
    dict
        Column name -> value.
    """
    if georef is None:
        geom, length_m, width_m = gpkg_polygon(None), None, None
    else:
        from imagery_tool.annotations.sizecheck import box_size_m

        length_m, width_m = box_size_m(a, georef)
        geom = gpkg_polygon(a.lonlat(georef))
    return {
        "geom": geom,
        "uuid": a.id,
        "label": a.label,
        **{name: _scalar(a.attributes.get(name)) for name in attribute_columns},
        "attributes": json.dumps(a.attributes, sort_keys=True),
        "corners_px": json.dumps([list(c) for c in a.corners]),
        "angle_deg": a.angle_deg,
        "length_m": length_m,
        "width_m": width_m,
        "review": a.review,
        "reviewer": a.reviewer,
        "review_note": a.review_note,
        "author": a.author,
        "created": a.created,
        "modified": a.modified,
        "tile": a.tile,
        "acquired": a.acquired,
        "source": a.source,
        "score": a.score,
        "revision": a.revision,
    }


def _scalar(value: Any) -> Any:
    """Return an attribute value as SQLite takes it: scalars as they are, else JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value)
