"""Inventory per date: the truth says how many aircraft of which type are on each date."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagery_tool.aircraft.inventory import CLASSES, take_inventory, write_inventory
from imagery_tool.aircraft_catalogue import lookup
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import default_schema
from imagery_tool.annotations.store import TileRecord, open_store
from imagery_tool.errors import SeriesInputError
from imagery_tool.tile import open_tile

SAMPLES = Path(__file__).parents[3] / "sample_tiles"
TILES = sorted(SAMPLES.glob("hmeimim_*.tif"))


def _truth(tile: Path) -> list[dict]:
    objects = json.loads((SAMPLES / "truth" / f"{tile.stem}.json").read_text())["objects"]
    return [o for o in objects if o["kind"] == "aircraft"]


def _store_of_truth(path: Path, tiles: list[Path]) -> Path:
    """A store with every truth object of ``tiles`` accepted, plus decoys that must not count."""
    schema = default_schema()
    with open_store(path, project="hmeimim") as store:
        for t in tiles:
            tile = open_tile(t)
            store.add_tile(TileRecord.from_tile(tile))
            objects = json.loads((SAMPLES / "truth" / f"{t.stem}.json").read_text())["objects"]
            boxes = [
                BoxAnnotation(o["corners_px"], schema.resolve(o["class"]) or o["class"],
                              tile=tile.name, review="accepted")
                for o in objects
            ]  # fmt: skip
            # a rejected aircraft and an unreviewed one are not in the inventory
            boxes.append(BoxAnnotation.from_center(50, 50, 40, 40, 0, label="Il-76",
                                                   tile=tile.name, review="rejected"))  # fmt: skip
            boxes.append(BoxAnnotation.from_center(90, 90, 40, 40, 0, label="Il-76",
                                                   tile=tile.name))  # fmt: skip
            store.add_many(boxes)
    return path


def test_store_counts_match_the_truth_per_date_type_and_size_class(tmp_path):
    store = _store_of_truth(tmp_path / "s.gpkg", TILES)
    calls = []
    inv = take_inventory(TILES, store=store, progress=lambda *a: calls.append(a))
    assert [d.date for d in inv.dates] == ["2024-11-29", "2024-12-06", "2024-12-13", "2024-12-20"]
    assert calls[-1] == (4, 4, "tiles")
    for d, tile in zip(inv.dates, TILES, strict=True):
        truth = _truth(tile)
        assert d.origin == "store" and d.site == "hmeimim" and not d.pixel_size_assumed
        assert dict(d.types()) == Counter(lookup(o["class"]).name for o in truth)
        expected = Counter(lookup(o["class"]).size_class for o in truth)
        assert d.counts() == {c: expected.get(c, 0) for c in CLASSES}
    first = inv.dates[0].counts()
    assert (first["heavy"], first["fighter"], first["helicopter"]) == (2, 8, 4)  # Il-76 x2


def test_outputs_are_written_together_and_agree(tmp_path):
    store = _store_of_truth(tmp_path / "s.gpkg", TILES[2:3])
    inv = take_inventory(TILES[2:3], store=store)
    paths = write_inventory(inv, tmp_path / "out")
    rows = paths["csv"].read_text().splitlines()
    assert rows[0].startswith("site,date,tiles,origin,aircraft,heavy,medium,light,fighter")
    assert rows[1].startswith("hmeimim,2024-12-13,hmeimim_2024-12-13.tif,store,17,2,")
    features = json.loads(paths["geojson"].read_text())["features"]
    assert len(features) == 17
    an124 = [f for f in features if f["properties"]["type"] == "An-124"]
    assert len(an124) == 2 and all(f["properties"]["size_class"] == "heavy" for f in an124)
    ring = np.array(an124[0]["geometry"]["coordinates"][0])
    assert ring.shape == (5, 2) and abs(ring[:, 1].mean() - 35.4) < 0.05  # Hmeimim's latitude
    with Image.open(paths["png"]) as png:
        assert png.size[0] >= 520


def test_tiles_the_store_does_not_know_get_proposals(tmp_path):
    store = _store_of_truth(tmp_path / "s.gpkg", TILES[:1])
    seen = []

    def propose(tile, **kwargs):
        seen.append((tile.name, kwargs))
        return []

    inv = take_inventory(TILES[:2], store=store, propose=propose, min_score=0.7)
    assert [d.origin for d in inv.dates] == ["store", "proposals"]
    assert seen == [("hmeimim_2024-12-06.tif",
                     {"pixel_size_m": None, "cancel": None, "min_score": 0.7})]  # fmt: skip
    assert len(inv.dates[1].aircraft) == 0


def test_an_unlabelled_box_is_typed_by_size_and_schema_types_restrict_it(tmp_path):
    tile = open_tile(TILES[0])
    with open_store(tmp_path / "s.gpkg", project="p") as store:
        store.add_tile(TileRecord.from_tile(tile))
        # an An-124-sized box (0.5 m pixels) labelled only "unknown fixed-wing"
        store.add(BoxAnnotation.from_center(500, 500, 67.5 / 0.5, 71.5 / 0.5, 30,
                                            label="unknown fixed-wing", tile=tile.name,
                                            review="accepted"))  # fmt: skip
    for types in ("catalogue", "schema"):
        inv = take_inventory(TILES[:1], store=tmp_path / "s.gpkg", types=types)
        (a,) = inv.dates[0].aircraft
        assert (a.type, a.type_from, a.size_class) == ("An-124", "size", "heavy")


def test_a_tile_without_georeference_states_the_assumed_pixel_size(tmp_path):
    rgb = np.zeros((64, 64, 3), np.uint8)
    png = tmp_path / "apron_2024-03-01.png"
    Image.fromarray(rgb).save(png)
    inv = take_inventory([png], propose=lambda tile, **kw: [])
    (d,) = inv.dates
    assert d.pixel_size_assumed and d.gsd_m == 0.5
    assert "assume 0.5 m per pixel" in inv.notes()[0]
    inv = take_inventory([png], pixel_size_m=0.3, propose=lambda tile, **kw: [])
    assert inv.dates[0].gsd_m == 0.3


def test_undated_and_missing_tiles(tmp_path):
    undated = tmp_path / "apron.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(undated)
    with pytest.raises(SeriesInputError, match="no dated tile"):
        take_inventory([undated])
    with pytest.raises(SeriesInputError, match="no such file"):
        take_inventory([tmp_path / "nothing.tif"])


@pytest.fixture(scope="module")
def fighters_scene(tmp_path_factory):
    """Two dates of a small generated apron (fighters only for seed 3), written as COGs."""
    from imagery_tool_synthetic import random_series, write_series

    series = random_series(3, size=768, n_dates=2, n_aircraft=5, n_vehicles=2)
    return write_series(series, tmp_path_factory.mktemp("scene"), block=512)


def test_proposals_count_the_generated_aircraft_of_each_date(fighters_scene):
    inv = take_inventory(fighters_scene.tiles)
    assert len(inv.dates) == 2
    for d, truth_path in zip(inv.dates, fighters_scene.truth, strict=True):
        truth = [o for o in json.loads(truth_path.read_text())["objects"]
                 if o["kind"] == "aircraft"]  # fmt: skip
        assert d.origin == "proposals"
        # every aircraft found, at most one false alarm (types follow the proposals' sizes)
        assert len(truth) <= len(d.aircraft) <= len(truth) + 1
        assert sum(d.counts().values()) == len(d.aircraft)
        assert all(a.box.source == "proposed" and a.box.score is not None for a in d.aircraft)


def test_an_aircraft_no_type_explains_is_classed_by_its_size_alone(tmp_path):
    tile = open_tile(TILES[0])
    with open_store(tmp_path / "s.gpkg", project="p") as store:
        store.add_tile(TileRecord.from_tile(tile))
        # 110 m x 20 m: longer than any type; and 6 m x 6 m: smaller than any
        for side in ((220, 40), (12, 12)):
            store.add(BoxAnnotation.from_center(500, 500, *side, 0, label="unknown fixed-wing",
                                                tile=tile.name, review="accepted"))  # fmt: skip
    inv = take_inventory(TILES[:1], store=tmp_path / "s.gpkg")
    got = sorted((a.type, a.type_from, a.size_class) for a in inv.dates[0].aircraft)
    assert got == [(None, "none", "heavy"), (None, "none", "unknown")]


def test_inventory_rings_are_counter_clockwise_on_a_south_up_tile():
    # A south-up grid (row 0 at the south): corners clockwise on screen run counter-clockwise
    # on the ground, so reversing them blindly (as the inventory once did) made a clockwise ring.
    from affine import Affine
    from rasterio.crs import CRS

    from imagery_tool.aircraft.inventory import DateInventory, Inventory, InventoryAircraft
    from imagery_tool.geometry import signed_area
    from imagery_tool.georef import GeoRef

    georef = GeoRef(100, 100, Affine(1e-5, 0.0, 36.0, 0.0, 1e-5, 35.0), CRS.from_epsg(4326))
    box = BoxAnnotation.from_center(50, 50, 40, 10, 30, label="Il-76", tile="south_up.tif")
    aircraft = InventoryAircraft(box, "Il-76", "label", "heavy", 46.6, 50.5, box.lonlat(georef))
    date = DateInventory("s", "2024-01-01", ("south_up.tif",), "store", (aircraft,), False, 0.5)
    ring = np.array(Inventory((date,)).geojson()["features"][0]["geometry"]["coordinates"][0])
    assert (ring[0] == ring[-1]).all() and signed_area(ring[:-1]) > 0
