"""YOLO and YOLO-OBB label folders: normalised boxes (or 4 corners) per image, plus a class list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import yaml

from imagery_tool.annotations.formats import _fields as F
from imagery_tool.annotations.formats._common import (
    ExportResult,
    ImportResult,
    Reader,
    count_lost,
    output_path,
    per_tile_files,
    polygon_corners,
    read_text,
    tile_key,
    warn_lost,
    write_files,
)
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema
from imagery_tool.annotations.store import TileRecord
from imagery_tool.errors import AnnotationFormatError

__all__ = ["read", "read_obb", "write", "write_obb"]

CARRIES = set()
CARRIES_OBB = {"rotation", "heading"}
IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")


def write(
    annotations: Sequence[BoxAnnotation],
    out: Path,
    *,
    tiles: Mapping[str, TileRecord],
    schema: LabelSchema,
) -> ExportResult:
    """Write YOLO detection labels: ``class cx cy w h`` normalised to [0, 1], axis-aligned.

    Layout: ``OUT/classes.txt`` and ``OUT/data.yaml`` (class names, line/index = class id,
    the schema's order) and ``OUT/labels/<tile stem>.txt``. Rotated boxes are written as their
    axis-aligned bounds.
    """
    return _write(annotations, out, tiles=tiles, schema=schema, obb=False)


def write_obb(
    annotations: Sequence[BoxAnnotation],
    out: Path,
    *,
    tiles: Mapping[str, TileRecord],
    schema: LabelSchema,
) -> ExportResult:
    """Write YOLO-OBB labels: ``class x1 y1 x2 y2 x3 y3 x4 y4`` normalised, head corner first."""
    return _write(annotations, out, tiles=tiles, schema=schema, obb=True)


def read(
    path: Path,
    *,
    schema: LabelSchema,
    tiles: Mapping[str, TileRecord] | None = None,
    class_map: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read a YOLO (or YOLO-OBB, or YOLO segmentation) label folder or single label file.

    Class names come from ``classes.txt``, ``obj.names`` or ``data.yaml`` next to the labels
    (or one folder up). Image sizes come from ``tiles`` (matched by stem) or from the images
    in an ``images/`` folder beside ``labels/``.
    """
    path = Path(path)
    files = sorted(path.rglob("*.txt")) if path.is_dir() else [path]
    files = [f for f in files if f.name not in ("classes.txt", "obj.names")]
    if not files:
        raise AnnotationFormatError(
            f"{path}: no *.txt label file in this folder or below; check the path or the format"
        )
    names = _class_names(path if path.is_dir() else path.parent)
    reader = Reader(path, schema=schema, tiles=tiles, class_map=class_map)
    for file in files:
        lines = _lines(file)
        if not lines:
            continue
        tile = _tile(file, reader, single=len(files) == 1)
        for number, line in lines:
            where = f"{file}:{number}"
            tokens = line.split()
            if len(tokens) < 5 or (len(tokens) > 5 and len(tokens) % 2 == 0):
                raise AnnotationFormatError(
                    f"{where}: expected 'class cx cy w h' or 'class x1 y1 ... xn yn'; "
                    f"got {len(tokens)} values"
                )
            try:
                cls = int(tokens[0])
            except ValueError:
                raise AnnotationFormatError(
                    f"{where}: class id {tokens[0]!r} is not an integer"
                ) from None
            values = np.array(
                F.coordinates(tokens[1:], where=where, field="coordinates", text_ok=True)
            )
            size = np.array([tile.width, tile.height], dtype=np.float64)
            if len(values) == 4:
                cx, cy, w, h = values
                if w < 0 or h < 0:
                    reader.flipped(where)
                xy = np.array(
                    [[cx - w / 2, cy - h / 2], [cx + w / 2, cy - h / 2],
                     [cx + w / 2, cy + h / 2], [cx - w / 2, cy + h / 2]]
                )  # fmt: skip
            else:
                xy = values.reshape(-1, 2)
            pixels = F.points((xy * size).tolist(), where=where, field="coordinates (in pixels)")
            corners = polygon_corners(pixels, where=where, reader=reader)
            label = names[cls] if 0 <= cls < len(names) else str(cls)
            reader.box(corners, label, where=where, tile=tile)
    if not names and reader.result.annotations:
        reader.result.issues.append(
            f"{path}: no classes.txt/data.yaml found: class ids kept as labels; map them "
            "with `class_map` 0=<class>"
        )
    return reader.finish()


read_obb = read


def _write(
    annotations: Sequence[BoxAnnotation],
    out: Path,
    *,
    tiles: Mapping[str, TileRecord],
    schema: LabelSchema,
    obb: bool,
) -> ExportResult:
    classes = schema.class_names + sorted({a.label for a in annotations} - set(schema.class_names))
    index = {n: i for i, n in enumerate(classes)}
    missing = sorted({tile_key(a) for a in annotations if a.tile not in tiles})
    if missing:
        raise AnnotationFormatError(
            f"{out}: YOLO coordinates are normalised by the image size, unknown for tile(s) "
            f"{', '.join(missing)}; pass them with `tiles`",
            parameter="tiles",
        )
    labels_dir = out / "labels"
    names, issues = per_tile_files(
        {tile_key(a) for a in annotations}, suffix=".txt", reserved=["classes.txt"]
    )
    texts: dict[Path, list[str]] = {output_path(labels_dir, f): [] for f in names.values()}
    for a in annotations:
        t = tiles[a.tile]
        size = np.array([t.width, t.height], dtype=np.float64)
        if a.outside(t.height, t.width, tolerance=0.5):
            issues.append(
                f"box {a.id[:8]} ({a.label}) reaches outside tile {t.name}: normalised "
                "coordinates outside [0, 1] written unclipped"
            )
        if obb:
            values = (a.xy / size).ravel()
        else:
            x0, y0, x1, y1 = a.bounds
            values = np.array(
                [(x0 + x1) / 2 / size[0], (y0 + y1) / 2 / size[1],
                 (x1 - x0) / size[0], (y1 - y0) / size[1]]
            )  # fmt: skip
        line = " ".join([str(index[a.label]), *(f"{v:.6f}" for v in values)])
        texts[output_path(labels_dir, names[tile_key(a)])].append(line)
    lost = count_lost(annotations, CARRIES_OBB if obb else CARRIES)
    files = {
        out / "classes.txt": "\n".join(classes) + "\n",
        out / "data.yaml": yaml.safe_dump(
            {"names": dict(enumerate(classes))}, allow_unicode=True, sort_keys=False
        ),
        **{p: "".join(f"{x}\n" for x in lines) for p, lines in texts.items()},
    }
    paths = write_files(files)  # first: no "not written" warning for an export that failed
    items = warn_lost("YOLO-OBB" if obb else "YOLO", lost, stacklevel=4)
    return ExportResult(paths=paths, lost=items, issues=issues)


def _class_names(folder: Path) -> list[str]:
    for base in (folder, folder.parent):
        for name in ("classes.txt", "obj.names"):
            f = base / name
            if f.is_file():
                return [line.strip() for line in read_text(f).splitlines() if line.strip()]
        f = base / "data.yaml"
        if f.is_file():
            return _yaml_names(f)
    return []


def _yaml_names(f: Path) -> list[str]:
    """Class names of an Ultralytics ``data.yaml``: ``names`` as a list or as {id: name}."""
    try:
        data = yaml.safe_load(read_text(f)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise AnnotationFormatError(f"{f}{line}: malformed YAML; fix the file") from None
    except RecursionError:
        raise AnnotationFormatError(f"{f}: YAML nested too deeply to read; fix the file") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        ids = {
            F.integer(k, where=str(f), field="names", high=10**6, text_ok=True): v
            for k, v in names.items()
        }
        return [str(ids[k]) for k in sorted(ids)]
    if isinstance(names, list):
        return [str(n) for n in names]
    return []


def _lines(file: Path) -> list[tuple[int, str]]:
    text = read_text(file)
    return [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines()) if ln.strip()]


def _tile(file: Path, reader: Reader, *, single: bool) -> TileRecord:
    stem = file.stem
    known = reader.known_tiles
    # By whole name first: tiles sharing a stem are written as <whole name>.txt.
    record = known.get(stem) or next((t for t in known.values() if Path(t.name).stem == stem), None)
    if record is None and len(known) == 1 and single:
        record = next(iter(known.values()))
    if record is None:
        record = _image_beside(file)
    if record is None:
        raise AnnotationFormatError(
            f"{file}: YOLO coordinates are normalised by the image size; pass the image with "
            f"`tiles` (no image {stem}.* found in an images/ folder beside labels/)",
            parameter="tiles",
        )
    reader.result.tiles.setdefault(record.name, record)
    return record


def _image_beside(file: Path) -> TileRecord | None:
    from imagery_tool.tile import open_tile

    candidates = [file.parent, file.parent.parent / "images", file.parent / "images"]
    for folder in candidates:
        whole = ("",) if file.stem.lower().endswith(IMAGE_SUFFIXES) else ()
        for suffix in (*whole, *IMAGE_SUFFIXES):
            image = folder / (file.stem + suffix)
            if image.is_file():
                return TileRecord.from_tile(open_tile(image, check=False))
    return None
