"""Chips of the series timeline: the reviewer sheet's crop, boxed in the change kinds' colours."""

from __future__ import annotations

import numpy as np

from imagery_tool.display import chip_window
from imagery_tool.series.assemble import object_chip
from imagery_tool.style import CHANGE_COLOURS
from imagery_tool.tile import open_tile
from tests.conftest import write_raster


def test_a_chip_frames_the_object_as_the_reviewer_sheet_does_in_the_kind_colour(tmp_path):
    pixels = np.full((3, 200, 200), 90, np.uint8)
    pixels[:, 90:110, 80:120] = 200  # a 40 x 20 px object
    tile = open_tile(write_raster(tmp_path / "t.tif", pixels))
    box = (80, 90, 120, 110)
    colour = CHANGE_COLOURS["appeared"]
    with tile.open() as ds:
        chip = object_chip(tile, ds, box, colour, side=96)
    assert chip.shape == (96, 96, 3) and chip.dtype == np.uint8
    n = chip_window(box).width
    # the box's left edge, drawn where the shared crop puts it
    x = round((80 - chip_window(box).col_off) * 96 / n)
    assert tuple(chip[48, x]) == colour
    assert (chip == colour).all(axis=2).sum() > 100
