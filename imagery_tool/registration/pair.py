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
    """

    before: Tile
    after: Tile
    registration: Registration
    mapping: GridMapping

    @classmethod
    def of(cls, before: Tile, after: Tile, registration: Registration) -> AlignedPair:
        """Pair two tiles with a registration (from `coregister`)."""
        return cls(before, after, registration, GridMapping.between(before, after))

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
            BEFORE's pixels in its dtype.
        after : (B, h, w) ndarray
            AFTER's pixels resampled (bilinear) in its dtype.
        valid : (h, w) bool ndarray
            Valid in both dates and inside the overlap.
        """
        dsb, dsa = datasets or (None, None)
        shape = out_shape or (int(window.height), int(window.width))
        pixels_b = self.before.read(window=window, out_shape=shape, dataset=dsb)
        valid = self.before.read_valid(window=window, out_shape=shape, pixels=pixels_b, dataset=dsb)
        g = self.mapping.local_matrix(window.col_off, window.row_off, window.width, window.height)
        pixels_a, valid_a = read_resampled(
            self.after, g @ self.registration.matrix3, window, shape, dataset=dsa
        )
        valid &= valid_a
        valid &= _inside(window, shape, self.overlap)
        return pixels_b, pixels_a, valid


def _inside(window: Window, shape: tuple[int, int], overlap: Window) -> np.ndarray:
    rows = window.row_off + (np.arange(shape[0]) + 0.5) * window.height / shape[0]
    cols = window.col_off + (np.arange(shape[1]) + 0.5) * window.width / shape[1]
    in_r = (rows >= overlap.row_off) & (rows < overlap.row_off + overlap.height)
    in_c = (cols >= overlap.col_off) & (cols < overlap.col_off + overlap.width)
    return in_r[:, None] & in_c[None, :]
