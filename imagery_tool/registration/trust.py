"""The trust gate: whether a content estimate of the misregistration is used or refused."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["SUPPORT_PX", "Evidence", "Verdict", "corner_gap", "judge", "largest_gap"]

# A window supports the estimate when its shift lies within this of the fitted model (px).
SUPPORT_PX = 1.0
# Criteria, each with the value at which it is just met (see `judge`).
MIN_SUPPORT = 8  # windows supporting the estimate
MIN_SHARE = 0.2  # of the windows measured (a reliable peak), for an estimate within 1 px
MIN_SHARE_LARGE = 0.6  # the same for an estimate moving some pixel by more than LARGE_PX
LARGE_PX = 1.0
MIN_HULL = 0.25  # convex hull of the supporting windows over that of all the windows placed
MIN_SPAN = 2 / 3  # extent of the supporting windows over that of the windows placed, per axis
MAX_RMSE = 0.6  # px, misfit of the supporting windows about the model
MAX_GAP = 2.0  # px (or reduced-level pixels, if larger): first estimate vs refined one


@dataclass(frozen=True)
class Evidence:
    """What the measurement says about an estimate.

    Attributes
    ----------
    placed : (P, 2) float ndarray
        Centres ``(col, row)`` of the full-resolution windows placed over the overlap.
    points : (N, 2) float ndarray
        Centres of the windows that gave a reliable peak on the last pass (``N <= P``).
    residuals : (N, 2) float ndarray
        Each of those windows' shift minus the fitted model's, ``(dx, dy)`` in pixels.
    shift_px : float
        Largest displacement of the estimate from the georeference over the overlap's corners.
    coarse_gap_px : float
        Largest displacement between the reduced-level estimate and the refined one over the
        windows placed (where both were measured).
    coarse_step : float
        Side of a reduced-level pixel in full-resolution pixels (1 for small overlaps).
    """

    placed: np.ndarray
    points: np.ndarray
    residuals: np.ndarray
    shift_px: float
    coarse_gap_px: float
    coarse_step: float = 1.0

    @property
    def misfit(self) -> np.ndarray:
        """(N,) float ndarray: distance in pixels of each window's shift from the model."""
        return np.hypot(self.residuals[:, 0], self.residuals[:, 1])

    @property
    def support(self) -> np.ndarray:
        """(N,) bool ndarray: the windows within `SUPPORT_PX` of the model."""
        return self.misfit <= SUPPORT_PX

    @property
    def rmse_px(self) -> float | None:
        """RMSE of the supporting windows' misfit (None without support)."""
        m = self.misfit[self.support]
        return float(np.sqrt(np.mean(m**2))) if m.size else None


@dataclass(frozen=True)
class Verdict:
    """The gate's decision.

    Attributes
    ----------
    status : {"applied", "fallback"}
    reason : str or None
        One line when refused: what failed; None when applied.
    confidence : float
        0..1; at least 0.5 exactly when every criterion is met (see `judge`).
    scores : dict of str to float
        Each criterion's score (its contribution to ``confidence``).
    """

    status: str
    reason: str | None
    confidence: float
    scores: dict[str, float]


def corner_gap(m1: np.ndarray, m2: np.ndarray, overlap: tuple[int, int, int, int]) -> float:
    """Largest distance in pixels between where two (3, 3) mappings send the overlap's corners."""
    c0, r0, w, h = overlap
    return largest_gap(m1, m2, np.array([[c0, r0], [c0 + w, r0], [c0, r0 + h], [c0 + w, r0 + h]]))


def largest_gap(m1: np.ndarray, m2: np.ndarray, points: np.ndarray) -> float:
    """Largest distance in pixels between where two (3, 3) mappings send (N, 2) ``points``."""
    pts = np.column_stack([np.asarray(points, np.float64), np.ones(len(points))])
    d = pts @ (np.asarray(m1) - np.asarray(m2))[:2].T
    return float(np.hypot(d[:, 0], d[:, 1]).max(initial=0.0))


def _hull_area(points: np.ndarray) -> float:
    if len(points) < 3:
        return 0.0
    return float(cv2.contourArea(cv2.convexHull(points.astype(np.float32))))


def _span(points: np.ndarray, placed: np.ndarray) -> float:
    """Smaller over both axes of the supporting windows' extent over the placed windows'."""
    full = np.ptp(placed, axis=0)
    if not len(points):
        return 0.0
    part = np.ptp(points, axis=0)
    ratios = [p / f for p, f in zip(part, full, strict=True) if f > 0]
    return float(min(ratios)) if ratios else 1.0


def _score(value: float, threshold: float, ideal: float) -> float:
    """0 at 0, 0.5 at ``threshold``, 1 at ``ideal`` and beyond, linear (higher is better)."""
    if value < threshold:
        return max(0.0, 0.5 * value / threshold)
    return min(1.0, 0.5 + 0.5 * (value - threshold) / (ideal - threshold))


def _score_low(value: float, threshold: float) -> float:
    """1 at 0, 0.5 at ``threshold``, 0 at twice it, linear (lower is better)."""
    return float(np.clip(1.0 - value / (2 * threshold), 0.0, 1.0))


def judge(evidence: Evidence) -> Verdict:
    """Decide whether an estimate is used.

    The estimate is applied only when all of these hold:

    - *support*: at least `MIN_SUPPORT` windows agree with it within `SUPPORT_PX`;
    - *share*: they are at least `MIN_SHARE` of the windows that gave a reliable peak, and
      `MIN_SHARE_LARGE` when the estimate moves the image by more than `LARGE_PX` somewhere
      (a large shift with weak support is the typical false estimate: a changed structure, a
      tall building's lean, a periodic pattern);
    - *spread*: their convex hull covers at least `MIN_HULL` of the hull of all the windows
      placed, and their extent at least `MIN_SPAN` of it along each axis;
    - *fit*: their RMSE about the model is at most `MAX_RMSE` px;
    - *consistency*: the reduced-level estimate is within `MAX_GAP` px (or two reduced-level
      pixels) of the refined one at every window placed.

    Each criterion gets a score from 0 to 1 that is 0.5 at its threshold: where higher is
    better, linear from 0 at 0 to 0.5 at the threshold, then to 1 at the ideal (three times
    `MIN_SUPPORT`; a share, hull or span of 1); where lower is better (RMSE, gap), 1 at
    0, 0.5 at the threshold and 0 at twice it. ``confidence`` is the smallest score: the
    weakest criterion, at least 0.5 exactly when every criterion is met.
    """
    placed, points, support = evidence.placed, evidence.points, evidence.support
    n, measured = int(support.sum()), len(points)
    share = n / measured if measured else 0.0
    large = evidence.shift_px > LARGE_PX
    min_share = MIN_SHARE_LARGE if large else MIN_SHARE
    hull_all = _hull_area(placed)
    hull = _hull_area(points[support]) / hull_all if hull_all > 0 else 1.0
    span = _span(points[support], placed)
    rmse = evidence.rmse_px
    max_gap = max(MAX_GAP, 2 * evidence.coarse_step)
    scores = {
        "support": _score(n, MIN_SUPPORT, 3 * MIN_SUPPORT),
        "share": _score(share, min_share, 1.0),
        "hull": _score(hull, MIN_HULL, 1.0),
        "span": _score(span, MIN_SPAN, 1.0),
        "rmse": 0.0 if rmse is None else _score_low(rmse, MAX_RMSE),
        "gap": _score_low(evidence.coarse_gap_px, max_gap),
    }
    confidence = round(min(scores.values()), 3)
    if confidence >= 0.5:
        return Verdict("applied", None, confidence, scores)
    failed = [k for k, v in scores.items() if v < 0.5]
    words = {
        "support": f"too few agree (at least {MIN_SUPPORT} needed)",
        "share": f"under {min_share:.0%} of the windows measured"
        + (f" for a shift over {LARGE_PX:g} px" if large else ""),
        "hull": "they cover too little of the overlap",
        "span": "they cover too little of the overlap",
        "rmse": f"they scatter by {rmse or 0:.2f} px about the fit",
        "gap": f"the first estimate is {evidence.coarse_gap_px:.1f} px from the refined one",
    }
    why = "; ".join(dict.fromkeys(words[k] for k in failed))
    return Verdict("fallback", why, confidence, scores)


def describe(n: int, measured: int, dx: float, dy: float) -> str:
    """``"3 of 38 windows agree on dx +41.2, dy -12.0 px"``."""
    return f"{n} of {measured} windows agree on dx {dx:+.1f}, dy {dy:+.1f} px"
