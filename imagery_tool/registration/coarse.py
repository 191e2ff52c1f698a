"""First estimate of the misregistration on a reduced level of the overlap (longer side 1024 px)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from imagery_tool.errors import IncompatibleTilesError
from imagery_tool.registration.fit import fit_model, simplest
from imagery_tool.registration.phase import (
    MIN_RESPONSE,
    bounded_phase_shift,
    gradient_magnitude,
    grey,
    grid_centres,
    phase_shift,
    windowed_spectrum,
)
from imagery_tool.registration.warp import index_matrix, read_resampled, warp_array
from imagery_tool.tile import Tile

__all__ = ["COARSE_SIDE", "CoarseFit", "CoarseLevel", "coarse_estimate", "read_coarse"]

COARSE_SIDE = 1024  # longer side of the reduced level used for the first estimate


@dataclass
class CoarseLevel:
    """The reduced level: both greys on BEFORE's reduced grid and its scale."""

    ref: np.ndarray
    mov: np.ndarray
    valid: np.ndarray
    factor: tuple[float, float]
    origin: tuple[float, float]
    featureless: str | None = None  # why, when a date is constant over the overlap only
    ref_g: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ref_g = gradient_magnitude(self.ref)

    def to_full(self, matrix: np.ndarray) -> np.ndarray:
        """Return a mapping of reduced-level pixels as one of full-resolution pixels."""
        s = np.array(
            [[self.factor[0], 0, self.origin[0]], [0, self.factor[1], self.origin[1]], [0, 0, 1]]
        )
        return s @ matrix @ np.linalg.inv(s)

    def texture(self, col: float, row: float, half: float) -> float:
        """Mean gradient magnitude of BEFORE around full-resolution ``(col, row)``; 0 if invalid.

        ``half`` is half the side of the square, in full-resolution pixels.
        """
        c = (col - self.origin[0]) / self.factor[0]
        r = (row - self.origin[1]) / self.factor[1]
        h = max(1, int(half / self.factor[0]))
        sl = (slice(max(0, int(r) - h), int(r) + h), slice(max(0, int(c) - h), int(c) + h))
        ok = self.valid[sl]
        return float(self.ref_g[sl].mean()) if ok.size and ok.mean() > 0.95 else 0.0


@dataclass(frozen=True)
class CoarseFit:
    """The first estimate: full-resolution matrix, windows agreeing with it and measured.

    ``step`` is the side of a reduced-level pixel in full-resolution pixels.
    """

    matrix: np.ndarray
    used: int
    measured: int
    step: float = 1.0


def read_coarse(before, after, mapping, overlap, dsb, dsa, pool) -> CoarseLevel:
    """Read both dates over the overlap at the reduced level (AFTER by georeference).

    Raises
    ------
    IncompatibleTilesError
        A date with no valid pixel over the overlap or constant everywhere, or no valid pixel
        in common.
    """
    side = max(overlap.width, overlap.height)
    factor = max(1.0, side / COARSE_SIDE)
    shape = (max(1, math.ceil(overlap.height / factor)), max(1, math.ceil(overlap.width / factor)))

    def read_before():
        return before.read_masked(window=overlap, out_shape=shape, dataset=dsb)

    reading = pool.submit(read_before)  # both dates at once, each with its own file
    g = mapping.local_matrix(overlap.col_off, overlap.row_off, overlap.width, overlap.height)
    pixels_a, valid_a = read_resampled(after, g, overlap, shape, dataset=dsa)
    pixels_b, valid_b = reading.result()
    featureless = _check_content(before, pixels_b, valid_b) or _check_content(
        after, pixels_a, valid_a
    )
    valid = valid_b & valid_a
    if valid.mean() < 0.001:
        raise IncompatibleTilesError(
            f"{before.path} and {after.path} have no valid pixels in common (nodata where they "
            "overlap); check the nodata value and that both tiles cover the same ground"
        )
    return CoarseLevel(
        ref=grey(pixels_b, valid_b),
        mov=grey(pixels_a, valid_a),
        valid=valid,
        factor=(overlap.width / shape[1], overlap.height / shape[0]),
        origin=(float(overlap.col_off), float(overlap.row_off)),
        featureless=featureless,
    )


def _check_content(tile: Tile, pixels: np.ndarray, valid: np.ndarray) -> str | None:
    """Check one date over the overlap; return why it is featureless, or None.

    Raises
    ------
    IncompatibleTilesError
        No valid pixel over the overlap, or the whole tile is constant (not imagery: a blank
        or fill-only file).
    """
    if not valid.any():
        raise IncompatibleTilesError(
            f"{tile.path}: no valid pixels where the tiles overlap (all nodata); "
            "check its nodata value or pick a tile with data there"
        )
    if not _constant(pixels, valid):
        return None
    whole, whole_valid, _ = tile.read_overview(512)
    if _constant(whole, whole_valid):
        values = whole[:, whole_valid][:, 0].astype(np.float64).tolist()
        raise IncompatibleTilesError(
            f"{tile.path}: the image is constant (value {values}), "
            "nothing to compare; check the file holds imagery"
        )
    value = pixels[:, valid][:, 0].astype(np.float64).tolist()
    return f"{tile.path.name} is featureless over the overlap (constant {value})"


def _constant(pixels: np.ndarray, valid: np.ndarray) -> bool:
    values = pixels[:, valid][:, :: max(1, int(valid.sum()) // 100_000)].astype(np.float64)
    return not values.size or float(values.std(axis=1).max()) < 1e-6


def coarse_estimate(coarse: CoarseLevel, model: str, max_shift_px: float) -> CoarseFit:
    """Estimate on the reduced level; return a full-resolution matrix and window counts.

    Two starts are tried, the georeference itself and the peak of a whole-image phase
    correlation (searched within ``max_shift_px``, which catches shifts too large for the
    windows); each is refined by a grid of windows, and the one more windows agree with wins
    (the peak on a tie). A whole-image peak is easily a periodic pattern or a changed
    structure, where the windows agree with nothing.
    """
    ref_g = coarse.ref_g
    h, w = ref_g.shape
    dx, dy, _ = bounded_phase_shift(
        ref_g, gradient_magnitude(coarse.mov), max_shift=max_shift_px / min(coarse.factor) + 1
    )
    peak = np.array([[1.0, 0, dx], [0, 1.0, dy], [0, 0, 1.0]])
    if min(h, w) < 2 * 32:  # too small for windows: the peak, unchecked
        return CoarseFit(coarse.to_full(peak), 0, 0, max(coarse.factor))
    size = min(256, 2 ** int(math.log2(max(16, min(h, w) // 2))))
    windows = _Windows(coarse, ref_g, size)
    starts = ([peak] if math.hypot(dx, dy) > 1.0 else []) + [np.eye(3)]
    best = None
    for start in starts:
        fit = windows.refine(start, model)
        if best is None or fit.used > best.used:
            best = fit
    return best


class _Windows:
    """A 5 x 5 grid of windows on the reduced level, BEFORE's spectra computed once."""

    def __init__(self, coarse: CoarseLevel, ref_g: np.ndarray, size: int) -> None:
        self.coarse, self.ref_g, self.size = coarse, ref_g, size
        h, w = ref_g.shape
        self.centres = grid_centres(w, h, size, 5)
        self.spectra: dict[tuple[int, int], np.ndarray] = {}

    def refine(self, matrix: np.ndarray, model: str) -> CoarseFit:
        """Refine a start by three passes of window shifts (inlier distance 2, 1, 0.5 px)."""
        coarse, size = self.coarse, self.size
        h, w = self.ref_g.shape
        used = measured = 0
        for iteration, threshold in enumerate((2.0, 1.0, 0.5)):
            m_idx = index_matrix(matrix)
            mov_g = gradient_magnitude(warp_array(coarse.mov, m_idx, (h, w)))
            mov_valid = warp_array(coarse.valid.view(np.uint8), m_idx, (h, w), nearest=True)
            pts, shifts = [], []
            for cx, cy in self.centres:
                sl = (slice(cy - size // 2, cy + size // 2), slice(cx - size // 2, cx + size // 2))
                if coarse.valid[sl].mean() < 0.9 or mov_valid[sl].mean() < 0.9:
                    continue
                if (cx, cy) not in self.spectra:
                    self.spectra[cx, cy] = windowed_spectrum(self.ref_g[sl])
                sx, sy, response = phase_shift(
                    self.ref_g[sl], mov_g[sl], reference_spectrum=self.spectra[cx, cy]
                )
                if response < MIN_RESPONSE or max(abs(sx), abs(sy)) > size / 4:
                    continue
                pts.append((cx, cy))
                shifts.append((sx, sy))
            if not pts:
                break
            fit_as = model if iteration else "shift" if len(pts) < 4 else model
            pts_a, shifts_a = np.array(pts, np.float64), np.array(shifts, np.float64)
            update, inliers = fit_model(pts_a, shifts_a, model=fit_as, threshold=threshold)
            predicted = (pts_a @ update[:2, :2].T + update[:2, 2]) - pts_a
            matrix = matrix @ update
            used, measured = int(inliers.sum()), len(pts)
            last = (pts_a, shifts_a - predicted, inliers, fit_as)
        if used:
            matrix, _ = simplest(last[0], matrix, last[1], last[2], last[3])
        return CoarseFit(coarse.to_full(matrix), used, measured, max(coarse.factor))
