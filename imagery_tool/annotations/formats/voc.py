"""Pascal VOC XML: one file per image, axis-aligned boxes in 1-based pixel coordinates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, SubElement, indent, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse as defused_parse

from imagery_tool.annotations.formats import _fields as F
from imagery_tool.annotations.formats._common import (
    ExportResult,
    ImportResult,
    Reader,
    count_lost,
    group_by_tile,
    label_files,
    output_path,
    per_tile_files,
    safe_file_name,
    warn_lost,
    write_files,
    written_name,
)
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema
from imagery_tool.annotations.store import TileRecord
from imagery_tool.errors import AnnotationFormatError

__all__ = ["read", "write"]

CARRIES: set[str] = set()


def write(
    annotations: Sequence[BoxAnnotation],
    out: Path,
    *,
    tiles: Mapping[str, TileRecord],
    schema: LabelSchema,
) -> ExportResult:
    """Write one VOC XML per tile, as labelImg does.

    Boxes are the axis-aligned bounds of the corners in VOC's 1-based pixel indices:
    the continuous edges ``x0, x1`` become ``xmin = round(x0) + 1``, ``xmax = round(x1)``
    (rounding moves an edge by at most 0.5 px). ``difficult`` is 1 for ``confidence: low``;
    ``truncated`` is 1 for boxes reaching outside the tile. ``OUT`` is a folder (files
    ``<tile stem>.xml``) or, for a single tile, an ``.xml`` file.
    """
    by_tile = group_by_tile(annotations, out, suffix=".xml", format_name="VOC")
    single = out.suffix.lower() == ".xml"
    names, renamed = per_tile_files(by_tile, suffix=".xml")
    files, issues = {}, ([] if single else renamed)
    for name, boxes in by_tile.items():
        record = tiles.get(name)
        root = Element("annotation", verified="no")
        SubElement(root, "folder").text = "images"
        SubElement(root, "filename").text = written_name(name)
        SubElement(SubElement(root, "source"), "database").text = "Unknown"
        size = SubElement(root, "size")
        SubElement(size, "width").text = str(record.width if record else 0)
        SubElement(size, "height").text = str(record.height if record else 0)
        SubElement(size, "depth").text = "3"
        SubElement(root, "segmented").text = "0"
        if record is None:
            issues.append(f"tile {name} of unknown size: <size> written as 0 x 0")
        for a in boxes:
            x0, y0, x1, y1 = a.bounds
            outside = record is not None and a.outside(record.height, record.width, tolerance=0.5)
            if outside:
                issues.append(f"box {a.id[:8]} ({a.label}) reaches outside tile {name}; unclipped")
            obj = SubElement(root, "object")
            SubElement(obj, "name").text = a.label
            SubElement(obj, "pose").text = "Unspecified"
            SubElement(obj, "truncated").text = "1" if outside else "0"
            low = a.attributes.get("confidence") == "low"
            SubElement(obj, "difficult").text = "1" if low else "0"
            box = SubElement(obj, "bndbox")
            xmin, ymin = round(x0) + 1, round(y0) + 1
            xmax, ymax = max(round(x1), xmin), max(round(y1), ymin)
            for tag, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
                SubElement(box, tag).text = str(value)
        indent(root, space="\t")
        path = out if single else output_path(out, names[name])
        files[path] = tostring(root, encoding="unicode") + "\n"
    lost = count_lost(annotations, CARRIES)
    return ExportResult(
        paths=write_files(files),
        lost=warn_lost("Pascal VOC", lost),
        issues=issues,
    )


def read(
    path: Path,
    *,
    schema: LabelSchema,
    tiles: Mapping[str, TileRecord] | None = None,
    class_map: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read a VOC XML file or a folder of them (``Annotations/``), parsed with defusedxml.

    Entity declarations (billion laughs), external entities and DTDs are refused. The image
    is named by ``<filename>`` reduced to a base name (``<path>`` is ignored).
    """
    path = Path(path)
    files = label_files(path, subfolder="Annotations", pattern="*.xml")
    reader = Reader(path, schema=schema, tiles=tiles, class_map=class_map)
    for file in files:
        root = _parse(file)
        if root.tag != "annotation":
            raise AnnotationFormatError(f"{file}: root element <{root.tag}> is not <annotation>")
        image = (root.findtext("filename") or "").strip() or file.stem
        size = {
            tag: F.image_size(root.findtext(f"size/{tag}"), where=f"{file}: size", field=tag,
                              text_ok=True)
            for tag in ("width", "height")
        }  # fmt: skip
        image = safe_file_name(image, where=f"{file}: filename")
        tile = reader.tile_for(image, width=size["width"], height=size["height"])
        for i, obj in enumerate(root.iter("object")):
            where = f"{file}: object {i + 1}"
            name = (obj.findtext("name") or "").strip()
            box = obj.find("bndbox")
            if not name or box is None:
                raise AnnotationFormatError(f"{where}: needs <name> and <bndbox>")
            xmin, ymin, xmax, ymax = (
                F.number(box.findtext(t), where=where, field=f"bndbox/{t}", text_ok=True,
                         low=-F.MAX_COORD_PX, high=F.MAX_COORD_PX)
                for t in ("xmin", "ymin", "xmax", "ymax")
            )  # fmt: skip
            if xmin > xmax or ymin > ymax:
                reader.flipped(where)
            corners = [(xmin - 1, ymin - 1), (xmax, ymin - 1), (xmax, ymax), (xmin - 1, ymax)]
            attributes = {}
            if (obj.findtext("difficult") or "0").strip() == "1":
                cls = schema.get(reader.label(name))
                conf = schema.attributes.get("confidence")
                if cls is not None and conf is not None and conf.applies(cls):
                    attributes["confidence"] = "low"
            reader.box(
                corners,
                name,
                where=where,
                tile=tile,
                tile_name=image,
                attributes=attributes,
            )
    return reader.finish()


def _parse(file: Path) -> Element:
    try:
        return defused_parse(
            str(file), forbid_dtd=True, forbid_entities=True, forbid_external=True
        ).getroot()
    except DefusedXmlException as exc:
        raise AnnotationFormatError(
            f"{file}: XML with a DTD or entity declarations refused ({type(exc).__name__}: "
            "possible entity-expansion attack); remove the <!DOCTYPE> block"
        ) from None
    except ParseError as exc:
        line, column = exc.position
        raise AnnotationFormatError(
            f"{file}:{line}: malformed XML (column {column}: {exc.msg}); fix the file"
        ) from None
    except OSError as exc:
        raise AnnotationFormatError(f"{file}: cannot read ({exc.strerror})") from None
