"""Run a time series end to end, resumably: registrations, pair detections, tracks, timeline."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from imagery_tool.atomic import atomic_write_text, check_output
from imagery_tool.change.options import DetectionOptions, with_settings
from imagery_tool.change.result import ChangeResult
from imagery_tool.errors import DetectionOptionError, SeriesRunError
from imagery_tool.progress import Progress
from imagery_tool.registration import Registration
from imagery_tool.runtime import Runtime, current
from imagery_tool.series.assemble import build_timeline, site_inventory
from imagery_tool.series.engine import (
    DEFAULT_CONNECT_TIMEOUT_S,
    Task,
    TaskLost,
    open_engine,
    run_token,
)
from imagery_tool.series.inputs import SiteSeries, collect_inputs
from imagery_tool.series.state import (
    STATE_FILE,
    STATE_VERSION,
    SiteWork,
    load_state,
    registration_from_record,
)
from imagery_tool.series.tasks import TaskFailure, detect_pair, register_date
from imagery_tool.series.timeline import write_timeline
from imagery_tool.sitestack import Skipped, fingerprint

__all__ = ["STATE_FILE", "SeriesReport", "SiteReport", "run_series"]

SUMMARY_FILE = "series.json"  # in OUTDIR: the run's report


@dataclass
class SiteReport:
    """What a run did for one site.

    Attributes
    ----------
    name : str
    outdir : Path
        Where the site's files are (OUTDIR itself when the input holds one site).
    dates : list of str
        ISO acquisition times in order.
    tiles : list of str
        The tiles in date order.
    crs : list of str
        The distinct CRSs of the tiles (``"none"`` without georeference).
    pairs : list of str
        Pair file names (``pairs/<before>_to_<after>.geojson``) in date order.
    computed, reused : list of str
        Pair names computed by this run and reused from an earlier one.
    recomputed : dict of str to str
        Pairs whose file existed but was recomputed, and why.
    failures : list of str
        One line per pair or date that failed.
    registrations : dict of str to dict
        How each later date was placed on the first, by tile stem: ``status`` (``"applied"``,
        or ``"fallback"`` to the georeference alone: reported, not a failure), ``reason``,
        ``confidence``, ``dx`` and ``dy`` (px).
    objects : int
        Tracks in the timeline.
    timeline : dict of str to Path
        ``json``, ``csv``, ``png`` (empty when the site failed).
    megapixels : float
        Pixels of the pairs computed by this run, in millions.
    """

    name: str
    outdir: Path
    dates: list[str]
    tiles: list[str]
    crs: list[str]
    pairs: list[str] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    recomputed: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    registrations: dict[str, dict] = field(default_factory=dict)
    objects: int = 0
    timeline: dict[str, Path] = field(default_factory=dict)
    megapixels: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "site": self.name,
            "outdir": str(self.outdir),
            "status": "failed" if self.failures else "ok",
            "dates": self.dates,
            "tiles": self.tiles,
            "crs": self.crs,
            "pairs": self.pairs,
            "computed": self.computed,
            "reused": self.reused,
            "recomputed": self.recomputed,
            "failures": self.failures,
            "registrations": self.registrations,
            "objects": self.objects,
            "timeline": {k: str(v) for k, v in self.timeline.items()},
        }


@dataclass
class SeriesReport:
    """What a run did: sites, skipped files, engine and timings.

    Attributes
    ----------
    source, outdir : Path
    engine : str
        The scheduler used, in words.
    sites : list of SiteReport
    skipped : list of Skipped
    seconds : float
        Wall time of the whole run.
    compute_seconds : float
        Wall time of the Dask phase (registrations and pair detections).
    megapixels : float
        Pixels of the pairs computed by this run (BEFORE grid), in millions.
    """

    source: Path
    outdir: Path
    engine: str
    sites: list[SiteReport]
    skipped: list[Skipped]
    seconds: float = 0.0
    compute_seconds: float = 0.0
    megapixels: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every site has its timeline."""
        return not any(s.failures for s in self.sites)

    @property
    def throughput_mp_s(self) -> float | None:
        """Megapixels of pairs computed per second of the Dask phase."""
        if self.megapixels == 0 or self.compute_seconds <= 0:
            return None
        return self.megapixels / self.compute_seconds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (also written to ``OUTDIR/series.json``)."""
        mps = self.throughput_mp_s
        return {
            "source": str(self.source),
            "outdir": str(self.outdir),
            "status": "ok" if self.ok else "failed",
            "engine": self.engine,
            "seconds": round(self.seconds, 2),
            "compute_seconds": round(self.compute_seconds, 2),
            "megapixels": round(self.megapixels, 2),
            "throughput_mp_s": None if mps is None else round(mps, 3),
            "sites": [s.to_dict() for s in self.sites],
            "skipped": [s.to_dict() for s in self.skipped],
        }


def _report_registration(site: SiteWork, index: int, registration: Registration) -> None:
    """Say in the site's report how a date was placed on the first (a fallback is no error)."""
    site.registrations[index] = registration
    site.report.registrations[site.tiles[index].stem] = {
        "status": registration.status,
        "reason": registration.reason,
        "confidence": registration.confidence,
        "dx": round(registration.dx, 3),
        "dy": round(registration.dy, 3),
    }


def run_series(
    source: str | Path,
    outdir: str | Path,
    options: DetectionOptions | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    duplicates: str = "error",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
    block_px: int = 1024,
    inventory: bool = False,
    store: str | Path | None = None,
    progress: Progress | None = None,
    **settings: object,
) -> SeriesReport:
    """Detect and track changes over a time series of tiles, on Dask.

    The tiles of each site are put in time order; every date is co-registered to the first
    date's grid (the reference), changes are detected for each consecutive pair, and the
    pairs' regions are chained into object tracks on the reference grid. Registrations and
    pairs are independent Dask tasks that run in parallel; results come back to this process,
    which writes every file atomically as soon as it arrives, so an interrupted run loses
    only the work in flight. A rerun reuses the pair files made from the same inputs with the
    same options (``force`` recomputes them).

    Files (per site; in OUTDIR when the input holds one site, else in ``OUTDIR/<site>``):
    ``pairs/<before>_to_<after>.geojson`` (the detector's GeoJSON, ``.json`` without
    georeference), ``timeline.json``, ``timeline.csv``, ``timeline.png`` and ``state.json``
    (what the pair files were made from). ``OUTDIR/series.json`` reports the run.

    Parameters
    ----------
    source : str or Path
        A folder of dated tiles or a STAC catalog (see `collect_inputs`).
    outdir : str or Path
        Output folder (created).
    options : DetectionOptions, optional
        How each pair's changes are detected (`imagery_tool.change.detect_changes`; default:
        `DetectionOptions()`); recorded per pair in ``state.json``. Its ``pixel_size_m`` is
        also the inventory's pixel size for tiles without georeference.
    scheduler : str, optional
        ``"processes"`` (default), ``"threads"``, ``"sync"``, or the address of a
        dask.distributed scheduler ``tcp://HOST:PORT``.
    workers : int, optional
        Local workers (default: those of the runtime in force, `imagery_tool.runtime.current`:
        the usable cores, at most one per GiB of memory); not with an address.
    force : bool
        Recompute pairs and registrations even when their files are up to date.
    duplicates : {"error", "first"}
        Tiles of one site with the same acquisition time (see `collect_inputs`).
    connect_timeout : float
        Seconds to wait for a cluster's scheduler.
    block_px : int
        Block side for the detection inside a pair.
    inventory : bool
        Also count the aircraft on every date (`imagery_tool.aircraft.inventory`: accepted
        boxes of ``store`` for the tiles it knows, single-date proposals elsewhere), write
        ``inventory.csv/.geojson/.png`` beside the timeline, add the counts to each date of
        the timeline, and track the aircraft no change explains (those present from the first
        date), so that they are counted and followed too.
    store : str or Path, optional
        Annotation store for the inventory.
    progress : callable, optional
        ``progress(done, total, label)`` after every finished task (and once at the start).
    **settings
        Fields of `DetectionOptions` replacing those of ``options``
        (``run_series(src, out, method="cva")``).

    Returns
    -------
    SeriesReport

    Raises
    ------
    TypeError
        A keyword that is no parameter and no `DetectionOptions` field.
    DetectionOptionError
        An option out of range (it names the option).
    SeriesInputError
        No usable series in ``source``, or duplicate dates under ``duplicates="error"``.
    SchedulerError
        The cluster's scheduler cannot be reached.
    OutputWriteError
        ``outdir`` is a file or the input, cannot be created or written, or the disk is full;
        files already written are complete and recorded in ``state.json`` for a rerun.
    SeriesRunError
        Some pairs or dates failed (bad data, or workers kept dying); the finished pairs are
        kept and ``series.json`` lists the failures; the sites concerned get no timeline.
    """
    options = with_settings(options, settings, caller="run_series")
    started = time.perf_counter()
    outdir = check_output(outdir, inputs=[source], option="output folder", folder=True)
    in_force = current()  # the tasks run with it; its JPEG decoder is recorded in the state
    with open_engine(scheduler, workers=workers, connect_timeout=connect_timeout) as engine:
        inputs = collect_inputs(source, duplicates=duplicates, exclude=outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        sites = [_prepare(s, outdir, len(inputs.sites) > 1) for s in inputs.sites]
        report = SeriesReport(
            Path(source), outdir, engine.describe(), [s.report for s in sites], list(inputs.skipped)
        )
        tasks, handlers = _plan(
            sites, force=force, options=options, settings=in_force,
            block_px=block_px, engine=engine,
        )  # fmt: skip
        total = len(tasks)
        done = 0
        if progress is not None:
            progress(0, total, "starting")

        def on_result(task: Task, value: Any) -> None:
            nonlocal done
            handlers[task.key](value)
            done += 1
            if progress is not None:
                progress(done, total, task.key.rsplit("-", 1)[0])

        t0 = time.perf_counter()
        lost = engine.run(tasks, on_result)
        report.compute_seconds = time.perf_counter() - t0
    _record_lost(lost, sites)
    report.megapixels = sum(s.report.megapixels for s in sites)
    for site in sites:
        if site.report.failures:
            continue
        counted = None
        if inventory:
            counted = site_inventory(site, store=store, pixel_size_m=options.pixel_size_m)
        timeline, chips = build_timeline(site, counted)
        site.report.timeline = write_timeline(timeline, site.outdir, chips=chips)
        if counted is not None:
            from imagery_tool.aircraft.inventory import write_inventory

            files = write_inventory(counted, site.outdir)
            site.report.timeline.update({f"inventory_{k}": p for k, p in files.items()})
        site.report.objects = len(timeline.tracks)
    report.seconds = time.perf_counter() - started
    summary = json.dumps(report.to_dict(), indent=1) + "\n"
    atomic_write_text(outdir / SUMMARY_FILE, summary)
    if not report.ok:
        failures = [f for s in sites for f in s.report.failures]
        kept = sum(len(s.report.computed) + len(s.report.reused) for s in sites)
        raise SeriesRunError(
            f"{outdir}: {len(failures)} task(s) failed, first: {failures[0]}; the {kept} "
            f"finished pair file(s) are kept and {SUMMARY_FILE} lists the failures: fix the "
            "cause and run the same command again to finish"
        )
    return report


def _prepare(series: SiteSeries, outdir: Path, several: bool) -> SiteWork:
    site_dir = outdir / series.name if several else outdir
    (site_dir / "pairs").mkdir(parents=True, exist_ok=True)
    report = SiteReport(
        name=series.name,
        outdir=site_dir,
        dates=[t.iso for t in series.tiles],
        tiles=[str(t.path) for t in series.tiles],
        crs=series.crs,
    )
    state = load_state(site_dir / STATE_FILE)
    state = {
        "version": STATE_VERSION,
        "pairs": state.get("pairs", {}),
        "registrations": state.get("registrations", {}),
    }
    site = SiteWork(series, site_dir, report, state)
    report.pairs = [
        str(site.pair_path(k).relative_to(site_dir)) for k in range(len(series.tiles) - 1)
    ]
    return site


def _plan(
    sites: list[SiteWork],
    *,
    force: bool,
    options: DetectionOptions,
    settings: Runtime,
    block_px: int,
    engine,
):
    """Tasks for what is not done yet, and a handler per task key.

    A registration is done when ``state.json`` records it for the same files and JPEG decoder;
    a pair when its file exists and ``state.json`` records it made from the same files
    (`fingerprint`) with the same detection options and JPEG decoder.
    """
    token = run_token()
    tasks: list[Task] = []
    handlers: dict[str, Callable[[Any], None]] = {}
    pair_tasks: list[tuple[SiteWork, int]] = []
    for site in sites:
        ref = site.tiles[0]
        ref_fp = fingerprint(ref.path)
        for i, dated in enumerate(site.tiles[1:], start=1):
            expected = {
                "reference": ref_fp,
                "tile": fingerprint(dated.path),
                "jpeg_decoder": settings.jpeg_decoder,
            }
            cached = site.state["registrations"].get(dated.stem)
            if not force and _registration_is_current(cached, expected):
                _report_registration(site, i, registration_from_record(cached["registration"]))
                continue
            key = f"register-{site.report.name}-{dated.stem}-{token}"
            paths = (str(ref.path), str(dated.path))
            tasks.append(Task(key, register_date, paths, {"settings": settings}))
            handlers[key] = _on_registration(site, i, expected)
        for k in range(len(site.tiles) - 1):
            name = site.pair_name(k)
            path = site.pair_path(k)
            before, after = site.tiles[k], site.tiles[k + 1]
            gsd_m = before.tile.georef.mean_gsd_m
            expected = {
                "before": fingerprint(before.path),
                "after": fingerprint(after.path),
                "options": _options_record(options, gsd_m),
                "jpeg_decoder": settings.jpeg_decoder,
                "file": path.name,
            }
            recorded = _recorded_pair(site.state["pairs"].get(name), gsd_m)
            if path.exists() and not force:
                if recorded == expected:
                    site.report.reused.append(name)
                    continue
                site.report.recomputed[name] = (
                    "made from other inputs or settings"
                    if recorded
                    else "not recorded as finished in state.json"
                )
            pair_tasks.append((site, k))
            key = f"detect-{site.report.name}-{name}-{token}"
            mp = before.tile.width * before.tile.height / 1e6
            tasks.append(
                Task(
                    key,
                    detect_pair,
                    (str(before.path), str(after.path)),
                    {"options": options, "block_px": block_px, "settings": settings},
                    megapixels=mp,
                )
            )
            handlers[key] = _on_pair(site, k, expected, mp)
    # threads inside a pair: spare local workers when there are fewer pairs than workers
    n_pairs = max(1, len(pair_tasks))
    inner = max(1, engine.workers // n_pairs) if engine.name != "distributed" else 1
    if inner > 1:
        tasks = [
            Task(t.key, t.func, t.args, {**t.kwargs, "threads": inner}, t.megapixels)
            if t.func in (detect_pair, register_date)
            else t
            for t in tasks
        ]
    # pairs first (the long tasks), then registrations
    tasks.sort(key=lambda t: (t.func is not detect_pair, t.key))
    return tasks, handlers


def _registration_is_current(cached: dict | None, expected: dict[str, Any]) -> bool:
    """Whether a recorded registration was measured on the same files with the same decoder.

    A registration recorded before the decoder was is taken as made with the default
    decoder (ours), as the pairs are.
    """
    if not cached:
        return False
    recorded = {key: cached.get(key) for key in ("reference", "tile")}
    recorded["jpeg_decoder"] = cached.get("jpeg_decoder", True)
    return recorded == expected


def _options_record(options: DetectionOptions, gsd_m: float | None) -> dict[str, Any]:
    """Record the options that decide a pair's result, for its entry in ``state.json``.

    Tiles with a ground sample distance of their own do not use ``pixel_size_m``: it is
    recorded as None, so that changing it alone recomputes only the pairs without one.
    """
    if gsd_m is not None:
        options = replace(options, pixel_size_m=None)
    return options.to_dict()


def _recorded_pair(entry: Any, gsd_m: float | None) -> dict[str, Any]:
    """Read a pair's entry of ``state.json`` in today's form; empty when there is none.

    Entries written when only the method and the minimum score reached the pairs are read
    with the other options at their defaults and the default JPEG decoder. An entry whose
    options this version refuses (or cannot read) counts as not recorded: the pair is
    computed again rather than the run stopped over a flag the user never passed.
    """
    if not isinstance(entry, dict):
        return {}
    recorded = dict(entry)
    try:
        if "options" in recorded:
            chosen = recorded["options"]
        else:
            chosen = {k: recorded.pop(k) for k in ("method", "min_score") if k in recorded}
            # and JPEG tiles went through our decoder unless IMAGERY_TOOL_GDAL_JPEG was set
            recorded.setdefault("jpeg_decoder", True)
        recorded["options"] = _options_record(DetectionOptions.from_dict(chosen), gsd_m)
    except (DetectionOptionError, TypeError):
        return {}
    return recorded


def _on_registration(site: SiteWork, index: int, expected: dict[str, Any]):
    def handle(value: Any) -> None:
        if isinstance(value, TaskFailure):
            site.report.failures.append(value.message)  # names the tile already
            return
        _report_registration(site, index, value)
        site.state["registrations"][site.tiles[index].stem] = {
            **expected,
            "registration": value.to_dict(),
        }
        site.save_state()

    return handle


def _on_pair(site: SiteWork, k: int, expected: dict, megapixels: float):
    name = site.pair_name(k)

    def handle(value: Any) -> None:
        if isinstance(value, TaskFailure):
            site.report.failures.append(f"{name}: {value.message}")
            return
        result: ChangeResult = value
        result.write(site.pair_path(k))
        site.state["pairs"][name] = expected
        site.save_state()
        site.report.computed.append(name)
        site.report.megapixels += megapixels

    return handle


def _record_lost(lost: list[TaskLost], sites: list[SiteWork]) -> None:
    for item in lost:
        site = next(
            (
                s
                for s in sites
                if item.key.startswith((f"detect-{s.report.name}-", f"register-{s.report.name}-"))
            ),
            sites[0],
        )
        site.report.failures.append(
            f"{item.key.rsplit('-', 1)[0]} was lost ({item.message}); the cluster gave up on "
            "it: check the workers' memory and logs"
        )
