"""Keep freed block-sized arrays in the process heap while detection runs (glibc only)."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["roomy_heap"]

# mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

_MIB = 2**20
# while detection runs: free memory at the heap's top is kept for the next block
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
_LOCK = threading.Lock()
_depth = 0


@contextmanager
def roomy_heap() -> Iterator[bool]:
    """Run with glibc's heap keeping what is freed, then give the memory back.

    Each block of a detection allocates and frees tens of arrays of 1 to 15 MB. With glibc's
    defaults the memory freed at the top of the heap goes back to the kernel, and the next
    block faults it in again page by page, zeroed: at 10000 px, about 300,000 page faults and
    1.5 CPU seconds in the kernel. Inside this context the trim threshold and the top pad are
    raised (and the mmap threshold fixed at 32 MiB, where glibc's dynamic threshold ends for
    such arrays), so freed blocks are reused. On leaving the outermost context the settings
    become moderate again and the heap is trimmed: a long-running process (napari) gets the
    memory back. Nested and concurrent uses are counted. Elsewhere than glibc, nothing changes.

    Yields
    ------
    bool
        Whether the heap settings were changed (glibc).
    """
    global _depth
    with _LOCK:
        _depth += 1
        if _depth == 1 and _LIBC is not None:
            for parameter, value in _ROOMY.items():
                _LIBC.mallopt(parameter, value)
    try:
        yield _LIBC is not None
    finally:
        with _LOCK:
            _depth -= 1
            if _depth == 0 and _LIBC is not None:
                for parameter, value in _AFTER.items():
                    _LIBC.mallopt(parameter, value)
                _LIBC.malloc_trim(0)
