"""Detect changed objects between two dates, block by block with bounded memory."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from rasterio.windows import Window

from imagery_tool.change.blocks import (
    BlockQueue,
    chunks,
    group_boxes,
    group_windows,
    groups,
    intersects,
    near_pairs,
    strips,
)
from imagery_tool.change.measure import (
    ChangeMaps,
    cva_magnitude,
    robust_change,
    smoothing_ksize,
)
from imagery_tool.change.methods import METHODS, Method
from imagery_tool.change.model import RegionModel, default_model
from imagery_tool.change.objects import Box, RegionRules, extract_regions
from imagery_tool.change.region import ChangeRegion
from imagery_tool.change.result import ChangeResult
from imagery_tool.progress import Progress, ProgressCounter
from imagery_tool.radiometry import Radiometry, fit_radiometry
from imagery_tool.registration import AlignedPair, Registration, coregister
from imagery_tool.registration.warp import read_resampled
from imagery_tool.runtime import DEFAULT_JPEG_CACHE_MB, current, runtime
from imagery_tool.tile import Tile, open_tile

__all__ = ["DEFAULT_MIN_SIZE_M", "DEFAULT_THRESHOLD", "change_level", "detect_changes"]

DEFAULT_MIN_SIZE_M = 3.0  # a small vehicle
DEFAULT_THRESHOLD = 6.0  # change-vector threshold in sensor-noise standard deviations
_MARGIN = 32  # block overlap for filters and fragment merging, in pixels
_SAMPLE_WINDOWS = 9
_MAX_OBJECT_PX = 4096  # objects longer than this (px) are reported in pieces
# GDAL's block cache (5 % of RAM by default) counts in peak memory; it must hold the decoded
# tiles that neighbouring blocks share (their margins), else each is decoded up to 4 times.
# Used unless the runtime in force sets another (`imagery_tool.runtime`).
_GDAL_CACHE_MB = 128
# Likewise our JPEG decoder's cache (`imagery_tool.jpeg_tiles`): a worker's strip needs four
# tile rows of both files at hand (its blocks' margins reach the rows above and below), two
# workers about 100 MiB; with this much more than the runtime's default bound (96 MiB), a
# 10000 px pair decodes 1100 tiles for its 800 instead of 1290. At least that much: a larger
# bound in force is kept (and concurrent detections, which inherit it, do not add up).
_JPEG_CACHE_EXTRA_MB = 96


@dataclass(frozen=True)
class _Job:
    """Everything a block needs, shared read-only between threads."""

    pair: AlignedPair
    method: Method
    radiometry: Radiometry
    threshold: float
    noise: float
    rules: RegionRules
    unit: float = 1.0


def detect_changes(
    before: Tile | str | Path,
    after: Tile | str | Path,
    *,
    method: str = "robust",
    min_size_m: float = DEFAULT_MIN_SIZE_M,
    max_size_m: float | None = None,
    threshold: float | None = None,
    registration: Registration | None = None,
    pixel_size_m: float | None = None,
    block_px: int = 1024,
    workers: int | None = None,
    model: RegionModel | None = None,
    min_score: float | None = None,
    progress: Progress | None = None,
) -> ChangeResult:
    """Find objects that appeared, disappeared or changed between two dates.

    AFTER is brought onto BEFORE's grid (georeference, then the residual measured by
    `coregister`), normalised to BEFORE's radiometry, compared block by block (with an overlap
    so that an object on a block seam is found once, whole) and the changed pixels are grouped
    into objects. Memory is bounded by the block size whatever the raster size.

    Parameters
    ----------
    before, after : Tile or path
        The earlier and the later date. AFTER may have another CRS, resolution or extent.
    method : str
        A key of `METHODS`: ``"robust"`` (default) or a classical method.
    min_size_m : float
        Smallest long side of an object, in metres (default: a small vehicle).
    max_size_m : float, optional
        Largest long side of an object, in metres; None (default): no upper bound (a new
        building block or a flooded field is a change too). Objects longer than 4096 px are
        reported in pieces, so that memory stays bounded.
    threshold : float, optional
        For noise-thresholded methods: the change-vector threshold in sensor-noise standard
        deviations for dates that differ by sensor noise (default 6; lower finds fainter
        changes and more false alarms; see `change_level` for dates months apart). For
        ``"cva"``: an absolute magnitude replacing Otsu's threshold.
    registration : Registration, optional
        A registration measured before (from `coregister`); measured here by default.
    pixel_size_m : float, optional
        Ground size of a pixel for tiles without georeference (pixel mode); 0.5 m when not
        given (recorded as assumed). Ignored for georeferenced tiles.
    block_px : int
        Side of the blocks processed at once.
    workers : int, optional
        Threads over blocks (default: the runtime's, `imagery_tool.runtime.usable_workers`).
    model : RegionModel, optional
        For ``"robust"``: the model that scores candidate objects (default: the one shipped,
        trained on generated scenes; see `imagery_tool.change.model`).
    min_score : float, optional
        For ``"robust"``: report objects whose score (the model's probability) reaches this;
        default: the model's operating point for this pair (`RegionModel.operating_point`:
        its ``min_score`` for dates that differ by sensor noise, its ``min_score_dissimilar``
        for dates months apart). Lower finds more and raises more false alarms.
    progress : callable, optional
        ``progress(done, total, "blocks")`` once before the first block and after each block
        (from the worker threads, one call at a time; see `imagery_tool.progress`).

    Returns
    -------
    ChangeResult

    Raises
    ------
    IncompatibleTilesError, NoOverlapError
        As `coregister`.

    Examples
    --------
    >>> result = detect_changes("before.tif", "after.tif")  # doctest: +SKIP
    >>> [(r.change, r.bbox_px) for r in result.regions]  # doctest: +SKIP
    [('appeared', (812, 403, 961, 548))]
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    if max_size_m is None:
        max_size_m = math.inf
    if not 0 < min_size_m < max_size_m:
        raise ValueError(f"need 0 < min_size_m < max_size_m, got {min_size_m} and {max_size_m} m")
    # The process-wide settings of the run (`imagery_tool.runtime`), recorded in its result.
    in_force = current()
    workers = workers or in_force.workers
    with runtime(
        in_force,
        gdal_cache_mb=in_force.gdal_cache_mb or _GDAL_CACHE_MB,
        jpeg_cache_mb=max(in_force.jpeg_cache_mb, DEFAULT_JPEG_CACHE_MB + _JPEG_CACHE_EXTRA_MB),
        workers=workers,
        # OpenCV's pool only spins beside our block workers (`imagery_tool.runtime`)
        opencv_threads=1 if workers > 1 else in_force.opencv_threads,
    ) as settings:
        result = _detect(
            before,
            after,
            method=method,
            min_size_m=min_size_m,
            max_size_m=max_size_m,
            threshold=threshold,
            registration=registration,
            pixel_size_m=pixel_size_m,
            block_px=block_px,
            workers=workers,
            model=model,
            min_score=min_score,
            progress=progress,
        )
    result.parameters["runtime"] = settings.to_dict()
    return result


def _detect(
    before,
    after,
    *,
    method,
    min_size_m,
    max_size_m,
    threshold,
    registration,
    pixel_size_m,
    block_px,
    workers,
    model,
    min_score,
    progress,
) -> ChangeResult:
    spec = METHODS[method]
    before = before if isinstance(before, Tile) else open_tile(before)
    after = after if isinstance(after, Tile) else open_tile(after)
    if registration is None:
        registration = coregister(before, after, measure=spec.register)
    colour = spec.measure == "robust" and len(before.rgb_bands) == 3
    pair = AlignedPair.of(before, after, registration, bands=before.rgb_bands if colour else None)
    gsd = before.georef.mean_gsd_m
    assumed = gsd is None
    gsd = gsd or pixel_size_m or 0.5
    radiometry = _fit_radiometry(pair, spec.normalise)
    noise, otsu, span = _sample_levels(pair, radiometry, spec)
    bands = len(pair.bands)
    dissimilarity = noise / max(span, 1e-12)
    if spec.threshold == "otsu":
        level = threshold if threshold is not None else otsu
    else:
        k = DEFAULT_THRESHOLD if threshold is None else threshold
        level = change_level(noise, otsu, span, bands=bands, k=k)
    if spec.objects == "robust":
        model = model or default_model()
        if min_score is None:
            min_score = model.operating_point(dissimilarity_weight(dissimilarity))
        rules = RegionRules(
            min_size_m=min_size_m,
            max_size_m=max_size_m,
            pixel_size_m=gsd,
            model=model,
            min_score=min_score,
            # no changed object of the training scenes correlates above 0.7 between the dates
            structure_max=0.7,
            dissimilarity=dissimilarity,
        )
    else:
        rules = RegionRules(
            min_size_m=min_size_m,
            max_size_m=max_size_m,
            pixel_size_m=gsd,
            merge_m=0.0,
            open_px=0,
            structure_max=2.0,
        )
    unit = 1.0 if before.dtype == "uint8" else 100.0 / span
    job = _Job(pair, spec, radiometry, float(level), float(noise), rules, unit)
    regions = _run(job, block_px, workers, progress)
    return ChangeResult(
        regions=regions,
        registration=registration,
        before=before,
        after=after,
        method=method,
        parameters={
            "min_size_m": min_size_m,
            "max_size_m": max_size_m,
            "threshold": threshold
            if threshold is not None
            else (None if spec.threshold == "otsu" else DEFAULT_THRESHOLD),
            "threshold_level": round(float(level), 3),
            "noise": round(float(noise), 3),
            "dissimilarity": round(float(dissimilarity), 4),
            "pixel_size_m": gsd,
            "pixel_size_assumed": assumed,
            "min_score": rules.min_score if spec.objects == "robust" else None,
        },
    )


# How far apart the two dates are overall: the spread of their differences (`_sample_levels`)
# as a share of the scene's range. Below the first, the dates differ by sensor noise (frames
# seconds apart, the sample site's generated dates: 0.006 to 0.024 measured); beyond the
# second, by season, sun, sensor or processing (real pairs months apart: 0.08 to 0.5).
_CLEAN_PAIR, _DISSIMILAR_PAIR = 0.03, 0.06


def dissimilarity_weight(dissimilarity: float) -> float:
    """How much a pair is of the kind whose dates differ by more than noise, 0..1.

    0 for dates that differ by sensor noise (``dissimilarity`` at most 0.03), 1 for dates
    months apart (0.06 and more), linear between. It blends the two regimes of the change
    level (`change_level`) and of the region model's operating point.

    Parameters
    ----------
    dissimilarity : float
        The spread of the differences between the dates over the scene's range.

    Returns
    -------
    float
    """
    share = (dissimilarity - _CLEAN_PAIR) / (_DISSIMILAR_PAIR - _CLEAN_PAIR)
    return float(np.clip(share, 0.0, 1.0))


def change_level(noise: float, otsu: float, span: float, *, bands: int, k: float) -> float:
    """Return the change-vector magnitude that counts as change in a pair.

    Two dates that differ by sensor noise alone (a pair like the sample site's, or frames
    seconds apart) are compared against that noise: ``k`` standard deviations per band, a
    level nuisance rarely reaches. Two dates months apart differ everywhere by more than
    noise (season, sun and shadows, sensor, processing, a pixel of parallax): their spread
    of differences is the nuisance itself and no pixel stands ``k`` of them out. There, the
    pair's own histogram of magnitudes says where the most different pixels begin (Otsu's
    split, never above the noise rule); what they hold is left to the region model. Between
    the two kinds of pair (`dissimilarity_weight`), the levels blend geometrically.

    Parameters
    ----------
    noise : float
        Robust spread of one band's differences between the dates (BEFORE's units).
    otsu : float
        Otsu's threshold of the change-vector magnitudes of a sample of the pair.
    span : float
        The scene's range of values (2nd to 98th percentile of BEFORE).
    bands : int
    k : float
        The noise rule's multiple of the noise.

    Returns
    -------
    float
        In BEFORE's units; at least 3 % of ``span``.
    """
    noise_rule = k * noise * math.sqrt(bands)
    split = min(noise_rule, otsu)
    w = dissimilarity_weight(noise / max(span, 1e-12))
    level = noise_rule ** (1.0 - w) * split**w
    return max(level, 0.03 * span)


def _fit_radiometry(pair: AlignedPair, mode: str) -> Radiometry:
    bands = len(pair.bands)
    if mode == "none":
        return Radiometry.identity(bands)
    overlap = pair.overlap
    side = max(overlap.width, overlap.height)
    factor = max(1.0, side / 512)
    shape = (max(1, math.ceil(overlap.height / factor)), max(1, math.ceil(overlap.width / factor)))
    with pair.open() as (dsb, dsa):
        pixels_b, valid = pair.before.read_masked(
            window=overlap, out_shape=shape, dataset=dsb, bands=pair.bands
        )
        g = pair.mapping.local_matrix(
            overlap.col_off, overlap.row_off, overlap.width, overlap.height
        )
        pixels_a, valid_a = read_resampled(
            pair.after,
            g @ pair.registration.matrix3,
            overlap,
            shape,
            dataset=dsa,
            bands=pair.after_bands,
        )
    return fit_radiometry(
        pixels_b,
        pixels_a,
        valid & valid_a,
        origin=(float(overlap.col_off), float(overlap.row_off)),
        step=(overlap.width / shape[1], overlap.height / shape[0]),
        local=mode == "local",
    )


def _sample_levels(pair: AlignedPair, radiometry: Radiometry, spec: Method):
    """Sensor-noise level, Otsu threshold and value span from a sample of full-res windows."""
    ov = pair.overlap
    size = int(min(256, ov.width, ov.height))
    n = int(math.sqrt(_SAMPLE_WINDOWS))
    xs = np.linspace(ov.col_off, ov.col_off + ov.width - size, n).round().astype(int)
    ys = np.linspace(ov.row_off, ov.row_off + ov.height - size, n).round().astype(int)
    places = [(int(x), int(y)) for y in np.unique(ys) for x in np.unique(xs)]
    workers = current().workers

    def sample(part: list[tuple[int, int]]) -> list:
        with pair.open() as datasets:
            return [_sample_window(pair, radiometry, spec, x, y, size, datasets) for x, y in part]

    # every other window per thread, each thread with its own open files
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(sample, [places[k::workers] for k in range(workers)]))
    samples = [s for part in parts for s in part if s is not None]
    if not samples:
        return 1.0, 1.0, 255.0
    spreads, magnitudes, values = zip(*samples, strict=True)
    noise = float(np.median(np.concatenate(spreads))) * 1.4826
    allv = np.concatenate(values)
    span = float(np.percentile(allv, 98) - np.percentile(allv, 2)) or 1.0
    return max(noise, 1e-3 * span), _otsu(np.concatenate(magnitudes)), span


def _sample_window(pair, radiometry, spec, x, y, size, datasets):
    """Band spreads, change magnitudes and BEFORE values of one window (None: too few valid)."""
    b, a, valid = pair.read(Window(x, y, size, size), datasets=datasets)
    valid = _erode(valid, 3)
    if valid.sum() < 64:
        return None
    bf = b.astype(np.float32)
    af = radiometry.apply(a, col_off=x, row_off=y)
    values = bf[:, valid].ravel()[::7]
    if spec.measure == "robust":
        k = (smoothing_ksize(1.0),) * 2  # as the measure smooths
        bf = np.stack([cv2.GaussianBlur(v, k, 1.0) for v in bf])
        af = np.stack([cv2.GaussianBlur(v, k, 1.0) for v in af])
    d = (af - bf)[:, valid][:, ::5]
    spread = np.median(np.abs(d - np.median(d, axis=1)[:, None]), axis=1)
    return spread, cva_magnitude(bf, af)[valid][::3], values


def _otsu(values: np.ndarray) -> float:
    top = float(np.percentile(values, 99.9)) or 1.0
    hist, edges = np.histogram(np.clip(values, 0, top), bins=256, range=(0, top))
    p = hist / max(1, hist.sum())
    omega = np.cumsum(p)
    mu = np.cumsum(p * (edges[:-1] + edges[1:]) / 2)
    between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega) + 1e-12)
    return float(edges[int(np.argmax(between)) + 1])


def _erode(valid: np.ndarray, px: int) -> np.ndarray:
    if valid.all():
        out = np.zeros_like(valid)
        out[px:-px, px:-px] = True
        return out
    return cv2.erode(valid.view(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)).astype(bool)


def _measure(job: _Job, before: np.ndarray, after: np.ndarray, valid: np.ndarray) -> ChangeMaps:
    """Measure change between BEFORE (in its dtype) and normalised AFTER (float32)."""
    if job.method.measure == "robust":
        k = np.float32(job.unit)
        if job.unit != 1.0:
            before = before.astype(np.float32) * k
            after = after * k
        return robust_change(
            before, after, valid, threshold=job.threshold * job.unit, noise=job.noise * job.unit
        )
    before = before.astype(np.float32)
    strength = cva_magnitude(before, after) * np.float32(1.0 / job.threshold)
    gb, ga = before.mean(axis=0), after.mean(axis=0)
    return ChangeMaps((strength > 1.0) & valid, None, strength, gb, ga, before, after)


def _process(
    job: _Job, core: Window, edges: tuple[bool, bool, bool, bool], datasets, within=None
) -> tuple[list[ChangeRegion], list[Box], list[Box]]:
    """Read, measure and extract the objects of one block (core plus margin).

    Returns the objects, the pieces of cut objects and those of them holding change other
    than shadow (see `extract_regions`). With ``within`` (a BEFORE box), only objects that
    may meet it are extracted.
    """
    ov = job.pair.overlap
    c0 = max(ov.col_off, core.col_off - _MARGIN)
    r0 = max(ov.row_off, core.row_off - _MARGIN)
    c1 = min(ov.col_off + ov.width, core.col_off + core.width + _MARGIN)
    r1 = min(ov.row_off + ov.height, core.row_off + core.height + _MARGIN)
    ext = Window(c0, r0, c1 - c0, r1 - r0)
    b, a, valid = job.pair.read(ext, datasets=datasets)
    valid = _erode(valid, 3)
    if not valid.any():
        return [], [], []
    af = job.radiometry.apply(a, col_off=c0, row_off=r0)
    del a  # peak memory: both workers may be at their peak at once (OpenCV single-threaded)
    maps = _measure(job, b, af, valid)
    del b, af  # what the objects need is in the maps
    core_idx = (
        int(core.col_off - c0),
        int(core.row_off - r0),
        int(core.col_off + core.width - c0),
        int(core.row_off + core.height - r0),
    )
    if within is not None:
        within = (within[0] - c0, within[1] - r0, within[2] - c0, within[3] - r0)
    return extract_regions(
        maps,
        core=core_idx,
        open_edges=edges,
        origin=(int(c0), int(r0)),
        rules=job.rules,
        within=within,
    )


def _run(job: _Job, block_px: int, workers: int, progress: Progress | None) -> list[ChangeRegion]:
    ov = job.pair.overlap
    regions: list[ChangeRegion] = []
    seams: list[tuple[int, int, int, int]] = []
    # an object larger than this is measured in pieces (bounded memory whatever its size)
    longest = min(job.rules.max_size_m / job.rules.pixel_size_m, _MAX_OBJECT_PX)
    max_side = int(longest) + 2 * _MARGIN
    runs = strips(ov, block_px, workers)
    every = [block for run in runs for block in run]
    tracker = _SeamTracker(job, every, block_px=block_px, max_side=max_side)
    queue = BlockQueue(runs)
    counter = ProgressCounter(progress, len(every), "blocks")
    with ThreadPoolExecutor(workers) as pool:
        try:
            walks = pool.map(lambda _: _walk(job, queue, tracker, counter), range(workers))
            blocks = [b for run in walks for b in run]
        except BaseException:  # Ctrl-C, SIGTERM or a failed block: stop the other workers now
            queue.cancel()
            raise
        for _, found, cut in sorted(blocks, key=lambda block: block[0]):  # row-major order
            regions.extend(found)
            seams.extend(cut)
        cut_groups = group_boxes(seams, gap=_SEAM_GAP, max_side=max_side)
        order = sorted(range(len(cut_groups)), key=lambda k: (cut_groups[k][1], cut_groups[k][0]))
        # every group was measured as soon as it was complete (see `_SeamTracker`); any left
        # over is measured now
        left = [cut_groups[k] for k in order if cut_groups[k] not in tracker.found]
        list(pool.map(lambda run: _walk_seams(job, run, tracker), chunks(left, workers)))
        for k in order:
            regions.extend(tracker.found[cut_groups[k]])
    # Without a model, fragments near a larger object are taken for pieces of it; a model
    # scores them itself (a vehicle parked by an aircraft is not a fragment of it).
    return _dedupe(regions, absorb=job.rules.open_px > 1 and job.rules.model is None)


class _SeamTracker:
    """Measure the objects cut by block seams as soon as all their pieces are known.

    An object cut by a seam that no block sees whole (most are measured by the block holding
    their centre, see `extract_regions`) is measured again whole, in a window around the group
    of its pieces (`group_boxes`). Measured after all blocks, those windows decode again the JPEG
    tiles that their blocks decoded long before (a tenth of the decoding at 10000 px). Here a
    group is measured by the worker that finishes the last block able to add a piece to it,
    while the tiles are still in GDAL's block cache. The group, its window and so its regions
    are the same as measured at the end (`_run` looks them up by the group's box).
    """

    def __init__(self, job: _Job, blocks: list, *, block_px: int, max_side: int) -> None:
        self.job = job
        self.max_side = max_side
        self.block_px = block_px
        ov = job.pair.overlap
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
            for group in groups(self.open, _SEAM_GAP):
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
        g = _SEAM_GAP
        # the blocks whose window can reach the piece: its own and their neighbours
        reach = g + _MARGIN
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
            found, _, _ = _process(self.job, *_seam_window(box, self.limits), datasets, within=box)
            self.found[box] = [r for r in found if intersects(r.bbox_px, box)]


_SEAM_GAP = 4  # pieces of cut objects this close (px) are pieces of one object


def _extended(core: Window, limits: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``(c0, r0, c1, r1)`` of a block's core plus margin, within the overlap (see `_process`)."""
    return (
        max(limits[0], int(core.col_off) - _MARGIN),
        max(limits[1], int(core.row_off) - _MARGIN),
        min(limits[2], int(core.col_off + core.width) + _MARGIN),
        min(limits[3], int(core.row_off + core.height) + _MARGIN),
    )


def _seam_window(box, limits: tuple[int, int, int, int]) -> tuple[Window, tuple[bool, ...]]:
    """Return the window (and closed edges) in which a group of cut pieces is measured whole."""
    c0, r0, c1, r1 = box
    pad = 16
    wc0, wr0 = max(limits[0], c0 - pad), max(limits[1], r0 - pad)
    wc1, wr1 = min(limits[2], c1 + pad), min(limits[3], r1 + pad)
    return Window(wc0, wr0, wc1 - wc0, wr1 - wr0), (False,) * 4


def _walk(
    job: _Job, queue: BlockQueue, tracker: _SeamTracker, counter: ProgressCounter
) -> list[tuple[int, list, list]]:
    """Process blocks from the queue with one pair of open files: ``(index, regions, seams)``.

    After each block, the groups of cut pieces it completes are measured (`_SeamTracker`).
    """
    out = []
    state = None
    with job.pair.open() as datasets:
        try:
            while (got := queue.take(state)) is not None:
                state, (k, core, edges) = got
                found, cut, evident = _process(job, core, edges, datasets)
                out.append((k, found, cut))
                tracker.measure(tracker.block_done(k, cut, evident), datasets)
                counter.step()
        except BaseException:  # a failed block fails the run: the other workers stop too
            queue.cancel()
            raise
    return out


def _walk_seams(job: _Job, boxes: list, tracker: _SeamTracker) -> None:
    with job.pair.open() as datasets:
        tracker.measure(boxes, datasets)


def _dedupe(regions: list[ChangeRegion], *, absorb: bool) -> list[ChangeRegion]:
    """Drop duplicates (seams) and, when ``absorb``, fragments against a larger object.

    A fragment is a piece of a larger object's shadow or of the object itself: one object,
    one region.
    """
    ordered = sorted(regions, key=lambda r: -r.score)
    boxes = [r.bbox_px for r in ordered]
    reach = max([8] + [int(max(4.0, 0.15 * r.length_px)) + 1 for r in ordered])
    drop = set()
    for i, j in near_pairs(boxes, reach):
        a, b = ordered[i], ordered[j]  # a scores at least as high as b
        if i in drop or j in drop:
            continue
        if a.iou(b.bbox_px) >= 0.5 or absorb and _absorbed(b, a):
            drop.add(j)
        elif absorb and _absorbed(a, b):
            drop.add(i)
    kept = [r for k, r in enumerate(ordered) if k not in drop]
    return sorted(kept, key=lambda r: (r.bbox_px[1], r.bbox_px[0]))


def _absorbed(small: ChangeRegion, big: ChangeRegion) -> bool:
    if big.area_px < 4 * small.area_px:
        return False
    a, b = small.bbox_px, big.bbox_px
    gap_c = max(0, max(a[0], b[0]) - min(a[2], b[2]))
    gap_r = max(0, max(a[1], b[1]) - min(a[3], b[3]))
    return max(gap_c, gap_r) <= max(4.0, 0.15 * big.length_px)
