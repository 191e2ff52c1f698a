"""Read a frame of a tile as 8-bit RGB through its overviews, or resampled onto another grid."""

from __future__ import annotations

import math

import numpy as np
from affine import Affine
from rasterio.enums import Resampling
from rasterio.warp import reproject
from rasterio.windows import Window

from imagery_tool.display import check_view_cost, display_limits, display_rgb
from imagery_tool.errors import RenderError, UnsupportedCRSError
from imagery_tool.georef import GeoRef, crs_transformer, unrelated_crs_message
from imagery_tool.render.layout import Frame
from imagery_tool.tile import Tile

__all__ = ["BACKGROUND", "PERCENTILES", "frame_limits", "read_frame", "read_onto"]

# Shown where a tile has no data (nodata, outside its footprint).
BACKGROUND = (64, 64, 64)
# Display stretch: wide enough that bright aircraft keep their detail.
PERCENTILES = (0.5, 99.5)


def frame_limits(
    tile: Tile,
    bands: tuple[int, ...],
    pixels: np.ndarray | None = None,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Display limits of a picture's tile: `imagery_tool.display.display_limits` at `PERCENTILES`.

    A reduced view of the whole tile keeps every frame of a tile alike; one linked stretch for
    the three bands keeps natural colours (grey concrete stays grey). A huge tile without
    overviews is stretched on the frame's own ``pixels``.

    Returns
    -------
    (B, 2) float64 ndarray
    """
    return display_limits(
        tile, bands, percentiles=PERCENTILES, linked=True, pixels=pixels, valid=valid
    )


def _bands(tile: Tile) -> tuple[int, ...]:
    bands = tuple(tile.rgb_bands)
    return bands if len(bands) in (1, 3) else bands[:1]


def read_frame(tile: Tile, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """Read a frame of a tile (on the tile's own grid) as display RGB.

    Parameters
    ----------
    tile : Tile
        The tile whose grid the frame is on.
    frame : Frame
        Window and output size; GDAL reads through the nearest finer overview.

    Raises
    ------
    RenderError
        When the frame would decode too much of a raster without overviews.

    Returns
    -------
    rgb : (H, W, 3) uint8 ndarray
        Stretched to 0..255; no-data pixels are `BACKGROUND`.
    valid : (H, W) bool ndarray
        Where the tile has data.
    """
    bands = _bands(tile)
    check_view_cost(tile, frame.window, frame.out_shape)
    with tile.open() as ds:
        pixels = tile.read(
            window=frame.window,
            bands=bands,
            out_shape=frame.out_shape,
            resampling=_resampling(tile),
            dataset=ds,
        )
        valid = tile.read_valid(
            window=frame.window, out_shape=frame.out_shape, pixels=pixels, dataset=ds
        )
    limits = None if tile.palette else frame_limits(tile, bands, pixels, valid)
    return display_rgb(pixels, limits, valid, palette=tile.palette, fill=BACKGROUND), valid


def _resampling(tile: Tile) -> Resampling:
    """Average grey levels and colours; palette values are classes: take the nearest."""
    return Resampling.nearest if tile.palette else Resampling.average


def read_onto(
    tile: Tile, frame: Frame, *, frame_name: str = "BEFORE", residual: Affine | None = None
) -> tuple:
    """Read a tile resampled onto another tile's frame, by georeference.

    Only the part of ``tile`` under the frame is read, at about the frame's resolution (through
    the overviews), then warped onto the frame's output grid (bilinear), so that both panels of a
    before/after sheet show the same ground.

    Parameters
    ----------
    tile : Tile
        The tile to resample (AFTER).
    frame : Frame
        The frame on the other tile's grid (BEFORE).
    frame_name : str
        Name of the frame's tile, for error messages.
    residual : affine.Affine, optional
        The co-registration residual measured by detection (`Registration.matrix`): BEFORE pixel
        ``p`` shows the ground that ``tile`` resampled by georeference shows at ``residual * p``.
        With it, AFTER is drawn exactly under BEFORE, not only as far as the georeferences agree.

    Returns
    -------
    rgb : (H, W, 3) uint8 ndarray
        As for `read_frame`.
    valid : (H, W) bool ndarray
        Where ``tile`` has data under the frame.

    Raises
    ------
    RenderError
        When ``tile`` does not cover any of the frame.
    """
    bands = _bands(tile)
    dst = frame.out_georef
    h, w = frame.out_shape
    if residual is not None and dst.is_georeferenced:
        grid = frame.georef.transform
        dst = GeoRef(h, w, grid @ residual @ ~grid @ dst.transform, dst.crs)
    if not (dst.is_georeferenced and tile.georef.is_georeferenced):
        if tile.georef.shape != frame.georef.shape:
            raise RenderError(
                f"{tile.path}: without georeference a before/after pair must have the same size "
                f"({tile.width} x {tile.height} vs {frame.georef.width} x {frame.georef.height})"
            )
        local = Frame(tile.georef, frame.window, frame.out_shape)
        return read_frame(tile, local)
    window = _source_window(tile, dst)
    if window is None:
        raise RenderError(
            f"{tile.path} does not cover the frame of {frame_name}; pick tiles of the same "
            "ground or a region both cover"
        )
    # Read at about the output's resolution: the overviews do the reduction.
    factor = max(1.0, min(window.width / w, window.height / h) / 1.5)
    src_shape = (
        max(1, math.ceil(window.height / factor)),
        max(1, math.ceil(window.width / factor)),
    )
    check_view_cost(tile, window, src_shape)
    with tile.open() as ds:
        pixels = tile.read(
            window=window,
            bands=bands,
            out_shape=src_shape,
            resampling=_resampling(tile),
            dataset=ds,
        )
        valid = tile.read_valid(window=window, out_shape=src_shape, pixels=pixels, dataset=ds)
    limits = None if tile.palette else frame_limits(tile, bands, pixels, valid)
    src_transform = (
        tile.georef.transform
        @ Affine.translation(window.col_off, window.row_off)
        @ Affine.scale(window.width / src_shape[1], window.height / src_shape[0])
    )
    kwargs = {
        "src_transform": src_transform,
        "src_crs": tile.georef.crs,
        "dst_transform": dst.transform,
        "dst_crs": dst.crs,
    }
    out = np.zeros((pixels.shape[0], h, w), dtype=pixels.dtype)
    warp = Resampling.nearest if tile.palette else Resampling.bilinear
    reproject(pixels, out, resampling=warp, **kwargs)
    out_valid = np.zeros((h, w), dtype=np.uint8)
    reproject(valid.astype(np.uint8), out_valid, resampling=Resampling.nearest, **kwargs)
    valid_out = out_valid > 0
    rgb = display_rgb(out, limits, valid_out, palette=tile.palette, fill=BACKGROUND)
    return rgb, valid_out


def _source_window(tile: Tile, dst: GeoRef) -> Window | None:
    """Return the window of ``tile`` under the output grid (a 2-pixel margin), cut to its grid."""
    t = np.linspace(0.0, 1.0, 9)
    w, h = float(dst.width), float(dst.height)
    cols = np.concatenate([t * w, np.full_like(t, w), (1 - t) * w, np.zeros_like(t)])
    rows = np.concatenate([np.zeros_like(t), t * h, np.full_like(t, h), (1 - t) * h])
    xs, ys = dst.pixel_to_map(cols, rows)
    if tile.georef.crs != dst.crs:
        try:
            xs, ys = crs_transformer(dst.crs, tile.georef.crs).transform(xs, ys)
        except UnsupportedCRSError as exc:
            raise RenderError(
                unrelated_crs_message(str(tile.path), "drawn on the other tile's frame", exc)
            ) from exc
    c, r = tile.georef.map_to_pixel(np.asarray(xs), np.asarray(ys))
    c0, c1 = max(math.floor(np.min(c)) - 2, 0), min(math.ceil(np.max(c)) + 2, tile.width)
    r0, r1 = max(math.floor(np.min(r)) - 2, 0), min(math.ceil(np.max(r)) + 2, tile.height)
    if c1 - c0 < 1 or r1 - r0 < 1:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)
