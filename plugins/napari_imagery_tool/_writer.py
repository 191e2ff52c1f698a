"""napari writer: Shapes layers saved as GeoJSON (lon/lat) or a GeoPackage store, with features."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imagery_tool.annotations import BoxAnnotation, LabelSchema
from imagery_tool.annotations.store import TileRecord
from napari_imagery_tool._axes import rowcol_to_xy
from napari_imagery_tool._notify import notify

__all__ = ["layer_boxes", "write_boxes"]


def write_boxes(path: str, layer_data: list[tuple]) -> list[str]:
    """Write Shapes layers to ``.geojson`` (RFC 7946, lon/lat) or ``.gpkg`` (a new store).

    Boxes of an imagery-tool annotation layer are written as stored (class, attributes,
    review, tile); other Shapes layers drawn over an imagery-tool image are written as boxes of
    class ``"unknown fixed-wing"`` with their features as attributes. A new store gets the
    attribute columns of the annotation session's label schema (the default schema's without
    a session).

    Returns
    -------
    list of str
        The written path, or an empty list (with a notification) when nothing could be written.
    """
    from imagery_tool.errors import ImageryToolError

    out = Path(path)
    boxes, tiles = [], {}
    for data, attributes, _kind in layer_data:
        found, records = layer_boxes(data, attributes)
        boxes += found
        tiles.update(records)
    if not boxes:
        notify(f"{out}: nothing to write (no box with a known tile grid)", "warning")
        return []
    try:
        if out.suffix.lower() == ".gpkg":
            from imagery_tool.annotations import open_store

            if out.exists():
                raise ImageryToolError(
                    f"{out}: exists; the writer makes a new store, choose a new name"
                )
            with open_store(out, schema=_session_schema(layer_data)) as store:
                for record in tiles.values():
                    store.add_tile(record)
                store.add_many([b.replace(revision=0, modified=b.modified) for b in boxes])
        else:
            from imagery_tool.annotations.formats import write_annotations

            write_annotations(boxes, out, format="geojson", tiles=tiles)
    except (ImageryToolError, OSError, ValueError) as exc:
        notify(str(exc).splitlines()[0], "warning")
        return []
    return [str(out)]


def layer_boxes(data, attributes: dict) -> tuple[list[BoxAnnotation], dict[str, TileRecord]]:
    """Return the boxes of one Shapes layer and the tiles they lie on.

    Parameters
    ----------
    data : list of (4, D) arrays
        napari vertices (``(row, col)``, with a leading date axis in a time stack).
    attributes : dict
        The layer's state (``metadata``, ``features``) as napari hands it to writers.
    """
    metadata = attributes.get("metadata") or {}
    session = metadata.get("imagery_tool_session")
    if session is not None:
        session.flush()
        boxes = [session.boxes[i] for i in session.ids if i in session.boxes]
        records = {t.name: TileRecord.from_tile(t) for t in session.info.tiles}
        return boxes, records
    georef = metadata.get("imagery_tool_georef")
    name = metadata.get("imagery_tool_tile")
    if georef is None:  # a Shapes layer the user made: drawn over the imagery-tool image shown
        georef, name = _viewer_grid()
        if georef is None:
            return [], {}
    name = name or "layer"
    features = attributes.get("features")
    out = []
    for i, vertices in enumerate(data):
        xy = rowcol_to_xy(np.asarray(vertices))
        if len(xy) != 4:
            x0, y0 = xy.min(axis=0)
            x1, y1 = xy.max(axis=0)
            xy = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        extra = {}
        if features is not None and len(features) > i:
            extra = {str(k): _plain(v) for k, v in dict(features.iloc[i]).items()}
        try:
            out.append(
                BoxAnnotation(
                    tuple(map(tuple, xy)), "unknown fixed-wing", attributes=extra, tile=name
                )  # fmt: skip
            )
        except ValueError:
            continue
    return out, {name: TileRecord.from_georef(name, georef)}


def _session_schema(layer_data: list[tuple]) -> LabelSchema | None:
    """Return the label schema of the first layer that belongs to an annotation session."""
    for _data, attributes, _kind in layer_data:
        session = (attributes.get("metadata") or {}).get("imagery_tool_session")
        if session is not None:
            return session.schema
    return None


def _viewer_grid():
    """Return the reference grid and tile name of the current viewer's imagery-tool image."""
    try:
        import napari

        from napari_imagery_tool._hooks import active_info

        viewer = napari.current_viewer()
    except ImportError:  # pragma: no cover
        return None, None
    if viewer is None:
        return None, None
    _, info = active_info(viewer)
    if info is None:
        return None, None
    return info.georef, info.tiles[0].name


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
