"""A worker plugin that kills its own worker process when a detection task starts."""

from __future__ import annotations

import os
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin


class KillWorker(WorkerPlugin):
    """Exit the worker process (as a crash or an OOM kill would) on a ``detect-`` task.

    With ``once``, a marker file makes it happen a single time across all workers, including
    the ones the nanny restarts; without it, every detection kills its worker.
    """

    name = "kill-worker"

    def __init__(self, marker: str | Path, *, once: bool = True) -> None:
        self.marker = str(marker)
        self.once = once

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish != "executing" or not str(key).startswith("detect-"):
            return
        if self.once and os.path.exists(self.marker):
            return
        with open(self.marker, "a", encoding="utf-8") as f:
            f.write(f"{key}\n")
        os._exit(13)
