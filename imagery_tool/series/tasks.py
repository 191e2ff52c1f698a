"""The work that runs on Dask workers: register a date to the reference, detect a pair's changes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imagery_tool.errors import ImageryToolError
from imagery_tool.registration.coregister import DEFAULT_REGISTRATION_MODEL

if TYPE_CHECKING:
    from imagery_tool.change.options import DetectionOptions

__all__ = ["TaskFailure", "detect_pair", "register_date", "single_threaded"]


def single_threaded() -> None:
    """Pin OpenCV to one thread, as Dask runs tasks side by side.

    Results then do not depend on the machine's core count (OpenCV's parallel sums change the
    last digits).
    """
    import cv2

    cv2.setNumThreads(1)


@dataclass(frozen=True)
class TaskFailure:
    """A task that met bad input (an `ImageryToolError`): its one-line message, kept as data.

    Returned rather than raised so that the other pairs still finish and are kept.
    """

    error: str
    message: str


def register_date(
    reference: str | Path, tile: str | Path, *, model: str = DEFAULT_REGISTRATION_MODEL
):
    """Measure how a date sits on the reference grid.

    Parameters
    ----------
    reference, tile : str or Path
        The reference date (first of the series) and another date of the same site.
    model : {"shift", "similarity", "affine"}
        As `imagery_tool.registration.coregister`.

    Returns
    -------
    Registration or TaskFailure
        A content estimate the trust gate refused is a `Registration` with ``status``
        ``"fallback"`` (placed by georeference alone), not a failure.
    """
    from imagery_tool.registration import coregister

    single_threaded()
    try:
        return coregister(reference, tile, model=model)
    except ImageryToolError as exc:
        return TaskFailure(type(exc).__name__, str(exc))


def detect_pair(
    before: str | Path,
    after: str | Path,
    options: DetectionOptions | None = None,
    *,
    threads: int = 1,
    block_px: int = 1024,
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

    Returns
    -------
    ChangeResult or TaskFailure
    """
    from imagery_tool.change import detect_changes

    single_threaded()
    try:
        return detect_changes(before, after, options, workers=threads, block_px=block_px)
    except ImageryToolError as exc:
        return TaskFailure(type(exc).__name__, str(exc))
