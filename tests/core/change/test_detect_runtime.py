"""A detection runs in the runtime context, records its settings, leaves the process as found."""

from __future__ import annotations

import json

import cv2
import rasterio.env

from imagery_tool.change import detect_changes
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
