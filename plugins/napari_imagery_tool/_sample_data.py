"""File > Open Sample: the dated tiles of Hmeimim air base as one time stack."""

from __future__ import annotations

import os
from pathlib import Path

from napari_imagery_tool._reader import read_paths

__all__ = ["hmeimim_stack", "sample_folder"]

SAMPLES_ENV = "IMAGERY_TOOL_SAMPLES"


def sample_folder() -> Path | None:
    """Return the folder of the Hmeimim sample tiles, or None when it cannot be found.

    Looked up in ``$IMAGERY_TOOL_SAMPLES``, then in ``sample_tiles/`` of the source checkout
    and of the current directory.
    """
    candidates = [os.environ.get(SAMPLES_ENV)]
    candidates.append(str(Path(__file__).resolve().parents[2] / "sample_tiles"))
    candidates.append(str(Path.cwd() / "sample_tiles"))
    for candidate in filter(None, candidates):
        folder = Path(candidate)
        if folder.is_dir() and any(folder.glob("hmeimim_*.tif")):
            return folder
    return None


def hmeimim_stack() -> list[tuple]:
    """Open the four dated Hmeimim tiles as one co-registered time stack."""
    folder = sample_folder()
    if folder is None:
        from napari.utils.notifications import show_warning

        show_warning(
            "the Hmeimim sample tiles are not installed; run `make samples` in the source "
            f"checkout or set {SAMPLES_ENV} to their folder"
        )
        return []
    return read_paths([str(p) for p in sorted(folder.glob("hmeimim_*.tif"))])
