"""The annotation store: one GeoPackage per project, transactional edits, undo/redo history.

The file is a plain GeoPackage (SQLite) that GDAL and QGIS open as is: the ``annotations``
layer holds each box as a lon/lat polygon (EPSG:4326) with its class, attributes (all of them
as JSON, and each attribute of the project's label schema in a column of its own), pixel
corners and review fields as columns; ``tiles``, ``history`` and ``store_meta`` are attribute
tables. It is written with Python's ``sqlite3`` so that every edit is one ``BEGIN IMMEDIATE``
transaction together with its history row, in WAL mode with ``synchronous=FULL``: an edit is
on disk when the call returns, a process killed at any moment loses no committed edit, and
several processes can edit the same store (each waits up to its lock timeout for the others'
transactions, then raises `StoreLockedError`).

Modules: `annotation_store` (`AnnotationStore`, `open_store`), `layout` (tables and checks),
`rows` (`TileRecord`, rows decoded and encoded), `wkb` (geometry blobs), `history` (edit
history and undo queries), `connection` (opening the file, SQLite errors typed). The store's
errors are in `imagery_tool.errors`, and re-exported here.
"""

from imagery_tool.annotations.store.annotation_store import AnnotationStore, open_store
from imagery_tool.annotations.store.connection import (
    DEFAULT_LOCK_TIMEOUT_S,
    check_writable,
    sqlite_uri,
)
from imagery_tool.annotations.store.history import HistoryEntry
from imagery_tool.annotations.store.layout import (
    FORMAT_VERSION,
    attribute_columns,
    integrity_problem,
    structure_problems,
)
from imagery_tool.annotations.store.rows import TileRecord
from imagery_tool.annotations.store.wkb import gpkg_polygon
from imagery_tool.errors import (
    StoreConflictError,
    StoreDamagedError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
)

__all__ = [
    "DEFAULT_LOCK_TIMEOUT_S",
    "FORMAT_VERSION",
    "AnnotationStore",
    "HistoryEntry",
    "StoreConflictError",
    "StoreDamagedError",
    "StoreError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "TileRecord",
    "attribute_columns",
    "check_writable",
    "gpkg_polygon",
    "integrity_problem",
    "open_store",
    "sqlite_uri",
    "structure_problems",
]
