"""Annotation file formats: one registry (`FORMATS`) used by the API and the command line."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from imagery_tool.annotations.formats import coco, csv_polygons, dota, geojson, voc, yolo
from imagery_tool.annotations.formats._common import ExportResult, ImportResult, safe_file_name
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema, default_schema
from imagery_tool.annotations.store import TileRecord
from imagery_tool.errors import AnnotationFormatError

__all__ = [
    "FORMATS",
    "ExportResult",
    "FormatSpec",
    "ImportResult",
    "detect_format",
    "read_annotations",
    "safe_file_name",
    "write_annotations",
]


@dataclass(frozen=True)
class FormatSpec:
    """One annotation format.

    Attributes
    ----------
    name : str
        Registry key (``"dota"``).
    title : str
        Human name.
    read, write : callable
        ``read(path, *, schema, tiles, class_map) -> ImportResult`` and
        ``write(annotations, out, *, tiles, schema) -> ExportResult``.
    carries : frozenset of str
        What survives a round trip besides class and corners' bounds (``"rotation"``,
        ``"heading"``, ``"attributes"``, ``"review status"``, ...).
    output : {"file", "folder"}
        Whether the format writes one file or a folder (one file per tile).
    suffix : str
        File suffix of a single-file output.
    """

    name: str
    title: str
    read: Callable[..., ImportResult]
    write: Callable[..., ExportResult]
    carries: frozenset[str]
    output: str
    suffix: str


FORMATS: dict[str, FormatSpec] = {
    s.name: s
    for s in (
        FormatSpec("geojson", "GeoJSON (RFC 7946)", geojson.read, geojson.write,
                   frozenset(geojson.CARRIES), "file", ".geojson"),
        FormatSpec("coco", "COCO detection JSON", coco.read, coco.write,
                   frozenset(coco.CARRIES), "file", ".json"),
        FormatSpec("yolo", "YOLO (axis-aligned, normalised)", yolo.read, yolo.write,
                   frozenset(yolo.CARRIES), "folder", ""),
        FormatSpec("yolo-obb", "YOLO-OBB (4 corners, normalised)", yolo.read_obb, yolo.write_obb,
                   frozenset(yolo.CARRIES_OBB), "folder", ""),
        FormatSpec("dota", "DOTA v1 label files", dota.read, dota.write,
                   frozenset(dota.CARRIES), "folder", ".txt"),
        FormatSpec("voc", "Pascal VOC XML", voc.read, voc.write,
                   frozenset(voc.CARRIES), "folder", ".xml"),
        FormatSpec("csv", "CSV of pixel polygons (Airbus aircraft style)", csv_polygons.read,
                   csv_polygons.write, frozenset(csv_polygons.CARRIES), "file", ".csv"),
    )
}  # fmt: skip

_SUFFIXES = {".geojson": "geojson", ".csv": "csv", ".xml": "voc"}


def detect_format(path: str | Path, *, for_output: bool = False) -> str:
    """Guess a format name from a path (and, for inputs, its content).

    Raises
    ------
    AnnotationFormatError
        When the format cannot be told; the message asks for ``--from``/``--to``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    hint = "--to" if for_output else "--from"
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix == ".json":
        if for_output or not path.is_file():
            return "coco"
        return _sniff_json(path)
    if suffix == ".txt" and not for_output and path.is_file():
        return _sniff_txt([path]) or "dota"
    if not for_output and path.is_dir():
        if (path / "labelTxt").is_dir():
            return "dota"
        if any(path.glob("*.xml")) or (path / "Annotations").is_dir():
            return "voc"
        found = _sniff_txt(sorted(path.rglob("*.txt"))[:20])
        if found:
            return found
    raise AnnotationFormatError(
        f"{path}: cannot tell the annotation format; name it with {hint} ({', '.join(FORMATS)})"
    )


def read_annotations(
    path: str | Path,
    *,
    format: str | None = None,
    tiles: Mapping[str, TileRecord] | Sequence[TileRecord] | None = None,
    schema: LabelSchema | None = None,
    class_map: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read boxes from an annotation file or folder.

    Parameters
    ----------
    path : str or Path
        The file (or folder, for YOLO, DOTA and VOC).
    format : str, optional
        A key of `FORMATS`; guessed from the path when omitted.
    tiles : mapping or sequence of TileRecord, optional
        Tiles the file refers to (matched by file name or stem): their size and georeference
        are needed by YOLO (normalised) and by GeoJSON without pixel corners.
    schema : LabelSchema, optional
        Class names and attributes; the default schema when omitted.
    class_map : mapping of str to str, optional
        Foreign class name -> schema class (``{"Airplane": "unknown fixed-wing"}``).

    Returns
    -------
    ImportResult
        Boxes, tiles, GSDs and issues (unknown classes, boxes outside their tile, ...).
    """
    path = Path(path)
    if not path.exists():
        raise AnnotationFormatError(f"{path}: no such file or folder; check the path")
    name = format or detect_format(path)
    spec = _spec(name)
    if spec.output == "file" and path.is_dir():
        raise AnnotationFormatError(
            f"{path}: is a folder; {spec.title} is read from a file: name the file"
        )
    if not path.is_file() and not path.is_dir():
        raise AnnotationFormatError(
            f"{path}: not a regular file or folder (a device or pipe); name the annotation file"
        )
    return spec.read(
        path, schema=schema or default_schema(), tiles=_tile_map(tiles), class_map=class_map
    )


def write_annotations(
    annotations: Sequence[BoxAnnotation],
    out: str | Path,
    *,
    format: str | None = None,
    tiles: Mapping[str, TileRecord] | Sequence[TileRecord] | None = None,
    schema: LabelSchema | None = None,
) -> ExportResult:
    """Write boxes in a format; warns once (`DataLossWarning`) about what the format drops.

    Parameters
    ----------
    annotations : sequence of BoxAnnotation
        The boxes.
    out : str or Path
        Output file, or folder for per-tile formats (YOLO, DOTA, VOC).
    format : str, optional
        A key of `FORMATS`; guessed from ``out``'s suffix when omitted.
    tiles : mapping or sequence of TileRecord, optional
        The boxes' tiles: sizes (YOLO, COCO, VOC) and georeference (GeoJSON, DOTA's gsd).
    schema : LabelSchema, optional
        Class order for COCO/YOLO ids; the default schema when omitted.

    Returns
    -------
    ExportResult
    """
    out = Path(out)
    name = format or detect_format(out, for_output=True)
    spec = _spec(name)
    single = spec.output == "file" or (spec.suffix and out.suffix.lower() == spec.suffix)
    if single and out.is_dir():
        raise AnnotationFormatError(f"{out}: is a folder; {spec.title} is written to a file")
    if not single and out.exists() and not out.is_dir():
        raise AnnotationFormatError(
            f"{out}: is a file; {spec.title} is written to a folder (one file per tile)"
        )
    return spec.write(
        list(annotations), out, tiles=_tile_map(tiles), schema=schema or default_schema()
    )


def _spec(name: str) -> FormatSpec:
    try:
        return FORMATS[name]
    except KeyError:
        raise AnnotationFormatError(
            f"unknown annotation format {name!r}; use one of {', '.join(FORMATS)}"
        ) from None


def _tile_map(tiles) -> dict[str, TileRecord]:
    if tiles is None:
        return {}
    if isinstance(tiles, Mapping):
        return dict(tiles)
    return {t.name: t for t in tiles}


def _sniff_json(path: Path) -> str:
    from imagery_tool.annotations.formats._common import load_json

    doc = load_json(path)
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        return "geojson"
    if isinstance(doc, dict) and "annotations" in doc:
        return "coco"
    keys = json.dumps(list(doc)[:5]) if isinstance(doc, dict) else type(doc).__name__
    raise AnnotationFormatError(
        f"{path}: JSON that is neither GeoJSON nor COCO (top level: {keys}); "
        "name the format with --from"
    )


def _sniff_txt(files: Sequence[Path]) -> str | None:
    for file in files:
        if file.name in ("classes.txt", "obj.names"):
            continue
        try:
            lines = file.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            tokens = line.split()
            if not tokens or ":" in tokens[0]:
                continue
            if len(tokens) >= 9 and not _is_number(tokens[8]):
                return "dota"
            if all(_is_number(t) for t in tokens):
                return "yolo" if len(tokens) == 5 else "yolo-obb"
            return None
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
