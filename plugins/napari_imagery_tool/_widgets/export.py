"""The export dock widget: reviewer PNG through the core renderer, store to interchange formats."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from imagery_tool.atomic import check_not_input
from imagery_tool.errors import ImageryToolError
from napari_imagery_tool._hooks import active_info, current_date_index, install, unwrap
from napari_imagery_tool._notify import notify
from napari_imagery_tool._widgets.layout import scrolled_layout

__all__ = ["ExportWidget"]


class ExportWidget(QWidget):
    """Write a reviewer PNG of the date shown, or the project's boxes in another format."""

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = unwrap(napari_viewer)
        install(self.viewer)
        self.setMaximumWidth(400)
        layout = scrolled_layout(self)

        png = QGroupBox("Reviewer PNG (as imagery-tool render)")
        form = QFormLayout(png)
        self.png_edit = QLineEdit()
        form.addRow("file", _with_browse(self.png_edit, "PNG (*.png)", self))
        self.before_check = QCheckBox("before/after sheet with the compared date")
        self.changes_check = QCheckBox("draw the detected changes")
        self.chips_check = QCheckBox("add object chips")
        for check in (self.before_check, self.changes_check, self.chips_check):
            form.addRow(check)
        self.site_edit = QLineEdit()
        self.site_edit.setPlaceholderText("e.g. Hmeimim air base")
        form.addRow("site", self.site_edit)
        self.png_button = QPushButton("Write PNG")
        self.png_button.clicked.connect(lambda _c=False: self.export_png())
        form.addRow(self.png_button)
        layout.addWidget(png)

        boxes = QGroupBox("Boxes to a file format")
        form = QFormLayout(boxes)
        self.format_combo = QComboBox()
        # as wide as the dock allows, not as its longest item: the row's label stays whole
        self.format_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.format_combo.setMinimumContentsLength(12)
        try:
            from imagery_tool.annotations.formats import FORMATS

            for name, spec in FORMATS.items():
                self.format_combo.addItem(f"{name} — {spec.title}", name)
        except ImportError:  # pragma: no cover
            self.format_combo.addItem("geojson", "geojson")
        form.addRow("format", self.format_combo)
        self.out_edit = QLineEdit()
        form.addRow("to", _with_browse(self.out_edit, "", self))
        self.boxes_button = QPushButton("Export boxes")
        self.boxes_button.clicked.connect(lambda _c=False: self.export_boxes())
        form.addRow(self.boxes_button)
        layout.addWidget(boxes)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addStretch(1)

    # -- helpers ---------------------------------------------------------------------------

    def _session(self):
        for layer in self.viewer.layers:
            session = (layer.metadata or {}).get("imagery_tool_session")
            if session is not None:
                return session
        return None

    def _compare(self):
        for layer in self.viewer.layers[::-1]:
            result = (layer.metadata or {}).get("imagery_tool_changes")
            if result is not None:
                return result
        return None

    def _say(self, text: str, *, warning: bool = False) -> None:
        self.status.setText(text)
        notify(text, "warning" if warning else "info")

    # -- PNG -------------------------------------------------------------------------------

    def export_png(self, path: str | None = None) -> Path | None:
        """Render the date shown with its boxes (and the compared date/changes when asked)."""
        from imagery_tool.render import render, write_png

        _, info = active_info(self.viewer)
        if info is None:
            self._say("open a tile first", warning=True)
            return None
        t = current_date_index(self.viewer, info)
        tile = info.tiles[t]
        path = (
            path or self.png_edit.text() or str(tile.path.with_name(f"{tile.path.stem}_review.png"))
        )
        self.png_edit.setText(path)
        session = self._session()
        options = {"site": self.site_edit.text() or None}
        if session is not None:
            session.flush()
            options["annotations"] = [session.boxes[i] for i in session.ids]
        result = self._compare()
        if result is not None and (self.before_check.isChecked() or self.changes_check.isChecked()):
            if result.after.path == tile.path and self.before_check.isChecked():
                options["before"] = result.before
                options["annotations"] = options.get("annotations", [])
            if self.changes_check.isChecked() and result.before.path in (
                tile.path,
                options.get("before", tile).path,
            ):
                changes = Path(tempfile.mkdtemp()) / "changes.json"
                changes.write_text(json.dumps(result.to_json()))
                options["changes"] = changes
        options["chips"] = self.chips_check.isChecked()
        inputs = [tile.path, getattr(options.get("before"), "path", None)]
        if session is not None:
            inputs.append(session.store.path)
        try:
            check_not_input(path, inputs=inputs, option="PNG")  # as the command line refuses it
            rendering = render(tile, **options)
            out = write_png(rendering.image, path)
        except (ImageryToolError, OSError, ValueError) as exc:
            self._say(f"PNG not written: {exc}", warning=True)
            return None
        self._say(f"wrote {out} ({rendering.image.shape[1]} x {rendering.image.shape[0]} px)")
        return out

    # -- boxes -----------------------------------------------------------------------------

    def export_boxes(self, path: str | None = None, *, format: str | None = None) -> Path | None:
        """Write the session's boxes (all tiles of the stack) in an interchange format."""
        import warnings

        from imagery_tool.annotations.formats import FORMATS, write_annotations
        from imagery_tool.annotations.store import TileRecord
        from imagery_tool.errors import DataLossWarning

        session = self._session()
        if session is None:
            self._say("start annotating (or accept detections) first: no boxes", warning=True)
            return None
        name = format or self.format_combo.currentData()
        spec = FORMATS[name]
        default = session.store.path.with_name(f"{session.store.path.stem}_{name}{spec.suffix}")
        out = Path(path or self.out_edit.text() or default)
        self.out_edit.setText(str(out))
        session.flush()
        boxes = [session.boxes[i] for i in session.ids]
        tiles = [TileRecord.from_tile(t) for t in session.info.tiles]
        inputs = [session.store.path, *(t.path for t in session.info.tiles)]
        try:
            check_not_input(out, inputs=inputs, option="export")  # never over the store or a tile
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DataLossWarning)
                write_annotations(boxes, out, format=name, tiles=tiles, schema=session.schema)
        except (ImageryToolError, OSError, ValueError) as exc:
            self._say(f"not exported: {exc}", warning=True)
            return None
        lost = "; ".join(str(w.message) for w in caught if issubclass(w.category, DataLossWarning))
        self._say(f"wrote {len(boxes)} box(es) to {out}" + (f" ({lost})" if lost else ""))
        return out


def _with_browse(edit: QLineEdit, filter_: str, parent) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit)
    button = QPushButton("…")
    button.setMaximumWidth(30)

    def browse() -> None:
        path, _ = QFileDialog.getSaveFileName(parent, "Save as", edit.text(), filter_)
        if path:
            edit.setText(path)

    button.clicked.connect(lambda _c=False: browse())
    row.addWidget(button)
    return holder
