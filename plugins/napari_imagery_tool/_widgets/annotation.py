"""The annotation dock widget: class and attributes, boxes, undo/redo, autosave, review."""

from __future__ import annotations

import getpass
from pathlib import Path

import numpy as np
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from imagery_tool.errors import ImageryToolError
from imagery_tool.sitestack import site_name
from napari_imagery_tool._axes import rowcol_to_xy
from napari_imagery_tool._hooks import active_info, install, unwrap
from napari_imagery_tool._keys import bind_session_keys, user_keymap_path
from napari_imagery_tool._notify import notify
from napari_imagery_tool._session import AnnotationSession
from napari_imagery_tool._widgets.layout import scrolled_layout

__all__ = ["AnnotationWidget", "default_store_path"]

MAX_WIDTH = 400  # px: leave the canvas most of the window
RETRY_MS = 3000  # pending edits (store locked) are retried this often
LABEL_MS = 250  # box labels are redrawn at most this often


def default_store_path(info) -> Path:
    """Return the project store next to the tiles: ``<folder>/<site>.gpkg``.

    The site is named as ``series`` names it (`imagery_tool.sitestack.site_name`).
    """
    first = Path(info.tiles[0].path)
    site = site_name(t.path for t in info.tiles) or first.stem
    return first.parent / f"{site}.gpkg"


def session_for(viewer, info, image_layer, *, accepted: str) -> AnnotationSession:
    """Return the open annotation session of this stack, else open one on its default store.

    Accepting a detection or a proposal stores it where the annotation widget edits the
    stack's boxes; when no session is open yet, the user is told where (``accepted`` names
    what is being accepted, e.g. "detections").
    """
    for layer in viewer.layers:
        session = layer.metadata.get("imagery_tool_session") if layer.metadata else None
        if session is not None and session.info is info:
            return session
    path = default_store_path(info)
    notify(f"accepted {accepted} go to {path} (open the annotation widget to edit them)")
    return AnnotationSession(viewer, image_layer, path)


class AnnotationWidget(QWidget):
    """Dock widget over an `AnnotationSession` (one per image layer)."""

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = unwrap(napari_viewer)
        self.session: AnnotationSession | None = None
        install(self.viewer)
        self.setMaximumWidth(MAX_WIDTH)
        layout = scrolled_layout(self)

        store_box = QGroupBox("Project store (GeoPackage, autosaved)")
        form = QFormLayout(store_box)
        self.store_edit = QLineEdit()
        browse = QPushButton("…")
        browse.setMaximumWidth(30)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.store_edit)
        row.addWidget(browse)
        form.addRow("file", row)
        self.project_edit = QLineEdit()
        self.project_edit.setPlaceholderText("any (new store: file name)")
        form.addRow("project", self.project_edit)
        self.author_edit = QLineEdit(_user())
        form.addRow("author", self.author_edit)
        self.open_button = QPushButton("Start annotating")
        self.open_button.clicked.connect(self.start)
        form.addRow(self.open_button)
        layout.addWidget(store_box)

        label_box = QGroupBox("Class and attributes (new and selected boxes)")
        self.label_form = QFormLayout(label_box)
        self.class_combo = QComboBox()
        self.class_combo.currentTextChanged.connect(self._class_changed)
        self.label_form.addRow("class", self.class_combo)
        self.attribute_widgets: dict[str, QWidget] = {}
        layout.addWidget(label_box)

        edit_box = QGroupBox("Boxes")
        edit = QVBoxLayout(edit_box)
        buttons = QHBoxLayout()
        self.draw_button = _button("Draw box", buttons, lambda: self._mode("add_rectangle"))
        _button("Select", buttons, lambda: self._mode("select"))
        _button("⟲ 5°", buttons, lambda: self._call("rotate", -5))
        _button("⟳ 5°", buttons, lambda: self._call("rotate", 5))
        edit.addLayout(buttons)
        buttons = QHBoxLayout()
        self.click_button = QPushButton("Click to box")
        self.click_button.setCheckable(True)
        self.click_button.setToolTip(
            "click (or roughly drag around) an aircraft: its rotated box, class from its size"
        )
        self.click_button.toggled.connect(self._click_mode)
        buttons.addWidget(self.click_button)
        self.use_class_check = QCheckBox("size of selected class")
        self.use_class_check.setToolTip(
            "look for the selected class's size and label the box with it; otherwise the class "
            "is suggested from the measured length and span"
        )
        buttons.addWidget(self.use_class_check)
        edit.addLayout(buttons)
        buttons = QHBoxLayout()
        self.undo_button = _button("Undo", buttons, lambda: self._call("undo"))
        self.redo_button = _button("Redo", buttons, lambda: self._call("redo"))
        edit.addLayout(buttons)
        self.selection_label = QLabel("no box selected")
        self.selection_label.setWordWrap(True)
        edit.addWidget(self.selection_label)
        layout.addWidget(edit_box)

        review_box = QGroupBox("Review")
        review = QVBoxLayout(review_box)
        buttons = QHBoxLayout()
        _button("Accept", buttons, lambda: self._review("accepted"))
        _button("Reject", buttons, lambda: self._review("rejected"))
        review.addLayout(buttons)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("review note (saved with accept / reject)")
        review.addWidget(self.note_edit)
        buttons = QHBoxLayout()
        _button("◀ Previous unreviewed", buttons, lambda: self._call("step_unreviewed", -1))
        _button("Next unreviewed ▶", buttons, lambda: self._call("step_unreviewed", 1))
        review.addLayout(buttons)
        self.review_label = QLabel("")
        review.addWidget(self.review_label)
        layout.addWidget(review_box)

        self.status_label = QLabel("open tiles, then Start annotating")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.keys_label = QLabel("")
        self.keys_label.setWordWrap(True)
        layout.addWidget(self.keys_label)
        layout.addStretch(1)

        self._timer = QTimer(self)
        self._timer.setInterval(RETRY_MS)
        self._timer.timeout.connect(self._retry)
        self._timer.start()
        self._label_timer = QTimer(self)
        self._label_timer.setInterval(LABEL_MS)
        self._label_timer.timeout.connect(self._redraw_labels)
        self._label_timer.start()
        self.viewer.layers.events.inserted.connect(self._suggest_store)
        self._suggest_store()
        self._set_enabled(False)

    # -- store -----------------------------------------------------------------------------

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Project store", self.store_edit.text(), "GeoPackage (*.gpkg)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )  # fmt: skip
        if path:
            self.store_edit.setText(path)

    def _suggest_store(self, _event=None) -> None:
        _, info = active_info(self.viewer)
        if info is not None and not self.store_edit.text():
            self.store_edit.setText(str(default_store_path(info)))

    def start(self, *, store_path: str | None = None) -> AnnotationSession | None:
        """Open the store and the boxes layer for the topmost imagery-tool image layer."""
        layer, info = active_info(self.viewer)
        if info is None:
            notify("open a tile, a folder of dated tiles or a STAC catalog first", "warning")
            return None
        if store_path:
            self.store_edit.setText(str(store_path))
        path = self.store_edit.text() or str(default_store_path(info))
        if self.session is not None:
            self.session.close()
            self.session = None
        try:
            self.session = AnnotationSession(
                self.viewer,
                layer,
                path,
                project=self.project_edit.text() or None,
                author=self.author_edit.text() or None,
            )
        except (ImageryToolError, OSError, ValueError) as exc:
            notify(str(exc), "warning")
            self.status_label.setText(f"not started: {exc}")
            return None
        session = self.session
        session.widget = self
        session.auto_labels = False  # redrawn by the label timer: adding stays O(1)
        self._build_schema_controls()
        bound = bind_session_keys(session)
        self.keys_label.setText(
            "<small>keys (boxes layer selected): "
            + ", ".join(
                f"<b>{k}</b> {a.replace('_', ' ')}" for a, k in bound.items() if "class" not in a
            )
            + "; <b>1-9</b> classes. Change them in "
            + str(user_keymap_path())
            + "</small>"
        )
        session.layer.events.highlight.connect(lambda _e=None: self._show_selection())
        session.layer.events.mode.connect(self._mode_changed)
        session.layer.mouse_drag_callbacks.append(self._on_mouse)
        session.listeners.append(self._update_status)
        session.layer.mode = "add_rectangle"
        self.viewer.layers.selection.active = session.layer
        self._set_enabled(True)
        reason = info.pixel_mode_reason()
        if reason:
            notify(reason, "warning")
        notify(f"{len(session.ids)} box(es) loaded from {session.store.path}")
        self._update_status()
        return session

    def _retry(self) -> None:
        if self.session is not None and self.session.pending:
            self.session.flush()
            self._update_status()

    def _redraw_labels(self) -> None:
        if self.session is not None and self.session.labels_dirty:
            self.session.refresh_labels()

    # -- schema controls -------------------------------------------------------------------

    def _build_schema_controls(self) -> None:
        schema = self.session.schema
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems(schema.class_names)
        self.class_combo.setCurrentText(self.session.label)
        self.class_combo.blockSignals(False)
        for name in list(self.attribute_widgets):
            self.label_form.removeRow(self.attribute_widgets.pop(name))
        for name, definition in schema.attributes.items():
            if definition.type == "bool":
                widget = QCheckBox()
                widget.toggled.connect(lambda v, n=name: self._attribute(n, bool(v)))
            elif definition.type == "enum":
                widget = QComboBox()
                widget.addItems(["", *definition.values])
                widget.currentTextChanged.connect(lambda v, n=name: self._attribute(n, v or None))
            elif definition.type == "number":
                widget = QDoubleSpinBox()
                widget.setRange(-1e9, 1e9)
                widget.valueChanged.connect(lambda v, n=name: self._attribute(n, float(v)))
            else:
                widget = QLineEdit()
                widget.editingFinished.connect(
                    lambda n=name, w=widget: self._attribute(n, w.text() or None)
                )
            widget.setToolTip(definition.description)
            self.attribute_widgets[name] = widget
            self.label_form.addRow(name, widget)
        self._enable_attributes()

    def _enable_attributes(self) -> None:
        if self.session is None:
            return
        cls = self.session.schema.get(self.class_combo.currentText())
        for name, widget in self.attribute_widgets.items():
            definition = self.session.schema.attributes[name]
            widget.setEnabled(cls is not None and definition.applies(cls))

    def _class_changed(self, name: str) -> None:
        if self.session is None or not name:
            return
        if name != self.session.label or self.session.selected_indices():
            self.session.set_label(name)
        self._enable_attributes()
        self._show_selection()

    def _attribute(self, name: str, value) -> None:
        if self.session is None or getattr(self, "_loading", False):
            return
        if value is None:
            self.session.attributes.pop(name, None)
            return
        self.session.set_attribute(name, value)
        self._show_selection()

    def sync_from_session(self) -> None:
        """Show the session's current class (after a number key)."""
        if self.session is not None:
            self.class_combo.blockSignals(True)
            self.class_combo.setCurrentText(self.session.label)
            self.class_combo.blockSignals(False)
            self._enable_attributes()
            self._show_selection()

    # -- actions ---------------------------------------------------------------------------

    def _mode(self, mode: str) -> None:
        if self.session is not None:
            self.session.layer.mode = mode
            self.viewer.layers.selection.active = self.session.layer

    def toggle_click_mode(self) -> None:
        """Turn click-to-box on or off (the key binding)."""
        self.click_button.setChecked(not self.click_button.isChecked())

    def _click_mode(self, on: bool) -> None:
        if self.session is None:
            return
        layer = self.session.layer
        if on:
            layer.mode = "pan_zoom"
            layer.mouse_pan = False  # a rough drag outlines the aircraft, it does not pan
            self.viewer.layers.selection.active = layer
            self.status_label.setText("click to box: click an aircraft (or drag around it)")
        else:
            layer.mouse_pan = layer.mode == "pan_zoom"

    def _mode_changed(self, _event=None) -> None:
        if self.session is not None and self.session.layer.mode != "pan_zoom":
            self.click_button.setChecked(False)

    def _on_mouse(self, layer, event):
        if self.session is None or not self.click_button.isChecked():
            return
        start = np.asarray(layer.world_to_data(event.position), dtype=np.float64)
        end = start
        yield
        while event.type == "mouse_move":
            end = np.asarray(layer.world_to_data(event.position), dtype=np.float64)
            yield
        self.box_at((start + end) / 2)

    def box_at(self, data_point) -> object | None:
        """Box the aircraft at a point of the boxes layer (napari data coordinates).

        Returns
        -------
        BoxAnnotation or None
            The stored box, or None when nothing aircraft-like is there (said in the status
            line).
        """
        from imagery_tool.aircraft.click import NothingAircraftLike

        session = self.session
        if session is None:
            return None
        point = np.asarray(data_point, dtype=np.float64)
        t = int(round(point[0])) if session.info.is_stack else 0
        t = min(max(t, 0), len(session.info.tiles) - 1)
        xy = session.info.to_tile(t, rowcol_to_xy(point[None, -2:]))[0]
        try:
            box = session.assist(xy, t, use_class=self.use_class_check.isChecked())
        except NothingAircraftLike as exc:
            self.status_label.setText(f"<b>nothing aircraft-like here</b>: {exc}")
            return None
        except ImageryToolError as exc:
            self.status_label.setText(f"<b>not boxed</b>: {exc}")
            return None
        self._update_status()
        self.status_label.setText(
            f"boxed <b>{box.label}</b> (score {box.score:.2f}); " + self.status_label.text()
        )
        return box

    def _call(self, method: str, *args) -> None:
        if self.session is not None:
            getattr(self.session, method)(*args)
            self._show_selection()
            self._update_status()

    def _review(self, status: str) -> None:
        if self.session is not None:
            self.session.review(status, note=self.note_edit.text() or None)
            self.note_edit.clear()
            self._show_selection()
            self._update_status()

    # -- display ---------------------------------------------------------------------------

    def _show_selection(self) -> None:
        session = self.session
        if session is None:
            return
        indices = session.selected_indices()
        if not indices:
            self.selection_label.setText("no box selected")
            return
        box = session.boxes[session.ids[indices[0]]]
        size, fits = session.size_text(box)
        attrs = ", ".join(f"{k}={v}" for k, v in box.attributes.items()) or "none"
        more = f" (+{len(indices) - 1} more selected)" if len(indices) > 1 else ""
        self.selection_label.setText(
            f"<b>{box.label}</b>{more}<br>size {size}, heading {box.angle_deg:.0f}°<br>"
            f"fits: {fits}<br>attributes: {attrs}<br>review: {box.review}"
            + (f" — {box.review_note}" if box.review_note else "")
            + f"<br>date: {box.acquired or '?'} ({box.tile}); source: {box.source}"
            + (f", score {box.score:.2f}" if box.score is not None else "")
        )
        self._loading = True
        try:
            for name, widget in self.attribute_widgets.items():
                value = box.attributes.get(name)
                if isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
        finally:
            self._loading = False

    def _update_status(self) -> None:
        session = self.session
        if session is None:
            return
        todo = len(session.unreviewed())
        self.review_label.setText(f"{todo} unreviewed of {len(session.ids)} boxes")
        if session.pending:
            self.status_label.setText(
                f"<b>{len(session.pending)} edit(s) not saved yet</b> "
                f"(store busy; retrying every {RETRY_MS // 1000} s)"
            )
        else:
            self.status_label.setText(f"all edits saved to {session.store.path}")
        self.undo_button.setEnabled(True)
        self.redo_button.setEnabled(True)

    def _set_enabled(self, on: bool) -> None:
        for widget in (self.class_combo, self.draw_button, self.undo_button, self.redo_button,
                       self.click_button):  # fmt: skip
            widget.setEnabled(on)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Flush and close the store when the dock closes."""
        if self.session is not None:
            self.session.close()
            self.session = None
        super().closeEvent(event)


def _button(text: str, layout, slot) -> QPushButton:
    button = QPushButton(text)
    button.clicked.connect(lambda _checked=False: slot())
    layout.addWidget(button)
    return button


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # pragma: no cover
        return "analyst"
