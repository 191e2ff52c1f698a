"""Change detection between two dates: measures, objects, methods, block driver and results."""

from imagery_tool.change.detect import detect_changes
from imagery_tool.change.methods import METHODS, Method
from imagery_tool.change.options import DEFAULT_MIN_SIZE_M, DEFAULT_THRESHOLD, DetectionOptions
from imagery_tool.change.region import ChangeRegion
from imagery_tool.change.result import ChangeResult

__all__ = [
    "DEFAULT_MIN_SIZE_M",
    "DEFAULT_THRESHOLD",
    "METHODS",
    "ChangeRegion",
    "ChangeResult",
    "DetectionOptions",
    "Method",
    "detect_changes",
]
