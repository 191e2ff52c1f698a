"""Place box labels so that none overlaps another, a reserved area, or the image edge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PlacedLabel", "place_labels", "rects_overlap"]


@dataclass(frozen=True)
class PlacedLabel:
    """Where one label went.

    Attributes
    ----------
    index : int
        Position of the label in the request list.
    rect : (int, int, int, int)
        ``(x0, y0, x1, y1)`` of the label box, end-exclusive, inside the image.
    anchor : (float, float)
        The point of the object the label belongs to that a leader line joins (when the label
        is not next to its object).
    leader : bool
        Whether a leader line is needed.
    """

    index: int
    rect: tuple[int, int, int, int]
    anchor: tuple[float, float]
    leader: bool


def rects_overlap(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether two end-exclusive rectangles ``(x0, y0, x1, y1)`` share any pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _candidates(
    box: np.ndarray, size: tuple[int, int], gap: int, rings: int
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate top-left corners around an object's bounds, nearest first.

    Returns the corners ``(K, 2)`` and whether each needs a leader line ``(K,)``.
    """
    x0, y0, x1, y1 = box
    w, h = size
    base = [
        (x0, y0 - gap - h),  # above, left-aligned
        (x1 - w, y0 - gap - h),  # above, right-aligned
        (x0, y1 + gap),  # below, left-aligned
        (x1 - w, y1 + gap),  # below, right-aligned
        (x1 + gap, y0),  # right, top-aligned
        (x0 - gap - w, y0),  # left, top-aligned
        (x1 + gap, y1 - h),  # right, bottom-aligned
        (x0 - gap - w, y1 - h),  # left, bottom-aligned
        ((x0 + x1 - w) / 2, y0 - gap - h),  # above, centred
        ((x0 + x1 - w) / 2, y1 + gap),  # below, centred
    ]
    points = list(base)
    leader = [False] * len(base)
    # Farther out, on rings around the object, joined to it by a leader line.
    for ring in range(1, rings + 1):
        d = ring * (h + gap)
        for dx, dy in ((0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (1, 1), (-1, 1)):
            if dx == 0:
                x = (x0 + x1 - w) / 2
            else:
                x = x1 + gap + (ring - 1) * w / 2 if dx > 0 else x0 - gap - w - (ring - 1) * w / 2
            if dy == 0:
                y = (y0 + y1 - h) / 2
            elif dy < 0:
                y = y0 - gap - h - d
            else:
                y = y1 + gap + d
            points.append((x, y))
            leader.append(True)
    return np.round(np.array(points, dtype=np.float64)), np.array(leader)


def place_labels(
    sizes: list[tuple[int, int]],
    boxes: np.ndarray,
    image_shape: tuple[int, int],
    *,
    reserved: list[tuple[int, int, int, int]] = (),
    gap: int = 2,
    rings: int = 4,
) -> list[PlacedLabel | None]:
    """Place one label beside each object, greedily, in the order given.

    Each label tries positions around its object (above, below, beside; then farther out with
    a leader line). A position is allowed only when the label lies wholly inside the image and
    shares no pixel with a label placed before or a reserved area (legend, scale bar, ...);
    among allowed positions the first that covers no other object wins, else the one covering
    the fewest. A label with no allowed position is left out (``None``): labels never overlap.

    Parameters
    ----------
    sizes : list of (int, int)
        ``(width, height)`` of each label in pixels.
    boxes : (N, 4) array_like of float
        ``(x0, y0, x1, y1)`` bounds of each label's object in output pixels (may reach outside
        the image).
    image_shape : (int, int)
        ``(rows, cols)`` of the image.
    reserved : list of (int, int, int, int)
        Areas no label may cover.
    gap : int
        Pixels between an object and its label.
    rings : int
        How many rings of farther positions to try.

    Returns
    -------
    list of PlacedLabel or None
        One entry per label, in input order.
    """
    height, width = image_shape
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    taken = np.array(list(reserved), dtype=np.float64).reshape(-1, 4)
    placed: list[PlacedLabel | None] = []
    visible = boxes.copy()
    visible[:, [0, 2]] = np.clip(visible[:, [0, 2]], 0, width)
    visible[:, [1, 3]] = np.clip(visible[:, [1, 3]], 0, height)
    for i, (size, box) in enumerate(zip(sizes, visible, strict=True)):
        w, h = int(size[0]), int(size[1])
        if w > width or h > height:
            placed.append(None)
            continue
        tl, leader = _candidates(box, (w, h), gap, rings)
        rects = np.column_stack([tl[:, 0], tl[:, 1], tl[:, 0] + w, tl[:, 1] + h])
        inside = (rects[:, 0] >= 0) & (rects[:, 1] >= 0)
        inside &= (rects[:, 2] <= width) & (rects[:, 3] <= height)
        # A position that leaves the image is pulled back inside, then tried like the others.
        clamped = rects.copy()
        dx = np.clip(-rects[:, 0], 0, None) - np.clip(rects[:, 2] - width, 0, None)
        dy = np.clip(-rects[:, 1], 0, None) - np.clip(rects[:, 3] - height, 0, None)
        clamped[:, [0, 2]] += dx[:, None]
        clamped[:, [1, 3]] += dy[:, None]
        rects = np.vstack([rects[inside], clamped[~inside]])
        leader = np.concatenate([leader[inside], leader[~inside] | True])
        free = ~_overlaps_any(rects, taken)
        if not free.any():
            placed.append(None)
            continue
        rects, leader = rects[free], leader[free]
        others = np.delete(visible, i, axis=0)
        cover = _overlap_count(rects, others)
        own = _overlap_count(rects, box[None, :])
        cost = cover * 2 + own
        best = int(np.argmin(cost))  # argmin keeps the first (nearest) among equals
        rect = tuple(int(v) for v in rects[best])
        needs_leader = bool(leader[best]) and not _touches(rect, box, gap + 1)
        anchor = _nearest_point(box, rect)
        placed.append(PlacedLabel(i, rect, anchor, needs_leader))
        taken = np.vstack([taken, np.array(rect, dtype=np.float64)[None, :]])
    return placed


def _overlaps_any(rects: np.ndarray, others: np.ndarray) -> np.ndarray:
    if len(others) == 0:
        return np.zeros(len(rects), dtype=bool)
    return _overlap_matrix(rects, others).any(axis=1)


def _overlap_count(rects: np.ndarray, others: np.ndarray) -> np.ndarray:
    if len(others) == 0:
        return np.zeros(len(rects), dtype=np.int64)
    return _overlap_matrix(rects, others).sum(axis=1)


def _overlap_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (
        (a[:, None, 0] < b[None, :, 2])
        & (b[None, :, 0] < a[:, None, 2])
        & (a[:, None, 1] < b[None, :, 3])
        & (b[None, :, 1] < a[:, None, 3])
    )


def _touches(rect: tuple[int, ...], box: np.ndarray, tolerance: float) -> bool:
    """Whether a label rectangle lies within ``tolerance`` pixels of the object's bounds."""
    dx = max(box[0] - rect[2], rect[0] - box[2], 0)
    dy = max(box[1] - rect[3], rect[1] - box[3], 0)
    return max(dx, dy) <= tolerance


def _nearest_point(box: np.ndarray, rect: tuple[int, ...]) -> tuple[float, float]:
    """Return the point of the object's bounds nearest the label's centre."""
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    return (float(np.clip(cx, box[0], box[2])), float(np.clip(cy, box[1], box[3])))
