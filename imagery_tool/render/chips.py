"""Contact sheet of object chips: each box cropped, enlarged, labelled with its size in metres."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from imagery_tool.display import chip_window, display_rgb
from imagery_tool.render.decorations import PAPER, PAPER_INK
from imagery_tool.render.draw import Canvas, Style, draw_outline
from imagery_tool.render.imagery import BACKGROUND, _bands, _resampling, frame_limits
from imagery_tool.render.marks import Mark, label_text, size_m
from imagery_tool.render.text import load_font, text_size
from imagery_tool.tile import Tile

__all__ = ["Chip", "chip_size", "contact_sheet"]


@dataclass(frozen=True)
class Chip:
    """One object to show: a mark on the grid of ``tile``, drawn in ``colour``."""

    tile: Tile
    mark: Mark
    colour: tuple[int, int, int]


def chip_size(style: Style) -> int:
    """Side of one chip image in pixels."""
    return max(128, style.label_font * 11)


def _fit(text: str, font, width: int) -> str:
    """Cut ``text`` with an ellipsis so that it fits ``width`` pixels."""
    if text_size(text, font)[0] <= width:
        return text
    while text and text_size(text + "…", font)[0] > width:
        text = text[:-1]
    return text + "…"


def _read_chip(chip: Chip, side: int, limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Crop a square around the mark, enlarged (or reduced) to ``side`` pixels.

    Returns the RGB chip and the mark's corners in chip pixels.
    """
    xy = chip.mark.xy
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    window = chip_window((x0, y0, x1, y1))
    n = int(window.width)
    tile = chip.tile
    bands = _bands(tile)
    read_side = min(n, side)  # never read more than needed; enlarge after reading
    with tile.open() as ds:
        pixels = tile.read(
            window=window,
            bands=bands,
            out_shape=(read_side, read_side),
            resampling=_resampling(tile),
            dataset=ds,
        )
        valid = tile.read_valid(
            window=window, out_shape=(read_side, read_side), pixels=pixels, dataset=ds
        )
    rgb = display_rgb(pixels, limits, valid, palette=tile.palette, fill=BACKGROUND)
    if read_side != side:
        rgb = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_CUBIC)
    corners = (xy - [window.col_off, window.row_off]) * (side / n)
    return rgb, corners


def contact_sheet(chips: list[Chip], style: Style, width: int) -> tuple[Canvas, list]:
    """Lay out object chips in a grid ``width`` pixels wide.

    Each chip is the object's box cropped with a margin, enlarged, with the box drawn, its label
    (class and key attributes) and its ground size (length x width in metres) underneath.

    Parameters
    ----------
    chips : list of Chip
        The objects, in the order shown.
    style : Style
        Sizes.
    width : int
        Width of the sheet in pixels.

    Returns
    -------
    canvas : Canvas
        The sheet (white paper).
    cells : list of (str, (int, int, int, int))
        Label and rectangle of each chip image, for tests.
    """
    side = chip_size(style)
    gap = style.margin
    cols = max(1, (width - gap) // (side + gap))
    font = load_font(style.label_font)
    line_h = text_size("Ag", font)[1]
    cell_h = side + 2 * line_h + 2 * style.pad
    rows = math.ceil(len(chips) / cols)
    head_h = line_h + style.pad
    canvas = Canvas.blank(head_h + gap + rows * (cell_h + gap), width, PAPER)
    canvas.text(
        "Object chips: class and key attributes; ground length × width (tick = heading)",
        (gap, 0), size=style.label_font, weight="bold", fill=PAPER_INK,
    )  # fmt: skip
    limits_cache: dict[str, np.ndarray] = {}
    cells = []
    for i, chip in enumerate(chips):
        r, c = divmod(i, cols)
        x, y = gap + c * (side + gap), head_h + gap + r * (cell_h + gap)
        key = str(chip.tile.path)
        if key not in limits_cache:
            limits_cache[key] = frame_limits(chip.tile, _bands(chip.tile))
        rgb, corners = _read_chip(chip, side, limits_cache[key])
        image = np.ascontiguousarray(rgb)
        draw_outline(image, corners, chip.colour, max(2, style.line), head=True)
        canvas.pixels[y : y + side, x : x + side] = image
        canvas.pixels[y + side : y + side + 1, x : x + side] = BACKGROUND
        text = label_text(chip.mark)
        dims = size_m(chip.mark.xy, chip.tile.georef)
        if dims is None:
            size_text = (
                f"{math.dist(*chip.mark.xy[1:3]):.0f} × {math.dist(*chip.mark.xy[:2]):.0f} px"
            )
        else:
            size_text = f"{dims[0]:.1f} × {dims[1]:.1f} m"
        ty = y + side + style.pad
        canvas.text(
            _fit(text, font, side), (x, ty), size=style.label_font, weight="bold", fill=PAPER_INK
        )
        canvas.text(
            _fit(size_text, font, side), (x, ty + line_h), size=style.label_font, fill=PAPER_INK
        )
        cells.append((text, (x, y, x + side, y + side)))
    return canvas, cells
