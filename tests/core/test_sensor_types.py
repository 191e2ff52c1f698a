"""Real sensors' data types: 11/12-bit 4-band counts and float reflectance, read, described, shown.

Band roles come from the file (colour interpretation, else band descriptions), so a blue-first
WorldView-style tile shows its red roof red; when the file says nothing, the band order is
assumed (and said). Known answers come from generated tiles (`tests.sensor_pairs`).
"""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from imagery_tool_synthetic.sensor import PRODUCTS
from rasterio.enums import ColorInterp
from rasterio.windows import Window

from imagery_tool.change.quicklook import render_quicklook
from imagery_tool.change.result import ChangeResult
from imagery_tool.display import composite
from imagery_tool.registration import AlignedPair, coregister
from imagery_tool.render import render
from imagery_tool.render.imagery import BACKGROUND
from imagery_tool.summary import describe_tile
from imagery_tool.tile import open_tile, role_from_description
from tests.conftest import UTM36N, gradient, write_raster
from tests.sensor_pairs import is_red, roof_centre, write_pair

NORTH_UP = Affine(0.5, 0, 767_800.0, 0, -0.5, 3_921_600.0)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """Every product of `PRODUCTS`, with nodata holes where the product has nodata."""
    root = tmp_path_factory.mktemp("sensor")
    return {name: write_pair(root / name, name) for name in PRODUCTS}


# -- band roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "roles", "rgb", "source"),
    [
        ("worldview-11bit", ("blue", "green", "red", "nir"), (3, 2, 1), "colorinterp"),
        ("pleiades-12bit", ("red", "green", "blue", "nir"), (1, 2, 3), "colorinterp"),
        ("unlabelled-11bit", ("undefined",) * 4, (1, 2, 3), "band order"),
        ("reflectance", ("blue", "green", "red", "nir"), (3, 2, 1), "colorinterp"),
    ],
)
def test_band_roles_come_from_the_colour_interpretation(pairs, product, roles, rgb, source):
    tile = open_tile(pairs[product].before)
    assert tile.band_roles == roles
    assert tile.rgb_bands == rgb
    assert tile.band_roles_source == source


def _four_bands(tmp_path, *, descriptions=(), colorinterp=None):
    path = write_raster(tmp_path / "ms.tif", gradient(4, 40, 50, "uint16"), transform=NORTH_UP,
                        crs=UTM36N)  # fmt: skip
    import rasterio

    with rasterio.open(path, "r+") as ds:
        for band, text in enumerate(descriptions, start=1):
            ds.set_band_description(band, text)
        if colorinterp:
            ds.colorinterp = [ColorInterp[c] for c in colorinterp]
    return open_tile(path)


@pytest.mark.parametrize(
    ("descriptions", "rgb"),
    [
        (("Blue", "Green", "Red", "NIR"), (3, 2, 1)),
        (("B02", "B03", "B04", "B08"), (3, 2, 1)),  # Sentinel-2 band names
        (("red (630-690 nm)", "green", "blue", "near infrared"), (1, 2, 3)),
    ],
)
def test_band_descriptions_name_the_roles_when_the_colour_interpretation_is_silent(
    tmp_path, descriptions, rgb
):
    tile = _four_bands(tmp_path, descriptions=descriptions)
    assert tile.colorinterp == ("gray", "undefined", "undefined", "undefined")
    assert tile.rgb_bands == rgb
    assert tile.band_roles_source == "description"
    assert tile.band_roles[3] == "nir"


def test_colour_interpretation_wins_over_descriptions(tmp_path):
    tile = _four_bands(
        tmp_path,
        descriptions=("Red", "Green", "Blue", "NIR"),
        colorinterp=("blue", "green", "red", "undefined"),
    )
    assert tile.rgb_bands == (3, 2, 1) and tile.band_roles_source == "colorinterp"
    assert tile.band_roles == ("blue", "green", "red", "nir")  # the 4th from its description


def test_one_band_is_grey_and_alpha_is_never_a_colour(tmp_path):
    grey = open_tile(write_raster(tmp_path / "g.tif", gradient(1, 20, 20, "float32")))
    assert grey.band_roles == ("gray",) and grey.rgb_bands == (1,)
    assert grey.band_roles_source == "grey"
    rgba = gradient(4, 20, 20)
    path = write_raster(tmp_path / "rgba.tif", rgba, photometric="RGB", alpha="YES")
    tile = open_tile(path)
    assert tile.rgb_bands == (1, 2, 3) and tile.band_roles[3] == "alpha"


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("Red", "red"),
        ("B04 - Red", "red"),
        ("NIR1", "nir"),
        ("Near-Infrared", "nir"),
        ("Red Edge 1", "rededge"),
        ("Coastal blue", "coastal"),
        ("B4", None),  # Landsat 4-7's B4 is near infrared, Sentinel-2's and Landsat 8's red
        ("Band 1", None),
        ("thermal infrared", None),
        ("", None),
    ],
)
def test_role_from_description(text, role):
    assert role_from_description(text) == role


# -- bits and values ---------------------------------------------------------------------------


def test_info_record_says_roles_bits_and_range(pairs):
    record = describe_tile(open_tile(pairs["worldview-11bit"].before))
    assert [b["role"] for b in record["bands"]] == ["blue", "green", "red", "nir"]
    assert record["rgb_bands"] == [3, 2, 1] and record["rgb_source"] == "colorinterp"
    assert (record["bits"], record["bits_source"]) == (11, "NBITS tag")
    low, high = record["value_range"]
    assert 0 <= low < high <= 2047 and isinstance(high, int)

    record = describe_tile(open_tile(pairs["pleiades-12bit"].before))
    assert (record["bits"], record["bits_source"]) == (12, "sampled values")
    assert 2047 < record["value_range"][1] <= 4095

    record = describe_tile(open_tile(pairs["reflectance"].after))  # NaN holes
    assert record["bits"] is None and record["bits_source"] is None
    low, high = record["value_range"]
    assert 0.0 < low < high <= 1.0


def test_value_range_leaves_nodata_out(tmp_path):
    pixels = gradient(4, 60, 60, "float32") / 400
    pixels[:, :20] = -9999
    tile = open_tile(write_raster(tmp_path / "r.tif", pixels, nodata=-9999))
    assert describe_tile(tile)["value_range"] == [0.05, pytest.approx(0.5475, abs=1e-6)]


def test_value_range_of_a_large_tile_is_sampled_at_full_resolution(tmp_path):
    pixels = np.full((1, 900, 1000), 700, np.uint16)
    pixels[0, 400:500, 400:600] = 3000  # the centre window sees it
    tile = open_tile(write_raster(tmp_path / "big.tif", pixels, tiled=True, blockxsize=256,
                                  blockysize=256))  # fmt: skip
    record = describe_tile(tile)
    assert record["value_range"] == [700, 3000]
    assert (record["bits"], record["bits_source"]) == (12, "sampled values")


# -- display -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "product",
    ["worldview-11bit", "pleiades-12bit", "reflectance", "reflectance-9999", "reflectance-uint16"],
)
def test_composite_shows_the_red_roof_red_and_11_bit_data_bright(pairs, product):
    tile = open_tile(pairs[product].before)
    rgba = composite(tile)
    c, r = roof_centre()
    assert is_red(rgba[r, c]), rgba[r, c]
    valid = rgba[..., 3] > 0
    assert rgba[valid, :3].mean() > 80  # stretched to the data, not to the dtype's range


def test_unlabelled_bands_are_shown_in_file_order(pairs):
    # the file does not say its first band is blue: it is shown as red (the documented guess)
    rgba = composite(open_tile(pairs["unlabelled-11bit"].before))
    c, r = roof_centre()
    red, _, blue = (int(v) for v in rgba[r, c, :3])
    assert blue > 2 * red


@pytest.mark.parametrize("product", ["reflectance", "reflectance-9999", "reflectance-uint16"])
def test_nodata_is_transparent(pairs, product):
    pair = pairs[product]
    rgba = composite(open_tile(pair.before))
    c0, r0, c1, r1 = pair.before_hole
    assert (rgba[r0:r1, c0:c1, 3] == 0).all()
    assert (rgba[r1 + 2 :, :, 3] == 255).all()


@pytest.mark.parametrize("product", ["worldview-11bit", "reflectance"])
def test_reviewer_rendering_shows_the_roof_red(pairs, product):
    pair = pairs[product]
    rendering = render(pair.before)
    (panel,) = rendering.panels
    c, r = roof_centre()
    x = panel.origin[0] + round((c - panel.frame.window.col_off) * panel.frame.zoom)
    y = panel.origin[1] + round((r - panel.frame.window.row_off) * panel.frame.zoom)
    assert is_red(rendering.image[y, x]), rendering.image[y, x]
    if pair.before_hole:
        c0, r0, c1, r1 = pair.before_hole
        x = panel.origin[0] + round(((c0 + c1) / 2 - panel.frame.window.col_off) * panel.frame.zoom)
        y = panel.origin[1] + round(((r0 + r1) / 2 - panel.frame.window.row_off) * panel.frame.zoom)
        assert tuple(rendering.image[y, x]) == BACKGROUND


def test_sheet_of_a_blue_first_and_a_red_first_date_shows_both_roofs_red(pairs, tmp_path):
    import dataclasses

    rgbn = write_pair(
        tmp_path / "rgbn", dataclasses.replace(PRODUCTS["worldview-11bit"], order="RGBN")
    )
    rendering = render(rgbn.after, before=pairs["worldview-11bit"].before)
    c, r = roof_centre()
    for panel in rendering.panels:
        x = panel.origin[0] + round((c - panel.frame.window.col_off) * panel.frame.zoom)
        y = panel.origin[1] + round((r - panel.frame.window.row_off) * panel.frame.zoom)
        assert is_red(rendering.image[y, x]), (panel.name, rendering.image[y, x])


# -- pairs: AFTER's bands in BEFORE's order ------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(pairs, tmp_path_factory):
    """A blue-first 11-bit BEFORE and the same scene red-first as AFTER."""
    import dataclasses

    rgbn = dataclasses.replace(PRODUCTS["worldview-11bit"], order="RGBN")
    after = write_pair(tmp_path_factory.mktemp("rgbn"), rgbn).after
    return open_tile(pairs["worldview-11bit"].before), open_tile(after)


def test_aligned_pair_reads_after_in_befores_band_order(mixed):
    before, after = mixed
    pair = AlignedPair.of(before, after, coregister(before, after, measure=False))
    assert pair.after_bands == (3, 2, 1, 4)
    window = Window(40, 400, 100, 100)  # around the roof; AFTER is off by about (6, -5) px
    b, a, valid = pair.read(window)
    roof = b[2] > 1.5 * b[0]  # red over blue on BEFORE
    assert roof.sum() > 1000
    assert (a[2][roof & valid] > a[0][roof & valid]).mean() > 0.95  # and on AFTER too (hazier)
    colour = AlignedPair.of(
        before, after, pair.registration, bands=before.rgb_bands
    )  # red, green, blue only
    assert colour.bands == (3, 2, 1) and colour.after_bands == (1, 2, 3)
    b3, a3, _ = colour.read(window)
    assert np.array_equal(b3, b[[2, 1, 0]]) and np.array_equal(a3, a[[2, 1, 0]])


def test_unlabelled_after_is_matched_by_position(pairs):
    before = open_tile(pairs["worldview-11bit"].before)
    after = open_tile(pairs["unlabelled-11bit"].after)
    pair = AlignedPair.of(before, after, coregister(before, after, measure=False))
    assert pair.after_bands == (1, 2, 3, 4)
    assert AlignedPair.of(before, after, pair.registration, bands=(3, 2, 1)).after_bands == (
        3,
        2,
        1,
    )


def test_quicklook_shows_natural_colour_whatever_the_band_order(mixed):
    before, after = mixed
    result = ChangeResult(
        regions=[], registration=coregister(before, after, measure=False), before=before,
        after=after, method="cva",
    )  # fmt: skip
    bgr = render_quicklook(result)  # OpenCV's order: blue, green, red
    c, r = roof_centre()
    for x in (c, c + before.width + 8):  # BEFORE, then AFTER beside it
        assert is_red(bgr[r, x, ::-1]), bgr[r, x]


def test_quicklook_of_nan_reflectance_is_clean(pairs):
    pair = pairs["reflectance"]
    before, after = open_tile(pair.before), open_tile(pair.after)
    result = ChangeResult(regions=[], registration=coregister(before, after, measure=False),
                          before=before, after=after, method="cva")  # fmt: skip
    bgr = render_quicklook(result)  # warnings are errors here: no NaN cast warning
    c0, r0, c1, r1 = pair.before_hole
    assert (bgr[r0:r1, c0:c1] == 0).all()
    c, r = roof_centre()
    assert is_red(bgr[r, c, ::-1])
