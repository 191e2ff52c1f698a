"""Measure the residual misregistration of AFTER on BEFORE's grid from image content."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np
from rasterio.windows import Window

from imagery_tool.errors import IncompatibleTilesError
from imagery_tool.registration.grid import GridMapping, affine_to_matrix, matrix_to_affine
from imagery_tool.registration.phase import (
    bounded_phase_shift,
    fit_model,
    gradient_magnitude,
    grey,
    phase_shift,
    windowed_spectrum,
)
from imagery_tool.registration.warp import index_matrix, read_resampled, warp_array
from imagery_tool.threads import DEFAULT_THREADS
from imagery_tool.tile import Tile, open_tile

__all__ = ["REGISTRATION_MODELS", "Registration", "coregister"]

# Model fitted to the window shifts -> number of free parameters.
REGISTRATION_MODELS = {"shift": 2, "similarity": 4, "affine": 6}

_COARSE_SIDE = 1024  # longer side of the reduced level used for the first estimate
_MIN_RESPONSE = 0.02  # phase-correlation peak below this: the window is not trusted
_WORKERS = DEFAULT_THREADS  # threads over the full-resolution windows


@dataclass(frozen=True)
class Registration:
    """How AFTER was brought onto BEFORE's grid.

    Attributes
    ----------
    matrix : tuple of 6 float
        The residual affine ``(a, b, c, d, e, f)`` measured from content: BEFORE pixel
        ``(col, row)`` shows the same ground as pixel ``(a*col + b*row + c, d*col + e*row + f)``
        of AFTER resampled onto BEFORE's grid by georeference. Identity when nothing was measured.
    model : {"shift", "similarity", "affine", "none"}
        What was fitted (``"none"``: georeference only).
    windows_used, windows_measured : int
        Windows agreeing with the fit (inliers) and windows that gave a reliable peak.
    rmse_px : float or None
        Root-mean-square distance in pixels between the window shifts and the fitted model
        (the quality figure; ``None`` when nothing was measured).
    resampled : bool
        Whether AFTER's grid differed (CRS, resolution, origin or extent) and was resampled.
    overlap : tuple of 4 int
        ``(col_off, row_off, width, height)`` of the compared part of BEFORE's grid.
    """

    matrix: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    model: str = "none"
    windows_used: int = 0
    windows_measured: int = 0
    rmse_px: float | None = None
    resampled: bool = False
    overlap: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def matrix3(self) -> np.ndarray:
        """The residual as a (3, 3) float64 matrix."""
        return affine_to_matrix(self.matrix)

    @property
    def centre(self) -> tuple[float, float]:
        """``(col, row)`` of the overlap's centre, where `dx` and `dy` are measured."""
        c0, r0, w, h = self.overlap
        return (c0 + w / 2, r0 + h / 2)

    @property
    def dx(self) -> float:
        """Shift along columns at the overlap's centre, in BEFORE pixels (AFTER minus BEFORE)."""
        m, (cx, cy) = self.matrix3, self.centre
        return float(m[0, 0] * cx + m[0, 1] * cy + m[0, 2] - cx)

    @property
    def dy(self) -> float:
        """Shift along rows at the overlap's centre, in BEFORE pixels (AFTER minus BEFORE)."""
        m, (cx, cy) = self.matrix3, self.centre
        return float(m[1, 0] * cx + m[1, 1] * cy + m[1, 2] - cy)

    @property
    def rotation_deg(self) -> float:
        """Rotation of AFTER's content relative to BEFORE's, degrees (clockwise on screen)."""
        m = self.matrix3
        return math.degrees(math.atan2(m[1, 0] - m[0, 1], m[0, 0] + m[1, 1]))

    @property
    def scale(self) -> float:
        """Scale of AFTER's content relative to BEFORE's (square root of the determinant)."""
        m = self.matrix3
        return math.sqrt(abs(m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]))

    def to_dict(self) -> dict:
        """JSON-ready record: the fields plus ``dx``, ``dy``, ``rotation_deg`` and ``scale``."""
        record = asdict(self)
        record["matrix"] = [round(v, 9) for v in self.matrix]
        record["overlap"] = list(self.overlap)
        record.update(
            dx=round(self.dx, 4),
            dy=round(self.dy, 4),
            rotation_deg=round(self.rotation_deg, 5),
            scale=round(self.scale, 7),
        )
        if self.rmse_px is not None:
            record["rmse_px"] = round(self.rmse_px, 4)
        return record


def coregister(
    before: Tile | str | Path,
    after: Tile | str | Path,
    *,
    model: str = "similarity",
    measure: bool = True,
    window_px: int = 256,
    max_windows: int = 49,
    max_shift_px: float = 40.0,
) -> Registration:
    """Measure how AFTER is misregistered on BEFORE's grid, after resampling by georeference.

    A reduced level of both tiles (longer side 1024 px) gives a first estimate (a whole-image
    phase correlation, then a grid of windows); a grid of full-resolution windows then refines it
    to sub-pixel accuracy. Each window is a phase correlation of gradient magnitudes (robust to
    gain, gamma and haze); windows with a weak peak are dropped and RANSAC rejects the ones
    that disagree (changed objects), before a least-squares fit of ``model``. Only windows are
    read, never the whole raster.

    Parameters
    ----------
    before, after : Tile or path
        The earlier and later tiles (any order of dates works; BEFORE's grid is the reference).
    model : {"shift", "similarity", "affine"}
        The residual model fitted to the window shifts.
    measure : bool
        False: georeference only (identity residual).
    window_px : int
        Side of the full-resolution windows.
    max_windows : int
        Upper bound on the number of full-resolution windows.
    max_shift_px : float
        Largest residual shift searched for, in BEFORE pixels (the georeference is trusted
        to this).

    Returns
    -------
    Registration

    Raises
    ------
    IncompatibleTilesError
        Different band counts, one tile georeferenced and not the other, an empty or constant
        image, or no valid pixels in common.
    NoOverlapError
        The footprints do not intersect.

    Examples
    --------
    >>> reg = coregister("before.tif", "after.tif")  # doctest: +SKIP
    >>> round(reg.dx, 2), round(reg.dy, 2), reg.windows_used  # doctest: +SKIP
    (3.41, -2.07, 36)
    """
    if model not in REGISTRATION_MODELS:
        raise ValueError(f"model must be one of {sorted(REGISTRATION_MODELS)}, got {model!r}")
    before = before if isinstance(before, Tile) else open_tile(before)
    after = after if isinstance(after, Tile) else open_tile(after)
    mapping = GridMapping.between(before, after)
    overlap = mapping.overlap()
    ov = (int(overlap.col_off), int(overlap.row_off), int(overlap.width), int(overlap.height))
    base = Registration(resampled=not mapping.same_grid, overlap=ov)
    with ExitStack() as stack:
        dsb = stack.enter_context(before.open())
        dsa = stack.enter_context(after.open())
        # entered last, left first: its threads are done before the files close
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=_WORKERS))
        coarse = _coarse_level(before, after, mapping, overlap, dsb, dsa, pool)
        if not measure:
            return base
        # BEFORE's full-resolution windows do not depend on the first estimate: they are read
        # on one other thread while it runs (a second would only slow it down)
        fine = _fine_windows(overlap, coarse, window_px, max_windows)
        reading = fine and pool.submit(_read_references, before, fine.size, fine.places)
        matrix, stats = _coarse_estimate(coarse, model, max_shift_px)
        if fine:
            references = dict(reading.result())
            refined = _fine_estimate(after, mapping, fine, references, matrix, model, pool)
            matrix, stats = refined or (matrix, stats)
    used, measured, rmse = stats
    return Registration(
        # rounded: the last bits of OpenCV's transforms vary between a process's first and later
        # calls; 1e-9 keeps every date's result identical across processes and machines
        matrix=tuple(round(v, 9) for v in matrix_to_affine(matrix)),
        model=model if measured else "none",
        windows_used=used,
        windows_measured=measured,
        rmse_px=rmse if measured else None,
        resampled=base.resampled,
        overlap=ov,
    )


@dataclass
class _Coarse:
    """The reduced level: both greys on BEFORE's reduced grid and its scale."""

    ref: np.ndarray
    mov: np.ndarray
    valid: np.ndarray
    factor: tuple[float, float]
    origin: tuple[float, float]


def _coarse_level(before, after, mapping, overlap, dsb, dsa, pool) -> _Coarse:
    side = max(overlap.width, overlap.height)
    factor = max(1.0, side / _COARSE_SIDE)
    shape = (max(1, math.ceil(overlap.height / factor)), max(1, math.ceil(overlap.width / factor)))

    def read_before():
        pixels = before.read(window=overlap, out_shape=shape, dataset=dsb)
        return pixels, before.read_valid(
            window=overlap, out_shape=shape, pixels=pixels, dataset=dsb
        )

    reading = pool.submit(read_before)  # both dates at once, each with its own file
    g = mapping.local_matrix(overlap.col_off, overlap.row_off, overlap.width, overlap.height)
    pixels_a, valid_a = read_resampled(after, g, overlap, shape, dataset=dsa)
    pixels_b, valid_b = reading.result()
    _check_content(before, pixels_b, valid_b)
    _check_content(after, pixels_a, valid_a)
    valid = valid_b & valid_a
    if valid.mean() < 0.001:
        raise IncompatibleTilesError(
            f"{before.path} and {after.path} have no valid pixels in common (nodata where they "
            "overlap); check the nodata value and that both tiles cover the same ground"
        )
    return _Coarse(
        ref=grey(pixels_b, valid_b),
        mov=grey(pixels_a, valid_a),
        valid=valid,
        factor=(overlap.width / shape[1], overlap.height / shape[0]),
        origin=(float(overlap.col_off), float(overlap.row_off)),
    )


def _check_content(tile: Tile, pixels: np.ndarray, valid: np.ndarray) -> None:
    if not valid.any():
        raise IncompatibleTilesError(
            f"{tile.path}: no valid pixels where the tiles overlap (all nodata); "
            "check its nodata value or pick a tile with data there"
        )
    values = pixels[:, valid][:, :: max(1, int(valid.sum()) // 100_000)].astype(np.float64)
    if float(values.std(axis=1).max()) < 1e-6:
        raise IncompatibleTilesError(
            f"{tile.path}: the image is constant (value {values[:, 0].tolist()}), "
            "nothing to compare; check the file holds imagery"
        )


def _to_full(matrix: np.ndarray, coarse: _Coarse) -> np.ndarray:
    s = np.array(
        [
            [coarse.factor[0], 0, coarse.origin[0]],
            [0, coarse.factor[1], coarse.origin[1]],
            [0, 0, 1],
        ]
    )
    return s @ matrix @ np.linalg.inv(s)


def _coarse_estimate(coarse: _Coarse, model: str, max_shift_px: float):
    """Estimate on the reduced level; return a full-resolution matrix and window stats."""
    ref_g = gradient_magnitude(coarse.ref)
    mov_g_raw = gradient_magnitude(coarse.mov)
    h, w = ref_g.shape
    # whole-image translation first: catches shifts too large for the windows
    dx, dy, _ = bounded_phase_shift(
        ref_g, mov_g_raw, max_shift=max_shift_px / min(coarse.factor) + 1
    )
    matrix = np.array([[1.0, 0, dx], [0, 1.0, dy], [0, 0, 1.0]])
    size = min(256, 2 ** int(math.log2(max(16, min(h, w) // 2))))
    if min(h, w) < 2 * 32:
        return _to_full(matrix, coarse), (0, 0, None)
    centres = _grid_centres(w, h, size, 5)
    spectra: dict[tuple[int, int], np.ndarray] = {}  # of the reference windows, per centre
    stats = (0, 0, None)
    for iteration, threshold in enumerate((2.0, 1.0, 0.5)):
        m_idx = index_matrix(matrix)
        mov = warp_array(coarse.mov, m_idx, (h, w))
        mov_valid = warp_array(coarse.valid.view(np.uint8), m_idx, (h, w), nearest=True)
        mov_g = gradient_magnitude(mov)
        pts, shifts = [], []
        for cx, cy in centres:
            sl = (slice(cy - size // 2, cy + size // 2), slice(cx - size // 2, cx + size // 2))
            if coarse.valid[sl].mean() < 0.9 or mov_valid[sl].mean() < 0.9:
                continue
            if (cx, cy) not in spectra:
                spectra[cx, cy] = windowed_spectrum(ref_g[sl])
            sx, sy, response = phase_shift(ref_g[sl], mov_g[sl], reference_spectrum=spectra[cx, cy])
            if response < _MIN_RESPONSE or max(abs(sx), abs(sy)) > size / 4:
                continue
            pts.append((cx, cy))
            shifts.append((sx, sy))
        if not pts:
            break
        fit_as = model if iteration else "shift" if len(pts) < 4 else model
        update, inliers = fit_model(
            np.array(pts), np.array(shifts), model=fit_as, threshold=threshold
        )
        matrix = matrix @ update
        stats = (int(inliers.sum()), len(pts), None)
    return _to_full(matrix, coarse), stats


def _grid_centres(width: int, height: int, size: int, n: int) -> list[tuple[int, int]]:
    """Up to ``n`` x ``n`` window centres (integers) keeping whole windows inside the image."""
    half = size // 2
    xs = np.unique(np.linspace(half, width - half, n).round().astype(int))
    ys = np.unique(np.linspace(half, height - half, n).round().astype(int))
    return [(int(x), int(y)) for y in ys for x in xs]


@dataclass(frozen=True)
class _FineWindows:
    """Where the full-resolution windows lie: top-left ``(col, row)`` of each, side, margin."""

    places: list[tuple[int, int]]
    size: int
    margin: int


def _fine_windows(overlap, coarse, window_px, max_windows) -> _FineWindows | None:
    """Place the full-resolution windows on a grid; None when no window fits."""
    margin = 24
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
    centres = _grid_centres(inner_w, inner_h, size, n)
    # rank candidate windows by texture on the reduced level; drop the flattest ones
    ref_g = gradient_magnitude(coarse.ref)
    textures = []
    for cx, cy in centres:
        c = (cx + margin) / coarse.factor[0]
        r = (cy + margin) / coarse.factor[1]
        half = max(1, int(size / 2 / coarse.factor[0]))
        patch = ref_g[max(0, int(r) - half) : int(r) + half, max(0, int(c) - half) : int(c) + half]
        ok = coarse.valid[
            max(0, int(r) - half) : int(r) + half, max(0, int(c) - half) : int(c) + half
        ]
        textures.append(float(patch.mean()) if ok.size and ok.mean() > 0.95 else 0.0)
    textures = np.array(textures)
    keep = textures > 0.25 * np.median(textures[textures > 0]) if (textures > 0).any() else []
    places = [
        (
            int(overlap.col_off) + margin + cx - size // 2,
            int(overlap.row_off) + margin + cy - size // 2,
        )
        for (cx, cy), k in zip(centres, keep, strict=False)
        if k
    ]
    return _FineWindows(places, size, margin) if places else None


def _fine_estimate(after, mapping, fine, references, matrix, model, pool):
    """Refine at full resolution on the windows; None when no window can be measured.

    ``references`` holds BEFORE's side of each window by place (`_read_references`).
    """
    size, margin = fine.size, fine.margin
    measured = [(place, references[place]) for place in fine.places if references[place]]
    if not measured:
        return None
    places = [place for place, _ in measured]
    workers = max(1, min(_WORKERS, len(places)))
    # every other window per thread, each thread with its own open file
    read = partial(_read_moving, after, mapping, matrix, size, margin)
    moving = dict(
        pair
        for part in pool.map(read, [places[k::workers] for k in range(workers)])
        for pair in part
    )
    windows = [(*place, *ref, *moving[place]) for place, ref in measured]
    residual = np.eye(3)
    stats = (0, 0, None)
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
        misfit = np.hypot(*(shifts_a - predicted)[inliers].T)
        rmse = float(np.sqrt(np.mean(misfit**2))) if misfit.size else None
        residual = residual @ update
        stats = (int(inliers.sum()), len(pts), rmse)
        if iteration >= 2 and np.abs(shifts_a[inliers]).max() < 0.02:
            break
    return matrix @ residual, stats


def _read_references(before, size: int, places: list) -> list:
    """BEFORE's side of windows at ``places``, with its own open file.

    Returns ``(place, (gradient magnitude, its windowed spectrum))`` pairs; None instead of
    the pair of arrays where BEFORE is not valid enough.
    """
    out = []
    with before.open() as dsb:
        for c0, r0 in places:
            win = Window(c0, r0, size, size)
            pixels_b = before.read(window=win, dataset=dsb)
            valid_b = before.read_valid(window=win, pixels=pixels_b, dataset=dsb)
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
    if response < _MIN_RESPONSE or max(abs(sx), abs(sy)) > margin:
        return None
    return sx, sy
