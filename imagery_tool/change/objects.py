"""From a block's change pixels to objects: merge fragments, test structure, decide the kind."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from imagery_tool.change.measure import ChangeMaps
from imagery_tool.change.region import ChangeRegion

__all__ = ["RegionRules", "extract_regions"]


@dataclass(frozen=True)
class RegionRules:
    """How change pixels become objects.

    Attributes
    ----------
    min_size_m, max_size_m : float
        Bounds on the long side of an object's oriented box.
    pixel_size_m : float
        Ground size of a pixel.
    merge_m : float
        Fragments closer than this merge into one object.
    open_px : int
        Side of the opening that removes specks and thin rims (0: none).
    structure_max : float
        Objects whose gradient field correlates above this between the dates are the same
        structure seen differently (a new sun angle) and are dropped (1.0: never).
    kind_margin : float
        How much more structure/contrast one date must hold to call the change appeared or
        disappeared rather than changed.
    min_evidence : float
        Share of an object's pixels that must be changes other than shadows (a shadow that
        swings with the sun is not new equipment).
    body_share : float
        The box is drawn around the non-shadow change when its box covers at least this share
        of the whole object's box (else around everything, shadow included).
    small_m : float
        Objects whose box (shadow included) is shorter than this (vehicles) always get the box
        of their own change: their shadow is as large as they are.
    min_aspect : float
        Objects narrower than this share of their length are dropped (vehicles and aircraft
        are not lines).
    """

    min_size_m: float = 3.0
    max_size_m: float = 120.0
    pixel_size_m: float = 0.5
    merge_m: float = 3.0
    open_px: int = 3
    structure_max: float = 0.5
    kind_margin: float = 0.25
    min_evidence: float = 0.1
    body_share: float = 0.5
    small_m: float = 12.0
    min_aspect: float = 0.18


def extract_regions(
    maps: ChangeMaps,
    *,
    core: tuple[int, int, int, int],
    open_edges: tuple[bool, bool, bool, bool],
    origin: tuple[int, int],
    rules: RegionRules,
) -> tuple[list[ChangeRegion], list[tuple[int, int, int, int]]]:
    """Turn one block's change mask into objects.

    Parameters
    ----------
    maps : ChangeMaps
        The measure's output for the block (core plus margin).
    core : (c0, r0, c1, r1)
        The block's own part, in block pixel indexes; objects are reported by the block whose
        core holds them.
    open_edges : (left, top, right, bottom) bool
        Whether another block lies beyond each core edge.
    origin : (int, int)
        BEFORE ``(col, row)`` of the block's top-left pixel.
    rules : RegionRules

    Returns
    -------
    regions : list of ChangeRegion
        Objects wholly inside the core.
    seams : list of (c0, r0, c1, r1)
        BEFORE boxes of objects cut by an open core edge (to be measured again whole).
    """
    mask = maps.mask.view(np.uint8)
    shadow = maps.shadow.view(np.uint8) if maps.shadow is not None else None
    if rules.open_px > 1:
        kernel = np.ones((rules.open_px, rules.open_px), np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        if shadow is not None:
            shadow = cv2.morphologyEx(shadow, cv2.MORPH_OPEN, kernel)
    if not mask.any():
        return [], []
    primary = mask
    if shadow is not None:
        mask = mask | shadow
    radius = round(rules.merge_m / rules.pixel_size_m / 2)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    merged = cv2.dilate(mask, disc) if radius else mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(merged, connectivity=8)
    c0, r0, c1, r1 = core
    regions, seams = [], []
    for label in range(1, count):
        x, y, w, h, _ = stats[label]
        if x >= c1 or y >= r1 or x + w <= c0 or y + h <= r0:
            continue  # another block's
        cut = (
            (open_edges[0] and x < c0)
            or (open_edges[1] and y < r0)
            or (open_edges[2] and x + w > c1)
            or (open_edges[3] and y + h > r1)
        )
        if cut:
            seams.append((origin[0] + x, origin[1] + y, origin[0] + x + w, origin[1] + y + h))
            continue
        region = _region(maps, mask, primary, labels, label, (x, y, w, h), origin, disc, rules)
        if region is not None:
            regions.append(region)
    return regions, seams


def _box_side(mask: np.ndarray) -> int:
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    return 0 if rows.size == 0 else int(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1)


def _box_area(mask: np.ndarray) -> int:
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return 0
    return int((rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1))


def _region(maps, mask, primary, labels, label, box, origin, disc, rules) -> ChangeRegion | None:
    x, y, w, h = box
    pad = 4
    hh, ww = mask.shape
    ys, xs = (
        slice(max(0, y - pad), min(hh, y + h + pad)),
        slice(max(0, x - pad), min(ww, x + w + pad)),
    )
    comp = (labels[ys, xs] == label).view(np.uint8)
    pixels = comp & mask[ys, xs]
    area = int(pixels.sum())
    evidence = int((comp & primary[ys, xs]).sum())
    if area == 0 or evidence < rules.min_evidence * area:
        return None
    if evidence * rules.pixel_size_m**2 < 0.25 * rules.min_size_m**2:
        return None
    filled = cv2.erode(comp, disc) | pixels  # the closing of the fragments
    # The box follows the object's own change (its body), not the shadow that comes with it,
    # unless the body shows too little (an aircraft painted like the apron).
    body = comp & primary[ys, xs]
    body = (cv2.erode(cv2.dilate(body, disc), disc) & comp) | body
    small = _box_side(filled) * rules.pixel_size_m < rules.small_m
    share = _box_area(body) / max(1, _box_area(filled))
    outline = body if body.any() and (small or share >= rules.body_share) else filled
    # smoothing widened the change by about a pixel on each side: take it back
    thinner = cv2.erode(outline, np.ones((3, 3), np.uint8))
    if rules.open_px > 1 and thinner.sum() >= 0.3 * outline.sum():
        outline = thinner
    pts = cv2.findNonZero(outline)
    (cx, cy), (sw, sh), angle = cv2.minAreaRect(pts)
    length, width = max(sw, sh) + 1.0, min(sw, sh) + 1.0
    length_m = length * rules.pixel_size_m
    if length_m < rules.min_size_m or length_m > rules.max_size_m:
        return None
    if width < rules.min_aspect * length:
        return None  # a thin stripe: a shadow's edge or a rim along a long line, not an object
    if area * rules.pixel_size_m**2 < 0.25 * rules.min_size_m**2:
        return None
    # structure: the same outline in both dates means the same object under a new light
    gb, ga = maps.before_grey[ys, xs], maps.after_grey[ys, xs]
    zone = cv2.dilate(filled, np.ones((5, 5), np.uint8)).astype(bool)
    gbx, gby = cv2.Sobel(gb, cv2.CV_32F, 1, 0), cv2.Sobel(gb, cv2.CV_32F, 0, 1)
    gax, gay = cv2.Sobel(ga, cv2.CV_32F, 1, 0), cv2.Sobel(ga, cv2.CV_32F, 0, 1)
    eb = float((gbx[zone] ** 2 + gby[zone] ** 2).sum())
    ea = float((gax[zone] ** 2 + gay[zone] ** 2).sum())
    dot = float((gbx[zone] * gax[zone] + gby[zone] * gay[zone]).sum())
    rho = dot / np.sqrt(eb * ea + 1e-12)
    if rho > rules.structure_max:
        return None
    # which date holds the object: more structure and more contrast to the surroundings
    inside = filled.astype(bool)
    ring = (cv2.dilate(filled, disc) & ~cv2.dilate(filled, np.ones((3, 3), np.uint8))).astype(bool)
    if not ring.any():
        ring = ~inside
    contrast = []
    for bands in (maps.before, maps.after):
        crop = bands[:, ys, xs]
        background = np.median(crop[:, ring], axis=1)
        contrast.append(float(np.abs(crop[:, inside] - background[:, None]).sum(axis=0).mean()))
    cb, ca = contrast
    energy_b, energy_a = np.sqrt(eb), np.sqrt(ea)
    balance = (ca - cb) / (ca + cb + 1e-6) + (energy_a - energy_b) / (energy_a + energy_b + 1e-6)
    if balance > rules.kind_margin:
        change = "appeared"
    elif balance < -rules.kind_margin:
        change = "disappeared"
    else:
        change = "changed"
    strength = float(maps.strength[ys, xs][pixels.astype(bool)].mean())
    score = float(np.clip((1 - np.exp(-(strength - 1.0))) * (1 - max(rho, 0.0)), 0.0, 1.0))
    corners = cv2.boxPoints(((cx, cy), (sw + 1.0, sh + 1.0), angle)).astype(np.float64)
    ox, oy = origin[0] + xs.start, origin[1] + ys.start
    corners += (ox, oy)  # minAreaRect works on pixel indexes: centres sit at +0.5 ...
    corners += 0.5  # ... so shift to continuous coordinates
    rows = np.nonzero(outline.any(axis=1))[0]
    cols = np.nonzero(outline.any(axis=0))[0]
    bbox = (int(ox + cols[0]), int(oy + rows[0]), int(ox + cols[-1] + 1), int(oy + rows[-1] + 1))
    crop_mask = filled[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(bool)
    return ChangeRegion(
        change=change,
        score=round(score, 4),
        bbox_px=bbox,
        polygon_px=corners,
        area_px=int(crop_mask.sum()),
        length_px=float(length),
        width_px=float(width),
        pixel_size_m=rules.pixel_size_m,
        mask=crop_mask,
    )
