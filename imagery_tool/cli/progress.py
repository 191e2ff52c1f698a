"""A progress bar on standard error for long commands, fed by the core's progress callbacks."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["ProgressBar", "progress_bar"]

_WIDTH = 24  # characters of the bar itself
_REDRAW_S = 0.1  # at most ten redraws a second


class ProgressBar:
    """Draw ``progress(done, total, label)`` as one line redrawn in place, with rate and time left.

    Parameters
    ----------
    what : str
        What is counted, for the line (``"blocks"``, ``"tasks"``).
    stream : text stream
        Where to draw (a terminal).
    """

    def __init__(self, what: str, stream: TextIO) -> None:
        self.what = what
        self.stream = stream
        self.started: float | None = None
        self.drawn = 0.0
        self.width = 0  # characters of the last line drawn, to blank what a shorter one leaves
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int, label: str = "") -> None:
        """Record ``done`` of ``total`` units; redraw when due (always for the last one)."""
        with self._lock:
            now = time.monotonic()
            if self.started is None or done == 0:
                self.started = now
            if done < total and now - self.drawn < _REDRAW_S and self.width:
                return
            self.drawn = now
            self._draw(self.line(done, total, label, now - self.started))

    def line(self, done: int, total: int, label: str, elapsed: float) -> str:
        """Return the text of the bar: ``[####....] 3/8 blocks  2.1 blocks/s  0:02 left  label``."""
        filled = round(_WIDTH * done / total) if total else _WIDTH
        parts = [f"[{'#' * filled}{'.' * (_WIDTH - filled)}] {done}/{total} {self.what}"]
        if done and elapsed > 0:
            rate = done / elapsed
            parts.append(f"{rate:.3g} {self.what}/s")
            parts.append(f"{_clock((total - done) / rate)} left" if done < total else "done")
            parts.append(f"in {_clock(elapsed)}" if done >= total else "")
        elif total:
            parts.append("-- left")
        line = "  ".join(p for p in parts if p)
        room = self._columns() - 1 - len(line) - 2
        if label and label != self.what and room >= 8:  # the end of a long name tells most
            line += "  " + (label if len(label) <= room else "…" + label[-(room - 1) :])
        return line

    def _columns(self) -> int:
        """Width of the terminal drawn on (80 when it does not say)."""
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
        return columns if columns >= 40 else 80

    def _draw(self, text: str) -> None:
        pad = max(0, self.width - len(text))
        self.stream.write(f"\r{text}{' ' * pad}")
        self.stream.flush()
        self.width = len(text)

    def close(self) -> None:
        """End the line drawn (so that the next message, or "interrupted", starts on its own)."""
        with self._lock:
            if self.width:
                self.stream.write("\n")
                self.stream.flush()
                self.width = 0


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds + 0.5), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@contextmanager
def progress_bar(what: str, *, quiet: bool = False, stream: TextIO | None = None) -> Iterator:
    """Yield a progress callback for the core, or None when nothing should be drawn.

    Nothing is drawn with ``quiet`` or when the stream (standard error by default) is not a
    terminal: logs and pipes get no carriage returns. The line is ended on every way out,
    Ctrl-C included, so that the command's last message starts on a line of its own.

    Parameters
    ----------
    what : str
        What the core counts (``"blocks"``, ``"tasks"``).
    quiet : bool
        The command's ``--quiet``.
    stream : text stream, optional
        Standard error by default.

    Yields
    ------
    ProgressBar or None
        Pass it as the core function's ``progress=``.
    """
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if quiet or isatty is None or not isatty():
        yield None
        return
    bar = ProgressBar(what, stream)
    try:
        yield bar
    finally:
        bar.close()
