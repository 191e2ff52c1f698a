"""The reader on the shipped Hmeimim samples (File > Open Sample) and on a large generated COG."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from napari_imagery_tool._hooks import info_of
from rasterio.enums import Resampling

SAMPLES = Path(__file__).parents[2] / "sample_tiles"


@pytest.mark.slow
def test_open_sample_gives_four_dates_on_one_grid(make_napari_viewer, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the stack is copied there
    viewer = make_napari_viewer()
    (layer,) = viewer.open_sample("imagery-tool", "hmeimim")
    info = info_of(layer)
    assert info.dates == ["2024-11-29", "2024-12-06", "2024-12-13", "2024-12-20"]
    assert layer.multiscale and layer.data[0].shape == (4, 2048, 2048, 3)
    # the measured residual shifts are the generator's misregistrations (truth, relative to
    # the first date)
    truth = {
        d: json.loads((SAMPLES / "truth" / f"hmeimim_{d}.json").read_text())["misregistration"]
        for d in info.dates
    }
    x0, y0 = truth[info.dates[0]]["shift_px"]
    for t, date in enumerate(info.dates[1:], start=1):
        dx, dy = truth[date]["shift_px"]
        assert np.allclose(info.shifts[t], (dx - x0, dy - y0), atol=0.3), date
    step = viewer.dims.current_step[0]
    assert viewer.dims.axis_labels[0] == f"{info.dates[step]} ({step + 1}/4)"


def write_large_cog(path: Path, side: int) -> None:
    """A tiled 3-band COG-like GeoTIFF with overviews 2..16, written strip by strip."""
    profile = {
        "driver": "GTiff", "width": side, "height": side, "count": 3, "dtype": "uint8",
        "crs": "EPSG:32636", "transform": Affine(0.5, 0, 767_000, 0, -0.5, 3_922_000),
        "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate",
        "photometric": "RGB",
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        cols = np.arange(side, dtype=np.int32)
        for row in range(0, side, 1024):
            rows = np.arange(row, min(side, row + 1024), dtype=np.int32)[:, None]
            band = ((rows // 256 + cols // 256) % 2 * 100 + 60).astype(np.uint8)
            ds.write(np.stack([band] * 3), window=((row, row + len(rows)), (0, side)))
        ds.update_tags(ACQUISITIONDATETIME="2024-12-13T08:21:00Z")
        ds.build_overviews([2, 4, 8, 16], Resampling.average)


@pytest.mark.slow
def test_large_cog_opens_as_lazy_multiscale(make_napari_viewer, tmp_path):
    side = 8192
    path = tmp_path / "large.tif"
    write_large_cog(path, side)
    viewer = make_napari_viewer()
    start = time.perf_counter()
    (layer,) = viewer.open(str(path), plugin="imagery-tool")
    assert time.perf_counter() - start < 3.0
    assert layer.multiscale
    assert [lvl.shape[:2] for lvl in layer.data] == [(side >> k, side >> k) for k in range(5)]
    assert all(type(lvl).__module__.startswith("dask") for lvl in layer.data)
    # a window read at full resolution: the checkerboard of 256 px squares, stretched
    window = np.asarray(layer.data[0][4096 - 2 : 4096 + 2, 4096 - 2 : 4096 + 2, 0])
    assert window[0, 0] == window[0, 1] and window[0, 1] != window[0, 2]
    assert window[1, 1] != window[2, 1]
    # the coarsest level is read whole, through the overviews, quickly
    start = time.perf_counter()
    top = np.asarray(layer.data[-1])
    assert top.shape == (512, 512, 3) and time.perf_counter() - start < 1.0
    assert {int(top[10, 10, 0]), int(top[10, 20, 0])} == {int(top.min()), int(top.max())}
