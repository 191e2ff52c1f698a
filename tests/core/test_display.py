import math

import numpy as np
import pytest
from affine import Affine

from imagery_tool.display import (
    CHIP_MARGIN,
    chip_window,
    composite,
    display_rgb,
    stretch_limits,
    stretch_to_uint8,
)
from imagery_tool.tile import open_tile
from tests.conftest import HMEIMIM_UTM, UTM36N, write_raster


def test_stretch_maps_percentiles_to_0_and_255():
    band = np.arange(1000, dtype=np.uint16).reshape(1, 10, 100)
    limits = stretch_limits(band, percentiles=(0, 100))
    assert limits.tolist() == [[0.0, 999.0]]
    rgba = stretch_to_uint8(band, limits)
    assert rgba.shape == (10, 100, 4) and rgba.dtype == np.uint8
    assert rgba[0, 0, :3].tolist() == [0, 0, 0]
    assert rgba[-1, -1, :3].tolist() == [255, 255, 255]
    assert (rgba[..., 3] == 255).all()


def test_constant_band_does_not_divide_by_zero():
    limits = stretch_limits(np.full((1, 4, 4), 7.0))
    assert limits[0, 1] > limits[0, 0]


def test_invalid_pixels_are_transparent_and_ignored_by_the_stretch():
    band = np.full((1, 4, 4), 100.0)
    band[0, 0, 0] = np.nan
    band[0, 0, 1] = 10_000.0
    valid = np.isfinite(band[0]) & (band[0] < 1000)
    limits = stretch_limits(band, valid)
    assert limits[0, 0] == 100.0
    rgba = stretch_to_uint8(band, limits, valid)
    assert rgba[0, 0, 3] == 0 and rgba[0, 1, 3] == 0 and rgba[1, 1, 3] == 255


def test_input_is_not_modified():
    band = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    copy = band.copy()
    stretch_to_uint8(band, stretch_limits(band))
    np.testing.assert_array_equal(band, copy)


def test_composite_of_16bit_tile_with_nodata(tmp_path):
    rng = np.random.default_rng(3)
    pixels = rng.integers(1000, 3000, size=(4, 64, 64), dtype=np.uint16)
    pixels[:, :8] = 0
    path = write_raster(
        tmp_path / "ms.tif",
        pixels,
        crs=UTM36N,
        nodata=0,
        transform=Affine(0.5, 0, HMEIMIM_UTM[0], 0, -0.5, HMEIMIM_UTM[1]),
    )
    tile = open_tile(path)
    rgba = composite(tile, bands=(3, 2, 1), linked=False)
    assert rgba.shape == (64, 64, 4)
    assert (rgba[:8, :, 3] == 0).all() and (rgba[8:, :, 3] == 255).all()
    # The 2..98 % stretch spreads valid pixels over the whole 8-bit range.
    assert rgba[8:, :, 0].min() == 0 and rgba[8:, :, 0].max() == 255
    grey = composite(tile, bands=(1,), out_shape=(16, 16))
    assert grey.shape == (16, 16, 4)
    assert (grey[..., 0] == grey[..., 1]).all()


def test_composite_refuses_two_bands(utm_tile):
    with pytest.raises(ValueError, match="1 or 3 bands"):
        composite(open_tile(utm_tile), bands=(1, 2))


def test_linked_stretch_keeps_band_ratios():
    pixels = np.stack([np.linspace(0, 100, 100), np.linspace(0, 50, 100), np.zeros(100)])
    pixels = pixels.reshape(3, 10, 10)
    limits = stretch_limits(pixels, percentiles=(0, 100), linked=True)
    assert limits.tolist() == [[0.0, 100.0]] * 3
    rgba = stretch_to_uint8(pixels, limits)
    assert rgba[-1, -1, :3].tolist() == [255, 127, 0]  # 50 / 100 * 255 = 127.5, rounded to even


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_display_rgb_is_the_rounded_stretch_for_every_dtype(dtype):
    # one stretch for render, the quick look, the series chips and napari: a lookup table for
    # 8/16-bit bands and the direct stretch give the same rounded levels (napari and the quick
    # look used to truncate: 127.5 became 127, then 128)
    pixels = (np.arange(3 * 40 * 50) % 997).reshape(3, 40, 50).astype(dtype)
    valid = np.ones((40, 50), bool)
    valid[0, :5] = False
    limits = stretch_limits(pixels, valid)
    rgb = display_rgb(pixels, limits, valid, fill=(64, 64, 64))
    expected = stretch_to_uint8(pixels, limits, valid)[..., :3]
    assert rgb.dtype == np.uint8 and rgb.shape == (40, 50, 3)
    np.testing.assert_array_equal(rgb[valid], expected[valid])
    assert (rgb[~valid] == 64).all()


def test_palette_bands_take_their_own_colours_unstretched():
    palette = [(i, 255 - i, 7) for i in range(256)]
    classes = np.array([[[0.0, 2.4], [300.0, -5.0]]])
    rgb = display_rgb(classes, None, palette=palette)
    assert rgb[..., 0].tolist() == [[0, 2], [255, 0]]


def test_a_chip_shows_the_box_with_one_margin():
    window = chip_window((100, 200, 120, 210))  # 20 x 10 px
    factor, pad = CHIP_MARGIN
    side = math.ceil(20 * factor + pad)
    assert (window.width, window.height) == (side, side)
    assert window.col_off + side / 2 == pytest.approx(110, abs=1)
    assert window.row_off + side / 2 == pytest.approx(205, abs=1)
    assert chip_window((5, 5, 5, 5)).width >= 4
