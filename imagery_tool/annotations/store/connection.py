"""Opening a store's file: checks before SQLite sees it, the connection, SQLite errors typed."""

from __future__ import annotations

import math
import os
import sqlite3
import stat
from pathlib import Path

from imagery_tool.annotations.store.rows import DamagedRowError
from imagery_tool.errors import (
    OutputWriteError,
    StoreDamagedError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
)

__all__ = [
    "DEFAULT_LOCK_TIMEOUT_S",
    "MAX_LOCK_TIMEOUT_S",
    "check_lock_timeout",
    "check_writable",
    "connect",
    "set_lock_timeout",
    "sqlite_uri",
    "store_error",
]

# How long an edit waits for another program's transaction to end before `StoreLockedError`.
DEFAULT_LOCK_TIMEOUT_S = 60.0
# The longest wait SQLite takes: ``busy_timeout`` is a 32-bit count of milliseconds (24.8 days).
MAX_LOCK_TIMEOUT_S = (2**31 - 1) / 1000
# SQLite's names for a write the file system refused: a full disk, a quota or ``ulimit -f`` (EFBIG
# reaches SQLite as a failed write, not as SQLITE_FULL).
_WRITE_ERRORS = {"SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC", "SQLITE_IOERR_TRUNCATE",
                 "SQLITE_IOERR_SHMSIZE", "SQLITE_IOERR_DIR_FSYNC"}  # fmt: skip


def connect(path: Path, *, readonly: bool, create: bool, lock_timeout: float) -> sqlite3.Connection:
    """Open the SQLite connection of a store, after checking the file is one (or can be made).

    Parameters
    ----------
    path : Path
        The store.
    readonly : bool
        Read only: nothing is created or changed (see `sqlite_uri`).
    create : bool
        A missing file may be created.
    lock_timeout : float
        Seconds a statement waits for another program's lock.

    Returns
    -------
    sqlite3.Connection
        In autocommit mode (the store opens its own transactions), shareable between threads
        (the store serialises its use).

    Raises
    ------
    StoreError
        A folder, a file that is no SQLite file, a missing file or folder, an unreadable file.
    StoreReadOnlyError
        Opening for writing a file or folder that cannot be written.
    """
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
    elif info is None and (readonly or not create):
        raise StoreError(f"{path}: no such store; check the path or create it with import")
    if info is None and not path.parent.exists():
        raise StoreError(f"{path}: the folder {path.parent} does not exist; create it first")
    if not readonly:
        check_writable(path, exists=info is not None)
    try:
        con = sqlite3.connect(
            sqlite_uri(path, readonly=readonly),
            uri=True,
            timeout=lock_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        set_lock_timeout(con, lock_timeout)
    except sqlite3.Error as exc:
        raise store_error(path, exc, lock_timeout=lock_timeout) from exc
    return con


def check_lock_timeout(seconds: float) -> float:
    """Return ``seconds`` as a float, at most `MAX_LOCK_TIMEOUT_S`.

    A longer wait is SQLite's longest: beyond it ``busy_timeout`` would overflow and wait not
    at all.

    Raises
    ------
    ValueError
        Unless ``seconds`` is a finite number >= 0.
    """
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"lock_timeout must be a number of seconds >= 0; got {seconds!r}")
    return min(value, MAX_LOCK_TIMEOUT_S)


def set_lock_timeout(con: sqlite3.Connection, seconds: float) -> None:
    """Make SQLite wait up to ``seconds`` for another program's lock (``PRAGMA busy_timeout``).

    ``seconds`` as `check_lock_timeout` returns it.
    """
    con.execute(f"PRAGMA busy_timeout = {round(seconds * 1000)}")


def store_error(path: Path, exc: BaseException, *, lock_timeout: float) -> BaseException:
    """Return the typed one-line error for a SQLite error or an undecodable row of a store.

    Errors that do not come from the file (a bug such as bad SQL) are returned as they are.

    Parameters
    ----------
    path : Path
        The store, named in the message.
    exc : BaseException
        What SQLite (or a row decoder) raised.
    lock_timeout : float
        The connection's lock timeout, named when the store stayed locked.

    Returns
    -------
    BaseException
        `StoreLockedError`, `StoreReadOnlyError`, `StoreDamagedError`, `OutputWriteError`,
        `StoreError`, or ``exc`` itself.
    """
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
        return StoreLockedError(
            f"{path}: the store stayed locked by another process for {lock_timeout:g} s "
            f"({text}); close the other program and retry"
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
