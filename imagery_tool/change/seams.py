"""Objects cut by block seams measured whole, and duplicate or fragment regions dropped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from rasterio.windows import Window

from imagery_tool.change.blocks import MARGIN_PX, group_windows, groups, intersects, near_pairs
from imagery_tool.change.objects import Box
from imagery_tool.change.region import ChangeRegion

__all__ = ["SEAM_GAP", "SeamTracker", "dedupe", "walk_seams"]

SEAM_GAP = 4  # pieces of cut objects this close (px) are pieces of one object
_SEAM_PAD_PX = 16  # margin (px) around a group of cut pieces, in which it is measured whole
_DUPLICATE_IOU = 0.5  # two regions overlapping this much are one object found twice
_FRAGMENT_AREA_RATIO = 4  # a fragment is at most this share (1/n) of the object's area
# a fragment lies within this share of the object's length of it, and at least this many px
_FRAGMENT_GAP_SHARE, _FRAGMENT_GAP_MIN_PX = 0.15, 4.0
_MIN_REACH_PX = 8  # pairs of regions closer than this are always compared


class SeamTracker:
    """Measure the objects cut by block seams as soon as all their pieces are known.

    An object cut by a seam that no block sees whole (most are measured by the block holding
    their centre, see `extract_regions`) is measured again whole, in a window around the group
    of its pieces (`group_boxes`). Measured after all blocks, those windows decode again the JPEG
    tiles that their blocks decoded long before (a tenth of the decoding at 10000 px). Here a
    group is measured by the worker that finishes the last block able to add a piece to it,
    while the tiles are still in GDAL's block cache. The group, its window and so its regions
    are the same as measured at the end (the driver looks them up by the group's box).

    Parameters
    ----------
    overlap : Window
        The part of BEFORE's grid both dates cover, where the blocks lie.
    blocks : list of (index, core, edges)
        Every block of the run (`strips`), its index in row-major order.
    block_px : int
        Side of the blocks.
    max_side : int
        Longest window a group is measured in (`group_windows`).
    measure_window : callable
        ``measure_window(window, edges, datasets, within)``: the objects found in ``window``
        that may meet the box ``within``, read through ``datasets``.
    open_datasets : callable
        A context manager giving the open files ``measure_window`` reads (`walk_seams`).
    """

    def __init__(
        self,
        overlap: Window,
        blocks: list,
        *,
        block_px: int,
        max_side: int,
        measure_window: Callable[[Window, tuple[bool, ...], Any, Box], list[ChangeRegion]],
        open_datasets: Callable[[], AbstractContextManager],
    ) -> None:
        self.measure_window = measure_window
        self.open_datasets = open_datasets
        self.max_side = max_side
        self.block_px = block_px
        ov = overlap
        self.limits = (
            int(ov.col_off),
            int(ov.row_off),
            int(ov.col_off + ov.width),
            int(ov.row_off + ov.height),
        )
        self.shape = (-(-int(ov.height) // block_px), -(-int(ov.width) // block_px))
        # the window each pending block reads (every piece it finds lies inside), by its index
        # in row-major order (see `strips`)
        self.pending = {index: _extended(core, self.limits) for index, core, _ in blocks}
        self.open: list[tuple[int, int, int, int]] = []  # pieces of groups still growing
        self.found: dict[tuple[int, int, int, int], list[ChangeRegion]] = {}
        self.evident: list[Box] = []  # pieces holding change other than shadow
        self.lock = threading.Lock()

    def block_done(self, index: int, cut: list, evident: list) -> list[Box]:
        """Record a finished block and its cut pieces; claim the groups now complete.

        ``evident`` are the pieces that hold change other than shadow.
        """
        with self.lock:
            del self.pending[index]
            self.open.extend(tuple(int(v) for v in box) for box in cut)
            self.evident.extend(tuple(int(v) for v in box) for box in evident)
            growing, ready = [], []
            for group in groups(self.open, SEAM_GAP):
                pieces = [self.open[i] for i in group]
                if any(self._may_grow(piece) for piece in pieces):
                    growing.extend(pieces)
                    continue
                for box in group_windows(pieces, self.max_side):
                    if box not in self.found:
                        self.found[box] = []  # claimed: filled by the claiming worker
                        ready.append(box)
            self.open = growing
        return ready

    def _may_grow(self, piece: tuple[int, int, int, int]) -> bool:
        """Whether a pending block may still find a piece near ``piece`` (`near_pairs`)."""
        c0, r0, c1, r1 = piece
        g = SEAM_GAP
        # the blocks whose window can reach the piece: its own and their neighbours
        reach = g + MARGIN_PX
        rows, cols = self.shape
        first_i = max(0, (r0 - reach - self.limits[1]) // self.block_px - 1)
        last_i = min(rows - 1, (r1 + reach - self.limits[1]) // self.block_px)
        first_j = max(0, (c0 - reach - self.limits[0]) // self.block_px - 1)
        last_j = min(cols - 1, (c1 + reach - self.limits[0]) // self.block_px)
        for i in range(first_i, last_i + 1):
            for j in range(first_j, last_j + 1):
                e = self.pending.get(i * cols + j)
                if e and c0 - g < e[2] and e[0] - g < c1 and r0 - g < e[3] and e[1] - g < r1:
                    return True
        return False

    def measure(self, boxes: list, datasets) -> None:
        """Measure the windows of groups claimed by this worker."""
        with self.lock:
            evident = list(self.evident)
        for box in boxes:
            if not any(intersects(piece, box) for piece in evident):
                # pieces of shadow alone: a shadow is no object, however its pieces join
                self.found[box] = []
                continue
            # objects in the window beside the group's are not measured (nor kept)
            found = self.measure_window(*_seam_window(box, self.limits), datasets, box)
            self.found[box] = [r for r in found if intersects(r.bbox_px, box)]


def _extended(core: Window, limits: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``(c0, r0, c1, r1)`` of a block's core plus margin, within the overlap (as it is read)."""
    return (
        max(limits[0], int(core.col_off) - MARGIN_PX),
        max(limits[1], int(core.row_off) - MARGIN_PX),
        min(limits[2], int(core.col_off + core.width) + MARGIN_PX),
        min(limits[3], int(core.row_off + core.height) + MARGIN_PX),
    )


def _seam_window(box, limits: tuple[int, int, int, int]) -> tuple[Window, tuple[bool, ...]]:
    """Return the window (and closed edges) in which a group of cut pieces is measured whole."""
    c0, r0, c1, r1 = box
    pad = _SEAM_PAD_PX
    wc0, wr0 = max(limits[0], c0 - pad), max(limits[1], r0 - pad)
    wc1, wr1 = min(limits[2], c1 + pad), min(limits[3], r1 + pad)
    return Window(wc0, wr0, wc1 - wc0, wr1 - wr0), (False,) * 4


def walk_seams(tracker: SeamTracker, boxes: list[Box]) -> None:
    """Measure the groups ``boxes`` left over after the blocks, with files of their own."""
    with tracker.open_datasets() as datasets:
        tracker.measure(boxes, datasets)


def dedupe(regions: list[ChangeRegion], *, absorb: bool) -> list[ChangeRegion]:
    """Drop duplicates (seams) and, when ``absorb``, fragments against a larger object.

    A fragment is a piece of a larger object's shadow or of the object itself: one object,
    one region.
    """
    ordered = sorted(regions, key=lambda r: -r.score)
    boxes = [r.bbox_px for r in ordered]
    reach = max([_MIN_REACH_PX] + [int(_fragment_gap(r)) + 1 for r in ordered])
    drop = set()
    for i, j in near_pairs(boxes, reach):
        a, b = ordered[i], ordered[j]  # a scores at least as high as b
        if i in drop or j in drop:
            continue
        if a.iou(b.bbox_px) >= _DUPLICATE_IOU or absorb and _absorbed(b, a):
            drop.add(j)
        elif absorb and _absorbed(a, b):
            drop.add(i)
    kept = [r for k, r in enumerate(ordered) if k not in drop]
    return sorted(kept, key=lambda r: (r.bbox_px[1], r.bbox_px[0]))


def _fragment_gap(region: ChangeRegion) -> float:
    """How far (px) from ``region`` a fragment of it may lie."""
    return max(_FRAGMENT_GAP_MIN_PX, _FRAGMENT_GAP_SHARE * region.length_px)


def _absorbed(small: ChangeRegion, big: ChangeRegion) -> bool:
    if big.area_px < _FRAGMENT_AREA_RATIO * small.area_px:
        return False
    a, b = small.bbox_px, big.bbox_px
    gap_c = max(0, max(a[0], b[0]) - min(a[2], b[2]))
    gap_r = max(0, max(a[1], b[1]) - min(a[3], b[3]))
    return max(gap_c, gap_r) <= _fragment_gap(big)
