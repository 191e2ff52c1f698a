"""Find the damage in an annotation store, and salvage what can be read into a fresh store.

`check_store` names every problem: missing tables or columns, an unusable ``format_version``,
pages SQLite cannot read, rows whose values do not decode. `repair_store` copies everything
readable into a new store, restores the boxes whose rows are lost from their edit history (the
state each box had after its last edit), puts the new store in place and keeps the damaged file
beside it as ``NAME.damaged-TIMESTAMP.gpkg``. Nothing is deleted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imagery_tool.annotations.model import BoxAnnotation, utc_now
from imagery_tool.annotations.schema import AttributeDef, LabelSchema, default_schema
from imagery_tool.annotations.store import (
    StoreDamagedError,
    StoreError,
    TileRecord,
    check_writable,
    integrity_problem,
    open_store,
    sqlite_uri,
    structure_problems,
)
from imagery_tool.annotations.store.history import history_from_row
from imagery_tool.annotations.store.layout import (
    HISTORY_COLUMNS,
    READ_COLUMNS,
    SQL_TYPES,
    TILE_COLUMNS,
    stored_attribute_columns,
)
from imagery_tool.annotations.store.rows import (
    DamagedRowError,
    box_from_row,
    decode_json,
    tile_from_row,
)

__all__ = ["RepairReport", "check_store", "repair_store"]


@dataclass
class _Salvage:
    """What could be read of a store, and what could not."""

    meta: dict[str, Any] = field(default_factory=dict)
    boxes: list[BoxAnnotation] = field(default_factory=list)
    tiles: list[TileRecord] = field(default_factory=list)
    history: list[tuple] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # boxes rebuilt from their history
    # the attribute columns of ``annotations``, name -> SQL type; None: unreadable (the defaults)
    columns: dict[str, str] | None = None


@dataclass(frozen=True)
class RepairReport:
    """What `repair_store` did.

    Attributes
    ----------
    path : Path
        The store (now the fresh one).
    backup : Path or None
        The damaged file, kept; ``None`` when there was nothing to repair.
    problems : tuple of str
        The damage found.
    boxes, tiles, history : int
        How many boxes, tiles and history entries the fresh store holds.
    restored : tuple of str
        Ids of the boxes whose rows were lost and that were rebuilt from their history.
    """

    path: Path
    backup: Path | None
    problems: tuple[str, ...]
    boxes: int = 0
    tiles: int = 0
    history: int = 0
    restored: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """Describe the repair for a person, one line each."""
        if self.backup is None:
            return [f"{self.path}: no damage found, nothing to repair"]
        out = [f"{self.path}: damaged: {p}" for p in self.problems]
        out += [f"{self.path}: box {i} rebuilt from its edit history" for i in self.restored]
        out.append(
            f"{self.path}: repaired: {self.boxes} box(es), {self.tiles} tile(s) and "
            f"{self.history} history entries salvaged into a fresh store; the damaged file is "
            f"kept as {self.backup}"
        )
        return out


def check_store(path: str | Path) -> list[str]:
    """Look for damage in a store: its layout, SQLite's integrity check, every row.

    Parameters
    ----------
    path : str or Path
        The store; it is only read.

    Returns
    -------
    list of str
        One phrase per problem (``"table history is missing"``, ``"box 3f2a...: attributes is
        not valid JSON (...)"``); empty for a sound store.

    Raises
    ------
    StoreError
        The file is no store at all, cannot be read or is locked (as `open_store` says).
    """
    path = Path(path)
    _open_or_damaged(path)
    with _reader(path) as con:
        return _salvage(con).problems


def repair_store(path: str | Path) -> RepairReport:
    """Salvage what can be read of a damaged store into a fresh store at the same path.

    The damaged file is kept beside it as ``NAME.damaged-TIMESTAMP.SUFFIX`` (hard link to the
    very same bytes); a sound store is left as it is. Boxes whose rows cannot be read are
    rebuilt from the last edit of their history; history entries, tiles and metadata are
    copied when readable.

    Parameters
    ----------
    path : str or Path
        The store. No other program may have it open.

    Returns
    -------
    RepairReport

    Raises
    ------
    StoreReadOnlyError
        The store or its folder cannot be written.
    StoreError
        Another program has the store open, or it is no store at all.
    """
    path = Path(path)
    _open_or_damaged(path)
    with _reader(path) as con:
        if not _salvage(con).problems:
            return RepairReport(path, None, ())
    check_writable(path, exists=True)
    _fold_write_ahead_log(path)
    with _reader(path) as con:
        salvage = _salvage(con)
    if not (salvage.boxes or salvage.tiles or salvage.history):
        raise StoreDamagedError(
            path,
            f"{salvage.problems[0]}, and nothing in it can be salvaged; the file was left as it "
            "is: restore it from a backup",
        )
    backup = _backup_name(path)
    tmp = path.with_name(f".{path.name}.repair-{os.getpid()}{path.suffix}")
    project = salvage.meta.get("project") or path.stem
    try:
        _write_fresh(tmp, salvage, project=project, backup=backup)
        os.link(path, backup)  # the damaged bytes stay, under a new name, before the swap
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, *(tmp.with_name(tmp.name + end) for end in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    return RepairReport(
        path,
        backup,
        tuple(salvage.problems),
        len(salvage.boxes),
        len(salvage.tiles),
        len(salvage.history),
        tuple(salvage.restored),
    )


# -- reading -------------------------------------------------------------------------------------


def _open_or_damaged(path: Path) -> None:
    """Raise what `open_store` raises for a file that is no readable store; damage is fine."""
    with contextlib.suppress(StoreDamagedError):
        open_store(path, readonly=True).close()


class _reader:
    """A read-only connection that leaves nothing beside the store (see `sqlite_uri`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        self.con = sqlite3.connect(sqlite_uri(self.path, readonly=True), uri=True)
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()


def _salvage(con: sqlite3.Connection) -> _Salvage:
    out = _Salvage()
    try:
        out.problems += structure_problems(con)
    except sqlite3.DatabaseError as exc:
        out.problems.append(f"its tables cannot be listed ({exc})")
        return out
    damage = integrity_problem(con)
    if damage:
        out.problems.append(damage)
    present = {
        r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }  # listed by structure_problems already, so this query works
    if "store_meta" in present:
        rows = _rows(con, "store_meta", "key, value", "id", out.problems)
        out.meta = dict(rows)
    if "tiles" in present:
        out.tiles = _decoded(_rows(con, "tiles", TILE_COLUMNS, "id", out.problems),
                             tile_from_row, out.problems)  # fmt: skip
    if "history" in present:
        rows = _rows(con, "history", HISTORY_COLUMNS, "id", out.problems)
        kept = _decoded(rows, lambda r: (r, history_from_row(r)), out.problems)
        out.history = [r for r, _ in kept]
    if "annotations" in present:
        out.columns = _attribute_column_types(con)
        out.boxes = _decoded(_rows(con, "annotations", READ_COLUMNS, "fid", out.problems),
                             box_from_row, out.problems)  # fmt: skip
    _restore_from_history(out)
    return out


def _attribute_column_types(con: sqlite3.Connection) -> dict[str, str] | None:
    """Return the attribute columns with their SQL types; ``None`` when they cannot be read."""
    try:
        names = stored_attribute_columns(con)
        types = {r[1]: r[2] for r in con.execute('PRAGMA table_info("annotations")')}
    except sqlite3.DatabaseError:
        return None
    return {name: types[name] for name in names}


def _rows(con: sqlite3.Connection, table: str, columns: str, key: str, problems: list[str]):
    """Every readable row of ``table`` in ``key`` order; row by row around unreadable pages."""
    present = {r[1] for r in con.execute(f'PRAGMA table_info("{table}")')}
    wanted = [c.strip() for c in columns.split(",")]
    select = ", ".join(c if c in present else "NULL" for c in wanted)
    try:
        return con.execute(f'SELECT {select} FROM "{table}" ORDER BY {key}').fetchall()
    except sqlite3.DatabaseError as exc:
        first = exc
    try:
        last = con.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        last = last[0] if last else None
    except sqlite3.DatabaseError:
        last = None
    rows, unreadable = [], 0
    for n in range(1, (last or 0) + 1):
        try:
            rows += con.execute(f'SELECT {select} FROM "{table}" WHERE {key} = ?', (n,)).fetchall()
        except sqlite3.DatabaseError:
            unreadable += 1
    if last is None:
        problems.append(f"table {table} cannot be read ({first})")
    else:
        problems.append(f"{unreadable} row(s) of table {table} cannot be read ({first})")
    return rows


def _decoded(rows, decode: Callable[[tuple], Any], problems: list[str]) -> list:
    out = []
    for row in rows:
        try:
            out.append(decode(row))
        except DamagedRowError as exc:
            problems.append(str(exc))
    return out


def _restore_from_history(salvage: _Salvage) -> None:
    """Rebuild boxes whose rows are lost: each box's state after its last edit still in force.

    Undone and dropped edits were reverted, so a box's current state is the ``after`` of its
    most recent ``done`` entry (``None``: deleted).
    """
    have = {b.id for b in salvage.boxes}
    last: dict[str, str | None] = {}
    for row in sorted(salvage.history, key=lambda r: r[0]):
        if row[8] == "done":
            last[row[4]] = row[6]
    for box_id, after in last.items():
        if box_id in have or after is None:
            continue
        try:
            box = BoxAnnotation.from_dict(decode_json(after, f"history of box {box_id}"))
        except (TypeError, ValueError, AttributeError) as exc:
            salvage.problems.append(f"box {box_id} is lost: its history does not decode ({exc})")
            continue
        salvage.boxes.append(box)
        salvage.restored.append(box_id)


# -- writing -------------------------------------------------------------------------------------


def _fold_write_ahead_log(path: Path) -> None:
    """Move committed edits still in ``-wal`` into the file; refuse while others have it open."""
    wal = path.with_name(path.name + "-wal")
    if not wal.exists():
        return
    con = sqlite3.connect(path, timeout=1.0)
    try:
        busy = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.DatabaseError:
        busy = 1
    finally:
        con.close()
    if busy or wal.exists():
        raise StoreError(
            f"{path}: another program has the store open (or its write-ahead log {wal.name} "
            "cannot be folded in); close every program using it and retry the repair"
        )


def _backup_name(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        tail = "" if n == 1 else f"-{n}"
        candidate = path.with_name(f"{path.stem}.damaged-{stamp}{tail}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise StoreError(f"{path}: too many backups named {path.stem}.damaged-*; move some away")


def _schema_with_columns(columns: dict[str, str] | None) -> LabelSchema:
    """Return a label schema that gives a new store these attribute columns (name -> SQL type).

    The default schema's when ``None``; a column of a type imagery-tool does not write (one
    someone declared by hand) becomes text.
    """
    schema = default_schema()
    if columns is None:
        return schema
    kinds = {sql: kind for kind, sql in SQL_TYPES.items() if kind != "enum"}
    attributes = {n: AttributeDef(n, kinds.get(t.upper(), "text")) for n, t in columns.items()}
    return dataclasses.replace(schema, attributes=attributes)


def _write_fresh(tmp: Path, salvage: _Salvage, *, project: str, backup: Path) -> None:
    """Make the fresh store at ``tmp``, with the damaged store's attribute columns."""
    store = open_store(tmp, project=project, schema=_schema_with_columns(salvage.columns))
    try:
        meta = {k: v for k, v in salvage.meta.items() if k in ("created",) and v is not None}
        meta["repaired"] = f"{utc_now()} from {backup.name}"
        store.write_salvaged(
            tiles=salvage.tiles, boxes=salvage.boxes, history=salvage.history, meta=meta
        )
        store.checkpoint()
    finally:
        store.close()
