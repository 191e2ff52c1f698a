"""Viewer behaviour for imagery-tool layers: the date on the slider, lon/lat in the status bar."""

from __future__ import annotations

import numpy as np

from napari_imagery_tool._axes import rowcol_to_xy
from napari_imagery_tool._stack import StackInfo

__all__ = ["active_info", "geo_status", "install", "unwrap"]

METADATA_KEY = "imagery_tool"
_INSTALLED = "_imagery_tool_hooks"


def unwrap(viewer):
    """Return the viewer behind napari's public-only proxy that dock widgets receive.

    The session edits one shape at a time through the Shapes layer's own (private) helpers,
    which napari has no public equivalent for; the proxy would warn on each use.
    """
    return getattr(viewer, "__wrapped__", viewer)


def install(viewer) -> None:
    """Connect the date label and the geographic status to ``viewer`` (once per viewer)."""
    viewer = unwrap(viewer)
    if getattr(viewer, _INSTALLED, False):
        _update_date(viewer)
        return
    setattr(viewer, _INSTALLED, True)
    viewer.dims.events.current_step.connect(lambda _e=None: _update_date(viewer))
    viewer.layers.events.inserted.connect(lambda _e=None: _update_date(viewer))
    # napari resets the axis labels from the layers when layers change: put the date back
    viewer.dims.events.axis_labels.connect(lambda _e=None: _update_date(viewer))
    viewer.events.status.connect(lambda _e=None: _augment_status(viewer))
    _update_date(viewer)


def stack_layers(viewer) -> list:
    """Return the image layers made by this plugin, top first."""
    return [layer for layer in viewer.layers[::-1] if info_of(layer) is not None]


def info_of(layer) -> StackInfo | None:
    """Return the `StackInfo` of a layer made by this plugin, else None."""
    info = getattr(layer, "metadata", {}).get(METADATA_KEY)
    return info if isinstance(info, StackInfo) else None


def active_info(viewer) -> tuple[object, StackInfo] | tuple[None, None]:
    """Return the topmost plugin image layer and its info."""
    for layer in stack_layers(viewer):
        return layer, info_of(layer)
    return None, None


def current_date_index(viewer, info: StackInfo) -> int:
    """Return the index of the date the slider shows for ``info``'s layer."""
    if not info.is_stack or viewer.dims.ndim < 3:
        return 0
    return info.date_index([viewer.dims.current_step[0]])


def _update_date(viewer) -> None:
    layer, info = active_info(viewer)
    if info is None or not info.is_stack or viewer.dims.ndim < 3:
        return
    t = current_date_index(viewer, info)
    label = f"{info.dates[t]} ({t + 1}/{len(info.dates)})"
    if viewer.dims.axis_labels[0] != label:
        viewer.dims.set_axis_label(0, label)
    overlay = text_overlay(viewer)
    overlay.visible = True
    overlay.position = "top_left"
    overlay.font_size = 12
    overlay.text = f"{info.dates[t]}  {info.tiles[t].name}"


def camera(viewer):
    """Return the viewer's camera (``viewer.scene.camera`` from napari 0.9)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None and hasattr(scene, "camera") else viewer.camera


def text_overlay(viewer):
    """Return the viewer's text overlay (``viewer.canvas.overlays.text`` from napari 0.9)."""
    canvas = getattr(viewer, "canvas", None)
    overlays = getattr(canvas, "overlays", None)
    if overlays is not None and hasattr(overlays, "text"):
        return overlays.text
    return viewer.text_overlay


def geo_status(info: StackInfo, position) -> str:
    """Describe a napari data point: pixel ``x, y``, lon/lat, and the date.

    Parameters
    ----------
    info : StackInfo
        The layer's info.
    position : sequence of float
        napari data coordinates (date, row, col) or (row, col).

    Returns
    -------
    str
        E.g. ``"x 1024.5 y 880.0 px | 35.94912 E 35.40107 N | 2024-12-13"``; in pixel mode
        the lon/lat part says ``no georeference``.
    """
    x, y = rowcol_to_xy(np.asarray(position, dtype=float)[None])[0]
    parts = [f"x {x:.1f} y {y:.1f} px"]
    if info.georeferenced:
        lon, lat = info.georef.pixel_to_lonlat(x, y)
        east, north = "E" if lon >= 0 else "W", "N" if lat >= 0 else "S"
        parts.append(f"{abs(lon):.5f} {east} {abs(lat):.5f} {north}")
    else:
        parts.append("no georeference (pixel mode)")
    if info.is_stack:
        parts.append(info.dates[info.date_index(position)])
    return " | ".join(parts)


def _augment_status(viewer) -> None:
    status = viewer.status
    if not isinstance(status, dict) or status.get("_imagery_tool"):
        return
    layer, info = active_info(viewer)
    if info is None:
        return
    position = layer.world_to_data(viewer.cursor.position)
    text = geo_status(info, position)
    new = dict(status)
    new["_imagery_tool"] = "1"
    new["coordinates"] = f"{status.get('coordinates', '')}   {text}"
    viewer.status = new
