"""GeoJSON (RFC 7946): lon/lat polygons with every annotation field in the properties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imagery_tool.annotations.formats import _fields as F
from imagery_tool.annotations.formats._common import (
    ExportResult,
    ImportResult,
    Reader,
    atomic_write_text,
    load_json,
    polygon_corners,
    written_name,
)
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema
from imagery_tool.annotations.store import TileRecord
from imagery_tool.errors import AnnotationFormatError, NotGeoreferencedError
from imagery_tool.geometry import counter_clockwise

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
            "georeference (or were not given with `tiles`); export to coco or dota for pixel "
            "coordinates instead",
            parameter="tiles",
        )
    features = []
    georefs = {name: t.georef for name, t in tiles.items()}
    for a in annotations:
        ring = np.round(counter_clockwise(a.lonlat(georefs[a.tile]), closed=True), DIGITS)
        props: dict[str, Any] = {"label": a.label, "attributes": dict(a.attributes)}
        props["corners_px"] = [[round(x, 4), round(y, 4)] for x, y in a.corners]
        props["angle_deg"] = round(a.angle_deg, 3)
        props["tile"] = written_name(a.tile)
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
    the tile's georeference (``tiles``). Every value is checked first (`_fields`): a wrong
    type, a ragged or empty point list, a non-finite or huge number is refused with the file,
    the feature and the field.
    """
    doc = load_json(path)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise AnnotationFormatError(f"{path}: not a GeoJSON FeatureCollection")
    reader = Reader(path, schema=schema, tiles=tiles, class_map=class_map)
    skipped: dict[str, int] = {}
    features = F.array(doc.get("features"), where=str(path), field="features", optional=True)
    for i, raw in enumerate(features):
        where = f"{path}: feature {i}"
        feature = F.obj(raw, where=where, field="feature")
        props = F.obj(feature.get("properties"), where=where, field="properties", optional=True)
        key = next((k for k in _LABEL_KEYS if props.get(k)), None)
        if key is None:
            raise AnnotationFormatError(
                f"{where}: no class property (one of {', '.join(_LABEL_KEYS)})"
            )
        raw_label = str(F.identifier(props[key], where=where, field=f"properties.{key}"))
        tile_name = F.optional_text(props.get("tile"), where=where, field="properties.tile")
        tile = reader.tile_for(tile_name, where=f"{where}: properties.tile")
        if props.get("corners_px") is not None:
            corners = F.points(props["corners_px"], where=where, field="properties.corners_px")
            if len(corners) != 4:
                raise AnnotationFormatError(
                    f"{where}: properties.corners_px: {len(corners)} points, a box has 4; "
                    "fix the file"
                )
        else:
            corners = _pixel_corners(feature, tile, where=where, reader=reader)
        fields: dict[str, Any] = {}
        for k in _FIELDS:
            if k == "score" and props.get(k) is not None:
                fields[k] = F.number(props[k], where=where, field="properties.score", low=0, high=1)
            elif k != "score":
                value = F.optional_text(props.get(k), where=where, field=f"properties.{k}")
                if value is not None:
                    fields[k] = value
        if feature.get("id") is not None and "id" not in fields:
            fields["id"] = str(F.identifier(feature["id"], where=where, field="id"))
        attributes = F.obj(
            props.get("attributes"), where=where, field="properties.attributes", optional=True
        )
        for k, value in props.items():
            if k in _KNOWN or k in _LABEL_KEYS:
                continue
            if k in schema.attributes and k not in attributes:
                attributes[k] = value  # a foreign file with attributes as plain properties
            else:
                skipped[k] = skipped.get(k, 0) + 1
        reader.box(
            corners,
            raw_label,
            where=where,
            tile=tile,
            tile_name=tile_name,
            attributes=attributes,
            **fields,
        )
    for k, n in sorted(skipped.items()):
        reader.result.issues.append(
            f"{path}: property {k!r} ({n} feature{'s' if n > 1 else ''}) is neither a field "
            "nor a schema attribute; not imported"
        )
    return reader.finish()


def _pixel_corners(feature: dict, tile: TileRecord | None, *, where: str, reader: Reader):
    geometry = F.obj(feature.get("geometry"), where=where, field="geometry", optional=True)
    if geometry.get("type") != "Polygon":
        raise AnnotationFormatError(
            f"{where}: geometry {geometry.get('type')!r} is not a Polygon; only boxes are read"
        )
    rings = F.array(geometry.get("coordinates"), where=where, field="geometry.coordinates")
    if not rings:
        raise AnnotationFormatError(
            f"{where}: geometry.coordinates: an empty polygon; fix the file"
        )
    ring = F.points(rings[0], where=where, field="geometry.coordinates", bound=180.0)
    if np.abs(ring[:, 1]).max() > 90:
        raise AnnotationFormatError(
            f"{where}: geometry.coordinates: latitude beyond +-90 degrees (are lon and lat "
            "swapped, or the coordinates projected? GeoJSON is lon/lat); fix the file"
        )
    if tile is None or not tile.crs_wkt:
        raise NotGeoreferencedError(
            f"{where}: lon/lat polygon without corners_px; pass the georeferenced tile with "
            "`tiles` to convert it to pixels",
            parameter="tiles",
        )
    col, row = tile.georef.lonlat_to_pixel(ring[:, 0], ring[:, 1])
    pixels = F.points(
        np.column_stack([col, row]).tolist(), where=where, field="geometry (in pixels)"
    )
    return polygon_corners(pixels, where=where, reader=reader)


def _dump(doc: dict) -> str:
    """One feature per line: diff-friendly and still small."""
    import json

    features = ",\n".join(json.dumps(f, ensure_ascii=False) for f in doc["features"])
    return '{"type": "FeatureCollection", "features": [\n' + features + "\n]}\n"
