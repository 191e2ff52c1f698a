"""A detection runs in the runtime context, records its settings, leaves the process as found."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import cv2
import rasterio.env

import imagery_tool.change.detect as detect_module
from imagery_tool.change import detect_changes
from imagery_tool.registration import AlignedPair
from imagery_tool.runtime import current, runtime


def test_the_settings_of_a_run_are_recorded_and_the_process_left_as_found(change_pair):
    before, after, _ = change_pair
    found = (rasterio.env.get_gdal_config("GDAL_CACHEMAX"), cv2.getNumThreads(), current())
    ours = detect_changes(before, after, workers=2)
    with runtime(jpeg_decoder=False, gdal_cache_mb=256, jpeg_cache_mb=300):
        gdal = detect_changes(before, after, workers=1)
    assert (rasterio.env.get_gdal_config("GDAL_CACHEMAX"), cv2.getNumThreads(), current()) == found

    recorded = ours.parameters["runtime"]
    assert recorded["jpeg_decoder"].startswith("libjpeg-turbo")
    assert recorded["gdal_cache_mb"] == 128 and recorded["workers"] == 2
    assert recorded["opencv_threads"] == 1  # OpenCV's pool off beside two block workers
    assert recorded["jpeg_cache_mb"] == 96 + 96  # the default bound and a detection's share
    assert not recorded["heap_tuning"]  # opt-in
    # a run with GDAL's decoder says so, in the summary and in the results file
    assert gdal.summary()["parameters"]["runtime"]["jpeg_decoder"] == "GDAL"
    assert gdal.parameters["runtime"]["gdal_cache_mb"] == 256  # the caller's settings kept
    assert gdal.parameters["runtime"]["jpeg_cache_mb"] == 300
    assert json.loads(json.dumps(gdal.to_json()))["parameters"]["runtime"]["workers"] == 1


def test_a_detection_reads_and_records_its_own_decoder_while_another_thread_enters_one(
    change_pair, monkeypatch
):
    before, after, _ = change_pair
    decoders = []  # what each block (in the block workers) reads with
    process = detect_module._process
    monkeypatch.setattr(
        detect_module,
        "_process",
        lambda *args, **kwargs: decoders.append(current().jpeg_decoder) or process(*args, **kwargs),
    )
    entered, leave = threading.Event(), threading.Event()

    def other_job():  # enters its context after the detection's caller entered its own
        with runtime(jpeg_decoder=True, workers=3):
            entered.set()
            leave.wait(30)

    with runtime(jpeg_decoder=False):
        other = threading.Thread(target=other_job)
        other.start()
        assert entered.wait(10)
        try:
            result = detect_changes(before, after, workers=2, block_px=384)
        finally:
            leave.set()
            other.join(10)
    assert result.parameters["runtime"]["jpeg_decoder"] == "GDAL"
    assert result.parameters["runtime"]["workers"] == 2
    assert decoders and not any(decoders)


def test_idle_threads_open_no_files(change_pair, monkeypatch):
    before, after, _ = change_pair
    opened = []
    open_pair = AlignedPair.open
    monkeypatch.setattr(AlignedPair, "open", lambda self: opened.append(1) or open_pair(self))
    result = detect_changes(before, after, workers=16, block_px=512)  # at most 4 blocks
    blocks = 4
    # the radiometry view, 9 sample windows, one walk per block and the seams left over
    assert len(opened) <= 1 + 9 + 2 * blocks
    assert result.parameters["runtime"]["workers"] == 16  # as asked: only idle ones not started


def test_the_results_file_is_strict_json_and_records_each_option_once(change_pair, tmp_path):
    before, after, _ = change_pair
    result = detect_changes(before, after, method="cva")  # no max size: no bound at all
    path = result.write(tmp_path / "changes.geojson")

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    parameters = json.loads(path.read_text(), parse_constant=refuse)["parameters"]
    assert parameters["options"]["max_size_m"] is None
    assert not {"min_size_m", "max_size_m", "threshold"} & set(parameters)  # in "options" only
    assert {"threshold_level", "noise", "dissimilarity", "min_score"} <= set(parameters)


def test_a_gdal_cache_of_zero_is_kept(monkeypatch):
    monkeypatch.setattr(
        detect_module, "_detect", lambda *args, **kwargs: SimpleNamespace(parameters={})
    )
    with runtime(gdal_cache_mb=0):
        result = detect_changes("before.tif", "after.tif")
    assert result.parameters["runtime"]["gdal_cache_mb"] == 0  # not taken for unset
