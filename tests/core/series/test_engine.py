"""The engine runs independent tasks locally or on a real LocalCluster, and fails fast."""

from __future__ import annotations

import operator
import socket
import threading
import time

import pytest

from imagery_tool.errors import SchedulerError
from imagery_tool.runtime import usable_workers
from imagery_tool.series.engine import (
    LOCAL_SCHEDULERS,
    LocalEngine,
    Task,
    normalise_address,
    open_engine,
)


def _tasks(n=5):
    return [Task(f"add-{i}", operator.add, (i, 10)) for i in range(n)]


@pytest.mark.parametrize("scheduler", list(LOCAL_SCHEDULERS))
def test_local_schedulers_hand_back_every_result_in_the_calling_thread(scheduler):
    seen = {}
    caller = threading.get_ident()

    def on_result(task, value):
        assert threading.get_ident() == caller
        seen[task.key] = value

    with open_engine(scheduler, workers=2) as engine:
        assert engine.run(_tasks(), on_result) == []
    assert seen == {f"add-{i}": i + 10 for i in range(5)}


def test_default_is_local_processes_sized_to_the_machine():
    engine = LocalEngine()
    assert (engine.name, engine.workers) == ("processes", usable_workers())
    assert "processes" in engine.describe()


def test_default_workers_are_those_of_the_runtime_in_force():
    from imagery_tool.runtime import runtime

    with runtime(workers=1), open_engine("threads") as engine:
        assert engine.workers == 1
    with runtime(workers=3):
        assert LocalEngine("processes", workers=2).workers == 2  # an explicit count wins


def test_cluster_runs_the_same_tasks(cluster):
    seen = {}
    with open_engine(cluster.scheduler_address) as engine:
        assert engine.workers == 2 and "2 worker(s)" in engine.describe()
        lost = engine.run(_tasks(), lambda t, v: seen.__setitem__(t.key, v))
    assert not lost and seen == {f"add-{i}": i + 10 for i in range(5)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_fails_fast_naming_the_address():
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.perf_counter()
    match = f"{address} within 0.5 s.*dask scheduler"
    with pytest.raises(SchedulerError, match=match), open_engine(address, connect_timeout=0.5):
        pass
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"),
        ("scheduler.lan:8786", "tcp://scheduler.lan:8786"),
        ("tls://[::1]:8786", "tls://[::1]:8786"),
    ],
)
def test_addresses(given, expected):
    assert normalise_address(given) == expected


@pytest.mark.parametrize("bad", ["tcp://nohost", "http://x:80", "x:99999", "tcp://a b:1"])
def test_bad_addresses_are_refused(bad):
    with pytest.raises(ValueError, match="not a scheduler address"):
        normalise_address(bad)


def test_workers_belong_to_the_local_scheduler():
    with (
        pytest.raises(ValueError, match="own workers"),
        open_engine("tcp://1.2.3.4:8786", workers=2),
    ):
        pass


def test_a_scheduler_without_workers_is_refused_fast():
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    empty = LocalCluster(
        n_workers=0, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    )
    try:
        t0 = time.perf_counter()
        match = "has no workers.*dask worker"
        with (
            pytest.raises(SchedulerError, match=match),
            open_engine(empty.scheduler_address, connect_timeout=0.5),
        ):
            pass
        assert time.perf_counter() - t0 < 5
    finally:
        empty.close()
