"""The store's edit history: entries, and the queries behind undo and redo."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from imagery_tool.annotations.model import BoxAnnotation, utc_now
from imagery_tool.annotations.store.layout import HISTORY_COLUMNS
from imagery_tool.annotations.store.rows import DamagedRowError, decode_json

__all__ = [
    "HistoryEntry",
    "batch_entries",
    "drop_redo",
    "has_history",
    "history_from_row",
    "last_batch",
    "log_edit",
    "new_batch",
    "read_history",
]


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


def history_from_row(row: Sequence[Any]) -> HistoryEntry:
    """Decode a row of `HISTORY_COLUMNS`; `DamagedRowError` naming the entry when it does not.

    The undo order (``undo_seq``, the last column) is the store's own: no field of the entry.
    """
    try:
        before = None if row[5] is None else decode_json(row[5], "before")
        after = None if row[6] is None else decode_json(row[6], "after")
    except DamagedRowError as exc:
        raise DamagedRowError(f"history entry {row[0]}: {exc}") from exc
    return HistoryEntry(*row[:5], before, after, *row[7:11])


def new_batch() -> str:
    """Return a new batch id: the edits of one call share it, and are undone together."""
    return str(uuid.uuid4())


def read_history(
    con: sqlite3.Connection, column: str, value: str | None, *, limit: int | None = None
) -> list[HistoryEntry]:
    """Return the entries whose ``column`` (``"annotation"`` or ``"batch"``) is ``value``.

    Newest first; every entry when ``value`` is ``None``, at most ``limit``.
    """
    if column not in ("annotation", "batch"):
        raise ValueError(f"history is looked up by annotation or batch, not {column!r}")
    sql = f"SELECT {HISTORY_COLUMNS} FROM history"
    args: list[Any] = []
    if value is not None:
        sql += f" WHERE {column} = ?"
        args.append(value)
    sql += " ORDER BY id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [history_from_row(r) for r in con.execute(sql, args)]


def has_history(con: sqlite3.Connection, annotation_id: str) -> bool:
    """Whether any edit of box ``annotation_id`` is in the history (it was stored once)."""
    row = con.execute("SELECT 1 FROM history WHERE annotation = ? LIMIT 1", (annotation_id,))
    return row.fetchone() is not None


def last_batch(con: sqlite3.Connection, state: str, author: str | None) -> str | None:
    """Return the batch to undo (``state="done"``) or redo (``"undone"``) for ``author``.

    The most recent done batch, or the most recently undone one; any author's when ``author``
    is ``None``.
    """
    order = "id" if state == "done" else "undo_seq"
    sql = "SELECT batch FROM history WHERE state = ?"
    args: list[Any] = [state]
    if author is not None:
        sql += " AND who = ?"
        args.append(author)
    row = con.execute(sql + f" ORDER BY {order} DESC, id DESC LIMIT 1", args).fetchone()
    return None if row is None else row[0]


def batch_entries(con: sqlite3.Connection, batch: str, *, descending: bool) -> list[tuple]:
    """Return ``(id, annotation, before, after)`` of a batch's entries (JSON as stored)."""
    order = "DESC" if descending else "ASC"
    return con.execute(
        f"SELECT id, annotation, before, after FROM history WHERE batch = ? ORDER BY id {order}",
        (batch,),
    ).fetchall()


def drop_redo(con: sqlite3.Connection, author: str | None) -> None:
    """Mark ``author``'s undone edits ``dropped``: a new edit ends what can be redone."""
    sql = "UPDATE history SET state = 'dropped' WHERE state = 'undone'"
    args: list[Any] = []
    if author is not None:
        sql += " AND who = ?"
        args.append(author)
    con.execute(sql, args)


def log_edit(
    con: sqlite3.Connection,
    *,
    batch: str,
    author: str | None,
    action: str,
    annotation_id: str,
    before: BoxAnnotation | None,
    after: BoxAnnotation | None,
) -> None:
    """Write the history entry of one edit, inside the edit's transaction."""
    con.execute(
        "INSERT INTO history (at, who, action, annotation, before, after, batch) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            utc_now(),
            author,
            action,
            annotation_id,
            None if before is None else json.dumps(before.to_dict()),
            None if after is None else json.dumps(after.to_dict()),
            batch,
        ),
    )
