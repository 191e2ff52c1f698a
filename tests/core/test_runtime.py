"""The runtime context: settings in force inside, everything as it was after, however it ends."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import pytest
import rasterio.env

from imagery_tool import jpeg_tiles, runtime
from imagery_tool.runtime import GDAL_JPEG_ENV, Runtime, current, usable_cores, usable_workers


def _process_state() -> tuple:
    return (
        int(rasterio.env.get_gdal_config("GDAL_CACHEMAX")),
        cv2.getNumThreads(),
        jpeg_tiles.cache_bound(),
        current(),
    )


class _Boom(Exception):
    pass


@pytest.mark.parametrize("ending", ["normal", "exception"])
def test_every_setting_is_in_force_inside_and_restored_after(ending):
    found = _process_state()
    threads = 1 if cv2.getNumThreads() != 1 else 2
    try:
        with runtime.runtime(
            jpeg_decoder=not current().jpeg_decoder,
            jpeg_cache_mb=7,
            gdal_cache_mb=48,
            workers=3,
            opencv_threads=threads,
        ) as settings:
            assert int(rasterio.env.get_gdal_config("GDAL_CACHEMAX")) == 48 * 2**20
            assert cv2.getNumThreads() == threads
            assert jpeg_tiles.cache_bound() == 7 * 2**20
            assert current() == settings and current().jpeg_decoder != found[3].jpeg_decoder
            assert current().workers == 3
            if ending == "exception":
                raise _Boom
    except _Boom:
        pass
    assert _process_state() == found


def test_nested_contexts_inherit_and_the_inner_one_is_in_force_until_it_ends():
    found = _process_state()
    with runtime.runtime(gdal_cache_mb=40, workers=3) as outer:
        with runtime.runtime(jpeg_decoder=False) as inner:
            assert (inner.gdal_cache_mb, inner.workers, inner.jpeg_decoder) == (40, 3, False)
            assert int(rasterio.env.get_gdal_config("GDAL_CACHEMAX")) == 40 * 2**20
        assert current() == outer and outer.jpeg_decoder is found[3].jpeg_decoder
        with pytest.raises(_Boom), runtime.runtime(gdal_cache_mb=20):
            raise _Boom
        assert int(rasterio.env.get_gdal_config("GDAL_CACHEMAX")) == 40 * 2**20
    assert _process_state() == found


def test_contexts_of_concurrent_threads_restore_the_state_when_the_last_one_ends():
    found = _process_state()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with runtime.runtime(opencv_threads=1, gdal_cache_mb=30):
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second():
        first_in.wait(10)
        with runtime.runtime(gdal_cache_mb=60):
            second_in.set()
            first_out.wait(10)  # the first context ended while this one is open
            seen["inside"] = _process_state()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    gdal, opencv, _, settings = seen["inside"]
    assert (gdal, opencv) == (60 * 2**20, found[1])  # the one still open, nothing of the first
    assert settings.gdal_cache_mb == 60 and settings.opencv_threads is None
    assert _process_state() == found


def _hold_in_thread(leave: threading.Event, **settings) -> threading.Thread:
    """Start a thread that enters ``runtime(**settings)`` and stays in it until ``leave``."""
    entered = threading.Event()

    def hold():
        with runtime.runtime(**settings):
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert entered.wait(10)
    return thread


def test_a_thread_keeps_its_own_settings_while_another_thread_enters_a_context():
    leave = threading.Event()
    with runtime.runtime(jpeg_decoder=False, workers=1) as mine:
        other = _hold_in_thread(leave, jpeg_decoder=True, workers=3)
        try:  # entered after this one: it used to be what every thread saw
            assert current() == mine
            assert not current().jpeg_decoder and current().workers == 1
        finally:
            leave.set()
            other.join(10)
    assert current() == Runtime()


def test_the_tasks_of_a_job_pool_see_the_settings_of_the_thread_that_submits_them():
    with runtime.runtime(jpeg_decoder=False, workers=2) as mine:
        with runtime.thread_pool(2) as pool:
            seen = list(pool.map(lambda _: current(), range(4)))
        with ThreadPoolExecutor(1) as plain:  # why: a plain pool's threads start from none
            assert plain.submit(current).result() == Runtime()
    assert seen == [mine] * 4
    with runtime.thread_pool(1) as pool:  # outside any context: the defaults
        assert pool.submit(current).result() == Runtime()


def test_a_context_whose_settings_fail_to_apply_is_not_counted(monkeypatch):
    found = _process_state()

    def refuse(_threads):
        raise _Boom

    with monkeypatch.context() as patch:
        patch.setattr(runtime.cv2, "setNumThreads", refuse)
        with pytest.raises(_Boom), runtime.runtime(gdal_cache_mb=5):
            pass
    assert runtime._open == [] and _process_state() == found
    with runtime.runtime(gdal_cache_mb=9):  # a later context ends with the state as found
        pass
    assert _process_state() == found


def test_the_allocator_is_tuned_once_for_nested_contexts_and_released_by_the_last(monkeypatch):
    calls = []
    monkeypatch.setattr(runtime, "tune_heap", lambda: calls.append("tune"))
    monkeypatch.setattr(runtime, "release_heap", lambda: calls.append("release"))
    with runtime.runtime():  # opt-in: off by default
        assert calls == [] and not current().heap_tuning
    with runtime.runtime(heap_tuning=True):
        with runtime.runtime(gdal_cache_mb=64):
            assert calls == ["tune"]
        with pytest.raises(_Boom), runtime.runtime(heap_tuning=False):
            assert calls == ["tune", "release"]
            raise _Boom
        assert calls == ["tune", "release", "tune"]
    assert calls == ["tune", "release", "tune", "release"]


def test_the_recorded_settings_name_the_decoder_and_are_json():
    ours = Runtime(jpeg_decoder=True, workers=2).to_dict()
    gdal = Runtime(jpeg_decoder=False, workers=2).to_dict()
    assert (
        ours["jpeg_decoder"].startswith("libjpeg-turbo (OpenCV ") and gdal["jpeg_decoder"] == "GDAL"
    )
    assert {k: v for k, v in ours.items() if k != "jpeg_decoder"} == {
        k: v for k, v in gdal.items() if k != "jpeg_decoder"
    }
    assert set(json.loads(json.dumps(ours))) == {
        "jpeg_decoder", "jpeg_cache_mb", "gdal_cache_mb", "workers", "opencv_threads",
        "heap_tuning",
    }  # fmt: skip


@pytest.mark.parametrize(("value", "ours"), [("", True), ("0", True), ("1", False), ("yes", False)])
def test_the_environment_sets_the_default_decoder(monkeypatch, value, ours):
    monkeypatch.setenv(GDAL_JPEG_ENV, value)
    assert current().jpeg_decoder is ours
    with runtime.runtime(jpeg_decoder=True) as settings:  # a context overrides it
        assert settings.jpeg_decoder


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="workers=0"):
        Runtime(workers=0)
    with pytest.raises(ValueError, match="gdal_cache_mb"):
        Runtime(gdal_cache_mb=-1)


def test_workers_are_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 64)
    monkeypatch.setattr(runtime.os, "sysconf", _sysconf(memory_gib=64))
    assert usable_cores() == 3 and usable_workers() == 3 and Runtime().workers == 3


def test_without_affinity_the_cpu_count_is_used(monkeypatch):
    monkeypatch.delattr(runtime.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 12)
    monkeypatch.setattr(runtime.os, "sysconf", _sysconf(memory_gib=64))
    assert usable_cores() == 12 and usable_workers() == 12


def test_workers_are_fewer_when_memory_holds_fewer_blocks(monkeypatch):
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    per_worker_gib = runtime.MEMORY_PER_WORKER_MB / 1024
    monkeypatch.setattr(runtime.os, "sysconf", _sysconf(memory_gib=5 * per_worker_gib))
    assert usable_workers() == 5
    monkeypatch.setattr(runtime.os, "sysconf", _sysconf(memory_gib=0.1))
    assert usable_workers() == 1


def _sysconf(*, memory_gib: float):
    page = 4096
    values = {"SC_PAGE_SIZE": page, "SC_PHYS_PAGES": int(memory_gib * 2**30 / page)}
    return values.__getitem__


# In a fresh process (glibc's thresholds adapt to what a process did before): blocks of six
# 12 MiB arrays alive at once, as in one detection block, allocated and freed in turn; the page
# faults of the last block, and the resident memory inside the context and after it.
_BLOCKS = """
import contextlib, json, resource, sys
import numpy as np
from imagery_tool.runtime import runtime

def rss_mb():
    with open("/proc/self/status") as status:
        return int(next(r for r in status if r.startswith("VmRSS")).split()[1]) / 1024

with runtime(heap_tuning=sys.argv[1] == "tuned"):
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        arrays = [np.ones(12 * 2**20, np.uint8) for _ in range(6)]
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        del arrays
    inside = rss_mb()
print(json.dumps({"faults": faults, "inside_mb": inside, "after_mb": rss_mb()}))
"""


def _run(mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _BLOCKS, mode], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.skipif(runtime._LIBC is None, reason="glibc heap settings only")
def test_a_tuned_heap_reuses_freed_blocks_then_gives_them_back():
    plain, tuned = _run("plain"), _run("tuned")
    # glibc's defaults give the freed arrays back and fault them in again
    assert plain["faults"] > 1000
    assert tuned["faults"] < 0.05 * plain["faults"]
    # kept while the context runs, given back when it ends
    assert tuned["inside_mb"] - tuned["after_mb"] > 0.5 * 6 * 12
