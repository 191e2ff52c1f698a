"""Regions of consecutive pairs chain into one track per object, with known dates."""

from __future__ import annotations

import pytest

from imagery_tool.series import Event, track_objects

BIG = (100.0, 100.0, 240.0, 240.0)  # a 70 m aircraft at 0.5 m
FIGHTER = (400.0, 100.0, 440.0, 140.0)


def ev(pair, change, bbox=BIG, size=(70.0, 68.0), score=0.9):
    return Event(pair, change, score, bbox, size[0], size[1], size[0] * size[1] * 0.5)


def spans(tracks):
    return [(t.first, t.last, t.arrived, t.departed) for t in tracks]


def test_arrival_then_departure_is_one_track():
    moved = (104.0, 98.0, 243.0, 236.0)  # the same object boxed a little differently
    tracks, unmatched = track_objects([ev(1, "appeared"), ev(4, "disappeared", moved)], 8)
    assert spans(tracks) == [(2, 4, True, True)]
    assert [t.id for t in tracks] == ["T01"] and not unmatched


def test_present_from_the_start_and_still_present_at_the_end():
    tracks, _ = track_objects([ev(2, "disappeared"), ev(5, "appeared", FIGHTER, (20, 17))], 8)
    assert spans(tracks) == [(0, 2, False, True), (6, 7, True, False)]


def test_same_place_twice_makes_two_tracks():
    events = [ev(0, "appeared"), ev(2, "disappeared"), ev(4, "appeared"), ev(6, "disappeared")]
    tracks, _ = track_objects(events, 9)
    assert spans(tracks) == [(1, 2, True, True), (5, 6, True, True)]


def test_swap_in_one_pair_ends_one_track_and_starts_another():
    events = [ev(3, "disappeared", BIG, (46, 50)), ev(3, "appeared", BIG, (69, 73))]
    tracks, _ = track_objects(events, 6)
    assert spans(tracks) == [(0, 3, False, True), (4, 5, True, False)]


def test_changed_state_keeps_the_track_but_a_changed_size_is_a_replacement():
    visor = [ev(1, "appeared"), ev(3, "changed", BIG, (71, 69))]
    tracks, _ = track_objects(visor, 6)
    assert spans(tracks) == [(2, 5, True, False)]
    assert tracks[0].notes == [(4, "changed state")]
    other = [ev(1, "appeared"), ev(3, "changed", BIG, (30, 25))]
    tracks, _ = track_objects(other, 6)
    assert spans(tracks) == [(2, 3, True, True), (4, 5, True, False)]


def test_changes_where_nothing_is_followed_are_returned_apart():
    tracks, unmatched = track_objects([ev(2, "changed", FIGHTER, (5, 3))], 5)
    assert tracks == [] and [e.pair for e in unmatched] == [2]


def test_a_second_arrival_at_an_occupied_place_ends_the_first():
    tracks, _ = track_objects([ev(0, "appeared"), ev(3, "appeared")], 6)
    assert spans(tracks) == [(1, 3, True, True), (4, 5, True, False)]
    assert "departure not seen" in tracks[0].notes[0][1]


def test_separate_places_do_not_match():
    tracks, _ = track_objects([ev(0, "appeared"), ev(2, "disappeared", FIGHTER, (20, 17))], 4)
    assert spans(tracks) == [(0, 2, False, True), (1, 3, True, False)]
    assert [t.id for t in tracks] == ["T01", "T02"]  # ordered by first date


def test_needs_two_dates():
    with pytest.raises(ValueError, match="two dates"):
        track_objects([], 1)
