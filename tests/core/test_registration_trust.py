"""The trust gate of co-registration: known shifts are applied, weak or ambiguous ones refused."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from affine import Affine
from imagery_tool_synthetic import make_pair

from imagery_tool.registration import Registration, coregister
from imagery_tool.registration.trust import Evidence, corner_gap, judge
from tests.conftest import UTM36N, write_raster

ORIGIN = (700000.0, 3900000.0)


def _write(path, image: np.ndarray, *, origin=ORIGIN):
    """Write a (H, W) float or (B, H, W) uint8 image as a 0.5 m GeoTIFF in UTM 36N."""
    pixels = image if image.ndim == 3 else np.repeat(image[None], 3, axis=0)
    pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    transform = Affine(0.5, 0, origin[0], 0, -0.5, origin[1])
    return write_raster(path, pixels, transform=transform, crs=UTM36N)


def _texture(seed: int, side: int) -> np.ndarray:
    """Ground-like texture: smooth noise at three scales plus sharp rectangles (float32)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((side, side), np.float32)
    for cell, amp in ((40, 60), (10, 30), (3, 15)):
        small = rng.random((side // cell + 2, side // cell + 2)).astype(np.float32)
        img += amp * cv2.resize(small, (side, side), interpolation=cv2.INTER_CUBIC)
    for _ in range(side * side // 300):
        x, y = rng.integers(0, side, 2)
        w, h = rng.integers(2, 22, 2)
        cv2.rectangle(
            img, (int(x), int(y)), (int(x + w), int(y + h)), float(rng.uniform(30, 210)), -1
        )
    return img


def _shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``image`` whose content at ``(x, y)`` appears at ``(x + dx, y + dy)``."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, m, image.shape[::-1], borderMode=cv2.BORDER_REFLECT)


def _noisy(image: np.ndarray, seed: int, sigma: float = 2.0) -> np.ndarray:
    return image + np.random.default_rng(seed).normal(0, sigma, image.shape).astype(np.float32)


def _truth(size: int, dx: float, dy: float, rot_deg: float) -> np.ndarray:
    """BEFORE -> AFTER mapping of `make_pair` (rotation about the centre, then the shift)."""
    t = math.radians(rot_deg)
    r = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    m = np.eye(3)
    m[:2, :2] = r
    m[:2, 2] = np.array([size / 2, size / 2]) - r @ [size / 2, size / 2] + (dx, dy)
    return m


def test_known_shift_is_applied_and_recovered(tmp_path):
    pair = make_pair(11, size=512, shift_px=(6.5, -4.25), rotation_deg=0.3)
    reg = coregister(
        _write(tmp_path / "b.tif", pair.before), _write(tmp_path / "a.tif", pair.after)
    )
    assert reg.status == "applied" and reg.applied
    assert reg.reason is None and reg.measured_matrix is None
    assert 0.5 <= reg.confidence <= 1.0
    assert corner_gap(reg.matrix3, _truth(512, 6.5, -4.25, 0.3), reg.overlap) < 0.15
    record = reg.to_dict()
    assert (record["status"], record["reason"], record["confidence"]) == (
        "applied",
        None,
        reg.confidence,
    )


def test_unrelated_images_fall_back_with_the_refused_estimate(tmp_path):
    b = _write(tmp_path / "b.tif", _noisy(_texture(1, 512), 1))
    a = _write(tmp_path / "a.tif", _noisy(_texture(2, 512), 2))
    reg = coregister(b, a)
    assert reg.status == "fallback" and not reg.applied
    assert reg.matrix == Registration().matrix and reg.model == "none"
    assert reg.reason.startswith("content estimate refused (")
    assert f"{reg.windows_used} of {reg.windows_measured} windows agree on dx" in reg.reason
    assert reg.measured_matrix is not None and reg.confidence < 0.5
    assert reg.to_dict()["measured_matrix"] == [round(v, 9) for v in reg.measured_matrix]


def test_only_a_corner_agreeing_on_a_large_shift_falls_back(tmp_path):
    # AFTER shows other ground everywhere but in its top-left corner (a fifth of the scene),
    # which holds BEFORE's corner moved by (+15, -9): the windows there agree on that shift
    # closely, the others on nothing; the typical false estimate
    before = _texture(3, 512)
    after = _texture(4, 512)
    after[:230, :230] = _shifted(before, 15, -9)[:230, :230]
    reg = coregister(
        _write(tmp_path / "b.tif", _noisy(before, 5)), _write(tmp_path / "a.tif", _noisy(after, 6))
    )
    assert reg.status == "fallback"
    assert reg.dx == 0.0 and reg.dy == 0.0
    dx, dy = reg.measured_shift
    assert abs(dx - 15) < 0.5 and abs(dy + 9) < 0.5
    assert reg.windows_used >= 8  # enough windows agree, but as a minority in one corner
    assert "they cover too little of the overlap" in reg.reason
    assert f"({reg.windows_used} of {reg.windows_measured} windows agree on dx +15.0" in reg.reason


def test_two_motions_over_halves_of_the_scene_fall_back(tmp_path):
    # roofs that lean another way than the ground, or a structure that moved: half the scene
    # says (+6, 0), the other half (-5, +4); neither is a clear majority
    before = _texture(7, 512)
    after = _shifted(before, 6, 0)
    after[:, 256:] = _shifted(before, -5, 4)[:, 256:]
    reg = coregister(
        _write(tmp_path / "b.tif", _noisy(before, 8)), _write(tmp_path / "a.tif", _noisy(after, 9))
    )
    assert reg.status == "fallback"
    dx, dy = reg.measured_shift
    assert min(math.hypot(dx - 6, dy), math.hypot(dx + 5, dy - 4)) < 1.5  # it saw one of them
    assert "under 60% of the windows measured for a shift over 1 px" in reg.reason


def test_small_pre_aligned_pairs_never_apply_more_than_a_pixel(tmp_path):
    cases = [make_pair(seed, size=256).before for seed in (21, 22)]
    cases += [_texture(seed, 256) for seed in (23, 24)]
    for k, image in enumerate(cases):
        before = image.astype(np.float32)
        after = before.copy()
        after[..., 40:120, 60:200] = 200.0  # a new building over a third of the scene
        reg = coregister(
            _write(tmp_path / f"b{k}.tif", _noisy(before, k)),
            _write(tmp_path / f"a{k}.tif", _noisy(after, 10 + k)),
        )
        if reg.applied:
            assert corner_gap(reg.matrix3, np.eye(3), reg.overlap) <= 1.0, reg


def test_georeference_only_is_not_measured(tmp_path):
    image = _texture(5, 256)
    reg = coregister(
        _write(tmp_path / "b.tif", image), _write(tmp_path / "a.tif", image), measure=False
    )
    assert reg.status == "not_measured" and reg.confidence is None
    assert reg.matrix == Registration().matrix and reg.windows_measured == 0
    assert "not measured" in reg.reason
    assert reg.to_dict()["status"] == "not_measured"


def test_overlap_too_small_to_measure_falls_back(tmp_path):
    image = _texture(6, 256)
    b = _write(tmp_path / "b.tif", image)
    # AFTER overlaps BEFORE by 60 x 60 px (30 m) in BEFORE's bottom-right corner
    a = _write(tmp_path / "a.tif", image, origin=(ORIGIN[0] + 98, ORIGIN[1] - 98))
    reg = coregister(b, a)
    assert reg.overlap == (196, 196, 60, 60)
    assert reg.status == "fallback" and reg.matrix == Registration().matrix
    assert "too small for a measuring window" in reg.reason


def test_featureless_overlap_falls_back_naming_the_file(tmp_path):
    b = _write(tmp_path / "b.tif", _texture(8, 256))
    # AFTER covers BEFORE's right half with a flat field (calm water, a fresh tarmac) and has
    # ground of its own further east
    after = _texture(9, 256)
    after[:, :128] = 90.0
    a = _write(tmp_path / "flat.tif", after, origin=(ORIGIN[0] + 64, ORIGIN[1]))
    reg = coregister(b, a)
    assert reg.overlap == (128, 0, 128, 256)
    assert reg.status == "fallback" and reg.matrix == Registration().matrix
    assert reg.reason.startswith("flat.tif is featureless over the overlap (constant [90.0")


def _evidence(agree: int, scatter: int, *, shift=(0.0, 0.0), seed=0) -> Evidence:
    """A 7 x 7 grid of windows: ``agree`` fit the model, ``scatter`` measured noise."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.linspace(100, 900, 7), np.linspace(100, 900, 7))
    placed = np.column_stack([xs.ravel(), ys.ravel()])
    order = rng.permutation(len(placed))[: agree + scatter]
    residuals = np.concatenate(
        [
            rng.normal(0, 0.1, (agree, 2)),
            rng.uniform(5, 20, (scatter, 2)) * rng.choice([-1, 1], (scatter, 2)),
        ]
    )
    return Evidence(
        placed=placed,
        points=placed[order],
        residuals=residuals,
        shift_px=math.hypot(*shift),
        coarse_gap_px=0.1,
    )


def test_gate_counts_agreeing_windows_and_their_share():
    strong = judge(_evidence(45, 4, shift=(12.0, 5.0)))
    assert strong.status == "applied" and strong.confidence >= 0.85
    # the brief's lie: 3 of 38 windows agree on a large shift
    lie = judge(_evidence(3, 35, shift=(41.2, -12.0)))
    assert lie.status == "fallback"
    assert lie.confidence == pytest.approx(0.5 * (3 / 38) / 0.6, abs=0.001)
    assert "too few agree" in lie.reason
    # 20 of 40 is enough for a sub-pixel estimate, not for a 7 px one
    assert judge(_evidence(20, 20, shift=(0.3, 0.2))).status == "applied"
    assert judge(_evidence(20, 20, shift=(7.0, 0.0))).status == "fallback"
