"""What the region model sees of a candidate object: size, shape, change, colour and context."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "FEATURES",
    "BoxHypothesis",
    "RegionEvidence",
    "box_area",
    "gradient_correlation",
    "median",
    "percentile",
    "region_features",
]

FEATURES = (
    "log_length_m",  # long side of the oriented box
    "log_width_m",  # short side
    "aspect",  # short / long side
    "fill",  # outline pixels over the oriented box's area
    "evidence",  # share of the changed pixels that are not shadow-coloured
    "box_of_body",  # 1: the box is drawn around the non-shadow change; 0: around everything
    "box_share",  # area of the box over the area of the box of everything
    "piece",  # 1: the box is one separate piece of the non-shadow change
    "fragments",  # log(1 + pieces of non-shadow change)
    "strength_mean",  # log of the mean change strength (1 = threshold)
    "strength_p90",  # log of its 90th percentile
    "strong_share",  # share of the region above the threshold before the structure test
    "rho",  # gradient correlation between the dates over the region
    "balance",  # which date holds the object (> 0: AFTER)
    "contrast_log_ratio",  # log of AFTER over BEFORE contrast to the surroundings
    "energy_log_ratio",  # log of AFTER over BEFORE gradient energy
    "contrast_max",  # log(1 + the larger contrast), in grey levels
    "darkening",  # mean log ratio AFTER / BEFORE over the bands, changed pixels
    "colour_change",  # median of the largest band departure from that mean
    "blue_excess",  # median blue-minus-red log ratio, signed by darkening
    "dark_before",  # log of inside over surroundings grey, BEFORE
    "dark_after",  # same, AFTER
    "ring_rho",  # gradient correlation in a ring around the object (persistent neighbours)
    "ring_energy",  # log(1 + gradient magnitude in that ring)
    "hole_share",  # unchanged share of the object's convex hull (a roof inside a swung shadow)
    "hole_rho",  # gradient correlation between the dates over that hole and its rim
    "hole_step",  # log grey step from the hole to the surroundings, the smaller of both dates
    "two_way",  # the smaller of the shares of changed pixels that darken and that brighten
    "outline_novelty",  # how much of the edge along its outline is in one date only
    "pair_dissimilarity",  # log of how far apart the dates are overall (noise over range)
)


@dataclass(frozen=True)
class RegionEvidence:
    """A candidate object's pixels and measurements, cropped around it.

    Attributes
    ----------
    before, after : (B, h, w) float32 ndarray
        Smoothed bands of both dates.
    grad_before, grad_after : tuple of two (h, w) float32 ndarray
        Sobel x and y gradients of the smoothed grey images.
    grey_before, grey_after : (h, w) float32 ndarray
    strength : (h, w) float32 ndarray
        Change strength (1 = threshold).
    pixels : (h, w) bool ndarray
        The object's changed pixels (shadow included).
    body : (h, w) bool ndarray
        Its non-shadow change.
    filled : (h, w) bool ndarray
        Its pixels with the gaps between fragments closed.
    ring : (h, w) bool ndarray
        Its immediate surroundings.
    pixel_size_m : float
    rho, balance : float
        Gradient correlation between dates and the kind balance (see `extract_regions`).
    contrast : tuple of float
        Contrast to the surroundings in BEFORE and AFTER.
    energy : tuple of float
        Gradient energy (root of the sum of squares) in BEFORE and AFTER.
    dissimilarity : float
        How far apart the two dates are overall: the spread of their differences over the
        scene's range (about 0.01 for frames seconds apart, 0.1 to 0.5 for months apart).
    """

    before: np.ndarray
    after: np.ndarray
    grad_before: tuple[np.ndarray, np.ndarray]
    grad_after: tuple[np.ndarray, np.ndarray]
    grey_before: np.ndarray
    grey_after: np.ndarray
    strength: np.ndarray
    pixels: np.ndarray
    body: np.ndarray
    filled: np.ndarray
    ring: np.ndarray
    pixel_size_m: float
    rho: float
    balance: float
    contrast: tuple[float, float]
    energy: tuple[float, float]
    dissimilarity: float = 0.0


@dataclass(frozen=True)
class BoxHypothesis:
    """One hypothesis of where a candidate object lies.

    Attributes
    ----------
    outline : (h, w) uint8 ndarray
        The pixels its box is drawn around, in the candidate's crop.
    rect : tuple
        Its oriented box, as `cv2.minAreaRect` gives it (pixel indexes of the crop).
    length, width : float
        Sides of the oriented box, in pixels.
    of_body : bool
        Whether ``outline`` is the non-shadow change (else everything, shadow included).
    piece : bool
        Whether ``outline`` is one separate piece of the non-shadow change.
    """

    outline: np.ndarray
    rect: tuple
    length: float
    width: float
    of_body: bool
    piece: bool = False


def median(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """``np.median`` of finite values along ``axis``, without its generic overhead.

    The same values and dtype (the middle value, or the mean of the two middle ones), three to
    four times faster on the small arrays of one object, where `np.median` spends most of its
    time in Python holding the interpreter lock that the other block worker waits for. NaN is
    not looked for (the smoothed bands hold none).
    """
    n = values.shape[axis]
    if n == 0:
        return np.median(values, axis=axis)
    k = n // 2
    if n % 2:
        return np.partition(values, k, axis=axis).take(k, axis=axis)
    middle = np.partition(values, (k - 1, k), axis=axis)
    return (middle.take(k - 1, axis=axis) + middle.take(k, axis=axis)) / 2


def percentile(values: np.ndarray, q: float) -> np.floating:
    """``np.percentile(values, q)`` of a 1-D array of finite values, without its overhead.

    NumPy's default (linear) method, step by step as NumPy does it, so the same value and
    dtype: five times faster on the few hundred values of one object.
    """
    n = values.size
    if n == 0:
        return np.percentile(values, q)
    at = (n - 1) * (q / 100)
    lower = min(math.floor(at), n - 1)
    upper = min(lower + 1, n - 1)
    ordered = np.partition(values, (lower, upper) if upper != lower else lower)
    a, b = ordered[lower], ordered[upper]
    t = at - lower
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def gradient_correlation(grad_before, grad_after, where: np.ndarray) -> tuple[float, float, float]:
    """Correlation of two gradient fields over a mask, and the energy of each.

    Parameters
    ----------
    grad_before, grad_after : tuple of two (h, w) float32 ndarray
        x and y gradients of each date.
    where : (h, w) bool ndarray

    Returns
    -------
    rho : float
        1 when the same edges point the same way in both dates, about 0 when unrelated.
    energy_before, energy_after : float
        Sums of the squared gradient magnitudes.
    """
    (bx, by), (ax, ay) = grad_before, grad_after
    bx, by, ax, ay = bx[where], by[where], ax[where], ay[where]
    sb = float((bx * bx + by * by).sum())
    sa = float((ax * ax + ay * ay).sum())
    return float((bx * ax + by * ay).sum()) / np.sqrt(sb * sa + 1e-12), sb, sa


def box_area(mask: np.ndarray) -> int:
    """Pixels in the axis-aligned bounding box of a mask's set pixels (0 when none)."""
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    return 0 if rows.size == 0 else int((rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1))


def region_features(e: RegionEvidence, boxes: list[BoxHypothesis]) -> np.ndarray:
    """Measure the `FEATURES` of one candidate object for each of its box hypotheses.

    What does not depend on the box is measured once.

    Parameters
    ----------
    e : RegionEvidence
    boxes : list of BoxHypothesis

    Returns
    -------
    (len(boxes), len(FEATURES)) float64 ndarray
    """
    area = max(1, int(e.pixels.sum()))
    body_px = int(e.body.sum())
    pieces = cv2.connectedComponents(e.body.view(np.uint8), connectivity=8)[0] - 1
    strength = e.strength[e.pixels]
    # the surroundings' median grey in each date, measured once for all the ratios to it
    around = (
        (median(e.grey_before[e.ring]), median(e.grey_after[e.ring]))
        if e.ring.any()
        else (None, None)
    )
    level = float(around[0]) if around[0] is not None else 128.0
    offset = np.float32(0.02 * level + 1.0)
    logs = np.log((e.after[:, e.pixels] + offset) / (e.before[:, e.pixels] + offset))
    darkening = logs.mean(axis=0)
    colour = np.abs(logs - darkening).max(axis=0)
    blue = (logs[-1] - logs[0]) * np.sign(darkening) if len(logs) >= 3 else np.zeros(1)
    cb, ca = e.contrast
    eb, ea = e.energy
    shared = {
        "evidence": body_px / area,
        "fragments": np.log1p(pieces),
        "strength_mean": np.log(max(float(strength.mean()), 1e-3)),
        "strength_p90": np.log(max(float(percentile(strength, 90)), 1e-3)),
        "strong_share": float((e.strength[e.filled] > 1.0).mean()),
        "rho": e.rho,
        "balance": e.balance,
        "contrast_log_ratio": np.log((ca + 1.0) / (cb + 1.0)),
        "energy_log_ratio": np.log((ea + 1.0) / (eb + 1.0)),
        "contrast_max": np.log1p(max(ca, cb)),
        "darkening": float(darkening.mean()),
        "colour_change": float(median(colour)),
        "blue_excess": float(median(blue)),
        "dark_before": _darkness(e.grey_before, e.filled, around[0], offset),
        "dark_after": _darkness(e.grey_after, e.filled, around[1], offset),
        "two_way": float(min((darkening < -0.15).mean(), (darkening > 0.15).mean())),
        **_ring_structure(e),
        **_hole_structure(e, around, offset),
        "outline_novelty": _outline_novelty(e),
        "pair_dissimilarity": float(np.log(max(e.dissimilarity, 1e-4))),
    }
    filled_box = max(1, box_area(e.filled))
    rows = []
    for box in boxes:
        values = {
            **shared,
            "log_length_m": np.log(box.length * e.pixel_size_m),
            "log_width_m": np.log(box.width * e.pixel_size_m),
            "aspect": box.width / box.length,
            "fill": int(box.outline.sum()) / (box.length * box.width),
            "box_of_body": float(box.of_body),
            "box_share": box_area(box.outline) / filled_box,
            "piece": float(box.piece),
        }
        rows.append([values[name] for name in FEATURES])
    return np.array(rows, dtype=np.float64).reshape(len(boxes), len(FEATURES))


def _darkness(
    grey: np.ndarray, inside: np.ndarray, around: np.floating | None, offset: float
) -> float:
    """Log of the median grey ``inside`` over ``around``, the surroundings' (0 when None)."""
    if around is None:
        return 0.0
    return float(np.log((median(grey[inside]) + offset) / (around + offset)))


def _ring_structure(e: RegionEvidence) -> dict[str, float]:
    """Gradient correlation and magnitude in a band of about 6 px around the object."""
    outer = cv2.dilate(e.filled.view(np.uint8), np.ones((13, 13), np.uint8)).astype(bool)
    band = outer & ~cv2.dilate(e.filled.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if not band.any():
        return {"ring_rho": 0.0, "ring_energy": 0.0}
    rho, sb, sa = gradient_correlation(e.grad_before, e.grad_after, band)
    return {"ring_rho": rho, "ring_energy": float(np.log1p(np.sqrt(np.sqrt(sb * sa) / band.sum())))}


def _outline_novelty(e: RegionEvidence) -> float:
    """Share of the edge energy along an object's outline that only one date holds (0..1).

    A new building brings its own outline: an edge where there was none. A field that
    turned brown, or a meadow under snow, changes inside boundaries that both dates show.
    Gradients are taken at the larger within a pixel, so that a pixel of misregistration
    does not make an edge new.
    """
    outline = cv2.morphologyEx(e.filled.view(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3)))
    where = outline.astype(bool)
    if not where.any():
        return 0.0
    near = np.ones((3, 3), np.uint8)
    mb = cv2.dilate(cv2.magnitude(*e.grad_before), near)[where]
    ma = cv2.dilate(cv2.magnitude(*e.grad_after), near)[where]
    return float(np.abs(mb - ma).sum() / (mb + ma).sum()) if (mb + ma).any() else 0.0


def _hole_structure(e: RegionEvidence, around: tuple, offset: float) -> dict[str, float]:
    """Measure what lies unchanged inside the convex hull of an object, and if in both dates.

    A shadow that swings with the sun around a building changes in an L or a U around its roof;
    the roof itself, inside the hull, is the same in both dates and stands out from the ground
    in both. A new object changes its whole outline: its hull holds little unchanged ground.
    ``around`` holds the surroundings' median grey in BEFORE and AFTER (None without a ring).
    """
    hull = np.zeros(e.filled.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(cv2.findNonZero(e.filled.view(np.uint8))), 1)
    hole = hull.astype(bool) & ~e.filled
    share = float(hole.sum()) / max(1, int(hull.sum()))
    if not hole.any():
        return {"hole_share": share, "hole_rho": 0.0, "hole_step": 0.0}
    rim = cv2.dilate(hole.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    rho, _, _ = gradient_correlation(e.grad_before, e.grad_after, rim)
    step = min(
        abs(_darkness(e.grey_before, hole, around[0], offset)),
        abs(_darkness(e.grey_after, hole, around[1], offset)),
    )
    return {"hole_share": share, "hole_rho": rho, "hole_step": step}
