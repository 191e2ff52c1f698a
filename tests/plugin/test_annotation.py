"""Annotation widget and session: draw, label, autosave, reopen, undo/redo, review, bad stores."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from napari_imagery_tool._axes import xy_to_rowcol
from napari_imagery_tool._widgets.annotation import AnnotationWidget

from imagery_tool.annotations import open_store


def rect(t, x0, y0, x1, y1):
    """napari vertices (date, row, col) of an axis-aligned box given in (x, y) pixel bounds."""
    rc = xy_to_rowcol([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    return np.column_stack([np.full(4, t), rc])


@pytest.fixture
def workbench(make_napari_viewer, site_folder, tmp_path):
    viewer = make_napari_viewer()
    viewer.open(str(site_folder), plugin="imagery-tool")
    widget = AnnotationWidget(viewer)
    viewer.window.add_dock_widget(widget)
    session = widget.start(store_path=str(tmp_path / "hmeimim.gpkg"))
    assert session is not None
    return viewer, widget, session


@pytest.mark.slow
def test_draw_label_autosave_reopen(workbench, make_napari_viewer, site_folder, tmp_path):
    viewer, widget, session = workbench
    widget.class_combo.setCurrentText("An-124")
    widget.attribute_widgets["nose_open"].setChecked(True)
    session.layer.add_rectangles([rect(1, 100, 200, 250, 340)])
    store = open_store(tmp_path / "hmeimim.gpkg", readonly=True)
    (box,) = store.annotations()
    assert box.label == "An-124" and box.attributes == {"nose_open": True}
    assert box.tile == "site_2025-01-10.tif"
    # the corners are on the later date's own grid: the stack shows it shifted onto the first
    shift = np.array(session.info.shifts[1])
    assert box.is_axis_aligned
    assert np.allclose(np.array(box.bounds), [100, 200, 250, 340] + np.tile(shift, 2), atol=0.3)
    size, fits = session.size_text(box)
    assert size.startswith("75.0 x 70.0 m") or size.startswith("70.0 x 75.0 m")
    assert "An-124" in fits
    store.close()

    # close the viewer and reopen: the box is back at the same place, with its label
    session.close()
    viewer.close()
    viewer2 = make_napari_viewer()
    viewer2.open(str(site_folder), plugin="imagery-tool")
    widget2 = AnnotationWidget(viewer2)
    session2 = widget2.start(store_path=str(tmp_path / "hmeimim.gpkg"))
    assert len(session2.ids) == 1
    assert np.allclose(session2.layer.data[0], rect(1, 100, 200, 250, 340), atol=0.3)
    session2.refresh_labels()
    assert "An-124 nose_open" in session2.label_layer.features["text"][0]


def test_edit_undo_redo_review(workbench, tmp_path):
    viewer, widget, session = workbench
    session.set_label("Il-76")
    session.layer.add_rectangles([rect(0, 10, 10, 100, 100), rect(0, 300, 300, 380, 390)])
    assert len(session.store) == 2
    session.layer.selected_data = {0}
    session.rotate(30)
    rotated = session.boxes[session.ids[0]]
    assert round(rotated.angle_deg) == 30 and not rotated.is_axis_aligned
    session.undo()
    assert session.boxes[session.ids[0]].is_axis_aligned
    session.redo()
    assert round(session.boxes[session.ids[0]].angle_deg) == 30
    # delete through the layer, undo brings the box back
    session.layer.selected_data = {1}
    session.layer.remove_selected()
    assert len(session.store) == 1
    session.undo()
    assert len(session.store) == 2 and len(session.layer.data) == 2
    # review: accept the first, step to the next unreviewed
    session.layer.selected_data = {0}
    session.review("accepted", note="clear nose")
    assert session.step_unreviewed(1) == 1
    stored = session.store.get(session.ids[0])
    assert stored.review == "accepted" and stored.review_note == "clear nose"
    assert "1 unreviewed of 2" in widget.review_label.text()


def test_store_of_another_project_is_refused(make_napari_viewer, site_folder, tmp_path):
    open_store(tmp_path / "other.gpkg", project="kherson").close()
    viewer = make_napari_viewer()
    viewer.open(str(site_folder), plugin="imagery-tool")
    widget = AnnotationWidget(viewer)
    widget.project_edit.setText("hmeimim")
    assert widget.start(store_path=str(tmp_path / "other.gpkg")) is None
    assert "kherson" in widget.status_label.text()


def test_locked_store_keeps_boxes_until_free(workbench, tmp_path, monkeypatch):
    from napari_imagery_tool import _autosave
    from napari_imagery_tool._session import LOCK_WAIT_S

    viewer, widget, session = workbench
    assert session.store.lock_timeout == LOCK_WAIT_S  # a GUI does not wait the store's minute
    said = []
    monkeypatch.setattr(_autosave, "notify", lambda message, level="info": said.append(message))
    locker = sqlite3.connect(tmp_path / "hmeimim.gpkg", timeout=0.1)
    locker.execute("BEGIN EXCLUSIVE")
    session.layer.add_rectangles([rect(0, 10, 10, 100, 100)])
    session.layer.add_rectangles([rect(0, 110, 10, 200, 100)])
    assert len(session.pending) == 2 and len(session.layer.data) == 2
    assert said == [  # once, not at every retry
        f"{session.store.path}: the store is locked by another process; edits are kept (and in "
        f"{session.rescue_path.name}) and saved when it is free"
    ]
    widget._update_status()
    assert "not saved yet" in widget.status_label.text()
    assert session.rescue_path.is_file()  # on disk too, whatever happens to napari
    locker.rollback()
    locker.close()
    assert session.flush()
    assert len(session.store) == 2 and not session.rescue_path.exists()


def test_edits_left_by_a_session_closed_while_locked_come_back(workbench, make_napari_viewer,
                                                                site_folder, tmp_path):  # fmt: skip
    viewer, widget, session = workbench
    locker = sqlite3.connect(tmp_path / "hmeimim.gpkg", timeout=0.1)
    locker.execute("BEGIN EXCLUSIVE")
    session.layer.add_rectangles([rect(1, 30, 40, 130, 120)])
    assert not session.close()  # still locked: nothing in the store, the edit in the rescue file
    widget.session = None
    locker.rollback()
    locker.close()
    assert len(open_store(tmp_path / "hmeimim.gpkg", readonly=True)) == 0
    viewer2 = make_napari_viewer()
    viewer2.open(str(site_folder), plugin="imagery-tool")
    session2 = AnnotationWidget(viewer2).start(store_path=str(tmp_path / "hmeimim.gpkg"))
    assert len(session2.store) == 1 and len(session2.layer.data) == 1
    assert not session2.rescue_path.exists()


def test_pixel_mode_sizes_in_pixels(make_napari_viewer, tmp_path):
    from tests.conftest import write_raster

    viewer = make_napari_viewer()
    path = write_raster(tmp_path / "plain.tif", np.full((3, 64, 80), 100, np.uint8))
    viewer.open(str(path), plugin="imagery-tool")
    widget = AnnotationWidget(viewer)
    session = widget.start(store_path=str(tmp_path / "plain.gpkg"))
    session.layer.add_rectangles([xy_to_rowcol([[5, 5], [25, 5], [25, 15], [5, 15]])])
    box = session.boxes[session.ids[0]]
    assert session.size_text(box) == ("10 x 20 px", "(pixel mode: no sizes in m)")


def test_keys_are_bound_and_configurable(workbench, tmp_path, monkeypatch):
    from napari_imagery_tool._keys import KEYS_ENV, bind_session_keys, load_keymap

    viewer, widget, session = workbench
    keys, classes = load_keymap()
    assert keys["accept"] == "A" and classes[0] == "An-124"
    user = tmp_path / "keys.yaml"
    user.write_text("keys:\n  accept: Space\n  reject: ''\nclasses: [Il-76, Su-24]\n")
    monkeypatch.setenv(KEYS_ENV, str(user))
    bound = bind_session_keys(session)
    assert bound["accept"] == "Space" and "reject" not in bound
    assert bound["class Il-76"] == "1" and bound["class Su-24"] == "2"
    # the number key sets the class for new boxes and the widget follows
    press = {str(k): f for k, f in session.layer.keymap.items()}
    press["1"](session.layer)
    assert session.label == "Il-76" and widget.class_combo.currentText() == "Il-76"


def test_writer_takes_a_plain_shapes_layer_over_the_image(workbench, tmp_path):
    import json

    from napari_imagery_tool._writer import write_boxes

    viewer, _, session = workbench
    plain = viewer.add_shapes([xy_to_rowcol([[10, 10], [50, 10], [50, 30], [10, 30]])])
    plain.features = {"kind": ["hangar"]}
    out = write_boxes(str(tmp_path / "plain.geojson"), [(plain.data, plain._get_state(), "shapes")])
    (feature,) = json.loads((tmp_path / "plain.geojson").read_text())["features"]
    assert out and feature["properties"]["attributes"] == {"kind": "hangar"}
    lon, lat = session.info.georef.pixel_to_lonlat(10, 10)
    assert any(np.allclose(c, (lon, lat), atol=1e-7) for c in feature["geometry"]["coordinates"][0])


def test_moving_a_box_with_the_mouse_is_saved(workbench):
    from napari.layers.base._base_constants import ActionType

    viewer, widget, session = workbench
    session.layer.add_rectangles([rect(0, 10, 10, 100, 60)])
    moved = session.layer.data[0] + np.array([0, 5, 20])  # 20 px right, 5 px down
    # what napari's select-mode drag does when the mouse is released
    session.layer._data_view.edit(0, moved)
    session.layer.events.data(
        value=session.layer.data, action=ActionType.CHANGED, data_indices=(0,),
        vertex_indices=((0, 1, 2, 3),),
    )  # fmt: skip
    stored = session.store.get(session.ids[0])
    assert np.allclose(stored.bounds, (30, 15, 120, 65)) and stored.revision == 2
    session.undo()
    assert np.allclose(session.store.get(session.ids[0]).bounds, (10, 10, 100, 60))
