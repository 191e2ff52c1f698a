"""The reader on real sensors' data types: blue-first 11-bit 4-band counts, float reflectance."""

from __future__ import annotations

import dataclasses

import numpy as np
from imagery_tool_synthetic.sensor import PRODUCTS

from tests.sensor_pairs import is_red, roof_centre, write_pair


def _level(layer):
    """The full-resolution array of a layer, multiscale or not."""
    return layer.data[0] if layer.multiscale else layer.data


def _pixel(layer, date: int | None, col: int, row: int) -> np.ndarray:
    level = _level(layer)
    return np.asarray(level[row, col] if date is None else level[date, row, col])


def test_blue_first_11_bit_tile_shows_natural_colour(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    pair = write_pair(tmp_path / "wv", "worldview-11bit")
    (layer,) = viewer.open(str(pair.before), plugin="imagery-tool")
    assert layer.rgb and _level(layer).shape == (640, 640, 3)
    c, r = roof_centre()
    assert is_red(_pixel(layer, None, c, r))  # not the NIR or the blue band as red
    assert np.asarray(_level(layer)[::8, ::8]).mean() > 80  # stretched, not black


def test_float_reflectance_with_nan_holes_displays(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    pair = write_pair(tmp_path / "refl", "reflectance")
    (layer,) = viewer.open(str(pair.before), plugin="imagery-tool")
    c, r = roof_centre()
    assert is_red(_pixel(layer, None, c, r))
    c0, r0, c1, r1 = pair.before_hole
    assert (np.asarray(_level(layer)[r0:r1, c0:c1]) == 0).all()  # NaN shows black
    assert np.asarray(_level(layer)[r1 + 4 :: 8, ::8]).mean() > 80


def test_stack_of_a_blue_first_and_a_red_first_date(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    folder = tmp_path / "site"
    before = write_pair(folder, "worldview-11bit", holes=False).before
    red_first = dataclasses.replace(PRODUCTS["worldview-11bit"], order="RGBN")
    write_pair(tmp_path / "rgbn", red_first, holes=False).after.rename(
        folder / "site_2024-12-13.tif"
    )
    assert before.parent == folder
    (layer,) = viewer.open(str(folder), plugin="imagery-tool")
    assert _level(layer).shape == (2, 640, 640, 3)
    c, r = roof_centre()
    for date in (0, 1):  # AFTER is drawn on BEFORE's grid
        assert is_red(_pixel(layer, date, c, r)), date
