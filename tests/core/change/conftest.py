"""Small generated scenes with known changes, written as GeoTIFFs."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import rasterio
from imagery_tool_synthetic import Acquisition, build_site, make_aircraft, render
from imagery_tool_synthetic.truth import object_record

SIZE = 640
T0 = datetime(2024, 12, 6, 8, 30, tzinfo=UTC)
T1 = datetime(2024, 12, 13, 8, 45, tzinfo=UTC)


def write_tif(path, image, site, *, nodata=None):
    profile = {
        "driver": "GTiff",
        "width": image.shape[2],
        "height": image.shape[1],
        "count": image.shape[0],
        "dtype": "uint8",
        "crs": site.crs,
        "transform": site.transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(image)
    return path


@pytest.fixture(scope="session")
def site():
    return build_site(seed=7, width=SIZE, height=SIZE)


@pytest.fixture(scope="session")
def acquisitions():
    before = Acquisition(T0, sun_azimuth_deg=150, sun_elevation_deg=32, noise_sigma=2.0, seed=1)
    after = Acquisition(
        T1, sun_azimuth_deg=195, sun_elevation_deg=40, shift_px=(6.3, -4.8), rotation_deg=0.4,
        gain=1.12, offset=-0.02, gamma=1.06, haze=0.2, noise_sigma=2.5, seed=2,
    )  # fmt: skip
    return before, after


@pytest.fixture(scope="session")
def bodies(site):
    stands = {s.id: s for s in site.stands}

    def plane(kind, stand, oid):
        s = stands[stand]
        return make_aircraft(kind, id=oid, center=s.center, heading_deg=s.heading_deg)

    return {
        "stays": plane("Il-76", "H4", "il76-1"),
        "stays_fighter": plane("Su-24", "F7", "su24-1"),
        "leaves": plane("Su-34", "F12", "su34-1"),
        "arrives": plane("Su-35", "F9", "su35-1"),
    }


@pytest.fixture(scope="session")
def change_pair(tmp_path_factory, site, acquisitions, bodies):
    """BEFORE/AFTER GeoTIFFs: an Il-76 and a Su-24 stay, a Su-34 leaves, a Su-35 arrives."""
    folder = tmp_path_factory.mktemp("change")
    b_acq, a_acq = acquisitions
    objs_b = [bodies["stays"], bodies["stays_fighter"], bodies["leaves"]]
    objs_a = [bodies["stays"], bodies["stays_fighter"], bodies["arrives"]]
    before = write_tif(folder / "site_2024-12-06.tif", render(site, b_acq, objects=objs_b), site)
    after = write_tif(folder / "site_2024-12-13.tif", render(site, a_acq, objects=objs_a), site)
    truth = {
        name: object_record(site, b_acq, bodies[name])["bbox_px"] for name in ("leaves", "arrives")
    }
    return before, after, truth


@pytest.fixture(scope="session")
def same_pair(tmp_path_factory, site, acquisitions, bodies):
    """The same aircraft on both dates under another sun, gain, gamma and haze."""
    folder = tmp_path_factory.mktemp("same")
    b_acq, a_acq = acquisitions
    objs = [bodies["stays"], bodies["stays_fighter"], bodies["leaves"]]
    before = write_tif(folder / "site_2024-12-06.tif", render(site, b_acq, objects=objs), site)
    after = write_tif(folder / "site_2024-12-13.tif", render(site, a_acq, objects=objs), site)
    return before, after


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area - inter)


@pytest.fixture
def box_iou():
    return iou


__all__ = ["np"]
