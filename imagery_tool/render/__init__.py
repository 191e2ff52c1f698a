"""Reviewer PNGs: annotated tiles, before/after sheets and object chips, drawn headless."""

from imagery_tool.render.api import (
    PanelInfo,
    Rendering,
    encode_png,
    load_annotations,
    render,
    render_tile,
    write_png,
)
from imagery_tool.render.layout import Frame, Region
from imagery_tool.render.marks import Mark, read_changes

__all__ = [
    "Frame",
    "Mark",
    "PanelInfo",
    "Region",
    "Rendering",
    "encode_png",
    "load_annotations",
    "read_changes",
    "render",
    "render_tile",
    "write_png",
]
