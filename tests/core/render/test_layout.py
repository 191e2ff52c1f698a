"""Regions and frames: map, lon/lat and centre regions land on the right pixels."""

import pytest
from affine import Affine
from rasterio.crs import CRS

from imagery_tool.errors import RenderError
from imagery_tool.georef import GeoRef
from imagery_tool.render.layout import Region, make_frame

X0, Y0 = 767_800.0, 3_921_600.0
GEOREF = GeoRef(2000, 3000, Affine(0.5, 0, X0, 0, -0.5, Y0), CRS.from_epsg(32636))


def test_bbox_in_map_units():
    w = Region.from_bbox(X0 + 100, Y0 - 300, X0 + 200, Y0 - 250).window(GEOREF)
    assert (w.col_off, w.row_off, w.width, w.height) == (200, 500, 200, 100)


def test_centre_and_size_in_lonlat():
    lon, lat = GEOREF.pixel_to_lonlat(1000.0, 800.0)
    w = Region.from_center(lon, lat, 100.0, crs="EPSG:4326").window(GEOREF)
    assert abs(w.col_off + w.width / 2 - 1000) <= 1 and abs(w.row_off + w.height / 2 - 800) <= 1
    assert 199 <= w.width <= 202 and 199 <= w.height <= 202


def test_region_partly_outside_is_cut_and_wholly_outside_refused():
    w = Region.from_pixels(-100, 1900, 300, 300).window(GEOREF)
    assert (w.col_off, w.row_off, w.width, w.height) == (0, 1900, 200, 100)
    with pytest.raises(RenderError, match="lies outside"):
        Region.from_bbox(0, 0, 10, 10).window(GEOREF, name="apron.tif")


def test_frame_width_and_scale():
    frame = make_frame(GEOREF, width=1500)
    assert frame.out_shape == (1000, 1500)
    assert frame.metres_per_px == pytest.approx(1.0)
    assert make_frame(GEOREF, scale=2.0).out_shape == (500, 750)
    assert make_frame(GEOREF).out_shape[1] == 2048
    with pytest.raises(RenderError, match="too small"):
        make_frame(GEOREF, width=4)
    pts = frame.to_out([[300.0, 200.0]])
    assert pts.tolist() == [[150.0, 100.0]]
