"""A measured residual misregistration aligns AFTER under BEFORE in a sheet."""

import json

import cv2
import numpy as np
import pytest
from affine import Affine

from imagery_tool.render import render
from imagery_tool.render.marks import read_residual
from tests.conftest import HMEIMIM_UTM, UTM36N, write_raster

SHIFT = (6.0, -4.0)  # AFTER's content sits 6 px right and 4 px up of BEFORE's


def scene(size: int = 320) -> np.ndarray:
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 1, (size + 40, size + 40)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 3)
    band = np.clip(128 + 60 * noise / noise.std(), 0, 255).astype(np.uint8)
    return band


@pytest.fixture
def misregistered_pair(tmp_path):
    big = scene()
    dx, dy = int(SHIFT[0]), int(SHIFT[1])
    before = big[20:-20, 20:-20]
    after = big[20 - dy : big.shape[0] - 20 - dy, 20 - dx : big.shape[1] - 20 - dx]
    transform = Affine(0.5, 0, HMEIMIM_UTM[0], 0, -0.5, HMEIMIM_UTM[1])
    paths = []
    for name, band in (("before_2024-12-06.tif", before), ("after_2024-12-13.tif", after)):
        paths.append(
            write_raster(tmp_path / name, np.stack([band] * 3), transform=transform, crs=UTM36N)
        )
    return paths


def panels(rendering):
    first, second = rendering.panels
    (x0, _), (x1, _) = first.origin, second.origin
    h, w = first.frame.out_shape
    image = rendering.image.astype(np.int16)
    return image[:h, x0 : x0 + w], image[:h, x1 : x1 + w]


def test_residual_brings_after_under_before(misregistered_pair):
    before, after = misregistered_pair
    residual = (1.0, 0.0, SHIFT[0], 0.0, 1.0, SHIFT[1])
    plain = panels(render(after, before=before, width=660))
    aligned = panels(render(after, before=before, width=660, residual=residual))
    inner = (slice(40, -40), slice(40, -40))
    error_plain = np.abs(plain[0] - plain[1])[inner].mean()
    error_aligned = np.abs(aligned[0] - aligned[1])[inner].mean()
    assert error_aligned < 3 < error_plain


def test_residual_is_read_only_for_the_same_two_tiles(tmp_path):
    path = tmp_path / "changes.geojson"
    record = {
        "type": "FeatureCollection", "features": [], "before": "a.tif", "after": "b.tif",
        "registration": {"matrix": [1, 0, 2.5, 0, 1, -1.0]},
    }  # fmt: skip
    path.write_text(json.dumps(record))
    assert read_residual(path, before="a.tif", after="b.tif") == (1, 0, 2.5, 0, 1, -1.0)
    assert read_residual(path, before="a.tif", after="c.tif") is None
    (tmp_path / "bad.geojson").write_text("{")
    assert read_residual(tmp_path / "bad.geojson", before="a.tif", after="b.tif") is None
