"""COCO object detection JSON: bbox plus a 4-corner segmentation polygon so rotation survives."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imagery_tool.annotations.formats._common import (
    ExportResult,
    ImportResult,
    Reader,
    atomic_write_text,
    count_lost,
    finite,
    load_json,
    polygon_corners,
    safe_file_name,
    tile_key,
    warn_lost,
)
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema
from imagery_tool.annotations.store import TileRecord
from imagery_tool.errors import AnnotationFormatError

__all__ = ["read", "write"]

NAME = "coco"
CARRIES = {"rotation", "heading", "attributes", "review status", "author and times", "ids",
           "detection score", "acquisition date"}  # fmt: skip
# Our fields beyond COCO's live in each annotation's "imagery_tool" object.
_EXTRA = ("id", "review", "reviewer", "review_note", "author", "created", "modified",
          "acquired", "source")  # fmt: skip
# CVAT writes these in "attributes" for every shape; they are not schema attributes.
_CVAT_KEYS = ("occluded", "rotation", "keyframe", "track_id")


def write(
    annotations: Sequence[BoxAnnotation],
    out: Path,
    *,
    tiles: Mapping[str, TileRecord],
    schema: LabelSchema,
) -> ExportResult:
    """Write one COCO file: categories from the schema (id = position + 1), one image per tile.

    Each annotation has ``bbox`` ``[x, y, width, height]`` of its corners, ``segmentation`` =
    the 4 corners starting at the head (clockwise), ``attributes`` as CVAT writes them and an
    ``imagery_tool`` object with the id, review fields, author, times and source.
    """
    names = schema.class_names + sorted({a.label for a in annotations} - set(schema.class_names))
    categories = [
        {"id": i + 1, "name": n, "supercategory": _group(schema, n)} for i, n in enumerate(names)
    ]
    cat_ids = {n: i + 1 for i, n in enumerate(names)}
    images, image_ids, issues = [], {}, []
    for name in sorted({tile_key(a) for a in annotations}):
        record = tiles.get(name)
        if record is None:
            issues.append(f"{out}: tile {name} of unknown size: image width/height written as 0")
        acquired = next((a.acquired for a in annotations if tile_key(a) == name and a.acquired), "")
        image_ids[name] = len(images) + 1
        images.append(
            {
                "id": len(images) + 1,
                "width": record.width if record else 0,
                "height": record.height if record else 0,
                "file_name": name,
                "license": 0,
                "flickr_url": "",
                "coco_url": "",
                "date_captured": acquired or (record.acquired if record else "") or "",
            }
        )
    items = []
    for i, a in enumerate(annotations):
        xy = a.xy
        x0, y0, x1, y1 = a.bounds
        item: dict[str, Any] = {
            "id": i + 1,
            "image_id": image_ids[tile_key(a)],
            "category_id": cat_ids[a.label],
            "segmentation": [[round(float(v), 3) for v in xy.ravel()]],
            "area": round(a.area_px, 3),
            "bbox": [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)],
            "iscrowd": 0,
            "attributes": {"occluded": False, **a.attributes},
            "imagery_tool": {k: getattr(a, k) for k in _EXTRA},
        }
        if a.score is not None:
            item["score"] = a.score
        items.append(item)
    doc = {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {
            "contributor": "",
            "date_created": "",
            "description": "exported by imagery-tool",
            "url": "",
            "version": "",
            "year": "",
        },
        "categories": categories,
        "images": images,
        "annotations": items,
    }
    lost = count_lost(annotations, CARRIES)
    return ExportResult(
        paths=[atomic_write_text(out, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")],
        lost=warn_lost("COCO", lost),
        issues=issues,
    )


def read(
    path: Path,
    *,
    schema: LabelSchema,
    tiles: Mapping[str, TileRecord] | None = None,
    class_map: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read a COCO detection file: ours, CVAT's "COCO 1.0" export, or any other.

    Geometry: a 4-point segmentation polygon is kept as the corners; other polygons become
    their minimum-area rectangle (reported); an empty segmentation uses ``bbox`` rotated by
    CVAT's ``attributes.rotation`` (degrees clockwise about the centre) when present.
    """
    doc = load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("annotations"), list):
        raise AnnotationFormatError(f"{path}: not a COCO file (no 'annotations' list)")
    reader = Reader(path, schema=schema, tiles=tiles, class_map=class_map)
    categories = {c["id"]: c["name"] for c in doc.get("categories") or [] if "id" in c}
    images = {im["id"]: im for im in doc.get("images") or [] if "id" in im}
    for i, item in enumerate(doc["annotations"]):
        where = f"{path}: annotations[{i}]"
        if not isinstance(item, dict):
            raise AnnotationFormatError(f"{where}: not an object")
        image = images.get(item.get("image_id"))
        if image is None:
            raise AnnotationFormatError(f"{where}: image_id {item.get('image_id')!r} not in images")
        if item.get("category_id") not in categories:
            raise AnnotationFormatError(
                f"{where}: category_id {item.get('category_id')!r} not in categories"
            )
        image_name = safe_file_name(str(image.get("file_name") or f"image_{image['id']}"))
        tile = reader.tile_for(
            image_name, width=int(image.get("width") or 0), height=int(image.get("height") or 0)
        )
        attributes = dict(item.get("attributes") or {})
        rotation = attributes.pop("rotation", 0) or 0
        if attributes.get("occluded") in (False, 0, "false"):
            attributes.pop("occluded")
        for key in ("keyframe", "track_id"):
            attributes.pop(key, None)
        corners = _corners(item, float(rotation), where=where, reader=reader)
        extra = item.get("imagery_tool") or {}
        fields = {k: extra[k] for k in _EXTRA if extra.get(k) is not None}
        score = item.get("score")
        if score is not None:
            fields["score"] = float(score)
            fields.setdefault("source", "detected")
        if not fields.get("acquired") and image.get("date_captured"):
            fields["acquired"] = str(image["date_captured"])
        reader.box(
            corners,
            categories[item["category_id"]],
            where=where,
            tile=tile,
            tile_name=image_name,
            attributes=attributes,
            **fields,
        )
    return reader.finish()


def _corners(item: dict, rotation: float, *, where: str, reader: Reader) -> np.ndarray:
    segmentation = item.get("segmentation")
    if isinstance(segmentation, list) and segmentation and isinstance(segmentation[0], list):
        if len(segmentation) > 1:
            reader.result.issues.append(
                f"{where}: {len(segmentation)} polygons; only the first is kept"
            )
        points = finite(segmentation[0], where=where)
        if len(points) % 2:
            raise AnnotationFormatError(f"{where}: segmentation has an odd number of values")
        return polygon_corners(np.reshape(points, (-1, 2)), where=where, reader=reader)
    if isinstance(segmentation, dict):
        reader.result.issues.append(f"{where}: RLE mask replaced by its bbox")
    bbox = item.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise AnnotationFormatError(f"{where}: no polygon and no [x, y, width, height] bbox")
    x, y, w, h = finite(bbox, where=where)
    xy = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
    if rotation:
        a = math.radians(rotation)  # clockwise on screen (y down)
        c, s = math.cos(a), math.sin(a)
        centre = xy.mean(axis=0)
        d = xy - centre
        xy = centre + np.column_stack([d[:, 0] * c - d[:, 1] * s, d[:, 0] * s + d[:, 1] * c])
    return xy


def _group(schema: LabelSchema, name: str) -> str:
    cls = schema.get(name)
    return "" if cls is None else cls.group
