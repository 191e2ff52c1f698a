"""Fit the mapping of window shifts: a robust fit, and no more parameters than the data support."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["F_CRITICAL", "REGISTRATION_MODELS", "fit_model", "simplest"]

# Variance ratio above which rotation/scale (or shear) terms are kept: their reduction of the
# squared misfit per parameter must be this many times the misfit variance of the richer model
# (an F test; 10 is beyond the 0.1 % level for any number of windows).
F_CRITICAL = 10.0
# Model fitted to the window shifts -> number of free parameters.
REGISTRATION_MODELS = {"shift": 2, "similarity": 4, "affine": 6}


def simplest(
    points: np.ndarray, matrix: np.ndarray, residuals: np.ndarray, inliers: np.ndarray, model: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return a fitted mapping, or the plain shift when its other terms are not significant.

    Window shifts on real pairs scatter by a tenth of a pixel or two; a similarity fitted to
    them finds a rotation and a scale that are not there, and those move the overlap's corners
    by a pixel or more. The fitted terms beyond a shift are kept only when there are at least
    twice as many inlier windows as parameters and an F test on them says the terms explain
    the shifts (variance ratio above `F_CRITICAL`).

    Parameters
    ----------
    points : (N, 2) float ndarray
        Window centres ``(col, row)``.
    matrix : (3, 3) float ndarray
        The fitted mapping (BEFORE pixel -> AFTER pixel).
    residuals : (N, 2) float ndarray
        Each window's measured shift minus the mapping's.
    inliers : (N,) bool ndarray
        The windows the mapping was fitted to.
    model : {"shift", "similarity", "affine"}
        What ``matrix`` is.

    Returns
    -------
    matrix : (3, 3) float64 ndarray
        ``matrix`` itself, or the mean shift of the inliers.
    residuals : (N, 2) float ndarray
        The windows' shifts minus the returned mapping's.
    """
    extra = REGISTRATION_MODELS[model] - 2
    n = int(inliers.sum())
    if extra == 0 or n == 0:
        return matrix, residuals
    points = np.asarray(points, np.float64)
    absolute = (points @ matrix[:2, :2].T + matrix[:2, 2]) - points + residuals
    t = absolute[inliers].mean(axis=0)
    dof = 2 * n - REGISTRATION_MODELS[model]
    if n >= 2 * REGISTRATION_MODELS[model]:  # fewer windows than that fit anything
        rss_model = float(np.sum(residuals[inliers] ** 2))
        rss_shift = float(np.sum((absolute[inliers] - t) ** 2))
        ratio = ((rss_shift - rss_model) / extra) / max(rss_model / dof, 1e-12)
        if ratio > F_CRITICAL:
            return matrix, residuals
    return np.array([[1.0, 0, t[0]], [0, 1.0, t[1]], [0, 0, 1.0]]), absolute - t


def fit_model(
    points: np.ndarray, shifts: np.ndarray, *, model: str, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Fit a robust mapping ``p -> p + shift`` to window centres and their measured shifts.

    Parameters
    ----------
    points : (N, 2) float ndarray
        Window centres ``(col, row)``.
    shifts : (N, 2) float ndarray
        Measured ``(dx, dy)`` per window.
    model : {"shift", "similarity", "affine"}
        Similarity is shift + rotation + uniform scale.
    threshold : float
        RANSAC inlier distance in pixels.

    Returns
    -------
    matrix : (3, 3) float64 ndarray
        The fitted mapping in the points' coordinates.
    inliers : (N,) bool ndarray
    """
    points = np.asarray(points, dtype=np.float64)
    shifts = np.asarray(shifts, dtype=np.float64)
    n = len(points)
    minimum = {"shift": 1, "similarity": 4, "affine": 6}[model]
    if n >= minimum and model != "shift":
        centre = points.mean(axis=0)
        src = points - centre
        dst = src + shifts
        cv2.setRNGSeed(12345)
        estimate = cv2.estimateAffinePartial2D if model == "similarity" else cv2.estimateAffine2D
        m, inl = estimate(
            src.reshape(-1, 1, 2),
            dst.reshape(-1, 1, 2),
            method=cv2.RANSAC,
            ransacReprojThreshold=threshold,
            maxIters=2000,
            confidence=0.999,
            refineIters=20,
        )
        if m is not None and inl is not None and int(inl.sum()) >= minimum:
            inliers = inl.ravel().astype(bool)
            m = _refit(src[inliers], dst[inliers], model, fallback=m)
            to_c = np.array([[1.0, 0, -centre[0]], [0, 1.0, -centre[1]], [0, 0, 1.0]])
            full = np.vstack([m, [0.0, 0.0, 1.0]])
            return np.linalg.inv(to_c) @ full @ to_c, inliers
    if n == 0:
        return np.eye(3), np.zeros(0, dtype=bool)
    median = np.median(shifts, axis=0)
    inliers = np.hypot(*(shifts - median).T) <= threshold
    if not inliers.any():
        inliers = np.hypot(*(shifts - median).T) <= np.hypot(*(shifts - median).T).min()
    t = shifts[inliers].mean(axis=0)
    return np.array([[1.0, 0, t[0]], [0, 1.0, t[1]], [0, 0, 1.0]]), inliers


def _refit(src: np.ndarray, dst: np.ndarray, model: str, *, fallback: np.ndarray) -> np.ndarray:
    """Least-squares refit on the inliers, in float64 (OpenCV's refinement works in float32)."""
    n = len(src)
    if model == "affine":
        design = np.column_stack([src, np.ones(n)])
        coef, *_ = np.linalg.lstsq(design, dst, rcond=None)
        return coef.T
    # similarity: x' = a x - b y + tx, y' = b x + a y + ty
    design = np.zeros((2 * n, 4))
    design[0::2] = np.column_stack([src[:, 0], -src[:, 1], np.ones(n), np.zeros(n)])
    design[1::2] = np.column_stack([src[:, 1], src[:, 0], np.zeros(n), np.ones(n)])
    (a, b, tx, ty), *_ = np.linalg.lstsq(design, dst.ravel(), rcond=None)
    if not np.isfinite([a, b, tx, ty]).all():
        return fallback
    return np.array([[a, -b, tx], [b, a, ty]])
