"""CSV of pixel polygons, one box per row, as public aircraft datasets ship them.

The layout is that of the Airbus Aircraft Detection sample dataset's ``annotations.csv``:
``id,image_id,geometry,class`` where ``geometry`` is a closed ring of pixel points written
``[(x, y), (x, y), ...]`` (``[[x, y], ...]`` is accepted too).
"""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from imagery_tool.annotations.formats import _fields as F
from imagery_tool.annotations.formats._common import (
    ExportResult,
    ImportResult,
    Reader,
    atomic_write_text,
    count_lost,
    fmt,
    polygon_corners,
    read_text,
    tile_key,
    warn_lost,
    written_name,
)
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema
from imagery_tool.annotations.store import TileRecord
from imagery_tool.errors import AnnotationFormatError

__all__ = ["read", "write"]

CARRIES = {"rotation", "heading"}
COLUMNS = ("id", "image_id", "geometry", "class")


def write(
    annotations: Sequence[BoxAnnotation],
    out: Path,
    *,
    tiles: Mapping[str, TileRecord],
    schema: LabelSchema,
) -> ExportResult:
    """Write ``id,image_id,geometry,class`` rows; the ring starts at the head corner, closed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i, a in enumerate(annotations, start=1):
        ring = [*a.corners, a.corners[0]]
        geometry = "[" + ", ".join(f"({fmt(x)}, {fmt(y)})" for x, y in ring) + "]"
        writer.writerow([i, written_name(tile_key(a)), geometry, a.label])
    lost = count_lost(annotations, CARRIES)
    return ExportResult(
        paths=[atomic_write_text(out, buffer.getvalue())], lost=warn_lost("CSV polygons", lost)
    )


def read(
    path: Path,
    *,
    schema: LabelSchema,
    tiles: Mapping[str, TileRecord] | None = None,
    class_map: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read a CSV of pixel polygons (columns ``image_id``, ``geometry``, ``class``).

    Rings of 4 distinct points are kept as the corners, others become their minimum-area
    rectangle (reported). Class names go through ``class_map`` (``Aircraft`` -> ``unknown
    fixed-wing``, say).
    """
    text = read_text(Path(path))
    reader = Reader(path, schema=schema, tiles=tiles, class_map=class_map)
    rows = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = rows.fieldnames or []
        missing = [c for c in ("image_id", "geometry", "class") if c not in header]
        if missing:
            raise AnnotationFormatError(
                f"{path}:1: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"
            )
        for row in rows:
            where = f"{path}:{rows.line_num}"
            if None in row or any(row.get(c) is None for c in ("image_id", "geometry", "class")):
                raise AnnotationFormatError(
                    f"{where}: expected {len(header)} fields; check quoting of the geometry"
                )
            points = _points(row["geometry"], where=where)
            image = row["image_id"].strip() or None
            tile = reader.tile_for(image, where=f"{where}: image_id")
            corners = polygon_corners(points, where=where, reader=reader)
            label = F.text(row["class"], where=where, field="class")
            reader.box(corners, label, where=where, tile=tile, tile_name=image)
    except csv.Error as exc:
        raise AnnotationFormatError(f"{path}:{rows.line_num}: malformed CSV ({exc})") from None
    return reader.finish()


def _points(text: str, *, where: str) -> np.ndarray:
    if len(text) > 100_000:
        raise AnnotationFormatError(f"{where}: geometry of {len(text)} characters refused")
    try:  # ValueError also for an integer beyond Python's digit limit
        value = ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise AnnotationFormatError(
            f"{where}: geometry {text[:40]!r} is not a list of (x, y) points"
        ) from None
    return F.points(value, where=where, field="geometry")
