"""Aircraft-like candidates in a window: contrast blobs at aircraft scale, rotated boxes, features.

An aircraft on an apron is a compact, cross-shaped object brighter or darker than the
pavement around it, 8-90 m long. The window's grey level minus a background (a median over a
neighbourhood larger than the longest aircraft, taken on a reduced copy so its cost does not
grow with the GSD) is thresholded at several multiples of its robust spread, for each
polarity; each connected blob of plausible size becomes a candidate, its fuselage axis the
axis of best mirror symmetry, its rotated box the blob's extent along and across that axis.
The features the scorer sees are measured in metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["BLOB_FEATURES", "FEATURE_NAMES", "Candidate", "Prepared", "find_candidates", "grey_of"]

# What the scorer sees of a candidate, in this order (see `Candidate.features`).
FEATURE_NAMES = (
    "log_length_m",
    "log_width_m",
    "span_ratio",
    "fill",
    "solidity",
    "symmetry",
    "contrast",
    "polarity",
    "size_fit",
    "edge_density",
    "threshold_level",
    "body_fit",
    "fit_score",
)
# The first-stage scorer sees the blob features only (no `fit_body` yet).
BLOB_FEATURES = len(FEATURE_NAMES) - 2

_LEVELS = (2.5, 4.0, 6.0)  # thresholds in robust standard deviations of the contrast image
_ANGLES = np.arange(0.0, 180.0, 4.0)


@dataclass(frozen=True)
class Candidate:
    """One aircraft-like blob with its rotated box.

    Attributes
    ----------
    corners_px : (4, 2) float ndarray
        Rotated box ``(x, y)`` in the window's pixels, clockwise from the front-left corner
        (edge 0-1 at one end of the fuselage axis; which end is the nose is not known).
    center_px : tuple of float
        Box centre ``(x, y)``.
    length_px, width_px : float
        Extent along and across the fuselage axis.
    heading_deg : float
        Direction of the fuselage axis, 0 = up (north on a north-up tile), clockwise, in
        [0, 180): the nose end is not told apart from the tail.
    features : (len(FEATURE_NAMES),) float ndarray
        Shape and contrast features, sizes in metres.
    """

    corners_px: np.ndarray
    center_px: tuple[float, float]
    length_px: float
    width_px: float
    heading_deg: float
    features: np.ndarray


def grey_of(pixels: np.ndarray) -> np.ndarray:
    """Return the mean of the bands scaled to [0, 255].

    Parameters
    ----------
    pixels : (B, H, W) ndarray
        Any dtype; integer images are scaled by their bit depth's range seen in the data.

    Returns
    -------
    grey : (H, W) float32 ndarray
    """
    grey = pixels.astype(np.float32).mean(axis=0)
    if pixels.dtype != np.uint8:
        hi = float(np.percentile(grey, 99.9)) if grey.size else 1.0
        grey *= 255.0 / max(hi, 1e-6)
    return grey


def _background(grey: np.ndarray, scale_px: float) -> np.ndarray:
    """Median of `grey` over about `scale_px` pixels, computed on a reduced copy."""
    h, w = grey.shape
    factor = max(1.0, scale_px / 24.0)  # the median kernel spans ~49 reduced pixels
    small = cv2.resize(
        np.clip(grey, 0, 255).astype(np.uint8),
        (max(1, round(w / factor)), max(1, round(h / factor))),
        interpolation=cv2.INTER_AREA,
    )
    k = min(49, 2 * (min(small.shape) // 2) - 1)
    med = cv2.medianBlur(small, k) if k >= 3 else small
    return cv2.resize(med, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def _shadow(pixels: np.ndarray, grey: np.ndarray, diff: np.ndarray) -> np.ndarray:
    """Cast-shadow pixels: much darker than the local background and colourless."""
    bg = np.maximum(grey - diff, 1.0)
    ratio = grey / bg
    if pixels.shape[0] >= 3:
        bands = pixels[:3].astype(np.float32) * (
            255.0 / max(float(grey.max()), 1.0) if pixels.dtype != np.uint8 else 1.0
        )
        chroma = bands.max(axis=0) - bands.min(axis=0)
        colourless = chroma < 0.2 * 255 * 0.5 + float(np.median(chroma))
    else:
        colourless = np.ones(grey.shape, bool)
    core = (ratio < 0.6) & colourless
    near = cv2.dilate(core.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return core | (near & colourless & (ratio < 0.8))


_SHIFT_DIRECTIONS = np.radians(np.arange(0.0, 360.0, 22.5))
_SHIFT_FRACTIONS = (0.06, 0.1, 0.15, 0.2, 0.27, 0.35)


def _without_shadow(blob: np.ndarray, z: np.ndarray, level: float) -> np.ndarray | None:
    """Return the object part of an object-with-shadow blob, or None when no shadow is found.

    A cast shadow is the silhouette moved by a vector ``v`` away from the sun: the blob is
    ``B | (B + v)``, so ``B`` lies inside ``blob & (blob - v)``. Over directions and lengths of
    ``v`` (a fraction of the blob's size), the one kept removes the most dark pixels and the
    fewest others: the sum over the removed pixels of ``-z - level``.
    """
    h, w = blob.shape
    size = max(h, w)
    best, best_gain = None, 0.0
    gain_map = -z - level  # removing a dark pixel gains, removing anything else costs
    for t in _SHIFT_DIRECTIONS:
        for f in _SHIFT_FRACTIONS:
            dx, dy = round(f * size * math.cos(t)), round(f * size * math.sin(t))
            if dx == 0 and dy == 0:
                continue
            moved = np.zeros_like(blob)  # blob - v: pixel p is kept when p + v is in the blob
            ys0, ys1 = max(0, -dy), min(h, h - dy)
            xs0, xs1 = max(0, -dx), min(w, w - dx)
            if ys1 <= ys0 or xs1 <= xs0:
                continue
            moved[ys0:ys1, xs0:xs1] = blob[ys0 + dy : ys1 + dy, xs0 + dx : xs1 + dx]
            removed = blob & ~moved
            gain = float(gain_map[removed].sum())
            if gain > best_gain:
                best_gain, best = gain, blob & moved
    if best is None or best.sum() < 0.25 * blob.sum():
        return None
    return best


class Prepared:
    """One window made ready for candidates: contrast in robust sigmas, edges, shadows.

    Parameters
    ----------
    pixels : (B, H, W) ndarray
        The window's bands.
    valid : (H, W) bool ndarray, optional
        True where the window holds data.
    gsd_m : float
        Ground size of a pixel in metres.
    length_range_m : tuple of float, optional
        Shortest and longest aircraft sought (the long side of the box), metres.
    size_fit : callable, optional
        ``size_fit(length_m, width_m) -> float`` in [0, 1], how well the size matches a known
        aircraft type; 0.5 for every candidate when not given.
    """

    def __init__(
        self,
        pixels: np.ndarray,
        valid: np.ndarray | None = None,
        *,
        gsd_m: float,
        length_range_m: tuple[float, float] = (8.0, 90.0),
        size_fit=None,
    ) -> None:
        if gsd_m <= 0 or not math.isfinite(gsd_m):
            raise ValueError(f"gsd_m={gsd_m}; the pixel size must be a positive number of metres")
        self.gsd_m = float(gsd_m)
        self.length_range_m = length_range_m
        self.size_fit = size_fit
        grey = grey_of(pixels)
        if valid is not None:
            fill = float(np.median(grey[valid])) if valid.any() else 0.0
            grey = np.where(valid, grey, fill).astype(np.float32)
        self.hi_px = length_range_m[1] / gsd_m
        diff = grey - _background(grey, 1.5 * self.hi_px)
        # contrast in units of the local clutter (a median of |diff| over the same scale), so
        # that grass, roofs and building shadows elsewhere in the window do not drown an
        # aircraft on smooth pavement; never below 2 grey levels (sensor noise)
        local = 1.4826 * _background(np.abs(diff), 1.5 * self.hi_px)
        self.z = diff / np.maximum(local, 2.0)
        if valid is not None:
            self.z[~valid] = 0.0
        self.edges = cv2.Canny(np.clip(grey, 0, 255).astype(np.uint8), 40, 100) > 0
        self.shadow = _shadow(pixels, grey, diff)

    def blobs(self) -> list[Candidate]:
        """Candidates from thresholded contrast blobs, each polarity and level."""
        gsd_m = self.gsd_m
        lo_m = self.length_range_m[0]
        close_px = max(1, round(1.0 / gsd_m))  # bridge cockpit frames, engines: ~1 m
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * close_px + 1, 2 * close_px + 1))
        thin_px = max(1, round(0.6 / gsd_m))  # lines up to ~1 m wide go, fuselages stay
        thin = cv2.getStructuringElement(cv2.MORPH_RECT, (thin_px + 1, thin_px + 1))
        out: list[Candidate] = []
        min_area_px = 0.1 * (lo_m / gsd_m) ** 2
        z = self.z
        for polarity in (1.0, -1.0, 0.0, 2.0):
            for level in _LEVELS:
                signed = polarity * z if abs(polarity) == 1.0 else np.abs(z)
                mask = signed > level
                if polarity == 2.0:  # the object without its cast shadow
                    mask &= ~self.shadow
                mask = mask.astype(np.uint8)
                mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, thin)  # painted lines
                mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
                n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
                for i in range(1, n):
                    x, y, w, h, area = (int(v) for v in stats[i])
                    if area < min_area_px or math.hypot(w, h) < 0.6 * lo_m / gsd_m:
                        continue
                    if max(w, h) > 1.3 * self.hi_px:
                        continue
                    blob = labels[y : y + h, x : x + w] == i
                    cand = self.describe(blob, (x, y), polarity=polarity, level=level)
                    if cand is not None:
                        out.append(cand)
                    if polarity == 0.0:  # object and shadow: also the object alone
                        body = _without_shadow(blob, z[y : y + h, x : x + w], level)
                        if body is not None:
                            cand = self.describe(body, (x, y), polarity=3.0, level=level)
                            if cand is not None:
                                out.append(cand)
        return out

    def describe(
        self,
        blob: np.ndarray,
        origin: tuple[int, int],
        *,
        polarity: float,
        level: float,
        box: tuple[float, float, float, float, float] | None = None,
        fit_score: float | None = None,
    ) -> Candidate | None:
        """Candidate of a blob: its own symmetry-axis box, or `box` when given.

        Parameters
        ----------
        blob : (h, w) bool ndarray
            The object's pixels, its top-left at `origin` ``(x, y)`` in the window.
        polarity, level : float
            How the blob was found (recorded as features).
        box : tuple of float, optional
            ``(center_x, center_y, length_px, width_px, heading_deg)`` in the window, from
            `body.fit_body`; None fits the box here.
        fit_score : float, optional
            `fit_body`'s own score, with `box`.

        Returns
        -------
        Candidate or None
            None when the blob is outside the size range.
        """
        x, y = origin
        h, w = blob.shape
        return _fit(
            blob, origin, self.z[y : y + h, x : x + w], self.edges[y : y + h, x : x + w],
            gsd_m=self.gsd_m, polarity=polarity, level=level, size_fit=self.size_fit,
            length_range_m=self.length_range_m, box=box, fit_score=fit_score,
        )  # fmt: skip


def find_candidates(
    pixels: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    gsd_m: float,
    length_range_m: tuple[float, float] = (8.0, 90.0),
    size_fit=None,
) -> list[Candidate]:
    """Find aircraft-like blobs in one window (`Prepared.blobs`).

    Parameters
    ----------
    pixels, valid, gsd_m, length_range_m, size_fit
        As `Prepared`.

    Returns
    -------
    list of Candidate
        In no particular order; the same aircraft may appear at several threshold levels.
    """
    return Prepared(
        pixels, valid, gsd_m=gsd_m, length_range_m=length_range_m, size_fit=size_fit
    ).blobs()


def _fit(
    blob: np.ndarray,
    origin: tuple[int, int],
    z: np.ndarray,
    edges: np.ndarray,
    *,
    gsd_m: float,
    polarity: float,
    level: float,
    size_fit,
    length_range_m: tuple[float, float],
    box: tuple[float, float, float, float, float] | None = None,
    fit_score: float | None = None,
) -> Candidate | None:
    """Rotated box and features of one blob (window-relative offset `origin`)."""
    ys, xs = np.nonzero(blob)
    if xs.size < 8:
        return None
    px = xs.astype(np.float64) + 0.5
    py = ys.astype(np.float64) + 0.5
    cx, cy = px.mean(), py.mean()
    dx, dy = px - cx, py - cy
    best = None
    h, w = blob.shape
    side = int(math.ceil(math.hypot(h, w))) + 3
    angles = _ANGLES if box is None else (float(box[4]),)
    for ang in angles:
        # axis direction: heading `ang` clockwise from up -> (sin, -cos) in (x, y) pixels
        t = math.radians(ang)
        ux, uy = math.sin(t), -math.cos(t)
        u = dx * ux + dy * uy
        v = dx * -uy + dy * ux  # across the axis
        # mirror symmetry: occupancy histogram vs its mirror across the axis (1-px bins)
        iu = np.clip(np.round(u).astype(np.int64) + side, 0, 2 * side)
        iv = np.clip(np.round(v).astype(np.int64) + side, 0, 2 * side)
        occ = np.zeros((2 * side + 1, 2 * side + 1), np.float32)
        occ[iu, iv] = 1.0
        occ = cv2.blur(occ, (3, 3))
        sym = float((occ * occ[:, ::-1]).sum() / max((occ * occ).sum(), 1e-9))
        if best is None or sym > best[0]:
            best = (sym, ang, u, v)
    sym, ang, u, v = best
    u0, u1 = np.percentile(u, [0.5, 99.5])
    v0, v1 = np.percentile(v, [0.5, 99.5])
    length = float(u1 - u0) + 1.0
    width = float(v1 - v0) + 1.0
    uc, vc = (u0 + u1) / 2, (v0 + v1) / 2
    t = math.radians(ang)
    ux, uy = math.sin(t), -math.cos(t)
    vx, vy = -uy, ux
    ox, oy = origin
    ccx = ox + cx + uc * ux + vc * vx
    ccy = oy + cy + uc * uy + vc * vy
    if box is not None:
        ccx, ccy, length, width = box[0], box[1], float(box[2]), float(box[3])
    half_l, half_w = length / 2, width / 2
    # clockwise on screen from the front-left corner: front = +u end
    corners = np.array(
        [
            (ccx + half_l * ux - half_w * vx, ccy + half_l * uy - half_w * vy),
            (ccx + half_l * ux + half_w * vx, ccy + half_l * uy + half_w * vy),
            (ccx - half_l * ux + half_w * vx, ccy - half_l * uy + half_w * vy),
            (ccx - half_l * ux - half_w * vx, ccy - half_l * uy - half_w * vy),
        ]
    )
    long_m = max(length, width) * gsd_m
    if long_m < length_range_m[0] * 0.6 or long_m > length_range_m[1] * 1.3:
        return None
    area = float(xs.size)
    hull = cv2.convexHull(np.column_stack([xs, ys]).astype(np.int32))
    hull_area = max(float(cv2.contourArea(hull)), 1.0)
    contrast = float(np.abs(z[blob]).mean())
    ring = cv2.dilate(blob.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    edge_density = float(edges[ring].mean()) if ring.any() else 0.0
    length_m, width_m = length * gsd_m, width * gsd_m
    fit = 0.5 if size_fit is None else float(size_fit(length_m, width_m))
    features = np.array(
        [
            math.log(length_m),
            math.log(width_m),
            width_m / length_m,
            area / (length * width),
            area / hull_area,
            sym,
            math.log1p(contrast),
            polarity,
            fit,
            edge_density,
            level,
            0.0 if box is None else 1.0,
            0.0 if fit_score is None else float(fit_score),
        ],
        dtype=np.float64,
    )
    return Candidate(
        corners_px=corners,
        center_px=(float(ccx), float(ccy)),
        length_px=length,
        width_px=width,
        heading_deg=float(ang % 180.0 if box is None else ang % 360.0),
        features=features,
    )
