"""Dated tiles of one site on one grid, exposed as lazy multiscale RGB arrays for napari."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import dask.array as da
import numpy as np
from rasterio.enums import Resampling
from rasterio.windows import Window

from imagery_tool.display import display_limits, display_rgb
from imagery_tool.errors import ImageryToolError
from imagery_tool.georef import GeoRef
from imagery_tool.tile import Tile
from napari_imagery_tool._notify import notify

__all__ = ["CHUNK", "StackInfo", "TileStack"]

CHUNK = 512  # chunk side of the lazy arrays: one napari tile request reads few chunks
_TOP_SIDE = 2048  # coarsest level: longer side at most this many pixels


@dataclass
class StackInfo:
    """What the plugin knows about an image layer it made (kept in ``layer.metadata``).

    Attributes
    ----------
    tiles : list of Tile
        One per date, in slider order; ``tiles[0]`` is the reference grid.
    dates : list of str
        Slider labels: ISO dates, or file names for undated tiles.
    georef : GeoRef
        The reference grid (``crs`` None in pixel mode).
    shifts : list of (float, float)
        Residual ``(dx, dy)`` in pixels applied to each date after resampling by georeference.
    notes : list of str
        What was applied or refused, one line each (shown to the user).
    """

    tiles: list[Tile]
    dates: list[str]
    georef: GeoRef
    shifts: list[tuple[float, float]] = field(default_factory=list)
    registrations: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def is_stack(self) -> bool:
        """Whether the layer has a date axis."""
        return len(self.tiles) > 1

    @property
    def georeferenced(self) -> bool:
        """Whether lon/lat and metres are available."""
        return self.georef.is_georeferenced

    def pixel_mode_reason(self) -> str | None:
        """One line saying why geographic features are off, or None when they are on."""
        if self.georeferenced:
            return None
        return (
            f"{self.tiles[0].name} has no georeference: pixel mode (no lon/lat, no sizes in "
            "metres, no geo export)"
        )

    def _matrix(self, t: int) -> np.ndarray:
        """(3, 3) affine from reference-grid pixels to date ``t``'s own pixels."""
        if t == 0:
            return np.eye(3)
        from imagery_tool.registration import GridMapping

        mapping = GridMapping.between(self.tiles[0], self.tiles[t])
        h, w = self.georef.shape
        g = mapping.local_matrix(0, 0, w, h)
        reg = self.registrations[t] if t < len(self.registrations) else None
        return g if reg is None else g @ reg.matrix3

    def to_tile(self, t: int, xy) -> np.ndarray:
        """Map ``(N, 2)`` reference-grid ``(x, y)`` to date ``t``'s own pixel grid."""
        m = self._matrix(t)
        xy = np.asarray(xy, dtype=np.float64)
        return xy @ m[:2, :2].T + m[:2, 2]

    def from_tile(self, t: int, xy) -> np.ndarray:
        """Map ``(N, 2)`` pixels of date ``t`` to the reference grid (inverse of `to_tile`)."""
        m = np.linalg.inv(self._matrix(t))
        xy = np.asarray(xy, dtype=np.float64)
        return xy @ m[:2, :2].T + m[:2, 2]

    def date_index(self, point) -> int:
        """Return the date index shown at a napari world point (0 for a single tile)."""
        if not self.is_stack:
            return 0
        return int(np.clip(round(float(point[0])), 0, len(self.tiles) - 1))


class _Level:
    """Array-like view ``(T, h, w, 3)`` uint8 of a stack at one decimation factor."""

    def __init__(self, stack: TileStack, factor: int) -> None:
        self.stack = stack
        self.factor = factor
        h, w = stack.georef.shape
        self.shape = (len(stack.tiles), math.ceil(h / factor), math.ceil(w / factor), 3)
        self.dtype = np.dtype(np.uint8)
        self.ndim = 4

    def __getitem__(self, key) -> np.ndarray:
        t_sl, r_sl, c_sl = (k for k in key[:3])
        dates = range(*t_sl.indices(self.shape[0]))
        r0, r1, _ = r_sl.indices(self.shape[1])
        c0, c1, _ = c_sl.indices(self.shape[2])
        out = np.zeros((len(dates), r1 - r0, c1 - c0, 3), dtype=np.uint8)
        if r1 <= r0 or c1 <= c0:
            return out[..., key[3]] if len(key) > 3 else out
        f = self.factor
        window = Window(c0 * f, r0 * f, (c1 - c0) * f, (r1 - r0) * f)
        for i, t in enumerate(dates):
            try:
                out[i] = self.stack.read_rgb(t, window, (r1 - r0, c1 - c0))
            except ImageryToolError as exc:  # a corrupt block: show black, say it once
                self.stack.report(str(exc))
        return out[..., key[3]] if len(key) > 3 else out


class TileStack:
    """Dated tiles of one site read on the first tile's grid, lazily, at several scales.

    Parameters
    ----------
    tiles : list of Tile
        The dates, in slider order; the first is the reference grid.
    dates : list of str
        Slider labels.
    registrations : list, optional
        One `imagery_tool.registration.Registration` per tile (None for the reference, or to
        align by georeference only).
    """

    def __init__(self, tiles: list[Tile], dates: list[str], registrations=None) -> None:
        self.tiles = list(tiles)
        self.dates = list(dates)
        self.reference = self.tiles[0]
        self.georef = self.reference.georef
        self.registrations = list(registrations or [None] * len(self.tiles))
        self._pairs = [
            self._pair(t, r) for t, r in zip(self.tiles, self.registrations, strict=True)
        ]
        self._limits = [None] * len(self.tiles)
        self._reported: set[str] = set()

    def report(self, message: str) -> None:
        """Warn once per message about a part of a tile that cannot be read (shown black)."""
        if message in self._reported:
            return
        self._reported.add(message)
        notify(f"{message} (shown black)", "warning")

    def _pair(self, tile: Tile, registration):
        if tile is self.reference:
            return None
        from imagery_tool.registration import AlignedPair, Registration

        return AlignedPair.of(self.reference, tile, registration or Registration())

    @property
    def factors(self) -> list[int]:
        """Decimation factors of the pyramid levels, finest first (1 = full resolution)."""
        factors = [1, *sorted(set(self.reference.overview_factors))]
        longest = max(self.georef.shape)
        while longest / factors[-1] > _TOP_SIDE:
            factors.append(factors[-1] * 2)
        return [f for f in factors if longest / f >= 64 or f == 1]

    def limits(self, t: int) -> np.ndarray:
        """(3, 2) stretch limits of date ``t`` (2-98 %): `imagery_tool.display.display_limits`."""
        if self._limits[t] is None:
            tile = self.tiles[t]
            self._limits[t] = display_limits(tile, tile.rgb_bands)
        return self._limits[t]

    def read_rgb(self, t: int, window: Window, out_shape: tuple[int, int]) -> np.ndarray:
        """Read date ``t`` on the reference grid as stretched RGB.

        Returns
        -------
        (h, w, 3) uint8 ndarray
            Black where the date has no data.
        """
        tile = self.tiles[t]
        bands = tile.rgb_bands
        colour_map = tile.palette is not None and tuple(bands) == (1,)
        pair = self._pairs[t]
        if pair is None:
            sampling = Resampling.nearest if colour_map else Resampling.average
            pixels = tile.read(window=window, bands=bands, out_shape=out_shape, resampling=sampling)
            valid = None
        else:
            from imagery_tool.registration.warp import read_resampled

            g = pair.mapping.local_matrix(
                window.col_off, window.row_off, window.width, window.height
            )
            pixels, valid = read_resampled(
                tile, g @ pair.registration.matrix3, window, out_shape, bands=bands
            )
        if colour_map:  # a palette file in its own colours, as render and composite draw it
            return display_rgb(pixels, None, valid, palette=tile.palette)
        return display_rgb(pixels, self.limits(t), valid)

    def levels(self) -> list[da.Array]:
        """Return the pyramid as dask arrays ``(T, h, w, 3)`` uint8, finest first."""
        out = []
        for f in self.factors:
            level = _Level(self, f)
            out.append(
                da.from_array(
                    level,
                    chunks=(1, CHUNK, CHUNK, 3),
                    asarray=False,
                    fancy=False,
                    meta=np.empty((0, 0, 0, 0), dtype=np.uint8),
                    name=f"imagery-tool-{id(self)}-{f}",
                )
            )
        return out
