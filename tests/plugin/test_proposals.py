"""The proposals widget: propose in a worker, a layer and a queue, accept into the store, cancel."""

from __future__ import annotations

import numpy as np
import pytest
from imagery_tool_synthetic import random_series, render_date, tile_truth
from napari_imagery_tool._widgets.proposals import QUEUE_KEYS, ProposalsWidget

from imagery_tool.aircraft.nms import rotated_iou
from imagery_tool.annotations import open_store
from tests.plugin.conftest import dated_tile


@pytest.fixture(scope="module")
def aircraft_scene():
    """512 px at 0.5 m with four aircraft of known boxes (as in tests/core/aircraft)."""
    series = random_series(5, size=512, n_dates=1, n_aircraft=4, n_vehicles=3)
    truth = [o for o in tile_truth(series, 0)["objects"] if o["kind"] == "aircraft"]
    return render_date(series, 0), truth


@pytest.mark.slow
def test_propose_accept_reject_with_keys(make_napari_viewer, qtbot, tmp_path, aircraft_scene):
    image, truth = aircraft_scene
    folder = tmp_path / "site"
    folder.mkdir()
    dated_tile(folder, "2024-12-13", pixels=image)
    viewer = make_napari_viewer()
    viewer.open(str(folder), plugin="imagery-tool")
    widget = ProposalsWidget(viewer)
    assert widget.date_combo.currentText() == "2024-12-13"
    seen = []
    worker = widget.propose()
    worker.yielded.connect(seen.append)
    with qtbot.waitSignal(worker.finished, timeout=30_000):
        pass
    assert seen and seen[-1][0] == seen[-1][1]  # the bar reached the end
    assert len(widget.proposals) == 4 and widget.list.count() == 4
    for t in truth:
        assert max(rotated_iou(p.corners_px, t["corners_px"]) for p in widget.proposals) >= 0.5
    layer = widget.layer
    assert layer.name == "aircraft proposals 2024-12-13" and len(layer.data) == 4
    assert layer.features["text"][0].startswith(f"{widget.proposals[0].score:.2f}")
    # one key each, on the proposals layer
    keys = {k: layer.keymap[k] for k in layer.keymap}
    assert {QUEUE_KEYS[a] for a in ("next", "accept", "reject")} <= {str(k) for k in keys}
    widget.list.setCurrentRow(0)
    stored = widget.accept_current()  # accept #1 -> the queue moves to #2
    assert widget.list.currentRow() == 1
    widget.reject_current()  # reject #2 -> #3
    assert widget.states[:3] == ["accepted", "rejected", "open"]
    assert widget.list.item(0).text().startswith("✓")
    widget.step(-1)
    assert widget.list.currentRow() == 1
    assert widget.accept(0) is stored  # accepting twice stores once
    boxes = open_store(folder / "site.gpkg", readonly=True).annotations()
    assert len(boxes) == 1
    box = boxes[0]
    assert box.source == "proposed" and box.score == pytest.approx(widget.proposals[0].score, 1e-3)
    assert np.allclose(
        sorted(map(tuple, box.xy)), sorted(map(tuple, widget.proposals[0].corners_px)), atol=1e-3
    )


def test_cancel_discards_the_run(make_napari_viewer, qtbot, tmp_path, aircraft_scene):
    folder = tmp_path / "site"
    folder.mkdir()
    dated_tile(folder, "2024-12-13", pixels=aircraft_scene[0])
    viewer = make_napari_viewer()
    viewer.open(str(folder), plugin="imagery-tool")
    widget = ProposalsWidget(viewer)
    worker = widget.propose()
    widget.cancel()
    assert widget.stage_label.text() == "cancelled" and widget.propose_button.isEnabled()
    qtbot.waitUntil(lambda: not worker.is_running, timeout=20_000)
    assert widget.proposals == [] and widget.layer is None
