"""The reader aligns dates with the core's trust gate: refused shifts are not applied, and said."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from napari_imagery_tool import _reader
from napari_imagery_tool._reader import read_stack

from imagery_tool.runtime import current, runtime
from imagery_tool.tile import open_tile
from tests.plugin.conftest import dated_tile, scene


def test_shift_is_applied_with_its_confidence(tmp_path):
    first = dated_tile(tmp_path, "2024-12-13")
    later = dated_tile(tmp_path, "2025-01-10", shift=(3, -2))
    (info,) = read_stack([open_tile(first), open_tile(later)])
    dx, dy = info.shifts[1]
    assert abs(abs(dx) - 3) < 0.5 and abs(abs(dy) - 2) < 0.5
    assert info.registrations[1].status == "applied"
    (note,) = [n for n in info.notes if n.startswith(later.name)]
    assert "shifted by" in note and "confidence 0." in note


def test_refused_shift_aligns_by_georeference_and_says_why(tmp_path):
    first = dated_tile(tmp_path, "2024-12-13")
    # the later date shows other ground: no shift can be trusted
    other = np.ascontiguousarray(np.flip(scene(99), axis=(1, 2)))
    later = dated_tile(tmp_path, "2025-01-10", pixels=other)
    (info,) = read_stack([open_tile(first), open_tile(later)])
    assert info.shifts[1] == (0.0, 0.0) and info.registrations[1] is None
    (note,) = [n for n in info.notes if n.startswith(later.name)]
    assert note.startswith(
        f"{later.name}: aligned by georeference only (content estimate refused ("
    )


def test_dates_are_registered_side_by_side_each_with_a_share_of_the_workers(tmp_path, monkeypatch):
    tiles = [open_tile(dated_tile(tmp_path, f"2024-12-{day}")) for day in (10, 11, 12)]
    workers_seen = []

    def register(reference, tile):
        workers_seen.append(current().workers)  # what its own pool of windows would start
        raise ValueError("not measured here")

    monkeypatch.setattr(_reader, "register_to_reference", register)
    info = SimpleNamespace(tiles=tiles, notes=[], registrations={}, shifts={})
    with runtime(workers=6):
        _reader._register(info)
    assert workers_seen == [3, 3]  # two dates at once, three threads each: not 6 x 6
    assert len(info.notes) == 2


def test_a_registration_is_measured_again_under_the_other_jpeg_decoder(tmp_path, monkeypatch):
    tiles = [open_tile(dated_tile(tmp_path, f"2024-12-{day}")) for day in (10, 11)]
    decoders = []

    def register(reference, tile):
        decoders.append(current().jpeg_decoder)
        return SimpleNamespace(applied=False, matrix=None)

    monkeypatch.setattr(_reader, "register_to_reference", register)
    monkeypatch.setattr(_reader, "placement_note", lambda *args: "placed")
    monkeypatch.setattr(_reader, "_REGISTRATIONS", {})
    for decoder in (True, True, False):  # the second is cached, the third is not the same
        info = SimpleNamespace(tiles=tiles, notes=[], registrations={}, shifts={})
        with runtime(jpeg_decoder=decoder):
            _reader._register(info)
    assert decoders == [True, False]
