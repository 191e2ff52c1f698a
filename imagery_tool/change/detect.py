"""Detect changed objects between two dates, block by block with bounded memory."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rasterio.windows import Window

from imagery_tool.change.blocks import MARGIN_PX, BlockQueue, chunks, group_boxes, strips
from imagery_tool.change.level import (
    VALID_MARGIN_PX,
    change_level,
    dissimilarity,
    dissimilarity_weight,
    sample_levels,
)
from imagery_tool.change.measure import ChangeMaps, cva_magnitude, erode_valid, robust_change
from imagery_tool.change.methods import METHODS, Method
from imagery_tool.change.model import RegionModel, default_model
from imagery_tool.change.objects import Box, RegionRules, extract_regions
from imagery_tool.change.options import DEFAULT_THRESHOLD, DetectionOptions, with_settings
from imagery_tool.change.region import ChangeRegion
from imagery_tool.change.result import ChangeResult
from imagery_tool.change.seams import SEAM_GAP, SeamTracker, dedupe, walk_seams
from imagery_tool.progress import Progress, ProgressCounter
from imagery_tool.radiometry import Radiometry, fit_radiometry
from imagery_tool.registration import AlignedPair, Registration, coregister
from imagery_tool.registration.warp import read_resampled
from imagery_tool.runtime import DEFAULT_JPEG_CACHE_MB, current, runtime, thread_pool
from imagery_tool.tile import Tile, open_tile

__all__ = ["detect_changes"]

# no changed object of the training scenes correlates above this between the dates
_ROBUST_STRUCTURE_MAX = 0.7
_PLAIN_STRUCTURE_MAX = 2.0  # above any correlation: the plain methods drop no object for it
_PERCENT_SPAN = 100.0  # non-8-bit values are measured in percent of the scene's range
_RADIOMETRY_SIDE_PX = 512  # the tone curve and haze are fitted on a view this long
_MAX_OBJECT_PX = 4096  # objects longer than this (px) are reported in pieces
# GDAL's block cache (5 % of RAM by default) counts in peak memory; it must hold the decoded
# tiles that neighbouring blocks share (their margins), else each is decoded up to 4 times.
# Used unless the runtime in force sets another (`imagery_tool.runtime`).
_GDAL_CACHE_MB = 128
# Likewise our JPEG decoder's cache (`imagery_tool.jpeg_tiles`): a worker's strip needs four
# tile rows of both files at hand (its blocks' margins reach the rows above and below), two
# workers about 100 MiB; with this much more than the runtime's default bound (96 MiB), a
# 10000 px pair decodes 1100 tiles for its 800 instead of 1290. At least that much: a larger
# bound in force is kept (concurrent detections ask for the same bound: they do not add up).
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
    options: DetectionOptions | None = None,
    *,
    registration: Registration | None = None,
    model: RegionModel | None = None,
    progress: Progress | None = None,
    block_px: int = 1024,
    workers: int | None = None,
    **settings: object,
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
    options : DetectionOptions, optional
        What to detect and how (method, sizes, threshold, min score, registration model,
        pixel size); default: `DetectionOptions()`. See `imagery_tool.change.options`.
    registration : Registration, optional
        A registration measured before (from `coregister`); measured here by default, with
        ``options.registration_model``.
    model : RegionModel, optional
        For ``"robust"``: the model that scores candidate objects (default: the one shipped,
        trained on generated scenes; see `imagery_tool.change.model`).
    progress : callable, optional
        ``progress(done, total, "blocks")`` once before the first block and after each block
        (from the worker threads, one call at a time; see `imagery_tool.progress`).
    block_px : int
        Side of the blocks processed at once.
    workers : int, optional
        Threads over blocks (default: the runtime's, `imagery_tool.runtime.usable_workers`).
    **settings
        Fields of `DetectionOptions` replacing those of ``options`` (their meaning and
        defaults are documented there): ``detect_changes(b, a, method="cva", min_size_m=5)``.

    Returns
    -------
    ChangeResult
        Its ``parameters`` record the options (``parameters["options"]``, `to_dict`), the
        values they led to for this pair (``threshold_level``, ``noise``, ``dissimilarity``,
        ``pixel_size_m``, ``pixel_size_assumed``, ``min_score``) and the runtime settings
        (``runtime``); all JSON (no infinity).

    Raises
    ------
    TypeError
        A keyword that is no parameter and no `DetectionOptions` field.
    DetectionOptionError
        An option out of range (it names the option).
    IncompatibleTilesError, NoOverlapError
        As `coregister`.

    Examples
    --------
    >>> result = detect_changes("before.tif", "after.tif")  # doctest: +SKIP
    >>> [(r.change, r.bbox_px) for r in result.regions]  # doctest: +SKIP
    [('appeared', (812, 403, 961, 548))]
    >>> detect_changes("b.tif", "a.tif", method="cva", min_size_m=5)  # doctest: +SKIP
    """
    options = with_settings(options, settings, caller="detect_changes")
    # The process-wide settings of the run (`imagery_tool.runtime`), recorded in its result.
    in_force = current()
    workers = workers or in_force.workers
    with runtime(
        gdal_cache_mb=_GDAL_CACHE_MB if in_force.gdal_cache_mb is None else in_force.gdal_cache_mb,
        jpeg_cache_mb=max(in_force.jpeg_cache_mb, DEFAULT_JPEG_CACHE_MB + _JPEG_CACHE_EXTRA_MB),
        workers=workers,
        # OpenCV's pool only spins beside our block workers (`imagery_tool.runtime`)
        opencv_threads=1 if workers > 1 else in_force.opencv_threads,
    ) as tuned:
        result = _detect(
            before,
            after,
            options,
            registration=registration,
            block_px=block_px,
            workers=workers,
            model=model,
            progress=progress,
        )
    result.parameters["runtime"] = tuned.to_dict()
    return result


def _detect(
    before: Tile | str | Path,
    after: Tile | str | Path,
    options: DetectionOptions,
    *,
    registration: Registration | None,
    block_px: int,
    workers: int,
    model: RegionModel | None,
    progress: Progress | None,
) -> ChangeResult:
    method, threshold = options.method, options.threshold
    max_size_m = math.inf if options.max_size_m is None else options.max_size_m
    spec = METHODS[method]
    before = before if isinstance(before, Tile) else open_tile(before)
    after = after if isinstance(after, Tile) else open_tile(after)
    if registration is None:
        registration = coregister(
            before, after, model=options.registration_model, measure=spec.register
        )
    colour = spec.measure == "robust" and len(before.rgb_bands) == 3
    pair = AlignedPair.of(before, after, registration, bands=before.rgb_bands if colour else None)
    gsd = options.ground_pixel_size(before.georef.mean_gsd_m)
    assumed = before.georef.mean_gsd_m is None
    radiometry = _fit_radiometry(pair, spec.normalise)
    noise, otsu, span = sample_levels(pair, radiometry, spec)
    bands = len(pair.bands)
    apart = dissimilarity(noise, span)
    if spec.threshold == "otsu":
        level = threshold if threshold is not None else otsu
    else:
        k = DEFAULT_THRESHOLD if threshold is None else threshold
        level = change_level(noise, otsu, span, bands=bands, k=k)
    if spec.objects == "robust":
        model = model or default_model()
        min_score = options.min_score
        if min_score is None:
            min_score = model.operating_point(dissimilarity_weight(apart))
        rules = RegionRules(
            min_size_m=options.min_size_m,
            max_size_m=max_size_m,
            pixel_size_m=gsd,
            model=model,
            min_score=min_score,
            structure_max=_ROBUST_STRUCTURE_MAX,
            dissimilarity=apart,
        )
    else:
        rules = RegionRules(
            min_size_m=options.min_size_m,
            max_size_m=max_size_m,
            pixel_size_m=gsd,
            merge_m=0.0,  # the textbook pipeline: connected pixels as they are
            open_px=0,
            structure_max=_PLAIN_STRUCTURE_MAX,
        )
    unit = 1.0 if before.dtype == "uint8" else _PERCENT_SPAN / span
    job = _Job(pair, spec, radiometry, float(level), float(noise), rules, unit)
    regions = _run(job, block_px, workers, progress)
    return ChangeResult(
        regions=regions,
        registration=registration,
        before=before,
        after=after,
        method=method,
        parameters={
            "options": options.to_dict(),
            "threshold_level": round(float(level), 3),
            "noise": round(float(noise), 3),
            "dissimilarity": round(float(apart), 4),
            "pixel_size_m": gsd,
            "pixel_size_assumed": assumed,
            "min_score": rules.min_score if spec.objects == "robust" else None,
        },
    )


def _fit_radiometry(pair: AlignedPair, mode: str) -> Radiometry:
    bands = len(pair.bands)
    if mode == "none":
        return Radiometry.identity(bands)
    overlap = pair.overlap
    side = max(overlap.width, overlap.height)
    factor = max(1.0, side / _RADIOMETRY_SIDE_PX)
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
    c0 = max(ov.col_off, core.col_off - MARGIN_PX)
    r0 = max(ov.row_off, core.row_off - MARGIN_PX)
    c1 = min(ov.col_off + ov.width, core.col_off + core.width + MARGIN_PX)
    r1 = min(ov.row_off + ov.height, core.row_off + core.height + MARGIN_PX)
    ext = Window(c0, r0, c1 - c0, r1 - r0)
    b, a, valid = job.pair.read(ext, datasets=datasets)
    valid = erode_valid(valid, VALID_MARGIN_PX)
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
    max_side = int(longest) + 2 * MARGIN_PX
    workers = max(1, min(workers, _block_count(ov, block_px)))  # no idle thread opens the files
    runs = strips(ov, block_px, workers)
    every = [block for run in runs for block in run]
    tracker = SeamTracker(
        ov,
        every,
        block_px=block_px,
        max_side=max_side,
        measure_window=lambda window, edges, datasets, box: _process(
            job, window, edges, datasets, within=box
        )[0],
        open_datasets=job.pair.open,
    )
    queue = BlockQueue(runs)
    counter = ProgressCounter(progress, len(every), "blocks")
    with thread_pool(workers) as pool:
        try:
            walks = pool.map(lambda _: _walk(job, queue, tracker, counter), range(workers))
            blocks = [b for run in walks for b in run]
        except BaseException:  # Ctrl-C, SIGTERM or a failed block: stop the other workers now
            queue.cancel()
            raise
        for _, found, cut in sorted(blocks, key=lambda block: block[0]):  # row-major order
            regions.extend(found)
            seams.extend(cut)
        cut_groups = group_boxes(seams, gap=SEAM_GAP, max_side=max_side)
        order = sorted(range(len(cut_groups)), key=lambda k: (cut_groups[k][1], cut_groups[k][0]))
        # every group was measured as soon as it was complete (see `SeamTracker`); any left
        # over is measured now
        left = [cut_groups[k] for k in order if cut_groups[k] not in tracker.found]
        list(pool.map(lambda run: walk_seams(tracker, run), chunks(left, workers)))
        for k in order:
            regions.extend(tracker.found[cut_groups[k]])
    # Without a model, fragments near a larger object are taken for pieces of it; a model
    # scores them itself (a vehicle parked by an aircraft is not a fragment of it).
    return dedupe(regions, absorb=job.rules.open_px > 1 and job.rules.model is None)


def _block_count(overlap: Window, block_px: int) -> int:
    """Return how many blocks of ``block_px`` cover ``overlap``."""
    return math.ceil(overlap.width / block_px) * math.ceil(overlap.height / block_px)


def _walk(
    job: _Job, queue: BlockQueue, tracker: SeamTracker, counter: ProgressCounter
) -> list[tuple[int, list, list]]:
    """Process blocks from the queue with one pair of open files: ``(index, regions, seams)``.

    After each block, the groups of cut pieces it completes are measured (`SeamTracker`).
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
