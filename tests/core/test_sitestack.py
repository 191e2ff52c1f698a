"""Sites of a set of tiles: one rule for series and napari, whatever the order of the tiles."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
from affine import Affine

from imagery_tool.sitestack import SAME_SITE_OVERLAP, date_order, group_by_site
from imagery_tool.tile import open_tile
from tests.conftest import HMEIMIM_UTM, UTM36N, write_raster


def _tile(folder, name, east_m, *, side=64):
    x, y = HMEIMIM_UTM
    path = write_raster(
        folder / f"{name}.tif",
        np.full((1, side, side), 100, np.uint8),
        transform=Affine(1.0, 0, x + east_m, 0, -1.0, y),
        crs=UTM36N,
    )
    return open_tile(path)


def _partition(tiles, order):
    groups = group_by_site([tiles[i] for i in order])
    return {frozenset(tiles[order[i]].name for i in g) for g in groups}


def test_the_sites_do_not_depend_on_the_order_of_the_tiles(tmp_path):
    # b shares 60 % with a and with c, a and c share 20 %: one site through b, in any order
    tiles = [_tile(tmp_path, "a", 0), _tile(tmp_path, "b", 25.6), _tile(tmp_path, "c", 51.2)]
    found = {frozenset(_partition(tiles, order)) for order in itertools.permutations(range(3))}
    assert found == {frozenset({frozenset({"a.tif", "b.tif", "c.tif"})})}


def test_neighbours_sharing_an_edge_strip_are_other_sites_and_a_crop_is_the_same(tmp_path):
    a = _tile(tmp_path, "a", 0)
    neighbour = _tile(tmp_path, "neighbour", 64 * (1 - SAME_SITE_OVERLAP) + 6.4)  # 40 %
    crop = _tile(tmp_path, "crop", 8, side=16)  # all of it inside a
    assert group_by_site([a, neighbour, crop]) == [[0, 2], [1]]


def test_dates_come_in_time_order_then_by_name_and_undated_last():
    early = datetime(2024, 12, 13, 8, tzinfo=UTC)
    keys = {
        "c.tif": date_order(None, "c.tif"),
        "b.tif": date_order(early.replace(hour=9), "b.tif"),
        "a.tif": date_order(early.replace(hour=9), "a.tif"),
        "z.tif": date_order(early.replace(tzinfo=None), "z.tif"),  # naive: UTC
    }
    assert sorted(keys, key=keys.get) == ["z.tif", "a.tif", "b.tif", "c.tif"]


def test_a_site_is_named_by_its_file_names_without_their_dates():
    from imagery_tool.sitestack import site_name

    assert site_name(["apron_west_2024-12-13.tif", "apron_west-20250110T0821.tif"]) == "apron_west"
    assert site_name(["a b_2024-12-13.tif", "a b_2025-01-10.tif", "c_2025-02-07.tif"]) == "a_b"
    assert site_name(["2024-12-13.tif", "20250110.tif"]) is None
