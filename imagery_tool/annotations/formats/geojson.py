"""GeoJSON (RFC 7946): lon/lat polygons with every annotation field in the properties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imagery_tool.annotations.formats._common import (
    ExportResult,
    ImportResult,
    Reader,
    atomic_write_text,
    load_json,
    polygon_corners,
)
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema
from imagery_tool.annotations.store import TileRecord, counter_clockwise
from imagery_tool.errors import AnnotationFormatError, NotGeoreferencedError

__all__ = ["read", "write"]

NAME = "geojson"
DIGITS = 7  # RFC 7946 section 11.2: 7 decimals of a degree are about 1 cm
CARRIES = {"rotation", "heading", "attributes", "review status", "author and times", "ids",
           "detection score", "acquisition date"}  # fmt: skip

# Property names other tools use for the class, tried in order on import.
_LABEL_KEYS = ("label", "class", "class_name", "category", "name", "type")
_FIELDS = ("id", "review", "reviewer", "review_note", "author", "created", "modified",
           "acquired", "source", "score")  # fmt: skip
_KNOWN = {*_FIELDS, "attributes", "corners_px", "angle_deg", "tile"}


def write(
    annotations: Sequence[BoxAnnotation],
    out: Path,
    *,
    tiles: Mapping[str, TileRecord],
    schema: LabelSchema,
) -> ExportResult:
    """Write a FeatureCollection of lon/lat polygons (closed, counter-clockwise, 7 decimals).

    Properties carry the class (``label``), ``attributes`` (object), ``corners_px`` (pixel
    corners on the tile, head first), ``angle_deg``, the review fields, author, times, tile,
    acquisition date, source and score, so the file round-trips without loss.

    Raises
    ------
    NotGeoreferencedError
        When a box's tile is unknown or has no georeference (GeoJSON is lon/lat only).
    """
    missing = sorted(
        {str(a.tile) for a in annotations if a.tile not in tiles or not tiles[a.tile].crs_wkt}
    )
    if missing:
        raise NotGeoreferencedError(
            f"{out}: GeoJSON needs lon/lat, but tile(s) {', '.join(missing)} have no "
            "georeference (or were not given with --tile); export to coco or dota for pixel "
            "coordinates instead"
        )
    features = []
    georefs = {name: t.georef for name, t in tiles.items()}
    for a in annotations:
        ring = counter_clockwise(a.lonlat(georefs[a.tile]))
        ring = np.round(np.vstack([ring, ring[:1]]), DIGITS)
        props: dict[str, Any] = {"label": a.label, "attributes": dict(a.attributes)}
        props["corners_px"] = [[round(x, 4), round(y, 4)] for x, y in a.corners]
        props["angle_deg"] = round(a.angle_deg, 3)
        props["tile"] = a.tile
        props.update({k: getattr(a, k) for k in _FIELDS})
        features.append(
            {
                "type": "Feature",
                "id": a.id,
                "geometry": {"type": "Polygon", "coordinates": [ring.tolist()]},
                "properties": props,
            }
        )
    doc = {"type": "FeatureCollection", "features": features}
    text = _dump(doc)
    return ExportResult(paths=[atomic_write_text(out, text)])


def read(
    path: Path,
    *,
    schema: LabelSchema,
    tiles: Mapping[str, TileRecord] | None = None,
    class_map: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read a FeatureCollection (ours, or any with polygon features and a class property).

    Pixel corners come from ``corners_px`` when present, else from the lon/lat polygon through
    the tile's georeference (``tiles``).
    """
    doc = load_json(path)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise AnnotationFormatError(f"{path}: not a GeoJSON FeatureCollection")
    reader = Reader(path, schema=schema, tiles=tiles, class_map=class_map)
    skipped: dict[str, int] = {}
    for i, feature in enumerate(doc.get("features") or []):
        where = f"{path}: feature {i}"
        if not isinstance(feature, dict):
            raise AnnotationFormatError(f"{where}: not a GeoJSON Feature object")
        props = feature.get("properties") or {}
        raw_label = next((props[k] for k in _LABEL_KEYS if props.get(k)), None)
        if raw_label is None:
            raise AnnotationFormatError(
                f"{where}: no class property (one of {', '.join(_LABEL_KEYS)})"
            )
        tile = reader.tile_for(props.get("tile"))
        if props.get("corners_px") is not None:
            corners = np.asarray(props["corners_px"], dtype=np.float64)
        else:
            corners = _pixel_corners(feature, tile, where=where, reader=reader)
        fields = {k: props[k] for k in _FIELDS if props.get(k) is not None}
        if feature.get("id") is not None and "id" not in fields:
            fields["id"] = str(feature["id"])
        attributes = dict(props.get("attributes") or {})
        if not isinstance(props.get("attributes") or {}, dict):
            raise AnnotationFormatError(f"{where}: 'attributes' must be an object")
        for key, value in props.items():
            if key in _KNOWN or key in _LABEL_KEYS:
                continue
            if key in schema.attributes and key not in attributes:
                attributes[key] = value  # a foreign file with attributes as plain properties
            else:
                skipped[key] = skipped.get(key, 0) + 1
        reader.box(
            corners,
            str(raw_label),
            where=where,
            tile=tile,
            tile_name=props.get("tile"),
            attributes=attributes,
            **fields,
        )
    for key, n in sorted(skipped.items()):
        reader.result.issues.append(
            f"{path}: property {key!r} ({n} feature{'s' if n > 1 else ''}) is neither a field "
            "nor a schema attribute; not imported"
        )
    return reader.finish()


def _pixel_corners(feature: dict, tile: TileRecord | None, *, where: str, reader: Reader):
    geometry = feature.get("geometry") or {}
    if geometry.get("type") != "Polygon":
        raise AnnotationFormatError(
            f"{where}: geometry {geometry.get('type')!r} is not a Polygon; only boxes are read"
        )
    if tile is None or not tile.crs_wkt:
        raise NotGeoreferencedError(
            f"{where}: lon/lat polygon without corners_px; pass the georeferenced tile with "
            "--tile to convert it to pixels"
        )
    ring = np.asarray(geometry["coordinates"][0], dtype=np.float64)
    col, row = tile.georef.lonlat_to_pixel(ring[:, 0], ring[:, 1])
    return polygon_corners(np.column_stack([col, row]), where=where, reader=reader)


def _dump(doc: dict) -> str:
    """One feature per line: diff-friendly and still small."""
    import json

    features = ",\n".join(json.dumps(f, ensure_ascii=False) for f in doc["features"])
    return '{"type": "FeatureCollection", "features": [\n' + features + "\n]}\n"
