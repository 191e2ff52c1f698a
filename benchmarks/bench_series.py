"""Throughput of `imagery-tool series` on a 12-date series, local and distributed, 1 and 2 workers.

Usage::

    python benchmarks/bench_series.py         # 12 dates of 4096 x 4096: local/distributed, 1 and 2
    python benchmarks/bench_series.py --size 2048 --configs local-2,distributed-2
    python benchmarks/bench_series.py --scheduler tcp://HOST:8786 --data /shared/series_4096

The series is generated once into ``benchmarks/_data/series_<size>`` (git-ignored) by the
synthetic generator (`imagery_tool_synthetic.timeline`). Each configuration recomputes every pair
(``force=True``) into a fresh folder. Throughput is megapixels of pairs (BEFORE grid) per second
of the Dask phase; cluster start-up is timed separately. Results are appended, one JSON record
per configuration, to ``bench_series_<size>.jsonl`` beside the data folder as each finishes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = ("local-1", "local-2", "distributed-1", "distributed-2", "threads-1", "threads-2")


def make_data(size: int, dates: int, folder: Path) -> Path:
    """Write the series once (COGs + truth + STAC); reuse it when complete."""
    from imagery_tool_synthetic import write_series
    from imagery_tool_synthetic.timeline import hmeimim_timeline_series

    series = hmeimim_timeline_series(size=size, n_dates=dates)
    done = folder / "catalog.json"
    if done.exists() and len(list(folder.glob("*.tif"))) == dates:
        return folder
    t0 = time.perf_counter()
    write_series(series, folder, block=2048)
    print(f"generated {dates} tiles of {size} px in {time.perf_counter() - t0:.0f} s", flush=True)
    return folder


def run_config(name: str, data: Path, scheduler: str | None) -> dict:
    """Run one configuration; return its record."""
    from imagery_tool.series import run_series

    out = Path(tempfile.mkdtemp(prefix=f"bench_series_{name}_"))
    cluster = None
    startup = 0.0
    try:
        if name.startswith("threads"):
            report = run_series(data, out, scheduler="threads", workers=int(name[-1]), force=True)
        elif name.startswith("local"):
            report = run_series(data, out, workers=int(name[-1]), force=True)  # local processes
        elif scheduler:
            report = run_series(data, out, scheduler=scheduler, force=True)
        else:
            from distributed import LocalCluster

            t0 = time.perf_counter()
            cluster = LocalCluster(
                n_workers=int(name[-1]),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            )
            startup = time.perf_counter() - t0
            report = run_series(data, out, scheduler=cluster.scheduler_address, force=True)
        record = {
            "config": name,
            "engine": report.engine,
            "pairs": sum(len(s.computed) for s in report.sites),
            "megapixels": round(report.megapixels, 1),
            "compute_s": round(report.compute_seconds, 1),
            "total_s": round(report.seconds, 1),
            "cluster_startup_s": round(startup, 1),
            "mp_per_s": round(report.throughput_mp_s or 0.0, 3),
            "objects": sum(s.objects for s in report.sites),
            "code": str(Path(sys.modules["imagery_tool"].__file__).parent),
        }
    finally:
        if cluster is not None:
            cluster.close()
        shutil.rmtree(out, ignore_errors=True)
    return record


def task_overhead(n: int = 200) -> dict:
    """Seconds per no-op task through each engine (scheduling, pickling, result hand-back)."""
    import operator

    from distributed import LocalCluster

    from imagery_tool.series.engine import Task, open_engine

    tasks = [Task(f"noop-{i}", operator.add, (i, 1)) for i in range(n)]
    out = {}
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )  # fmt: skip
    try:
        for name, scheduler in (
            ("threads", "threads"),
            ("processes", "processes"),
            ("distributed", cluster.scheduler_address),
        ):
            with open_engine(scheduler, workers=None if "://" in scheduler else 2) as engine:
                engine.run(tasks[:4], lambda t, v: None)  # warm: processes started
                t0 = time.perf_counter()
                engine.run(tasks, lambda t, v: None)
                out[name] = round((time.perf_counter() - t0) / n * 1000, 2)
    finally:
        cluster.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--dates", type=int, default=12)
    parser.add_argument("--configs", default=",".join(CONFIGS[:4]), help=", ".join(CONFIGS))
    parser.add_argument("--data", type=Path, help="series folder (default benchmarks/_data/...)")
    parser.add_argument("--scheduler", help="an existing cluster instead of a LocalCluster")
    parser.add_argument(
        "--overhead", action="store_true", help="only time no-op tasks per engine (ms per task)"
    )
    args = parser.parse_args(argv)
    if args.overhead:
        print(json.dumps({"ms_per_noop_task": task_overhead()}))
        return 0
    data = args.data or HERE / "_data" / f"series_{args.size}"
    make_data(args.size, args.dates, data)
    results = data.parent / f"bench_series_{args.size}.jsonl"
    results.parent.mkdir(parents=True, exist_ok=True)
    records = []
    for name in args.configs.split(","):
        if name not in CONFIGS:
            parser.error(f"unknown config {name!r}; choose from {', '.join(CONFIGS)}")
        load_before = os.getloadavg()[0]
        record = run_config(name, data, args.scheduler)
        record.update(
            size=args.size,
            dates=args.dates,
            when=time.strftime("%Y-%m-%dT%H:%M:%S"),
            load_1min=[round(load_before, 1), round(os.getloadavg()[0], 1)],
        )
        records.append(record)
        print(json.dumps(record), flush=True)
        with results.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
    print(f"\n{'config':<15}{'pairs':>6}{'MP':>8}{'compute s':>11}{'MP/s':>8}{'startup s':>11}")
    for r in records:
        print(
            f"{r['config']:<15}{r['pairs']:>6}{r['megapixels']:>8}{r['compute_s']:>11}"
            f"{r['mp_per_s']:>8}{r['cluster_startup_s']:>11}"
        )
    by = {r["config"]: r for r in records}
    for n in ("1", "2"):
        loc, dist = by.get(f"local-{n}"), by.get(f"distributed-{n}")
        if loc and dist:
            overhead = dist["compute_s"] / loc["compute_s"] - 1
            print(f"distributed vs local, {n} worker(s): {overhead:+.1%} compute time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
