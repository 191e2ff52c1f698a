"""Attribute columns come from the label schema; stores made before that keep theirs."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from pyogrio.raw import read as ogr_read

from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import default_schema, parse_schema
from imagery_tool.annotations.store import attribute_columns, open_store

from .conftest import TILE_NAME

LEGACY = Path(__file__).parents[2] / "data" / "annotations" / "legacy_store.gpkg"
A_ID = "00000000-0000-4000-8000-000000000001"

SCHEMA = parse_schema(
    """
classes:
  - {name: An-124, group: fixed-wing}
attributes:
  fuel_state: {type: enum, values: [empty, full]}
  crew count: {type: number}
  label: {type: text}
  nose_open: {type: bool}
"""
)


def _columns(path) -> list[str]:
    with sqlite3.connect(path) as con:
        return [r[1] for r in con.execute('PRAGMA table_info("annotations")')]


def _values(path, *columns: str) -> list[tuple]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    with sqlite3.connect(path) as con:
        return con.execute(f"SELECT {quoted} FROM annotations ORDER BY fid").fetchall()


def test_the_default_schema_gives_the_columns_stores_always_had():
    assert attribute_columns(default_schema()) == {
        "nose_open": "BOOLEAN", "engines_covered": "BOOLEAN", "confidence": "TEXT",
        "note": "TEXT",
    }  # fmt: skip


def test_a_projects_schema_gives_its_own_columns_that_qgis_can_filter_on(tmp_path, tile_record):
    path = tmp_path / "custom.gpkg"
    with open_store(path, schema=SCHEMA) as store:
        store.add_tile(tile_record)
        # "label" is a column of every store already: that attribute stays in the JSON only
        assert store.attribute_columns == ("fuel_state", "crew count", "nose_open")
        box = BoxAnnotation.from_center(
            200, 200, 100, 100, 0, label="An-124", tile=TILE_NAME,
            attributes={"fuel_state": "full", "crew count": 4.0, "label": "x", "nose_open": True},
        )  # fmt: skip
        store.add(box)
        assert store.get(box.id).attributes["label"] == "x"
    assert "engines_covered" not in _columns(path)
    assert _values(path, "label", "fuel_state", "crew count", "nose_open") == [
        ("An-124", "full", 4.0, 1)
    ]
    # GDAL (as QGIS) sees the columns and filters on them
    meta, _, _, fields = ogr_read(path, layer="annotations", where="fuel_state = 'full'")
    assert list(fields[list(meta["fields"]).index("crew count")]) == [4.0]
    # reopened with another schema, the store keeps the columns it was made with
    with open_store(path) as store:
        assert store.attribute_columns == ("fuel_state", "crew count", "nose_open")
        store.update(store.get(box.id).replace(attributes={"fuel_state": "empty"}))
    assert _values(path, "fuel_state", "crew count", "nose_open") == [("empty", None, None)]


@pytest.fixture
def legacy(tmp_path) -> Path:
    path = tmp_path / "legacy.gpkg"
    shutil.copyfile(LEGACY, path)
    return path


def test_a_store_made_before_reads_as_it_was_written(legacy):
    with open_store(legacy, readonly=True) as store:
        assert store.project == "legacy" and len(store) == 2
        assert store.attribute_columns == ("nose_open", "engines_covered", "confidence", "note")
        a = store.get(A_ID)
        assert a.revision == 2 and a.label == "An-124"
        assert a.attributes == {"nose_open": True, "confidence": "high", "engines_covered": True}
        assert [e.action for e in store.history()] == ["update", "add", "add"]


def test_a_store_made_before_is_written_with_its_columns_and_undo_works(legacy, tile_record):
    with open_store(legacy, author="ann") as store:
        a = store.get(A_ID)
        store.update(a.replace(attributes={"nose_open": False, "note": "closed at noon"}))
        assert _values(legacy, "nose_open", "engines_covered", "confidence", "note")[0] == (
            0, None, None, "closed at noon"
        )  # fmt: skip
        added = store.add(BoxAnnotation.from_center(
            50, 50, 20, 20, 0, label="tug", tile="hmeimim_2024-12-13.tif",
            attributes={"confidence": "low"},
        ))  # fmt: skip
        assert _values(legacy, "confidence")[-1] == ("low",)
        store.undo()
        store.undo()
        assert added.id not in store and store.get(A_ID).attributes["nose_open"] is True
    assert _values(legacy, "nose_open", "engines_covered", "confidence", "note")[0] == (
        1, 1, "high", None
    )  # fmt: skip
    with sqlite3.connect(legacy) as con:  # nothing new was written into its metadata
        keys = [r[0] for r in con.execute("SELECT key FROM store_meta ORDER BY id")]
    assert keys == ["format_version", "project", "created", "generator"]


def test_a_column_added_in_qgis_is_left_alone(legacy):
    with sqlite3.connect(legacy) as con:
        con.execute("ALTER TABLE annotations ADD COLUMN checked_by TEXT")
        con.execute("UPDATE annotations SET checked_by = 'qgis user'")
    with open_store(legacy) as store:
        store.update(store.get(A_ID).replace(attributes={"checked_by": "someone else"}))
    assert _values(legacy, "checked_by") == [("qgis user",), ("qgis user",)]
