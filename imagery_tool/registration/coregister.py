"""Measure the residual misregistration of AFTER on BEFORE's grid from image content."""

from __future__ import annotations

import dataclasses
import math
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from imagery_tool.registration.coarse import coarse_estimate, read_coarse
from imagery_tool.registration.fine import (
    MIN_SIDE,
    fine_estimate,
    fine_windows,
    read_references,
)
from imagery_tool.registration.fit import REGISTRATION_MODELS
from imagery_tool.registration.grid import GridMapping, affine_to_matrix, matrix_to_affine
from imagery_tool.registration.trust import Evidence, corner_gap, describe, judge, largest_gap
from imagery_tool.runtime import current, thread_pool
from imagery_tool.tile import Tile, open_tile

__all__ = ["DEFAULT_REGISTRATION_MODEL", "REGISTRATION_MODELS", "Registration", "coregister"]

DEFAULT_REGISTRATION_MODEL = "similarity"  # shift, rotation and scale


@dataclass(frozen=True)
class Registration:
    """How AFTER was brought onto BEFORE's grid.

    Attributes
    ----------
    matrix : tuple of 6 float
        The residual affine ``(a, b, c, d, e, f)`` used: BEFORE pixel ``(col, row)`` shows the
        same ground as pixel ``(a*col + b*row + c, d*col + e*row + f)`` of AFTER resampled onto
        BEFORE's grid by georeference. Identity unless ``status`` is ``"applied"``.
    model : {"shift", "similarity", "affine", "none"}
        What ``matrix`` is (``"none"``: georeference only).
    windows_used, windows_measured : int
        Windows agreeing with the measured fit within 1 px, and windows that gave a reliable
        peak (also when the fit was refused: what was measured).
    rmse_px : float or None
        Root-mean-square distance in pixels between the agreeing windows' shifts and the
        measured fit (``None`` when nothing was measured).
    resampled : bool
        Whether AFTER's grid differed (CRS, resolution, origin or extent) and was resampled.
    overlap : tuple of 4 int
        ``(col_off, row_off, width, height)`` of the compared part of BEFORE's grid.
    status : {"applied", "fallback", "not_measured"}
        ``"applied"``: the content estimate passed the trust gate and is ``matrix``;
        ``"fallback"``: it was refused (or could not be made) and AFTER is placed by
        georeference alone; ``"not_measured"``: no measurement was asked for.
    reason : str or None
        One line saying why the estimate was refused or not measured; None when applied.
    confidence : float or None
        0..1, at least 0.5 exactly when every criterion of the gate is met
        (`imagery_tool.registration.trust.judge`); None when nothing was measured.
    measured_matrix : tuple of 6 float or None
        The refused estimate, kept for the record (None unless ``status`` is ``"fallback"``
        after a fit).
    """

    matrix: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    model: str = "none"
    windows_used: int = 0
    windows_measured: int = 0
    rmse_px: float | None = None
    resampled: bool = False
    overlap: tuple[int, int, int, int] = (0, 0, 0, 0)
    status: str = "not_measured"
    reason: str | None = None
    confidence: float | None = None
    measured_matrix: tuple[float, ...] | None = None

    @property
    def applied(self) -> bool:
        """Whether a content estimate is used (``status == "applied"``)."""
        return self.status == "applied"

    @property
    def matrix3(self) -> np.ndarray:
        """The residual as a (3, 3) float64 matrix."""
        return affine_to_matrix(self.matrix)

    @property
    def centre(self) -> tuple[float, float]:
        """``(col, row)`` of the overlap's centre, where `dx` and `dy` are measured."""
        c0, r0, w, h = self.overlap
        return (c0 + w / 2, r0 + h / 2)

    def _shift(self, terms) -> tuple[float, float]:
        m, (cx, cy) = affine_to_matrix(terms), self.centre
        return (
            float(m[0, 0] * cx + m[0, 1] * cy + m[0, 2] - cx),
            float(m[1, 0] * cx + m[1, 1] * cy + m[1, 2] - cy),
        )

    @property
    def dx(self) -> float:
        """Shift along columns at the overlap's centre, in BEFORE pixels (AFTER minus BEFORE)."""
        return self._shift(self.matrix)[0]

    @property
    def dy(self) -> float:
        """Shift along rows at the overlap's centre, in BEFORE pixels (AFTER minus BEFORE)."""
        return self._shift(self.matrix)[1]

    @property
    def measured_shift(self) -> tuple[float, float] | None:
        """``(dx, dy)`` of the refused estimate at the overlap's centre (None if none)."""
        return None if self.measured_matrix is None else self._shift(self.measured_matrix)

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
        if self.measured_matrix is not None:
            record["measured_matrix"] = [round(v, 9) for v in self.measured_matrix]
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
    model: str = DEFAULT_REGISTRATION_MODEL,
    measure: bool = True,
    window_px: int = 256,
    max_windows: int = 49,
    max_shift_px: float = 40.0,
) -> Registration:
    """Measure how AFTER is misregistered on BEFORE's grid, and use it only when it is trusted.

    A reduced level of both tiles (longer side 1024 px) gives a first estimate (from the
    georeference and from a whole-image phase correlation, each refined by a grid of windows);
    a grid of full-resolution windows then refines it to sub-pixel accuracy. Each window is a
    phase correlation of gradient magnitudes (robust to gain, gamma and haze); windows with a
    weak peak are dropped and RANSAC rejects the ones that disagree (changed objects), before a
    least-squares fit of ``model``. Only windows are read, never the whole raster.

    The estimate then goes through a trust gate (`imagery_tool.registration.trust.judge`):
    enough windows, spread over the overlap, must agree with it closely, and the first and
    refined estimates must match. Otherwise the result falls back to the georeference alone
    (``status="fallback"``, identity ``matrix``) with the reason and the refused estimate; an
    overlap too small for a window or without texture falls back the same way.

    Parameters
    ----------
    before, after : Tile or path
        The earlier and later tiles (any order of dates works; BEFORE's grid is the reference).
    model : {"shift", "similarity", "affine"}
        The residual model fitted to the window shifts.
    measure : bool
        False: georeference only (identity residual, ``status="not_measured"``).
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
    >>> reg.status, round(reg.dx, 2), round(reg.dy, 2), reg.windows_used  # doctest: +SKIP
    ('applied', 3.41, -2.07, 36)
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
        pool = stack.enter_context(thread_pool(current().workers))
        coarse = read_coarse(before, after, mapping, overlap, dsb, dsa, pool)
        if not measure:
            return dataclasses.replace(base, reason="georeference only: not measured, as asked")
        if coarse.featureless:
            return _fallback(base, f"{coarse.featureless}: nothing to measure")
        # BEFORE's full-resolution windows do not depend on the first estimate: they are read
        # on one other thread while it runs (a second would only slow it down)
        fine = fine_windows(overlap, coarse.texture, window_px, max_windows)
        if fine is None:
            return _fallback(
                base, f"the overlap ({ov[2]} x {ov[3]} px) is too small for a measuring window "
                f"({MIN_SIDE} px a side)"
            )  # fmt: skip
        reading = pool.submit(read_references, before, fine.size, fine.places)
        first = coarse_estimate(coarse, model, max_shift_px)
        fit = fine_estimate(after, mapping, fine, dict(reading.result()), first.matrix, model, pool)
    if fit is None:
        return _fallback(base, "no measuring window is valid (not nodata) in both dates")
    return _decide(base, model, fine, first, fit)


def _fallback(base: Registration, reason: str) -> Registration:
    """Georeference only, with nothing measured."""
    return dataclasses.replace(base, status="fallback", reason=reason, confidence=0.0)


def _decide(base: Registration, model: str, fine, first, fit) -> Registration:
    """Put the refined estimate through the trust gate."""
    identity = np.eye(3)
    evidence = Evidence(
        placed=fine.centres,
        points=fit.points,
        residuals=fit.residuals,
        shift_px=corner_gap(fit.matrix, identity, base.overlap),
        coarse_gap_px=largest_gap(fit.matrix, first.matrix, fine.centres),
        coarse_step=first.step,
    )
    verdict = judge(evidence)
    # rounded: the last bits of OpenCV's transforms vary between a process's first and later
    # calls; 1e-9 keeps every date's result identical across processes and machines
    terms = tuple(round(v, 9) for v in matrix_to_affine(fit.matrix))
    measured = dataclasses.replace(
        base,
        windows_used=int(evidence.support.sum()),
        windows_measured=len(fit.points),
        rmse_px=evidence.rmse_px,
        confidence=verdict.confidence,
    )
    if verdict.status == "applied":
        return dataclasses.replace(measured, matrix=terms, model=model, status="applied")
    refused = dataclasses.replace(measured, measured_matrix=terms)
    dx, dy = refused.measured_shift
    what = describe(measured.windows_used, measured.windows_measured, dx, dy)
    return dataclasses.replace(
        refused,
        status="fallback",
        reason=f"content estimate refused ({what}): {verdict.reason}",
    )
