"""The one place where imagery-tool's (x, y) points meet napari's (row, col) coordinates."""

from __future__ import annotations

import numpy as np

__all__ = ["rowcol_to_xy", "xy_to_rowcol"]


def xy_to_rowcol(points) -> np.ndarray:
    """Turn ``(x, y)`` = ``(col, row)`` points into napari ``(row, col)`` points.

    Parameters
    ----------
    points : (N, 2) array_like
        Continuous pixel coordinates ``(x, y)`` on the tile grid (GDAL convention: ``(0, 0)``
        is the top-left corner of the top-left pixel).

    Returns
    -------
    (N, 2) float64 ndarray
        ``(row, col)`` in napari's data coordinates, where pixel ``[r, c]`` is centred on
        ``(r, c)``: napari's coordinate is the GDAL one minus half a pixel.
    """
    xy = np.asarray(points, dtype=np.float64)
    return xy[..., ::-1] - 0.5


def rowcol_to_xy(points) -> np.ndarray:
    """Turn napari ``(row, col)`` points (the last two axes) into ``(x, y)`` points.

    Parameters
    ----------
    points : (N, D) array_like
        napari data coordinates; leading axes (e.g. the date) are dropped.

    Returns
    -------
    (N, 2) float64 ndarray
        ``(x, y)`` continuous pixel coordinates (the inverse of `xy_to_rowcol`).
    """
    rc = np.asarray(points, dtype=np.float64)[..., -2:]
    return rc[..., ::-1] + 0.5
