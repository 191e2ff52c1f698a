"""GeoPackage store: a valid GeoPackage GDAL reads with the right lon/lat, edits, history, undo."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time

import numpy as np
import pyogrio
import pytest
from pyogrio.raw import read as ogr_read

from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.store import (
    FORMAT_VERSION,
    StoreConflictError,
    TileRecord,
    open_store,
)
from imagery_tool.errors import StoreError
from imagery_tool.georef import GeoRef
from imagery_tool.tile import open_tile

from .conftest import TILE_NAME


def _ring(wkb: bytes) -> np.ndarray:
    """Decode a little-endian WKB polygon's exterior ring (as GDAL returns it)."""
    assert wkb[0] == 1 and int.from_bytes(wkb[1:5], "little") == 3
    rings = int.from_bytes(wkb[5:9], "little")
    if rings == 0:
        return np.empty((0, 2))
    n = int.from_bytes(wkb[9:13], "little")
    return np.frombuffer(wkb[13 : 13 + 16 * n], dtype="<f8").reshape(n, 2)


def test_file_is_a_geopackage(store):
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    assert con.execute("PRAGMA user_version").fetchone()[0] == 10300
    srs = {r[0] for r in con.execute("SELECT srs_id FROM gpkg_spatial_ref_sys")}
    assert srs == {-1, 0, 4326}
    contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
    assert contents == {
        "annotations": "features", "tiles": "attributes", "history": "attributes",
        "store_meta": "attributes",
    }  # fmt: skip
    assert con.execute("SELECT * FROM gpkg_geometry_columns").fetchall() == [
        ("annotations", "geom", "POLYGON", 4326, 0, 0)
    ]
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_gdal_reads_lonlat_polygons_matching_the_tile_georeference(store, boxes, georef):
    info = pyogrio.read_info(store.path, layer="annotations")
    assert info["crs"] == "EPSG:4326" and info["geometry_type"] == "Polygon"
    assert info["features"] == len(boxes)
    layers = dict(pyogrio.list_layers(store.path))
    assert set(layers) == {"annotations", "tiles", "history", "store_meta"}
    meta, _, geometry, fields = ogr_read(store.path, layer="annotations")
    columns = list(meta["fields"])
    for i, box in enumerate(boxes):
        ring = _ring(geometry[i])
        assert len(ring) == 5 and np.array_equal(ring[0], ring[-1])
        expected = box.lonlat(georef)
        # every corner is there (the ring is written counter-clockwise)
        for corner in expected:
            assert np.abs(ring[:4] - corner).max(axis=1).min() < 1e-9
        assert ring[:, 0].mean() == pytest.approx(35.949, abs=2e-3)
        assert ring[:, 1].mean() == pytest.approx(35.401, abs=2e-3)
        assert fields[columns.index("uuid")][i] == box.id
        assert fields[columns.index("label")][i] == box.label
        corners = json.loads(fields[columns.index("corners_px")][i])
        np.testing.assert_allclose(corners, box.xy)
    labels = list(fields[columns.index("label")])
    nose = fields[columns.index("nose_open")]
    assert [bool(nose[i]) for i, x in enumerate(labels) if x == "An-124"] == [True] * 3
    lengths = fields[columns.index("length_m")]
    assert lengths[0] == pytest.approx(70.0)  # 140 px at 0.5 m


def test_gdal_reads_the_tiles_table_and_pixel_lonlat_works_without_the_file(store, georef):
    _, _, _, fields = ogr_read(store.path, layer="tiles")
    assert list(fields[0]) == [TILE_NAME]
    record = store.tile(TILE_NAME)
    assert record.georef == georef


def test_tile_without_georeference_gives_empty_geometry_that_still_loads(tmp_path):
    with open_store(tmp_path / "p.gpkg") as s:
        s.add_tile(TileRecord("photo.png", 100, 200))
        a = s.add(BoxAnnotation.from_xyxy(1, 2, 30, 40, label="Su-24", tile="photo.png"))
        b = s.add(BoxAnnotation.from_xyxy(1, 2, 30, 40, label="Su-24", tile="unregistered.tif"))
        assert s.get(a.id).same_as(a) and s.get(b.id).same_as(b)
    _, _, geometry, _ = ogr_read(tmp_path / "p.gpkg", layer="annotations")
    assert [len(_ring(g)) for g in geometry] == [0, 0]


def test_registering_a_tile_later_fills_in_the_geometry(tmp_path, tile_record):
    with open_store(tmp_path / "p.gpkg") as s:
        s.add(BoxAnnotation.from_xyxy(10, 10, 20, 20, label="x", tile=TILE_NAME))
        s.add_tile(tile_record)
    _, _, geometry, _ = ogr_read(tmp_path / "p.gpkg", layer="annotations")
    assert len(_ring(geometry[0])) == 5


def test_tile_record_from_a_real_geotiff(tile_path, georef):
    record = TileRecord.from_tile(open_tile(tile_path))
    assert record.name == TILE_NAME and record.georef == georef
    assert record.acquired == "2024-12-13T08:21:00Z"


def test_add_get_update_delete_and_revisions(store, boxes):
    a = store.get(boxes[0].id)
    assert a.revision == 1 and a.same_as(boxes[0].replace(revision=1, modified=a.modified))
    b = store.update(a.replace(attributes={**a.attributes, "nose_open": False}))
    assert b.revision == 2 and store.get(a.id).attributes["nose_open"] is False
    with pytest.raises(StoreConflictError, match="revision 2, not 1"):
        store.update(a.replace(label="Il-76"))  # based on revision 1: stale
    store.delete(a.id)
    assert a.id not in store and len(store) == len(boxes) - 1
    with pytest.raises(KeyError):
        store.get(a.id)
    with pytest.raises(StoreError, match="already stored"):
        store.add(boxes[1])


def test_acquired_and_author_default_from_tile_and_session(tmp_path, tile_record):
    with open_store(tmp_path / "p.gpkg", author="carol") as s:
        s.add_tile(tile_record)
        a = s.add(BoxAnnotation.from_xyxy(1, 1, 9, 9, label="tug", tile=TILE_NAME))
    assert (a.author, a.acquired) == ("carol", "2024-12-13T08:21:00Z")


def test_history_shows_who_changed_what(store, boxes):
    other = open_store(store.path, author="bob")
    a = other.get(boxes[0].id)
    other.update(a.reviewed("rejected", reviewer="bob", note="it is an Il-76"))
    entries = store.history(annotation_id=a.id)
    assert [(e.who, e.action) for e in entries] == [("bob", "update"), ("ann", "add")]
    assert "review, review_note" in entries[0].describe()
    assert entries[0].before["review"] == "accepted" and entries[0].after["review"] == "rejected"
    other.close()


def test_undo_redo_across_sessions(tmp_path, tile_record, boxes):
    path = tmp_path / "p.gpkg"
    with open_store(path, author="ann") as s:
        s.add_tile(tile_record)
        a = s.add(boxes[0])
        s.update(a.replace(label="Il-76"))
    with open_store(path, author="ann") as s:  # a new session
        assert s.can_undo()
        undone = s.undo()
        assert [e.action for e in undone] == ["update"] and undone[0].state == "undone"
        assert s.get(a.id).label == "An-124" and s.get(a.id).revision == 1
        s.undo()
        assert len(s) == 0 and not s.can_undo()
    with open_store(path, author="ann") as s:
        assert s.can_redo()
        s.redo()
        s.redo()
        assert s.get(a.id).label == "Il-76" and not s.can_redo()
        assert s.undo() and s.get(a.id).label == "An-124"


def test_new_edit_drops_the_redo_stack(store, boxes):
    store.undo()  # the batch of 4 adds
    assert len(store) == 0 and store.can_redo()
    store.add(BoxAnnotation.from_xyxy(0, 0, 5, 5, label="tug"))
    assert not store.can_redo()
    assert store.redo() == []


def test_batch_add_is_undone_at_once(store, boxes):
    assert len(store) == 4
    undone = store.undo()
    assert len(undone) == 4 and len(store) == 0


def test_undo_refuses_to_overwrite_another_users_edit(store, boxes):
    a = store.get(boxes[0].id)
    store.update(a.replace(label="Il-76"))
    with open_store(store.path, author="bob") as bob:
        b = bob.get(a.id)
        bob.update(b.replace(attributes={"note": "bob was here"}))
    with pytest.raises(StoreConflictError, match=r"undo refused.*update by bob"):
        store.undo()
    assert store.get(a.id).attributes == {"note": "bob was here"}  # nothing undone
    # undo is per author: bob can undo his own edit
    with open_store(store.path, author="bob") as bob:
        bob.undo()
    store.undo()
    assert store.get(a.id).label == "An-124"


def test_undo_of_a_deleted_box_restores_it(store, boxes):
    store.delete(boxes[1].id)
    store.undo()
    assert store.get(boxes[1].id).label == "An-124"


def test_newer_store_is_refused_and_not_rewritten(tmp_path):
    path = tmp_path / "new.gpkg"
    with open_store(path, project="p"):
        pass
    con = sqlite3.connect(path)
    con.execute(
        "UPDATE store_meta SET value = ? WHERE key = 'format_version'", (str(FORMAT_VERSION + 1),)
    )
    con.commit()
    con.execute("PRAGMA journal_mode = DELETE")
    con.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer imagery-tool.*upgrade"):
            open_store(path, readonly=readonly)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert not (tmp_path / "new.gpkg-wal").exists()


def test_files_that_are_not_stores_get_clear_errors(tmp_path):
    text = tmp_path / "notes.gpkg"
    text.write_text("hello")
    with pytest.raises(StoreError, match="not an imagery-tool store"):
        open_store(text)
    other = tmp_path / "other.gpkg"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(StoreError, match="not an imagery-tool store"):
        open_store(other)
    with pytest.raises(StoreError, match="no such store"):
        open_store(tmp_path / "missing.gpkg", create=False)
    with pytest.raises(StoreError, match="is a folder"):
        open_store(tmp_path)


def test_another_projects_store_is_refused(tmp_path):
    with open_store(tmp_path / "a.gpkg", project="hmeimim") as s:
        assert s.project == "hmeimim"
    with pytest.raises(StoreError, match="project 'hmeimim', not 'tartus'"):
        open_store(tmp_path / "a.gpkg", project="tartus")
    with open_store(tmp_path / "b.gpkg") as s:
        assert s.project == "b"


def test_readonly_store_refuses_edits(store, boxes):
    with open_store(store.path, readonly=True) as r:
        assert len(r) == 4
        with pytest.raises(StoreError, match="read-only"):
            r.delete(boxes[0].id)


def test_georef_record_round_trip():
    g = GeoRef(5, 6)
    record = TileRecord.from_georef("x.png", g)
    assert record.georef == g and record.crs_wkt is None


def test_data_version_tells_another_processes_commit(store, boxes):
    before = store.data_version
    store.delete(boxes[0].id)  # our own commits do not change it
    assert store.data_version == before
    with open_store(store.path, author="bob") as bob:
        bob.delete(boxes[1].id)
    assert store.data_version != before


def test_gpkg_contents_last_change_follows_edits(store, boxes):
    con = sqlite3.connect(store.path)

    def last_change():
        return dict(con.execute("SELECT table_name, last_change FROM gpkg_contents"))

    before = last_change()
    time.sleep(0.005)  # timestamps have millisecond resolution
    store.delete(boxes[0].id)
    after = last_change()
    assert after["annotations"] > before["annotations"] and after["history"] > before["history"]
    assert after["store_meta"] == before["store_meta"]
    assert after["annotations"].endswith("Z") and "T" in after["annotations"]
    con.close()


def test_one_store_shared_by_threads(tmp_path):
    import threading

    with open_store(tmp_path / "t.gpkg") as s:

        def work(k):
            for i in range(25):
                a = s.add(BoxAnnotation.from_xyxy(i, k, i + 5, k + 5, label="tug"))
                s.update(a.replace(attributes={"note": str(k)}))
                assert len(s.annotations()) >= 1

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(s) == 100 and len(s.history()) == 200


def test_an_edit_waits_for_the_lock_timeout_then_raises_store_locked_error(store):
    from imagery_tool.errors import StoreLockedError

    assert store.lock_timeout == 60.0
    store.lock_timeout = 0.3
    new = BoxAnnotation.from_center(100, 100, 20, 20, 0, label="tug", tile=TILE_NAME)
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock; reading still works
    try:
        start = time.monotonic()
        with pytest.raises(StoreLockedError, match=r"locked by another process for 0\.3 s"):
            store.add(new)
        assert 0.25 < time.monotonic() - start < 5
        assert len(store) == 4 and new.id not in store
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.add(new).revision == 1  # free again: the same edit goes through


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf"), "soon"])
def test_a_lock_timeout_that_is_no_wait_is_refused(tmp_path, store, seconds):
    with pytest.raises(ValueError, match="lock_timeout must be a number of seconds >= 0"):
        open_store(tmp_path / "other.gpkg", lock_timeout=seconds)
    assert not (tmp_path / "other.gpkg").exists()
    with pytest.raises(ValueError, match="lock_timeout"):
        store.lock_timeout = seconds
    assert store.lock_timeout == 60.0
