"""Heap settings while detection runs: freed block-sized arrays are reused, then given back."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from imagery_tool.change import heap

pytestmark = pytest.mark.skipif(heap._LIBC is None, reason="glibc heap settings only")

# In a fresh process (glibc's thresholds adapt to what a process did before): blocks of six
# 12 MiB arrays alive at once, as in one detection block, allocated and freed in turn; the page
# faults of the last block, and the resident memory inside the context and after it.
_BLOCKS = """
import contextlib, json, resource, sys
import numpy as np
from imagery_tool.change.heap import roomy_heap

def rss_mb():
    with open("/proc/self/status") as status:
        return int(next(r for r in status if r.startswith("VmRSS")).split()[1]) / 1024

context = roomy_heap() if sys.argv[1] == "roomy" else contextlib.nullcontext()
with context:
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


def test_freed_blocks_are_reused_then_given_back():
    plain, roomy = _run("plain"), _run("roomy")
    # glibc's defaults give the freed arrays back and fault them in again
    assert plain["faults"] > 1000
    assert roomy["faults"] < 0.05 * plain["faults"]
    # kept while the context runs, given back when it ends
    assert roomy["inside_mb"] - roomy["after_mb"] > 0.5 * 6 * 12
