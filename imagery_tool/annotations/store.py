"""The annotation store: one GeoPackage per project, transactional edits, undo/redo history.

The file is a plain GeoPackage (SQLite) that GDAL and QGIS open as is: the ``annotations``
layer holds each box as a lon/lat polygon (EPSG:4326) with its class, attributes, pixel
corners and review fields as columns; ``tiles``, ``history`` and ``store_meta`` are attribute
tables. It is written with Python's ``sqlite3`` so that every edit is one ``BEGIN IMMEDIATE``
transaction together with its history row, in WAL mode with ``synchronous=FULL``: an edit is
on disk when the call returns, a process killed at any moment loses no committed edit, and
several processes can edit the same store (each waits for the others' transactions).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import stat
import struct
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from imagery_tool.annotations.model import BoxAnnotation, utc_now
from imagery_tool.errors import OutputWriteError, StoreError
from imagery_tool.geometry import counter_clockwise
from imagery_tool.georef import GeoRef
from imagery_tool.progress import Progress, ProgressCounter

__all__ = [
    "FORMAT_VERSION",
    "AnnotationStore",
    "HistoryEntry",
    "StoreConflictError",
    "StoreDamagedError",
    "StoreReadOnlyError",
    "TileRecord",
    "gpkg_polygon",
    "open_store",
]

# Version of the table layout; a store with a higher version is refused, never rewritten.
FORMAT_VERSION = 1
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10300  # GeoPackage 1.3
BUSY_TIMEOUT_S = 60.0
SRS_LONLAT = 4326
# SQLite's names for a write the file system refused: a full disk, a quota or ``ulimit -f`` (EFBIG
# reaches SQLite as a failed write, not as SQLITE_FULL).
_WRITE_ERRORS = {"SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC", "SQLITE_IOERR_TRUNCATE",
                 "SQLITE_IOERR_SHMSIZE", "SQLITE_IOERR_DIR_FSYNC"}  # fmt: skip

# Attribute values also written as their own columns so that QGIS can filter on them.
KEY_ATTRIBUTES = {"nose_open": "BOOLEAN", "engines_covered": "BOOLEAN", "confidence": "TEXT",
                  "note": "TEXT"}  # fmt: skip

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

_SCHEMA_SQL = f"""
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE annotations (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POLYGON,
  uuid TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  {", ".join(f"{name} {kind}" for name, kind in KEY_ATTRIBUTES.items())},
  attributes TEXT NOT NULL DEFAULT '{{}}',
  corners_px TEXT NOT NULL,
  angle_deg REAL,
  length_m REAL,
  width_m REAL,
  review TEXT NOT NULL,
  reviewer TEXT,
  review_note TEXT,
  author TEXT,
  created DATETIME NOT NULL,
  modified DATETIME NOT NULL,
  tile TEXT,
  acquired TEXT,
  source TEXT NOT NULL,
  score REAL,
  revision INTEGER NOT NULL);
CREATE INDEX annotations_tile ON annotations(tile);
CREATE TABLE tiles (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name TEXT NOT NULL UNIQUE, path TEXT,
  acquired TEXT, height INTEGER NOT NULL, width INTEGER NOT NULL, transform TEXT NOT NULL,
  crs_wkt TEXT);
CREATE TABLE history (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, at DATETIME NOT NULL, who TEXT,
  action TEXT NOT NULL, annotation TEXT NOT NULL, before TEXT, after TEXT,
  batch TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'done',
  undone_at DATETIME, undone_by TEXT, undo_seq INTEGER);
CREATE INDEX history_annotation ON history(annotation);
CREATE INDEX history_state ON history(state, who);
CREATE TABLE store_meta (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, key TEXT NOT NULL UNIQUE, value TEXT);
"""

_ANNOTATION_COLUMNS = (
    "geom", "uuid", "label", *KEY_ATTRIBUTES, "attributes", "corners_px", "angle_deg",
    "length_m", "width_m", "review", "reviewer", "review_note", "author", "created", "modified",
    "tile", "acquired", "source", "score", "revision",
)  # fmt: skip
_INSERT_SQL = (
    f"INSERT INTO annotations ({', '.join(_ANNOTATION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_ANNOTATION_COLUMNS))})"
)
_UPDATE_SQL = (
    "UPDATE annotations SET "
    + ", ".join(f"{c} = ?" for c in _ANNOTATION_COLUMNS if c != "uuid")
    + " WHERE uuid = ?"
)
_READ_COLUMNS = (
    "uuid, label, attributes, corners_px, review, reviewer, review_note, author, created, "
    "modified, tile, acquired, source, score, revision"
)


def _locked(method):
    """Run a method under the store's lock (one connection, shared safely between threads).

    SQLite's errors and rows that cannot be decoded leave as typed one-line errors naming the
    store (`AnnotationStore._error`).
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except (sqlite3.Error, DamagedRowError) as exc:
                raise self._error(exc) from exc

    return wrapper


class StoreConflictError(StoreError):
    """An edit or undo would overwrite a change another edit made to the same box."""


class StoreDamagedError(StoreError):
    """A store's tables, values or pages cannot be read as imagery-tool wrote them.

    The message says which store, what is damaged and how to salvage the rest
    (``imagery-tool annotations check --repair STORE``, `repair_store`).
    """

    def __init__(self, path: str | Path, what: str) -> None:
        self.path = Path(path)
        self.what = what
        super().__init__(
            f"the store {path} is damaged: {what}; run 'imagery-tool annotations check --repair "
            f"{path}' to salvage what can be read into a fresh store (the damaged file is kept "
            "as a backup)"
        )


class StoreReadOnlyError(StoreError):
    """A store cannot be written: the file, its folder or its disk is read-only."""


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


@dataclass(frozen=True)
class HistoryEntry:
    """One edit in a store's history.

    Attributes
    ----------
    id : int
        Increasing number of the edit.
    at : str
        UTC time of the edit.
    who : str or None
        The author of the editing session.
    action : {"add", "update", "delete"}
        What was done.
    annotation_id : str
        The box.
    before, after : dict or None
        The box before and after (`BoxAnnotation.to_dict`), ``None`` where it did not exist.
    batch : str
        Edits made by one call (an import) share a batch; undo and redo act on a whole batch.
    state : {"done", "undone", "dropped"}
        ``undone`` by `AnnotationStore.undo`; ``dropped`` from the redo stack by a new edit.
    undone_at, undone_by : str or None
        When and by whom it was undone.
    """

    id: int
    at: str
    who: str | None
    action: str
    annotation_id: str
    before: dict | None
    after: dict | None
    batch: str
    state: str
    undone_at: str | None = None
    undone_by: str | None = None

    def describe(self) -> str:
        """One line: when, who, what."""
        label = (self.after or self.before or {}).get("label", "?")
        what = f"{self.action} {self.annotation_id[:8]} ({label})"
        if self.action == "update" and self.before and self.after:
            changed = sorted(
                k
                for k in self.after
                if k not in ("modified", "revision") and self.after[k] != self.before.get(k)
            )
            what += f": {', '.join(changed) or 'nothing'}"
        state = "" if self.state == "done" else f" [{self.state}]"
        return f"{self.at}  {self.who or '-'}  {what}{state}"


def open_store(
    path: str | Path,
    *,
    project: str | None = None,
    author: str | None = None,
    create: bool = True,
    readonly: bool = False,
) -> AnnotationStore:
    """Open (or create) a project's annotation store.

    Parameters
    ----------
    path : str or Path
        The GeoPackage file (``*.gpkg``).
    project : str, optional
        The project name. A new store records it; an existing store of another project is
        refused. A new store without a name takes the file's stem.
    author : str, optional
        Who edits in this session: written to each edit and its history row; `undo` and
        `redo` act on this author's edits only (all edits when ``None``).
    create : bool
        Create the store when the file does not exist.
    readonly : bool
        Open for reading only (no file is created or changed).

    Returns
    -------
    AnnotationStore

    Raises
    ------
    StoreError
        The file is not a store, belongs to another project, was written by a newer format
        version, or cannot be opened.
    """
    return AnnotationStore(path, project=project, author=author, create=create, readonly=readonly)


class AnnotationStore:
    """A project's boxes, tiles and edit history in one GeoPackage; see `open_store`.

    Every edit method runs one transaction: the row change and its history row are written
    together or not at all. Boxes read from the store carry their ``revision``; `update` and
    `delete` refuse (`StoreConflictError`) to overwrite a box that another edit changed since
    it was read.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        project: str | None = None,
        author: str | None = None,
        create: bool = True,
        readonly: bool = False,
    ) -> None:
        self.path = Path(path)
        self.author = author
        self.readonly = readonly
        self._georefs: dict[tuple, GeoRef] = {}
        self._touched: set[str] = set()
        self._lock = threading.RLock()
        self._con = self._connect(create=create)
        try:
            self.project = self._check_or_init(project)
        except (sqlite3.Error, DamagedRowError) as exc:
            self._con.close()
            raise self._error(exc) from exc
        except BaseException:
            self._con.close()
            raise

    # -- opening -------------------------------------------------------------------------------

    def _connect(self, *, create: bool) -> sqlite3.Connection:
        path = self.path
        try:
            info: os.stat_result | None = path.stat()
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise StoreError(
                f"cannot open the store {path}: {exc.strerror}; check the path and its permissions"
            ) from exc
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise StoreError(f"{path}: is a folder; name a .gpkg file for the store")
        if info is not None and info.st_size > 0:
            try:
                with open(path, "rb") as f:
                    header = f.read(16)
            except OSError as exc:
                raise StoreError(
                    f"cannot read the store {path}: {exc.strerror}; ask its owner for read "
                    "access or work on a copy"
                ) from exc
            if header != b"SQLite format 3\x00":
                raise StoreError(
                    f"{path}: not an imagery-tool store (not a GeoPackage/SQLite file); "
                    "choose another file name"
                )
        elif info is None and (self.readonly or not create):
            raise StoreError(f"{path}: no such store; check the path or create it with import")
        if info is None and not path.parent.exists():
            raise StoreError(f"{path}: the folder {path.parent} does not exist; create it first")
        if not self.readonly:
            check_writable(path, exists=info is not None)
        try:
            con = sqlite3.connect(
                sqlite_uri(path, readonly=self.readonly),
                uri=True,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        return con

    def _error(self, exc: BaseException) -> BaseException:
        """Return the typed one-line error for a SQLite error or an undecodable row.

        Errors that do not come from the file (a bug such as bad SQL) are returned as they are.
        """
        path = self.path
        if isinstance(exc, DamagedRowError):
            return StoreDamagedError(path, str(exc))
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        if name.startswith("SQLITE_READONLY"):
            return StoreReadOnlyError(
                f"{path} is read-only ({text}); check the permissions of the file and its "
                "folder, or import into a copy; reading it (list, export, check) works"
            )
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return StoreError(
                f"{path}: the store stayed locked by another process for "
                f"{BUSY_TIMEOUT_S:.0f} s ({text}); close the other program and retry"
            )
        if name == "SQLITE_FULL" or name in _WRITE_ERRORS:
            return OutputWriteError(
                f"cannot write {path}: no space left on the device or file too large ({text}); "
                "nothing of this edit was saved; free some space or raise the limit and retry"
            )
        if name.startswith("SQLITE_IOERR"):
            return StoreError(
                f"cannot read {path}: {text} ({name}); a failing disk or a file changed "
                "underneath: copy the store and run 'imagery-tool annotations check' on the copy"
            )
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return StoreDamagedError(path, text)
        if name == "SQLITE_CANTOPEN":
            return StoreError(
                f"cannot open the store {path} ({text}); check the permissions of the file and "
                "its folder"
            )
        if name == "SQLITE_ERROR" and text.startswith(("no such table", "no such column")):
            return StoreDamagedError(path, text)
        return exc

    def _check_or_init(self, project: str | None) -> str:
        con = self._con
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "store_meta" not in tables:
            if tables - {"sqlite_sequence"}:
                raise StoreError(
                    f"{self.path}: a GeoPackage/SQLite file but not an imagery-tool store "
                    "(no store_meta table); choose another file name"
                )
            if self.readonly:
                raise StoreError(f"{self.path}: empty file, not an imagery-tool store")
            self._set_pragmas()
            name = self._initialise(project or self.path.stem)
            # GDAL checks the GeoPackage application_id in the file header itself: move the
            # header page out of the WAL now, so the file reads as a GeoPackage at once.
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return name
        problems = structure_problems(con)
        if problems:
            more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
            raise StoreDamagedError(self.path, problems[0] + more)
        if not self.readonly:  # never write into a file SQLite finds corrupt: it spreads
            damage = integrity_problem(con, quick=True)
            if damage:
                raise StoreDamagedError(self.path, damage)
        meta = self._meta()
        version = int(meta["format_version"])  # structure_problems checked it
        if version > FORMAT_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer imagery-tool (store format {version}; this "
                f"version reads up to {FORMAT_VERSION}); upgrade imagery-tool. The file was "
                "not changed"
            )
        name = meta.get("project", "")
        if project is not None and name != project:
            raise StoreError(
                f"{self.path}: the store of project {name!r}, not {project!r}; "
                "open the right store or pass its project name"
            )
        if not self.readonly:
            self._set_pragmas()
        return name

    def _set_pragmas(self) -> None:
        con = self._con
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal":
            con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = FULL")

    def _initialise(self, project: str) -> str:
        with self._transaction() as con:
            # Another process may have created the store between our check and the lock.
            exists = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='store_meta'"
            ).fetchone()
            if exists:
                return self._meta().get("project", "")
            con.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
            for statement in _SCHEMA_SQL.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.executemany(
                "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
                [
                    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined",
                     "undefined cartesian coordinate reference system"),
                    ("Undefined geographic SRS", 0, "NONE", 0, "undefined",
                     "undefined geographic coordinate reference system"),
                    ("WGS 84 geodetic", SRS_LONLAT, "EPSG", SRS_LONLAT, _WGS84_WKT,
                     "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
                ],
            )  # fmt: skip
            contents = [
                ("annotations", "features", "annotations", "Boxes (lon/lat polygons)", SRS_LONLAT),
                ("tiles", "attributes", "tiles", "Tiles: size, transform, CRS", None),
                ("history", "attributes", "history", "Edit history (who changed what)", None),
                ("store_meta", "attributes", "store_meta", "imagery-tool store metadata", None),
            ]
            con.executemany(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                "srs_id) VALUES (?, ?, ?, ?, ?)",
                contents,
            )
            con.execute(
                "INSERT INTO gpkg_geometry_columns "
                "VALUES ('annotations', 'geom', 'POLYGON', ?, 0, 0)",
                (SRS_LONLAT,),
            )
            from imagery_tool import __version__

            con.executemany(
                "INSERT INTO store_meta (key, value) VALUES (?, ?)",
                [
                    ("format_version", str(FORMAT_VERSION)),
                    ("project", project),
                    ("created", utc_now()),
                    ("generator", f"imagery-tool {__version__}"),
                ],
            )
        return project

    def _meta(self) -> dict[str, str]:
        return dict(self._con.execute("SELECT key, value FROM store_meta").fetchall())

    # -- lifetime ------------------------------------------------------------------------------

    @_locked
    def close(self) -> None:
        """Close the file (committed edits are already on disk)."""
        self._con.close()

    def __enter__(self) -> AnnotationStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AnnotationStore({str(self.path)!r}, project={self.project!r})"

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` ... ``COMMIT``; anything raised rolls it back, typed."""
        if self.readonly:
            raise StoreReadOnlyError(f"{self.path}: opened read-only; open it for writing to edit")
        con = self._con
        with self._lock:
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            self._touched = set()
            try:
                yield con
                if self._touched:  # GeoPackage readers learn of changes from last_change
                    con.execute(
                        "UPDATE gpkg_contents SET last_change = ? WHERE table_name IN "
                        f"({', '.join('?' * len(self._touched))})",
                        (utc_now(), *sorted(self._touched)),
                    )
                con.execute("COMMIT")
            except (sqlite3.Error, DamagedRowError) as exc:
                self._rollback()
                raise self._error(exc) from exc
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already done so itself.

        After a full disk or an I/O error SQLite may have rolled back on its own; a second
        ``ROLLBACK`` would then fail ("no transaction is active") and hide the real error.
        """
        if self._con.in_transaction:
            # the transaction is gone all the same; the caller's error tells why
            with contextlib.suppress(sqlite3.OperationalError):
                self._con.execute("ROLLBACK")

    # -- tiles ---------------------------------------------------------------------------------

    def add_tile(self, tile) -> TileRecord:
        """Register (or update) a tile so that its boxes get lon/lat geometry.

        Parameters
        ----------
        tile : TileRecord or imagery_tool.tile.Tile
            The tile; a `Tile` is described with `TileRecord.from_tile`.

        Returns
        -------
        TileRecord
            What was stored. Boxes already stored for this tile get their geometry recomputed.
        """
        record = tile if isinstance(tile, TileRecord) else TileRecord.from_tile(tile)
        with self._transaction() as con:
            self._touched.update(("tiles", "annotations"))
            con.execute(
                "INSERT INTO tiles (name, path, acquired, height, width, transform, crs_wkt) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET path=excluded.path, "
                "acquired=excluded.acquired, height=excluded.height, width=excluded.width, "
                "transform=excluded.transform, crs_wkt=excluded.crs_wkt",
                (record.name, record.path, record.acquired, record.height, record.width,
                 json.dumps(list(record.transform)), record.crs_wkt),
            )  # fmt: skip
            rows = con.execute(
                f"SELECT {_READ_COLUMNS} FROM annotations WHERE tile = ?", (record.name,)
            ).fetchall()
            for row in rows:
                a = _from_row(row)
                geom, angle, length_m, width_m = self._geometry(a, record)
                con.execute(
                    "UPDATE annotations SET geom=?, angle_deg=?, length_m=?, width_m=? "
                    "WHERE uuid=?",
                    (geom, angle, length_m, width_m, a.id),
                )
        return record

    @_locked
    def tile(self, name: str) -> TileRecord | None:
        """Return the registered tile called ``name``, or ``None``."""
        row = self._con.execute(
            "SELECT name, height, width, transform, crs_wkt, path, acquired FROM tiles "
            "WHERE name = ?",
            (name,),
        ).fetchone()
        return None if row is None else _tile_from_row(row)

    @_locked
    def tiles(self) -> list[TileRecord]:
        """Return every registered tile, by name."""
        rows = self._con.execute(
            "SELECT name, height, width, transform, crs_wkt, path, acquired FROM tiles "
            "ORDER BY name"
        ).fetchall()
        return [_tile_from_row(r) for r in rows]

    # -- reading -------------------------------------------------------------------------------

    @_locked
    def get(self, annotation_id: str) -> BoxAnnotation:
        """Return the box with id ``annotation_id`` (with its current ``revision``).

        Raises
        ------
        KeyError
            When no such box is stored.
        """
        row = self._con.execute(
            f"SELECT {_READ_COLUMNS} FROM annotations WHERE uuid = ?", (annotation_id,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no annotation {annotation_id!r} in {self.path}")
        return _from_row(row)

    @_locked
    def annotations(
        self, *, tile: str | None = None, label: str | None = None, review: str | None = None
    ) -> list[BoxAnnotation]:
        """Return the stored boxes in the order they were added, optionally filtered."""
        where, args = [], []
        for column, value in (("tile", tile), ("label", label), ("review", review)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT {_READ_COLUMNS} FROM annotations"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._con.execute(sql + " ORDER BY fid", args).fetchall()
        return [_from_row(r) for r in rows]

    @_locked
    def __len__(self) -> int:
        return self._con.execute("SELECT count(*) FROM annotations").fetchone()[0]

    @property
    @_locked
    def data_version(self) -> int:
        """A number that changes when another connection (process) commits to the file.

        Cheap to poll: a GUI compares it with the value at its last refresh to learn that
        another editor changed the store (SQLite's ``PRAGMA data_version``).
        """
        return self._con.execute("PRAGMA data_version").fetchone()[0]

    def __iter__(self) -> Iterator[BoxAnnotation]:
        return iter(self.annotations())

    @_locked
    def __contains__(self, annotation_id: object) -> bool:
        return (
            self._con.execute(
                "SELECT 1 FROM annotations WHERE uuid = ?", (annotation_id,)
            ).fetchone()
            is not None
        )

    # -- editing -------------------------------------------------------------------------------

    def add(self, annotation: BoxAnnotation) -> BoxAnnotation:
        """Store a new box (one transaction) and return it with ``revision`` 1.

        The box's ``author`` defaults to the session's author and its ``acquired`` date to its
        tile's, when registered.

        Raises
        ------
        StoreError
            When a box with the same id is already stored.
        """
        return self.add_many([annotation])[0]

    def add_many(
        self, annotations: Iterable[BoxAnnotation], *, progress: Progress | None = None
    ) -> list[BoxAnnotation]:
        """Store many new boxes in one transaction; one `undo` removes them all.

        ``progress(done, total, "boxes")`` is called as boxes are stored (`imagery_tool.progress`).
        """
        annotations = list(annotations)
        counter = ProgressCounter(progress, len(annotations), "boxes")
        batch = _new_batch()
        added = []
        with self._transaction() as con:
            for a in annotations:
                if self._revision(a.id) is not None:
                    raise StoreError(
                        f"{self.path}: annotation {a.id} is already stored (or given twice); "
                        "give the new box another id, or edit the stored one"
                    )
                a = _with_defaults(a, self.author, self._tile_row(a.tile))
                a = a.replace(revision=1, modified=a.modified)
                con.execute(_INSERT_SQL, self._row(a))
                self._log(batch, "add", a.id, None, a)
                added.append(a)
                counter.step()
            self._drop_redo()
        return added

    def update(
        self, annotation: BoxAnnotation, *, expected_revision: int | None = None
    ) -> BoxAnnotation:
        """Replace a stored box by ``annotation`` (same id) and return it with its new revision.

        Parameters
        ----------
        annotation : BoxAnnotation
            The edited box; ``modified`` is set to now.
        expected_revision : int, optional
            The revision the edit was based on; by default ``annotation.revision`` when the box
            was read from the store. A different stored revision means another edit changed
            the box meanwhile.

        Raises
        ------
        KeyError
            When the box is not stored.
        StoreConflictError
            When the stored box changed since ``expected_revision``.
        """
        return self.update_many([annotation], expected_revisions=[expected_revision])[0]

    def update_many(
        self,
        annotations: Sequence[BoxAnnotation],
        *,
        expected_revisions: Sequence[int | None] | None = None,
    ) -> list[BoxAnnotation]:
        """Update many boxes in one transaction (see `update`); one `undo` reverts them all."""
        expected = list(expected_revisions or [None] * len(annotations))
        batch = _new_batch()
        out = []
        with self._transaction() as con:
            for a, want in zip(annotations, expected, strict=True):
                before = self._get_locked(a.id)
                want = want if want is not None else (a.revision or None)
                if want is not None and before.revision != want:
                    raise StoreConflictError(self._conflict_message(a.id, want, before.revision))
                new = _with_defaults(a, None, self._tile_row(a.tile)).replace(
                    revision=before.revision + 1
                )
                con.execute(_UPDATE_SQL, self._row(new, for_update=True))
                self._log(batch, "update", a.id, before, new)
                out.append(new)
            self._drop_redo()
        return out

    def delete(self, annotation_id: str, *, expected_revision: int | None = None) -> None:
        """Delete a stored box (one transaction); see `update` for ``expected_revision``."""
        batch = _new_batch()
        with self._transaction() as con:
            before = self._get_locked(annotation_id)
            if expected_revision is not None and before.revision != expected_revision:
                raise StoreConflictError(
                    self._conflict_message(annotation_id, expected_revision, before.revision)
                )
            con.execute("DELETE FROM annotations WHERE uuid = ?", (annotation_id,))
            self._log(batch, "delete", annotation_id, before, None)
            self._drop_redo()

    # -- history, undo, redo -------------------------------------------------------------------

    @_locked
    def history(
        self, *, annotation_id: str | None = None, limit: int | None = None
    ) -> list[HistoryEntry]:
        """Return edits, newest first: who changed what and when."""
        return self._history("annotation", annotation_id, limit=limit)

    @_locked
    def _entries(self, batch: str) -> list[HistoryEntry]:
        return self._history("batch", batch)

    def _history(
        self, column: str, value: str | None, *, limit: int | None = None
    ) -> list[HistoryEntry]:
        sql = (
            "SELECT id, at, who, action, annotation, before, after, batch, state, undone_at, "
            "undone_by FROM history"
        )
        args: list[Any] = []
        if value is not None:
            sql += f" WHERE {column} = ?"
            args.append(value)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [_history_from_row(r) for r in self._con.execute(sql, args)]

    @_locked
    def can_undo(self) -> bool:
        """Whether this session's author has an edit to undo."""
        return self._last_batch("done") is not None

    @_locked
    def can_redo(self) -> bool:
        """Whether this session's author has an undone edit to redo."""
        return self._last_batch("undone") is not None

    def undo(self) -> list[HistoryEntry]:
        """Undo the author's most recent edit (or batch of edits); one transaction.

        Each box gets back exactly its state (and revision) before the edit. Works across
        sessions: the history is in the file. Returns the entries undone (empty when there is
        nothing to undo).

        Raises
        ------
        StoreConflictError
            When another edit changed one of the boxes since; nothing is undone.
        """
        with self._transaction() as con:
            batch = self._last_batch("done")
            if batch is None:
                return []
            seq = con.execute("SELECT coalesce(max(undo_seq), 0) + 1 FROM history").fetchone()[0]
            now = utc_now()
            for entry_id, annotation_id, before, after in self._batch_entries(batch, True):
                self._apply(annotation_id, remove=after, write=before, undo=True)
                con.execute(
                    "UPDATE history SET state='undone', undone_at=?, undone_by=?, undo_seq=? "
                    "WHERE id=?",
                    (now, self.author, seq, entry_id),
                )
        return self._entries(batch)

    def redo(self) -> list[HistoryEntry]:
        """Redo the author's most recently undone edit (or batch); see `undo`."""
        with self._transaction() as con:
            batch = self._last_batch("undone")
            if batch is None:
                return []
            for entry_id, annotation_id, before, after in self._batch_entries(batch, False):
                self._apply(annotation_id, remove=before, write=after, undo=False)
                con.execute(
                    "UPDATE history SET state='done', undone_at=NULL, undone_by=NULL, "
                    "undo_seq=NULL WHERE id=?",
                    (entry_id,),
                )
        return self._entries(batch)

    def _apply(
        self, annotation_id: str, *, remove: str | None, write: str | None, undo: bool
    ) -> None:
        """Replace state ``remove`` of a box by state ``write`` (JSON; ``None``: no row)."""
        self._touched.update(("annotations", "history"))
        current = self._revision(annotation_id)
        if remove is not None:
            expected = _json(remove, f"history of box {annotation_id}").get("revision")
            if current != expected:
                raise StoreConflictError(
                    self._conflict_message(annotation_id, expected, current, undo=undo)
                )
        elif current is not None:
            raise StoreConflictError(
                f"{self.path}: {'undo' if undo else 'redo'} refused: annotation "
                f"{annotation_id[:8]} exists again (re-added by another edit)"
            )
        if write is None:
            self._con.execute("DELETE FROM annotations WHERE uuid = ?", (annotation_id,))
            return
        try:
            box = BoxAnnotation.from_dict(_json(write, f"history of box {annotation_id}"))
        except (TypeError, ValueError, AttributeError) as exc:
            raise DamagedRowError(f"history of box {annotation_id}: {exc}") from exc
        if current is None:
            self._con.execute(_INSERT_SQL, self._row(box))
        else:
            self._con.execute(_UPDATE_SQL, self._row(box, for_update=True))

    def _conflict_message(
        self,
        annotation_id: str,
        expected: int | None,
        current: int | None,
        *,
        undo: bool | None = None,
    ) -> str:
        last = self._con.execute(
            "SELECT who, at, action FROM history WHERE annotation = ? ORDER BY id DESC LIMIT 1",
            (annotation_id,),
        ).fetchone()
        by = f" ({last[2]} by {last[0] or 'unknown'} at {last[1]})" if last else ""
        state = "deleted" if current is None else f"at revision {current}, not {expected}"
        verb = "edit" if undo is None else ("undo" if undo else "redo")
        return (
            f"{self.path}: {verb} refused: annotation {annotation_id[:8]} was changed by another "
            f"edit{by} and is now {state}; reload it and decide again"
        )

    def _last_batch(self, state: str) -> str | None:
        order = "id" if state == "done" else "undo_seq"
        sql = "SELECT batch FROM history WHERE state = ?"
        args: list[Any] = [state]
        if self.author is not None:
            sql += " AND who = ?"
            args.append(self.author)
        row = self._con.execute(sql + f" ORDER BY {order} DESC, id DESC LIMIT 1", args).fetchone()
        return None if row is None else row[0]

    def _batch_entries(self, batch: str, descending: bool) -> list[tuple]:
        order = "DESC" if descending else "ASC"
        return self._con.execute(
            "SELECT id, annotation, before, after FROM history WHERE batch = ? "
            f"ORDER BY id {order}",
            (batch,),
        ).fetchall()

    def _drop_redo(self) -> None:
        sql = "UPDATE history SET state = 'dropped' WHERE state = 'undone'"
        args: list[Any] = []
        if self.author is not None:
            sql += " AND who = ?"
            args.append(self.author)
        self._con.execute(sql, args)

    def _log(
        self,
        batch: str,
        action: str,
        annotation_id: str,
        before: BoxAnnotation | None,
        after: BoxAnnotation | None,
    ) -> None:
        self._touched.update(("annotations", "history"))
        self._con.execute(
            "INSERT INTO history (at, who, action, annotation, before, after, batch) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                utc_now(),
                self.author,
                action,
                annotation_id,
                None if before is None else json.dumps(before.to_dict()),
                None if after is None else json.dumps(after.to_dict()),
                batch,
            ),
        )

    # -- rows ----------------------------------------------------------------------------------

    def _revision(self, annotation_id: str) -> int | None:
        row = self._con.execute(
            "SELECT revision FROM annotations WHERE uuid = ?", (annotation_id,)
        ).fetchone()
        return None if row is None else row[0]

    def _get_locked(self, annotation_id: str) -> BoxAnnotation:
        row = self._con.execute(
            f"SELECT {_READ_COLUMNS} FROM annotations WHERE uuid = ?", (annotation_id,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no annotation {annotation_id!r} in {self.path} (deleted?)")
        return _from_row(row)

    def _tile_row(self, name: str | None) -> TileRecord | None:
        return None if name is None else self.tile(name)

    def _geometry(
        self, a: BoxAnnotation, record: TileRecord | None
    ) -> tuple[bytes, float, float | None, float | None]:
        georef = None
        if record is not None and record.crs_wkt:
            key = (record.height, record.width, record.transform, record.crs_wkt)
            georef = self._georefs.get(key)
            if georef is None:
                georef = self._georefs[key] = record.georef
        if georef is None:
            return gpkg_polygon(None), a.angle_deg, None, None
        from imagery_tool.annotations.sizecheck import box_size_m

        length_m, width_m = box_size_m(a, georef)
        return gpkg_polygon(a.lonlat(georef)), a.angle_deg, length_m, width_m

    def _row(self, a: BoxAnnotation, *, for_update: bool = False) -> tuple:
        geom, angle, length_m, width_m = self._geometry(a, self._tile_row(a.tile))
        keys = [_key_value(a.attributes.get(k)) for k in KEY_ATTRIBUTES]
        values = {
            "geom": geom,
            "uuid": a.id,
            "label": a.label,
            **dict(zip(KEY_ATTRIBUTES, keys, strict=True)),
            "attributes": json.dumps(a.attributes, sort_keys=True),
            "corners_px": json.dumps([list(c) for c in a.corners]),
            "angle_deg": angle,
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
        if for_update:
            return tuple(values[c] for c in _ANNOTATION_COLUMNS if c != "uuid") + (a.id,)
        return tuple(values[c] for c in _ANNOTATION_COLUMNS)


def sqlite_uri(path: str | Path, *, readonly: bool) -> str:
    """Return the SQLite URI of a store; read-only opens leave no ``-wal``/``-shm`` file.

    A read-only connection to a WAL database normally creates (and, being read-only, leaves)
    the ``-wal`` and ``-shm`` files; in a read-only folder it cannot, and beside another user's
    store they would be ours and could block its owner. When neither a ``-wal`` nor a
    ``-journal`` file exists no other program has the store open, so it is read as an
    immutable file; otherwise through the other program's write-ahead log (``mode=ro``).
    """
    path = Path(path)
    uri = path.resolve().as_uri()
    if not readonly:
        return uri
    logs = (path.with_name(path.name + end) for end in ("-wal", "-journal"))
    return uri + ("?mode=ro" if any(p.exists() for p in logs) else "?mode=ro&immutable=1")


def check_writable(path: str | Path, *, exists: bool) -> None:
    """Raise `StoreReadOnlyError` saying why, when the store at ``path`` cannot be written.

    Parameters
    ----------
    path : str or Path
        The store.
    exists : bool
        Whether the file exists (else its folder must take a new file).
    """
    path = Path(path)
    folder = path.parent
    if not exists:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreReadOnlyError(
                f"cannot create the store {path}: its folder {folder} is read-only; "
                "choose a folder you can write to"
            )
        return
    mode = path.stat().st_mode
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        why = f"its permissions are {stat.filemode(mode)}; 'chmod u+w' it to edit it"
    elif not os.access(path, os.W_OK):
        why = (
            "you cannot write it: another user's file, an immutable file or a read-only "
            "disk; ask its owner, or import into a copy"
        )
    elif not os.access(folder, os.W_OK | os.X_OK):
        why = (
            f"its folder {folder} is read-only and SQLite must create {path.name}-wal there; "
            "move the store to a folder you can write to"
        )
    else:
        return
    raise StoreReadOnlyError(f"{path} is read-only ({why}); reading it (list, export, check) works")


def gpkg_polygon(lonlat: np.ndarray | None, *, srs_id: int = SRS_LONLAT) -> bytes:
    """Encode a closed ring as a GeoPackage geometry blob (header + envelope + WKB polygon).

    Parameters
    ----------
    lonlat : (N, 2) float ndarray or None
        The ring's vertices without the closing vertex; ``None`` for an empty polygon. The
        ring is written counter-clockwise (exterior ring, as OGC and RFC 7946 want).
    srs_id : int
        The ``gpkg_spatial_ref_sys`` id.

    Returns
    -------
    bytes
    """
    if lonlat is None:
        flags = 0x01 | 0x10  # little endian, empty, no envelope
        return b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id) + struct.pack("<BII", 1, 3, 0)
    ring = counter_clockwise(lonlat, closed=True)
    envelope = struct.pack(
        "<4d", ring[:, 0].min(), ring[:, 0].max(), ring[:, 1].min(), ring[:, 1].max()
    )
    wkb = struct.pack("<BIII", 1, 3, 1, len(ring)) + ring.astype("<f8").tobytes()
    return b"GP" + bytes([0, 0x01 | 0x02]) + struct.pack("<i", srs_id) + envelope + wkb


def _key_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value)


def _with_defaults(a: BoxAnnotation, author: str | None, tile: TileRecord | None) -> BoxAnnotation:
    changes: dict[str, Any] = {}
    if a.author is None and author is not None:
        changes["author"] = author
    if a.acquired is None and tile is not None and tile.acquired:
        changes["acquired"] = tile.acquired
    if not changes:
        return a
    changes.setdefault("modified", a.modified)
    return a.replace(**changes)


def _json(text: Any, what: str) -> Any:
    """Decode a stored JSON value; `DamagedRowError` naming ``what`` when it does not decode."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise DamagedRowError(f"{what} is not valid JSON ({exc})") from exc


def _from_row(row: Sequence[Any]) -> BoxAnnotation:
    (uid, label, attributes, corners, review, reviewer, note, author, created, modified, tile,
     acquired, source, score, revision) = row  # fmt: skip
    try:
        return BoxAnnotation(
            _json(corners, "corners_px"),
            label,
            attributes=_json(attributes, "attributes"),
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


def _tile_from_row(row: Sequence[Any]) -> TileRecord:
    name, height, width, transform, crs_wkt, path, acquired = row
    try:
        numbers = tuple(float(v) for v in _json(transform, "transform"))
        if len(numbers) != 6 or not all(isinstance(v, int) for v in (height, width)):
            raise ValueError(f"size {height!r} x {width!r}, transform of {len(numbers)} numbers")
    except (TypeError, ValueError) as exc:
        raise DamagedRowError(f"tile {name}: {exc}") from exc
    return TileRecord(name, height, width, numbers, crs_wkt or None, path, acquired)


def _history_from_row(row: Sequence[Any]) -> HistoryEntry:
    try:
        before = None if row[5] is None else _json(row[5], "before")
        after = None if row[6] is None else _json(row[6], "after")
    except DamagedRowError as exc:
        raise DamagedRowError(f"history entry {row[0]}: {exc}") from exc
    return HistoryEntry(*row[:5], before, after, *row[7:11])


def structure_problems(con: sqlite3.Connection) -> list[str]:
    """List what a store's layout lacks: tables, columns, a usable ``format_version``.

    Parameters
    ----------
    con : sqlite3.Connection
        A connection to a file that has a ``store_meta`` table.

    Returns
    -------
    list of str
        One phrase per problem (``"table history is missing"``); empty for a sound layout.
    """
    problems = []
    for table, columns in _expected_columns().items():
        present = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        if not present:
            problems.append(f"table {table} is missing")
            continue
        lacking = [c for c in columns if c not in present]
        if lacking:
            problems.append(f"table {table} lacks column(s) {', '.join(lacking)}")
    if not any(p.startswith("table store_meta") for p in problems):
        rows = con.execute("SELECT value FROM store_meta WHERE key = 'format_version'").fetchall()
        if not rows or rows[0][0] is None:
            problems.append("its format_version (in store_meta) is missing")
        else:
            try:
                int(rows[0][0])
            except (TypeError, ValueError):
                problems.append(f"its format_version (in store_meta) {rows[0][0]!r} is no number")
    return problems


def integrity_problem(con: sqlite3.Connection, *, quick: bool = False) -> str | None:
    """Run SQLite's integrity check (or its faster quick check) and summarise it in one line.

    Parameters
    ----------
    con : sqlite3.Connection
        The store.
    quick : bool
        ``PRAGMA quick_check`` (pages and records, not indexes against tables): linear in the
        file size, fast enough to run before every write session.

    Returns
    -------
    str or None
        ``None`` when SQLite finds nothing wrong, else the first few findings in one line.
    """
    pragma = "quick_check" if quick else "integrity_check"
    try:
        report = [str(r[0]) for r in con.execute(f"PRAGMA {pragma}(10)")]
    except sqlite3.DatabaseError as exc:
        report = [str(exc)]
    if report == ["ok"]:
        return None
    lines = [line.strip() for text in report for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("***")]
    return f"SQLite's {pragma.replace('_', ' ')}: {'; '.join(lines[:3])}"


@functools.cache
def _expected_columns() -> dict[str, tuple[str, ...]]:
    """Each table of the layout with its columns, from the schema itself."""
    con = sqlite3.connect(":memory:")
    try:
        for statement in _SCHEMA_SQL.split(";"):
            if statement.strip():
                con.execute(statement)
        names = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name <> 'sqlite_sequence'"
            )
        ]
        return {n: tuple(r[1] for r in con.execute(f'PRAGMA table_info("{n}")')) for n in names}
    finally:
        con.close()


def _new_batch() -> str:
    return str(uuid.uuid4())
