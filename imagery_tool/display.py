"""Turn raster pixels of any dtype into 8-bit RGBA for display, with a percentile stretch."""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import ExitStack

import numpy as np
from rasterio.enums import Resampling
from rasterio.windows import Window

from imagery_tool.errors import RenderError
from imagery_tool.tile import Tile

__all__ = [
    "CHIP_MARGIN",
    "STRETCH_READ_PIXELS",
    "VIEW_READ_PIXELS",
    "check_view_cost",
    "chip_window",
    "composite",
    "display_limits",
    "display_rgb",
    "palette_rgb",
    "stretch_limits",
    "stretch_to_uint8",
]

# The most full-resolution (or overview) pixels per band a view may make GDAL decode, a few
# seconds: a reduced view of a huge raster without overviews would decode all of it. A tile of
# up to 16384 x 16384 px is drawn whole even without overviews.
VIEW_READ_PIXELS = 16384 * 16384
# The most a whole-tile view read only for the display limits may decode (about a second).
STRETCH_READ_PIXELS = 8192 * 8192
# Longer side of the reduced whole-tile view that display limits are taken from.
_STRETCH_SIDE = 1024
# A chip shows an object's box enlarged by this factor plus this many pixels: the object fills
# most of the chip with a ring of its surroundings (the reviewer sheet, the series timeline).
CHIP_MARGIN = (1.35, 8)


def stretch_limits(
    pixels: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    percentiles: tuple[float, float] = (2.0, 98.0),
    linked: bool = True,
) -> np.ndarray:
    """Per-band low/high display limits at the given percentiles of the valid pixels.

    Parameters
    ----------
    pixels : (B, H, W) ndarray
        Any numeric dtype.
    valid : (H, W) bool ndarray, optional
        Pixels to take into account (all finite pixels by default).
    percentiles : (float, float)
        Lower and upper percentiles, 0..100.
    linked : bool
        Give every band the same limits (the lowest low and the highest high), which keeps the
        hues of a natural-colour image (the default); per-band limits (False) balance
        false-colour or multispectral bands of different ranges.

    Returns
    -------
    (B, 2) float64 ndarray
        ``[low, high]`` per band; ``high > low`` always (a constant band gets ``low + 1``).
    """
    limits = np.zeros((pixels.shape[0], 2))
    for b, band in enumerate(pixels):
        values = band[valid] if valid is not None else band.ravel()
        values = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        if values.size == 0:
            limits[b] = (0.0, 1.0)
            continue
        low, high = np.percentile(values, percentiles)
        limits[b] = (low, high if high > low else low + 1.0)
    if linked:
        limits[:] = (limits[:, 0].min(), limits[:, 1].max())
    return limits


def display_limits(
    tile: Tile,
    bands: Sequence[int],
    *,
    percentiles: tuple[float, float] = (2.0, 98.0),
    linked: bool = True,
    pixels: np.ndarray | None = None,
    valid: np.ndarray | None = None,
    dataset=None,
) -> np.ndarray:
    """Display limits of a tile's bands, from a bounded read whatever the raster's size.

    From a reduced view of the whole tile (longer side 1024 px) when the file's overviews make
    it cheap (at most `STRETCH_READ_PIXELS` decoded), so that every view of the tile is stretched
    alike; otherwise (a huge raster without overviews) from ``pixels``, the view being shown,
    when given, else from `Tile.sample_windows` at full resolution. The one stretch of the CLI's
    pictures and of the napari viewer.

    Parameters
    ----------
    tile : Tile
        The tile.
    bands : sequence of int
        1-based bands, in the order of the limits.
    percentiles, linked
        As for `stretch_limits`.
    pixels : (B, H, W) ndarray, optional
        The pixels of ``bands`` being shown (already read, so free).
    valid : (H, W) bool ndarray, optional
        Their validity.
    dataset : rasterio.io.DatasetReader, optional
        An open dataset of the tile (`Tile.open`).

    Returns
    -------
    (B, 2) float64 ndarray
        As for `stretch_limits`.
    """
    bands = list(bands)
    with ExitStack() as stack:
        ds = dataset or stack.enter_context(tile.open())
        shape = tile.overview_shape(_STRETCH_SIDE)
        if tile.read_cost(out_shape=shape) <= STRETCH_READ_PIXELS:
            pixels = tile.read(bands=bands, out_shape=shape, dataset=ds)
            valid = tile.read_valid(out_shape=shape, pixels=pixels, dataset=ds)
        elif pixels is None:
            parts = []
            for window in tile.sample_windows():
                part = tile.read(window=window, bands=bands, dataset=ds)
                parts.append((part, tile.read_valid(window=window, pixels=part, dataset=ds)))
            pixels = np.concatenate([p.reshape(len(bands), 1, -1) for p, _ in parts], axis=2)
            valid = np.concatenate([v.reshape(1, -1) for _, v in parts], axis=1)
    return stretch_limits(pixels, valid, percentiles=percentiles, linked=linked)


def check_view_cost(tile: Tile, window: Window | None, out_shape: tuple[int, int]) -> None:
    """Refuse a view that would make GDAL decode more than `VIEW_READ_PIXELS` pixels per band.

    Raises
    ------
    RenderError
        Naming the file, what the view would decode and the two ways out: overviews, or a
        smaller region.
    """
    cost = tile.read_cost(window=window, out_shape=out_shape)
    if cost > VIEW_READ_PIXELS:
        window = window or Window(0, 0, tile.width, tile.height)
        raise RenderError(
            f"{tile.path}: showing {int(window.width)} x {int(window.height)} px of it at "
            f"{out_shape[1]} x {out_shape[0]} px would decode {cost / 1e6:,.0f} Mpx, as the file "
            "has no overviews at that scale; add overviews (gdaladdo -r average "
            f"{tile.path}) or show a smaller region (`region`)",
            parameter="region",
        )


def stretch_to_uint8(
    pixels: np.ndarray, limits: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """Scale bands linearly to 0..255 between their limits and add an alpha channel.

    Parameters
    ----------
    pixels : (B, H, W) ndarray
        One band (grey) or three (RGB); any numeric dtype. Not modified.
    limits : (B, 2) array_like
        ``[low, high]`` per band, as from `stretch_limits`.
    valid : (H, W) bool ndarray, optional
        False pixels become transparent (alpha 0) and black.

    Returns
    -------
    (H, W, 4) uint8 ndarray
        RGBA; a single band is repeated as grey.
    """
    if pixels.shape[0] not in (1, 3):
        raise ValueError(f"expected 1 or 3 bands, got {pixels.shape[0]}")
    limits = np.asarray(limits, dtype=np.float64)
    low = limits[:, 0][:, None, None]
    span = (limits[:, 1] - limits[:, 0])[:, None, None]
    scaled = (pixels.astype(np.float32) - low) * (255.0 / span)
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    rgb = np.clip(scaled, 0, 255).round().astype(np.uint8)
    if rgb.shape[0] == 1:
        rgb = np.repeat(rgb, 3, axis=0)
    alpha = np.full(pixels.shape[1:], 255, dtype=np.uint8)
    if valid is not None:
        alpha[~valid] = 0
        rgb[:, ~valid] = 0
    return np.dstack([*rgb, alpha])


def palette_rgb(palette: Sequence[Sequence[int]], classes: np.ndarray) -> np.ndarray:
    """Colour a palette file's band in its own colours (`Tile.palette`), unstretched.

    Parameters
    ----------
    palette : sequence of (int, int, int)
        RGB colour of each class value 0..255.
    classes : (H, W) ndarray
        Class values, any numeric dtype (rounded and clipped to 0..255).

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    index = np.clip(np.rint(classes), 0, 255).astype(np.intp)
    return np.asarray(palette, dtype=np.uint8)[index]


def display_rgb(
    pixels: np.ndarray,
    limits: np.ndarray | None,
    valid: np.ndarray | None = None,
    *,
    palette: Sequence[Sequence[int]] | None = None,
    fill: tuple[int, int, int] = (0, 0, 0),
) -> np.ndarray:
    """Stretch (B, H, W) pixels to RGB as `stretch_to_uint8` does, or colour a palette band.

    8- and 16-bit integer bands go through a lookup table built with `stretch_to_uint8`
    itself (the same values, a fraction of the time and memory); other types are stretched
    directly. The one stretch of the reviewer sheet, the quick look, the series chips and
    napari.

    Parameters
    ----------
    pixels : (B, H, W) ndarray
        One band (grey) or three (RGB); any numeric dtype. Not modified.
    limits : (B, 2) array_like or None
        ``[low, high]`` per band (`stretch_limits`, `display_limits`); unused with ``palette``.
    valid : (H, W) bool ndarray, optional
        Pixels with data; the others become ``fill``.
    palette : sequence of (int, int, int), optional
        A palette file's colours (`Tile.palette`): its single band is shown in them.
    fill : (int, int, int)
        RGB of pixels without data.

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    if palette is not None:
        rgb = palette_rgb(palette, pixels[0])
    elif pixels.dtype in (np.uint8, np.uint16):
        levels = np.arange(np.iinfo(pixels.dtype).max + 1, dtype=pixels.dtype)
        table = stretch_to_uint8(np.broadcast_to(levels, (len(pixels), 1, len(levels))), limits)
        lut = np.ascontiguousarray(table[0, :, : len(pixels)].T)  # (B, levels)
        bands = [lut[b][pixels[b]] for b in range(len(pixels))]
        if len(bands) == 1:
            bands = bands * 3
        rgb = np.dstack(bands)
    else:
        rgb = stretch_to_uint8(pixels, limits)[..., :3].copy()
    if valid is not None:
        rgb[~valid] = fill
    return rgb


def chip_window(box: Sequence[float]) -> Window:
    """Return the square window a chip of an object shows: its box with `CHIP_MARGIN`.

    Parameters
    ----------
    box : (float, float, float, float)
        ``(col_min, row_min, col_max, row_max)`` of the object, in pixels of its tile.

    Returns
    -------
    rasterio.windows.Window
        Centred on the box, at least 4 px a side; it may reach beyond the tile.
    """
    c0, r0, c1, r1 = box
    factor, pad = CHIP_MARGIN
    n = max(4, math.ceil(max(c1 - c0, r1 - r0) * factor + pad))
    cx, cy = (c0 + c1) / 2, (r0 + r1) / 2
    return Window(math.floor(cx - n / 2), math.floor(cy - n / 2), n, n)


def composite(
    tile: Tile,
    *,
    bands: Sequence[int] | None = None,
    window: Window | None = None,
    out_shape: tuple[int, int] | None = None,
    percentiles: tuple[float, float] = (2.0, 98.0),
    linked: bool = True,
    limits: np.ndarray | None = None,
) -> np.ndarray:
    """Make an 8-bit RGBA view of a tile or a window of it.

    The stretch is `display_limits`: a reduced view of the whole tile (through its overviews),
    so that every window of the tile is stretched alike, or the window itself when the file
    has no overviews to make that cheap.

    Parameters
    ----------
    tile : Tile
        The tile to show.
    bands : sequence of int, optional
        1-based bands: three for a colour composite or one for grey; `Tile.rgb_bands` by default.
    window : rasterio.windows.Window, optional
        The region to show (whole tile by default).
    out_shape : (int, int), optional
        ``(rows, cols)`` of the output; the window's size by default.
    percentiles : (float, float)
        Stretch percentiles, ignored when ``limits`` is given.
    linked : bool
        One stretch for all three bands (keeps natural colours; the default) or one per band
        (balances false-colour or multispectral bands of different ranges).
    limits : (B, 2) array_like, optional
        Fixed display limits, e.g. to show several dates alike.

    Returns
    -------
    (H, W, 4) uint8 ndarray
        RGBA; nodata, masked and NaN pixels are transparent. A palette file (`Tile.palette`)
        is shown in its own colours, unstretched.

    Raises
    ------
    RenderError
        When the view would decode too much of a raster without overviews (`check_view_cost`).
    """
    bands = tuple(bands or tile.rgb_bands)
    shape = out_shape or (int(round((window or tile).height)), int(round((window or tile).width)))
    check_view_cost(tile, window, shape)
    colour_map = tile.palette is not None and bands == (1,)  # its own colours, unstretched
    with tile.open() as ds:
        pixels = tile.read(
            window=window,
            bands=bands,
            out_shape=shape,
            resampling=Resampling.nearest if colour_map else Resampling.average,
            dataset=ds,
        )
        valid = tile.read_valid(window=window, out_shape=shape, pixels=pixels, dataset=ds)
        if colour_map:
            rgb = display_rgb(pixels, None, valid, palette=tile.palette)
            return np.dstack([rgb, np.where(valid, 255, 0).astype(np.uint8)])
        if limits is None:
            limits = display_limits(
                tile,
                bands,
                percentiles=percentiles,
                linked=linked,
                pixels=pixels,
                valid=valid,
                dataset=ds,
            )
    return stretch_to_uint8(pixels, limits, valid)
