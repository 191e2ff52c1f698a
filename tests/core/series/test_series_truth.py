"""Done-when: a 12-date Hmeimim series gives every aircraft's arrival and departure, locally and
on a real LocalCluster, identically; a worker killed mid-run changes nothing."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from imagery_tool_synthetic.timeline import truth_timeline

from imagery_tool.errors import SeriesRunError
from imagery_tool.series import run_series

from .conftest import make_cluster

pytestmark = pytest.mark.slow


def _metres(a, b) -> float:
    dlon = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dlon, (a[1] - b[1]) * 110_540)


def _match(objects: list[dict], truth: dict) -> dict[str, dict]:
    """The tracked object of each aircraft that came or went: nearest of a similar size."""
    out = {}
    for oid, t in truth.items():
        if t["arrived"] is None and t["departed"] is None:
            continue  # there all along: no change, no track
        near = [
            (_metres((o["lon"], o["lat"]), t["center_lonlat"]), o)
            for o in objects
            if o["width_m"] >= 8
            and o["first_seen"] <= t["last_seen"]
            and o["last_seen"] >= t["first_seen"]
        ]
        near = [n for n in near if n[0] < 25]
        assert near, f"{oid} ({t['class']}) was not tracked"
        out[oid] = min(near, key=lambda n: n[0])[1]
    return out


def _rounded(value):
    """JSON with floats to 6 decimals: the detector's registration is not bit-reproducible."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _outputs(outdir: Path) -> dict[str, object]:
    """Timeline files as bytes; pair files as JSON with the registration's last digits cut."""
    out: dict[str, object] = {
        n: (outdir / n).read_bytes() for n in ("timeline.json", "timeline.csv", "timeline.png")
    }
    for p in sorted((outdir / "pairs").iterdir()):
        out[f"pairs/{p.name}"] = _rounded(json.loads(p.read_text()))
    return out


def test_timeline_reports_every_arrival_and_departure(series12, local_run12):
    series, _ = series12
    report, outdir = local_run12
    assert report.ok and len(report.sites) == 1
    site = report.sites[0]
    assert len(site.dates) == 12 and len(site.computed) == 11
    objects = json.loads((outdir / "timeline.json").read_text())["objects"]
    truth = truth_timeline(series)
    matched = _match(objects, truth)
    assert len(matched) == 7  # 8 aircraft; one Su-35 stays all along
    for oid, obj in matched.items():
        t = truth[oid]
        assert (obj["arrived"], obj["departed"]) == (t["arrived"], t["departed"]), oid
        assert (obj["first_seen"], obj["last_seen"]) == (t["first_seen"], t["last_seen"]), oid
    # no aircraft-sized object that is not one of them
    ids = {o["object"] for o in matched.values()}
    extra = [o for o in objects if o["width_m"] >= 8 and o["object"] not in ids]
    assert not extra, extra
    assert {o["size_class"] for oid, o in matched.items() if truth[oid]["class"] == "An-124"} == {
        "large aircraft-sized"
    }


def test_cluster_gives_identical_files(series12, local_run12, cluster, tmp_path):
    """The same series, given as its STAC catalog, on a real two-worker LocalCluster."""
    _, folder = series12
    _, local_out = local_run12
    report = run_series(folder / "catalog.json", tmp_path, scheduler=cluster.scheduler_address)
    assert report.ok and report.engine.startswith("dask.distributed")
    assert len(report.sites[0].computed) == 11
    assert _outputs(tmp_path) == _outputs(local_out)


def _subset(folder: Path, dest: Path, n: int) -> Path:
    dest.mkdir()
    for tif in sorted(folder.glob("*.tif"))[:n]:
        shutil.copy2(tif, dest / tif.name)
    return dest


def test_killed_worker_gives_a_complete_correct_result(series12, local_run12, tmp_path):
    """A worker process dies while a pair is running: Dask runs it again elsewhere."""
    _, folder = series12
    _, local_out = local_run12
    tiles = _subset(folder, tmp_path / "tiles", 4)
    marker = tmp_path / "killed"
    from ._killer import KillWorker

    c = make_cluster(2)
    try:
        from distributed import Client

        with Client(c.scheduler_address) as client:
            client.register_plugin(KillWorker(marker, once=True))
            report = run_series(tiles, tmp_path / "out", scheduler=c.scheduler_address)
    finally:
        c.close()
    assert marker.read_text().startswith("detect-")  # a worker did die mid-run
    assert report.ok and len(report.sites[0].computed) == 3
    for pair in sorted((tmp_path / "out" / "pairs").iterdir()):
        expected = json.loads((local_out / "pairs" / pair.name).read_text())
        assert _rounded(json.loads(pair.read_text())) == _rounded(expected)


def test_workers_that_keep_dying_fail_clearly_without_partial_files(series12, tmp_path):
    _, folder = series12
    tiles = _subset(folder, tmp_path / "tiles", 3)
    from ._killer import KillWorker

    c = make_cluster(1, **{"distributed.scheduler.allowed-failures": 0})
    try:
        from distributed import Client

        with Client(c.scheduler_address) as client:
            client.register_plugin(KillWorker(tmp_path / "killed", once=False))
            with pytest.raises(SeriesRunError, match="lost") as err:
                run_series(tiles, tmp_path / "out", scheduler=c.scheduler_address)
    finally:
        c.close()
    assert "run the same command again" in str(err.value)
    out = tmp_path / "out"
    assert not list((out / "pairs").iterdir())  # nothing half-written
    assert not list(out.glob("timeline.*"))
    summary = json.loads((out / "series.json").read_text())
    failures = summary["sites"][0]["failures"]
    assert summary["status"] == "failed" and len(failures) >= 2  # the pairs, maybe registrations
    assert all("was lost" in f for f in failures)
    assert not list(out.rglob(".*"))  # no temporary files left
