"""Other inputs: a GeoPackage store, tiles without CRS, geographic and float tiles."""

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

from imagery_tool.annotations import BoxAnnotation, open_store
from imagery_tool.render import Region, render
from imagery_tool.tile import open_tile
from tests.conftest import HMEIMIM_LONLAT, gradient, write_raster
from tests.core.render.conftest import boxes


def test_annotations_from_a_geopackage_store(pair, tmp_path):
    before, after = pair
    with open_store(tmp_path / "project.gpkg", project="hmeimim") as store:
        store.add_tile(open_tile(after))
        store.add_many(boxes())
        store.add(BoxAnnotation.from_xyxy(5, 5, 40, 40, label="Su-24", tile="other.tif"))
    result = render(after, before=before, annotations=tmp_path / "project.gpkg", width=800)
    assert [t for t, _ in result.legend] == ["An-124 (2)"]
    assert any("1 box(es) of other tiles not shown" in line for line in result.caption)


def test_tile_without_georeference_has_no_arrow_or_scale_bar(plain_png):
    box = BoxAnnotation.from_xyxy(10, 10, 40, 30, label="fuel truck")
    result = render(plain_png, annotations=[box], width=320)
    assert result.image.shape[1] == 320
    assert any("no CRS (pixel coordinates)" in line for line in result.caption)
    assert len(result.reserved) == 1  # the date tag only
    with pytest.raises(Exception, match="georeference"):
        render(plain_png, region=Region.from_center(35.9, 35.4, 50, crs="EPSG:4326"))


def test_geographic_float_tile_with_nodata(tmp_path):
    pixels = gradient(1, 120, 160, "float32")
    pixels[0, :10, :] = np.nan
    lon, lat = HMEIMIM_LONLAT
    transform = Affine(1e-5, 0, lon, 0, -1e-5, lat)
    path = write_raster(tmp_path / "g.tif", pixels, transform=transform, crs=CRS.from_epsg(4326))
    result = render(path, width=480)
    assert any("EPSG:4326" in line for line in result.caption)
    assert len(result.reserved) == 3  # tag, north arrow, scale bar
    # NaN rows are drawn in the no-data grey.
    assert (result.image[2, 200] == (64, 64, 64)).all()


def test_lonlat_bbox_region(pair):
    _, after = pair
    tile = open_tile(after)
    lon0, lat1 = tile.georef.pixel_to_lonlat(100, 100)
    lon1, lat0 = tile.georef.pixel_to_lonlat(300, 250)
    region = Region.from_bbox(lon0, lat0, lon1, lat1, crs="EPSG:4326")
    result = render(after, region=region, annotations=boxes(), width=400)
    w = result.panels[0].frame.window
    # A lon/lat rectangle is a quadrilateral turned by the grid convergence (1.7 degrees here)
    # on the UTM grid: the window is its pixel bounding box, a few pixels larger.
    assert w.col_off <= 100 and w.row_off <= 100
    assert w.col_off + w.width >= 300 and w.row_off + w.height >= 250
    assert w.width <= 210 and w.height <= 165


def test_tile_wider_than_the_default_is_reduced_not_refused(tmp_path):
    from tests.conftest import HMEIMIM_UTM, UTM36N

    transform = Affine(0.5, 0, HMEIMIM_UTM[0], 0, -0.5, HMEIMIM_UTM[1])
    path = write_raster(tmp_path / "wide.tif", gradient(3, 200, 13000), transform=transform,
                        crs=UTM36N, tiled=True, overviews=(2, 4, 8))  # fmt: skip
    result = render(path)
    assert result.image.shape[1] == 2048
    assert result.panels[0].frame.window.width == 13000
