"""Box annotations: model, label schema, aircraft size check, GeoPackage store and file formats."""

from imagery_tool.annotations.formats import FORMATS, read_annotations, write_annotations
from imagery_tool.annotations.model import REVIEW_STATUSES, SOURCES, BoxAnnotation, utc_now
from imagery_tool.annotations.schema import LabelSchema, SchemaIssue, default_schema, load_schema
from imagery_tool.annotations.sizecheck import SizeCandidate, SizeReport, check_size
from imagery_tool.annotations.store import (
    AnnotationStore,
    HistoryEntry,
    StoreConflictError,
    TileRecord,
    open_store,
)

__all__ = [
    "FORMATS",
    "REVIEW_STATUSES",
    "SOURCES",
    "AnnotationStore",
    "BoxAnnotation",
    "HistoryEntry",
    "LabelSchema",
    "SchemaIssue",
    "SizeCandidate",
    "SizeReport",
    "StoreConflictError",
    "TileRecord",
    "check_size",
    "default_schema",
    "load_schema",
    "open_store",
    "read_annotations",
    "utc_now",
    "write_annotations",
]
