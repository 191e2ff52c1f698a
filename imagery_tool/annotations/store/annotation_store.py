"""`AnnotationStore`: a project's boxes, tiles and edit history in one GeoPackage, and undo."""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from imagery_tool.annotations.model import BoxAnnotation, utc_now
from imagery_tool.annotations.schema import LabelSchema, default_schema
from imagery_tool.annotations.store import history as log
from imagery_tool.annotations.store.connection import (
    DEFAULT_LOCK_TIMEOUT_S,
    check_lock_timeout,
    connect,
    set_lock_timeout,
    store_error,
)
from imagery_tool.annotations.store.history import HistoryEntry
from imagery_tool.annotations.store.layout import (
    ANNOTATION_COLUMNS,
    FORMAT_VERSION,
    HISTORY_COLUMNS,
    READ_COLUMNS,
    TILE_COLUMNS,
    attribute_columns,
    create_layout,
    integrity_problem,
    quote,
    stored_attribute_columns,
    structure_problems,
)
from imagery_tool.annotations.store.rows import (
    DamagedRowError,
    TileRecord,
    box_from_row,
    box_values,
    decode_json,
    tile_from_row,
    with_defaults,
)
from imagery_tool.errors import (
    StoreConflictError,
    StoreDamagedError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
)
from imagery_tool.georef import GeoRef
from imagery_tool.progress import Progress, ProgressCounter

__all__ = ["AnnotationStore", "open_store"]


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


def open_store(
    path: str | Path,
    *,
    project: str | None = None,
    author: str | None = None,
    create: bool = True,
    readonly: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
    schema: LabelSchema | None = None,
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
    lock_timeout : float, optional
        Seconds to wait while another program holds the store's lock before giving up with
        `StoreLockedError` (a minute by default; a GUI waits less); a number >= 0.
    schema : LabelSchema, optional
        The project's label schema: a new store gets a column for each of its attributes
        (`attribute_columns`; the default schema's when omitted). An existing store keeps the
        columns it was made with; every attribute is in the ``attributes`` JSON in any case.

    Returns
    -------
    AnnotationStore

    Raises
    ------
    StoreError
        The file is not a store, belongs to another project, was written by a newer format
        version, or cannot be opened.
    StoreLockedError
        Another program held the store locked for longer than ``lock_timeout``.
    ValueError
        ``lock_timeout`` is negative or not a finite number.
    """
    return AnnotationStore(
        path,
        project=project,
        author=author,
        create=create,
        readonly=readonly,
        lock_timeout=lock_timeout,
        schema=schema,
    )


class AnnotationStore:
    """A project's boxes, tiles and edit history in one GeoPackage; see `open_store`.

    Every edit method runs one transaction: the row change and its history row are written
    together or not at all. Boxes read from the store carry their ``revision``; `update` and
    `delete` refuse (`StoreConflictError`) to overwrite a box that another edit changed since
    it was read. An edit that finds the store locked by another program for longer than
    `lock_timeout` raises `StoreLockedError` and writes nothing.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        project: str | None = None,
        author: str | None = None,
        create: bool = True,
        readonly: bool = False,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
        schema: LabelSchema | None = None,
    ) -> None:
        self._lock_timeout = check_lock_timeout(lock_timeout)
        self.path = Path(path)
        self.author = author
        self.readonly = readonly
        self._georefs: dict[tuple, GeoRef] = {}
        self._touched: set[str] = set()
        self._lock = threading.RLock()
        self._attribute_columns: tuple[str, ...] = ()
        is_new_file = not self.path.exists()
        self._con = connect(
            self.path, readonly=readonly, create=create, lock_timeout=self._lock_timeout
        )
        try:
            self.project = self._check_or_init(project, schema)
        except BaseException as exc:
            typed = self._error(exc) if isinstance(exc, sqlite3.Error | DamagedRowError) else exc
            # locked: another program holds the file (it may be creating this very store)
            locked = isinstance(typed, StoreLockedError)
            self._close_after_failed_open(remove_file=is_new_file and not locked)
            if typed is not exc:
                raise typed from exc
            raise

    # -- opening -------------------------------------------------------------------------------

    def _error(self, exc: BaseException) -> BaseException:
        """Return the typed one-line error for a SQLite error or an undecodable row."""
        return store_error(self.path, exc, lock_timeout=self._lock_timeout)

    def _check_or_init(self, project: str | None, schema: LabelSchema | None) -> str:
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
            name = self._initialise(project or self.path.stem, schema or default_schema())
            # GDAL checks the GeoPackage application_id in the file header itself: move the
            # header page out of the WAL now, so the file reads as a GeoPackage at once.
            self.checkpoint()
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
        self._attribute_columns = stored_attribute_columns(con)
        if not self.readonly:
            self._set_pragmas()
        return name

    def _close_after_failed_open(self, *, remove_file: bool) -> None:
        """Close the connection; a file this open created and left without a table goes too.

        A store whose creation failed must leave nothing behind: an empty file named like the
        store would be taken for it next time. A file that has a table (another program made
        the store meanwhile) is kept.
        """
        try:
            empty = self._con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        except sqlite3.Error:
            empty = False
        self._con.close()
        if remove_file and empty:
            for end in ("", "-wal", "-shm", "-journal"):
                self.path.with_name(self.path.name + end).unlink(missing_ok=True)

    def _set_pragmas(self) -> None:
        con = self._con
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal":
            con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = FULL")

    def _initialise(self, project: str, schema: LabelSchema) -> str:
        from imagery_tool import __version__

        with self._transaction() as con:
            # Another process may have created the store between our check and the lock.
            exists = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='store_meta'"
            ).fetchone()
            if exists:
                self._attribute_columns = stored_attribute_columns(con)
                return self._meta().get("project", "")
            columns = attribute_columns(schema)
            create_layout(
                con, project=project, columns=columns, generator=f"imagery-tool {__version__}"
            )
            self._attribute_columns = tuple(columns)
        return project

    def _meta(self) -> dict[str, str]:
        return dict(self._con.execute("SELECT key, value FROM store_meta").fetchall())

    # -- settings ------------------------------------------------------------------------------

    @property
    def lock_timeout(self) -> float:
        """Seconds an edit waits for another program's lock before `StoreLockedError`."""
        return self._lock_timeout

    @lock_timeout.setter
    @_locked
    def lock_timeout(self, seconds: float) -> None:
        seconds = check_lock_timeout(seconds)
        set_lock_timeout(self._con, seconds)
        self._lock_timeout = seconds

    @property
    def attribute_columns(self) -> tuple[str, ...]:
        """The attributes that have a column of their own in the ``annotations`` table.

        The label schema's attributes when the store was made (`open_store`); every attribute
        is in the ``attributes`` JSON column as well.
        """
        return self._attribute_columns

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

    @_locked
    def checkpoint(self) -> None:
        """Move the committed edits from the write-ahead log (``-wal``) into the file itself."""
        self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

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
                f"SELECT {READ_COLUMNS} FROM annotations WHERE tile = ?", (record.name,)
            ).fetchall()
            georef = self._georef(record)
            for row in rows:
                values = box_values(box_from_row(row), georef, attribute_columns=())
                con.execute(
                    "UPDATE annotations SET geom=?, angle_deg=?, length_m=?, width_m=? "
                    "WHERE uuid=?",
                    (values["geom"], values["angle_deg"], values["length_m"], values["width_m"],
                     values["uuid"]),
                )  # fmt: skip
        return record

    @_locked
    def tile(self, name: str) -> TileRecord | None:
        """Return the registered tile called ``name``, or ``None``."""
        row = self._con.execute(
            f"SELECT {TILE_COLUMNS} FROM tiles WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else tile_from_row(row)

    @_locked
    def tiles(self) -> list[TileRecord]:
        """Return every registered tile, by name."""
        rows = self._con.execute(f"SELECT {TILE_COLUMNS} FROM tiles ORDER BY name").fetchall()
        return [tile_from_row(r) for r in rows]

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
            f"SELECT {READ_COLUMNS} FROM annotations WHERE uuid = ?", (annotation_id,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no annotation {annotation_id!r} in {self.path}")
        return box_from_row(row)

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
        sql = f"SELECT {READ_COLUMNS} FROM annotations"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._con.execute(sql + " ORDER BY fid", args).fetchall()
        return [box_from_row(r) for r in rows]

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
        batch = log.new_batch()
        added = []
        with self._transaction():
            for a in annotations:
                if self._revision(a.id) is not None:
                    raise StoreError(
                        f"{self.path}: annotation {a.id} is already stored (or given twice); "
                        "give the new box another id, or edit the stored one"
                    )
                a = with_defaults(a, self.author, self._tile_row(a.tile))
                a = a.replace(revision=1, modified=a.modified)
                self._insert(a)
                self._log(batch, "add", a.id, None, a)
                added.append(a)
                counter.step()
            log.drop_redo(self._con, self.author)
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
            When the box was never stored.
        StoreConflictError
            When the stored box changed since ``expected_revision``, or another edit deleted it.
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
        batch = log.new_batch()
        out = []
        with self._transaction():
            for a, want in zip(annotations, expected, strict=True):
                want = want if want is not None else (a.revision or None)
                before = self._stored_for_edit(a.id, want)
                if want is not None and before.revision != want:
                    raise StoreConflictError(self._conflict_message(a.id, want, before.revision))
                new = with_defaults(a, None, self._tile_row(a.tile)).replace(
                    revision=before.revision + 1
                )
                self._replace(new)
                self._log(batch, "update", a.id, before, new)
                out.append(new)
            log.drop_redo(self._con, self.author)
        return out

    def delete(self, annotation_id: str, *, expected_revision: int | None = None) -> None:
        """Delete a stored box (one transaction); see `update` for ``expected_revision``."""
        batch = log.new_batch()
        with self._transaction() as con:
            before = self._stored_for_edit(annotation_id, expected_revision)
            if expected_revision is not None and before.revision != expected_revision:
                raise StoreConflictError(
                    self._conflict_message(annotation_id, expected_revision, before.revision)
                )
            con.execute("DELETE FROM annotations WHERE uuid = ?", (annotation_id,))
            self._log(batch, "delete", annotation_id, before, None)
            log.drop_redo(con, self.author)

    def write_salvaged(
        self,
        *,
        tiles: Sequence[TileRecord],
        boxes: Sequence[BoxAnnotation],
        history: Sequence[tuple],
        meta: dict[str, str],
    ) -> None:
        """Write what a repair salvaged into this (fresh) store as it was: one transaction.

        Boxes keep their revisions and history rows their ids and states; nothing is logged.
        A tile, box or history id already present is skipped.

        Parameters
        ----------
        tiles : sequence of TileRecord
        boxes : sequence of BoxAnnotation
        history : sequence of tuple
            Rows of every column of the ``history`` table, in table order.
        meta : dict of str to str
            ``store_meta`` entries to set.
        """
        with self._transaction() as con:
            self._touched.update(("annotations", "tiles", "history", "store_meta"))
            con.executemany(
                f"INSERT OR IGNORE INTO tiles ({TILE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.name, r.height, r.width, json.dumps(list(r.transform)), r.crs_wkt, r.path,
                  r.acquired) for r in tiles],
            )  # fmt: skip
            seen = set()
            for box in boxes:
                if box.id not in seen:
                    seen.add(box.id)
                    self._insert(box)
            marks = ", ".join("?" * len(HISTORY_COLUMNS.split(",")))
            con.executemany(
                f"INSERT OR IGNORE INTO history ({HISTORY_COLUMNS}) VALUES ({marks})", history
            )
            con.executemany(
                "INSERT INTO store_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                list(meta.items()),
            )

    # -- history, undo, redo -------------------------------------------------------------------

    @_locked
    def history(
        self, *, annotation_id: str | None = None, limit: int | None = None
    ) -> list[HistoryEntry]:
        """Return edits, newest first: who changed what and when."""
        return log.read_history(self._con, "annotation", annotation_id, limit=limit)

    @_locked
    def can_undo(self) -> bool:
        """Whether this session's author has an edit to undo."""
        return log.last_batch(self._con, "done", self.author) is not None

    @_locked
    def can_redo(self) -> bool:
        """Whether this session's author has an undone edit to redo."""
        return log.last_batch(self._con, "undone", self.author) is not None

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
            batch = log.last_batch(con, "done", self.author)
            if batch is None:
                return []
            seq = con.execute("SELECT coalesce(max(undo_seq), 0) + 1 FROM history").fetchone()[0]
            now = utc_now()
            for entry_id, annotation_id, before, after in log.batch_entries(
                con, batch, descending=True
            ):
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
            batch = log.last_batch(con, "undone", self.author)
            if batch is None:
                return []
            for entry_id, annotation_id, before, after in log.batch_entries(
                con, batch, descending=False
            ):
                self._apply(annotation_id, remove=before, write=after, undo=False)
                con.execute(
                    "UPDATE history SET state='done', undone_at=NULL, undone_by=NULL, "
                    "undo_seq=NULL WHERE id=?",
                    (entry_id,),
                )
        return self._entries(batch)

    @_locked
    def _entries(self, batch: str) -> list[HistoryEntry]:
        return log.read_history(self._con, "batch", batch)

    def _apply(
        self, annotation_id: str, *, remove: str | None, write: str | None, undo: bool
    ) -> None:
        """Replace state ``remove`` of a box by state ``write`` (JSON; ``None``: no row)."""
        self._touched.update(("annotations", "history"))
        current = self._revision(annotation_id)
        if remove is not None:
            expected = decode_json(remove, f"history of box {annotation_id}").get("revision")
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
            box = BoxAnnotation.from_dict(decode_json(write, f"history of box {annotation_id}"))
        except (TypeError, ValueError, AttributeError) as exc:
            raise DamagedRowError(f"history of box {annotation_id}: {exc}") from exc
        if current is None:
            self._insert(box)
        else:
            self._replace(box)

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

    def _log(
        self,
        batch: str,
        action: str,
        annotation_id: str,
        before: BoxAnnotation | None,
        after: BoxAnnotation | None,
    ) -> None:
        self._touched.update(("annotations", "history"))
        log.log_edit(
            self._con, batch=batch, author=self.author, action=action,
            annotation_id=annotation_id, before=before, after=after,
        )  # fmt: skip

    # -- rows ----------------------------------------------------------------------------------

    def _revision(self, annotation_id: str) -> int | None:
        row = self._con.execute(
            "SELECT revision FROM annotations WHERE uuid = ?", (annotation_id,)
        ).fetchone()
        return None if row is None else row[0]

    def _stored_for_edit(self, annotation_id: str, expected: int | None) -> BoxAnnotation:
        """Return the stored box an edit is about to change, inside the edit's transaction.

        Raises
        ------
        StoreConflictError
            When another edit deleted the box (its history says so).
        KeyError
            When the box was never stored.
        """
        row = self._con.execute(
            f"SELECT {READ_COLUMNS} FROM annotations WHERE uuid = ?", (annotation_id,)
        ).fetchone()
        if row is not None:
            return box_from_row(row)
        if log.has_history(self._con, annotation_id):
            raise StoreConflictError(self._conflict_message(annotation_id, expected, None))
        raise KeyError(f"no annotation {annotation_id!r} in {self.path}")

    def _tile_row(self, name: str | None) -> TileRecord | None:
        return None if name is None else self.tile(name)

    def _georef(self, record: TileRecord | None) -> GeoRef | None:
        """Return the georeference of a registered tile (cached), ``None`` without one."""
        if record is None or not record.crs_wkt:
            return None
        key = (record.height, record.width, record.transform, record.crs_wkt)
        georef = self._georefs.get(key)
        if georef is None:
            georef = self._georefs[key] = record.georef
        return georef

    def _values(self, box: BoxAnnotation) -> dict[str, Any]:
        georef = self._georef(self._tile_row(box.tile))
        return box_values(box, georef, attribute_columns=self._attribute_columns)

    def _columns(self) -> list[str]:
        return [*ANNOTATION_COLUMNS, *self._attribute_columns]

    def _insert(self, box: BoxAnnotation) -> None:
        values = self._values(box)
        columns = self._columns()
        self._con.execute(
            f"INSERT INTO annotations ({', '.join(map(quote, columns))}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            [values[c] for c in columns],
        )

    def _replace(self, box: BoxAnnotation) -> None:
        values = self._values(box)
        columns = [c for c in self._columns() if c != "uuid"]
        self._con.execute(
            f"UPDATE annotations SET {', '.join(f'{quote(c)} = ?' for c in columns)} "
            "WHERE uuid = ?",
            [*(values[c] for c in columns), box.id],
        )
