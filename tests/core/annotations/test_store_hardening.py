"""The store at its edges: keyword column names, repairs, deleted boxes, long lock timeouts."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import AttributeDef, LabelSchema, default_schema
from imagery_tool.annotations.store import StoreConflictError, open_store
from imagery_tool.annotations.store.connection import MAX_LOCK_TIMEOUT_S
from imagery_tool.annotations.store_health import repair_store
from tests.core.annotations.conftest import TILE_NAME


def _schema_with(**types: str) -> LabelSchema:
    """The default schema with extra attributes, name -> type."""
    base = default_schema()
    extra = {name: AttributeDef(name, kind) for name, kind in types.items()}
    return dataclasses.replace(base, attributes={**base.attributes, **extra})


def _column_types(path: Path) -> dict[str, str]:
    con = sqlite3.connect(path)
    try:
        return {r[1]: r[2] for r in con.execute('PRAGMA table_info("annotations")')}
    finally:
        con.close()


def _box(**attributes) -> BoxAnnotation:
    return BoxAnnotation.from_xyxy(10, 10, 60, 40, label="Su-24", tile=TILE_NAME,
                                   attributes=attributes)  # fmt: skip


@pytest.mark.parametrize("keyword", ["order", "group", "check", "default"])
def test_an_attribute_named_like_an_sql_keyword_gets_its_column(tmp_path, keyword):
    path = tmp_path / "p.gpkg"
    with open_store(path, schema=_schema_with(**{keyword: "number"})) as store:
        assert keyword in store.attribute_columns
        stored = store.add(_box(**{keyword: 3.0}))
        store.update(stored.replace(attributes={keyword: 4.0}))
    assert _column_types(path)[keyword] == "REAL"
    con = sqlite3.connect(path)
    assert con.execute(f'SELECT "{keyword}" FROM annotations').fetchall() == [(4.0,)]
    con.close()


def test_a_store_that_cannot_be_created_leaves_no_file(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("near 'group': syntax error")

    monkeypatch.setattr("imagery_tool.annotations.store.annotation_store.create_layout", broken)
    path = tmp_path / "p.gpkg"
    with pytest.raises(sqlite3.OperationalError):
        open_store(path)
    assert list(tmp_path.iterdir()) == []


def test_a_store_locked_while_it_is_created_is_left_to_the_program_creating_it(
    tmp_path, monkeypatch
):
    from imagery_tool.errors import StoreLockedError

    path = tmp_path / "p.gpkg"

    def another_program_is_creating_it(*args, **kwargs):
        busy = sqlite3.OperationalError("database is locked")
        busy.sqlite_errorname = "SQLITE_BUSY"
        raise busy

    monkeypatch.setattr(
        "imagery_tool.annotations.store.annotation_store.create_layout",
        another_program_is_creating_it,
    )
    with pytest.raises(StoreLockedError):
        open_store(path, lock_timeout=0.1)
    assert path.exists()  # the file the other program is filling is not pulled from under it


def test_repair_keeps_the_project_s_attribute_columns(tmp_path):
    path = tmp_path / "p.gpkg"
    schema = _schema_with(tail_number="text", fuel_l="number", towed="bool")
    with open_store(path, project="hmeimim", schema=schema) as store:
        kept = store.add(_box(tail_number="RA-82010", fuel_l=1200.0, towed=True))
        store.add(_box(tail_number="RA-82011"))
        columns = store.attribute_columns
    con = sqlite3.connect(path)
    con.execute("UPDATE annotations SET attributes = 'not json' WHERE uuid <> ?", (kept.id,))
    con.commit()
    con.close()
    report = repair_store(path)
    assert report.backup is not None
    with open_store(path, readonly=True) as store:
        assert store.attribute_columns == columns
        assert len(store) == 2
    types = _column_types(path)
    assert (types["tail_number"], types["fuel_l"], types["towed"]) == ("TEXT", "REAL", "BOOLEAN")
    con = sqlite3.connect(path)
    row = con.execute("SELECT tail_number, fuel_l FROM annotations WHERE uuid = ?", (kept.id,))
    assert row.fetchone() == ("RA-82010", 1200.0)
    con.close()


def test_editing_a_box_another_user_deleted_is_a_conflict(tmp_path):
    path = tmp_path / "p.gpkg"
    with open_store(path, author="ann") as ann, open_store(path, author="bob") as bob:
        box = ann.add(_box())
        bob.delete(box.id)
        with pytest.raises(StoreConflictError, match=r"delete by bob .* is now deleted"):
            ann.update(box.replace(label="Il-76"))
        with pytest.raises(StoreConflictError, match="is now deleted"):
            ann.delete(box.id, expected_revision=box.revision)


def test_updating_a_box_never_stored_is_still_a_key_error(tmp_path):
    with open_store(tmp_path / "p.gpkg") as store, pytest.raises(KeyError):
        store.update(_box())


@pytest.mark.parametrize("seconds", [2**31 / 1000, 1e12])
def test_a_very_long_lock_timeout_waits_as_long_as_sqlite_can(tmp_path, seconds):
    with open_store(tmp_path / "p.gpkg", lock_timeout=seconds) as store:
        assert store.lock_timeout == MAX_LOCK_TIMEOUT_S
        assert store._con.execute("PRAGMA busy_timeout").fetchone()[0] == 2**31 - 1
        store.lock_timeout = seconds
        assert store._con.execute("PRAGMA busy_timeout").fetchone()[0] == 2**31 - 1
