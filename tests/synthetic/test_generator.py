"""Tests of the synthetic air-base generator: determinism, windows, truth boxes, misregistration."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest
from imagery_tool_synthetic import (
    Acquisition,
    build_site,
    make_aircraft,
    make_pair,
    make_vehicle,
    pair_truth,
    random_series,
    render,
    tile_truth,
)
from imagery_tool_synthetic.acquisition import ground_to_pixel, sun_position
from imagery_tool_synthetic.aircraft import AIRCRAFT_BUILDERS
from imagery_tool_synthetic.noise import fbm

from imagery_tool.aircraft_catalogue import AIRCRAFT, lookup

WHEN = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)


@pytest.fixture(scope="module")
def site():
    return build_site(seed=3, width=512, height=512)


def test_catalogue_lookup_is_loose_and_has_real_dimensions():
    assert lookup("an124") is AIRCRAFT["An-124"]
    assert lookup(" AN 124 ").span_m == 73.3
    assert lookup("il-76").length_m == 46.6
    assert lookup("Mi-35").name == "Mi-24"
    with pytest.raises(KeyError, match="known types"):
        lookup("unknown fixed-wing")


def test_fbm_is_a_function_of_global_coordinates():
    x, y = np.meshgrid(np.arange(100.0), np.arange(80.0))
    whole = fbm(x, y, scale=20.0, seed=4)
    part = fbm(x[30:50, 10:60], y[30:50, 10:60], scale=20.0, seed=4)
    np.testing.assert_array_equal(whole[30:50, 10:60], part)


def test_same_seed_same_bytes():
    a = make_pair(11, size=256, shift_px=(2.0, -1.0))
    b = make_pair(11, size=256, shift_px=(2.0, -1.0))
    assert a.before.tobytes() == b.before.tobytes()
    assert a.after.tobytes() == b.after.tobytes()
    assert a.truth == b.truth
    c = make_pair(12, size=256, shift_px=(2.0, -1.0))
    assert c.before.tobytes() != a.before.tobytes()


def test_window_equals_region_of_full_render(site):
    acq = Acquisition(when=WHEN, shift_px=(3.5, -2.25), rotation_deg=0.4, haze=0.2, seed=5)
    objs = [make_aircraft("Su-34", id="s", center=(128.0, 128.0), heading_deg=30.0)]
    full = render(site, acq, objects=objs)
    assert full.shape == (3, 512, 512) and full.dtype == np.uint8
    for win in [(0, 0, 512, 512), (300, 17, 150, 400), (505, 505, 7, 7), (100, 200, 412, 1)]:
        c, r, w, h = win
        part = render(site, acq, objects=objs, window=win)
        np.testing.assert_array_equal(part, full[:, r : r + h, c : c + w])


def _object_mask(site, acq, body, **kw):
    with_obj = render(site, acq, objects=[body], shadows=False, **kw).astype(int)
    without = render(site, acq, objects=[], shadows=False, **kw).astype(int)
    return np.abs(with_obj - without).max(axis=0) > 12


def _inside(corners, shape):
    import cv2

    mask = np.zeros(shape, np.uint8)
    pts = np.rint((np.asarray(corners) - 0.5) * 16).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1, cv2.LINE_8, 4)
    return mask.astype(bool)


@pytest.mark.parametrize("typ", ["An-124", "Il-76", "Su-24", "Ka-52", "fuel truck"])
def test_truth_box_covers_object_pixels(site, typ):
    acq = Acquisition(when=WHEN, shift_px=(4.0, -3.0), rotation_deg=0.3, noise_sigma=0.0)
    center = (128.0, 128.0)
    if typ == "fuel truck":
        body = make_vehicle(typ, id="v", center=center, heading_deg=70.0)
    else:
        body = make_aircraft(typ, id="a", center=center, heading_deg=70.0, nose_open=True)
    changed = _object_mask(site, acq, body)
    rec = tile_truth(_one_date(site, acq, body), 0)["objects"][0]
    box = _inside(rec["corners_px"], changed.shape)
    grown = _inside(_grow(rec["corners_px"], 3.0), changed.shape)
    assert changed.sum() > 20
    assert (changed & grown).sum() / changed.sum() > 0.97  # object pixels lie in the box
    # ... and the box is not mostly empty (swept wings and rotor blades fill it sparsely).
    min_fill = {"An-124": 0.2, "Il-76": 0.2, "Su-24": 0.25, "Ka-52": 0.08, "fuel truck": 0.6}
    assert (changed & box).sum() / box.sum() > min_fill[typ]
    assert rec["length_m"] == pytest.approx(body.length_m, abs=1e-3)


def _grow(corners, px):
    c = np.asarray(corners)
    centre = c.mean(axis=0)
    d = c - centre
    return centre + d * (1 + px / np.linalg.norm(d, axis=1, keepdims=True))


def _one_date(site, acq, body):
    from imagery_tool_synthetic import Series

    return Series(site, (acq,), ((body,),))


@pytest.mark.parametrize("typ", [n for n in AIRCRAFT_BUILDERS if AIRCRAFT[n].kind == "fixed-wing"])
@pytest.mark.parametrize("nose_open", [False, True])
def test_fixed_wing_drawn_inside_catalogue_dimensions(typ, nose_open):
    b = make_aircraft(typ, id="x", center=(0.0, 0.0), heading_deg=0.0, nose_open=nose_open)
    t = AIRCRAFT[typ]
    assert (b.length_m, b.width_m) == (t.length_m, t.span_m)
    pts = np.concatenate([p.outline for p in b.parts])
    assert np.abs(pts[:, 0]).max() <= t.length_m / 2 + 1e-6
    assert np.abs(pts[:, 1]).max() <= t.span_m / 2 + 1e-6
    # and it fills its box: nose to tail, wingtip to wingtip
    assert np.ptp(pts[:, 0]) > 0.97 * t.length_m
    assert np.ptp(pts[:, 1]) > 0.99 * t.span_m


def test_misregistration_moves_truth_by_known_shift():
    pair = make_pair(5, size=256, shift_px=(7.0, -4.0))
    before = {o["id"]: o for o in pair.before_truth["objects"]}
    after = {o["id"]: o for o in pair.after_truth["objects"]}
    for oid in pair.truth["stayed"]:
        d = np.subtract(after[oid]["center_px"], before[oid]["center_px"])
        np.testing.assert_allclose(d, (7.0, -4.0), atol=1e-3)
    assert pair.after_truth["misregistration"]["shift_px"] == [7.0, -4.0]


def test_misregistration_shift_appears_in_the_pixels(site):
    body = make_aircraft("Il-76", id="a", center=(128.0, 128.0), heading_deg=10.0)
    acq0 = Acquisition(when=WHEN, noise_sigma=0.0)
    acq1 = dataclasses.replace(acq0, shift_px=(6.0, 3.0))
    m0 = _object_mask(site, acq0, body)
    m1 = _object_mask(site, acq1, body)
    c0 = np.argwhere(m0).mean(axis=0)
    c1 = np.argwhere(m1).mean(axis=0)
    np.testing.assert_allclose(c1 - c0, (3.0, 6.0), atol=0.3)  # (row, col)


def test_rotation_rotates_about_the_scene_centre():
    acq = Acquisition(when=WHEN, rotation_deg=1.0)
    m = ground_to_pixel(acq, gsd_m=0.5, shape=(512, 512))
    np.testing.assert_allclose(m @ [128.0, 128.0, 1.0], (256.0, 256.0))
    with pytest.raises(ValueError, match="rotation"):
        Acquisition(when=WHEN, rotation_deg=1.5)
    with pytest.raises(ValueError, match="shift"):
        Acquisition(when=WHEN, shift_px=(21.0, 0.0))


def test_pair_truth_lists_what_the_series_says():
    s = random_series(8, size=512, n_dates=3, n_aircraft=10, change_fraction=0.5)
    for i in range(2):
        t = pair_truth(s, i, i + 1)
        old = {(b.id, b.center) for b in s.objects[i]}
        new = {(b.id, b.center) for b in s.objects[i + 1]}
        assert {r["id"] for r in t["appeared"]} == {oid for oid, c in new - old}
        assert {r["id"] for r in t["disappeared"]} == {oid for oid, c in old - new}
        assert set(t["stayed"]) == {oid for oid, c in old & new}
        for r in t["appeared"] + t["disappeared"]:
            b = r["bbox_px_before"]
            assert b[0] < b[2] and b[1] < b[3]
    assert any(pair_truth(s, i, i + 1)["appeared"] for i in range(2))


def test_shadows_follow_the_sun(site):
    body = make_aircraft("Il-76", id="a", center=(128.0, 128.0), heading_deg=0.0)
    dark = []
    for az in (120.0, 240.0):
        acq = Acquisition(when=WHEN, sun_azimuth_deg=az, sun_elevation_deg=30.0, noise_sigma=0)
        img = render(site, acq, objects=[body]).astype(int).sum(axis=0)
        ref = render(site, acq, objects=[]).astype(int).sum(axis=0)
        d = np.argwhere(ref - img > 60).mean(axis=0)
        dark.append(d)
    # Sun in the south-east throws shadows north-west (left), south-west throws right.
    assert dark[0][1] < 256 - 5 < 256 + 5 < dark[1][1]


def test_sun_position_is_plausible_for_hmeimim_in_december():
    az, el = sun_position(WHEN, lon=35.949, lat=35.401)
    assert 140 < az < 175 and 25 < el < 35


def test_aircraft_scene_is_reproducible_and_jpeg_changes_pixels_only():
    from imagery_tool_synthetic import aircraft_scene

    image, boxes = aircraft_scene(7, 512)
    again, same = aircraft_scene(7, 512)
    compressed, boxes_jpeg = aircraft_scene(7, 512, jpeg=True)
    assert image.shape == (3, 512, 512) and image.dtype == np.uint8
    assert 1 <= len(boxes) <= 15 and all(b.shape == (4, 2) for b in boxes)  # as many as fit
    assert np.array_equal(image, again)
    assert all(np.array_equal(a, b) for a, b in zip(boxes, same, strict=True))
    assert not np.array_equal(image, compressed)
    assert all(np.array_equal(a, b) for a, b in zip(boxes, boxes_jpeg, strict=True))
