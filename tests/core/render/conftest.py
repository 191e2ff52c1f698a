"""A small dated pair with known objects: BEFORE has an empty apron, AFTER two bright aircraft."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from imagery_tool.annotations import BoxAnnotation
from tests.conftest import HMEIMIM_UTM, UTM36N, write_raster

SIZE = 512
TRANSFORM = Affine(0.5, 0, HMEIMIM_UTM[0], 0, -0.5, HMEIMIM_UTM[1])
# Two objects on AFTER: (centre col, row, length px, width px, heading deg).
OBJECTS = [(150.0, 160.0, 138.0, 146.0, 86.0), (360.0, 330.0, 90.0, 100.0, 200.0)]


def apron(seed: int) -> np.ndarray:
    """A grey apron with a deterministic texture, (3, SIZE, SIZE) uint8."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    texture = ((rows // 16 + cols // 16) % 2) * 12 + (rows * 7 + cols * 13 + seed) % 9
    return np.stack([texture + 110, texture + 112, texture + 108]).astype(np.uint8)


def boxes() -> list[BoxAnnotation]:
    return [
        BoxAnnotation.from_center(
            c, r, length, width, heading, label="An-124", attributes={"nose_open": True},
            tile="after.tif",
        )
        for c, r, length, width, heading in OBJECTS
    ]  # fmt: skip


def write_pair(folder: Path) -> tuple[Path, Path]:
    before = apron(0)
    after = apron(3)
    import cv2

    canvas = np.ascontiguousarray(np.moveaxis(after, 0, -1))
    for box in boxes():
        cv2.fillPoly(canvas, [np.round(box.xy).astype(np.int32)], (235, 235, 240))
    after = np.moveaxis(canvas, -1, 0)
    common = {
        "transform": TRANSFORM, "crs": UTM36N, "overviews": (2, 4), "tiled": True,
        "blockxsize": 256, "blockysize": 256, "photometric": "RGB",
    }  # fmt: skip
    b = write_raster(
        folder / "before.tif", before, tags={"ACQUISITIONDATETIME": "2024-12-06T08:21:00Z"},
        **common,
    )  # fmt: skip
    a = write_raster(
        folder / "after.tif", after, tags={"ACQUISITIONDATETIME": "2024-12-13T08:21:00Z"},
        **common,
    )  # fmt: skip
    return b, a


def changes_geojson(path: Path) -> Path:
    """Write one 'appeared' change per object, as imagery-tool detect writes it (lon/lat)."""
    from imagery_tool.georef import GeoRef

    georef = GeoRef(SIZE, SIZE, TRANSFORM, UTM36N)
    features = []
    for box in boxes():
        x0, y0, x1, y1 = box.bounds
        ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
        lon, lat = georef.pixel_to_lonlat([p[0] for p in ring], [p[1] for p in ring])
        features.append({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [list(zip(lon, lat, strict=True))]},
            "properties": {
                "change": "appeared", "score": 0.9, "area_m2": round(box.area_px * 0.25, 1),
                "bbox_px": [x0, y0, x1, y1], "before_date": "2024-12-06",
                "after_date": "2024-12-13",
            },
        })  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture(scope="session")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    """(before, after) GeoTIFFs of 512 x 512 px, EPSG:32636, 0.5 m, with overviews."""
    return write_pair(tmp_path_factory.mktemp("pair"))


@pytest.fixture(scope="session")
def changes_file(tmp_path_factory) -> Path:
    return changes_geojson(tmp_path_factory.mktemp("changes") / "changes.geojson")
