"""The commands on real sensors' data types: 11/12-bit 4-band counts and float reflectance.

Every command runs in a subprocess as a user runs it: no warning, no traceback on stderr.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from PIL import Image

from imagery_tool.render.imagery import BACKGROUND
from tests.cli.helpers import run_cli
from tests.sensor_pairs import is_red, overlaps, roof_centre, write_pair

ROOF_BBOX = "767696,3921434,767715,3921453"  # map units (UTM 36N), inside the red roof


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("sensor_cli")


@pytest.fixture(scope="module")
def worldview(folder):
    """Blue-first 11-bit counts with an NBITS tag, no nodata."""
    return write_pair(folder / "worldview", "worldview-11bit")


@pytest.fixture(scope="module")
def reflectance(folder):
    """Float reflectance 0..1 with NaN holes."""
    return write_pair(folder / "reflectance", "reflectance")


def _clean(result):
    """The command succeeded and said nothing on stderr (no warning, no traceback)."""
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


def test_info_json_reports_roles_bits_and_values(worldview, reflectance, folder):
    unlabelled = write_pair(folder / "unlabelled", "unlabelled-11bit").before
    result = run_cli("info", "--json", worldview.before, reflectance.after, unlabelled)
    _clean(result)
    wv, refl, plain = json.loads(result.stdout)
    assert [b["role"] for b in wv["bands"]] == ["blue", "green", "red", "nir"]
    assert wv["rgb_bands"] == [3, 2, 1] and wv["rgb_source"] == "colorinterp"
    assert (wv["dtype"], wv["bits"], wv["bits_source"]) == ("uint16", 11, "NBITS tag")
    assert refl["dtype"] == "float32" and refl["nodata"] == "nan" and refl["bits"] is None
    assert 0 < refl["value_range"][0] < refl["value_range"][1] <= 1
    assert plain["rgb_source"] == "band order" and plain["rgb_bands"] == [1, 2, 3]
    assert (plain["bits"], plain["bits_source"]) == (11, "sampled values")


def test_info_text_says_where_colours_come_from_and_how_to_fix_it(worldview, folder):
    unlabelled = write_pair(folder / "unlabelled", "unlabelled-11bit").before
    result = run_cli("info", worldview.before, unlabelled)
    _clean(result)
    described, silent = result.stdout.split(str(unlabelled), 1)
    assert "4 band(s) uint16 (blue, green, red, nir)" in described
    assert "red = band 3, green = band 2, blue = band 1 (from the colour interpretation)" in (
        described
    )
    assert "11-bit (NBITS tag)" in described
    assert "(assumed from the band order)" in silent
    assert "rio edit-info --colorinterp blue,green,red,nir" in silent


@pytest.mark.parametrize("method", ["robust", "cva"])
def test_detect_writes_regions_mask_and_quicklook_in_natural_colour(worldview, tmp_path, method):
    out, mask, png = tmp_path / "changes.geojson", tmp_path / "mask.tif", tmp_path / "review.png"
    result = run_cli("detect", worldview.before, worldview.after, "-o", out, "--mask", mask,
                     "--png", png, "--method", method)  # fmt: skip
    _clean(result)
    features = json.loads(out.read_text())["features"]
    kinds = {
        name: {
            f["properties"]["change"] for f in features if overlaps(f["properties"]["bbox_px"], box)
        }
        for name, box in worldview.truth.items()
    }
    assert "disappeared" in kinds["leaves"] and "appeared" in kinds["arrives"]
    with rasterio.open(mask) as ds:
        changed = ds.read(1) == 255
    for box in worldview.truth.values():
        c0, r0, c1, r1 = (int(v) for v in box)
        assert changed[r0:r1, c0:c1].mean() > 0.2
    with Image.open(png) as image:
        quick = np.asarray(image.convert("RGB"))
    c, r = roof_centre()
    assert is_red(quick[r, c]), quick[r, c]  # BEFORE's panel, at full size for 640 px
    assert is_red(quick[r, c + 640 + 8]), quick[r, c + 648]  # AFTER's, beside it


@pytest.mark.parametrize("method", ["robust", "cva"])
def test_detect_on_reflectance_never_changes_nodata(reflectance, tmp_path, method):
    out, mask, png = tmp_path / "changes.geojson", tmp_path / "mask.png", tmp_path / "review.png"
    result = run_cli("detect", reflectance.before, reflectance.after, "-o", out, "--mask", mask,
                     "--png", png, "--method", method, "--json")  # fmt: skip
    _clean(result)
    summary = json.loads(result.stdout)
    assert summary["counts"]
    with Image.open(mask) as image:
        changed = np.asarray(image) > 0
    c0, r0, c1, r1 = reflectance.before_hole
    assert not changed[r0:r1, c0:c1].any()
    with Image.open(png) as image:
        quick = np.asarray(image.convert("RGB"))
    black = (quick[r0:r1, c0:c1] == 0).all(axis=2)  # nodata is black in the quick look
    assert black.mean() > 0.95  # (a box outline may cross it)
    assert is_red(quick[roof_centre()[1], roof_centre()[0]])


def test_render_shows_the_roof_red_and_nodata_as_background(worldview, reflectance, tmp_path):
    for tile in (worldview.before, reflectance.before):
        png = tmp_path / f"{tile.parent.name}.png"
        _clean(run_cli("render", tile, "--bbox", ROOF_BBOX, "--width", "600", "-o", png))
        with Image.open(png) as image:
            pixels = np.asarray(image.convert("RGB"))[100:500:5, 50:550:5].reshape(-1, 3)
        red = np.array([is_red(p) for p in pixels])  # the map panel, under the panel tags
        assert red.mean() > 0.9
    # the whole tile: its nodata hole is drawn in the background grey, not black
    png = tmp_path / "whole.png"
    _clean(run_cli("render", reflectance.before, "-o", png))
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert (np.all(pixels == BACKGROUND, axis=2)).sum() > 0.5 * np.prod(
        [
            b - a
            for a, b in zip(reflectance.before_hole[:2], reflectance.before_hole[2:], strict=True)
        ]
    )


def test_render_sheet_of_a_blue_first_and_a_red_first_date(worldview, folder, tmp_path):
    import dataclasses

    from imagery_tool_synthetic.sensor import PRODUCTS

    rgbn = write_pair(
        folder / "rgbn", dataclasses.replace(PRODUCTS["worldview-11bit"], order="RGBN")
    )
    png = tmp_path / "sheet.png"
    _clean(run_cli("render", rgbn.after, "--before", worldview.before, "--bbox", ROOF_BBOX,
                   "--width", "600", "-o", png))  # fmt: skip
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"))
    for panel in (pixels[80:250:5, 20:280:5], pixels[80:250:5, 320:580:5]):  # BEFORE, AFTER
        red = np.array([is_red(p) for p in panel.reshape(-1, 3)])
        assert red.mean() > 0.9


@pytest.mark.parametrize("product", ["worldview-11bit", "reflectance"])
def test_series_over_a_folder_tracks_the_departure_and_the_arrival(tmp_path, product):
    pair = write_pair(tmp_path / "tiles", product, holes=False)
    out = tmp_path / "out"
    result = run_cli("series", pair.before.parent, "-o", out, "--scheduler", "threads", "--quiet")
    _clean(result)
    assert result.stdout == ""
    timeline = json.loads((out / "timeline.json").read_text())
    events = {
        name: {
            e["change"]
            for o in timeline["objects"]
            if overlaps(o["bbox_px_reference"], box)
            for e in o["events"]
        }
        for name, box in pair.truth.items()
    }
    assert events == {"leaves": {"disappeared"}, "arrives": {"appeared"}}
    assert (out / "timeline.png").stat().st_size > 0
