"""Radiometric normalisation: the local haze fields applied to blocks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imagery_tool.radiometry import Radiometry


def _bilinear(field: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact bilinear interpolation at array indexes (x, y), edges replicated."""
    h, w = field.shape
    x = np.clip(x, 0, w - 1)
    y = np.clip(y, 0, h - 1)
    j = np.minimum(np.floor(x).astype(int), w - 2)
    i = np.minimum(np.floor(y).astype(int), h - 2)
    a, b = y - i, x - j
    f = field.astype(np.float64)
    top = (1 - b) * f[i, j] + b * f[i, j + 1]
    bottom = (1 - b) * f[i + 1, j] + b * f[i + 1, j + 1]
    return (1 - a) * top + a * bottom


def _smooth_field(rng, mean: float, spread: float) -> np.ndarray:
    """A (1, 30, 30) field as smooth as `fit_radiometry` makes them (blur of 4 cells)."""
    noise = cv2.GaussianBlur(rng.standard_normal((30, 30)).astype(np.float32), (0, 0), 4.0)
    return (mean + spread * noise / noise.std())[None]


@pytest.mark.parametrize("origin", [(0, 0), (37, 501), (1013, 7)])
def test_haze_fields_match_an_exact_bilinear_field(origin):
    rng = np.random.default_rng(3)
    gain = _smooth_field(rng, 1.0, 0.05)
    offset = _smooth_field(rng, 0.0, 10.0)
    knots = np.array([[0.0, 255.0]], np.float32)  # identity tone curve
    step = 37.9  # BEFORE pixels per field cell, as fitted on a 1024 px reduced level
    radiometry = Radiometry(knots, knots, gain, offset, (0.0, 0.0), (step, step))
    after = rng.integers(0, 256, (1, 300, 411), dtype=np.uint8)
    col, row = origin
    out = radiometry.apply(after, col_off=col, row_off=row)
    # field cell k's centre is at BEFORE pixel (k + 0.5) * step; block pixel centres at +0.5
    ys, xs = np.mgrid[0:300, 0:411]
    fx = (col + xs + 0.5) / step - 0.5
    fy = (row + ys + 0.5) / step - 0.5
    exact = after[0] * _bilinear(gain[0], fx, fy) + _bilinear(offset[0], fx, fy)
    exact = np.maximum(exact, 0.0)  # light is never negative (8-bit AFTER: clipped at 0)
    assert out.dtype == np.float32
    assert np.abs(out[0] - exact).max() < 0.06  # grey levels (0.03 to 0.05 measured)


def test_identity_changes_nothing():
    after = np.random.default_rng(0).integers(0, 256, (3, 40, 50), dtype=np.uint8)
    out = Radiometry.identity(3).apply(after, col_off=100, row_off=7)
    np.testing.assert_array_equal(out, after.astype(np.float32))


def test_shadows_keep_their_depth_and_tint_when_the_sun_moved():
    from imagery_tool.radiometry import fit_radiometry

    rng = np.random.default_rng(5)
    ground = np.array([120.0, 130.0, 95.0])[:, None, None] * (
        1 + 0.08 * rng.standard_normal((1, 400, 400))
    )
    tint = np.array([0.40, 0.43, 0.50])[:, None, None]  # lit by the blue sky only
    before, after = ground.copy(), 0.8 * ground  # AFTER: another gain
    before[:, 100:102, 100:120] *= tint  # a short shadow: 0.03 % of the pixels
    after[:, 100:130, 100:120] *= tint  # a long one (lower sun): 0.4 %
    before, after = (np.clip(x, 0, 255).astype(np.uint8) for x in (before, after))
    valid = np.ones((400, 400), bool)
    radiometry = fit_radiometry(before, after, valid, origin=(0, 0), step=(1, 1), local=False)
    out = radiometry.apply(after)
    shadow = out[:, 110:130, 100:120].mean(axis=(1, 2))
    lit = out[:, 200:300, 200:300].mean(axis=(1, 2))
    # the shadow is as deep and as blue after normalisation as in the light it fell in
    np.testing.assert_allclose(shadow / lit, tint[:, 0, 0], atol=0.03)


def _texture(rng, shape, scale=3.0):
    """A grey texture with structure at a few pixels (ground, crops, roofs' edges)."""
    noise = rng.standard_normal(shape).astype(np.float32)
    if noise.ndim == 2:
        return cv2.GaussianBlur(noise, (0, 0), scale)
    return np.stack([cv2.GaussianBlur(band, (0, 0), scale) for band in noise])


def test_invariant_pixels_are_those_whose_structure_both_dates_share():
    from imagery_tool.radiometry import invariant_pixels

    rng = np.random.default_rng(11)
    t = _texture(rng, (200, 200))
    before = 100 + 40 * t / t.std()
    after = 0.7 * before + 30  # another gain and offset: the same structure
    other = _texture(rng, (200, 100))
    after[:, 100:] = 120 + 40 * other / other.std()  # the right half replaced
    valid = np.ones((200, 200), bool)
    inv = invariant_pixels(before[None], after[None], valid)
    assert inv[:, 10:90].mean() > 0.95
    assert inv[:, 110:190].mean() < 0.05


def test_a_large_change_does_not_pull_the_normalisation():
    """Gain and offset come from the unchanged half, not from a new roof over the other."""
    from imagery_tool.radiometry import fit_radiometry

    rng = np.random.default_rng(12)
    t = _texture(rng, (3, 300, 300))
    before = np.clip(90 + 35 * t / t.std(), 0, 255).astype(np.uint8)
    after = np.clip(1.25 * before.astype(np.float32) - 20, 0, 255)
    after[:, :, 150:] = 230  # half the scene under a new bright roof
    after = after.astype(np.uint8)
    valid = np.ones((300, 300), bool)
    radiometry = fit_radiometry(before, after, valid, origin=(0, 0), step=(1, 1), local=False)
    out = radiometry.apply(after)
    # the unchanged half comes back to BEFORE, the roof stays far brighter than the ground
    assert np.abs(out[:, 20:280, 10:140] - before[:, 20:280, 10:140]).mean() < 2.0
    assert out[:, :, 160:].mean() > before.mean() + 60


def test_too_few_invariant_pixels_leave_the_pair_as_it_is():
    from imagery_tool.radiometry import fit_radiometry

    rng = np.random.default_rng(13)  # two unrelated scenes: no structure in common
    before = np.clip(100 + 30 * _texture(rng, (3, 120, 120), 0.7), 0, 255).astype(np.uint8)
    after = np.clip(100 + 30 * _texture(rng, (3, 120, 120), 0.7), 0, 255).astype(np.uint8)
    valid = np.ones((120, 120), bool)
    radiometry = fit_radiometry(before, after, valid, origin=(0, 0), step=(1, 1))
    np.testing.assert_array_equal(radiometry.apply(after), after.astype(np.float32))
