import math

import numpy as np
import pytest
from affine import Affine
from hypothesis import given
from hypothesis import strategies as st
from rasterio.crs import CRS

from imagery_tool.errors import NotGeoreferencedError
from imagery_tool.georef import GeoRef
from tests.conftest import HMEIMIM_LONLAT, UTM36N

coords = st.floats(min_value=-1e5, max_value=1e5, allow_nan=False)


def utm_grid(**kwargs) -> GeoRef:
    transform = kwargs.pop("transform", Affine(0.5, 0, 767_800, 0, -0.5, 3_921_600))
    return GeoRef(2048, 2048, transform, UTM36N)


@given(col=coords, row=coords, angle=st.floats(-180, 180), size=st.floats(0.1, 100))
def test_pixel_map_round_trip_on_rotated_grids(col, row, angle, size):
    transform = (
        Affine.translation(767_800, 3_921_600) @ Affine.rotation(angle) @ Affine.scale(size, -size)
    )
    g = GeoRef(10, 10, transform, UTM36N)
    c2, r2 = g.map_to_pixel(*g.pixel_to_map(col, row))
    assert c2 == pytest.approx(col, abs=1e-6)
    assert r2 == pytest.approx(row, abs=1e-6)


def test_lonlat_of_known_point():
    g = utm_grid()
    lon, lat = g.pixel_to_lonlat(0, 0)
    # 767800 E, 3921600 N in UTM 36N, checked with PROJ's cs2cs.
    assert lon == pytest.approx(35.94874, abs=1e-4)
    assert lat == pytest.approx(35.40183, abs=1e-4)
    c, r = g.lonlat_to_pixel(*HMEIMIM_LONLAT)
    assert 0 < c < 100 and 0 < r < 250


def test_vectorised_conversion_matches_scalar():
    g = utm_grid()
    cols, rows = np.array([0.0, 10.5, 2048.0]), np.array([0.0, 3.25, 2048.0])
    xs, ys = g.pixel_to_map(cols, rows)
    for c, r, x, y in zip(cols, rows, xs, ys, strict=True):
        assert g.pixel_to_map(c, r) == pytest.approx((x, y))


def test_bounds_and_gsd_of_north_up_grid():
    g = utm_grid()
    assert g.bounds == pytest.approx((767_800, 3_921_600 - 1024, 767_800 + 1024, 3_921_600))
    assert g.gsd_m == pytest.approx((0.5, 0.5))
    assert not g.is_rotated and not g.is_south_up
    assert g.epsg == 32636


def test_south_up_grid():
    g = GeoRef(100, 100, Affine(2, 0, 500_000, 0, 2, 3_900_000), UTM36N)
    assert g.is_south_up
    assert g.bounds == pytest.approx((500_000, 3_900_000, 500_200, 3_900_200))
    west, south, east, north = g.lonlat_bounds()
    assert south < north and west < east


def test_rotated_grid_bounds_cover_all_corners():
    transform = Affine.translation(500_000, 3_900_000) @ Affine.rotation(30) @ Affine.scale(1, -1)
    g = GeoRef(100, 200, transform, UTM36N)
    assert g.is_rotated
    corners = g.corners_map()
    left, bottom, right, top = g.bounds
    assert corners[:, 0].min() == left and corners[:, 1].max() == top
    assert right - left == pytest.approx(200 * math.cos(math.radians(30)) + 100 * 0.5)
    assert g.gsd_m == pytest.approx((1.0, 1.0))


def test_gsd_of_geographic_grid_is_metres():
    lon, lat = HMEIMIM_LONLAT
    g = GeoRef(100, 100, Affine(1e-5, 0, lon, 0, -1e-5, lat), CRS.from_epsg(4326))
    gx, gy = g.gsd_m
    # One degree of longitude is about 111.32 km * cos(lat); of latitude about 110.95 km here.
    assert gx == pytest.approx(1e-5 * 111_320 * math.cos(math.radians(lat)), rel=5e-3)
    assert gy == pytest.approx(1e-5 * 110_950, rel=5e-3)


def test_gsd_in_feet():
    # NAD83 / Texas Central (ftUS): 1 ftUS = 0.3048006 m.
    g = GeoRef(10, 10, Affine(2, 0, 0, 0, -2, 0), CRS.from_epsg(2277))
    assert g.gsd_m == pytest.approx((0.6096012, 0.6096012))


def test_window_and_scaled():
    g = utm_grid()
    w = g.window(100, 200, 50, 60)
    assert w.shape == (60, 50)
    assert w.pixel_to_map(0, 0) == pytest.approx(g.pixel_to_map(100, 200))
    s = g.scaled(4)
    assert s.shape == (512, 512)
    assert s.pixel_to_map(512, 512) == pytest.approx(g.pixel_to_map(2048, 2048))


def test_pixel_mode_has_no_geography():
    g = GeoRef(10, 20)
    assert not g.is_georeferenced and g.gsd_m is None and g.epsg is None
    assert g.bounds == (0, 0, 20, 10)
    with pytest.raises(NotGeoreferencedError, match="no georeference"):
        g.pixel_to_lonlat(0, 0)


def test_degenerate_transform_is_refused():
    with pytest.raises(ValueError, match="not invertible"):
        GeoRef(10, 10, Affine(0, 0, 0, 0, 0, 0), UTM36N)
