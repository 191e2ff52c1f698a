"""Click-to-box in the annotate widget: one click per An-124 of the sample tiles, undo, misses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from napari_imagery_tool._axes import xy_to_rowcol
from napari_imagery_tool._widgets.annotation import AnnotationWidget

SAMPLES = Path(__file__).parents[2] / "sample_tiles"
TILE = SAMPLES / "hmeimim_2024-12-13.tif"


@pytest.fixture
def clicker(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.open(str(TILE), plugin="imagery-tool")
    widget = AnnotationWidget(viewer)
    viewer.window.add_dock_widget(widget)
    session = widget.start(store_path=str(tmp_path / "hmeimim.gpkg"))
    assert session is not None
    return viewer, widget, session


def _an124s():
    truth = json.loads((SAMPLES / "truth" / "hmeimim_2024-12-13.json").read_text())
    return [o for o in truth["objects"] if o["class"] == "An-124"]


def test_one_click_per_an124_gives_rotated_an124_boxes(clicker):
    viewer, widget, session = clicker
    session.set_label("Su-24")  # not what is clicked: the class comes from the size
    widget.click_button.setChecked(True)
    assert session.layer.mode == "pan_zoom" and not session.layer.mouse_pan
    for obj in _an124s():
        box = widget.box_at(xy_to_rowcol([obj["center_px"]])[0])
        assert box is not None, widget.status_label.text()
        assert box.label == "An-124" and box.source == "assisted"
        assert not box.is_axis_aligned
        assert abs((box.angle_deg - obj["heading_deg"] + 90) % 180 - 90) < 8
    stored = session.store.annotations()
    assert sorted(b.label for b in stored) == ["An-124", "An-124"]
    assert {b.source for b in stored} == {"assisted"}
    session.undo()  # like any edit
    assert len(session.store.annotations()) == 1 and len(session.layer.data) == 1


def test_click_on_empty_apron_says_so_in_the_status_line(clicker):
    viewer, widget, session = clicker
    widget.click_button.setChecked(True)
    assert widget.box_at(xy_to_rowcol([[300.0, 1900.0]])[0]) is None
    assert "nothing aircraft-like here" in widget.status_label.text()
    assert len(session.layer.data) == 0


def test_key_toggles_click_mode_and_drawing_turns_it_off(clicker):
    viewer, widget, session = clicker
    from napari_imagery_tool._keys import load_keymap

    assert load_keymap()[0]["click_to_box"] == "C"
    widget.toggle_click_mode()
    assert widget.click_button.isChecked()
    session.layer.mode = "add_rectangle"
    assert not widget.click_button.isChecked()


def test_mouse_click_boxes_through_the_layer_callback(clicker):
    viewer, widget, session = clicker
    widget.click_button.setChecked(True)
    obj = _an124s()[1]
    point = xy_to_rowcol([obj["center_px"]])[0]

    class Event:  # what napari passes to a drag callback: a press, then a release
        type = "mouse_press"
        position = tuple(session.layer.data_to_world(point))

    event = Event()
    gen = widget._on_mouse(session.layer, event)
    next(gen)
    event.type = "mouse_release"
    with pytest.raises(StopIteration):
        next(gen)
    assert len(session.layer.data) == 1
    assert np.isclose(session.store.annotations()[0].length_px * 0.5, 69.1, rtol=0.35)
