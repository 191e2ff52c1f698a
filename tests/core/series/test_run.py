"""The driver is resumable, recomputes what changed, and never leaves half-written files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from imagery_tool.change import DetectionOptions
from imagery_tool.errors import SeriesRunError
from imagery_tool.series import run_series

pytestmark = pytest.mark.slow


def _subset(folder: Path, dest: Path, n: int, *, rename: str | None = None) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for tif in sorted(folder.glob("*.tif"))[:n]:
        name = tif.name if rename is None else tif.name.replace("hmeimim", rename)
        out.append(Path(shutil.copy2(tif, dest / name)))
    return out


def _temporaries(outdir: Path) -> list[Path]:
    return [p for p in outdir.rglob("*") if p.name.startswith(".")]


def test_rerun_reuses_every_pair_and_rewrites_the_same_timeline(local_run12, series12, tmp_path):
    _, folder = series12
    _, first = local_run12
    again = tmp_path / "again"
    shutil.copytree(first, again)
    report = run_series(folder, again)
    site = report.sites[0]
    assert (len(site.reused), site.computed, site.recomputed) == (11, [], {})
    for name in ("timeline.json", "timeline.csv", "timeline.png"):
        assert (again / name).read_bytes() == (first / name).read_bytes()
    assert report.megapixels == 0 and report.throughput_mp_s is None


def test_a_changed_tile_recomputes_its_pair_and_force_recomputes_all(series12, tmp_path):
    _, folder = series12
    tiles = _subset(folder, tmp_path / "tiles", 2)
    out = tmp_path / "out"
    first = run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    assert len(first.sites[0].computed) == 1
    state = json.loads((out / "state.json").read_text())
    recorded = DetectionOptions(method="cva").to_dict()
    assert [p["options"] for p in state["pairs"].values()] == [recorded]
    st = tiles[1].stat()
    os.utime(tiles[1], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the later date changed
    second = run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    assert second.sites[0].recomputed == {
        first.sites[0].computed[0]: "made from other inputs or settings"
    }
    forced = run_series(tiles[0].parent, out, method="cva", scheduler="threads", force=True)
    assert len(forced.sites[0].computed) == 1 and not forced.sites[0].reused


def test_pairs_are_recomputed_when_any_detection_option_changed(series12, tmp_path):
    _, folder = series12
    tiles = _subset(folder, tmp_path / "tiles", 2)
    out = tmp_path / "out"
    first = run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    (name,) = first.sites[0].computed
    # a state written when only the method and min score reached the pairs is still read
    state = json.loads((out / "state.json").read_text())
    record = state["pairs"][name]
    del record["options"]
    record.update(method="cva", min_score=None)
    (out / "state.json").write_text(json.dumps(state))
    again = run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    assert again.sites[0].reused == [name]
    # every option counts, not the method and min score alone
    bigger = run_series(tiles[0].parent, out, method="cva", min_size_m=5, scheduler="threads")
    assert bigger.sites[0].recomputed == {name: "made from other inputs or settings"}
    state = json.loads((out / "state.json").read_text())
    assert state["pairs"][name]["options"]["min_size_m"] == 5


def test_unknown_or_refused_detection_options_fail_before_any_work(tmp_path):
    from imagery_tool.errors import DetectionOptionError

    with pytest.raises(TypeError, match="min_size"):
        run_series(tmp_path, tmp_path / "out", min_size=5)
    with pytest.raises(DetectionOptionError, match="`min_score`") as refused:
        run_series(tmp_path, tmp_path / "out", min_score=2)
    assert refused.value.parameter == "min_score"
    assert not (tmp_path / "out").exists()


def test_a_failed_pair_keeps_the_finished_ones_and_writes_no_timeline(series12, tmp_path):
    _, folder = series12
    tiles = _subset(folder, tmp_path / "tiles", 3)
    good = tiles[2].read_bytes()
    # the last date turns out blank
    with rasterio.open(tiles[2], "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:
        ds.write(np.full((ds.count, ds.height, ds.width), 90, np.uint8))
    out = tmp_path / "out"
    with pytest.raises(SeriesRunError, match=r"2 task\(s\) failed.*constant.*1 finished pair"):
        run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    assert [p.name for p in (out / "pairs").iterdir()] == [
        "hmeimim_2024-11-01_to_hmeimim_2024-11-04.geojson"
    ]
    assert not list(out.glob("timeline.*")) and not _temporaries(out)
    summary = json.loads((out / "series.json").read_text())
    assert summary["status"] == "failed"
    assert len(summary["sites"][0]["failures"]) == 2
    tiles[2].write_bytes(good)  # fixed: the same command finishes the job
    report = run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    site = report.sites[0]
    assert (len(site.reused), len(site.computed)) == (1, 1)
    assert (out / "timeline.json").exists() and not _temporaries(out)


def test_two_sites_get_a_folder_each(series12, tmp_path):
    _, folder = series12
    inputs = tmp_path / "tiles"
    _subset(folder, inputs, 2)
    for path in _subset(folder, inputs, 2, rename="port"):
        # the same pictures, 40 km away
        with rasterio.open(path, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:
            t = ds.transform
            ds.transform = Affine(t.a, t.b, t.c + 40_000, t.d, t.e, t.f)
    report = run_series(inputs, tmp_path / "out", method="cva", scheduler="threads")
    assert [s.name for s in report.sites] == ["hmeimim", "port"]
    for name in ("hmeimim", "port"):
        assert (tmp_path / "out" / name / "timeline.csv").exists()
        assert len(list((tmp_path / "out" / name / "pairs").iterdir())) == 1
    summary = json.loads((tmp_path / "out" / "series.json").read_text())
    assert [s["site"] for s in summary["sites"]] == ["hmeimim", "port"]


def test_tiles_without_georeference_run_in_pixel_mode(series12, tmp_path):
    from PIL import Image

    _, folder = series12
    inputs = tmp_path / "png"
    inputs.mkdir()
    for tif in sorted(folder.glob("*.tif"))[:2]:
        with rasterio.open(tif) as ds:
            rgb = np.moveaxis(ds.read(), 0, -1)
        Image.fromarray(rgb).save(inputs / tif.with_suffix(".png").name.replace("hmeimim", "apron"))
    report = run_series(inputs, tmp_path / "out", method="cva", scheduler="threads")
    assert report.ok and report.sites[0].crs == ["none"]
    (pair,) = (tmp_path / "out" / "pairs").iterdir()
    assert pair.suffix == ".json"  # pixel polygons, no lon/lat
    objects = json.loads((tmp_path / "out" / "timeline.json").read_text())["objects"]
    assert objects and all(o["lon"] is None for o in objects)


def test_the_state_records_the_jpeg_decoder_and_a_switch_recomputes_the_pairs(series12, tmp_path):
    from imagery_tool.runtime import runtime

    _, folder = series12
    tiles = _subset(folder, tmp_path / "tiles", 2)
    out = tmp_path / "out"
    run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    state = json.loads((out / "state.json").read_text())
    assert {p["jpeg_decoder"] for p in state["pairs"].values()} == {True}
    with runtime(jpeg_decoder=False):  # GDAL's pixels: not the same results
        second = run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    (pair,) = second.sites[0].recomputed
    assert second.sites[0].recomputed[pair] == "made from other inputs or settings"
    recorded = json.loads((out / "pairs" / f"{pair}.geojson").read_text())["parameters"]
    assert recorded["runtime"]["jpeg_decoder"] == "GDAL"


def test_a_decoder_switch_measures_the_registrations_again(series12, tmp_path):
    from imagery_tool.runtime import runtime

    _, folder = series12
    tiles = _subset(folder, tmp_path / "tiles", 2)
    out = tmp_path / "out"
    run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    state = json.loads((out / "state.json").read_text())
    (stem,) = state["registrations"]
    assert state["registrations"][stem]["jpeg_decoder"] is True
    with runtime(jpeg_decoder=False):
        run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    state = json.loads((out / "state.json").read_text())
    assert state["registrations"][stem]["jpeg_decoder"] is False


def test_a_registration_recorded_before_the_decoder_counts_as_the_default_decoder():
    from imagery_tool.series.run import _registration_is_current

    expected = {"reference": {"path": "a"}, "tile": {"path": "b"}, "jpeg_decoder": True}
    legacy = {"reference": {"path": "a"}, "tile": {"path": "b"}, "registration": {}}
    assert _registration_is_current(legacy, expected)
    assert not _registration_is_current(legacy, {**expected, "jpeg_decoder": False})


def test_the_pixel_size_alone_does_not_recompute_georeferenced_pairs(series12, tmp_path):
    _, folder = series12
    tiles = _subset(folder, tmp_path / "tiles", 2)
    out = tmp_path / "out"
    (name,) = run_series(tiles[0].parent, out, method="cva", scheduler="threads").sites[0].computed
    # the tiles have their own ground sample distance: the pixel size does not reach them
    again = run_series(tiles[0].parent, out, method="cva", pixel_size_m=0.4, scheduler="threads")
    assert (again.sites[0].reused, again.sites[0].recomputed) == ([name], {})


def test_a_state_with_options_this_version_refuses_recomputes_the_pair(series12, tmp_path):
    _, folder = series12
    tiles = _subset(folder, tmp_path / "tiles", 2)
    out = tmp_path / "out"
    (name,) = run_series(tiles[0].parent, out, method="cva", scheduler="threads").sites[0].computed
    state = json.loads((out / "state.json").read_text())
    record = state["pairs"][name]
    del record["options"]
    record.update(method="cva", min_score=2)  # an old state that no option check ever saw
    (out / "state.json").write_text(json.dumps(state))
    again = run_series(tiles[0].parent, out, method="cva", scheduler="threads")
    assert again.sites[0].recomputed == {name: "not recorded as finished in state.json"}
