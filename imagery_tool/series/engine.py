"""Run independent tasks on Dask: a local scheduler sized to the machine, or a cluster."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from imagery_tool.errors import SchedulerError
from imagery_tool.runtime import current

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "LOCAL_SCHEDULERS",
    "DistributedEngine",
    "Engine",
    "LocalEngine",
    "Task",
    "TaskLost",
    "is_cluster_address",
    "normalise_address",
    "open_engine",
    "run_token",
]

# Local Dask schedulers -> description (``scheduler`` takes these names or an address).
LOCAL_SCHEDULERS = {
    "processes": "a pool of worker processes on this machine (default; same numbers as a cluster)",
    "threads": "a thread pool in this process (no start-up cost; last-digit float differences)",
    "sync": "one task at a time in this process (debugging)",
}
_DASK_NAMES = {"threads": "threads", "processes": "processes", "sync": "synchronous"}

DEFAULT_CONNECT_TIMEOUT_S = 5.0

# The environment dask.distributed's nanny gives its workers: one BLAS/OpenMP thread each.
# Local worker processes get the same, so that a local run and a cluster run agree to the bit
# (multi-threaded BLAS and OpenCV sum in another order and change the last digits).
WORKER_ENVIRON = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}

_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss|ucx)://)?(\[[0-9a-fA-F:]+\]|[\w.\-]+):(\d{1,5})/?$")


@dataclass(frozen=True)
class Task:
    """One unit of work: ``func(*args, **kwargs)`` under a unique key.

    Attributes
    ----------
    key : str
        Unique within a run; also the Dask key (``<kind>-<name>-<token>``).
    func : callable
        A module-level function (workers import it by name).
    args : tuple
    kwargs : dict
    megapixels : float
        Size of the work, for throughput figures.
    """

    key: str
    func: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    megapixels: float = 0.0


@dataclass(frozen=True)
class TaskLost:
    """A task the scheduler gave up on (its workers kept dying) or that raised a bug."""

    key: str
    message: str


class Engine(Protocol):
    """Runs tasks and hands each result back to the caller as it completes."""

    name: str
    workers: int
    threads_per_task: int

    def run(
        self,
        tasks: Sequence[Task],
        on_result: Callable[[Task, Any], None],
    ) -> list[TaskLost]:
        """Run every task; call ``on_result`` in the caller's thread as each one finishes."""


def is_cluster_address(scheduler: str | None) -> bool:
    """Whether ``scheduler`` names a dask.distributed scheduler rather than a local one."""
    return scheduler is not None and scheduler not in LOCAL_SCHEDULERS


def normalise_address(address: str) -> str:
    """Return ``tcp://HOST:PORT`` for ``HOST:PORT``; check the form of a full address.

    Raises
    ------
    ValueError
        When ``address`` is neither a local scheduler name nor ``[PROTOCOL://]HOST:PORT``.
    """
    match = _ADDRESS.match(address.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise ValueError(
            f"{address!r} is not a scheduler address; use tcp://HOST:PORT (e.g. "
            f"tcp://10.0.0.5:8786) or one of {', '.join(LOCAL_SCHEDULERS)}"
        )
    protocol = match.group(1) or "tcp"
    return f"{protocol}://{match.group(2)}:{match.group(3)}"


class LocalEngine:
    """Dask's local scheduler (threads, processes or synchronous) on this machine.

    Parameters
    ----------
    scheduler : {"threads", "processes", "sync"}
    workers : int, optional
        Threads or processes; by default the workers of the runtime in force
        (`imagery_tool.runtime.current`; outside any context `usable_workers`: the usable
        cores, fewer when memory holds fewer block workers).
    """

    def __init__(self, scheduler: str = "processes", *, workers: int | None = None) -> None:
        if scheduler not in LOCAL_SCHEDULERS:
            raise ValueError(f"scheduler must be one of {sorted(LOCAL_SCHEDULERS)}")
        if workers is not None and workers < 1:
            raise ValueError(f"workers={workers}; need at least 1")
        self.name = scheduler
        self.workers = 1 if scheduler == "sync" else (workers or current().workers)
        self.threads_per_task = 1

    def run(self, tasks: Sequence[Task], on_result: Callable[[Task, Any], None]) -> list[TaskLost]:
        """Compute all tasks; results reach ``on_result`` as they finish (main thread)."""
        if not tasks:
            return []
        import dask
        from dask.callbacks import Callback

        by_key = {t.key: t for t in tasks}
        graph = [
            dask.delayed(t.func, pure=False)(*t.args, dask_key_name=t.key, **t.kwargs)
            for t in tasks
        ]

        def posttask(key, result, dsk, state, worker_id) -> None:
            task = by_key.get(key if isinstance(key, str) else str(key))
            if task is not None:
                on_result(task, result)

        options: dict[str, Any] = {"scheduler": _DASK_NAMES[self.name]}
        if self.name != "sync":
            options["num_workers"] = self.workers
        with ExitStack() as stack:
            if self.name == "processes":
                stack.enter_context(_environ(WORKER_ENVIRON))
                options["chunksize"] = 1  # tasks are long: hand them out one at a time
                options["pool"] = stack.enter_context(_process_pool(self.workers))
            stack.enter_context(Callback(posttask=posttask))
            dask.compute(*graph, **options)
        return []

    def close(self) -> None:
        """Nothing to release."""

    def describe(self) -> str:
        """One line for reports."""
        if self.name == "sync":
            return "local synchronous scheduler"
        return f"local {self.name} scheduler, {self.workers} worker(s)"


class DistributedEngine:
    """An existing dask.distributed cluster, reached through its scheduler's address.

    Workers must see the input tiles at the same paths (a shared file system) and have
    imagery-tool installed; results come back to this process, which writes every output.

    Parameters
    ----------
    address : str
        ``tcp://HOST:PORT`` (or ``HOST:PORT``).
    connect_timeout : float
        Seconds to wait for the scheduler before giving up.

    Raises
    ------
    SchedulerError
        When dask.distributed is not installed or the scheduler does not answer in time.
    """

    def __init__(self, address: str, *, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S) -> None:
        self.address = normalise_address(address)
        try:
            from distributed import Client
        except ImportError as exc:
            raise SchedulerError(
                f"`scheduler` {self.address} needs dask.distributed, which is not installed; "
                "pip install 'imagery-tool[distributed]' or leave out `scheduler`",
                parameter="scheduler",
            ) from exc
        try:
            self.client = Client(self.address, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {self.address} within {connect_timeout:g} s; "
                "check the address and that a scheduler runs there (`dask scheduler`), "
                "or leave out `scheduler` to run on this machine",
                parameter="scheduler",
            ) from exc
        self.name = "distributed"
        self.threads_per_task = 1
        try:
            self.client.wait_for_workers(1, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            self.client.close()
            raise SchedulerError(
                f"the Dask scheduler at {self.address} has no workers; start some with "
                f"`dask worker {self.address}` or leave out `scheduler` to run on this machine",
                parameter="scheduler",
            ) from exc
        info = self.client.scheduler_info()
        self.workers = len(info.get("workers", {}))
        self.threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())

    def run(self, tasks: Sequence[Task], on_result: Callable[[Task, Any], None]) -> list[TaskLost]:
        """Submit all tasks; results reach ``on_result`` as they finish; lost tasks returned.

        A worker that dies takes its tasks with it; the scheduler runs them again on the
        others (up to ``distributed.scheduler.allowed-failures`` deaths per task). A task that
        still cannot finish is returned as `TaskLost` once every other task has finished.
        """
        from distributed import as_completed

        futures = {
            self.client.submit(t.func, *t.args, key=t.key, pure=False, **t.kwargs): t for t in tasks
        }
        lost: list[TaskLost] = []
        try:
            for future in as_completed(futures, loop=self.client.loop):
                task = futures[future]
                if future.status != "finished":
                    exc = future.exception()
                    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    lost.append(TaskLost(task.key, f"{type(exc).__name__}: {text}"))
                    continue
                on_result(task, future.result())
                future.release()
        finally:
            for future in futures:
                future.release()
        return lost

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()

    def describe(self) -> str:
        """One line for reports."""
        return (
            f"dask.distributed at {self.address}, {self.workers} worker(s), "
            f"{self.threads} thread(s)"
        )


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables (inherited by processes started meanwhile), then restore."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _QuietSpawnProcess(multiprocessing.get_context("spawn").Process):  # type: ignore[misc]
    """A spawned worker that ignores SIGINT from its first instruction.

    Ctrl-C at a terminal reaches every process of the foreground group: workers would print
    a ``KeyboardInterrupt`` traceback each (also while still importing). A spawned process
    inherits an ignored SIGINT and Python then leaves it ignored, so SIGINT is ignored while
    the process is started; the command alone handles Ctrl-C and stops its workers.
    """

    def start(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            super().start()  # only the main thread may change handlers (Ctrl-C goes there)
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            super().start()
        finally:
            signal.signal(signal.SIGINT, previous)


class _QuietSpawnContext(type(multiprocessing.get_context("spawn"))):  # type: ignore[misc]
    Process = _QuietSpawnProcess


@contextmanager
def _process_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """Yield a pool of spawned worker processes that ignore Ctrl-C; stop it at once on failure.

    On an error, Ctrl-C or SIGTERM the workers are terminated instead of finishing their
    tasks (which may take minutes); results already handed back were written by then.
    """
    pool = ProcessPoolExecutor(workers, mp_context=_QuietSpawnContext())
    try:
        yield pool
    except BaseException:
        terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
        if terminate is not None:
            terminate()
        else:  # before shutdown(), which forgets the processes
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def open_engine(
    scheduler: str | None = None,
    *,
    workers: int | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
) -> Iterator[LocalEngine | DistributedEngine]:
    """Open the engine named by ``scheduler`` and close it afterwards.

    Parameters
    ----------
    scheduler : str, optional
        ``None`` or a key of `LOCAL_SCHEDULERS` for this machine (processes by default), or a
        dask.distributed scheduler address ``tcp://HOST:PORT``.
    workers : int, optional
        Local workers (by default those of the runtime in force,
        `imagery_tool.runtime.current`); not allowed with an address (the cluster has its own).
    connect_timeout : float
        Seconds to wait for a cluster's scheduler.

    Yields
    ------
    LocalEngine or DistributedEngine

    Raises
    ------
    SchedulerError
        The scheduler cannot be reached (or dask.distributed is missing).
    ValueError
        A malformed address, or ``workers`` given with an address.
    """
    if is_cluster_address(scheduler):
        if workers is not None:
            raise ValueError(
                "workers applies to the local scheduler; a cluster uses its own workers"
            )
        engine: LocalEngine | DistributedEngine = DistributedEngine(
            scheduler, connect_timeout=connect_timeout
        )
    else:
        engine = LocalEngine(scheduler or "processes", workers=workers)
    try:
        yield engine
    finally:
        engine.close()


def run_token() -> str:
    """Return a short random token that keeps task keys unique across runs on one cluster."""
    return uuid.uuid4().hex[:8]
