"""Series tasks run with the runtime settings they are given, whatever thread runs them."""

from __future__ import annotations

import threading

from imagery_tool.runtime import current, runtime
from imagery_tool.series.tasks import detect_pair, register_date


def _in_a_plain_thread(func, *args, **kwargs):
    """Run ``func`` in a thread that inherits no context (as an older Dask's workers)."""
    out = []
    thread = threading.Thread(target=lambda: out.append(func(*args, **kwargs)))
    thread.start()
    thread.join()
    return out[0]


def test_a_pair_is_detected_with_the_settings_that_come_with_it(series12):
    _, folder = series12
    a, b = sorted(folder.glob("*.tif"))[:2]
    with runtime(jpeg_decoder=False, jpeg_cache_mb=300) as settings:
        result = _in_a_plain_thread(detect_pair, a, b, settings=settings)
    recorded = result.parameters["runtime"]
    assert recorded["jpeg_decoder"] == "GDAL" and recorded["jpeg_cache_mb"] == 300
    assert current().jpeg_decoder  # restored


def test_a_registration_task_runs_with_the_settings_that_come_with_it(series12, monkeypatch):
    _, folder = series12
    a, b = sorted(folder.glob("*.tif"))[:2]
    seen = []
    monkeypatch.setattr(
        "imagery_tool.sitestack.register_to_reference",
        lambda reference, tile: seen.append(current()) or "placed",
    )
    with runtime(jpeg_decoder=False) as settings:
        assert _in_a_plain_thread(register_date, a, b, settings=settings) == "placed"
    assert seen[0].jpeg_decoder is False and seen[0].opencv_threads == 1
