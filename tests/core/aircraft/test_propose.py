"""Aircraft proposals on generated scenes with known boxes."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from imagery_tool_synthetic import random_series, render_date, tile_truth

from imagery_tool.aircraft.nms import nms_rotated, rotated_iou
from imagery_tool.aircraft.propose import (
    AircraftProposal,
    ProposalsCancelled,
    proposal_gsd,
    propose_aircraft,
)
from imagery_tool.aircraft.scorer import ProposalScorer, load_model
from imagery_tool.aircraft.types import TypeMatch
from imagery_tool.models.file import write_model


@pytest.fixture(scope="module")
def scene():
    """512 px at 0.5 m: an Il-76, an An-124 and two Su-35 with vehicles around."""
    series = random_series(5, size=512, n_dates=1, n_aircraft=4, n_vehicles=3)
    truth = [o for o in tile_truth(series, 0)["objects"] if o["kind"] == "aircraft"]
    return render_date(series, 0), truth


def _matched(proposals, truth) -> list[float]:
    return [
        max((rotated_iou(p.corners_px, np.asarray(t["corners_px"])) for p in proposals), default=0)
        for t in truth
    ]


def test_each_known_aircraft_is_proposed_once_with_its_box(scene):
    image, truth = scene
    proposals = propose_aircraft(image, pixel_size_m=0.5)
    assert len(truth) == 4
    assert len(proposals) == 4
    assert min(_matched(proposals, truth)) >= 0.5
    assert [p.score for p in proposals] == sorted((p.score for p in proposals), reverse=True)
    for p in proposals:
        assert isinstance(p, AircraftProposal)
        assert 0.5 <= p.score <= 1
        x0, y0, x1, y1 = p.bbox_px
        assert x0 == p.corners_px[:, 0].min() and y1 == p.corners_px[:, 1].max()
        assert 8 < max(p.length_m, p.width_m) < 90
        assert p.types and p.types[0].score >= p.types[-1].score


def test_blocks_give_the_same_aircraft_as_one_pass(scene):
    image, truth = scene
    seen = []
    proposals = propose_aircraft(
        image,
        pixel_size_m=0.5,
        block_px=256,
        length_range_m=(8, 75),  # the An-124's 73 m span is the longest side here
        progress=lambda d, t, label: seen.append((d, t)),
    )
    assert seen[-1] == (8, 8) and len(seen) == 8
    assert min(_matched(proposals, truth)) >= 0.5
    assert len(proposals) == 4


def test_an_empty_apron_has_no_proposals():
    """Nothing on the apron: nothing proposed (vehicles next to stand markings can be; see docs)."""
    series = random_series(3, size=512, n_dates=1, n_aircraft=0, n_vehicles=0)
    assert propose_aircraft(render_date(series, 0), pixel_size_m=0.5) == []


def test_cancel_stops_before_any_work(scene):
    with pytest.raises(ProposalsCancelled, match="cancelled"):
        propose_aircraft(scene[0], pixel_size_m=0.5, cancel=lambda: True)


def test_bad_options_are_refused(scene):
    with pytest.raises(ValueError, match="min_score"):
        propose_aircraft(scene[0], min_score=1.5)
    with pytest.raises(ValueError, match="length_range_m"):
        propose_aircraft(scene[0], length_range_m=(50, 10))


def test_annotation_keeps_score_and_says_proposed(scene):
    p = propose_aircraft(scene[0], pixel_size_m=0.5)[0]
    box = p.to_annotation("x.tif", acquired="2024-12-13T08:21:00Z")
    assert box.source == "proposed" and box.score == pytest.approx(p.score, abs=1e-4)
    assert box.tile == "x.tif" and box.label == p.label()
    assert np.allclose(sorted(map(tuple, box.xy)), sorted(map(tuple, p.corners_px)))


def test_the_label_is_the_best_type_the_schema_has():
    def match(name, score, kind="fixed-wing"):
        return TypeMatch(name, score, 70.0, 75.0, kind)

    corners = np.array([(0, 0), (10, 0), (10, 10), (0, 10)], float)
    ranked = [match("A380", 0.98), match("747-8", 0.4), match("An-124", 0.37)]
    p = AircraftProposal(corners, (0, 0, 10, 10), 0.9, 70.0, 76.0, 90.0, ranked)
    assert p.types[0].name == "A380" and p.label() == "An-124"  # A380 is no schema class
    p = AircraftProposal(corners, (0, 0, 10, 10), 0.9, 18.0, 21.0, 90.0,
                         [match("Mi-26", 0.5, "helicopter")])  # fmt: skip
    assert p.label() == "Mi-8"  # by its size among the schema's fleet, whatever `types` says


def test_an_array_has_no_gsd_so_the_pixel_size_is_assumed():
    image = np.zeros((3, 8, 8), np.uint8)
    assert proposal_gsd(image) == (0.5, True)
    assert proposal_gsd(image, 0.3) == (0.3, False)  # given, not assumed (as click-to-box says)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="pixel_size_m"):
            proposal_gsd(image, bad)


def test_rotated_iou_and_nms():
    square = np.array([(0, 0), (10, 0), (10, 10), (0, 10)], float)
    assert rotated_iou(square, square) == pytest.approx(1.0)
    assert rotated_iou(square, square + 20) == 0.0
    turned = np.array([(5, -2), (12, 5), (5, 12), (-2, 5)], float)
    assert 0.5 < rotated_iou(square, turned) < 1
    inner = np.array([(2, 2), (5, 2), (5, 5), (2, 5)], float)
    assert nms_rotated([square, square + 1, inner, square + 50], [0.9, 0.8, 0.5, 0.1]) == [0, 3]


def test_the_default_min_score_is_the_operating_point_of_the_scorers_file(scene, tmp_path):
    image, _ = scene
    shipped = load_model()
    found = propose_aircraft(image, pixel_size_m=0.5)
    assert found and min(p.score for p in found) >= shipped.min_score
    stricter = sorted(p.score for p in found)[len(found) // 2]  # keeps about half
    path = write_model(tmp_path / "strict.json", replace(shipped, min_score=stricter).to_record())
    strict = ProposalScorer.load(path)
    kept = propose_aircraft(image, pixel_size_m=0.5, model=strict)
    assert [p.score for p in kept] == [p.score for p in found if p.score >= stricter]
    assert len(kept) < len(found)


def test_the_scorer_ships_with_its_provenance():
    made = load_model().provenance
    assert made["script"] == "tools/train_aircraft_scorer.py"
    assert "synthetic" in made["data"]["scenes"]
    assert re.match(r"[0-9a-f]{7,40}\b", made["commit"])  # a commit, whichever retrain made it


def test_an_aircraft_cut_by_the_tile_edge_is_proposed_without_a_type(scene):
    image, truth = scene
    whole = propose_aircraft(image, pixel_size_m=0.5)
    assert not any(p.at_edge for p in whole)
    biggest = max(whole, key=lambda p: p.length_m * p.width_m)
    x0, _, x1, _ = biggest.bbox_px
    cut = image[:, :, : int(x1 - 0.1 * (x1 - x0))]  # the tile ends across its wing tip
    found = propose_aircraft(cut, pixel_size_m=0.5)
    at_edge = [p for p in found if p.at_edge]
    assert at_edge, "the cut aircraft is still counted"
    for p in at_edge:
        assert p.types == [] and p.label().startswith("unknown")
        assert p.to_dict()["at_edge"] is True
