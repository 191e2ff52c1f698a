"""benchmarks/bench_detect_speed.py: the derived pairs keep pixels and band roles; records."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from tests.conftest import HMEIMIM_UTM, UTM36N, write_raster

ROOT = Path(__file__).resolve().parents[2]


def _load():
    name = "bench_detect_speed"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bds = _load()

# one 8-bit level in 11-bit counts is 0.6 / 255 * 2047 = 4.8; the dither moves a count by at
# most half of it, rounding by half a count more
_LEVEL = 0.6 / 255 * 2047
_TOL = _LEVEL / 2 + 0.5


def counts(reflectance: float) -> float:
    """11-bit count of a reflectance, with the path radiance the conversion adds."""
    return (reflectance + 0.03) * 2047


def test_bgrn_11bit_puts_each_colour_in_its_band():
    # four pixels: pure red, pure green, pure blue, black
    rgb = np.zeros((3, 1, 4), np.uint8)
    rgb[0, 0, 0] = rgb[1, 0, 1] = rgb[2, 0, 2] = 255
    before = rgb.copy()
    out = bds.bgrn_11bit(rgb)
    assert out.shape == (4, 1, 4) and out.dtype == np.uint16
    np.testing.assert_array_equal(rgb, before)  # input untouched
    bright, dark = counts(0.6), counts(0.0)
    blue, green, red, nir = out[:, 0, :].astype(float)
    # red pixel: only band 3 (red) is bright; blue pixel: only band 1; green: only band 2
    np.testing.assert_allclose(red, [bright, dark, dark, dark], atol=_TOL)
    np.testing.assert_allclose(green, [dark, bright, dark, dark], atol=_TOL)
    np.testing.assert_allclose(blue, [dark, dark, bright, dark], atol=_TOL)
    # NIR follows the brightness (0.8 x mean) and rises where green exceeds red (to its
    # ceiling on the green pixel: 0.16 + 1.5 x 0.6 > 1)
    np.testing.assert_allclose(nir, [counts(0.16), 2047, counts(0.16), dark], atol=_TOL)


def test_bgrn_11bit_stays_in_11_bits_and_spreads_the_levels():
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (3, 64, 64), dtype=np.uint8)
    rgb[:, :8, :8] = 255  # the brightest vegetation-free white
    rgb[1, 8:16, :8], rgb[0, 8:16, :8] = 255, 0  # NIR at its ceiling (clipped)
    out = bds.bgrn_11bit(rgb, seed=1)
    assert out.max() <= 2047
    assert out[3, 8:16, :8].min() == 2047
    # one 8-bit level covers about 5 counts: a flat field takes several of them
    flat = bds.bgrn_11bit(np.full((3, 32, 32), 100, np.uint8))
    assert 3 <= len(np.unique(flat[0])) <= 6
    assert abs(flat[0].mean() - counts(100 / 255 * 0.6)) < 0.5


def test_bgrn_11bit_gives_the_same_counts_however_the_scene_is_cut():
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (3, 40, 50), dtype=np.uint8)
    whole = bds.bgrn_11bit(rgb, seed=2)
    part = bds.bgrn_11bit(rgb[:, 10:30, 20:45], col0=20, row0=10, seed=2)
    np.testing.assert_array_equal(part, whole[:, 10:30, 20:45])
    # another date dithers differently
    assert not np.array_equal(bds.bgrn_11bit(rgb, seed=3), whole)


def test_bgrn_11bit_refuses_other_inputs():
    with pytest.raises(ValueError, match="uint8"):
        bds.bgrn_11bit(np.zeros((3, 4, 4), np.uint16))
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        bds.bgrn_11bit(np.zeros((4, 4, 4), np.uint8))


@pytest.fixture
def rgb_cog(tmp_path) -> Path:
    """A small dated 3-band uint8 JPEG GeoTIFF with overviews, as the generator writes them."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (3, 600, 700), dtype=np.uint8)
    pixels[:, 100:200, 100:300] = np.array([30, 160, 40], np.uint8)[:, None, None]  # a green field
    path = write_raster(
        tmp_path / "scene_2024-12-06.tif", pixels,
        transform=Affine(0.5, 0, HMEIMIM_UTM[0], 0, -0.5, HMEIMIM_UTM[1]), crs=UTM36N,
        tags={"ACQUISITIONDATETIME": "2024-12-06T08:30:00Z"}, overviews=(2, 4),
        tiled=True, blockxsize=256, blockysize=256, compress="JPEG", photometric="YCBCR",
    )  # fmt: skip
    with rasterio.open(path, "r+") as ds:
        ds.colorinterp = bds.BGRN_COLORINTERP[2::-1]  # red, green, blue
    return path


def test_write_uint16_is_an_11bit_bgrn_deflate_cog_of_the_same_scene(rgb_cog, tmp_path):
    out = bds.write_uint16(rgb_cog, tmp_path / "out" / rgb_cog.name, seed=1, step=512)
    with rasterio.open(rgb_cog) as src:
        rgb, transform, crs = src.read(), src.transform, src.crs
    with rasterio.open(out) as ds:
        structure = ds.tags(ns="IMAGE_STRUCTURE")
        assert (ds.count, ds.dtypes[0]) == (4, "uint16")
        assert [c.name for c in ds.colorinterp] == ["blue", "green", "red", "undefined"]
        assert ds.descriptions == ("blue", "green", "red", "nir")
        assert structure["COMPRESSION"] == "DEFLATE" and structure["PREDICTOR"] == "2"
        assert structure["LAYOUT"] == "COG" and ds.block_shapes[0] == (512, 512)
        assert ds.overviews(1) == [2, 4]
        assert ds.transform == transform and ds.crs == crs
        assert ds.tags()["ACQUISITIONDATETIME"] == "2024-12-06T08:30:00Z"
        pixels = ds.read()
    # converted in 512 px windows, the same counts as the whole scene at once
    np.testing.assert_array_equal(pixels, bds.bgrn_11bit(rgb, seed=1))
    field = pixels[:, 110:190, 110:290].astype(float).mean(axis=(1, 2))
    # the field is red 30, green 160, blue 40: NIR (vegetation) > green > blue > red
    assert field[3] > field[1] > field[0] > field[2]
    np.testing.assert_allclose(field[1], counts(160 / 255 * 0.6), atol=10)  # JPEG's error
    assert not list(tmp_path.joinpath("out").glob(".*"))  # no temporary file left


def test_write_deflate_keeps_the_pixels_and_the_overview_levels(rgb_cog, tmp_path):
    out = bds.write_deflate(rgb_cog, tmp_path / "deflate.tif")
    with rasterio.open(rgb_cog) as src, rasterio.open(out) as ds:
        np.testing.assert_array_equal(ds.read(), src.read())
        assert ds.overviews(1) == src.overviews(1) == [2, 4]
        assert ds.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "2"
        assert bds.describe_file(out)["compression"] == "DEFLATE"
        assert [c.name for c in ds.colorinterp] == ["red", "green", "blue"]


def test_median_run_skips_failed_runs_and_keeps_the_largest_peak():
    runs = [
        {"seconds": 3.0, "cpu": 5.0, "rss_mb": 400.0, "regions": 7},
        {"error": "ValueError: boom", "traceback": "..."},
        {"seconds": 1.0, "cpu": 4.0, "rss_mb": 600.0, "regions": 7},
        {"seconds": 2.0, "cpu": 9.0, "rss_mb": 500.0, "regions": 7},
    ]
    med = bds.median_run(runs)
    assert (med["seconds"], med["cpu"], med["rss_mb"]) == (2.0, 5.0, 600.0)
    assert bds.median_run([runs[1]]) is None


def test_table_row_shows_ratios_and_leaves_failed_measures_blank():
    ok = {"seconds": 1.0, "cpu": 1.0, "rss_mb": 100.0}
    runs = [
        {"read": ok, "read_ours": ok, "detect": {**ok, "seconds": 2.0, "regions": 4}},
        {"read": {**ok, "seconds": 2.0}, "read_ours": ok,
         "detect": {**ok, "seconds": 3.0, "regions": 4}},
    ]  # fmt: skip
    row = bds.table_row("jpeg", 1000, runs, [1.0, 2.5])
    # medians 1.5 s and 2.5 s: ratio 1.67; runs 2.0 and 1.5
    assert "| 1.67 (1.50-2.00) |" in row and "| 2500 |" in row and "| 1.00-2.50 |" in row
    failed = [{"read": ok, "read_ours": ok, "detect": {"error": "E", "traceback": ""}}]
    cells = [c.strip() for c in bds.table_row("uint16", 1000, failed, [1.0]).split("|")[1:-1]]
    assert cells[0] == "uint16" and cells[5:7] == ["-", "-"] and cells[12] == "-"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
        capture_output=True,
    )  # fmt: skip


def test_code_state_names_the_commit_and_what_differs_from_it(tmp_path):
    (tmp_path / "imagery_tool").mkdir()
    (tmp_path / "imagery_tool" / "a.py").write_text("x = 1\n")
    (tmp_path / "docs.md").write_text("text\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")
    clean = bds.code_state(tmp_path)
    assert len(clean["commit"]) == 40 and not clean["dirty"] and clean["diff_sha1"] is None
    (tmp_path / "docs.md").write_text("other\n")  # not code: still clean
    assert not bds.code_state(tmp_path)["dirty"]
    (tmp_path / "imagery_tool" / "a.py").write_text("x = 2\n")
    edited = bds.code_state(tmp_path)
    assert edited["dirty"] and edited["dirty_paths"] == ["imagery_tool/a.py"]
    (tmp_path / "imagery_tool" / "b.py").write_text("y = 1\n")
    more = bds.code_state(tmp_path)
    assert more["dirty_paths"] == ["imagery_tool/a.py", "imagery_tool/b.py"]
    assert more["diff_sha1"] != edited["diff_sha1"]  # an untracked file counts too
