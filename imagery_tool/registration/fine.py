"""Refine a first estimate on full-resolution windows, keeping each window's agreement with it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
from rasterio.windows import Window

from imagery_tool.registration.fit import fit_model, simplest
from imagery_tool.registration.phase import (
    MIN_RESPONSE,
    gradient_magnitude,
    grey,
    grid_centres,
    phase_shift,
    windowed_spectrum,
)
from imagery_tool.registration.warp import index_matrix, read_resampled, warp_array
from imagery_tool.runtime import current

__all__ = ["MIN_SIDE", "FineFit", "FineWindows", "fine_estimate", "fine_windows", "read_references"]

_MARGIN = 24  # px around each AFTER window: the largest shift a window measures
MIN_SIDE = 32 + 2 * _MARGIN  # px: the smallest overlap side where a window fits


@dataclass(frozen=True)
class FineWindows:
    """Where the full-resolution windows lie: top-left ``(col, row)`` of each, side, margin."""

    places: list[tuple[int, int]]
    size: int
    margin: int

    @property
    def centres(self) -> np.ndarray:
        """(N, 2) float ndarray of the window centres ``(col, row)``."""
        return np.array([(c + self.size / 2, r + self.size / 2) for c, r in self.places])


@dataclass(frozen=True)
class FineFit:
    """The refined mapping and what each window said about it on the last pass.

    Attributes
    ----------
    matrix : (3, 3) float64 ndarray
        BEFORE pixel -> AFTER-by-georeference pixel, full resolution.
    points : (N, 2) float ndarray
        Centres of the windows measured on the last pass (a reliable peak).
    residuals : (N, 2) float ndarray
        Each window's shift minus the fitted model's, ``(dx, dy)`` in pixels.
    inliers : (N,) bool ndarray
        The windows the last least-squares fit used.
    """

    matrix: np.ndarray
    points: np.ndarray
    residuals: np.ndarray
    inliers: np.ndarray


def fine_windows(overlap: Window, texture, window_px: int, max_windows: int) -> FineWindows | None:
    """Place the full-resolution windows on a grid over the overlap.

    None when the overlap is too small for a window; no places when no window is valid.

    Parameters
    ----------
    overlap : rasterio.windows.Window
        The compared part of BEFORE's grid.
    texture : callable
        ``texture(col, row, half)`` -> mean gradient magnitude of BEFORE around a full-resolution
        point (0 where it is not valid), to drop the flattest windows.
    window_px : int
        Largest window side; halved until two windows fit across the overlap.
    max_windows : int
        Upper bound on the number of windows.
    """
    margin = _MARGIN
    size = window_px
    while size > 32 and (
        overlap.width < 2 * size + 4 * margin or overlap.height < 2 * size + 4 * margin
    ):
        size //= 2
    if overlap.width < size + 2 * margin or overlap.height < size + 2 * margin:
        return None
    n = max(2, int(math.sqrt(max_windows)))
    inner_w = overlap.width - 2 * margin
    inner_h = overlap.height - 2 * margin
    centres = grid_centres(inner_w, inner_h, size, n)
    textures = np.array(
        [texture(int(overlap.col_off) + margin + cx, int(overlap.row_off) + margin + cy, size / 2)
         for cx, cy in centres]
    )  # fmt: skip
    if not (textures > 0).any():
        return FineWindows([], size, margin)
    keep = textures > 0.25 * np.median(textures[textures > 0])
    places = [
        (
            int(overlap.col_off) + margin + cx - size // 2,
            int(overlap.row_off) + margin + cy - size // 2,
        )
        for (cx, cy), k in zip(centres, keep, strict=True)
        if k
    ]
    return FineWindows(places, size, margin)


def fine_estimate(after, mapping, fine, references, matrix, model, pool) -> FineFit | None:
    """Refine ``matrix`` at full resolution on the windows; None when no window can be measured.

    ``references`` holds BEFORE's side of each window by place (`read_references`). The windows
    are re-measured after warping by the estimate until their shifts vanish (up to four passes),
    so that the result does not inherit the sub-pixel bias of the peak interpolation.
    """
    size, margin = fine.size, fine.margin
    measured = [(place, references[place]) for place in fine.places if references[place]]
    if not measured:
        return None
    places = [place for place, _ in measured]
    workers = max(1, min(current().workers, len(places)))
    # every other window per thread, each thread with its own open file
    read = partial(_read_moving, after, mapping, matrix, size, margin)
    moving = dict(
        pair
        for part in pool.map(read, [places[k::workers] for k in range(workers)])
        for pair in part
    )
    windows = [(*place, *ref, *moving[place]) for place, ref in measured]
    residual = np.eye(3)
    fit = None
    for iteration, threshold in enumerate((1.0, 0.5, 0.3, 0.3)):
        measure = partial(_window_shift, residual, size, margin)
        pts, shifts = [], []
        for (c0, r0, *_), shift in zip(windows, pool.map(measure, windows), strict=True):
            if shift is not None:
                pts.append((c0 + size / 2, r0 + size / 2))
                shifts.append(shift)
        if not pts:
            break
        pts_a, shifts_a = np.array(pts), np.array(shifts)
        update, inliers = fit_model(pts_a, shifts_a, model=model, threshold=threshold)
        predicted = (pts_a @ update[:2, :2].T + update[:2, 2]) - pts_a
        residual = residual @ update
        fit = FineFit(matrix @ residual, pts_a, shifts_a - predicted, inliers)
        if iteration >= 2 and np.abs(shifts_a[inliers]).max(initial=0.0) < 0.02:
            break
    if fit is None:
        return None
    total, residuals = simplest(fit.points, fit.matrix, fit.residuals, fit.inliers, model)
    return FineFit(total, fit.points, residuals, fit.inliers)


def read_references(before, size: int, places: list) -> list:
    """BEFORE's side of windows at ``places``, with its own open file.

    Returns ``(place, (gradient magnitude, its windowed spectrum))`` pairs; None instead of
    the pair of arrays where BEFORE is not valid enough.
    """
    out = []
    with before.open() as dsb:
        for c0, r0 in places:
            win = Window(c0, r0, size, size)
            pixels_b, valid_b = before.read_masked(window=win, dataset=dsb)
            if valid_b.mean() < 0.98:
                out.append(((c0, r0), None))
                continue
            ref_g = gradient_magnitude(grey(pixels_b, valid_b))
            # the spectrum once, for every iteration of the fit
            out.append(((c0, r0), (ref_g, windowed_spectrum(ref_g))))
    return out


def _read_moving(after, mapping, matrix, size, margin, places) -> list:
    """AFTER's side of windows at ``places``, with its own open file.

    Returns ``(place, (AFTER grey with a margin, AFTER valid))`` pairs, resampled by
    ``matrix``.
    """
    out = []
    with after.open() as dsa:
        for c0, r0 in places:
            big = Window(c0 - margin, r0 - margin, size + 2 * margin, size + 2 * margin)
            g = mapping.local_matrix(big.col_off, big.row_off, big.width, big.height)
            pixels_a, valid_a = read_resampled(after, g @ matrix, big, dataset=dsa)
            out.append(((c0, r0), (grey(pixels_a, valid_a), valid_a)))
    return out


def _window_shift(residual, size, margin, window) -> tuple[float, float] | None:
    """Shift of one window after ``residual``; None when it is not trusted."""
    c0, r0, ref_g_w, spectrum, mov_a, valid_a = window
    m_idx = index_matrix(residual, dst_origin=(c0, r0), src_origin=(c0 - margin, r0 - margin))
    mov = warp_array(mov_a, m_idx, (size, size))
    if warp_array(valid_a.view(np.uint8), m_idx, (size, size), nearest=True).mean() < 0.98:
        return None
    sx, sy, response = phase_shift(ref_g_w, gradient_magnitude(mov), reference_spectrum=spectrum)
    if response < MIN_RESPONSE or max(abs(sx), abs(sy)) > margin:
        return None
    return sx, sy
