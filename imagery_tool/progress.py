"""The progress contract of long core functions: ``progress(done, total, label)``."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Progress", "ProgressCounter"]

# Called with the units done so far (0 once at the start), the units in all and what a unit
# is or what was just finished ("blocks", a pair's name). Front ends draw it (the command
# line's bar, `imagery_tool.cli.progress`); the core only counts.
Progress = Callable[[int, int, str], None]


class ProgressCounter:
    """Count finished units from any thread and report each count, one call at a time.

    Parameters
    ----------
    progress : callable or None
        ``progress(done, total, label)``; nothing is reported when None.
    total : int
        Units in all.
    label : str
        Passed on with every count.

    Examples
    --------
    >>> seen = []
    >>> counter = ProgressCounter(lambda *a: seen.append(a), 2, "blocks")
    >>> counter.step(); counter.step()
    >>> seen
    [(0, 2, 'blocks'), (1, 2, 'blocks'), (2, 2, 'blocks')]
    """

    def __init__(self, progress: Progress | None, total: int, label: str) -> None:
        self.progress = progress
        self.total = total
        self.label = label
        self.done = 0
        self._lock = threading.Lock()
        if progress is not None:
            progress(0, total, label)

    def step(self, count: int = 1) -> None:
        """Add ``count`` finished units and report (the callback never runs twice at once)."""
        if self.progress is None:
            return
        with self._lock:
            self.done += count
            self.progress(self.done, self.total, self.label)
