"""The analyst's path end to end: open -> draw -> label -> autosave -> close -> reopen -> detect
-> accept -> export; plus the writer and the compare widget's cancel."""

from __future__ import annotations

import json

import numpy as np
import pytest
from napari_imagery_tool._hooks import info_of
from napari_imagery_tool._widgets.annotation import AnnotationWidget
from napari_imagery_tool._widgets.compare import CompareWidget
from napari_imagery_tool._widgets.export import ExportWidget
from napari_imagery_tool._writer import write_boxes

from imagery_tool.annotations import open_store
from imagery_tool.style import CHANGE_COLOURS
from tests.plugin.conftest import dated_tile, scene
from tests.plugin.test_annotation import rect

# A 30 m x 25 m "aircraft" (with its shadow) appears on the second date at cols 400-460,
# rows 80-130.
NEW_OBJECT = (400, 80, 460, 130)


@pytest.fixture
def change_folder(tmp_path):
    folder = tmp_path / "hmeimim"
    folder.mkdir()
    dated_tile(folder, "2024-12-13")
    after = scene(10)
    x0, y0, x1, y1 = NEW_OBJECT
    after[:, y0 + 10 : y1 + 10, x0 + 10 : x1 + 10] = 40  # its shadow, as the sun casts it
    after[:, y0:y1, x0:x1] = 235
    dated_tile(folder, "2025-01-10", pixels=after)
    return folder


@pytest.mark.slow
def test_whole_workflow(make_napari_viewer, qtbot, change_folder, tmp_path):
    store_path = tmp_path / "hmeimim.gpkg"
    # open -> draw -> label -> autosave
    viewer = make_napari_viewer()
    viewer.open(str(change_folder), plugin="imagery-tool")
    annotate = AnnotationWidget(viewer)
    session = annotate.start(store_path=str(store_path))
    annotate.class_combo.setCurrentText("An-124")
    annotate.attribute_widgets["nose_open"].setChecked(True)
    session.layer.add_rectangles([rect(0, 100, 300, 250, 440)])
    assert len(open_store(store_path, readonly=True).annotations()) == 1
    # close -> reopen: the box is back
    session.close()
    viewer.close()
    viewer = make_napari_viewer()
    viewer.open(str(change_folder), plugin="imagery-tool")
    annotate = AnnotationWidget(viewer)
    session = annotate.start(store_path=str(store_path))
    assert len(session.ids) == 1
    assert session.boxes[session.ids[0]].attributes == {"nose_open": True}

    # detect in a worker -> the new object is found -> accept it
    compare = CompareWidget(viewer)
    assert compare.before_combo.currentText() == "2024-12-13"
    assert compare.after_combo.currentText() == "2025-01-10"
    compare.min_score_spin.setValue(0.5)
    with qtbot.waitSignal(compare.detect().finished, timeout=60_000):
        pass
    assert compare.result.parameters["min_score"] == 0.5
    assert all(r.score >= 0.5 for r in compare.result.regions)
    appeared = [r for r in compare.result.regions if r.change == "appeared"]
    assert appeared, compare.stage_label.text()
    x0, y0, x1, y1 = NEW_OBJECT
    best = max(appeared, key=lambda r: r.iou((x0, y0, x1, y1)))
    assert best.iou((x0, y0, x1, y1)) > 0.5  # the object with its shadow
    assert compare.changes_layer is not None and len(compare.changes_layer.data) == len(
        compare.result.regions
    )
    row = compare.result.regions.index(best)
    # outlined in the one palette of the change kinds, the reviewer sheet's
    appeared_rgb = np.array(CHANGE_COLOURS["appeared"]) / 255
    assert np.allclose(compare.changes_layer.edge_color[row][:3], appeared_rgb, atol=0.01)
    compare.list.setCurrentRow(row)
    stored = compare.accept_current()
    assert stored.source == "detected" and stored.score == pytest.approx(best.score)
    assert compare.accept_current() is stored  # accepting again stores nothing more
    assert stored.tile == "site_2025-01-10.tif"
    assert len(open_store(store_path, readonly=True).annotations()) == 2

    # blink flips the dates
    viewer.dims.set_current_step(0, 1)
    compare.flip()
    assert viewer.dims.current_step[0] == 0
    # swipe: AFTER's columns left of the line over BEFORE
    compare.swipe_slider.setValue(250)
    compare.swipe_button.setChecked(True)
    swipe = compare.swipe_layer
    assert swipe.data[0].shape == (512, 160, 3) and viewer.dims.current_step[0] == 0
    compare.swipe_slider.setValue(500)
    assert swipe.data[0].shape == (512, 320, 3)
    assert np.array_equal(np.asarray(swipe.data[0][200:210, 300:310]),
                          np.asarray(viewer.layers[0].data[0][1, 200:210, 300:310]))  # fmt: skip
    compare.swipe_button.setChecked(False)
    assert swipe not in viewer.layers

    # export: reviewer PNG through the core renderer, and GeoJSON of the store
    export = ExportWidget(viewer)
    viewer.dims.set_current_step(0, 1)
    png = export.export_png(str(tmp_path / "review.png"))
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # never over an input: the live store, or the tile shown (as the command line refuses)
    assert export.export_boxes(str(store_path), format="coco") is None
    assert "would destroy the input" in export.status.text()
    assert len(open_store(store_path, readonly=True).annotations()) == 2
    assert export.export_png(str(change_folder / "site_2025-01-10.tif")) is None
    out = export.export_boxes(str(tmp_path / "boxes.geojson"), format="geojson")
    collection = json.loads(out.read_text())
    assert len(collection["features"]) == 2
    labels = {f["properties"]["label"] for f in collection["features"]}
    assert "An-124" in labels
    # the napari writer gives the same boxes
    written = write_boxes(str(tmp_path / "layer.geojson"), [(None, session.layer._get_state(),
                                                              "shapes")])  # fmt: skip
    assert written and len(json.loads((tmp_path / "layer.geojson").read_text())["features"]) == 2
    assert write_boxes(str(tmp_path / "layer.gpkg"), [(None, session.layer._get_state(), "shapes")])
    assert len(open_store(tmp_path / "layer.gpkg", readonly=True).annotations()) == 2


@pytest.mark.slow
def test_cancel_detection_discards_result(make_napari_viewer, qtbot, change_folder):
    viewer = make_napari_viewer()
    viewer.open(str(change_folder), plugin="imagery-tool")
    compare = CompareWidget(viewer)
    worker = compare.detect()
    qtbot.waitUntil(lambda: bool(compare.jobs), timeout=10_000)
    child = compare.jobs[0]._process
    assert child.is_alive()
    compare.cancel()
    assert compare.detect_button.isEnabled() and compare.stage_label.text() == "cancelled"
    assert not child.is_alive()  # the computation stopped at once, not only the display
    qtbot.waitUntil(lambda: not worker.is_running, timeout=10_000)
    assert compare.result is None and compare.changes_layer is None


def test_single_date_cannot_be_compared(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.open(str(dated_tile(tmp_path, "2024-12-13")), plugin="imagery-tool")
    compare = CompareWidget(viewer)
    assert not compare.detect_button.isEnabled()
    assert compare.detect() is None
    assert info_of(viewer.layers[0]) is not None
    assert np.asarray(viewer.layers[0].data[0][:2, :2]).shape == (2, 2, 3)


def test_detection_runs_with_the_runtime_settings_of_naparis_main_thread(
    make_napari_viewer, qtbot, change_folder
):
    from imagery_tool.runtime import runtime

    viewer = make_napari_viewer()
    viewer.open(str(change_folder), plugin="imagery-tool")
    compare = CompareWidget(viewer)
    with runtime(jpeg_decoder=False, jpeg_cache_mb=321):  # as typed in napari's console
        worker = compare.detect()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    recorded = compare.result.parameters["runtime"]
    assert recorded["jpeg_decoder"] == "GDAL" and recorded["jpeg_cache_mb"] == 321
