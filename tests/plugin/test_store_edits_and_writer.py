"""The plugin and the store: a box deleted by another user, the writer's columns, the lock wait."""

from __future__ import annotations

import dataclasses
import sqlite3
from types import SimpleNamespace

from napari_imagery_tool import _autosave
from napari_imagery_tool._autosave import Autosave
from napari_imagery_tool._writer import write_boxes

from imagery_tool.annotations import BoxAnnotation, default_schema, open_store
from imagery_tool.annotations.schema import AttributeDef


def _box(**attributes) -> BoxAnnotation:
    return BoxAnnotation.from_xyxy(10, 10, 60, 40, label="Su-24", attributes=attributes)


def _write_to(store):
    def write(action, payload):
        if action == "add":
            store.add(payload)
        elif action == "update":
            store.update_many(payload)

    return write


def test_an_edit_of_a_box_another_user_deleted_does_not_block_later_edits(tmp_path, monkeypatch):
    said = []
    monkeypatch.setattr(_autosave, "notify", lambda message, level="info": said.append(level))
    path = tmp_path / "p.gpkg"
    with open_store(path, author="ann") as ann, open_store(path, author="bob") as bob:
        box = ann.add(_box())
        bob.delete(box.id)
        reloads = []
        autosave = Autosave(ann, write=_write_to(ann), reload=lambda: reloads.append(1))
        assert autosave.save("update", [box.replace(label="Il-76")])  # dropped, reported
        assert said == ["warning"] and reloads and not autosave.pending
        assert autosave.save("add", _box())  # the next edit is saved
        assert len(ann) == 1 and not autosave.blocked


def test_the_writer_gives_a_new_store_the_session_s_columns(tmp_path):
    base = default_schema()
    tail = AttributeDef("tail_number", "text")
    schema = dataclasses.replace(base, attributes={**base.attributes, "tail_number": tail})
    box = _box(tail_number="RA-82010").replace(tile="t.tif")
    session = SimpleNamespace(
        flush=lambda: True, boxes={box.id: box}, ids=[box.id],
        info=SimpleNamespace(tiles=[]), schema=schema,
    )  # fmt: skip
    out = tmp_path / "layer.gpkg"
    assert write_boxes(str(out), [(None, {"metadata": {"imagery_tool_session": session}}, "s")])
    with open_store(out, readonly=True) as store:
        assert "tail_number" in store.attribute_columns
    con = sqlite3.connect(out)
    assert con.execute("SELECT tail_number FROM annotations").fetchall() == [("RA-82010",)]
    con.close()


def test_a_session_opens_its_store_with_the_short_gui_lock_wait(
    make_napari_viewer, site_folder, tmp_path, monkeypatch
):
    from napari_imagery_tool import _session
    from napari_imagery_tool._widgets.annotation import AnnotationWidget

    waits = []

    def recording_open_store(*args, **kwargs):
        waits.append(kwargs.get("lock_timeout"))
        return open_store(*args, **kwargs)

    monkeypatch.setattr(_session, "open_store", recording_open_store)
    viewer = make_napari_viewer()
    viewer.open(str(site_folder), plugin="imagery-tool")
    session = AnnotationWidget(viewer).start(store_path=str(tmp_path / "p.gpkg"))
    assert session is not None and waits == [_session.LOCK_WAIT_S]


# Okabe & Ito's eight colours (RGB), safe for colour-blind readers.
OKABE_ITO = {(0, 0, 0), (230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66),
             (0, 114, 178), (213, 94, 0), (204, 121, 167)}  # fmt: skip


def test_boxes_and_proposals_share_one_colour_blind_safe_review_palette():
    from napari_imagery_tool._session import AnnotationSession
    from napari_imagery_tool._widgets.proposals import _state_hex

    from imagery_tool.style import CHANGE_COLOURS, DETECTED_COLOUR, REVIEW_COLOURS, review_hex

    review = {*REVIEW_COLOURS.values(), DETECTED_COLOUR}
    assert review <= OKABE_ITO and len(review) == 4
    assert not review & set(CHANGE_COLOURS.values())  # boxes never look like changes
    for state in ("accepted", "rejected"):
        box = _box().replace(review=state)
        assert AnnotationSession._colour(None, box) == _state_hex(state) == review_hex(state)
    detected = _box().replace(source="detected")
    assert AnnotationSession._colour(None, detected) == _state_hex("open") == review_hex("detected")
