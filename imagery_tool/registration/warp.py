"""Read AFTER resampled onto a window of BEFORE's grid, through any affine pixel mapping."""

from __future__ import annotations

import math
from contextlib import nullcontext

import cv2
import numpy as np
import rasterio
from rasterio.windows import Window

from imagery_tool.tile import Tile

__all__ = ["index_matrix", "read_resampled", "warp_array"]


def _translation(tx: float, ty: float) -> np.ndarray:
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


def index_matrix(
    matrix: np.ndarray,
    *,
    dst_origin: tuple[float, float] = (0.0, 0.0),
    dst_step: tuple[float, float] = (1.0, 1.0),
    src_origin: tuple[float, float] = (0.0, 0.0),
    src_step: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:
    """Turn a mapping of continuous pixels into one of array indexes, as OpenCV wants it.

    Parameters
    ----------
    matrix : (3, 3) ndarray
        Maps continuous ``(col, row)`` of the destination grid to those of the source grid.
    dst_origin, src_origin : (float, float)
        Continuous ``(col, row)`` of the top-left corner of each array.
    dst_step, src_step : (float, float)
        Size of one array pixel in grid pixels (2 for an array read at half resolution).

    Returns
    -------
    (2, 3) float64 ndarray
        Maps destination array index ``(x, y)`` (pixel centres) to source array index, for
        ``cv2.warpAffine(..., flags=cv2.WARP_INVERSE_MAP)``.
    """
    dst = (
        _translation(*dst_origin)
        @ np.diag([dst_step[0], dst_step[1], 1.0])
        @ _translation(0.5, 0.5)
    )
    src = (
        _translation(*src_origin)
        @ np.diag([src_step[0], src_step[1], 1.0])
        @ _translation(0.5, 0.5)
    )
    return (np.linalg.inv(src) @ matrix @ dst)[:2]


def warp_array(
    array: np.ndarray, matrix: np.ndarray, shape: tuple[int, int], *, nearest: bool = False
) -> np.ndarray:
    """Warp a (H, W) or (B, H, W) array with an index mapping (see `index_matrix`).

    Returns
    -------
    ndarray
        ``shape`` (+ channels) in the input's dtype; outside the source is 0.
    """
    flags = (cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
    dsize = (int(shape[1]), int(shape[0]))
    m = np.asarray(matrix, dtype=np.float64)
    if array.ndim == 3 and array.dtype == np.uint8 and 2 <= array.shape[0] <= 4:
        return _warp_interleaved(array, m, dsize, flags)
    if array.ndim == 3:  # band by band, each straight into its plane of the result
        out = np.empty((array.shape[0], dsize[1], dsize[0]), dtype=array.dtype)
        for band, plane in zip(array, out, strict=True):
            cv2.warpAffine(band, m, dsize, dst=plane, flags=flags, borderValue=0)
        return out
    return cv2.warpAffine(array, m, dsize, flags=flags, borderValue=0)


def _warp_interleaved(
    array: np.ndarray, m: np.ndarray, dsize: tuple[int, int], flags: int
) -> np.ndarray:
    """Warp 2 to 4 uint8 bands as one 4-channel image, then split it back into planes.

    OpenCV's bilinear warp has a vector path for 4-channel 8-bit images: twice as fast as
    warping 3 bands one by one, with the same values (each channel is interpolated alone).
    """
    bands = array.shape[0]
    spare = [np.zeros(array.shape[1:], np.uint8)] * (4 - bands)
    return _warp_rgba(cv2.merge([*array, *spare]), m, dsize, flags, bands)


def _warp_rgba(
    four: np.ndarray, m: np.ndarray, dsize: tuple[int, int], flags: int, bands: int
) -> np.ndarray:
    """Warp a (H, W, 4) uint8 image; return its first ``bands`` channels as (bands, h, w)."""
    warped = cv2.warpAffine(four, m, dsize, flags=flags, borderValue=0)
    out = np.empty((bands, dsize[1], dsize[0]), np.uint8)
    spare = [np.empty_like(out[0]) for _ in range(4 - bands)]
    cv2.split(warped, [*out, *spare])  # into out's planes
    return out


def _read_padded(tile: Tile, window: Window, bands, dataset) -> tuple[np.ndarray, np.ndarray]:
    """Read a full-resolution window that may reach outside the grid, padded with invalid zeros.

    GDAL's boundless reads go through a VRT and are several times slower.
    """
    c0, r0 = int(window.col_off), int(window.row_off)
    w, h = int(window.width), int(window.height)
    ic0, ir0 = max(0, c0), max(0, r0)
    ic1, ir1 = min(tile.width, c0 + w), min(tile.height, r0 + h)
    if (ic0, ir0, ic1, ir1) == (c0, r0, c0 + w, r0 + h):  # inside: no padding, no copy
        return tile.read_masked(window=window, bands=bands, dataset=dataset)
    pixels = np.zeros((len(bands), h, w), dtype=tile.dtype)
    valid = np.zeros((h, w), dtype=bool)
    if ic1 > ic0 and ir1 > ir0:
        inner = Window(ic0, ir0, ic1 - ic0, ir1 - ir0)
        sl = np.s_[ir0 - r0 : ir1 - r0, ic0 - c0 : ic1 - c0]
        pixels[(slice(None), *sl)], valid[sl] = tile.read_masked(
            window=inner, bands=bands, dataset=dataset
        )
    return pixels, valid


def read_resampled(
    tile: Tile,
    matrix: np.ndarray,
    window: Window,
    out_shape: tuple[int, int] | None = None,
    *,
    dataset: rasterio.io.DatasetReader | None = None,
    bands=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Read ``tile`` resampled (bilinear) onto a window of another grid.

    Parameters
    ----------
    tile : Tile
        The tile to read (AFTER).
    matrix : (3, 3) ndarray
        Maps continuous pixels of the target grid (BEFORE) to continuous pixels of ``tile``.
    window : rasterio.windows.Window
        The region of the target grid to fill.
    out_shape : (int, int), optional
        ``(rows, cols)`` of the result; the window's size by default (less reads through the
        file's overviews).
    dataset : rasterio.io.DatasetReader, optional
        ``tile`` already open.
    bands : sequence of int, optional
        1-based bands; the tile's data bands by default.

    Returns
    -------
    pixels : (B, h, w) ndarray
        In the tile's dtype; 0 where nothing was read.
    valid : (h, w) bool ndarray
        True where the pixel lies inside ``tile`` on valid data (one pixel of erosion, so that
        bilinear interpolation never mixes in invalid pixels).
    """
    h, w = out_shape or (int(window.height), int(window.width))
    step = (window.width / w, window.height / h)
    dst_origin = (float(window.col_off), float(window.row_off))
    # Where the output's corners land in the tile, to know what to read.
    corners = np.array(
        [
            [dst_origin[0], dst_origin[1], 1.0],
            [dst_origin[0] + window.width, dst_origin[1], 1.0],
            [dst_origin[0], dst_origin[1] + window.height, 1.0],
            [dst_origin[0] + window.width, dst_origin[1] + window.height, 1.0],
        ]
    )
    mapped = corners @ np.asarray(matrix).T
    linear = np.asarray(matrix)[:2, :2]
    ratio = math.sqrt(abs(np.linalg.det(linear))) * max(step)  # tile px per output px
    decimate = max(1.0, ratio)
    margin = 2.0 * decimate + 1.0
    c0 = math.floor(mapped[:, 0].min() - margin)
    r0 = math.floor(mapped[:, 1].min() - margin)
    c1 = math.ceil(mapped[:, 0].max() + margin)
    r1 = math.ceil(mapped[:, 1].max() + margin)
    # Keep the read inside the grid: outside is invalid anyway, and GDAL's boundless reads
    # (through a VRT) ignore overviews and are many times slower.
    c0, r0 = max(c0, 0), max(r0, 0)
    c1, r1 = min(c1, tile.width), min(r1, tile.height)
    bands = list(bands or tile.data_bands)
    if c1 <= c0 or r1 <= r0:
        return np.zeros((len(bands), h, w), dtype=tile.dtype), np.zeros((h, w), dtype=bool)
    read_window = Window(c0, r0, c1 - c0, r1 - r0)
    read_shape = (max(1, round((r1 - r0) / decimate)), max(1, round((c1 - c0) / decimate)))
    # 8-bit RGB at full resolution: read and warped as one 4-channel image
    rgba = decimate == 1.0 and tuple(bands) == tile.data_bands == (1, 2, 3)
    rgba = rgba and tile.dtype == "uint8"
    with nullcontext(dataset) if dataset is not None else tile.open() as ds:
        if rgba:
            src = tile.read_rgba(window=read_window, dataset=ds)
            src_valid = tile.read_valid(window=read_window, dataset=ds)
        elif decimate == 1.0:
            src, src_valid = _read_padded(tile, read_window, bands, ds)
        else:
            src, src_valid = tile.read_masked(
                window=read_window, bands=bands, out_shape=read_shape, dataset=ds
            )
    src_step = ((c1 - c0) / read_shape[1], (r1 - r0) / read_shape[0])
    m = index_matrix(
        np.asarray(matrix),
        dst_origin=dst_origin,
        dst_step=step,
        src_origin=(float(c0), float(r0)),
        src_step=src_step,
    )
    if rgba:  # see `_warp_interleaved`
        pixels = _warp_rgba(src, m, (w, h), cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, 3)
    else:
        pixels = warp_array(src, m, (h, w))
    all_valid = bool(src_valid.all())
    if all_valid and _lands_inside(m, (h, w), src_valid.shape):
        # every pixel samples the all-valid source (the usual block): no mask to warp
        return pixels, np.ones((h, w), dtype=bool)
    src_valid = src_valid.view(np.uint8)
    if not all_valid:  # eroding all-valid would change nothing (the border is kept)
        src_valid = cv2.erode(src_valid, np.ones((3, 3), np.uint8))
    valid = warp_array(src_valid, m, (h, w), nearest=True).astype(bool)
    return pixels, valid


def _lands_inside(m: np.ndarray, shape: tuple[int, int], src_shape: tuple[int, int]) -> bool:
    """Whether the index mapping ``m`` sends every pixel of ``shape`` inside ``src_shape``.

    With a pixel to spare on each side, so that the nearest-neighbour rounding stays inside.
    An affine mapping sends the array to a parallelogram: its corners suffice.
    """
    h, w = shape
    corners = np.array([[0.0, 0.0, 1.0], [w - 1, 0.0, 1.0], [0.0, h - 1, 1.0], [w - 1, h - 1, 1.0]])
    x, y = (corners @ np.asarray(m).T).T
    return bool(
        x.min() >= 1
        and y.min() >= 1
        and x.max() <= src_shape[1] - 2
        and y.max() <= src_shape[0] - 2
    )
