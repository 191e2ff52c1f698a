"""The tuning of a job (caches, decoder, threads, heap), set for a context and undone.

In the spirit of `rasterio.Env`: the settings a job runs with are one frozen value,
`Runtime`, put in force by the context manager `runtime` and restored when it ends, normally
or on an exception. `current` is the value in force; results record it
(`Runtime.to_dict`), so two runs that differ by a setting that changes pixels (the JPEG
decoder) are told apart.

What each setting touches, and how it is undone:

- ``jpeg_decoder``: whether `imagery_tool.jpeg_tiles` decodes JPEG GeoTIFF blocks
  (libjpeg-turbo through OpenCV, colour a grey level or two from GDAL's) or GDAL does.
  Read through `current` (per job), so nothing needs undoing. Its default comes from the
  environment: ``IMAGERY_TOOL_GDAL_JPEG=1`` (any value but empty or ``0``) means GDAL.
- ``jpeg_cache_mb``: the bound of the decoded-block cache; put back on exit (the least recent
  blocks beyond it dropped).
- ``gdal_cache_mb``: GDAL's block cache (``GDAL_CACHEMAX``); its value on entry is put back.
- ``opencv_threads``: OpenCV's own thread pool; its value on entry is put back.
- ``workers``: threads of our parallel parts (detection blocks, registration windows,
  normalisation bands); read through `current` (per job).
- ``heap_tuning``: glibc's heap keeps freed block-sized arrays (`tune_heap`). glibc has no
  getter for these settings, so they cannot be put back exactly: opt-in, off by default. The
  command line, whose process ends with its job, turns it on.

The settings a job reads (`current`: the decoder, the workers, what it records) belong to
the job: a context variable, so a thread sees the context it entered, never another thread's.
The thread pools of a job (`thread_pool`) run each task in the context of the thread that
submitted it; threads started otherwise (napari's workers) start from the defaults. Contexts
nest (the innermost in force; unset fields inherit). What is process state (GDAL's cache,
OpenCV's threads, the decoded-block cache's bound, the heap) is counted over the contexts of
all threads: the latest entered still open sets it, and the state found before the first is
put back when the last one ends.
"""

from __future__ import annotations

import contextvars
import ctypes
import ctypes.util
import dataclasses
import os
import platform
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import cv2
import rasterio.env

__all__ = [
    "DEFAULT_JPEG_CACHE_MB",
    "GDAL_JPEG_ENV",
    "MEMORY_PER_WORKER_MB",
    "Runtime",
    "current",
    "release_heap",
    "runtime",
    "thread_pool",
    "tune_heap",
    "usable_cores",
    "usable_workers",
]

DEFAULT_JPEG_CACHE_MB = 96  # decoded JPEG blocks kept (a 512 px RGB block: 0.75 MiB)
GDAL_JPEG_ENV = "IMAGERY_TOOL_GDAL_JPEG"  # set (not "0"): decode JPEG blocks with GDAL
# Memory a block worker of a detection may hold (its block's arrays at the default 1024 px
# blocks, with margins, both dates and the change maps), with room: workers beyond
# physical memory / this are not started.
MEMORY_PER_WORKER_MB = 1024
_MIB = 2**20


def usable_cores() -> int:
    """Return the cores this process may run on (its CPU affinity where known), at least 1."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is not None:
        return max(1, len(getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def usable_workers() -> int:
    """Return how many threads the parallel parts of a job use by default.

    The usable cores (`usable_cores`), fewer when physical memory holds fewer block workers
    of `MEMORY_PER_WORKER_MB` each; at least 1.
    """
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: cores alone
        return usable_cores()
    return max(1, min(usable_cores(), memory // (MEMORY_PER_WORKER_MB * _MIB)))


def _our_jpeg_decoder_by_default() -> bool:
    return os.environ.get(GDAL_JPEG_ENV, "") in ("", "0")


@dataclass(frozen=True)
class Runtime:
    """The settings a job runs with (some of them process state: see the module).

    Attributes
    ----------
    jpeg_decoder : bool
        True: JPEG GeoTIFF blocks are decoded by `imagery_tool.jpeg_tiles` (libjpeg-turbo,
        about 2.5 x faster than GDAL's libjpeg; colour pixels a grey level or two apart from
        GDAL's); False: by GDAL. Default: True unless ``IMAGERY_TOOL_GDAL_JPEG`` is set.
    jpeg_cache_mb : int
        Bound of the decoded-block cache of `imagery_tool.jpeg_tiles`, all files together.
    gdal_cache_mb : int, optional
        GDAL's block cache; None: as found (GDAL's default is 5 % of physical memory; a
        detection sets its own, see `imagery_tool.change.detect_changes`).
    workers : int
        Threads of our parallel parts; default `usable_workers`.
    opencv_threads : int, optional
        Threads of OpenCV's own pool; None: as found (a detection with several workers
        sets 1: OpenCV's pool only spins beside our threads).
    heap_tuning : bool
        Keep freed block-sized arrays in glibc's heap while the context runs (`tune_heap`);
        off by default because glibc's own settings cannot be put back exactly.
    """

    jpeg_decoder: bool = field(default_factory=_our_jpeg_decoder_by_default)
    jpeg_cache_mb: int = DEFAULT_JPEG_CACHE_MB
    gdal_cache_mb: int | None = None
    workers: int = field(default_factory=usable_workers)
    opencv_threads: int | None = None
    heap_tuning: bool = False

    def __post_init__(self) -> None:
        """Check the values."""
        for name in ("jpeg_cache_mb", "gdal_cache_mb", "workers", "opencv_threads"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name}={value!r}; use a whole number >= 0")
        if self.workers < 1:
            raise ValueError(f"workers={self.workers}; need at least 1")

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as recorded in results (JSON-ready).

        ``jpeg_decoder`` is named: ``"libjpeg-turbo (OpenCV <version>)"`` or ``"GDAL"``.
        """
        record = dataclasses.asdict(self)
        record["jpeg_decoder"] = (
            f"libjpeg-turbo (OpenCV {cv2.__version__})" if self.jpeg_decoder else "GDAL"
        )
        return record


# --- glibc's heap --------------------------------------------------------------------------

# mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
# while tuned: free memory at the heap's top is kept for the next block
_ROOMY = {_M_MMAP_THRESHOLD: 32 * _MIB, _M_TRIM_THRESHOLD: 512 * _MIB, _M_TOP_PAD: 64 * _MIB}
# afterwards: glibc's default top pad, and the trim threshold its dynamic scheme sets for a
# 32 MiB mmap threshold (twice that), which a process handling such arrays reaches anyway
_AFTER = {_M_TRIM_THRESHOLD: 64 * _MIB, _M_TOP_PAD: 128 * 1024}


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def tune_heap() -> bool:
    """Make glibc's heap keep what is freed; return whether anything changed (glibc only).

    Each block of a detection allocates and frees tens of arrays of 1 to 15 MB. With glibc's
    defaults the memory freed at the top of the heap goes back to the kernel, and the next
    block faults it in again page by page, zeroed: at 10000 px, about 300,000 page faults and
    1.5 CPU seconds in the kernel. Here the trim threshold and the top pad are raised (and the
    mmap threshold fixed at 32 MiB, where glibc's dynamic threshold ends for such arrays).
    """
    if _LIBC is None:
        return False
    for parameter, value in _ROOMY.items():
        _LIBC.mallopt(parameter, value)
    return True


def release_heap() -> None:
    """Make the heap settings moderate again and give the free memory back (glibc only).

    Not glibc's settings before `tune_heap` (they cannot be read): its default top pad and
    the trim threshold its dynamic scheme reaches for block-sized arrays.
    """
    if _LIBC is None:
        return
    for parameter, value in _AFTER.items():
        _LIBC.mallopt(parameter, value)
    _LIBC.malloc_trim(0)


# --- the settings in force -----------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """The process state before the first context: put back when the last one ends."""

    gdal_cache_bytes: int
    opencv_threads: int
    jpeg_cache_bytes: int


_LOCK = threading.Lock()
_open: list[tuple[object, Runtime]] = []  # contexts still open (any thread), in the order entered
_found: _Found | None = None
_applied: Runtime | None = None  # what the process state was last set to
# the settings of the job running in this thread (or asyncio task): None outside any context
_IN_FORCE: contextvars.ContextVar[Runtime | None] = contextvars.ContextVar(
    "imagery_tool_runtime", default=None
)


def current() -> Runtime:
    """Return the settings in force: this thread's innermost `runtime` context's, else defaults."""
    settings = _IN_FORCE.get()
    return settings if settings is not None else Runtime()


@contextmanager
def runtime(settings: Runtime | None = None, /, **changes: Any) -> Iterator[Runtime]:
    """Run with ``settings`` (default: those in force) with ``changes``, then restore.

    Parameters
    ----------
    settings : Runtime, optional
        The settings to run with; default `current`.
    **changes
        Fields of `Runtime` to change, e.g. ``jpeg_decoder=False``.

    Yields
    ------
    Runtime
        The settings in force inside the context (record them with `Runtime.to_dict`).

    Examples
    --------
    >>> with runtime(jpeg_decoder=False) as settings:
    ...     settings.to_dict()["jpeg_decoder"]
    'GDAL'
    >>> current().gdal_cache_mb is None
    True
    """
    in_force = dataclasses.replace(settings if settings is not None else current(), **changes)
    entry = _enter_process_state(in_force)
    job = _IN_FORCE.set(in_force)
    try:
        yield in_force
    finally:
        _IN_FORCE.reset(job)
        _leave_process_state(entry)


def _enter_process_state(settings: Runtime) -> object:
    """Count a context in and set the process state to its settings; return its entry."""
    global _found
    entry = object()
    with _LOCK:
        if not _open:
            _found = _find()
        try:
            _apply(settings)
        except BaseException:  # nothing counted in: put back what was set before the failure
            _apply(_open[-1][1] if _open else None)
            raise
        _open.append((entry, settings))
    return entry


def _leave_process_state(entry: object) -> None:
    """Count a context out; the latest still open sets the process state, else what was found."""
    with _LOCK:
        _open.remove(next(pair for pair in _open if pair[0] is entry))
        _apply(_open[-1][1] if _open else None)


class _JobPool(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitting thread's context."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Schedule ``fn(*args, **kwargs)`` with the settings in force where it is submitted."""
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def thread_pool(workers: int) -> ThreadPoolExecutor:
    """Return a thread pool for the parallel parts of a job, whose tasks see the job's settings.

    A plain `ThreadPoolExecutor`'s threads start outside the job's `runtime` context (with the
    defaults); each task here runs with the settings in force in the thread that submits it
    (`map` submits too).

    Parameters
    ----------
    workers : int
        Threads of the pool (at least 1).

    Returns
    -------
    concurrent.futures.ThreadPoolExecutor
        Use it as a context manager, as any executor.
    """
    return _JobPool(max_workers=workers)


def _find() -> _Found:
    from imagery_tool import jpeg_tiles

    return _Found(
        gdal_cache_bytes=int(rasterio.env.get_gdal_config("GDAL_CACHEMAX")),
        opencv_threads=cv2.getNumThreads(),
        jpeg_cache_bytes=jpeg_tiles.cache_bound(),
    )


def _apply(settings: Runtime | None) -> None:
    """Set the process state to ``settings``, or back to what was found when None."""
    global _applied
    from imagery_tool import jpeg_tiles

    found = _found
    assert found is not None
    was_tuned = _applied is not None and _applied.heap_tuning
    _applied = settings
    if settings is None:
        rasterio.env.set_gdal_config("GDAL_CACHEMAX", found.gdal_cache_bytes)
        cv2.setNumThreads(found.opencv_threads)
        jpeg_tiles.bound_cache(found.jpeg_cache_bytes)
        if was_tuned:
            release_heap()
        return
    gdal = settings.gdal_cache_mb
    rasterio.env.set_gdal_config(
        # rasterio hands an integer GDAL_CACHEMAX to GDALSetCacheMax64: bytes, not megabytes
        "GDAL_CACHEMAX",
        found.gdal_cache_bytes if gdal is None else gdal * _MIB,
    )
    threads = settings.opencv_threads
    cv2.setNumThreads(found.opencv_threads if threads is None else threads)
    jpeg_tiles.bound_cache(settings.jpeg_cache_mb * _MIB)
    if settings.heap_tuning and not was_tuned:
        tune_heap()
    elif was_tuned and not settings.heap_tuning:
        release_heap()
