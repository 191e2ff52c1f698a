"""Overlap of rotated boxes and non-maximum suppression on them."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from imagery_tool.geometry import counter_clockwise, signed_area

__all__ = ["nms_rotated", "rotated_iou"]


def rotated_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Return the intersection over union of two convex quadrilaterals.

    Parameters
    ----------
    a, b : (4, 2) array_like of float
        Corners ``(x, y)`` in order (either direction).

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> sq = [(0, 0), (2, 0), (2, 2), (0, 2)]
    >>> round(rotated_iou(sq, [(1, 0), (3, 0), (3, 2), (1, 2)]), 3)
    0.333
    """
    pa = np.asarray(a, dtype=np.float32).reshape(4, 2)
    pb = np.asarray(b, dtype=np.float32).reshape(4, 2)
    area_a, area_b = abs(signed_area(pa)), abs(signed_area(pb))
    if area_a <= 0 or area_b <= 0:
        return 0.0
    # quick reject on the axis-aligned bounds
    if (
        pa[:, 0].max() <= pb[:, 0].min()
        or pb[:, 0].max() <= pa[:, 0].min()
        or pa[:, 1].max() <= pb[:, 1].min()
        or pb[:, 1].max() <= pa[:, 1].min()
    ):
        return 0.0
    inter, _ = cv2.intersectConvexConvex(_ccw(pa), _ccw(pb))
    inter = max(float(inter), 0.0)
    return inter / max(area_a + area_b - inter, 1e-12)


def _ccw(poly: np.ndarray) -> np.ndarray:
    """Return the ring counter-clockwise, float32 and contiguous, as OpenCV wants it."""
    return np.ascontiguousarray(counter_clockwise(poly), dtype=np.float32)


def nms_rotated(
    corners: Sequence[np.ndarray], scores: Sequence[float], *, iou: float = 0.3
) -> list[int]:
    """Keep the best-scoring boxes, dropping those that overlap a kept one by more than `iou`.

    A box that mostly holds, or mostly lies inside, a better one (intersection over the smaller
    area above 0.7) is dropped too: a wing or a shadow found on its own under the whole
    aircraft, or the aircraft with its shadow around a well-fitted body.

    Parameters
    ----------
    corners : sequence of (4, 2) ndarray
        The boxes.
    scores : sequence of float
        One per box.
    iou : float, optional
        Overlap above which the weaker box goes.

    Returns
    -------
    list of int
        Indices of the boxes kept, best first.
    """
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    kept: list[int] = []
    polys = [np.asarray(c, dtype=np.float32).reshape(4, 2) for c in corners]
    areas = [abs(signed_area(p)) for p in polys]
    for i in order:
        ok = True
        for j in kept:
            o = rotated_iou(polys[i], polys[j])
            if o > iou:
                ok = False
                break
            if o > 0:
                inter = o * (areas[i] + areas[j]) / (1 + o)
                if inter / max(min(areas[i], areas[j]), 1e-9) > 0.7:
                    ok = False
                    break
        if ok:
            kept.append(int(i))
    return kept
