"""Fixtures: a tiny georeferenced tile near Hmeimim and rotated An-124 boxes with the nose open."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS

from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.store import TileRecord, open_store
from imagery_tool.georef import GeoRef

LAT, LON = 35.401, 35.949
GSD = 0.5
SIZE = 400  # pixels: 200 m, room for an An-124 (69 m x 73 m = 138 x 147 px)
TILE_NAME = "hmeimim_2024-12-13.tif"


def utm_origin() -> tuple[float, float]:
    """UTM 36N easting/northing of the tile's top-left corner (centred on LAT, LON)."""
    to_utm = Transformer.from_crs(4326, 32636, always_xy=True)
    x, y = to_utm.transform(LON, LAT)
    return round(x - SIZE * GSD / 2), round(y + SIZE * GSD / 2)


def make_georef(size: int = SIZE) -> GeoRef:
    x0, y0 = utm_origin()
    return GeoRef(size, size, Affine(GSD, 0, x0, 0, -GSD, y0), CRS.from_epsg(32636))


@pytest.fixture
def georef() -> GeoRef:
    return make_georef()


@pytest.fixture
def tile_path(tmp_path, georef):
    path = tmp_path / TILE_NAME
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=SIZE,
        height=SIZE,
        count=1,
        dtype="uint8",
        crs=georef.crs,
        transform=georef.transform,
    ) as ds:
        ds.write(np.zeros((1, SIZE, SIZE), dtype=np.uint8))
        ds.update_tags(TIFFTAG_DATETIME="2024:12:13 08:21:00")
    return path


@pytest.fixture
def tile_record(georef) -> TileRecord:
    return TileRecord.from_georef(TILE_NAME, georef, acquired="2024-12-13T08:21:00Z")


def an124_boxes() -> list[BoxAnnotation]:
    """Three rotated An-124 boxes (69.1 m x 73.3 m at 0.5 m) with nose_open=true, plus one Su-24."""
    boxes = [
        BoxAnnotation.from_center(
            200.3,
            190.7,
            140.0,
            148.0,
            angle,
            label="An-124",
            attributes={"nose_open": True, "confidence": "high", "note": "visor up"},
            tile=TILE_NAME,
            author="ann",
            review="accepted",
            reviewer="bob",
            review_note="checked against 12-12",
            acquired="2024-12-13T08:21:00Z",
        )
        for angle in (30.0, 127.5, 301.25)
    ]
    boxes.append(
        BoxAnnotation.from_center(
            330,
            330,
            45.0,
            34.0,
            75.0,
            label="Su-24",
            tile=TILE_NAME,
            source="detected",
            score=0.87,
            attributes={"engines_covered": False},
            acquired="2024-12-13T08:21:00Z",
        )
    )
    return boxes


@pytest.fixture
def boxes() -> list[BoxAnnotation]:
    return an124_boxes()


@pytest.fixture
def store(tmp_path, tile_record, boxes):
    s = open_store(tmp_path / "project.gpkg", project="hmeimim", author="ann")
    s.add_tile(tile_record)
    s.add_many(boxes)
    yield s
    s.close()
