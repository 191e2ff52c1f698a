"""Turn raster pixels of any dtype into 8-bit RGBA for display, with a percentile stretch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rasterio.windows import Window

from imagery_tool.tile import Tile

__all__ = ["composite", "stretch_limits", "stretch_to_uint8"]


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

    The stretch is computed on a reduced view of the whole tile (through its overviews), so
    that every window of the tile is stretched alike and the full raster is never read.

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
        RGBA; nodata, masked and NaN pixels are transparent.
    """
    bands = tuple(bands or tile.rgb_bands)
    with tile.open() as ds:
        if limits is None:
            shape = tile.overview_shape(1024)
            overview = tile.read(bands=bands, out_shape=shape, dataset=ds)
            overview_valid = tile.read_valid(out_shape=shape, dataset=ds)
            limits = stretch_limits(
                overview, overview_valid, percentiles=percentiles, linked=linked
            )
        pixels = tile.read(window=window, bands=bands, out_shape=out_shape, dataset=ds)
        valid = tile.read_valid(window=window, out_shape=pixels.shape[1:], dataset=ds)
    return stretch_to_uint8(pixels, limits, valid)
