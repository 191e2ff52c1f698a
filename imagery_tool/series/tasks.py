"""The work that runs on Dask workers: register a date to the reference, detect a pair's changes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imagery_tool.errors import ImageryToolError
from imagery_tool.runtime import Runtime, current, runtime

if TYPE_CHECKING:
    from imagery_tool.change.options import DetectionOptions

__all__ = ["TaskFailure", "detect_pair", "register_date"]


@contextmanager
def _task_runtime(settings: Runtime | None, threads: int) -> Iterator[Runtime]:
    """Run a task with the series' runtime settings, ``threads`` threads, OpenCV on one thread.

    The settings come with the task (a Dask worker thread or process does not inherit the
    caller's context). OpenCV on one thread, as Dask runs tasks side by side: results then do
    not depend on the machine's core count (OpenCV's parallel sums change the last digits). A
    worker process exists for these tasks, so its heap is tuned
    (`imagery_tool.runtime.tune_heap`); in the caller's process the heap is as the caller set it.
    """
    base = settings if settings is not None else current()
    in_worker_process = multiprocessing.parent_process() is not None
    with runtime(
        base,
        workers=threads,
        opencv_threads=1,
        heap_tuning=base.heap_tuning or in_worker_process,
    ) as in_force:
        yield in_force


@dataclass(frozen=True)
class TaskFailure:
    """A task that met bad input (an `ImageryToolError`): its one-line message, kept as data.

    Returned rather than raised so that the other pairs still finish and are kept.
    """

    error: str
    message: str


def register_date(
    reference: str | Path,
    tile: str | Path,
    *,
    settings: Runtime | None = None,
    threads: int = 1,
):
    """Place a date on the reference grid as napari does (`sitestack.register_to_reference`).

    Parameters
    ----------
    reference, tile : str or Path
        The reference date (first of the series) and another date of the same site.
    settings : Runtime, optional
        The series' runtime settings (`imagery_tool.runtime`); default: those in force.
    threads : int
        Threads over the registration windows.

    Returns
    -------
    Registration or TaskFailure
        A content estimate the trust gate refused is a `Registration` with ``status``
        ``"fallback"`` (placed by georeference alone), not a failure.
    """
    from imagery_tool.sitestack import register_to_reference

    try:
        with _task_runtime(settings, threads):
            return register_to_reference(reference, tile)
    except ImageryToolError as exc:
        return TaskFailure(type(exc).__name__, str(exc))


def detect_pair(
    before: str | Path,
    after: str | Path,
    options: DetectionOptions | None = None,
    *,
    threads: int = 1,
    block_px: int = 1024,
    settings: Runtime | None = None,
):
    """Detect the changes between two consecutive dates.

    Parameters
    ----------
    before, after : str or Path
        The earlier and the later tile.
    options : DetectionOptions, optional
        As `imagery_tool.change.detect_changes` (default: `DetectionOptions()`).
    threads : int
        Threads over blocks inside the pair.
    block_px : int
        Block side for the detection.
    settings : Runtime, optional
        The series' runtime settings (`imagery_tool.runtime`); default: those in force.

    Returns
    -------
    ChangeResult or TaskFailure
    """
    from imagery_tool.change import detect_changes

    try:
        with _task_runtime(settings, threads):
            return detect_changes(before, after, options, block_px=block_px)
    except ImageryToolError as exc:
        return TaskFailure(type(exc).__name__, str(exc))
