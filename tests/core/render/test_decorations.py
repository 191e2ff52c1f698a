"""North arrow (true north, rotated grids, grid convergence) and scale-bar lengths."""

import pytest
from affine import Affine
from pyproj import Proj
from rasterio.crs import CRS

from imagery_tool.georef import GeoRef
from imagery_tool.render.decorations import nice_length, north_angle
from imagery_tool.render.layout import make_frame

X0, Y0 = 767_800.0, 3_921_600.0


def _angle(transform, crs, size=1000):
    return north_angle(make_frame(GeoRef(size, size, transform, crs), width=500))


def test_north_up_lonlat_grid_points_straight_up():
    assert _angle(Affine(1e-5, 0, 35.94, 0, -1e-5, 35.41), CRS.from_epsg(4326)) == pytest.approx(
        0.0, abs=1e-6
    )


def test_utm_grid_convergence_east_of_central_meridian():
    georef = GeoRef(1000, 1000, Affine(0.5, 0, X0, 0, -0.5, Y0), CRS.from_epsg(32636))
    lon, lat = georef.center_lonlat
    # Grid north is east of true north here, so true north leans left of 'up' by the
    # meridian convergence (about 1.7 degrees at Hmeimim in UTM zone 36N).
    convergence = Proj("EPSG:32636").get_factors(lon, lat).meridian_convergence
    angle = _angle(georef.transform, georef.crs)
    assert convergence > 1.0
    assert (angle - 360.0) == pytest.approx(-convergence, abs=0.02)


def test_rotated_grid_turns_the_arrow():
    # The grid is turned 30 degrees anticlockwise on the map: image 'up' points 30 degrees west
    # of grid north, so a point due north lies up and to the right, 30 degrees clockwise.
    rotated = Affine.translation(X0, Y0) @ Affine.rotation(30) @ Affine.scale(0.5, -0.5)
    straight = _angle(Affine(0.5, 0, X0, 0, -0.5, Y0), CRS.from_epsg(32636))
    turned = _angle(rotated, CRS.from_epsg(32636))
    assert (turned - straight) % 360 == pytest.approx(30.0, abs=0.05)


def test_south_up_grid_points_down():
    assert _angle(Affine(0.5, 0, X0, 0, 0.5, Y0), CRS.from_epsg(32636)) == pytest.approx(
        180.0, abs=2.0
    )


def test_no_georeference_no_arrow():
    assert north_angle(make_frame(GeoRef(100, 100), width=100)) is None


@pytest.mark.parametrize(
    ("max_m", "expected"), [(1, 1), (1.9, 1), (2, 2), (4.99, 2), (5, 5), (99, 50), (230, 200)]
)
def test_nice_length(max_m, expected):
    assert nice_length(max_m) == expected
