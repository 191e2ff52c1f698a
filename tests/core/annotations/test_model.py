"""BoxAnnotation geometry with known answers: corners, heading, sizes, lon/lat."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagery_tool.annotations.model import BoxAnnotation, utc_now
from imagery_tool.errors import NotGeoreferencedError
from imagery_tool.georef import GeoRef


def test_from_center_heading_north_gives_top_edge_as_head():
    box = BoxAnnotation.from_center(100, 50, 40, 20, 0, label="Su-24")
    # head edge first (top), clockwise on screen: TL, TR, BR, BL
    assert box.corners == ((90.0, 30.0), (110.0, 30.0), (110.0, 70.0), (90.0, 70.0))
    assert box.angle_deg == 0.0
    assert (box.length_px, box.width_px) == (40.0, 20.0)
    assert box.is_axis_aligned
    assert box.center == (100.0, 50.0)


def test_from_center_heading_east():
    box = BoxAnnotation.from_center(100, 50, 40, 20, 90, label="Su-24")
    assert box.corners[0] == (120.0, 40.0)  # front-left is north of the nose when facing east
    assert box.corners[1] == (120.0, 60.0)
    assert box.angle_deg == 90.0
    assert box.bounds == (80.0, 40.0, 120.0, 60.0)


def test_rotated_box_known_corners():
    box = BoxAnnotation.from_center(0, 0, 2, 2, 45, label="An-124")
    r = math.sqrt(2)
    np.testing.assert_allclose(box.xy, [[0, -r], [r, 0], [0, r], [-r, 0]], atol=1e-9)
    assert not box.is_axis_aligned
    assert box.angle_deg == pytest.approx(45)
    assert box.area_px == pytest.approx(4)


@given(
    angle=st.floats(0, 359.999),
    length=st.floats(1, 500),
    width=st.floats(1, 500),
    cx=st.floats(-1e4, 1e4),
    cy=st.floats(-1e4, 1e4),
)
def test_from_center_round_trips_heading_and_size(angle, length, width, cx, cy):
    box = BoxAnnotation.from_center(cx, cy, length, width, angle, label="x")
    d = (box.angle_deg - angle + 180) % 360 - 180
    assert abs(d) < 1e-5
    assert box.length_px == pytest.approx(length, abs=1e-6)
    assert box.width_px == pytest.approx(width, abs=1e-6)
    assert box.center == pytest.approx((cx, cy), abs=1e-6)


def test_counter_clockwise_corners_are_reordered_keeping_the_head_edge():
    cw = BoxAnnotation.from_center(100, 100, 40, 20, 30, label="x")
    xy = cw.xy
    ccw = BoxAnnotation(xy[[1, 0, 3, 2]], "x")  # same head edge, traversed the other way
    np.testing.assert_allclose(ccw.xy, xy)
    assert ccw.angle_deg == pytest.approx(30)


def test_from_xyxy_is_axis_aligned_with_top_as_head():
    box = BoxAnnotation.from_xyxy(10, 20, 50, 30, label="tug")
    assert box.corners == ((10.0, 20.0), (50.0, 20.0), (50.0, 30.0), (10.0, 30.0))
    assert box.is_axis_aligned and box.angle_deg == 0.0
    assert box.outside(25, 60) is True and box.outside(30, 50) is False


@pytest.mark.parametrize(
    ("corners", "fields", "match"),
    [
        ([[0, 0], [1, 0], [1, 1]], {}, "4 corners"),
        ([[0, 0], [1, 0], [2, 0], [3, 0]], {}, "no area"),
        ([[0, 0], [1, 0], [1, np.nan], [0, 1]], {}, "finite"),
        ([[0, 0], [1, 0], [1, 1], [0, 1]], {"review": "maybe"}, "review"),
        ([[0, 0], [1, 0], [1, 1], [0, 1]], {"source": "guess"}, "source"),
        ([[0, 0], [1, 0], [1, 1], [0, 1]], {"score": 1.5}, "score"),
    ],
)
def test_invalid_boxes_are_refused(corners, fields, match):
    with pytest.raises(ValueError, match=match):
        BoxAnnotation(corners, "x", **fields)


def test_empty_label_refused():
    with pytest.raises(ValueError, match="label"):
        BoxAnnotation.from_xyxy(0, 0, 1, 1, label=" ")


def test_to_dict_from_dict_round_trip_and_ids():
    box = BoxAnnotation.from_center(
        5,
        5,
        4,
        2,
        10,
        label="An-124",
        attributes={"nose_open": True},
        score=0.5,
        source="detected",
    )
    again = BoxAnnotation.from_dict(box.to_dict())
    assert again == box and again.same_as(box)
    assert len(box.id) == 36 and box.id != BoxAnnotation.from_xyxy(0, 0, 1, 1, label="x").id
    assert box.created.endswith("Z") and box.modified == box.created


def test_replace_sets_modified_and_review():
    box = BoxAnnotation.from_xyxy(0, 0, 2, 2, label="x", created="2020-01-01T00:00:00.000Z")
    reviewed = box.reviewed("accepted", reviewer="bob", note="ok")
    assert (reviewed.review, reviewed.reviewer, reviewed.review_note) == ("accepted", "bob", "ok")
    assert reviewed.modified > box.modified and reviewed.created == box.created
    assert utc_now() >= reviewed.modified


def test_lonlat_matches_the_georeference(georef):
    box = BoxAnnotation.from_xyxy(0, 0, 400, 400, label="x")
    ll = box.lonlat(georef)
    lon, lat = georef.pixel_to_lonlat(0, 0)
    assert ll[0] == pytest.approx([lon, lat])
    # the tile is centred near 35.401 N 35.949 E
    assert ll.mean(axis=0) == pytest.approx([35.949, 35.401], abs=1e-4)


def test_lonlat_without_crs_raises():
    with pytest.raises(NotGeoreferencedError):
        BoxAnnotation.from_xyxy(0, 0, 1, 1, label="x").lonlat(GeoRef(10, 10))
