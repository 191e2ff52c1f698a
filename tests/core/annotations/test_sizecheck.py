"""Aircraft size check with known answers: true-size boxes fit, a 25 m "An-124" does not."""

from __future__ import annotations

import pytest

from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.sizecheck import box_size_m, check_size, check_sizes
from imagery_tool.georef import GeoRef

GSD = 0.5


def box_m(length_m, span_m, angle=30.0, label="unknown fixed-wing", margin=1.05):
    px = margin / GSD
    return BoxAnnotation.from_center(500, 500, length_m * px, span_m * px, angle, label=label)


def test_box_size_in_metres_uses_each_axis_gsd():
    box = BoxAnnotation.from_xyxy(0, 0, 10, 40, label="x")  # head = top edge: length is 40 px
    assert box_size_m(box, 0.5) == (20.0, 5.0)
    assert box_size_m(box, (0.5, 0.25)) == (10.0, 5.0)


def test_box_size_from_georef(georef):
    box = BoxAnnotation.from_center(200, 200, 138.2, 146.6, 30, label="An-124")
    length, width = box_size_m(box, georef)
    assert (length, width) == pytest.approx((69.1, 73.3))


@pytest.mark.parametrize(
    ("name", "length", "span"),
    [("An-124", 69.1, 73.3), ("Il-76", 46.6, 50.5), ("Su-25", 15.5, 14.4), ("Tu-154", 48.0, 37.6)],
)
def test_true_size_oriented_box_ranks_its_type_first(name, length, span):
    report = check_size(box_m(length, span, label=name), gsd=GSD)
    assert report.candidates[0].name == name
    assert report.label_fits is True and report.warning is None


def test_25_m_an124_warns_and_suggests_fighter_sized_types():
    box = BoxAnnotation.from_center(500, 500, 50, 48, 30, label="An-124")  # 25 m x 24 m
    report = check_size(box, gsd=GSD)
    assert report.length_m == pytest.approx(25) and report.width_m == pytest.approx(24)
    assert report.label_fits is False
    assert "cannot fit" in report.warning and "An-124" in report.warning
    assert "69.1 m long" in report.warning
    assert all(c.name != "An-124" for c in report.candidates)


def test_axis_aligned_box_around_a_rotated_aircraft_still_fits():
    # An An-124 at 45 degrees inside an axis-aligned box: its cross-shaped footprint spans
    # max(L, S) * cos(45) ~ 51.8 m both ways.
    side = 73.3 * 0.7071 * 1.05 / GSD
    box = BoxAnnotation.from_xyxy(0, 0, side, side, label="An-124")
    assert box.is_axis_aligned
    report = check_size(box, gsd=GSD)
    assert report.label_fits is True


def test_helicopter_box_without_visible_rotor_fits():
    box = BoxAnnotation.from_center(0, 0, 18.5 * 2, 6 * 2, 80, label="Mi-8")
    assert check_size(box, gsd=GSD).label_fits is True


def test_unknown_class_ranks_all_types_and_reports_no_label_fit():
    report = check_size(box_m(69.1, 73.3, label="B-52"), gsd=GSD)
    assert report.label_fits is None and report.candidates[0].name == "An-124"


def test_vehicle_labels_rank_vehicles():
    box = BoxAnnotation.from_center(0, 0, 10.5 / GSD, 2.6 / GSD, 0, label="fuel truck")
    report = check_size(box, gsd=GSD)
    assert report.label_fits is True and report.candidates[0].name == "fuel truck"


def test_check_sizes_skips_tiles_without_gsd():
    boxes = [box_m(23.3, 14.7).replace(tile="a.tif"), box_m(23.3, 14.7).replace(tile="b.tif")]
    reports, skipped = check_sizes(boxes, gsd={"a.tif": GSD, "b.tif": GeoRef(10, 10)})
    assert len(reports) == 1 and len(skipped) == 1 and "b.tif" in skipped[0]
    assert reports[0].to_dict()["candidates"][0]["name"] == "Su-34"
