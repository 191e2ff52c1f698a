"""The annotation session: a Shapes layer kept in step with a project's GeoPackage store.

Scriptable without any widget: ``AnnotationSession(viewer, image_layer, "project.gpkg")``. Every
edit on the layer (draw, move, rotate, delete, relabel, review) is written to the store at once,
one transaction each (`_autosave.Autosave`); undo and redo go through the store's history and
the layer is rebuilt from the store. When the store cannot be written (locked by another
process), edits wait in memory, are retried with the next edit or `flush`, and are never dropped.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from imagery_tool.annotations import BoxAnnotation, check_size, default_schema, open_store
from imagery_tool.annotations.store import TileRecord
from imagery_tool.errors import StoreError
from imagery_tool.style import review_hex
from napari_imagery_tool._autosave import Autosave, Edit
from napari_imagery_tool._axes import rowcol_to_xy, xy_to_rowcol
from napari_imagery_tool._hooks import camera, current_date_index, info_of
from napari_imagery_tool._notify import notify
from napari_imagery_tool._stack import StackInfo

__all__ = ["BOX_LAYER_NAME", "LABEL_LAYER_NAME", "LOCK_WAIT_S", "AnnotationSession"]

BOX_LAYER_NAME = "boxes"
LABEL_LAYER_NAME = "box labels"
LABEL_COLOUR = "#ff9f1c"  # orange: readable on light concrete and on dark ground
# How long an edit waits for a store locked by another process: a GUI must not freeze for the
# store's default minute.
LOCK_WAIT_S = 1.5


class AnnotationSession:
    """Boxes of one image layer (single tile or time stack), autosaved to a store.

    Parameters
    ----------
    viewer : napari.Viewer
        The viewer showing ``image_layer``.
    image_layer : napari.layers.Image
        A layer opened by this plugin (its `StackInfo` gives tiles, dates and georeference).
    store_path : str or Path
        The project's GeoPackage; created when missing.
    project : str, optional
        Project name; a store of another project is refused (`StoreError`).
    author : str, optional
        Written to each edit; undo/redo act on this author's edits.
    schema : LabelSchema, optional
        Classes and attributes (the default schema when omitted).

    Raises
    ------
    StoreError
        The store belongs to another project, is not a store, or cannot be opened.
    """

    def __init__(
        self,
        viewer,
        image_layer,
        store_path: str | Path,
        *,
        project: str | None = None,
        author: str | None = None,
        schema=None,
    ) -> None:
        self.viewer = viewer
        self.image_layer = image_layer
        self.info: StackInfo = info_of(image_layer)
        if self.info is None:
            raise ValueError(f"layer {image_layer.name!r} was not opened by imagery-tool")
        self.schema = schema or default_schema()
        self.store = open_store(
            store_path, project=project, author=author, schema=self.schema, lock_timeout=LOCK_WAIT_S
        )
        self.autosave = Autosave(self.store, write=self._write, reload=self.reload)
        self.label = self.schema.class_names[0]
        self.attributes: dict = {}
        self.ids: list[str] = []  # annotation id of each shape, in layer order
        self.boxes: dict[str, BoxAnnotation] = {}
        self._syncing = False
        # Redraw labels after each edit; a widget turns this off and redraws on a timer.
        self.auto_labels = True
        self.labels_dirty = False
        self._texts: dict[str, tuple[BoxAnnotation, str]] = {}  # label text per box state
        self.listeners: list = []  # called with no argument after every edit or reload
        self._register_tiles()
        self.layer = self._make_layer()
        self.reload()
        self.autosave.restore(self._append)
        self.layer.events.data.connect(self._on_data)

    # -- set-up ----------------------------------------------------------------------------

    def _register_tiles(self) -> None:
        for tile in self.info.tiles:
            try:
                self.store.add_tile(TileRecord.from_tile(tile))
            except StoreError as exc:
                notify(f"{exc}; boxes are kept in memory until the store can be written", "warning")

    def _make_layer(self):
        ndim = 3 if self.info.is_stack else 2
        existing = [
            layer
            for layer in self.viewer.layers
            if layer.name == BOX_LAYER_NAME and getattr(layer, "ndim", 0) == ndim
        ]
        for layer in existing:
            self.viewer.layers.remove(layer)
        layer = self.viewer.add_shapes(
            ndim=ndim,
            name=BOX_LAYER_NAME,
            edge_width=3,
            edge_color=review_hex("unreviewed"),
            face_color="transparent",
            metadata={"imagery_tool_session": self, "imagery_tool_georef": self.info.georef},
        )
        layer.current_edge_color = review_hex("unreviewed")
        layer.current_face_color = "transparent"
        # Labels live in their own Points layer, redrawn in one go (`refresh_labels`): napari
        # re-lays out every text of a Shapes layer on each added shape, which costs ~0.2 ms per
        # existing box and would make the 1,000th box slow to add.
        for old in [lay for lay in self.viewer.layers if lay.name == LABEL_LAYER_NAME]:
            self.viewer.layers.remove(old)
        self.label_layer = self.viewer.add_points(
            np.empty((0, ndim)),
            ndim=ndim,
            name=LABEL_LAYER_NAME,
            size=1,
            face_color="transparent",
            border_width=0,
            features={"text": np.array([], dtype=object)},
            text={"string": "{text}", "size": 9, "color": LABEL_COLOUR, "anchor": "lower_left"},
        )
        self.label_layer.editable = False
        self.viewer.layers.selection.active = layer
        return layer

    # -- conversions -----------------------------------------------------------------------

    def _tile_of(self, t: int):
        return self.info.tiles[t]

    def box_to_shape(self, box: BoxAnnotation) -> tuple[np.ndarray, int] | None:
        """Return the napari vertices of a stored box and its date index (None if not shown)."""
        names = [t.name for t in self.info.tiles]
        if box.tile not in names and not (box.tile is None and len(names) == 1):
            return None
        t = names.index(box.tile) if box.tile in names else 0
        xy = self.info.from_tile(t, box.xy)
        rc = xy_to_rowcol(xy)
        if self.info.is_stack:
            rc = np.column_stack([np.full(4, t, dtype=float), rc])
        return rc, t

    def shape_to_corners(self, vertices) -> tuple[np.ndarray, int]:
        """Return ``(4, 2)`` corners ``(x, y)`` on the date's own grid and the date index."""
        vertices = np.asarray(vertices, dtype=np.float64)
        t = self.info.date_index(vertices[0]) if self.info.is_stack else 0
        xy = rowcol_to_xy(vertices)
        if len(xy) != 4:  # a polygon or ellipse drawn by mistake: its bounding rectangle
            x0, y0 = xy.min(axis=0)
            x1, y1 = xy.max(axis=0)
            xy = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        return self.info.to_tile(t, xy), t

    # -- loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild the layer from the store (after undo/redo or on opening)."""
        names = {t.name for t in self.info.tiles}
        boxes = [b for b in self.store.annotations() if b.tile in names]
        if len(self.info.tiles) == 1:
            boxes += [b for b in self.store.annotations() if b.tile is None]
        self._replace_all(boxes)
        for kind, payload in self.pending:  # keep edits the store has not taken yet
            if kind == "add":
                self._append(payload)
        self._tell()

    def _tell(self) -> None:
        for listener in self.listeners:
            listener()

    def _replace_all(self, boxes: list[BoxAnnotation]) -> None:
        self._syncing = True
        try:
            shapes, kept = [], []
            for box in boxes:
                placed = self.box_to_shape(box)
                if placed is not None:
                    shapes.append(placed[0])
                    kept.append(box)
            self.layer.selected_data = set()
            self.layer.data = []
            self.ids = []
            self.boxes = {}
            if shapes:
                self.layer.add_rectangles(
                    shapes,
                    edge_color=[self._colour(b) for b in kept],
                    face_color="transparent",
                    edge_width=3,
                )
            self.ids = [b.id for b in kept]
            self.boxes = {b.id: b for b in kept}
            self.refresh_labels()
        finally:
            self._syncing = False

    def _append(self, box: BoxAnnotation) -> None:
        placed = self.box_to_shape(box)
        if placed is None:
            return
        self._syncing = True
        try:
            self.layer.add_rectangles(
                [placed[0]], edge_color=self._colour(box), face_color="transparent", edge_width=3
            )
            self.ids.append(box.id)
            self.boxes[box.id] = box
            self.labels_dirty = True
            if self.auto_labels:
                self.refresh_labels()
        finally:
            self._syncing = False

    def _colour(self, box: BoxAnnotation) -> str:
        """Return a box's edge colour: its review state's, or the detected colour."""
        if box.source == "detected" and box.review == "unreviewed":
            return review_hex("detected")
        return review_hex(box.review)

    # -- text and sizes --------------------------------------------------------------------

    def size_text(self, box: BoxAnnotation) -> tuple[str, str]:
        """Return ``("69.1 x 73.3 m", "An-124, Il-76")``: size and suggested types of a box.

        In pixel mode the size is given in pixels and no type is suggested.
        """
        t = [tile.name for tile in self.info.tiles].index(box.tile) if box.tile else 0
        georef = self.info.tiles[t].georef
        if not georef.is_georeferenced:
            return f"{box.length_px:.0f} x {box.width_px:.0f} px", "(pixel mode: no sizes in m)"
        report = check_size(box, gsd=georef, schema=self.schema)
        fits = [c.name for c in report.candidates if c.fits] or ["none fits"]
        size = f"{report.length_m:.1f} x {report.width_m:.1f} m"
        if report.label_fits is False:
            size += " (!)"
        return size, ", ".join(fits)

    def describe(self, box: BoxAnnotation) -> str:
        """Return the line shown on the canvas next to a box."""
        flags = [k for k, v in box.attributes.items() if v is True]
        size, fits = self.size_text(box)
        head = " ".join([box.label, *flags])
        tail = "" if box.review == "unreviewed" else f" [{box.review}]"
        if size.endswith("(!)"):  # the class cannot fit the box: say what does
            tail += f" fits: {fits}"
        return f"{head} {size}{tail}"

    def refresh_labels(self) -> None:
        """Redraw every box label (class, true attributes, size, review) in one update."""
        self.labels_dirty = False
        anchors, texts = [], []
        for vertices, annotation_id in zip(self.layer.data, self.ids, strict=False):
            box = self.boxes.get(annotation_id)
            if box is None:
                continue
            v = np.asarray(vertices)
            anchor = v.min(axis=0)
            if self.info.is_stack:
                anchor[0] = v[0, 0]
            anchors.append(anchor)
            cached = self._texts.get(annotation_id)
            if cached is None or cached[0] is not box:
                cached = (box, self.describe(box))
                self._texts[annotation_id] = cached
            texts.append(cached[1])
        ndim = self.label_layer.ndim
        self.label_layer.data = np.array(anchors).reshape(-1, ndim)
        self.label_layer.features = {"text": np.array(texts, dtype=object)}
        self.label_layer.refresh_text()

    def _refresh_one(self, index: int) -> None:
        """Recolour one box for its review state and mark the labels for redrawing."""
        self.labels_dirty = True
        box = self.boxes[self.ids[index]]
        rgba = _hex_rgba(self._colour(box))
        if not np.allclose(self.layer._data_view._edge_color[index], rgba):
            # napari has no public per-shape colour setter: what its own setters call.
            with self.layer._data_view.batched_updates():
                self.layer._data_view.update_edge_color(index, rgba)
            self.layer.events.edge_color()
        if self.auto_labels:
            self.refresh_labels()

    # -- layer events ----------------------------------------------------------------------

    def _on_data(self, event) -> None:
        if self._syncing:
            return
        action = str(getattr(event, "action", ""))
        indices = [i for i in getattr(event, "data_indices", ()) if i is not None]
        if action == "added":
            n_new = len(self.layer.data) - len(self.ids)
            for vertices in self.layer.data[len(self.layer.data) - n_new :]:
                self._added(vertices)
        elif action == "removed":
            self._removed(indices)
        elif action == "changed":
            self._changed(indices or range(len(self.ids)))

    def _added(self, vertices) -> None:
        corners, t = self.shape_to_corners(vertices)
        try:
            box = self._new_box(corners, t, axis_aligned=_axis_aligned(rowcol_to_xy(vertices)))
        except ValueError as exc:  # a zero-size click: drop the shape, say why
            notify(f"box not added: {exc}", "warning")
            self._syncing = True
            try:
                self.layer.remove([len(self.layer.data) - 1])
            finally:
                self._syncing = False
            return
        self.ids.append(box.id)
        self.boxes[box.id] = box
        self._save("add", box)
        self._refresh_one(len(self.ids) - 1)

    def _new_box(
        self, corners: np.ndarray, t: int, *, axis_aligned: bool = False, **fields
    ) -> BoxAnnotation:
        """Make a box on date ``t``'s grid with the current class and attributes.

        A box drawn axis-aligned on screen stays axis-aligned on the tile's grid (the residual
        rotation between dates is a small fraction of a degree): its centre and side lengths
        are kept.
        """
        tile = self._tile_of(t)
        label = fields.pop("label", self.label)
        common = {
            "attributes": fields.pop("attributes", self._valid_attributes(label)),
            "tile": tile.name,
            "acquired": tile.acquired.isoformat() if tile.acquired.value else None,
            **fields,
        }
        corners = np.asarray(corners, dtype=np.float64)
        if axis_aligned:
            cx, cy = corners.mean(axis=0)
            w = np.linalg.norm(corners[1] - corners[0]) + np.linalg.norm(corners[2] - corners[3])
            h = np.linalg.norm(corners[3] - corners[0]) + np.linalg.norm(corners[2] - corners[1])
            if abs(corners[1, 0] - corners[0, 0]) < abs(corners[1, 1] - corners[0, 1]):
                w, h = h, w  # first edge runs down: swap so that w is along x
            w, h = w / 2, h / 2
            return BoxAnnotation.from_xyxy(
                cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, label=label, **common
            )
        return BoxAnnotation(tuple(map(tuple, corners)), label, **common)

    def _valid_attributes(self, label: str) -> dict:
        cls = self.schema.get(label)
        out = {}
        for name, value in self.attributes.items():
            definition = self.schema.attributes.get(name)
            if definition is not None and cls is not None and definition.applies(cls):
                out[name] = value
        return out

    def _removed(self, indices) -> None:
        for index in sorted(indices, reverse=True):
            if index >= len(self.ids):
                continue
            annotation_id = self.ids.pop(index)
            self.boxes.pop(annotation_id, None)
            self._save("delete", annotation_id)
        self.labels_dirty = True
        if self.auto_labels:
            self.refresh_labels()

    def _changed(self, indices) -> None:
        updated = []
        for index in indices:
            if index >= len(self.ids) or index >= len(self.layer.data):
                continue
            box = self.boxes[self.ids[index]]
            corners, _ = self.shape_to_corners(self.layer.data[index])
            if np.allclose(np.sort(corners, axis=0), np.sort(box.xy, axis=0), atol=1e-6):
                continue
            try:
                moved = BoxAnnotation(tuple(map(tuple, corners)), box.label, **_keep(box))
            except ValueError:
                continue
            self.boxes[box.id] = moved
            updated.append((index, moved))
        if updated:
            self._save("update", [b for _, b in updated])
            for index, _ in updated:
                self._refresh_one(index)

    # -- store writes ----------------------------------------------------------------------

    @property
    def pending(self) -> list[Edit]:
        """The edits not in the store yet, oldest first: ``(action, payload)``."""
        return self.autosave.pending

    @property
    def rescue_path(self) -> Path:
        """Where edits the store has not taken yet are kept on disk (``<store>.unsaved.json``)."""
        return self.autosave.rescue_path

    def _save(self, action: str, payload) -> bool:
        """Write one edit (after any pending ones); keep it pending when the store refuses."""
        saved = self.autosave.save(action, payload)
        self._tell()
        return saved

    def flush(self) -> bool:
        """Write pending edits to the store; return whether none is left (`Autosave.flush`)."""
        return self.autosave.flush()

    def _write(self, action: str, payload) -> None:
        """Write one edit to the store and keep the stored boxes (with their new revisions)."""
        if action == "add":
            stored = self.store.add(payload)
            self.boxes[stored.id] = stored
        elif action == "delete":
            if payload in self.store:
                self.store.delete(payload)
        elif action == "update":
            boxes = [self._current_revision(b) for b in payload]
            for stored in self.store.update_many(boxes):
                if stored.id in self.boxes:
                    self.boxes[stored.id] = stored

    def _current_revision(self, box: BoxAnnotation) -> BoxAnnotation:
        stored = self.boxes.get(box.id, box)
        return box.replace(revision=max(stored.revision, box.revision))

    # -- actions used by the widget and the keys -------------------------------------------

    def selected_indices(self) -> list[int]:
        """Return the indices of the selected shapes that are boxes of this session."""
        return sorted(i for i in self.layer.selected_data if i < len(self.ids))

    def set_label(self, label: str, *, indices=None) -> None:
        """Set the class for new boxes and for the selected (or given) boxes."""
        resolved = self.schema.resolve(label) or label
        self.label = resolved
        self._edit(
            indices,
            lambda b: b.replace(
                label=resolved, attributes=_applicable(self.schema, resolved, b.attributes)
            ),
        )

    def set_attribute(self, name: str, value, *, indices=None) -> None:
        """Set an attribute for new boxes and for the selected (or given) boxes."""
        self.attributes[name] = value
        definition = self.schema.attributes.get(name)

        def change(box: BoxAnnotation) -> BoxAnnotation:
            cls = self.schema.get(box.label)
            if definition is not None and cls is not None and not definition.applies(cls):
                return box
            return box.replace(attributes={**box.attributes, name: value})

        self._edit(indices, change)

    def toggle_attribute(self, name: str) -> None:
        """Flip a boolean attribute on the selected boxes (and for new boxes)."""
        indices = self.selected_indices()
        current = self.attributes.get(name, False)
        if indices:
            current = bool(self.boxes[self.ids[indices[0]]].attributes.get(name, False))
        self.set_attribute(name, not current, indices=indices)

    def review(self, status: str, *, note: str | None = None, indices=None) -> None:
        """Accept or reject the selected (or given) boxes, with an optional note."""
        reviewer = self.store.author or "analyst"
        self._edit(indices, lambda b: b.reviewed(status, reviewer=reviewer, note=note))

    def rotate(self, degrees: float, *, indices=None) -> None:
        """Rotate the selected (or given) boxes about their centres, clockwise on screen."""
        a = math.radians(degrees)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])

        def turn(box: BoxAnnotation) -> BoxAnnotation:
            c = np.array(box.center)
            xy = (box.xy - c) @ rot.T + c
            return BoxAnnotation(tuple(map(tuple, xy)), box.label, **_keep(box))

        self._edit(indices, turn, geometry=True)

    def _edit(self, indices, change, *, geometry: bool = False) -> None:
        indices = self.selected_indices() if indices is None else list(indices)
        if not indices:
            return
        updated = []
        for index in indices:
            box = self.boxes[self.ids[index]]
            new = change(box)
            if new is not box:
                self.boxes[box.id] = new
                updated.append((index, new))
        if not updated:
            return
        self._save("update", [b for _, b in updated])
        for index, box in updated:
            if geometry:
                self._set_vertices(index, box)
            self._refresh_one(index)

    def _set_vertices(self, index: int, box: BoxAnnotation) -> None:
        placed = self.box_to_shape(box)
        if placed is None:
            return
        self._syncing = True
        try:
            # napari has no public per-shape edit; this is what its own vertex moves call.
            self.layer._data_view.edit(index, placed[0])
            self.layer.refresh()
        finally:
            self._syncing = False

    def undo(self) -> list:
        """Undo this author's last edit through the store's history and rebuild the layer."""
        if not self.flush():
            return []
        try:
            entries = self.store.undo()
        except StoreError as exc:
            notify(str(exc), "warning")
            return []
        self.reload()
        return entries

    def redo(self) -> list:
        """Redo the last undone edit (see `undo`)."""
        if not self.flush():
            return []
        try:
            entries = self.store.redo()
        except StoreError as exc:
            notify(str(exc), "warning")
            return []
        self.reload()
        return entries

    def unreviewed(self) -> list[int]:
        """Return the indices of the boxes still unreviewed, in layer order."""
        return [i for i, a in enumerate(self.ids) if self.boxes[a].review == "unreviewed"]

    def step_unreviewed(self, step: int = 1) -> int | None:
        """Select and centre the next (``step=1``) or previous (``-1``) unreviewed box."""
        todo = self.unreviewed()
        if not todo:
            notify("every box is reviewed")
            return None
        current = self.selected_indices()
        here = current[0] if current else (-1 if step > 0 else len(self.ids))
        after = [i for i in todo if (i > here if step > 0 else i < here)]
        index = (
            (after[0] if step > 0 else after[-1]) if after else (todo[0] if step > 0 else todo[-1])
        )
        self.focus(index)
        return index

    def focus(self, index: int) -> None:
        """Select box ``index``, show its date and centre the view on it."""
        self.layer.selected_data = {index}
        vertices = np.asarray(self.layer.data[index])
        if self.info.is_stack:
            self.viewer.dims.set_current_step(0, int(round(vertices[0, 0])))
        centre = vertices[:, -2:].mean(axis=0)
        camera(self.viewer).center = tuple(centre)

    def add_box(self, box: BoxAnnotation) -> BoxAnnotation:
        """Store a box made elsewhere (e.g. an accepted detection) and show it."""
        self._save("add", box)
        box = self.boxes.get(box.id, box)
        self._append(box)
        return box

    def assist(self, xy, t: int, *, use_class: bool = False) -> BoxAnnotation:
        """Box the aircraft under a click and store it with ``source="assisted"``.

        Parameters
        ----------
        xy : tuple of float
            The click ``(x, y)`` on date ``t``'s own pixel grid.
        t : int
            Date index.
        use_class : bool, optional
            Bound the search by the current class's catalogue size and label the box with it;
            otherwise the class is the type suggested by the measured size.

        Returns
        -------
        BoxAnnotation
            The stored box (undoable like any edit).

        Raises
        ------
        NothingAircraftLike
            Nothing aircraft-like under the click.
        """
        from imagery_tool.aircraft.click import box_at
        from imagery_tool.aircraft.types import schema_types

        tile = self._tile_of(t)
        cls = self.schema.get(self.label) if use_class else None
        wanted = (getattr(cls, "catalogue", None) or self.label) if use_class else None
        # the types of the project's classes, as the label schema lists them
        types = schema_types(self.schema)
        found = box_at(
            tile, (float(xy[0]), float(xy[1])), class_name=wanted, candidates=types or None
        )
        label = self.label if use_class else self._suggested_label(found)
        box = self._new_box(
            found.corners_px, t, label=label, source="assisted",
            score=round(min(max(found.score, 0.0), 1.0), 4),
        )  # fmt: skip
        return self.add_box(box)

    def _suggested_label(self, found) -> str:
        """Return the class of the best-ranked type that fits, else the unknown class."""
        from imagery_tool.aircraft.types import suggest_label

        return suggest_label(found.length_m, found.width_m, self.schema, gsd_m=found.pixel_size_m)

    def current_date(self) -> int:
        """Return the index of the date the slider shows."""
        return current_date_index(self.viewer, self.info)

    def close(self) -> bool:
        """Flush pending edits and close the store; rescue unsaved edits to a JSON file.

        Returns
        -------
        bool
            True when everything was saved to the store.
        """
        saved = self.flush()
        if not saved:
            notify(
                f"store still locked: {len(self.pending)} unsaved edit(s) kept in "
                f"{self.rescue_path}; they are saved when this store is opened again",
                "warning",
            )
        self.store.close()
        return saved


def _axis_aligned(xy: np.ndarray) -> bool:
    """Whether four corners ``(x, y)`` form a rectangle with edges along the pixel axes."""
    if len(xy) != 4:
        return True
    edges = np.roll(xy, -1, axis=0) - xy
    return bool(np.all(np.isclose(edges, 0, atol=1e-6).any(axis=1)))


def _keep(box: BoxAnnotation) -> dict:
    data = box.to_dict()
    for key in ("corners", "label", "modified"):
        data.pop(key)
    return data


def _applicable(schema, label: str, attributes: dict) -> dict:
    cls = schema.get(label)
    if cls is None:
        return dict(attributes)
    return {
        k: v
        for k, v in attributes.items()
        if k not in schema.attributes or schema.attributes[k].applies(cls)
    }


def _hex_rgba(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0])
