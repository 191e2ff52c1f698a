"""Change detection in a child process, so that cancelling stops the computation at once."""

from __future__ import annotations

import multiprocessing as mp
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from imagery_tool.runtime import Runtime, current

if TYPE_CHECKING:
    from imagery_tool.change.options import DetectionOptions
    from imagery_tool.registration import Registration

__all__ = ["DetectionProcess"]


def _run(conn, before: str, after: str, options, registration, settings: Runtime) -> None:
    try:
        from imagery_tool.change import detect_changes
        from imagery_tool.runtime import runtime

        with runtime(settings):  # the parent's settings, recorded in the result
            result = detect_changes(before, after, options, registration=registration)
        conn.send(("ok", result))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        conn.send(("error", exc if _picklable(exc) else RuntimeError(traceback.format_exc())))
    finally:
        conn.close()


def _picklable(exc: BaseException) -> bool:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001
        return False
    return True


class DetectionProcess:
    """`imagery_tool.change.detect_changes` running in a spawned child process.

    Parameters
    ----------
    before, after : str or Path
        The two tiles.
    options : DetectionOptions, optional
        As `detect_changes` (default: `DetectionOptions()`).
    registration : Registration, optional
        A registration measured before (else `detect_changes` measures it).
    settings : Runtime, optional
        The runtime settings the child detects with (`imagery_tool.runtime`); default: those
        in force in the thread that starts the job (a spawned process starts from none).
    """

    def __init__(
        self,
        before: str | Path,
        after: str | Path,
        options: DetectionOptions | None = None,
        *,
        registration: Registration | None = None,
        settings: Runtime | None = None,
    ) -> None:
        context = mp.get_context("spawn")  # never fork a process that runs Qt threads
        self._conn, child = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_run,
            args=(child, str(before), str(after), options, registration, settings or current()),
            daemon=True,
        )
        self._process.start()
        child.close()
        self._outcome = None
        self.cancelled = False

    def done(self, timeout: float = 0.0) -> bool:
        """Whether the result (or an error) has arrived, waiting up to ``timeout`` seconds."""
        if self.cancelled:
            return True
        try:
            if self._outcome is None and self._conn.poll(timeout):
                self._outcome = self._conn.recv()
        except EOFError:
            self._outcome = ("error", RuntimeError("the detection process died"))
        except (OSError, ValueError):  # `cancel` closed the pipe from the GUI thread meanwhile
            if self.cancelled:
                return True
            raise
        if self._outcome is None and not self._process.is_alive() and not self._conn.poll():
            self._outcome = ("error", RuntimeError("the detection process died"))
        return self._outcome is not None

    def result(self):
        """Return the `ChangeResult`, or raise the error the child raised."""
        kind, value = self._outcome
        self._process.join(timeout=5)
        self._conn.close()
        if kind == "error":
            raise value
        return value

    def cancel(self) -> None:
        """Stop the child process now."""
        if self._outcome is None:
            self.cancelled = True
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=5)
        self._conn.close()
