"""The plugin on Qt6: the binding the napari extra installs runs, Qt only through qtpy, scoped
enums, and the docked widgets show every label whole in a window of an ordinary size."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import qtpy
from napari_imagery_tool._widgets.annotation import AnnotationWidget
from napari_imagery_tool._widgets.compare import CompareWidget
from napari_imagery_tool._widgets.export import ExportWidget
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QApplication, QFileDialog, QLabel, QScrollArea

from tests.plugin.test_annotation import rect

PLUGIN = Path(__file__).parents[2] / "plugins" / "napari_imagery_tool"
BINDINGS = {"PyQt5", "PyQt6", "PySide2", "PySide6"}
WINDOW = (1280, 800)  # a laptop screen less the desktop's panels


def test_the_napari_extra_runs_qt6():
    # `pip install .[napari]` brings PyQt6 only; a PyQt5 left in the environment would win in
    # qtpy's default order and silently run Qt 5.
    assert qtpy.QT6 and qtpy.API_NAME == "PyQt6", (
        f"GUI tests run on {qtpy.API_NAME} {qtpy.QT_VERSION}: install the napari extra "
        "(PyQt6) and uninstall PyQt5, or set QT_API=pyqt6"
    )


def test_plugin_imports_qt_only_through_qtpy_and_only_in_widgets():
    offenders = []
    for path in sorted(PLUGIN.rglob("*.py")):
        in_widgets = path.parent.name == "_widgets"
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                if root in BINDINGS or (root == "qtpy" and not in_widgets):
                    offenders.append(f"{path.relative_to(PLUGIN)}:{node.lineno} {name}")
    assert not offenders


def test_store_browse_opens_the_save_dialog(make_napari_viewer, tmp_path):
    # the real dialog of the binding, with its keyword and scoped option, closed by a timer
    widget = AnnotationWidget(make_napari_viewer())
    widget.store_edit.setText(str(tmp_path / "hmeimim.gpkg"))
    seen = []

    def cancel_when_shown() -> None:
        dialogs = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, QFileDialog) and w.isVisible()]  # fmt: skip
        if not dialogs:
            QTimer.singleShot(50, cancel_when_shown)
            return
        seen.append(dialogs[0].testOption(QFileDialog.Option.DontConfirmOverwrite))
        dialogs[0].reject()

    QTimer.singleShot(50, cancel_when_shown)
    widget._browse()
    assert seen == [True]
    assert widget.store_edit.text() == str(tmp_path / "hmeimim.gpkg")  # cancelled: unchanged


def clipped_labels(widget) -> list[str]:
    """The visible labels of ``widget`` drawn smaller than their text needs, and its body when
    it is wider than the dock shows."""
    out = []
    for area in widget.findChildren(QScrollArea):
        if area.widget().width() > area.viewport().width():
            out.append(f"body {area.widget().width()} px wide in {area.viewport().width()} px")
    for label in widget.findChildren(QLabel):
        if not label.isVisibleTo(widget) or not label.text():
            continue
        if label.wordWrap():
            need_h, need_w = label.heightForWidth(label.width()), 0
        else:
            need_h, need_w = label.sizeHint().height(), label.sizeHint().width()
        if label.height() < need_h or label.width() < need_w:
            out.append(f"{label.text()[:40]!r}: {label.width()}x{label.height()} "
                       f"< {need_w}x{need_h}")  # fmt: skip
    return out


@pytest.mark.slow
def test_docked_widgets_show_their_labels_whole(make_napari_viewer, qtbot, site_folder, tmp_path):
    viewer = make_napari_viewer(show=True)
    viewer.open(str(site_folder), plugin="imagery-tool")
    annotate = AnnotationWidget(viewer)
    compare = CompareWidget(viewer)
    export = ExportWidget(viewer)
    for name, widget in (("Annotate boxes", annotate), ("compare", compare), ("Export", export)):
        viewer.window.add_dock_widget(widget, name=name, area="right")
    session = annotate.start(store_path=str(tmp_path / "hmeimim.gpkg"))
    annotate.class_combo.setCurrentText("An-124")
    session.layer.add_rectangles([rect(1, 100, 200, 250, 340)])
    session.review("accepted", note="clear nose, engines on")
    session.layer.selected_data = {0}
    annotate._show_selection()  # six lines: class, size, fits, attributes, review, date
    window = viewer.window._qt_window
    window.resize(*WINDOW)
    qtbot.wait(300)
    assert window.width() <= WINDOW[0] + 50 and window.height() <= WINDOW[1] + 50
    assert clipped_labels(annotate) == []
    assert clipped_labels(compare) == []
    assert clipped_labels(export) == []
