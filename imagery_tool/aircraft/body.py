"""Segment the aircraft body under a seed point and fit a rotated box along its fuselage."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from imagery_tool.aircraft.types import AIRCRAFT_SIZE_RANGE_M

__all__ = ["BodyFit", "fit_body", "last_rejection"]

_LOCAL = threading.local()


def last_rejection() -> str | None:
    """Why the last `fit_body` call of this thread returned None (None after a fit)."""
    return getattr(_LOCAL, "reason", None)


def _reject(reason: str) -> None:
    _LOCAL.reason = reason
    return None


# Working resolution: the largest plausible aircraft is brought to at most this many pixels,
# which keeps one fit well under a second on a laptop core whatever the tile's GSD.
_WORK_MAX_LEN_PX = 220.0
# A pixel differs from the apron when its colour distance exceeds this many robust sigmas of the
# apron's own texture, and at least this absolute distance (colours scaled to [0, 1]).
_K_SIGMA = 3.0
_MIN_DIFF = 0.07
_MIN_COLOUR_DIFF = 0.03
# Yellow paint: red and green above blue by this much (colours scaled to about [0, 1]).
_YELLOW = 0.18
_MAX_DIFF = 0.2
_MAX_COLOUR_DIFF = 0.1
# Areas told from the apron by colour alone are at least this wide, metres.
_COLOUR_PART_M = 2.0
# Shadow: darker than this fraction of the apron's brightness and nearly colourless.
_SHADOW_RATIO = 0.55
_SHADOW_CHROMA = 0.1
_PENUMBRA_RATIO = 0.7
# Thinnest part of an aircraft seen from above (wing tip chord, nose), metres.
_MIN_PART_M = 2.0
# Painted lines and joints thinner than this are not aircraft parts, metres.
_THIN_M = 1.2
# The narrowest part that still counts toward the length (a fighter radome), metres.
_NOSE_M = 1.0
# Holes in the body up to this size (squared) are filled, metres.
_HOLE_M = 4.0
# Body pieces this close to the clicked one belong to the same aircraft, metres.
_GAP_M = 5.0
# Half-width of the strip along the axis that a dark nose fills, metres.
_NOSE_HALF_M = 0.6
# A run of one width this long at an end of the body is a painted line, metres.
_LINE_RUN_M = 3.0
# Radii (fractions of the largest plausible size) within which the object is looked for.
_RADII = (0.6, 0.42, 0.3)
_SYM_GAIN = 0.05
# Ground units: morphological closing that rejoins wings to the fuselage, metres.
_CLOSE_M = 1.2


@dataclass(frozen=True)
class BodyFit:
    """A rotated box fitted to one aircraft body, in the pixel coordinates of the window given.

    Attributes
    ----------
    corners_px : (4, 2) float64 ndarray
        ``(x, y)`` corners clockwise on screen from the front-left one (edge 0 -> 1 is the nose
        end), the `BoxAnnotation` order.
    center_px : tuple of float
        Box centre ``(x, y)``.
    length_px, width_px : float
        Extent along the fuselage and across it (the span), pixels.
    heading_deg : float
        Direction of the fuselage, degrees clockwise from up (north for a north-up image),
        toward the nose when `nose_known`, in [0, 360).
    nose_known : bool
        Whether the nose end could be told from the tail end.
    score : float
        How aircraft-like the body is, in [0, 1] (mirror symmetry, contrast, compactness).
    mask : (H, W) bool ndarray
        The body pixels on the window's grid.
    """

    corners_px: np.ndarray
    center_px: tuple[float, float]
    length_px: float
    width_px: float
    heading_deg: float
    nose_known: bool
    score: float
    mask: np.ndarray


def _to_float_rgb(image: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the image as (H, W, 3) float32 scaled to about [0, 1] and its raw brightness."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3:
        raise ValueError(f"image must be (H, W) or (H, W, C); got shape {img.shape}")
    img = img[:, :, :3].astype(np.float32)
    if img.shape[2] < 3:
        img = np.repeat(img[:, :, :1], 3, axis=2)
    img[~np.isfinite(img)] = 0
    raw = img.mean(axis=2)
    sel = img[valid] if valid.any() else img.reshape(-1, 3)
    # scale by the bright end only (not stretched between percentiles): contrast is then
    # relative to the scene's brightness, and a flat apron's noise stays small
    hi = float(np.percentile(sel.max(axis=1), 99.5)) if sel.size else 1.0
    out = np.clip(img / max(hi, 1e-6), 0, 1.5)
    return out.astype(np.float32), raw


def _robust_sigma(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    med = np.median(values)
    return float(1.4826 * np.median(np.abs(values - med)))


def _background(rgb: np.ndarray, sel: np.ndarray) -> np.ndarray:
    return np.median(rgb[sel], axis=0) if sel.any() else np.median(rgb.reshape(-1, 3), axis=0)


def _foreground(
    rgb: np.ndarray, raw: np.ndarray, valid: np.ndarray, bg_sel: np.ndarray, gsd: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Body pixels (differ from the apron, not shadow), shadow pixels, and the apron contrast."""
    bg = _background(rgb, bg_sel)
    sel = bg_sel if bg_sel.sum() >= 50 else valid
    # brightness and colour apart: apron texture (stains, joints) is mostly brightness, while
    # paint often differs in colour (blue-grey on beige concrete) by less than stains do in
    # brightness
    lum = rgb.mean(axis=2)
    d_lum = lum - float(np.median(lum[sel]))
    col = rgb - lum[..., None]
    d_col = np.sqrt(((col - (bg - bg.mean())) ** 2).sum(axis=2))
    # capped: a mixed apron (concrete, grass, asphalt) must not hide an aircraft on it
    thr_lum = min(max(_K_SIGMA * _robust_sigma(d_lum[sel]), _MIN_DIFF), _MAX_DIFF)
    thr_col = min(
        max(_K_SIGMA * _robust_sigma(d_col[sel]) + float(np.median(d_col[sel])), _MIN_COLOUR_DIFF),
        _MAX_COLOUR_DIFF,
    )
    by_lum = np.abs(d_lum) > thr_lum
    by_col = (d_col > thr_col) & ~by_lum
    fg = (by_lum | by_col) & valid
    # yellow guide lines (ICAO taxiway and stand markings) run into parked aircraft along the
    # fuselage; thin yellow is paint on the ground, broad yellow may be the aircraft
    yellow = (np.minimum(rgb[..., 0], rgb[..., 1]) - rgb[..., 2]) > _YELLOW
    if yellow.any():
        k = max(int(round(_COLOUR_PART_M / gsd)), 3)
        broad = cv2.morphologyEx(yellow.astype(np.uint8), cv2.MORPH_OPEN,
                                 cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))  # fmt: skip
        line = cv2.dilate((yellow & (broad == 0)).astype(np.uint8), np.ones((3, 3), np.uint8))
        fg &= line == 0
    thr = thr_lum
    raw_bg = float(np.median(raw[bg_sel])) if bg_sel.any() else float(np.median(raw))
    chroma = rgb.max(axis=2) - rgb.min(axis=2)
    bg_chroma = float(bg.max() - bg.min())
    grey = chroma < _SHADOW_CHROMA + bg_chroma
    core = fg & (raw < _SHADOW_RATIO * raw_bg) & grey
    # the penumbra: shadow-like pixels next to the core
    near = cv2.dilate(core.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    shadow = core | (near & fg & grey & (raw < _PENUMBRA_RATIO * raw_bg))
    return fg & ~shadow, shadow, thr


def _component_near(mask: np.ndarray, seed: tuple[float, float], reach: float) -> np.ndarray:
    """Return the component of `mask` holding the seed, else the nearest within reach."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(mask)
    h, w = mask.shape
    sx, sy = int(np.clip(round(seed[0]), 0, w - 1)), int(np.clip(round(seed[1]), 0, h - 1))
    lab = labels[sy, sx]
    if lab == 0:
        r = int(math.ceil(reach))
        y0, y1, x0, x1 = max(sy - r, 0), min(sy + r + 1, h), max(sx - r, 0), min(sx + r + 1, w)
        sub = labels[y0:y1, x0:x1]
        ys, xs = np.nonzero(sub)
        if ys.size == 0:
            return np.zeros_like(mask)
        d2 = (ys + y0 - sy) ** 2 + (xs + x0 - sx) ** 2
        # prefer big pieces: a speck next to the click is not the aircraft
        areas = stats[sub[ys, xs], cv2.CC_STAT_AREA]
        cost = d2 - 4.0 * areas
        i = int(np.argmin(cost))
        if d2[i] > reach * reach:
            return np.zeros_like(mask)
        lab = sub[ys[i], xs[i]]
    return labels == lab


def _rotate_about(mask: np.ndarray, centre: tuple[float, float], angle_deg: float, size: int):
    """Rotate a float mask so that direction `angle_deg` (image x towards y) becomes +x."""
    m = cv2.getRotationMatrix2D(centre, angle_deg, 1.0)
    m[0, 2] += size / 2 - centre[0]
    m[1, 2] += size / 2 - centre[1]
    return cv2.warpAffine(mask, m, (size, size), flags=cv2.INTER_LINEAR)


def _symmetry(rot: np.ndarray) -> float:
    """Overlap of a rotated mask with its mirror image about the middle row, in [0, 1]."""
    total = float(rot.sum())
    if total <= 0:
        return 0.0
    return float(np.minimum(rot, rot[::-1, :]).sum()) / total


def _mirror_fill(
    rot: np.ndarray, rot_shadow: np.ndarray, *, max_shift: int
) -> tuple[np.ndarray, int]:
    """Add the shadow pixels whose mirror image about the fuselage axis is body.

    `rot` is the body rotated so that the fuselage runs along the rows; the axis may sit a
    little off the middle row (the centroid of a body missing one side is off the axis), so
    the mirror line that makes the result most symmetric is used. Returns the mask and the
    mirror line's shift ``d``: the axis is at row ``(size - 1 + d) / 2``.
    """
    if not rot_shadow.any():
        return rot, 0
    flip = rot[::-1]
    best, best_score, best_d = rot, -1.0, 0
    for d in range(-max_shift, max_shift + 1):
        comb = rot | (rot_shadow & np.roll(flip, d, axis=0))
        total = comb.sum()
        if total == 0:
            continue
        score = float((comb & np.roll(comb[::-1], d, axis=0)).sum()) / float(total)
        if score > best_score:
            best, best_score, best_d = comb, score, d
    return best, best_d


def _extend_along_axis(
    rot: np.ndarray, rot_shadow: np.ndarray, *, axis_row: float, gsd: float
) -> np.ndarray:
    """Extend the body along its axis over dark pixels centred on the axis (a dark nose).

    A radome or a dark-painted nose is as dark as shadow, but it straddles the axis evenly; a
    fuselage's shadow falls to one side of it.
    """
    size = rot.shape[0]
    hw = max(int(round(_NOSE_HALF_M / gsd)), 1)
    a = int(round(axis_row))
    if a - hw < 0 or a + hw + 1 > size:
        return rot
    cols = np.nonzero(rot.any(axis=0))[0]
    if cols.size == 0:
        return rot
    above = (rot | rot_shadow)[a - hw : a, :].mean(axis=0)
    below = (rot | rot_shadow)[a + 1 : a + hw + 1, :].mean(axis=0)
    ok = (above >= 0.6) & (below >= 0.6)
    out = rot.copy()
    limit = max(int(0.4 * (cols[-1] - cols[0])), 1)
    for start, step in ((cols[0] - 1, -1), (cols[-1] + 1, 1)):
        c, misses, n = start, 0, 0
        while 0 <= c < size and n < limit:
            if ok[c]:
                out[a - hw : a + hw + 1, c] |= rot_shadow[a - hw : a + hw + 1, c]
                misses = 0
            else:
                misses += 1
                if misses > 1:
                    break
            c += step
            n += 1
    return out


def _pieces_near(
    mask: np.ndarray, seed: tuple[float, float], *, reach: float, gap: float
) -> np.ndarray:
    """Return the piece at the seed and the sizeable pieces within `gap` pixels of it.

    A fuselage's shadow can cut a wing off the body; the pieces stay one aircraft.
    """
    main = _component_near(mask, seed, reach)
    if not main.any():
        return main
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    dist = cv2.distanceTransform((~main).astype(np.uint8), cv2.DIST_L2, 3)
    main_area = int(main.sum())
    out = main.copy()
    for i in range(1, n):
        area = stats[i, cv2.CC_STAT_AREA]
        if area < 0.03 * main_area:
            continue
        piece = labels == i
        if dist[piece].min() <= gap:
            out |= piece
    return out


def _small_holes(mask: np.ndarray, *, max_area: float) -> np.ndarray:
    """Return the holes of `mask` smaller than `max_area` pixels (cockpit glass, roundels)."""
    inv = (~mask).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    h, w = mask.shape
    out = np.zeros_like(mask)
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area <= max_area and x > 0 and y > 0 and x + bw < w and y + bh < h:
            out |= labels == i
    return out


def fg_or_hole(fg: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """Return pixels that differ from the apron or fill a small hole."""
    return fg | holes


def _span_of(keep: np.ndarray, gap: float) -> np.ndarray:
    """Return the indices of the longest run of True, allowing gaps up to `gap` bins."""
    idx = np.nonzero(keep)[0]
    if idx.size == 0:
        return idx
    breaks = np.nonzero(np.diff(idx) > gap)[0]
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [idx.size - 1]])
    i = int(np.argmax(idx[ends] - idx[starts]))
    return idx[starts[i] : ends[i] + 1]


def _trim_lines(counts: np.ndarray, cols: np.ndarray, *, run: float, below: float) -> np.ndarray:
    """Drop a painted line running on from either end of the body along its axis.

    A line keeps one width over metres; a nose or tail cone narrows steadily.
    """
    if cols.size == 0:
        return cols
    first, last = int(cols[0]), int(cols[-1])
    for _ in range(2):
        for end in ("first", "last"):
            i = first if end == "first" else last
            step = 1 if end == "first" else -1
            base = counts[i]
            if base >= below:
                continue
            j, lo, hi = i, int(base), int(base)
            while first <= j <= last and counts[j] < below:
                lo, hi = min(lo, int(counts[j])), max(hi, int(counts[j]))
                if hi - lo > max(1.0, 0.4 * hi):
                    break
                j += step
            if abs(j - i) >= run:
                if end == "first":
                    first = j
                else:
                    last = j
    return cols[(cols >= first) & (cols <= last)]


def _best_axis(mask: np.ndarray) -> tuple[float, float, tuple[float, float], int]:
    """Return the axis of best mirror symmetry (degrees), its score, the centroid, the size."""
    ys, xs = np.nonzero(mask)
    cx, cy = float(xs.mean()), float(ys.mean())
    ext = math.hypot(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    size = int(ext + 8)
    fm = mask.astype(np.float32)
    # the mirror line passes through the centroid; coarse sweep then refine
    angles = np.arange(0.0, 180.0, 4.0)
    scores = [_symmetry(_rotate_about(fm, (cx, cy), a, size)) for a in angles]
    best = float(angles[int(np.argmax(scores))])
    for step in (1.0, 0.25):
        cand = best + np.arange(-4, 5) * step
        sc = [_symmetry(_rotate_about(fm, (cx, cy), a, size)) for a in cand]
        best = float(cand[int(np.argmax(sc))])
    # the symmetry axis is the fuselage; the perpendicular (wing) axis can score nearly as high
    # for cross-shaped planforms, so compare both in terms of extent profile below
    sym = _symmetry(_rotate_about(fm, (cx, cy), best, size))
    return best % 180.0, sym, (cx, cy), size


def _nose_end(profile: np.ndarray) -> int:
    """+1 when the nose is at the +u end of the width profile, -1 at the -u end, 0 when unsure.

    The tailplane is a second, narrower width peak at the very end, past a dip in the width.
    Where the wing sits is no guide (airliners' wings are ahead of the middle, a delta's
    widest point is behind it), so without a tailplane the nose is unknown.
    """
    n = profile.size
    if n < 8 or profile.max() <= 0:
        return 0
    w = np.convolve(profile, np.ones(3) / 3, mode="same")
    peak = int(np.argmax(w))
    wmax = w[peak]
    # secondary peak in the end quarter away from the main peak, separated by a dip
    q = max(n // 4, 2)
    for end, sl in ((-1, slice(0, q)), (+1, slice(n - q, n))):
        seg = w[sl]
        if seg.size == 0:
            continue
        i = int(np.argmax(seg)) + sl.start
        if abs(i - peak) < n * 0.3:
            continue
        lo, hi = sorted((i, peak))
        dip = w[lo : hi + 1].min()
        near_end = (i < 0.12 * n) if end < 0 else (i > 0.88 * n)
        if near_end and 0.25 * wmax < w[i] < 0.8 * wmax and dip < 0.7 * w[i]:
            return -end  # tail at this end: nose at the other
    return 0


def fit_body(
    image: np.ndarray,
    seed_xy: tuple[float, float],
    *,
    gsd_m: float,
    length_range_m: tuple[float, float] = AIRCRAFT_SIZE_RANGE_M,
    mask: np.ndarray | None = None,
) -> BodyFit | None:
    """Segment the aircraft body at (or nearest to) a seed point and fit a rotated box to it.

    The apron's colour is taken around the object; pixels that differ from it are the object,
    except cast shadow (darker than the apron and colourless), so bright and dark aircraft are
    both found. The box's long axis is the body's axis of mirror symmetry (the fuselage), not
    the minimum-area rectangle, which can lock onto a wing diagonal; length runs along it and
    span across it. The nose end is told from the tailplane (a second, narrower width peak at
    one end); otherwise ``nose_known`` is False.

    Parameters
    ----------
    image : (H, W) or (H, W, C) ndarray
        The window, any dtype; the first three bands are taken as red, green, blue.
    seed_xy : tuple of float
        The click ``(x, y)`` in the window's pixels.
    gsd_m : float
        Ground size of one pixel, metres.
    length_range_m : tuple of float, optional
        Plausible overall size (the larger of length and span), metres.
    mask : (H, W) bool ndarray, optional
        True where the window holds data; other pixels are never part of the body.

    Returns
    -------
    BodyFit or None
        None when nothing aircraft-like is there (nothing differs from the apron, the object is
        outside the size range, or it is not compact and symmetric).

    Examples
    --------
    >>> import numpy as np
    >>> fit_body(np.full((100, 100, 3), 120, np.uint8), (50, 50), gsd_m=0.5) is None
    True
    """
    _LOCAL.reason = None
    if not (gsd_m > 0 and math.isfinite(gsd_m)):
        raise ValueError(f"gsd_m must be a positive number of metres; got {gsd_m!r}")
    lo_m, hi_m = (float(v) for v in length_range_m)
    if not (0 < lo_m < hi_m):
        raise ValueError(
            f"length_range_m must be (min, max) with 0 < min < max; got {length_range_m}"
        )
    img = np.asarray(image)
    h0, w0 = img.shape[:2]
    valid = np.ones((h0, w0), bool) if mask is None else np.asarray(mask, bool)
    # work at a resolution where the largest plausible aircraft is at most _WORK_MAX_LEN_PX
    scale = min(1.0, _WORK_MAX_LEN_PX / (hi_m / gsd_m))
    if scale < 1.0:
        size = (max(int(round(w0 * scale)), 1), max(int(round(h0 * scale)), 1))
        img = cv2.resize(img.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        valid = cv2.resize(valid.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    sx, sy = (seed_xy[0] * img.shape[1] / w0, seed_xy[1] * img.shape[0] / h0)
    gsd = gsd_m * w0 / img.shape[1]
    lo_px, hi_px = lo_m / gsd, hi_m / gsd
    rgb, raw = _to_float_rgb(img, valid)
    h, w = raw.shape
    yy, xx = np.mgrid[0:h, 0:w]
    dist = np.hypot(xx + 0.5 - sx, yy + 0.5 - sy)

    def attempt(radius: float):
        # pass 1: apron = the window away from the click; pass 2: a ring just outside the object
        bg_sel = valid & (dist > 0.3 * hi_px) & (dist < 0.7 * hi_px)
        if bg_sel.sum() < 200:
            bg_sel = valid & (dist > 0.25 * min(h, w))
        blob = None
        close_px = max(int(round(_CLOSE_M / gsd)), 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * close_px + 1, 2 * close_px + 1))
        t = max(int(round(_THIN_M / gsd)), 2)
        thin = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (t, t))
        for _ in range(2):
            fg, shadow, thr = _foreground(rgb, raw, valid, bg_sel, gsd)
            # the object with its shadow is one blob; the body is that blob without the shadow
            # (the shadow of a fuselage can cut the body in two, so its pieces stay together)
            # painted lines and joints are thinner than any part of an aircraft: opened away
            fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, thin) > 0
            blob = (fg | shadow).astype(np.uint8)
            blob = cv2.morphologyEx(blob, cv2.MORPH_CLOSE, kernel) > 0
            blob &= valid & (dist < radius)
            blob = _component_near(blob, (sx, sy), reach=max(0.2 * hi_px, 0.5 * lo_px))
            if not blob.any():
                return _reject("nothing there differs from the apron")
            ys, xs = np.nonzero(blob)
            r_obj = float(np.sqrt(((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2).max())) + 1
            ring = (dist > r_obj * 1.3 + 2) & (dist < r_obj * 2.2 + 6) & ~(fg | shadow) & valid
            if ring.sum() < 100:
                break
            bg_sel = ring
        assert blob is not None
        # fill holes (dark cockpit glass, roundels), then drop the shadow and specks
        holes = _small_holes(blob, max_area=(_HOLE_M / gsd) ** 2)
        filled = blob | holes
        body = filled & ~shadow & fg_or_hole(fg, holes)
        body = cv2.morphologyEx(body.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        body = _pieces_near(body > 0, (sx, sy), reach=max(0.2 * hi_px, 0.5 * lo_px),
                            gap=_GAP_M / gsd)  # fmt: skip
        if not body.any():
            return _reject("no body left once its shadow is set apart")
        area = int(body.sum())
        if area < 0.05 * lo_px * lo_px:
            return _reject("the object is too small for an aircraft")

        # The axis from the aircraft with its shadow: a symmetric body and its shifted copy are
        # symmetric about a line parallel to the fuselage, whichever way the sun shifts it, and
        # dark paint taken for shadow (or shadow for paint) does not change their union.
        union = body | (shadow & blob)
        angle_u, sym_u, _, _ = _best_axis(union)
        angle, sym, (cx, cy), size = _best_axis(body)
        if sym_u > sym:
            angle, sym = angle_u, sym_u
        rot = _rotate_about(body.astype(np.float32), (cx, cy), angle, size) > 0.5
        # dark paint next to the shadow is taken for shadow; the body's mirror image gives it back
        rot_shadow = _rotate_about((shadow & blob).astype(np.float32), (cx, cy), angle, size) > 0.5
        rot, d = _mirror_fill(rot, rot_shadow, max_shift=int(0.15 * size))
        rot = _extend_along_axis(rot, rot_shadow, axis_row=(size - 1 + d) / 2, gsd=gsd)
        area = int(rot.sum())
        # extents where the body is at least _MIN_PART_M thick: painted lines and joints that
        # touch the body are thinner than any wing chord or fuselage
        # parts thinner than about half the fuselage (measured between the wing and the tail) are
        # painted lines or joints running into the body, not the aircraft
        counts = rot.sum(axis=0)
        thick = np.nonzero(counts >= _MIN_PART_M / gsd)[0]
        min_part = max(2.0, _MIN_PART_M / gsd)
        fuselage = 0.0
        if thick.size:
            # the fuselage near the wing: within a third of the span of the widest column
            peak = int(np.argmax(counts))
            reach = max(int(0.35 * counts[peak]), 2)
            core = counts[max(peak - reach, 0) : peak + reach + 1]
            fuselage = float(np.percentile(core[core > 0], 20)) if (core > 0).any() else 0.0
            min_part = max(2.0, min(0.45 * fuselage, _NOSE_M / gsd))
        cols = _span_of(rot.sum(axis=0) >= min_part, _GAP_M / gsd)
        cols = _trim_lines(counts, cols, run=_LINE_RUN_M / gsd, below=0.7 * fuselage)
        rows = _span_of(rot.sum(axis=1) >= min_part, _GAP_M / gsd)
        if cols.size == 0 or rows.size == 0:
            return _reject("no body left once painted lines are set apart")
        u0, u1 = cols[0] - size / 2, cols[-1] + 1 - size / 2
        v0, v1 = rows[0] - size / 2, rows[-1] + 1 - size / 2
        length, width = float(u1 - u0), float(v1 - v0)
        if max(length, width) < lo_px or max(length, width) > hi_px * 1.15:
            return _reject(
                f"the object is {max(length, width) * gsd:.0f} m across, "
                f"outside {lo_m:g}-{hi_m:g} m"
            )
        fill = area / max(length * width, 1.0)
        if fill > 0.92 or sym < 0.35:
            return _reject(
                "the object is not shaped like an aircraft (a solid block or no mirror symmetry)"
            )
        profile = rot.sum(axis=0)[cols[0] : cols[-1] + 1].astype(np.float64)
        nose = _nose_end(profile)
        t = math.radians(angle)
        ax = np.array([math.cos(t), math.sin(t)])  # +u in image coordinates (x, y)
        if nose < 0:
            ax = -ax
            u0, u1 = -u1, -u0
        ay = np.array([-ax[1], ax[0]])  # +v: 90 degrees clockwise on screen from +u
        # box centre: middle of the extents, not the centroid
        uc, vc = (u0 + u1) / 2, (v0 + v1) / 2 if nose >= 0 else -(v0 + v1) / 2
        centre = np.array([cx, cy]) + uc * ax + vc * ay
        f, r = ax * length / 2, ay * width / 2
        corners = np.stack([centre + f - r, centre + f + r, centre - f + r, centre - f - r])
        heading = math.degrees(math.atan2(ax[0], -ax[1])) % 360.0
        contrast = min(1.0, float(thr) / 0.15)
        score = float(np.clip(0.6 * (sym - 0.35) / 0.6 + 0.2 * contrast + 0.2 * (1 - fill), 0, 1))
        # back to the caller's grid
        k = w0 / w
        full_mask = body
        if k != 1.0:
            full_mask = (
                cv2.resize(body.astype(np.uint8), (w0, h0), interpolation=cv2.INTER_NEAREST) > 0
            )
        fit = BodyFit(
            corners_px=corners * k,
            center_px=(float(centre[0] * k), float(centre[1] * k)),
            length_px=length * k,
            width_px=width * k,
            heading_deg=heading,
            nose_known=nose != 0,
            score=score,
            mask=full_mask,
        )
        touches = float((body & (dist > radius - 2)).sum()) > 0.01 * float(body.sum())
        return fit, sym, touches

    # the object is kept within a radius of the click; when it reaches that radius it has run
    # into something (the apron's edge, a building, a neighbour): a tighter radius is tried
    best = None
    for frac in _RADII:
        out = attempt(frac * hi_px)
        if out is None:
            continue
        key = (not out[2], out[1])
        if best is None or key > (not best[2], best[1] + _SYM_GAIN):
            best = out
    if best is None:
        return None
    _LOCAL.reason = None
    return best[0]
