"""File > Open Sample: the shipped files found as package data and copied to the user's cache."""

from __future__ import annotations

from pathlib import Path

from napari_imagery_tool import _sample_data
from napari_imagery_tool._sample_data import (
    hmeimim_stack,
    sample_folder,
)

REPO_SAMPLES = Path(__file__).parents[2] / "sample_tiles"
DATES = ["2024-11-29", "2024-12-06", "2024-12-13", "2024-12-20"]
STACK = {
    "catalog.json",
    *(f"hmeimim_{d}.tif" for d in DATES),
    *(f"hmeimim_{d}/hmeimim_{d}.json" for d in DATES),
}


def test_the_stack_is_copied_to_the_cache_once_and_kept_current(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = sample_folder()
    assert folder == tmp_path / "imagery-tool" / "sample_tiles"
    copied = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert copied == STACK
    tile = folder / "hmeimim_2024-12-13.tif"
    assert tile.read_bytes() == (REPO_SAMPLES / tile.name).read_bytes()

    store = folder / "hmeimim.gpkg"  # the user's annotations, autosaved beside the tiles
    store.write_bytes(b"mine")
    stamp = tile.stat().st_mtime_ns
    stale = folder / "hmeimim_2024-12-06.tif"
    stale.write_bytes(b"an older version")
    assert sample_folder() == folder
    assert stale.read_bytes() == (REPO_SAMPLES / stale.name).read_bytes()
    assert tile.stat().st_mtime_ns == stamp  # unchanged files are not written again
    assert store.read_bytes() == b"mine"


def test_a_cache_that_cannot_be_written_is_a_warning(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    warnings = []
    monkeypatch.setattr("napari.utils.notifications.show_warning", warnings.append)
    assert hmeimim_stack() == []
    assert len(warnings) == 1 and "could not be copied to your cache folder" in warnings[0]


def test_the_sample_command_reads_the_cached_stack(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    opened = []
    monkeypatch.setattr(_sample_data, "read_paths", lambda paths: opened.extend(paths) or ["x"])
    assert hmeimim_stack() == ["x"]
    folder = tmp_path / "imagery-tool" / "sample_tiles"
    assert opened == [str(folder / f"hmeimim_{d}.tif") for d in DATES]
