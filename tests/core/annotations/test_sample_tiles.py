"""Known answers from the shipped sample tiles: every truth box fits its own class, first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagery_tool.annotations import BoxAnnotation, check_size, default_schema, open_store
from imagery_tool.annotations.store import TileRecord
from imagery_tool.tile import open_tile

SAMPLES = Path(__file__).parents[3] / "sample_tiles"
TILE = SAMPLES / "hmeimim_2024-12-13.tif"
TRUTH = SAMPLES / "truth" / "hmeimim_2024-12-13.json"

pytestmark = pytest.mark.skipif(not TRUTH.exists(), reason="sample tiles not generated")


def truth_boxes(tile_name: str) -> list[BoxAnnotation]:
    schema = default_schema()
    objects = json.loads(TRUTH.read_text())["objects"]
    return [
        BoxAnnotation(o["corners_px"], schema.resolve(o["class"]) or o["class"],
                      attributes=o["attributes"], tile=tile_name, author="truth")
        for o in objects
    ]  # fmt: skip


def test_truth_boxes_rank_their_own_class_first():
    tile = open_tile(TILE)
    for box in truth_boxes(tile.name):
        report = check_size(box, gsd=tile.georef)
        assert report.label_fits is True, report
        assert default_schema().resolve(report.candidates[0].name) == box.label


def test_truth_boxes_in_a_store_match_the_truth_lonlat(tmp_path):
    tile = open_tile(TILE)
    objects = json.loads(TRUTH.read_text())["objects"]
    with open_store(tmp_path / "samples.gpkg", project="hmeimim") as s:
        s.add_tile(TileRecord.from_tile(tile))
        s.add_many(truth_boxes(tile.name))
        boxes = s.annotations()
    an124 = [b for b in boxes if b.label == "An-124"]
    assert len(an124) == 2 and all(b.attributes == {"nose_open": True} for b in an124)
    # The truth is the ground; this tile's georeference is deliberately off by its recorded
    # misregistration (-3.1, 5.4) px, rotated -0.21 deg: about 3 m, i.e. 3e-5 deg.
    for box, obj in zip(boxes, objects, strict=True):
        lonlat = box.lonlat(tile.georef)
        assert abs(lonlat - obj["corners_lonlat"]).max() < 5e-5
