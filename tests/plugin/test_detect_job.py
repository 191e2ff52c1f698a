"""The compare widget's detection process runs with the runtime settings of its parent."""

from __future__ import annotations

from napari_imagery_tool._detect_job import DetectionProcess

from imagery_tool.runtime import runtime
from tests.plugin.conftest import dated_tile


def test_the_child_detects_with_the_settings_in_force_where_it_was_started(tmp_path):
    first = dated_tile(tmp_path, "2024-12-13")
    later = dated_tile(tmp_path, "2025-01-10", shift=(3, -2))
    with runtime(jpeg_decoder=False, workers=1):  # a spawned process starts from the defaults
        job = DetectionProcess(first, later)
    assert job.done(timeout=180)
    recorded = job.result().parameters["runtime"]
    assert recorded["jpeg_decoder"] == "GDAL" and recorded["workers"] == 1
