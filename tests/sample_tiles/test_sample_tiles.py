"""The committed Hmeimim sample tiles: georeference, overviews, date tags, truth, STAC."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

ROOT = Path(__file__).resolve().parents[2] / "sample_tiles"
DATES = ["2024-11-29", "2024-12-06", "2024-12-13", "2024-12-20"]
TILES = [ROOT / f"hmeimim_{d}.tif" for d in DATES]


def test_tiles_exist_and_are_small():
    for t in TILES:
        assert t.is_file(), f"{t} missing: run make samples"
    assert sum(t.stat().st_size for t in TILES) < 20e6


@pytest.mark.parametrize("tile", TILES, ids=DATES)
def test_tile_georeference_overviews_and_tags(tile):
    date = tile.stem.split("_")[1]
    with rasterio.open(tile) as src:
        assert src.crs.to_epsg() == 32636
        assert src.res == (0.5, 0.5)
        assert src.count == 3 and src.dtypes[0] == "uint8"
        assert 2000 <= src.width <= 2100 and 2000 <= src.height <= 2100
        assert src.overviews(1) == [2, 4, 8, 16]
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        tags = src.tags()
        assert tags["TIFFTAG_DATETIME"].startswith(date.replace("-", ":"))
        assert tags["ACQUISITIONDATETIME"].startswith(date + "T")
        cx, cy = src.xy(src.height / 2, src.width / 2)
    x, y = Transformer.from_crs(4326, 32636, always_xy=True).transform(35.949, 35.401)
    assert np.hypot(cx - x, cy - y) < 1000


def test_2024_12_13_has_two_an124_with_nose_open():
    t = json.loads((ROOT / "truth" / "hmeimim_2024-12-13.json").read_text())
    an124 = [o for o in t["objects"] if o["class"] == "An-124"]
    assert len(an124) == 2
    assert all(o["attributes"]["nose_open"] is True for o in an124)
    for o in an124:
        assert o["length_m"] == 69.1 and o["width_m"] == 73.3
        assert len(o["corners_px"]) == 4 and len(o["corners_lonlat"]) == 4


def test_truth_boxes_lie_on_bright_aircraft_pixels():
    t = json.loads((ROOT / "truth" / "hmeimim_2024-12-13.json").read_text())
    with rasterio.open(ROOT / t["tile"]) as src:
        for o in t["objects"]:
            if o["class"] != "An-124":
                continue
            c, r = (int(v) for v in o["center_px"])
            patch = src.read(window=((r - 3, r + 3), (c - 3, c + 3))).astype(float)
            assert patch.mean() > 170  # the white fuselage/wing root is at the box centre


def test_pairs_and_catalog():
    pairs = sorted((ROOT / "truth" / "pairs").glob("*.json"))
    assert len(pairs) == 3
    p = json.loads(pairs[1].read_text())
    assert (p["before"], p["after"]) == ("2024-12-06", "2024-12-13")
    assert {"an124-1", "an124-2"} <= {r["id"] for r in p["appeared"]}
    assert "il76-1" in {r["id"] for r in p["disappeared"]}
    cat = json.loads((ROOT / "catalog.json").read_text())
    items = [link for link in cat["links"] if link["rel"] == "item"]
    assert len(items) == 4
    item = json.loads((ROOT / items[2]["href"]).resolve().read_text())
    assert item["properties"]["datetime"].startswith("2024-12-13T")
    assert item["properties"]["proj:epsg"] == 32636
    href = item["assets"]["image"]["href"]
    assert not Path(href).is_absolute()
    assert ((ROOT / items[2]["href"]).parent / href).resolve().is_file()
