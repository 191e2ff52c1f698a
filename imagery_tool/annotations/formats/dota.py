"""DOTA v1 label files: ``imagesource:``/``gsd:`` header, 8 coordinates clockwise from the head."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from imagery_tool.annotations.formats import _fields as F
from imagery_tool.annotations.formats._common import (
    ExportResult,
    ImportResult,
    Reader,
    count_lost,
    fmt,
    group_by_tile,
    label_files,
    output_path,
    per_tile_files,
    read_text,
    warn_lost,
    write_files,
)
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema
from imagery_tool.annotations.store import TileRecord
from imagery_tool.errors import AnnotationFormatError

__all__ = ["read", "write"]

CARRIES = {"rotation", "heading"}
_HEADER = re.compile(r"^\s*(imagesource|gsd)\s*:\s*(.*?)\s*$", re.IGNORECASE)


def write(
    annotations: Sequence[BoxAnnotation],
    out: Path,
    *,
    tiles: Mapping[str, TileRecord],
    schema: LabelSchema,
) -> ExportResult:
    """Write one DOTA label file per tile.

    Each file starts ``imagesource:<source>`` and ``gsd:<metres per pixel>`` (``null`` when
    unknown); each box is ``x1 y1 x2 y2 x3 y3 x4 y4 class difficult``, corners clockwise from
    the head's left corner as DOTA wants. Spaces in class names become ``_`` (DOTA splits on
    spaces); ``difficult`` is 1 for ``confidence: low``. ``OUT`` is a folder (files
    ``<tile stem>.txt``) or, for a single tile, a ``.txt`` file.
    """
    by_tile = group_by_tile(annotations, out, suffix=".txt", format_name="DOTA")
    single = out.suffix.lower() == ".txt"
    names, renamed = per_tile_files(by_tile, suffix=".txt")
    issues, files = ([] if single else renamed), {}
    for name, boxes in by_tile.items():
        record = tiles.get(name)
        gsd = None
        if record is not None and record.crs_wkt:
            gsd = record.georef.mean_gsd_m
        lines = ["imagesource:imagery-tool", f"gsd:{'null' if gsd is None else f'{gsd:.6g}'}"]
        for a in boxes:
            coords = " ".join(fmt(v) for v in a.xy.ravel())
            difficult = 1 if a.attributes.get("confidence") == "low" else 0
            lines.append(f"{coords} {a.label.replace(' ', '_')} {difficult}")
            if record is not None and a.outside(record.height, record.width, tolerance=0.5):
                issues.append(f"box {a.id[:8]} ({a.label}) reaches outside tile {name}; unclipped")
        path = out if single else output_path(out, names[name])
        files[path] = "\n".join(lines) + "\n"
    lost = count_lost(annotations, CARRIES)
    lost["attributes"] = sum(
        1 for a in annotations if set(a.attributes) - {"confidence"} or
        a.attributes.get("confidence") not in (None, "low")
    )  # fmt: skip
    paths = write_files(files)  # first: no "not written" warning for an export that failed
    return ExportResult(paths=paths, lost=warn_lost("DOTA", lost), issues=issues)


def read(
    path: Path,
    *,
    schema: LabelSchema,
    tiles: Mapping[str, TileRecord] | None = None,
    class_map: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read a DOTA label file or a folder of them (``labelTxt/``), as the DOTA devkit does.

    The header lines are optional (DOTA v1.5 files lack them); ``gsd:`` is kept per tile; the
    image is named by the file stem. ``difficult`` 1 sets ``confidence: low`` when the class
    has that attribute. Lines with fewer than 9 fields are errors (the devkit skips them
    silently).
    """
    path = Path(path)
    files = label_files(path, subfolder="labelTxt", pattern="*.txt")
    reader = Reader(path, schema=schema, tiles=tiles, class_map=class_map)
    for file in files:
        text = read_text(file)
        image = file.stem
        tile = reader.tile_for(image)
        tile_name = tile.name if tile is not None else image
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            header = _HEADER.match(line)
            if header:
                key, value = header.group(1).lower(), header.group(2)
                if key == "gsd" and value.lower() not in ("", "null", "none"):
                    reader.result.gsd[tile_name] = F.number(
                        value, where=where, field="gsd", text_ok=True, low=1e-6, high=1e5
                    )
                continue
            tokens = line.split()
            if len(tokens) < 9:
                raise AnnotationFormatError(
                    f"{where}: expected 'x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]'; "
                    f"got {len(tokens)} fields"
                )
            xy = np.reshape(
                F.coordinates(tokens[:8], where=where, field="coordinates", text_ok=True), (4, 2)
            )
            attributes = {}
            if len(tokens) >= 10 and tokens[9] == "1":
                cls = schema.get(reader.label(tokens[8]))
                conf = schema.attributes.get("confidence")
                if cls is not None and conf is not None and conf.applies(cls):
                    attributes["confidence"] = "low"
            reader.box(
                xy, tokens[8], where=where, tile=tile, tile_name=tile_name, attributes=attributes
            )
    return reader.finish()
