"""Co-registration: known shifts and rotations return; bad pairs fail or fall back with a reason."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from imagery_tool.errors import IncompatibleTilesError, NoOverlapError
from imagery_tool.registration import AlignedPair, coregister
from imagery_tool.registration.grid import GridMapping
from imagery_tool.tile import open_tile
from tests.conftest import HMEIMIM_UTM, UTM36N, write_raster

N, M, K = 512, 48, 4  # image side, crop margin, supersampling
ORIGIN = (700000.0, 3900000.0)


def _scene(seed: int = 1) -> np.ndarray:
    """A textured ground with sharp rectangles, rendered at K x resolution (float32)."""
    rng = np.random.default_rng(seed)
    side = N + 2 * M
    img = np.zeros((side, side), np.float32)
    for cell, amp in ((40, 60), (10, 30), (3, 15)):
        small = rng.random((side // cell + 2, side // cell + 2)).astype(np.float32)
        img += amp * cv2.resize(small, (side, side), interpolation=cv2.INTER_CUBIC)
    hi = cv2.resize(img, (side * K, side * K), interpolation=cv2.INTER_LINEAR)
    for _ in range(900):
        x, y = rng.integers(0, side * K, 2)
        w, h = rng.integers(8, 90, 2)
        cv2.rectangle(
            hi, (int(x), int(y)), (int(x + w), int(y + h)), float(rng.uniform(30, 210)), -1
        )
    return hi


def _moved(hi: np.ndarray, dx: float, dy: float, rot: float) -> tuple[np.ndarray, np.ndarray]:
    """Image of the scene shifted/rotated, and the true BEFORE -> AFTER pixel mapping."""
    side = hi.shape[0]
    r = cv2.getRotationMatrix2D((side / 2, side / 2), rot, 1.0)
    r[:, 2] += (dx * K, dy * K)
    moved = cv2.warpAffine(hi, r, (side, side), flags=cv2.INTER_LINEAR)
    small = cv2.resize(moved, (side // K, side // K), interpolation=cv2.INTER_AREA)[M:-M, M:-M]
    s = np.diag([K, K, 1.0])
    t = np.linalg.inv(s) @ np.vstack([r, [0, 0, 1]]) @ s
    shift = np.array([[1, 0, -M], [0, 1, -M], [0, 0, 1.0]])
    return small, shift @ t @ np.linalg.inv(shift)


def _write(path, grey, *, gain=1.0, offset=0.0, noise=2.0, seed=0, transform=None, crs=True):
    rng = np.random.default_rng(seed)
    img = np.clip(grey * gain + offset + rng.normal(0, noise, grey.shape), 0, 255)
    img = np.repeat(img[None], 3, axis=0).astype(np.uint8)
    profile = {
        "driver": "GTiff",
        "width": img.shape[2],
        "height": img.shape[1],
        "count": 3,
        "dtype": "uint8",
    }
    if crs:
        profile.update(
            crs=CRS.from_epsg(32636),
            transform=transform or Affine(0.5, 0, ORIGIN[0], 0, -0.5, ORIGIN[1]),
        )
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(img)
    return path


def _rmse(reg, truth) -> float:
    ys, xs = np.mgrid[0:N:16, 0:N:16]
    pts = np.column_stack([xs.ravel(), ys.ravel(), np.ones(xs.size)]) + [0.5, 0.5, 0]
    est = pts @ reg.matrix3[:2].T
    true = pts @ truth[:2].T
    return float(np.sqrt(np.mean(np.sum((est - true) ** 2, axis=1))))


@pytest.fixture(scope="module")
def hi():
    return _scene()


@pytest.mark.parametrize(
    ("dx", "dy", "rot"), [(-7.0, 12.0, 0.0), (3.25, -17.5, 0.8), (19.5, 0.75, -1.0)]
)
def test_known_shift_and_rotation_come_back(tmp_path, hi, dx, dy, rot):
    side = N + 2 * M
    before = cv2.resize(hi, (side, side), interpolation=cv2.INTER_AREA)[M:-M, M:-M]
    after, truth = _moved(hi, dx, dy, rot)
    b = _write(tmp_path / "b.tif", before, seed=1)
    a = _write(tmp_path / "a.tif", after, gain=0.7, offset=30, noise=3.0, seed=2)
    reg = coregister(b, a)
    assert _rmse(reg, truth) < 0.1
    assert reg.windows_used >= 10
    assert reg.rmse_px < 0.3
    assert abs(reg.rotation_deg + rot) < 0.02  # cv2 turns counter-clockwise, ours is clockwise


def test_moved_objects_do_not_pull_the_fit(tmp_path, hi):
    side = N + 2 * M
    before = cv2.resize(hi, (side, side), interpolation=cv2.INTER_AREA)[M:-M, M:-M].copy()
    after, truth = _moved(hi, 4.5, -2.25, 0.3)
    after = after.copy()
    rng = np.random.default_rng(5)
    for _ in range(12):  # "aircraft" that moved: bright blocks only in AFTER
        x, y = rng.integers(20, N - 80, 2)
        after[y : y + 40, x : x + 60] = 240
    reg = coregister(_write(tmp_path / "b.tif", before), _write(tmp_path / "a.tif", after, seed=3))
    assert _rmse(reg, truth) < 0.1


def test_other_grid_is_resampled_by_georeference(tmp_path, hi):
    side = N + 2 * M
    before = cv2.resize(hi, (side, side), interpolation=cv2.INTER_AREA)[M:-M, M:-M]
    b = _write(tmp_path / "b.tif", before)
    # AFTER: same ground at 1 m pixels, origin 40 m to the east and south: only part overlaps
    coarse = cv2.resize(hi, (side // 2, side // 2), interpolation=cv2.INTER_AREA)
    crop = coarse[M // 2 + 40 :, M // 2 + 40 :]
    t = Affine(1.0, 0, ORIGIN[0] + 40, 0, -1.0, ORIGIN[1] - 40)
    a = _write(tmp_path / "a.tif", crop, transform=t, seed=4)
    reg = coregister(b, a)
    assert reg.resampled
    assert reg.overlap[:2] == (80, 80)
    assert abs(reg.dx) < 0.15 and abs(reg.dy) < 0.15
    pair = AlignedPair.of(open_tile(b), open_tile(a), reg)
    from rasterio.windows import Window

    _, _, valid = pair.read(Window(0, 0, 200, 200))
    assert not valid[:70, :70].any() and valid[100:, 100:].all()


def test_no_overlap_names_both_files_and_extents(tmp_path, hi):
    grey = np.full((64, 64), 100.0) + np.arange(64)
    b = _write(tmp_path / "b.tif", grey)
    a = _write(
        tmp_path / "a.tif", grey, transform=Affine(0.5, 0, ORIGIN[0] + 5000, 0, -0.5, ORIGIN[1])
    )
    with pytest.raises(
        NoOverlapError, match=r"b\.tif \(extent lon .*a\.tif \(extent lon .*do not overlap"
    ):
        coregister(b, a)


def test_band_count_and_georeference_mismatch(tmp_path):
    grey = np.tile(np.arange(64, dtype=np.float64), (64, 1))
    b = _write(tmp_path / "b.tif", grey)
    with rasterio.open(tmp_path / "one.tif", "w", driver="GTiff", width=64, height=64, count=1,
                       dtype="uint8", crs=CRS.from_epsg(32636),
                       transform=Affine(0.5, 0, ORIGIN[0], 0, -0.5, ORIGIN[1])) as ds:  # fmt: skip
        ds.write(grey[None].astype(np.uint8))
    with pytest.raises(IncompatibleTilesError, match=r"has 3 band\(s\) but .*one\.tif has 1"):
        coregister(b, tmp_path / "one.tif")
    plain = _write(tmp_path / "plain.tif", grey, crs=False)
    with pytest.raises(IncompatibleTilesError, match=r"plain\.tif has no georeference"):
        coregister(b, plain)


def test_constant_image_is_refused(tmp_path):
    b = _write(tmp_path / "b.tif", np.tile(np.arange(64.0), (64, 1)), noise=0)
    a = _write(tmp_path / "a.tif", np.full((64, 64), 7.0), noise=0)
    with pytest.raises(IncompatibleTilesError, match=r"a\.tif: the image is constant"):
        coregister(b, a)


def test_all_nodata_is_refused(tmp_path):
    b = _write(tmp_path / "b.tif", np.tile(np.arange(64.0), (64, 1)))
    with rasterio.open(b) as ds:
        profile, pixels = ds.profile, ds.read()
    profile["nodata"] = 0
    with rasterio.open(tmp_path / "empty.tif", "w", **profile) as ds:
        ds.write(np.zeros_like(pixels))
    with pytest.raises(IncompatibleTilesError, match=r"empty\.tif: no valid pixels"):
        coregister(b, tmp_path / "empty.tif")


@pytest.mark.parametrize(
    ("origin_shift_m", "rows", "same"),
    [(0.0, 64, True), (1.0, 64, False), (0.0, 63, False)],
)
def test_same_grid_to_a_millionth_of_a_pixel(tmp_path, origin_shift_m, rows, same):
    """A 1 m origin shift at 767 km easting, or one row less, is another grid (NAIP pairs)."""
    pixels = np.zeros((1, 64, 64), np.uint8)
    a = write_raster(
        tmp_path / "a.tif", pixels,
        transform=Affine(5.0, 0, HMEIMIM_UTM[0], 0, -5.0, HMEIMIM_UTM[1]), crs=UTM36N,
    )  # fmt: skip
    b = write_raster(
        tmp_path / "b.tif", pixels[:, :rows],
        transform=Affine(5.0, 0, HMEIMIM_UTM[0] + origin_shift_m, 0, -5.0, HMEIMIM_UTM[1]),
        crs=UTM36N,
    )  # fmt: skip
    assert GridMapping.between(open_tile(a), open_tile(b)).same_grid is same
