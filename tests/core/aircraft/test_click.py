"""Click-to-box on drawn aircraft of known heading, length and span, and on the sample tiles."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from imagery_tool.aircraft.body import fit_body
from imagery_tool.aircraft.click import NothingAircraftLike, box_at, box_in_image
from imagery_tool.errors import ImageryToolError

SAMPLES = Path(__file__).resolve().parents[3] / "sample_tiles"


def _iou(a, b) -> float:
    a32, b32 = np.asarray(a, np.float32), np.asarray(b, np.float32)
    inter, _ = cv2.intersectConvexConvex(a32, b32)
    return inter / (abs(cv2.contourArea(a32)) + abs(cv2.contourArea(b32)) - inter)


def _axis_err(h1: float, h2: float) -> float:
    d = abs((h1 - h2) % 180)
    return min(d, 180 - d)


def _planform(length: float, span: float) -> list[np.ndarray]:
    """Fuselage, swept wings and tailplane in body metres (x forward, y right)."""
    L, S = length / 2, span / 2
    w = length * 0.06
    fus = np.array([[L, 0], [L - 2 * w, w], [-L + w, w * 0.6], [-L, 0], [-L + w, -w * 0.6],
                    [L - 2 * w, -w]])  # fmt: skip
    wing = np.array([[0.25 * L, w], [-0.25 * L, S], [-0.4 * L, S], [-0.15 * L, w]])
    tail = np.array([[-0.7 * L, w * 0.6], [-0.92 * L, S * 0.35], [-L, S * 0.35],
                     [-0.9 * L, w * 0.6]])  # fmt: skip
    mirror = [p * [1, -1] for p in (wing, tail)]
    return [fus, wing, tail, *mirror]


def _scene(heading, length, span, *, gsd=0.5, size=320, body=200, ground=140, seed=0):
    """A noisy apron with one aircraft and its shadow; returns the image and the true corners."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), ground, np.float32)
    img += cv2.GaussianBlur(rng.normal(0, 6, (size, size)).astype(np.float32), (0, 0), 3)[..., None]
    t = math.radians(heading)
    f = np.array([math.sin(t), -math.cos(t)])
    r = np.array([math.cos(t), math.sin(t)])
    c = np.array([size / 2, size / 2])

    def to_px(p, shift=(0.0, 0.0)):
        return np.int32(np.round((c + (p[:, :1] * f + p[:, 1:] * r) / gsd + shift) * 8))

    for p in _planform(length, span):  # shadow first, offset down-right
        cv2.fillPoly(img, [to_px(p, (6, 5))], (ground * 0.4,) * 3, cv2.LINE_AA, shift=3)
    for p in _planform(length, span):
        cv2.fillPoly(img, [to_px(p)], (body, body, body * 1.02), cv2.LINE_AA, shift=3)
    img += rng.normal(0, 2, img.shape)
    L, S = length / gsd / 2, span / gsd / 2
    corners = np.stack([c + f * L - r * S, c + f * L + r * S, c - f * L + r * S, c - f * L - r * S])
    return np.clip(img, 0, 255).astype(np.uint8), corners


@pytest.mark.parametrize(
    ("heading", "length", "span", "body"),
    [(30.0, 40.0, 36.0, 210), (115.0, 25.0, 20.0, 210), (300.0, 60.0, 64.0, 90)],
)
def test_fit_body_recovers_box_and_axis(heading, length, span, body):
    img, truth = _scene(heading, length, span, body=body)
    fit = fit_body(img, (163.0, 157.0), gsd_m=0.5)
    assert fit is not None
    assert _iou(fit.corners_px, truth) >= 0.7
    assert _axis_err(fit.heading_deg, heading) <= 5.0
    if fit.nose_known:  # the nose, when told, is the right end
        assert abs((fit.heading_deg - heading + 180) % 360 - 180) < 90


def test_box_in_image_measures_metres_and_ranks_types():
    img, _ = _scene(80.0, 69.1, 73.3, gsd=0.5, size=400)
    box = box_in_image(img, (200.0, 200.0), pixel_size_m=0.5)
    assert box.length_m == pytest.approx(69.1, rel=0.12)
    assert box.width_m == pytest.approx(73.3, rel=0.12)
    assert "An-124" in [t.name for t in box.types[:3]]
    ann = box.to_annotation("x.tif")
    assert ann.source == "assisted" and ann.tile == "x.tif" and 0 <= ann.score <= 1


def test_empty_apron_is_nothing_aircraft_like():
    rng = np.random.default_rng(3)
    img = (140 + rng.normal(0, 3, (300, 300, 3))).astype(np.uint8)
    with pytest.raises(NothingAircraftLike, match="nothing aircraft-like") as exc:
        box_in_image(img, (150.0, 150.0), pixel_size_m=0.5)
    assert isinstance(exc.value, ImageryToolError)


def test_click_outside_image_is_refused():
    img = np.zeros((50, 50, 3), np.uint8)
    with pytest.raises(NothingAircraftLike, match="outside"):
        box_in_image(img, (80.0, 10.0), pixel_size_m=0.5)


def test_an_aircraft_cut_by_the_image_edge_is_not_measured():
    img, _ = _scene(80.0, 69.1, 73.3, gsd=0.5, size=400)
    whole = box_in_image(img, (200.0, 200.0), pixel_size_m=0.5)
    cut = img[:, : int(whole.corners_px[:, 0].max()) - 40]  # the right wing tip is off
    with pytest.raises(NothingAircraftLike, match="runs off the edge of the image"):
        box_in_image(cut, (200.0, 200.0), pixel_size_m=0.5)


@pytest.mark.parametrize("bad", [0.0, -0.5, float("nan"), float("inf")])
def test_a_pixel_size_that_is_no_size_is_refused(bad):
    img, _ = _scene(80.0, 69.1, 73.3, gsd=0.5, size=400)
    with pytest.raises(ValueError, match="pixel_size_m"):
        box_in_image(img, (200.0, 200.0), pixel_size_m=bad)


@pytest.mark.parametrize("which", [0, 1])
def test_sample_an124_one_click(which):
    import json

    tile = SAMPLES / "hmeimim_2024-12-13.tif"
    truth = json.loads((SAMPLES / "truth" / "hmeimim_2024-12-13.json").read_text())
    an124 = [o for o in truth["objects"] if o["class"] == "An-124"][which]
    box = box_at(tile, an124["center_px"], class_name="An-124")
    assert box.label == "An-124"
    assert not box.assumed_pixel_size
    assert _iou(box.corners_px, an124["corners_px"]) >= 0.5
    assert _axis_err(box.heading_deg, an124["heading_deg"]) <= 8


def test_box_at_lonlat_point_matches_pixel_point():
    import json

    tile = SAMPLES / "hmeimim_2024-12-13.tif"
    truth = json.loads((SAMPLES / "truth" / "hmeimim_2024-12-13.json").read_text())
    an124 = [o for o in truth["objects"] if o["class"] == "An-124"][1]
    from imagery_tool.tile import open_tile

    opened = open_tile(tile)
    lonlat = opened.georef.pixel_to_lonlat(*an124["center_px"])
    a = box_at(opened, an124["center_px"])
    b = box_at(opened, (float(lonlat[0]), float(lonlat[1])), crs_point=True)
    assert np.allclose(a.corners_px, b.corners_px, atol=1.0)


def test_tile_without_gsd_states_the_assumed_pixel_size(tmp_path):
    from tests.conftest import write_raster

    img, truth = _scene(30.0, 40.0, 36.0, gsd=0.5)
    path = write_raster(tmp_path / "plain.tif", np.moveaxis(img, -1, 0), photometric="RGB")
    assumed = box_at(path, (163.0, 157.0))
    assert assumed.assumed_pixel_size and assumed.pixel_size_m == 0.5
    given = box_at(path, (163.0, 157.0), pixel_size_m=0.25)
    assert not given.assumed_pixel_size
    assert given.length_m == pytest.approx(assumed.length_m / 2, rel=0.2)
    assert _iou(assumed.corners_px, truth) >= 0.7
