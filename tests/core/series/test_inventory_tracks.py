"""Inventory in the series: aircraft that never change are counted and tracked from date one."""

from __future__ import annotations

import copy
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from imagery_tool.aircraft_catalogue import lookup
from imagery_tool.series.tracking import Event, add_sightings, track_objects


def _seen(index: int, bbox, label="Su-24", score=0.9) -> tuple[Event, str]:
    return Event(pair=index - 1, change="present", score=score, bbox=bbox), label


def test_an_aircraft_parked_through_the_series_becomes_a_track_from_the_first_date():
    # a change track: something arrived at (100, 100) on date 2
    tracks, _ = track_objects([Event(1, "appeared", 0.9, (100, 100, 140, 140))], 4)
    parked = (10, 10, 50, 50)
    sightings = [_seen(i, parked, "Il-76") for i in range(3)]  # gone on date 3
    sightings += [_seen(i, (101, 99, 141, 139)) for i in (2, 3)]  # the arrival, seen again
    out = add_sightings(tracks, sightings, 4)
    assert len(out) == 2
    first = out[0]
    assert (first.first, first.last, first.arrived, first.departed) == (0, 2, False, True)
    assert first.label == "Il-76" and first.id == "T01"
    assert [e.change for e in first.events] == ["present"] * 3
    assert out[1].events[0].change == "appeared" and out[1].id == "T02"


def test_sightings_at_different_places_on_consecutive_dates_are_different_objects():
    out = add_sightings([], [_seen(0, (0, 0, 20, 20)), _seen(1, (200, 200, 220, 220))], 2)
    assert [(t.first, t.last, t.arrived, t.departed) for t in out] == [
        (0, 0, False, True), (1, 1, True, False)
    ]  # fmt: skip


def test_adding_sightings_leaves_the_change_tracks_given_untouched():
    tracks, _ = track_objects([Event(1, "appeared", 0.9, (100, 100, 140, 140))], 3)
    before = copy.deepcopy(tracks)
    out = add_sightings(tracks, [_seen(0, (10, 10, 50, 50)), _seen(2, (100, 100, 140, 140))], 3)
    assert tracks == before  # no label, id or note written into the input
    labelled = next(t for t in out if t.events[0].change == "appeared")
    assert labelled.label == "Su-24" and labelled.id == "T02"
    assert all(t is not s for t in out for s in tracks)


@pytest.mark.slow
def test_series_with_inventory_counts_every_aircraft_on_every_date(series12, tmp_path):
    from imagery_tool.annotations.model import BoxAnnotation
    from imagery_tool.annotations.schema import default_schema
    from imagery_tool.annotations.store import TileRecord, open_store
    from imagery_tool.series import run_series
    from imagery_tool.tile import open_tile

    _, folder = series12
    data = tmp_path / "tiles"
    data.mkdir()
    tifs = [Path(shutil.copy2(t, data / t.name)) for t in sorted(folder.glob("*.tif"))[:3]]
    schema = default_schema()
    truth = {}
    with open_store(tmp_path / "s.gpkg", project="p") as store:
        for t in tifs:
            tile = open_tile(t)
            store.add_tile(TileRecord.from_tile(tile))
            objects = json.loads((folder / "truth" / f"{t.stem}.json").read_text())["objects"]
            aircraft = [o for o in objects if o["kind"] == "aircraft"]
            truth[t.stem] = aircraft
            store.add_many(
                [BoxAnnotation(o["corners_px"], schema.resolve(o["class"]) or o["class"],
                               tile=tile.name, review="accepted") for o in aircraft]
            )  # fmt: skip
    out = tmp_path / "out"
    run_series(data, out, scheduler="sync", inventory=True, store=tmp_path / "s.gpkg")
    timeline = json.loads((out / "timeline.json").read_text())
    assert [d["aircraft"] for d in timeline["dates"]] == [len(truth[t.stem]) for t in tifs]
    objects = [o for o in timeline["objects"] if o["length_m"] and o["length_m"] >= 12]
    first = timeline["dates"][0]["date"]
    # every aircraft of the first date is followed, not only those that changed
    assert sum(o["first_seen"] == first for o in objects) >= len(truth[tifs[0].stem])
    typed = Counter(o["class"] for o in objects if o["first_seen"] == first)
    assert typed == Counter(lookup(o["class"]).name for o in truth[tifs[0].stem])
    # and what arrived later (a change track) is named by the inventory of its dates
    assert all(o["class"] for o in objects)
    assert (out / "inventory.csv").is_file() and (out / "inventory.png").is_file()
