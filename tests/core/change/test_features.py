"""What the region model sees: the unchanged hole inside a candidate's hull, its outline."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from imagery_tool.change.features import (
    FEATURES,
    BoxHypothesis,
    RegionEvidence,
    median,
    percentile,
    region_features,
)


def _evidence(grey_before: np.ndarray, grey_after: np.ndarray, pixels: np.ndarray):
    grads = [
        (cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
        for g in (grey_before, grey_after)
    ]
    ring = cv2.dilate(pixels.view(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & ~pixels
    return RegionEvidence(
        before=np.stack([grey_before] * 3),
        after=np.stack([grey_after] * 3),
        grad_before=grads[0],
        grad_after=grads[1],
        grey_before=grey_before,
        grey_after=grey_after,
        strength=np.where(pixels, 3.0, 0.0).astype(np.float32),
        pixels=pixels,
        body=pixels,
        filled=pixels,
        ring=ring,
        pixel_size_m=0.5,
        rho=0.0,
        balance=0.0,
        contrast=(1.0, 1.0),
        energy=(1.0, 1.0),
    )


def _features(e: RegionEvidence) -> dict[str, float]:
    outline = e.filled.view(np.uint8)
    rect = cv2.minAreaRect(cv2.findNonZero(outline))
    box = BoxHypothesis(outline, rect, 20.0, 10.0, of_body=True)
    return dict(zip(FEATURES, region_features(e, [box])[0], strict=True))


def test_a_swung_shadow_around_a_roof_has_a_persistent_hole():
    ground = np.full((80, 80), 100.0, np.float32)
    before, after = ground.copy(), ground.copy()
    before[30:60, 30:60] = after[30:60, 30:60] = 200.0  # the roof, in both dates
    before[20:30, 30:60] = 45.0  # the shadow falls north ...
    after[30:60, 20:30] = 45.0  # ... then west
    changed = np.zeros((80, 80), bool)
    changed[20:30, 30:60] = changed[30:60, 20:30] = True  # an L around the roof
    f = _features(_evidence(before, after, changed))
    assert f["hole_share"] > 0.3  # the roof fills much of the L's hull
    assert f["hole_rho"] > 0.5  # its edges are there in both dates
    assert f["hole_step"] > 0.5  # and it stands out from the ground in both


def test_a_new_vehicle_has_no_hole():
    before = np.full((80, 80), 100.0, np.float32)
    after = before.copy()
    after[30:50, 35:45] = 40.0
    changed = np.zeros((80, 80), bool)
    changed[30:50, 35:45] = True
    f = _features(_evidence(before, after, changed))
    assert f["hole_share"] == 0.0 and f["hole_rho"] == 0.0 and f["hole_step"] == 0.0


def test_median_is_numpys_for_odd_and_even_counts_along_any_axis():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 17, 50):
        values = (rng.random((3, n)) * 255).astype(np.float32)
        for got, expected in (
            (median(values[0]), np.median(values[0])),
            (median(values, axis=1), np.median(values, axis=1)),
            (median(values.T, axis=0), np.median(values.T, axis=0)),
        ):
            np.testing.assert_array_equal(got, expected)
            assert np.asarray(got).dtype == np.float32
    assert median(np.array([4.0, 1.0, 3.0, 2.0], np.float32)) == 2.5


def test_percentile_is_numpys():
    rng = np.random.default_rng(4)
    for n in (1, 2, 3, 10, 11, 101, 1000):
        values = (rng.random(n) * 30).astype(np.float32)
        for q in (0, 10, 25, 50, 75, 90, 100):
            got, expected = percentile(values, q), np.percentile(values, q)
            assert got == expected and np.asarray(got).dtype == expected.dtype, (n, q)


def test_the_structure_test_on_candidate_boxes_equals_it_on_the_whole_block():
    from imagery_tool.change.measure import _candidate_ncc, _local_ncc

    rng = np.random.default_rng(5)
    # smoothed greys of two dates: texture, a brightened copy and a few changed patches
    before = cv2.GaussianBlur((rng.random((300, 420)) * 200 + 20).astype(np.float32), (7, 7), 1)
    after = before * np.float32(1.3) + np.float32(5)
    after[40:70, 60:100] = 30.0
    after[200:230, 300:410] = rng.random((30, 110)).astype(np.float32) * 255
    candidate = rng.random(before.shape) < 0.002  # scattered specks, as noise gives
    candidate[40:70, 60:100] = candidate[200:230, 300:410] = True
    candidate[0, :] = candidate[:, -1] = True  # on the block's edges too
    everywhere = np.flatnonzero(candidate)
    whole = _local_ncc(before, after, everywhere, eps=4.0)  # over the whole block
    at, ncc, scale = _candidate_ncc(before, after, candidate, eps=4.0)
    assert set(at.tolist()) == set(everywhere.tolist())
    where = np.searchsorted(everywhere, at)
    np.testing.assert_array_equal(ncc, whole[0][where])  # bit for bit
    np.testing.assert_array_equal(scale, whole[1][where])


def test_a_new_building_brings_its_outline_a_field_changes_inside_kept_boundaries():
    rng = np.random.default_rng(3)
    ground = (100 + 5 * rng.standard_normal((80, 80))).astype(np.float32)
    # a roof on bare ground: its edge is in AFTER only
    after = ground.copy()
    after[25:55, 20:60] = 190.0
    roof = np.zeros((80, 80), bool)
    roof[25:55, 20:60] = True
    assert _features(_evidence(ground, after, roof))["outline_novelty"] > 0.8
    # a field inside a track that both dates show turns brown: the same boundary twice
    before = ground.copy()
    before[20:60, 15:65] = 60.0
    before[25:55, 20:60] = 150.0  # the field, bounded by the darker track
    turned = before.copy()
    turned[25:55, 20:60] = 110.0  # another colour, the same boundary
    field = roof
    assert _features(_evidence(before, turned, field))["outline_novelty"] < 0.35


def test_pair_dissimilarity_is_the_log_of_the_pairs_spread():
    e = _evidence(*(np.full((40, 40), 100.0, np.float32),) * 2, np.eye(40, dtype=bool))
    f = _features(dataclasses.replace(e, dissimilarity=0.2))
    assert f["pair_dissimilarity"] == pytest.approx(np.log(0.2))
