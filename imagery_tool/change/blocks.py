"""How detection walks a raster: blocks in vertical strips, and the pieces of cut objects regrouped.

Pure geometry and scheduling, without pixels: `imagery_tool.change.detect` reads and measures.
"""

from __future__ import annotations

import collections
import threading

from rasterio.windows import Window

from imagery_tool.grouping import connected_groups

__all__ = [
    "MARGIN_PX",
    "STRIP_PX",
    "BlockQueue",
    "chunks",
    "group_boxes",
    "group_windows",
    "groups",
    "intersects",
    "near_pairs",
    "strips",
]

MARGIN_PX = 32  # block overlap for filters and fragment merging, in pixels
STRIP_PX = 4096  # width of the strips of blocks a worker walks (see `strips`)


def chunks(items: list, n: int) -> list[list]:
    """Split a list into ``n`` contiguous runs of nearly equal length."""
    if not items:
        return []
    n = max(1, min(n, len(items)))
    bounds = [round(k * len(items) / n) for k in range(n + 1)]
    return [items[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def strips(overlap: Window, block_px: int, workers: int) -> list[list]:
    """Split the overlap's blocks into runs that each walk a vertical strip top to bottom.

    Each block is ``(index, core, open edges)``, with its index in row-major order.

    A block's margins decode the JPEG tiles of its neighbours' cores. A run walks its strip row
    by row with its own open files, so that the tiles shared with the block beside it and with
    the row below are still in GDAL's block cache: the cache must hold two tile rows of a strip
    (`STRIP_PX` wide) per file and worker, whatever the raster's width. The number of strips
    is a multiple of ``workers``; `BlockQueue` hands them out and lets an idle worker finish
    another's strip from its bottom. A raster too narrow for one strip per worker is split
    into runs of rows instead.
    """
    c0, r0 = int(overlap.col_off), int(overlap.row_off)
    c_end, r_end = c0 + int(overlap.width), r0 + int(overlap.height)
    cols = list(range(c0, c_end, block_px))
    rows = list(range(r0, r_end, block_px))
    per_strip = max(1, STRIP_PX // block_px)
    n_strips = workers * -(-len(cols) // (workers * per_strip))
    runs = []
    for strip in chunks(list(range(len(cols))), n_strips):
        run = []
        for i, r in enumerate(rows):
            for j in strip:
                c = cols[j]
                w, h = min(block_px, c_end - c), min(block_px, r_end - r)
                edges = (j > 0, i > 0, j < len(cols) - 1, i < len(rows) - 1)
                run.append((i * len(cols) + j, Window(c, r, w, h), edges))
        runs.append(run)
    if len(runs) < workers:
        runs = chunks([block for run in runs for block in run], workers)
    return runs


class BlockQueue:
    """Hand out the blocks of the strips (`strips`) to the workers, strip by strip.

    A worker walks a strip from its top; when no strip is left unstarted, an idle worker takes
    blocks from the bottom of the strip with the most blocks left, walking up to meet its
    owner. Strips differ in cost with their content (changes are not spread evenly): without
    this, one worker may finish its last strip seconds before the other. Only the row where
    they meet is decoded twice.
    """

    def __init__(self, runs: list[list]) -> None:
        self.runs = [collections.deque(run) for run in runs]
        self.started = 0
        self.lock = threading.Lock()

    def take(self, state: tuple[int, bool] | None) -> tuple[tuple[int, bool], tuple] | None:
        """Next block for a worker in ``state`` (its run, from the bottom?); None when done."""
        with self.lock:
            if state is None or not self.runs[state[0]]:
                if self.started < len(self.runs):
                    state = (self.started, False)
                    self.started += 1
                else:
                    longest = max(range(len(self.runs)), key=lambda k: len(self.runs[k]), default=0)
                    if not self.runs or not self.runs[longest]:
                        return None
                    state = (longest, True)
            run = self.runs[state[0]]
            return state, run.pop() if state[1] else run.popleft()

    def cancel(self) -> None:
        """Hand out no more blocks: the workers stop after the block they are processing."""
        with self.lock:
            for run in self.runs:
                run.clear()


def intersects(a, b) -> bool:
    """Whether two ``(c0, r0, c1, r1)`` boxes overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def group_boxes(boxes, *, gap: int, max_side: int) -> list[tuple[int, int, int, int]]:
    """Group the pieces of cut objects: boxes that overlap (within ``gap`` px) form a group.

    A group whose box would exceed ``max_side`` (pieces of several objects chained along a
    seam) is not merged: its pieces are measured one by one, so that a window never grows
    beyond an object's size (bounded memory) and duplicates are removed afterwards.
    """
    boxes = [tuple(int(v) for v in b) for b in boxes]
    out = []
    for group in groups(boxes, gap):
        out.extend(group_windows([boxes[i] for i in group], max_side))
    return out


def groups(boxes: list, gap: int) -> list[list[int]]:
    """Indexes of the boxes linked by overlaps within ``gap`` px, group by group."""
    return connected_groups(len(boxes), near_pairs(boxes, gap))


def group_windows(pieces: list, max_side: int) -> list[tuple[int, int, int, int]]:
    """Return the box of a group of pieces, or the pieces themselves beyond ``max_side``."""
    c0 = min(b[0] for b in pieces)
    r0 = min(b[1] for b in pieces)
    c1 = max(b[2] for b in pieces)
    r1 = max(b[3] for b in pieces)
    if max(c1 - c0, r1 - r0) <= max_side:
        return [(c0, r0, c1, r1)]
    return list(pieces)


def near_pairs(boxes, gap: int, cell: int = 256):
    """Pairs of indexes of boxes closer than ``gap`` px, through a grid hash of cell px."""
    grid: dict[tuple[int, int], list[int]] = {}
    for i, (c0, r0, c1, r1) in enumerate(boxes):
        for gy in range((r0 - gap) // cell, (r1 + gap) // cell + 1):
            for gx in range((c0 - gap) // cell, (c1 + gap) // cell + 1):
                grid.setdefault((gx, gy), []).append(i)
    seen = set()
    for members in grid.values():
        for k, i in enumerate(members):
            a = boxes[i]
            for j in members[k + 1 :]:
                if (i, j) in seen:
                    continue
                b = boxes[j]
                if (
                    a[0] - gap < b[2]
                    and b[0] - gap < a[2]
                    and a[1] - gap < b[3]
                    and b[1] - gap < a[3]
                ):
                    seen.add((i, j))
                    yield i, j
