"""Tiles written by other projects (tests/data/foreign/README.md) read with the right facts."""

import json
import math
from pathlib import Path

import pytest

from imagery_tool.tile import open_tile
from tests.cli.helpers import run_cli

FOREIGN = Path(__file__).resolve().parents[1] / "data" / "foreign"


def test_landsat_float64_equal_earth_with_nodata():
    tile = open_tile(FOREIGN / "LE07_L2SP_225078_20110306_02_T1_B1.tif")
    assert (tile.width, tile.height, tile.count, tile.dtype) == (168, 168, 1, "float64")
    assert tile.georef.epsg == 8858
    assert tile.georef.gsd_m == pytest.approx((120.0, 120.0))
    assert tile.nodata == 32768.0 and tile.mask_kind == "nodata"
    # GDAL's own statistics beside the file: STATISTICS_VALID_PERCENT = 52.78.
    assert tile.read_valid().mean() == pytest.approx(0.5278, abs=5e-4)
    assert tile.acquired.isoformat() == "2011-03-06T00:00:00Z"
    assert tile.acquired.source == "filename"


def test_four_band_uint8_without_colour_interpretation():
    tile = open_tile(FOREIGN / "rgbn_suba.tif")
    assert (tile.count, tile.dtype, tile.compression) == (4, "uint8", "LZW")
    assert tile.georef.epsg == 32618 and tile.georef.gsd_m == pytest.approx((5.0, 5.0))
    assert tile.nodata == 0.0
    assert tile.rgb_bands == (1, 2, 3)
    assert not tile.acquired.known


@pytest.mark.parametrize(
    ("name", "epsg", "step_deg"),
    [("de_adv_BETA2007.tif", 4314, (1 / 6, 0.1)), ("us_noaa_prvi.tif", 4139, (0.05, 0.05))],
)
def test_proj_grids_geographic_float32(name, epsg, step_deg):
    tile = open_tile(FOREIGN / name)
    assert tile.georef.epsg == epsg and not tile.georef.crs.is_projected
    assert (tile.count, tile.dtype, tile.compression) == (2, "float32", "DEFLATE")
    assert tile.descriptions == ("latitude_offset", "longitude_offset")
    assert tile.acquired.source == "metadata:TIFFTAG_DATETIME"
    assert tile.acquired.isoformat() == "2019-12-28T00:00:00Z"
    lon, lat = tile.georef.center_lonlat
    # Spherical approximation of a degree: 111.32 km, times cos(lat) along a parallel.
    gx, gy = tile.georef.gsd_m
    assert gx == pytest.approx(step_deg[0] * 111_320 * math.cos(math.radians(lat)), rel=0.01)
    assert gy == pytest.approx(step_deg[1] * 111_320, rel=0.01)


def test_info_json_on_foreign_tiles():
    paths = sorted(FOREIGN.glob("*.tif"))
    result = run_cli("info", "--json", *paths)
    assert result.returncode == 0, result.stderr
    records = {Path(r["path"]).name: r for r in json.loads(result.stdout)}
    assert records["rgbn_suba.tif"]["crs"] == "EPSG:32618"
    assert records["de_adv_BETA2007.tif"]["crs"] == "EPSG:4314"
    assert records["LE07_L2SP_225078_20110306_02_T1_B1.tif"]["nodata"] == 32768.0
    assert all(r["lonlat_bounds"] for r in records.values())
