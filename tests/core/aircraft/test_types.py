"""Type by size: the catalogue type whose published size was measured comes first."""

import math

import numpy as np
import pytest

from imagery_tool import aircraft_catalogue
from imagery_tool.aircraft.types import SHRINK, TypeMatch, rank_types


@pytest.mark.parametrize("name", list(aircraft_catalogue.AIRCRAFT))
def test_each_type_ranks_itself_first_from_its_expected_measurement(name):
    t = aircraft_catalogue.AIRCRAFT[name]
    best = rank_types(t.length_m * SHRINK, t.span_m * SHRINK, top=3)
    assert name in [m.name for m in best]
    assert best[0].score == pytest.approx(1.0) or best[0].name != name


def test_length_and_span_read_the_wrong_way_round_still_find_the_type():
    # (the C-5, 75.3 m long and 67.9 m span, is then as likely: both stay in the top 3)
    matches = rank_types(73.3 * SHRINK, 69.1 * SHRINK, top=3)
    assert {"An-124", "C-5"} <= {m.name for m in matches}
    assert all(isinstance(m, TypeMatch) and 0.0 <= m.score <= 1.0 for m in matches)


def test_swing_wing_types_are_found_with_their_wings_swept():
    t = aircraft_catalogue.lookup("Tu-160")
    assert t.span_folded_m is not None
    assert rank_types(t.length_m * SHRINK, t.span_folded_m * SHRINK, top=1)[0].name == "Tu-160"


def test_icao_designators_of_the_real_set_find_their_types():
    names = {c: aircraft_catalogue.lookup(c).name for c in ("K35R", "B738W", "A20N", "A21N")}
    assert names == {"K35R": "KC-135", "B738W": "737-800", "A20N": "A320neo", "A21N": "A321neo"}


def test_kind_and_candidates_restrict_the_ranking():
    assert {m.kind for m in rank_types(18, 20, kind="helicopter", top=50)} == {"helicopter"}
    names = [m.name for m in rank_types(69, 73, candidates=["IL76", "an 26", "nonsense"])]
    assert names == ["Il-76", "An-26"]


@pytest.mark.parametrize("bad", [0, -3, float("nan"), float("inf")])
def test_sizes_must_be_positive_metres(bad):
    with pytest.raises(ValueError, match="length_m"):
        rank_types(bad, 10)


@pytest.mark.parametrize("source", ["assisted", "proposed"])
def test_assisted_and_proposed_boxes_are_stored_and_exported_with_their_source(tmp_path, source):
    from imagery_tool.annotations.formats import read_annotations, write_annotations
    from imagery_tool.annotations.model import BoxAnnotation
    from imagery_tool.annotations.store import open_store

    box = BoxAnnotation.from_center(
        100, 80, 40, 30, 30, label="An-124", source=source, score=0.8, tile="t.tif"
    )
    with open_store(tmp_path / "s.gpkg") as store:
        store.add(box)
        back = store.get(box.id)
    assert (back.source, back.score) == (source, 0.8)
    write_annotations([back], tmp_path / "b.json", format="coco")
    result = read_annotations(tmp_path / "b.json", format="coco")
    assert [a.source for a in result.annotations] == [source]


def test_an_axis_aligned_box_around_a_turned_aircraft_is_measured_at_any_angle():
    from imagery_tool.aircraft.types import size_misfit

    t = aircraft_catalogue.lookup("Su-34")
    # the axis-aligned box of a Su-34 turned 30 degrees (a cross 23.3 m x 14.7 m)
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    along, across = max(23.3 * c, 14.7 * s), max(23.3 * s, 14.7 * c)
    assert size_misfit(along, across, t, ratio=1.0, any_angle=True) < 0.05
    assert size_misfit(along, across, t, ratio=1.0) > 1.0


def test_one_label_rule_gives_storable_classes() -> None:
    from imagery_tool.aircraft.propose import AircraftProposal
    from imagery_tool.aircraft.types import suggest_label
    from imagery_tool.annotations.schema import default_schema

    schema = default_schema()
    # The sample's An-124 measured 63.5 x 74 m: five airliners rank above it over the whole
    # catalogue; the label is the schema's best fit, for proposals and clicks alike.
    ranked = rank_types(63.5, 74.0, gsd_m=0.5)
    assert "An-124" not in [m.name for m in ranked[:5]]
    assert suggest_label(63.5, 74.0, gsd_m=0.5) == "An-124"
    proposal = AircraftProposal(np.zeros((4, 2)), (0, 0, 1, 1), 0.9, 63.5, 74.0, 0.0, ranked)
    assert proposal.label() == suggest_label(63.5, 74.0, schema) == "An-124"
    # nothing of the fleet fits: the schema's unknown class, never a bare catalogue type
    assert suggest_label(150.0, 20.0) == "unknown fixed-wing"
