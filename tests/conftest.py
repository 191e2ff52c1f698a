"""Small raster fixtures made on the fly, one per kind of file the tile reader must handle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from PIL import Image
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS

# The sample site: Hmeimim air base apron, EPSG:32636 (UTM 36N), 0.5 m pixels.
HMEIMIM_LONLAT = (35.949, 35.401)
UTM36N = CRS.from_epsg(32636)
HMEIMIM_UTM = (767_800.0, 3_921_600.0)  # top-left corner used by the fixtures (UTM 36N)


def write_raster(
    path: Path,
    pixels: np.ndarray,
    *,
    transform: Affine | None = None,
    crs: CRS | None = None,
    nodata: float | None = None,
    tags: dict[str, str] | None = None,
    overviews: tuple[int, ...] = (),
    **profile,
) -> Path:
    """Write ``pixels`` (B, H, W) as a GeoTIFF with the given georeference and metadata."""
    count, height, width = pixels.shape
    options = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": pixels.dtype.name,
        "crs": crs,
        "transform": transform or Affine.identity(),
        "nodata": nodata,
    }
    options.update(profile)
    with rasterio.open(path, "w", **options) as ds:
        ds.write(pixels)
        if tags:
            ds.update_tags(**tags)
        if overviews:
            ds.build_overviews(list(overviews))
    return path


def gradient(count: int, height: int, width: int, dtype: str = "uint8") -> np.ndarray:
    """A deterministic (count, height, width) test image: ramps plus a band offset."""
    rows, cols = np.mgrid[0:height, 0:width]
    bands = [(rows * 3 + cols * 2 + 40 * b) % 200 + 20 for b in range(count)]
    return np.stack(bands).astype(dtype)


@pytest.fixture
def utm_tile(tmp_path: Path) -> Path:
    """3-band uint8 GeoTIFF in EPSG:32636, 0.5 m, tiled with overviews, dated by metadata."""
    return write_raster(
        tmp_path / "apron.tif",
        gradient(3, 300, 400),
        transform=Affine(0.5, 0, HMEIMIM_UTM[0], 0, -0.5, HMEIMIM_UTM[1]),
        crs=UTM36N,
        tags={"ACQUISITIONDATETIME": "2024-12-13T08:21:00Z"},
        overviews=(2, 4),
        tiled=True,
        blockxsize=128,
        blockysize=128,
        photometric="RGB",
    )


@pytest.fixture
def geographic_tile(tmp_path: Path) -> Path:
    """1-band float32 GeoTIFF in EPSG:4326 with 1e-5 degree pixels at Hmeimim."""
    lon, lat = HMEIMIM_LONLAT
    return write_raster(
        tmp_path / "geographic_20241206.tif",
        gradient(1, 100, 120, "float32"),
        transform=Affine(1e-5, 0, lon, 0, -1e-5, lat),
        crs=CRS.from_epsg(4326),
    )


@pytest.fixture
def plain_png(tmp_path: Path) -> Path:
    """An RGB PNG without georeference and without a date."""
    path = tmp_path / "photo.png"
    Image.fromarray(np.moveaxis(gradient(3, 64, 80), 0, -1)).save(path)
    return path


@pytest.fixture
def gcp_tile(tmp_path: Path) -> Path:
    """A GeoTIFF georeferenced only by four GCPs."""
    path = tmp_path / "gcps.tif"
    gcps = [
        GroundControlPoint(row=r, col=c, x=HMEIMIM_UTM[0] + c / 2, y=HMEIMIM_UTM[1] - r / 2)
        for r, c in ((0, 0), (0, 50), (40, 50), (40, 0))
    ]
    with rasterio.open(
        path, "w", driver="GTiff", width=50, height=40, count=1, dtype="uint8"
    ) as ds:
        ds.write(gradient(1, 40, 50))
        ds.gcps = (gcps, UTM36N)
    return path
