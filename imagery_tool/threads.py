"""How many threads the parallel parts of a job use: the cores, two at most."""

from __future__ import annotations

import os

__all__ = ["DEFAULT_THREADS"]

# Two: the machines this is measured on have two cores, and each block worker of a detection
# holds a block's arrays (peak memory grows with the workers).
DEFAULT_THREADS = max(1, min(2, os.cpu_count() or 1))
