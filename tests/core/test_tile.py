import numpy as np
import pytest
import rasterio
from affine import Affine
from PIL import Image
from rasterio.enums import Resampling
from rasterio.windows import Window

from imagery_tool.errors import TileReadError
from imagery_tool.tile import MAX_READ_PIXELS, open_tile
from tests.conftest import HMEIMIM_UTM, UTM36N, gradient, write_raster

NORTH_UP = Affine(0.5, 0, HMEIMIM_UTM[0], 0, -0.5, HMEIMIM_UTM[1])


def test_utm_tile_description(utm_tile):
    tile = open_tile(utm_tile)
    assert tile.shape == (300, 400)
    assert (tile.count, tile.dtype, tile.driver) == (3, "uint8", "GTiff")
    assert tile.colorinterp == ("red", "green", "blue")
    assert tile.georef.epsg == 32636
    assert tile.georef.gsd_m == pytest.approx((0.5, 0.5))
    assert tile.overview_factors == (2, 4)
    assert tile.mask_kind == "none"
    assert tile.acquired.isoformat() == "2024-12-13T08:21:00Z"
    assert tile.acquired.source == "metadata:ACQUISITIONDATETIME"
    assert tile.block_shape == (128, 128)
    assert tile.rgb_bands == (1, 2, 3)


def test_window_read_returns_the_pixels_written(utm_tile):
    tile = open_tile(utm_tile)
    expected = gradient(3, 300, 400)
    got = tile.read(window=Window(100, 50, 30, 20))
    np.testing.assert_array_equal(got, expected[:, 50:70, 100:130])
    np.testing.assert_array_equal(tile.read(bands=[2]), expected[1:2])


def test_reduced_read_uses_overviews(utm_tile, tmp_path):
    # Overwrite the overview level with a constant; a reduced read must return it.
    with rasterio.open(utm_tile, "r+") as ds:
        ds.build_overviews([2, 4], Resampling.nearest)
    tile = open_tile(utm_tile)
    with rasterio.open(utm_tile, "r", OVERVIEW_LEVEL=1) as ds:
        expected = ds.read()
    got = tile.read(out_shape=(75, 100), resampling=Resampling.nearest)
    assert got.shape == (3, 75, 100)
    np.testing.assert_array_equal(got, expected)


def test_boundless_window_reads_zero_and_invalid(utm_tile):
    tile = open_tile(utm_tile)
    window = Window(-10, -10, 20, 20)
    pixels = tile.read(window=window)
    valid = tile.read_valid(window=window)
    assert pixels.shape == (3, 20, 20)
    assert not valid[:10].any() and not valid[:, :10].any()
    assert valid[10:, 10:].all()
    np.testing.assert_array_equal(pixels[:, 10:, 10:], gradient(3, 300, 400)[:, :10, :10])


def test_huge_reads_are_refused(utm_tile):
    tile = open_tile(utm_tile)
    side = int(np.sqrt(MAX_READ_PIXELS)) + 1
    with pytest.raises(ValueError, match="read a window or a reduced out_shape"):
        tile.read(out_shape=(side, side))


def test_uint16_four_bands_with_nodata(tmp_path):
    pixels = gradient(4, 60, 80, "uint16") * 50
    pixels[:, :10, :] = 0
    path = write_raster(
        tmp_path / "ms.tif", pixels, transform=NORTH_UP, crs=UTM36N, nodata=0, compress="lzw"
    )
    tile = open_tile(path)
    assert (tile.count, tile.dtype, tile.nodata, tile.mask_kind) == (4, "uint16", 0.0, "nodata")
    assert tile.compression == "LZW"
    assert tile.rgb_bands == (1, 2, 3)
    valid = tile.read_valid()
    assert not valid[:10].any() and valid[10:].all()


def test_float_nan_is_invalid_even_without_nodata(tmp_path):
    pixels = gradient(1, 40, 40, "float32")
    pixels[0, 5:8, 5:8] = np.nan
    path = write_raster(tmp_path / "nan.tif", pixels, transform=NORTH_UP, crs=UTM36N)
    tile = open_tile(path)
    valid = tile.read_valid()
    assert valid.sum() == 40 * 40 - 9
    assert not valid[5:8, 5:8].any()


def test_float64_nan_nodata(tmp_path):
    pixels = gradient(2, 30, 30, "float64")
    pixels[:, 0, :] = np.nan
    path = write_raster(tmp_path / "f64.tif", pixels, transform=NORTH_UP, crs=UTM36N, nodata=np.nan)
    tile = open_tile(path)
    assert tile.dtype == "float64" and np.isnan(tile.nodata)
    assert not tile.read_valid()[0].any() and tile.read_valid()[1:].all()


def test_int16_with_negative_nodata(tmp_path):
    pixels = gradient(1, 30, 30, "int16") - 100
    pixels[0, :3, :3] = -32768
    path = write_raster(tmp_path / "dem.tif", pixels, transform=NORTH_UP, crs=UTM36N, nodata=-32768)
    tile = open_tile(path)
    assert tile.read_valid().sum() == 900 - 9
    assert tile.read(window=Window(5, 5, 1, 1))[0, 0, 0] == pixels[0, 5, 5]


def test_alpha_band(tmp_path):
    pixels = gradient(4, 30, 30)
    pixels[3] = 255
    pixels[3, :, :5] = 0
    path = write_raster(
        tmp_path / "rgba.tif",
        pixels,
        transform=NORTH_UP,
        crs=UTM36N,
        photometric="RGB",
        alpha="YES",
    )
    tile = open_tile(path)
    assert tile.mask_kind == "alpha"
    assert tile.data_bands == (1, 2, 3)
    assert tile.read().shape == (3, 30, 30)
    assert tile.read_valid()[:, :5].sum() == 0 and tile.read_valid()[:, 5:].all()


def test_internal_mask(tmp_path):
    path = tmp_path / "masked.tif"
    with (
        rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True),
        rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=32,
            height=32,
            count=1,
            dtype="uint8",
            crs=UTM36N,
            transform=NORTH_UP,
        ) as ds,
    ):
        ds.write(gradient(1, 32, 32))
        mask = np.full((32, 32), 255, np.uint8)
        mask[20:, 20:] = 0
        ds.write_mask(mask)
    tile = open_tile(path)
    assert tile.mask_kind == "internal mask"
    assert tile.read_valid().sum() == 32 * 32 - 144


def test_rotated_transform(tmp_path):
    transform = Affine.translation(*HMEIMIM_UTM) @ Affine.rotation(15) @ Affine.scale(0.5, -0.5)
    path = write_raster(tmp_path / "rot.tif", gradient(1, 50, 50), transform=transform, crs=UTM36N)
    tile = open_tile(path)
    assert tile.georef.is_rotated
    assert tile.georef.gsd_m == pytest.approx((0.5, 0.5))
    assert tile.georef.transform.almost_equals(transform)


def test_south_up_transform(tmp_path):
    transform = Affine(0.5, 0, HMEIMIM_UTM[0], 0, 0.5, HMEIMIM_UTM[1] - 25)
    path = write_raster(
        tmp_path / "south.tif", gradient(1, 50, 50), transform=transform, crs=UTM36N
    )
    tile = open_tile(path)
    assert tile.georef.is_south_up
    left, bottom, right, top = tile.georef.bounds
    assert (bottom, top) == pytest.approx((HMEIMIM_UTM[1] - 25, HMEIMIM_UTM[1]))


def test_gcp_only_file_is_reported_as_such(gcp_tile):
    tile = open_tile(gcp_tile)
    assert not tile.georef.is_georeferenced
    assert tile.gcp_count == 4


def test_png_without_georeference_or_date(plain_png):
    tile = open_tile(plain_png)
    assert tile.driver == "PNG"
    assert not tile.georef.is_georeferenced
    assert not tile.acquired.known
    np.testing.assert_array_equal(tile.read(), gradient(3, 64, 80))


def test_jpeg_with_world_file_is_not_georeferenced_without_crs(tmp_path):
    path = tmp_path / "scan_2024-12-13.jpg"
    Image.fromarray(np.moveaxis(gradient(3, 40, 40), 0, -1)).save(path, quality=95)
    (tmp_path / "scan_2024-12-13.wld").write_text("0.5\n0\n0\n-0.5\n767800\n3921600\n")
    tile = open_tile(path)
    assert tile.driver == "JPEG"
    assert tile.georef.transform.a == 0.5  # the world file is read...
    assert not tile.georef.is_georeferenced  # ...but without a CRS it stays in pixel mode
    assert tile.acquired.source == "filename"


def test_truncated_file_fails_with_the_file_named(utm_tile, tmp_path):
    data = utm_tile.read_bytes()
    truncated = tmp_path / "truncated.tif"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(TileReadError, match="truncated.tif") as excinfo:
        open_tile(truncated)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize("content", [b"", b"hello, I am text\n" * 50, b"II*\x00garbage"])
def test_not_a_raster(tmp_path, content):
    path = tmp_path / "bad.tif"
    path.write_bytes(content)
    with pytest.raises(TileReadError, match=r"bad\.tif: cannot be read as a raster"):
        open_tile(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(TileReadError, match="no such file"):
        open_tile(tmp_path / "nope.tif")
    with pytest.raises(TileReadError, match="is a folder"):
        open_tile(tmp_path)


def test_read_overview_georef_matches(utm_tile):
    tile = open_tile(utm_tile)
    pixels, valid, georef = tile.read_overview(100)
    assert pixels.shape == (3, 75, 100) and valid.all()
    assert georef.shape == (75, 100)
    assert georef.pixel_to_map(100, 75) == pytest.approx(tile.georef.pixel_to_map(400, 300))
