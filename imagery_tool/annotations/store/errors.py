"""Errors of the annotation store; its root `StoreError` and `StoreLockedError` are in errors.py."""

from __future__ import annotations

from pathlib import Path

from imagery_tool.errors import StoreError

__all__ = ["DamagedRowError", "StoreConflictError", "StoreDamagedError", "StoreReadOnlyError"]


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
