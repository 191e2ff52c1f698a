"""Shared pieces of the format modules: results, class mapping, safe output paths, parsing."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from imagery_tool import atomic
from imagery_tool.annotations.formats._fields import show
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema, name_key
from imagery_tool.annotations.store import TileRecord
from imagery_tool.errors import AnnotationFormatError, DataLossWarning, OutputWriteError

__all__ = [
    "UNTILED",
    "ExportResult",
    "ImportResult",
    "Reader",
    "atomic_write_text",
    "group_by_tile",
    "label_files",
    "read_text",
    "per_tile_files",
    "safe_file_name",
    "tile_key",
    "warn_lost",
    "write_files",
    "written_name",
]


@dataclass
class ImportResult:
    """What a format reader found.

    Attributes
    ----------
    annotations : list of BoxAnnotation
        Every box read, unknown classes and attributes included (they are reported in
        ``issues``, never dropped).
    tiles : dict of str to TileRecord
        Tiles the file describes (name, size) or that were matched to ``tiles``.
    gsd : dict of str to float
        Ground sample distance per tile, in metres, where the file states one (DOTA).
    issues : list of str
        One line per problem worth telling the user (unknown class, box outside its tile...).
    """

    annotations: list[BoxAnnotation] = field(default_factory=list)
    tiles: dict[str, TileRecord] = field(default_factory=dict)
    gsd: dict[str, float] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)


@dataclass
class ExportResult:
    """What a format writer wrote.

    Attributes
    ----------
    paths : list of Path
        Files written.
    lost : list of str
        What the format could not carry (also warned once as a `DataLossWarning`).
    issues : list of str
        Other problems (boxes outside their tile, tiles of unknown size...).
    """

    paths: list[Path] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)


class Reader:
    """Helper shared by readers: maps classes, checks the schema, counts issues once."""

    def __init__(
        self,
        source: Path,
        *,
        schema: LabelSchema,
        tiles: Mapping[str, TileRecord] | None,
        class_map: Mapping[str, str] | None,
    ) -> None:
        self.source = source
        self.schema = schema
        self.known_tiles = dict(tiles or {})
        self.class_map = {name_key(k): v for k, v in (class_map or {}).items()}
        self.result = ImportResult()
        self._unknown_classes: Counter[str] = Counter()
        self._unknown_attributes: Counter[str] = Counter()
        self._bad_values: Counter[str] = Counter()
        self._images: set[str | None] = set()
        self._fallback_used = False
        self._sized: set[str | None] = set()
        self._flipped: list[str] = []
        self._ids: dict[str, str] = {}

    def label(self, raw: str) -> str:
        """Map a foreign class name through ``class_map`` and the schema's aliases."""
        raw = str(raw).strip()
        mapped = self.class_map.get(name_key(raw), raw)
        return self.schema.resolve(mapped) or mapped

    def tile_for(
        self, image: str | None, *, width: int = 0, height: int = 0, where: str | None = None
    ) -> TileRecord | None:
        """Return the tile a foreign image name refers to (matched by name, then by stem).

        The image name is reduced to its base name: a path inside a foreign file is never
        used to locate or write a file. With a single known tile and a file about a single
        image, that image maps to the tile whatever its name. ``where`` (file and element)
        prefixes the refusal of a name that is no file name (``..``).
        """
        name = safe_file_name(image, where=where or str(self.source)) if image else None
        known = self.known_tiles
        record = None
        if name is not None:
            record = known.get(name) or next(
                (t for t in known.values() if Path(t.name).stem == Path(name).stem), None
            )
        self._images.add(name)
        if record is None and self._fallback_used and len(self._images) > 1:
            images = ", ".join(sorted(map(str, self._images)))
            raise AnnotationFormatError(
                f"{self.source}: refers to several images ({images}) but the one tile in "
                "`tiles` matches none by name; pass one per image in `tiles`, named like the "
                "images",
                parameter="tiles",
            )
        if record is None and len(known) == 1 and len(self._images) == 1:
            self._fallback_used = True
            record = next(iter(known.values()))
        if record is None and name is not None and width > 0 and height > 0:
            record = TileRecord(name, int(height), int(width))
        if record is not None:
            size = (record.width, record.height)
            if width > 0 and height > 0 and size != (width, height) and name not in self._sized:
                self._sized.add(name)
                self.result.issues.append(
                    f"{self.source}: image {name} is {width} x {height} px in the file but tile "
                    f"{record.name} is {record.width} x {record.height} px; check the `tiles`"
                )
            self.result.tiles.setdefault(record.name, record)
        return record

    def box(
        self,
        corners: Any,
        raw_label: str,
        *,
        where: str,
        tile: TileRecord | None,
        tile_name: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> BoxAnnotation | None:
        """Build a box from foreign values, reporting (not dropping) what the schema rejects."""
        label = self.label(raw_label)
        label, attrs, problems = self.schema.normalise(label, dict(attributes or {}))
        for p in problems:
            if p.kind == "unknown-class":
                self._unknown_classes[label] += 1
            elif p.kind == "unknown-attribute":
                self._unknown_attributes[p.message.split("'")[1]] += 1
            else:
                self._bad_values[p.message] += 1
        if tile is not None:
            name = tile.name
        else:  # a path in a foreign file never becomes a tile name, hence never an output path
            name = safe_file_name(tile_name, where=where) if tile_name else None
        if "id" in fields:  # else a store would refuse the second box, naming the store
            box_id = str(fields["id"]).strip()
            if not box_id:
                raise AnnotationFormatError(f"{where}: id: an empty id; remove it or fill it in")
            if box_id in self._ids:
                raise AnnotationFormatError(
                    f"{where}: id: {show(box_id)} is the id of {self._ids[box_id]} too; ids "
                    "must be unique in a file: remove or change one"
                )
            self._ids[box_id] = where.rsplit(": ", 1)[-1] if ": " in where else where
        if tile is not None and tile.acquired and not fields.get("acquired"):
            fields["acquired"] = tile.acquired
        try:
            a = BoxAnnotation(corners, label, attributes=attrs, tile=name, **fields)
        except (TypeError, ValueError) as exc:
            raise AnnotationFormatError(f"{where}: {exc}; fix or remove that box") from None
        if tile is not None and a.outside(tile.height, tile.width, tolerance=0.5):
            x0, y0, x1, y1 = a.bounds
            self.result.issues.append(
                f"{where}: box ({a.label}) reaches outside its {tile.width} x {tile.height} px "
                f"tile {tile.name} (x {x0:g}..{x1:g}, y {y0:g}..{y1:g}); kept unclipped"
            )
        self.result.annotations.append(a)
        return a

    def flipped(self, where: str) -> None:
        """Note a box given with a negative width or height (or min > max), read between its edges.

        Reported once per file with the first elements in `finish`: such a box is usually an
        export bug upstream, and its corners may not mean what the other tool meant.
        """
        self._flipped.append(where)

    def finish(self) -> ImportResult:
        """Add the summary issues (unknown classes and attributes) and return the result."""
        if self._flipped:
            n, first = len(self._flipped), "; ".join(self._flipped[:3])
            more = f" and {n - 3} more" if n > 3 else ""
            self.result.issues.append(
                f"{first}{more}: negative width or height (or min > max): "
                f"{'box' if n == 1 else f'{n} boxes'} read as the box between the given "
                "edges; check the file"
            )
        for label, n in sorted(self._unknown_classes.items()):
            self.result.issues.append(
                f"{self.source}: class {label!r} ({n} box{'es' if n > 1 else ''}) is not in the "
                f"label schema; kept as is (map it with `class_map` '{label}=<class>')"
            )
        for attr, n in sorted(self._unknown_attributes.items()):
            self.result.issues.append(
                f"{self.source}: attribute {attr!r} ({n} box{'es' if n > 1 else ''}) is not in "
                "the label schema; kept as is"
            )
        for message, n in sorted(self._bad_values.items()):
            self.result.issues.append(f"{self.source}: {message} ({n} box{'es' if n > 1 else ''})")
        return self.result


UNTILED = "untiled"


def tile_key(annotation: BoxAnnotation) -> str:
    """Return the tile name a box is written under; `UNTILED` for a box without a tile."""
    return annotation.tile or UNTILED


def written_name(tile: str) -> str:
    """Return a tile name as an export writes it inside a file: its base name, never a path.

    Readers reduce names already; a store filled through the API, or by an older version,
    may still hold a path (``../../x.tif``), which must not reach another tool's file.

    Raises
    ------
    AnnotationFormatError
        When no file name remains (``..``).
    """
    try:
        return safe_file_name(tile)
    except AnnotationFormatError:
        raise AnnotationFormatError(
            f"tile name {show(tile, 80)} is not a file name; rename the tile in the store"
        ) from None


def group_by_tile(
    annotations: Iterable[BoxAnnotation], out: Path, *, suffix: str, format_name: str
) -> dict[str, list[BoxAnnotation]]:
    """Group boxes by tile for a one-image-per-file format, sorted by tile name.

    Raises
    ------
    AnnotationFormatError
        When ``out`` is a single ``suffix`` file but the boxes span several tiles.
    """
    by_tile: dict[str, list[BoxAnnotation]] = {}
    for a in annotations:
        by_tile.setdefault(tile_key(a), []).append(a)
    if out.suffix.lower() == suffix and len(by_tile) > 1:
        raise AnnotationFormatError(
            f"{out}: {format_name} holds one image per file and the boxes span {len(by_tile)} "
            "tiles; give a folder as output"
        )
    return dict(sorted(by_tile.items()))


def label_files(path: Path, *, subfolder: str, pattern: str) -> list[Path]:
    """Return the label files to read: ``path`` itself, or a folder's ``pattern`` files.

    A dataset folder is searched in its conventional ``subfolder`` (``labelTxt``,
    ``Annotations``) when it has one.
    """
    if not path.is_dir():
        return [path]
    sub = path / subfolder
    files = sorted((sub if sub.is_dir() else path).glob(pattern))
    if not files:
        raise AnnotationFormatError(
            f"{path}: no {pattern} label file in this folder (nor in {subfolder}/); "
            "check the path or the format"
        )
    return files


def safe_file_name(name: str, *, where: str | None = None) -> str:
    r"""Reduce an image name from a foreign file to a plain file name.

    Both ``/`` and ``\\`` separators are removed with everything before them, so that
    ``../../etc/x.png`` becomes ``x.png``.

    Parameters
    ----------
    name : str
        The name as the file gives it.
    where : str, optional
        The file and element it comes from, named in the refusal.

    Raises
    ------
    AnnotationFormatError
        When nothing usable remains (``..``, empty).
    """
    text = str(name).strip().replace("\x00", "")
    base = PureWindowsPath(PurePosixPath(text).name).name
    base = re.sub(r"[\x00-\x1f]", "", base).strip()
    if base in ("", ".", ".."):
        prefix = f"{where}: " if where else ""
        raise AnnotationFormatError(
            f"{prefix}image name {show(name, 80)} is not a file name; fix the input file"
        )
    return base


def output_path(folder: Path, name: str) -> Path:
    """Return ``folder / name`` after checking that it stays inside ``folder``."""
    path = folder / safe_file_name(name)
    if path.resolve().parent != folder.resolve():
        raise AnnotationFormatError(f"{name!r} would be written outside {folder}; refused")
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see `imagery_tool.atomic`), creating its folder."""
    return write_files({path: text})[0]


def write_files(files: Mapping[Path, str]) -> list[Path]:
    """Make the files' folders, then write them all or none (`atomic.atomic_write_files`).

    Raises
    ------
    OutputWriteError
        Naming the output that cannot be written: no space, file too large, permission denied,
        a folder in the way, a name too long.
    """
    for path in files:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputWriteError(
                f"cannot write {path}: cannot make its folder ({exc.strerror or exc}); choose "
                "another output"
            ) from exc
    return atomic.atomic_write_files(files)


# A file name may hold 255 bytes; `atomic_path`'s temporary name adds about 15 to the final one.
MAX_NAME_BYTES = 200


def per_tile_files(
    names: Iterable[str], *, suffix: str, reserved: Iterable[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """Name one output file per tile, ``<tile stem><suffix>``, each name unique and short enough.

    Tiles whose stems are the same (``P0001.tif``, ``P0001.png``; case is ignored, as some
    file systems do) would write one file and lose the boxes of all but one: each keeps its
    whole name instead (``P0001.tif.txt``). A name too long for a file system is cut and given
    a stable hash of the tile name (``<first characters>-<10 hex digits>.txt``). Both are
    reported. A tile whose file would take a ``reserved`` name (YOLO's ``classes.txt``, which
    readers skip) keeps its whole name too.

    Returns
    -------
    files : dict of str to str
        Tile name -> file name.
    issues : list of str
        One line per renamed group.
    """
    names = sorted(set(names))
    stems: dict[str, list[str]] = {}
    for name in names:
        stems.setdefault(Path(name).stem.casefold(), []).append(name)
    files, issues = {}, []
    taboo = {r.casefold() for r in reserved}
    for name in names:
        shared = stems[Path(name).stem.casefold()]
        whole = len(shared) > 1 or (Path(name).stem + suffix).casefold() in taboo
        files[name] = _short((name if whole else Path(name).stem) + suffix, name)
    for group in (g for g in stems.values() if len(g) > 1):
        shown = ", ".join(f"{n} as {files[n]}" for n in group)
        issues.append(f"tiles {' and '.join(group)} share a file stem; written apart: {shown}")
    for name in names:
        if len((Path(name).stem + suffix).encode()) > MAX_NAME_BYTES:
            issues.append(
                f"tile name of {len(name)} characters is too long for a file name; written as "
                f"{files[name]}"
            )
    taken: dict[str, str] = {}
    for name in names:  # a whole name may equal another tile's stem: make it unique by hash
        key = files[name].casefold()
        if key in taken:
            files[name] = _short(files[name], name, force=True)
        taken[files[name].casefold()] = name
    return files, issues


def _short(file_name: str, tile: str, *, force: bool = False) -> str:
    """Cut ``file_name`` to `MAX_NAME_BYTES` bytes, with a hash of ``tile`` to keep it unique."""
    if not force and len(file_name.encode()) <= MAX_NAME_BYTES:
        return file_name
    digest = hashlib.sha1(tile.encode(), usedforsecurity=False).hexdigest()[:10]
    suffix = Path(file_name).suffix
    room = MAX_NAME_BYTES - len(suffix.encode()) - len(digest) - 1
    head = file_name[: -len(suffix) or None].encode()[:room].decode("utf-8", "ignore")
    return f"{head}-{digest}{suffix}"


def warn_lost(format_name: str, lost: Mapping[str, int], *, stacklevel: int = 3) -> list[str]:
    """Warn once, in one line, what an export could not carry; return the items as text.

    Parameters
    ----------
    format_name : str
        The format, for the message.
    lost : mapping of str to int
        What was lost -> how many boxes lost it (0 entries are ignored).
    """
    items = [f"{what} ({n} box{'es' if n > 1 else ''})" for what, n in lost.items() if n]
    if items:
        warnings.warn(
            f"{format_name} cannot carry {'; '.join(items)}: not written",
            DataLossWarning,
            stacklevel=stacklevel,
        )
    return items


def count_lost(annotations: Iterable[BoxAnnotation], carries: set[str]) -> dict[str, int]:
    """Count, per kind of data a format may not carry, the boxes that have it."""
    boxes = list(annotations)
    checks = {
        "rotation": lambda a: not a.is_axis_aligned,
        "heading": lambda a: True,
        "attributes": lambda a: bool(a.attributes),
        "review status": lambda a: a.review != "unreviewed" or a.reviewer or a.review_note,
        "author and times": lambda a: True,
        "ids": lambda a: True,
        "detection score": lambda a: a.score is not None,
        "acquisition date": lambda a: a.acquired is not None,
    }
    return {
        what: sum(1 for a in boxes if test(a))
        for what, test in checks.items()
        if what not in carries
    }


def read_text(path: Path) -> str:
    """Read a UTF-8 text file (a BOM is dropped), naming the file when it cannot be read.

    Raises
    ------
    AnnotationFormatError
        When ``path`` is a folder or not UTF-8 text, or the system refuses to read it.
    """
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationFormatError(
            f"{path}: not UTF-8 text ({exc.reason}); re-save it as UTF-8"
        ) from None
    except OSError as exc:
        raise AnnotationFormatError(
            f"{path}: cannot read ({exc.strerror or exc}); check the path and its permissions"
        ) from None


def load_json(path: Path) -> Any:
    """Parse a JSON file, naming the file and line of a syntax error."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotationFormatError(
            f"{path}:{exc.lineno}: malformed JSON ({exc.msg} at column {exc.colno}); fix the file"
        ) from None
    except RecursionError:
        raise AnnotationFormatError(
            f"{path}: JSON nested too deeply to read (thousands of levels); fix the file"
        ) from None
    except ValueError as exc:  # Python's limit on the digits of an integer, sys.int_info
        raise AnnotationFormatError(
            f"{path}: JSON holds a number too long to read ({exc}); fix the file"
        ) from None


def fmt(value: float, digits: int = 2) -> str:
    """Format a coordinate compactly: ``12``, ``12.5``, ``12.34``."""
    text = f"{round(float(value), digits):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def min_area_rect(points: np.ndarray) -> np.ndarray:
    """Return the 4 corners of the minimum-area rectangle around ``(N, 2)`` points."""
    import cv2

    rect = cv2.minAreaRect(np.asarray(points, dtype=np.float32))
    return cv2.boxPoints(rect).astype(np.float64)


def polygon_corners(points: Any, *, where: str, reader: Reader) -> np.ndarray:
    """Turn a foreign polygon into 4 corners (dropping a closing vertex; other shapes -> rect)."""
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(xy) >= 2 and np.allclose(xy[0], xy[-1]):
        xy = xy[:-1]
    if len(xy) == 4:
        return xy
    if len(xy) < 3:
        raise AnnotationFormatError(f"{where}: a polygon needs at least 3 points; got {len(xy)}")
    reader.result.issues.append(
        f"{where}: polygon with {len(xy)} points stored as its minimum-area rectangle"
    )
    return min_area_rect(xy)
