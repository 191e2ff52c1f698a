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
    and of the current directory, then in the user's cache (see `cached_samples`).
    """
    candidates = [os.environ.get(SAMPLES_ENV)]
    candidates.append(str(Path(__file__).resolve().parents[2] / "sample_tiles"))
    candidates.append(str(Path.cwd() / "sample_tiles"))
    for candidate in filter(None, candidates):
        folder = Path(candidate)
        if folder.is_dir() and any(folder.glob("hmeimim_*.tif")):
            return folder
    return cached_samples()


def cached_samples() -> Path | None:
    """Return the sample tiles in the user's cache, made there once when missing.

    An installed package does not carry ``sample_tiles/``; the generator that made them is
    deterministic, so the same four tiles are written to ``~/.cache/imagery-tool/sample_tiles``
    (``$XDG_CACHE_HOME`` respected) on first use, in about 15 s. ``None`` when that fails.
    """
    from imagery_tool.synthetic import make_hmeimim_series, write_series

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "imagery-tool" / "sample_tiles"
    if len(list(folder.glob("hmeimim_*.tif"))) < 4:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_series(make_hmeimim_series(), folder)
        except OSError:
            return None
    return folder


def hmeimim_stack() -> list[tuple]:
    """Open the four dated Hmeimim tiles as one co-registered time stack."""
    folder = sample_folder()
    if folder is None:
        from napari.utils.notifications import show_warning

        show_warning(
            "the Hmeimim sample tiles could not be found nor made in the cache folder; run "
            f"`make samples` in the source checkout or set {SAMPLES_ENV} to their folder"
        )
        return []
    return read_paths([str(p) for p in sorted(folder.glob("hmeimim_*.tif"))])
