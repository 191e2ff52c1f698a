"""File > Open Sample: the dated tiles of Hmeimim air base, shipped as package data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from fnmatch import fnmatch
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from imagery_tool.atomic import atomic_path
from napari_imagery_tool._notify import notify
from napari_imagery_tool._reader import read_paths

__all__ = ["SAMPLES_PACKAGE", "hmeimim_stack", "sample_folder", "shipped_samples", "stack_files"]

# The repository's sample_tiles/ folder, installed under this name (pyproject's package-dir).
SAMPLES_PACKAGE = "napari_imagery_tool.sample_tiles"
# What the stack is opened from: the four tiles, their STAC items and the catalog.
STACK_FILES = ("catalog.json", "hmeimim_*.tif", "hmeimim_*/*.json")


def shipped_samples() -> Traversable:
    """Return the folder of the sample files installed with the plugin.

    Returns
    -------
    Traversable
        The package data of `SAMPLES_PACKAGE`: the four tiles, their STAC items and catalog,
        their truth and the analyst's An-124 boxes (see its ``README.md``).
    """
    return resources.files(SAMPLES_PACKAGE)


def sample_folder() -> Path:
    """Return a folder of the user's that holds the sample stack, copied there when missing.

    The stack opens from the user's cache (``~/.cache/imagery-tool/sample_tiles``,
    ``$XDG_CACHE_HOME`` respected), not from the installed package: the annotation store is
    autosaved beside the tiles, and an installed package is no place for the user's work.
    Files that differ from the shipped ones (an older version) are replaced; others there,
    such as that store, are left alone.

    Returns
    -------
    Path
        The folder, holding `STACK_FILES`.

    Raises
    ------
    OSError
        The cache folder cannot be made or written.
    """
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "imagery-tool" / "sample_tiles"
    for name, source in stack_files(shipped_samples()):
        target = folder / name
        data = source.read_bytes()
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            tmp.write_bytes(data)
    return folder


def stack_files(root: Traversable) -> Iterator[tuple[str, Traversable]]:
    """Yield ``(relative name, file)`` for the files under ``root`` matching `STACK_FILES`."""
    for pattern in STACK_FILES:
        yield from _matching(root, pattern.split("/"), prefix="")


def _matching(
    folder: Traversable, parts: list[str], *, prefix: str
) -> Iterator[tuple[str, Traversable]]:
    head, rest = parts[0], parts[1:]
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not fnmatch(entry.name, head):
            continue
        if rest and entry.is_dir():
            yield from _matching(entry, rest, prefix=f"{prefix}{entry.name}/")
        elif not rest and entry.is_file():
            yield f"{prefix}{entry.name}", entry


def hmeimim_stack() -> list[tuple]:
    """Open the four dated Hmeimim tiles as one co-registered time stack."""
    try:
        folder = sample_folder()
    except OSError as exc:
        notify(
            f"the Hmeimim sample tiles could not be copied to your cache folder: {exc}", "warning"
        )
        return []
    return read_paths([str(p) for p in sorted(folder.glob("hmeimim_*.tif"))])
