"""The shipped Hmeimim pair: the two An-124s of 2024-12-13 are reported where they stand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagery_tool.change import detect_changes

SAMPLES = Path(__file__).resolve().parents[3] / "sample_tiles"
PAIR = SAMPLES / "truth" / "pairs" / "hmeimim_2024-12-06_2024-12-13.json"

pytestmark = pytest.mark.skipif(not PAIR.exists(), reason="sample tiles not built")


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.slow
def test_two_an124_appear_and_stayed_aircraft_raise_nothing(box_iou):
    truth = json.loads(PAIR.read_text())
    before_truth = json.loads((SAMPLES / "truth" / "hmeimim_2024-12-06.json").read_text())
    result = detect_changes(SAMPLES / "hmeimim_2024-12-06.tif", SAMPLES / "hmeimim_2024-12-13.tif")
    an124 = [o["bbox_px_before"] for o in truth["appeared"] if o["class"] == "An-124"]
    assert len(an124) == 2
    for box in an124:
        hits = [r for r in result.regions if box_iou(r.bbox_px, box) >= 0.5]
        assert len(hits) == 1 and hits[0].change == "appeared"
    stayed = [
        o["bbox_px"]
        for o in before_truth["objects"]
        if o["id"] in truth["stayed"] and o["kind"] == "aircraft"
    ]
    assert len(stayed) > 5
    for region in result.regions:
        assert not any(_overlap(region.bbox_px, box) for box in stayed), region
