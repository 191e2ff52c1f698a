import json

import pytest

from tests.cli.helpers import assert_one_line_error, run_cli


def test_info_text(utm_tile):
    result = run_cli("info", utm_tile)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "400 x 300 px, 3 band(s) uint8 (red, green, blue)" in out
    assert "EPSG:32636 (WGS 84 / UTM zone 36N)" in out
    assert "0.500 m x 0.500 m" in out
    assert "2024-12-13T08:21:00Z (from metadata:ACQUISITIONDATETIME)" in out
    assert "overviews   2, 4" in out
    assert result.stderr == ""


def test_info_json_many_tiles(utm_tile, geographic_tile, plain_png, gcp_tile):
    result = run_cli("info", "--json", utm_tile, geographic_tile, plain_png, gcp_tile)
    assert result.returncode == 0, result.stderr
    utm, geo, png, gcp = json.loads(result.stdout)
    assert utm["crs"] == "EPSG:32636" and utm["epsg"] == 32636
    assert (utm["width"], utm["height"], utm["count"], utm["dtype"]) == (400, 300, 3, "uint8")
    assert utm["gsd_m"] == [0.5, 0.5]
    assert utm["bounds"]["left"] == 767_800.0 and utm["bounds"]["top"] == 3_921_600.0
    lon, lat = utm["center_lonlat"]
    assert lon == pytest.approx(35.9499, abs=1e-3) and lat == pytest.approx(35.4012, abs=1e-3)
    assert utm["date"] == "2024-12-13T08:21:00Z"
    assert utm["overviews"] == [2, 4]

    assert geo["crs"] == "EPSG:4326" and geo["dtype"] == "float32"
    assert geo["gsd_m"][0] == pytest.approx(0.907, abs=0.01)
    assert geo["date"] == "2024-12-06T00:00:00Z" and geo["date_source"] == "filename"

    assert png["georeferenced"] is False and png["crs"] is None and png["gsd_m"] is None
    assert png["date"] is None and png["date_source"] == "unknown"

    assert gcp["gcp_count"] == 4 and gcp["georeferenced"] is False


def test_info_reports_unknown_date_plainly(plain_png):
    result = run_cli("info", plain_png)
    assert result.returncode == 0
    assert "date        unknown" in result.stdout
    assert "not georeferenced" in result.stdout


def test_info_gcp_only_is_said(gcp_tile):
    assert "GCPs only" in run_cli("info", gcp_tile).stdout


def test_info_fails_cleanly_on_a_truncated_file(utm_tile, tmp_path):
    data = utm_tile.read_bytes()
    broken = tmp_path / "broken_2024-12-13.tif"
    broken.write_bytes(data[: len(data) // 2])
    assert_one_line_error(run_cli("info", broken), "broken_2024-12-13.tif", "truncated")


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("notes.tif", b"plain text, not an image\n", "cannot be read as a raster"),
        ("empty.tif", b"", "cannot be read as a raster"),
    ],
)
def test_info_fails_cleanly_on_non_rasters(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    assert_one_line_error(run_cli("info", path), name, fragment)


def test_info_missing_file(tmp_path):
    assert_one_line_error(run_cli("info", tmp_path / "missing.tif"), "missing.tif", "no such file")


def test_info_describes_good_tiles_and_fails_on_the_bad_one(utm_tile, tmp_path):
    result = run_cli("info", "--json", utm_tile, tmp_path / "missing.tif")
    assert result.returncode == 2
    good, bad = json.loads(result.stdout)
    assert good["epsg"] == 32636
    assert "missing.tif" in bad["error"]
