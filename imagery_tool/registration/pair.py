"""Two tiles on one grid: read matching blocks of BEFORE and of AFTER resampled onto it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.windows import Window

from imagery_tool.registration.coregister import Registration
from imagery_tool.registration.grid import GridMapping
from imagery_tool.registration.warp import read_resampled
from imagery_tool.tile import Tile

__all__ = ["AlignedPair"]


@dataclass(frozen=True)
class AlignedPair:
    """BEFORE and AFTER with the registration that puts AFTER on BEFORE's grid.

    Attributes
    ----------
    before, after : Tile
    registration : Registration
    mapping : GridMapping
    bands : tuple of int
        BEFORE's 1-based bands that `read` reads (its data bands by default; AFTER's matching
        ones are `after_bands`).
    """

    before: Tile
    after: Tile
    registration: Registration
    mapping: GridMapping
    bands: tuple[int, ...] = ()

    @classmethod
    def of(
        cls,
        before: Tile,
        after: Tile,
        registration: Registration,
        *,
        bands: tuple[int, ...] | None = None,
    ) -> AlignedPair:
        """Pair two tiles with a registration (from `coregister`).

        Parameters
        ----------
        before, after : Tile
        registration : Registration
        bands : tuple of int, optional
            BEFORE's 1-based bands to compare, e.g. ``before.rgb_bands`` for red, green, blue
            in that order whatever the file's order; all its data bands by default.
        """
        bands = tuple(bands or before.data_bands)
        return cls(before, after, registration, GridMapping.between(before, after), bands)

    @property
    def after_bands(self) -> tuple[int, ...]:
        """AFTER's 1-based bands that match `bands` (what `read` reads of AFTER).

        Matched by role when every data band of both tiles has a role of its own and both have
        the same roles (`Tile.band_roles`: a blue-first WorldView BEFORE against a red-first
        Pleiades AFTER); otherwise by position among the data bands (file order).
        """
        bands = self.bands or self.before.data_bands
        data_b, data_a = self.before.data_bands, self.after.data_bands
        roles_b = [self.before.band_roles[i - 1] for i in data_b]
        by_role = {self.after.band_roles[i - 1]: i for i in data_a}
        if len(set(roles_b)) == len(roles_b) == len(by_role) and set(roles_b) == set(by_role):
            return tuple(by_role[self.before.band_roles[b - 1]] for b in bands)
        return tuple(data_a[data_b.index(b)] for b in bands)

    @property
    def overlap(self) -> Window:
        """The compared part of BEFORE's grid."""
        return Window(*self.registration.overlap)

    @contextmanager
    def open(self) -> Iterator[tuple[rasterio.io.DatasetReader, rasterio.io.DatasetReader]]:
        """Open both files for a batch of reads (one pair of handles per thread)."""
        with ExitStack() as stack:
            yield stack.enter_context(self.before.open()), stack.enter_context(self.after.open())

    def read(
        self,
        window: Window,
        *,
        out_shape: tuple[int, int] | None = None,
        datasets: tuple | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Read one block of both dates on BEFORE's grid.

        Parameters
        ----------
        window : rasterio.windows.Window
            On BEFORE's grid; may reach outside it (outside is invalid).
        out_shape : (int, int), optional
            ``(rows, cols)`` for a reduced read.
        datasets : (DatasetReader, DatasetReader), optional
            Both files already open (from `open`).

        Returns
        -------
        before : (B, h, w) ndarray
            BEFORE's pixels in its dtype: its `bands`, in that order.
        after : (B, h, w) ndarray
            AFTER's pixels resampled (bilinear) in its dtype, its bands in BEFORE's order
            (`after_bands`).
        valid : (h, w) bool ndarray
            Valid in both dates and inside the overlap.
        """
        dsb, dsa = datasets or (None, None)
        shape = out_shape or (int(window.height), int(window.width))
        pixels_b, valid = self.before.read_masked(
            window=window, out_shape=shape, dataset=dsb, bands=self.bands or None
        )
        g = self.mapping.local_matrix(window.col_off, window.row_off, window.width, window.height)
        pixels_a, valid_a = read_resampled(
            self.after, g @ self.registration.matrix3, window, shape, dataset=dsa,
            bands=self.after_bands,
        )  # fmt: skip
        valid &= valid_a
        valid &= _inside(window, shape, self.overlap)
        return pixels_b, pixels_a, valid


def _inside(window: Window, shape: tuple[int, int], overlap: Window) -> np.ndarray:
    rows = window.row_off + (np.arange(shape[0]) + 0.5) * window.height / shape[0]
    cols = window.col_off + (np.arange(shape[1]) + 0.5) * window.width / shape[1]
    in_r = (rows >= overlap.row_off) & (rows < overlap.row_off + overlap.height)
    in_c = (cols >= overlap.col_off) & (cols < overlap.col_off + overlap.width)
    return in_r[:, None] & in_c[None, :]
