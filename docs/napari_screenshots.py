"""Take the screenshots of docs/napari.md from a real napari window on the sample tiles.

Run under Xvfb from the checkout (the napari extra installed)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/napari_screenshots.py OUTDIR

It drives the same widgets the tests drive and writes ``napari_*.png`` (1280 x 800) to OUTDIR;
copy the ones that look right to ``docs/images/``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
WINDOW = (1280, 800)


def settle(ms: int = 400) -> None:
    """Let Qt draw for ``ms`` milliseconds."""
    from qtpy.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shot(viewer, path: Path) -> None:
    """Save the whole window (menus, docks, status bar) as a PNG."""
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    window = viewer.window._qt_window
    window.resize(*WINDOW)
    settle(800)
    for toast in window.findChildren(NapariQtNotification):  # not over the canvas
        toast.close()
    settle(200)
    window.grab().save(str(path))
    # 256 colours, as the other images of docs/: a third of the size, no visible loss here
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(256)
    small.save(path, optimize=True)
    print("wrote", path)


def boxes_on_stack(info, t: int) -> list[np.ndarray]:
    """Return the analyst's two An-124 boxes of date ``t`` as napari (date, row, col) vertices."""
    from napari_imagery_tool._axes import xy_to_rowcol

    path = SAMPLES / "annotations" / "hmeimim_2024-12-13_an124.geojson"
    out = []
    for feature in json.loads(path.read_text())["features"]:
        xy = info.from_tile(t, np.asarray(feature["properties"]["corners_px"], float))
        out.append(np.column_stack([np.full(4, t), xy_to_rowcol(xy)]))
    return out


def detect(compare) -> None:
    """Run the compare widget's detection and wait for it."""
    from qtpy.QtCore import QEventLoop

    loop = QEventLoop()
    compare.detect().finished.connect(loop.quit)
    loop.exec()


def look_at(viewer, centre_rc, zoom: float) -> None:
    """Centre the canvas on ``(row, col)`` at ``zoom`` screen px per data px."""
    from napari_imagery_tool._hooks import camera

    camera(viewer).center = tuple(centre_rc)
    camera(viewer).zoom = zoom


def workbench(out: Path) -> None:
    """Shoot the 4-date stack: open, annotate, accept a detection, review, export."""
    import napari
    from napari_imagery_tool._hooks import info_of
    from napari_imagery_tool._widgets.annotation import AnnotationWidget
    from napari_imagery_tool._widgets.compare import CompareWidget
    from napari_imagery_tool._widgets.export import ExportWidget

    viewer = napari.Viewer()
    (layer,) = viewer.open_sample("imagery-tool", "hmeimim")
    info = info_of(layer)
    viewer.dims.set_current_step(0, 2)
    viewer.window._qt_window.resize(*WINDOW)
    settle()
    viewer.reset_view()
    shot(viewer, out / "napari_stack.png")

    store = out / "hmeimim.gpkg"
    for old in out.glob("hmeimim.gpkg*"):
        old.unlink()
    annotate = AnnotationWidget(viewer)
    annotate_dock = viewer.window.add_dock_widget(annotate, name="Annotate boxes", area="right")
    session = annotate.start(store_path=str(store))
    annotate.class_combo.setCurrentText("An-124")
    annotate.attribute_widgets["nose_open"].setChecked(True)
    boxes = boxes_on_stack(info, 2)
    session.layer.add_polygons(boxes)
    session.layer.selected_data = {1}
    annotate._show_selection()
    look_at(viewer, np.concatenate(boxes)[:, 1:].mean(axis=0), 1.0)
    shot(viewer, out / "napari_annotate.png")

    # a detection 2024-11-29 -> 2024-12-13 accepted, the two An-124s reviewed
    compare = CompareWidget(viewer)  # not docked: the review shot shows the annotate dock
    compare.after_combo.setCurrentIndex(2)
    detect(compare)
    # the region found on the first An-124 (regions are on the first date's grid, the stack's)
    row, col = np.asarray(boxes[0])[:, 1:].mean(axis=0)
    found = min(
        (r for r in compare.result.regions if r.change == "appeared"),
        key=lambda r: np.hypot(np.mean(r.bbox_px[0::2]) - col, np.mean(r.bbox_px[1::2]) - row),
    )
    compare.accept(compare.result.regions.index(found))
    for layer_ in (compare.changes_layer, compare.heat_layer):
        if layer_ is not None:
            layer_.visible = False
    session.layer.selected_data = {0, 1}
    session.review("accepted", note="nose open, loading")
    session.layer.selected_data = {len(session.ids) - 1}
    viewer.layers.selection.active = session.layer
    annotate._show_selection()
    annotate._update_status()
    centre = np.asarray(session.layer.data[-1])[:, 1:].mean(axis=0)
    look_at(viewer, centre, 1.6)
    viewer.dims.set_current_step(0, 2)
    shot(viewer, out / "napari_review.png")

    annotate_dock.hide()
    export = ExportWidget(viewer)
    viewer.window.add_dock_widget(export, name="Export", area="right")
    export.site_edit.setText("Hmeimim air base")
    export.export_png(str(out / "review.png"))
    export.export_boxes(str(out / "boxes.geojson"), format="geojson")
    shot(viewer, out / "napari_export.png")
    session.close()
    viewer.close()


def comparison(out: Path) -> None:
    """Shoot two dates: the detection's results listed, then the swipe."""
    import napari
    from napari_imagery_tool._reader import read_paths
    from napari_imagery_tool._widgets.compare import CompareWidget

    viewer = napari.Viewer()
    paths = [SAMPLES / "hmeimim_2024-12-06.tif", SAMPLES / "hmeimim_2024-12-13.tif"]
    for data, kwargs, _kind in read_paths([str(p) for p in paths]):
        viewer.add_image(data, **kwargs)
    compare = CompareWidget(viewer)
    viewer.window.add_dock_widget(compare, name="Compare dates", area="right")
    detect(compare)
    viewer.window._qt_window.resize(*WINDOW)
    settle()
    viewer.dims.set_current_step(0, 1)
    look_at(viewer, (1000, 900), 0.42)  # the apron: both An-124s and the Tu-154's stand
    shot(viewer, out / "napari_compare.png")

    compare.swipe_button.setChecked(True)
    look_at(viewer, (1000, 1000), 1.2)
    shot(viewer, out / "napari_swipe.png")
    viewer.close()


def main(out: Path) -> None:
    """Write every screenshot to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    # napari's settings in a throwaway file, the user's left alone
    os.environ["NAPARI_CONFIG"] = str(Path(tempfile.mkdtemp()) / "settings.yaml")
    warnings.simplefilter("ignore")
    import napari
    import qtpy

    print(f"napari {napari.__version__} on {qtpy.API_NAME} {qtpy.QT_VERSION}")
    workbench(out)
    comparison(out)


if __name__ == "__main__":  # detection runs in a spawned child process that imports this file
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "napari_screenshots"))
