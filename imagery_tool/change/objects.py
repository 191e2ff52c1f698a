"""From a block's change pixels to objects: merge fragments, test structure, decide the kind."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from imagery_tool.change.features import (
    BoxHypothesis,
    RegionEvidence,
    box_area,
    gradient_correlation,
    median,
    region_features,
)
from imagery_tool.change.measure import ChangeMaps
from imagery_tool.change.model import RegionModel
from imagery_tool.change.region import ChangeRegion

__all__ = ["RegionRules", "extract_regions"]

Box = tuple[int, int, int, int]  # (c0, r0, c1, r1)


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
    model : RegionModel or None
        When given, the candidates that pass the size and structure rules are scored by the
        model from their `FEATURES` (the score is its probability that the candidate is a
        changed object) and ``min_evidence`` and ``min_aspect`` are left to it.
    min_score : float
        Candidates scoring below this are dropped.
    split_score : float
        With a model: when two or more separate pieces of one component each score at least
        this share of its best score, they are reported as separate objects rather than the
        component as one.
    dissimilarity : float
        How far apart the pair's dates are overall (see `RegionEvidence`), for the model.
    """

    min_size_m: float  # no defaults here: `DetectionOptions` holds them
    max_size_m: float
    pixel_size_m: float
    merge_m: float = 3.0
    open_px: int = 3
    structure_max: float = 0.5
    kind_margin: float = 0.25
    min_evidence: float = 0.1
    body_share: float = 0.5
    small_m: float = 12.0
    min_aspect: float = 0.18
    model: RegionModel | None = None
    min_score: float = 0.0
    split_score: float = 0.5
    dissimilarity: float = 0.0


def extract_regions(
    maps: ChangeMaps,
    *,
    core: tuple[int, int, int, int],
    open_edges: tuple[bool, bool, bool, bool],
    origin: tuple[int, int],
    rules: RegionRules,
    within: tuple[int, int, int, int] | None = None,
) -> tuple[list[ChangeRegion], list[Box], list[Box]]:
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
    within : (c0, r0, c1, r1), optional
        Only objects whose box meets this box (block pixel indexes) are wanted: the others
        are not measured (an object's box lies within its component's).

    Returns
    -------
    regions : list of ChangeRegion
        Objects wholly inside the core, and objects cut by an open core edge whose centre lies
        in the core and which this block's window holds whole.
    seams : list of (c0, r0, c1, r1)
        BEFORE boxes of the pieces of cut objects that neither this block nor the one holding
        their centre sees whole (to be measured again whole).
    evident : list of (c0, r0, c1, r1)
        Those of ``seams`` that hold change other than shadow (an object made of pieces that
        hold none is no object: a shadow alone is not one).
    """
    mask = maps.mask.view(np.uint8)
    shadow = maps.shadow.view(np.uint8) if maps.shadow is not None else None
    if rules.open_px > 1:
        kernel = np.ones((rules.open_px, rules.open_px), np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        if shadow is not None:
            shadow = cv2.morphologyEx(shadow, cv2.MORPH_OPEN, kernel)
    if not mask.any():
        return [], [], []
    primary = mask
    if shadow is not None:
        mask = mask | shadow
    radius = round(rules.merge_m / rules.pixel_size_m / 2)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    merged = cv2.dilate(mask, disc) if radius else mask
    count, labels, stats = _components(merged)
    c0, r0, c1, r1 = core
    # an object cut by an open core edge is measured by the block that holds its centre when
    # that block's window holds it whole (clear of the window's open sides by more than what
    # may join it from beyond: merge radius, filter reach); otherwise it is a piece, measured
    # again whole (`imagery_tool.change.detect`)
    clear = radius + 8
    candidates, seams, evident = [], [], []
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
            owner = _owner((x + w / 2, y + h / 2), core, open_edges)
            box = (x, y, x + w, y + h)
            if owner is None or not _whole_in(owner, box, core, mask.shape, open_edges, clear):
                piece = (origin[0] + x, origin[1] + y, origin[0] + x + w, origin[1] + y + h)
                seams.append(piece)
                crop = np.s_[y : y + h, x : x + w]
                if ((labels[crop] == label) & primary[crop].view(bool)).any():
                    evident.append(piece)
                continue
            if owner != (0, 0):
                continue  # the neighbour that holds its centre sees it whole and measures it
        if within is not None and not (
            x < within[2] and within[0] < x + w and y < within[3] and within[1] < y + h
        ):
            continue
        candidate = _region(maps, mask, primary, labels, label, (x, y, w, h), disc, rules)
        if candidate is not None:
            candidates.append(candidate)
    return _choose(candidates, origin, rules), seams, evident


_OWNER_MARGIN = 4  # px: a centre this close to an open core edge belongs to no block


def _owner(centre, core, open_edges) -> tuple[int, int] | None:
    """Which block holds an object's centre: ``(0, 0)`` this one, else the step to it.

    None near an open core edge: there the two blocks' views of an object may differ by a
    pixel (their normalisation fields are sampled from their own origins), so neither claims
    it and it is measured again whole, as a piece.
    """
    steps = []
    for value, low, high, open_low, open_high in (
        (centre[0], core[0], core[2], open_edges[0], open_edges[2]),
        (centre[1], core[1], core[3], open_edges[1], open_edges[3]),
    ):
        if open_low and value < low + _OWNER_MARGIN:
            if value > low - _OWNER_MARGIN:
                return None
            steps.append(-1)
        elif open_high and value > high - _OWNER_MARGIN:
            if value < high + _OWNER_MARGIN:
                return None
            steps.append(1)
        else:
            steps.append(0)
    return steps[0], steps[1]


def _whole_in(step, box, core, shape, open_edges, clear) -> bool:
    """Whether the block ``step`` away sees ``box`` whole, as far as this block can tell.

    Its window reaches as far past the shared core edge as this one does (the same margin);
    ``box`` must keep ``clear`` px inside the window's sides that this block sees.
    """
    h, w = shape
    for (low, high), (c_low, c_high), size, (open_low, open_high), s in (
        ((box[0], box[2]), (core[0], core[2]), w, (open_edges[0], open_edges[2]), step[0]),
        ((box[1], box[3]), (core[1], core[3]), h, (open_edges[1], open_edges[3]), step[1]),
    ):
        if s < 0 and high > 2 * c_low - clear:  # the window of the block before ends there
            return False
        if s > 0 and low < 2 * c_high - size + clear:  # the one after starts there
            return False
        if s == 0 and (open_low and low < clear or open_high and high > size - clear):
            return False
    return True


def _components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """8-connected components of a uint8 mask: ``(count, labels, stats)`` as OpenCV gives them.

    Labels are 16-bit when they fit: OpenCV labels a 1088 px block three times faster so
    (2.8 ms instead of 7.9), with the same labels. It refuses to overflow them (more than
    65535 components): then they are 32-bit.
    """
    try:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            mask, connectivity=8, ltype=cv2.CV_16U
        )
    except cv2.error:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return count, labels, stats


def _box_side(mask: np.ndarray) -> int:
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    return 0 if rows.size == 0 else int(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1)


def _box(
    outline: np.ndarray, *, of_body: bool, rules: RegionRules, piece: bool = False
) -> BoxHypothesis | None:
    # smoothing widened the change by about a pixel on each side: take it back
    thinner = cv2.erode(outline, np.ones((3, 3), np.uint8))
    if rules.open_px > 1 and thinner.sum() >= 0.3 * outline.sum():
        outline = thinner
    rect = cv2.minAreaRect(cv2.findNonZero(outline))
    (sw, sh) = rect[1]
    length, width = max(sw, sh) + 1.0, min(sw, sh) + 1.0
    if not rules.min_size_m <= length * rules.pixel_size_m <= rules.max_size_m:
        return None
    if rules.model is None and width < rules.min_aspect * length:
        return None  # a thin stripe: a shadow's edge or a rim along a long line, not an object
    return BoxHypothesis(outline, rect, float(length), float(width), of_body, piece)


def _pieces(own: np.ndarray, rules: RegionRules) -> list[BoxHypothesis]:
    """Each separate piece of an object's own change, as an object of its own.

    Two objects a few metres apart (a truck parked under a wing, a vehicle beside an aircraft's
    shadow) come out as one component; the model scores each piece on its own as well.
    """
    count, labels, stats = _components(own)
    if count <= 2:
        return []
    least = 0.25 * rules.min_size_m**2 / rules.pixel_size_m**2
    boxes = []
    for k in range(1, count):
        if stats[k, cv2.CC_STAT_AREA] >= least:
            box = _box((labels == k).view(np.uint8), of_body=True, rules=rules, piece=True)
            boxes += [box] if box else []
    return boxes


def _boxes(body: np.ndarray, filled: np.ndarray, rules: RegionRules) -> list[BoxHypothesis]:
    """Where the object may lie: around its own change (its body) or around everything.

    The box follows the body, not the shadow that comes with it, unless the body shows too
    little of the object (an aircraft painted like the apron changes mostly along its outline
    and shadow). Without a model a fixed rule chooses; a model scores both boxes.
    """
    if not body.any():
        return [b for b in [_box(filled, of_body=False, rules=rules)] if b]
    if rules.model is not None:
        both = [_box(body, of_body=True, rules=rules), _box(filled, of_body=False, rules=rules)]
        return [b for b in both if b]
    small = _box_side(filled) * rules.pixel_size_m < rules.small_m
    share = box_area(body) / max(1, box_area(filled))
    of_body = small or share >= rules.body_share
    box = _box(body if of_body else filled, of_body=of_body, rules=rules)
    return [box] if box else []


@dataclass(frozen=True)
class _Candidate:
    """A component measured as an object, its boxes waiting to be scored and chosen."""

    change: str
    boxes: list[BoxHypothesis]
    features: list  # per box: its `FEATURES` row (None under fixed rules)
    scores: list[float] | None  # per box under fixed rules; None: for the model to score
    filled: np.ndarray  # its footprint: the fragments closed, enclosed holes filled
    crop: tuple[slice, slice]  # (cols, rows) of the block


def _region(maps, mask, primary, labels, label, box, disc, rules) -> _Candidate | None:
    """Measure one connected component as an object, if it may be one."""
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
    ruled = rules.model is None  # without a model, fixed rules decide
    if evidence == 0 or ruled and evidence < rules.min_evidence * area:
        return None  # a shadow alone is not an object
    if evidence * rules.pixel_size_m**2 < 0.25 * rules.min_size_m**2:
        return None
    filled = cv2.erode(comp, disc) | pixels  # the closing of the fragments
    own = comp & primary[ys, xs]
    body = (cv2.erode(cv2.dilate(own, disc), disc) & comp) | own
    hypotheses = _boxes(body, filled, rules)
    pieces = _pieces(own, rules) if rules.model is not None else []
    if not hypotheses and not pieces:
        return None
    # structure: the same outline in both dates means the same object under a new light
    gb, ga = maps.before_grey[ys, xs], maps.after_grey[ys, xs]
    zone = cv2.dilate(filled, np.ones((5, 5), np.uint8)).astype(bool)
    gbx, gby = cv2.Sobel(gb, cv2.CV_32F, 1, 0), cv2.Sobel(gb, cv2.CV_32F, 0, 1)
    gax, gay = cv2.Sobel(ga, cv2.CV_32F, 1, 0), cv2.Sobel(ga, cv2.CV_32F, 0, 1)
    rho, eb, ea = gradient_correlation((gbx, gby), (gax, gay), zone)
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
        background = median(crop[:, ring], axis=1)
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
    boxes = hypotheses + pieces
    if ruled:
        strength = float(maps.strength[ys, xs][pixels.astype(bool)].mean())
        score = (1 - np.exp(-(strength - 1.0))) * (1 - max(rho, 0.0))
        # fixed rules (the classical methods): the connected pixels as they are
        return _Candidate(
            change, boxes, [None] * len(boxes), [score] * len(boxes), filled, (xs, ys)
        )
    evidence_of = RegionEvidence(
        before=maps.before[:, ys, xs],
        after=maps.after[:, ys, xs],
        grad_before=(gbx, gby),
        grad_after=(gax, gay),
        grey_before=gb,
        grey_after=ga,
        strength=maps.strength[ys, xs],
        pixels=pixels.astype(bool),
        body=own.astype(bool),
        filled=inside,
        ring=ring,
        pixel_size_m=rules.pixel_size_m,
        rho=float(rho),
        balance=float(balance),
        contrast=(cb, ca),
        energy=(float(energy_b), float(energy_a)),
        dissimilarity=rules.dissimilarity,
    )
    return _Candidate(
        change, boxes, list(region_features(evidence_of, boxes)), None,
        _solid(filled, maps.strength[ys, xs]), (xs, ys),
    )  # fmt: skip


def _solid(filled: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Fill the weakly changed holes that a footprint encloses.

    Change within a uniform new roof is often weak where the roof looks like the ground it
    covers: a hole enclosed by the change whose mean strength reaches half the level is the
    object's too (a new roof is one region, not a ring), unless it is larger than the change
    around it (then the change surrounds something rather than outlines it). A hole that did
    not change (a courtyard, the unchanged block a ring of change snakes around) stays a hole,
    as do holes open to the crop's edge.
    """
    h, w = filled.shape
    outside = np.zeros((h + 2, w + 2), np.uint8)
    outside[1:-1, 1:-1] = filled == 0
    # flood the background from the crop's border: what it cannot reach is enclosed
    cv2.floodFill(outside, None, (0, 0), 2)
    holes = (outside[1:-1, 1:-1] == 1).view(np.uint8)
    if not holes.any():
        return filled
    count, labels = cv2.connectedComponents(holes, connectivity=4)
    sums = np.bincount(labels.ravel(), strength.ravel(), count)
    sizes = np.bincount(labels.ravel(), None, count)
    weak = (sums / np.maximum(sizes, 1) >= _HOLE_STRENGTH) & (
        sizes <= _HOLE_AREA * int(filled.sum())
    )
    weak[0] = False
    return (filled.astype(bool) | weak[labels]).view(np.uint8)


_HOLE_AREA = 1.0  # largest hole filled, as a share of the change that encloses it
_HOLE_STRENGTH = 0.5  # mean change strength (1 = the level) of an enclosed hole that is filled


def _choose(candidates: list[_Candidate], origin, rules: RegionRules) -> list[ChangeRegion]:
    """Score the boxes of a block's candidates and keep each one's best (a probe: every box).

    The model scores all the boxes of the block in one call (its rows are scored
    independently).
    """
    waiting = [c for c in candidates if c.scores is None]
    if waiting:
        scores = iter(rules.model.probability(np.array([f for c in waiting for f in c.features])))
    regions = []
    for c in candidates:
        of_boxes = c.scores if c.scores is not None else [next(scores) for _ in c.boxes]
        scored = [
            (float(np.clip(score, 0.0, 1.0)), box, feats)
            for score, box, feats in zip(of_boxes, c.boxes, c.features, strict=True)
        ]
        probe = rules.model is not None and rules.model.is_probe
        if not probe:  # a probe keeps them all, each with its own pixels
            scored = _best_hypotheses(scored, rules.split_score)
        whole = rules.model is not None and not probe
        # chosen first, filtered after: a higher min_score only drops objects, never reshapes
        made = [_make_region(c.change, *item, c.filled, c.crop, origin, rules) for item in scored]
        kept = [r for r in made if r.score >= rules.min_score]  # the score as reported
        if kept and whole:
            # the best object kept carries the candidate's whole footprint into the mask: the
            # shadow beside a box drawn on the body, and a new building's pixels outside the
            # box of the piece that scored best, are changed pixels too
            kept[0] = replace(kept[0], **_footprint(c.filled, c.crop, origin))
        regions += kept
    return regions


def _footprint(filled: np.ndarray, crop, origin) -> dict:
    """`ChangeRegion` ``mask`` and ``mask_box`` of a candidate's whole footprint."""
    xs, ys = crop
    rows = np.nonzero(filled.any(axis=1))[0]
    cols = np.nonzero(filled.any(axis=0))[0]
    ox, oy = origin[0] + xs.start, origin[1] + ys.start
    box = (int(ox + cols[0]), int(oy + rows[0]), int(ox + cols[-1] + 1), int(oy + rows[-1] + 1))
    return {
        "mask": filled[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(bool),
        "mask_box": box,
    }


def _best_hypotheses(scored: list[tuple], split_score: float) -> list[tuple]:
    """Keep the best-scored box, and separate pieces that are other objects.

    The boxes of one component compete (its own change, everything, each piece): the best one
    stays. When two or more pieces each score at least ``split_score`` times the best score,
    they are separate objects and stay instead. A piece outside the kept outlines is another
    object (a vehicle beside an aircraft's shadow) and stays too, as does a piece whose box is
    under a quarter of the kept one's (a vehicle parked under a wing or touching an aircraft's
    changed shadow).
    """
    ranked = sorted(scored, key=lambda item: -item[0])
    if not ranked:
        return []
    least = split_score * ranked[0][0]
    confident = [item for item in ranked if item[1].piece and item[0] >= least]
    if len(confident) >= 2:
        return confident  # several objects side by side (vehicles in a row)
    kept = ranked[:1]
    largest = kept[0][1].length * kept[0][1].width
    for item in ranked[1:]:
        if not item[1].piece:
            continue
        inner = item[1].length * item[1].width < 0.25 * largest
        others = kept if not inner else kept[1:]
        if not any((item[1].outline & k[1].outline).any() for k in others):
            kept.append(item)
    return kept


def _make_region(
    change, score, hyp: BoxHypothesis, features, filled, crop, origin, rules
) -> ChangeRegion:
    xs, ys = crop
    (cx, cy), (sw, sh), angle = hyp.rect
    corners = cv2.boxPoints(((cx, cy), (sw + 1.0, sh + 1.0), angle)).astype(np.float64)
    ox, oy = origin[0] + xs.start, origin[1] + ys.start
    corners += (ox, oy)  # minAreaRect works on pixel indexes: centres sit at +0.5 ...
    corners += 0.5  # ... so shift to continuous coordinates
    rows = np.nonzero(hyp.outline.any(axis=1))[0]
    cols = np.nonzero(hyp.outline.any(axis=0))[0]
    bbox = (int(ox + cols[0]), int(oy + rows[0]), int(ox + cols[-1] + 1), int(oy + rows[-1] + 1))
    crop_mask = filled[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(bool)
    return ChangeRegion(
        change=change,
        score=round(score, 4),
        bbox_px=bbox,
        polygon_px=corners,
        area_px=int(crop_mask.sum()),
        length_px=hyp.length,
        width_px=hyp.width,
        pixel_size_m=rules.pixel_size_m,
        mask=crop_mask,
        features=features,
    )
