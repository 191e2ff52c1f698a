"""JPEG GeoTIFF blocks decoded by libjpeg-turbo: the same pixels as GDAL's, within a grey level."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.windows import Window

from imagery_tool import jpeg_tiles, runtime
from imagery_tool.errors import TileReadError
from imagery_tool.tile import open_tile
from tests.conftest import HMEIMIM_UTM, UTM36N, write_raster

_TRANSFORM = Affine(0.5, 0, HMEIMIM_UTM[0], 0, -0.5, HMEIMIM_UTM[1])


def _scene(count: int, height: int = 520, width: int = 700) -> np.ndarray:
    """Smooth colour ramps with a few sharp-edged rectangles, like an apron with aircraft."""
    rows, cols = np.mgrid[0:height, 0:width]
    bands = [60 + 0.2 * rows + 0.1 * cols + 25 * np.sin(cols / (17 + 5 * b)) for b in range(count)]
    image = np.stack(bands)
    for k, (r, c) in enumerate(((40, 90), (300, 500), (250, 240))):
        image[:, r : r + 30, c : c + 60] = 200 - 60 * k
    return np.clip(image, 0, 255).astype(np.uint8)


def _jpeg_tile(tmp_path, count: int = 3, **profile):
    options = {"photometric": "YCBCR"} if count == 3 else {}
    options.update(profile)
    path = write_raster(
        tmp_path / f"jpeg{count}.tif",
        _scene(count),
        transform=_TRANSFORM,
        crs=UTM36N,
        tags={"ACQUISITIONDATETIME": "2024-12-13T08:21:00Z"},
        compress="JPEG",
        tiled=True,
        blockxsize=256,
        blockysize=256,
        **options,
    )
    return open_tile(path)


# windows inside one block, across block seams, and on the partial blocks of the right and
# bottom edges (700 x 520 px in 256 px blocks)
_WINDOWS = [
    Window(10, 20, 100, 50),
    Window(200, 230, 120, 90),
    Window(0, 0, 700, 520),
    Window(650, 500, 50, 20),
    Window(511, 255, 2, 2),
]


@pytest.mark.parametrize("window", _WINDOWS)
def test_colour_blocks_match_gdal_within_a_grey_level_or_two(tmp_path, window):
    tile = _jpeg_tile(tmp_path)
    assert tile.jpeg is not None and tile.jpeg.bands == 3
    gdal = dataclasses.replace(tile, jpeg=None)
    fast = tile.read(window=window)
    reference = gdal.read(window=window)
    assert fast.shape == reference.shape == (3, window.height, window.width)
    assert fast.dtype == np.uint8
    # luminance is the same inverse DCT; only the chroma upsampling differs, at colour edges
    difference = np.abs(fast.astype(int) - reference)
    assert np.percentile(difference, 99) <= 2
    assert difference.mean() < 0.5


@pytest.mark.parametrize("window", _WINDOWS)
def test_rgba_reads_interleave_the_bands_read_as_planes(tmp_path, window):
    tile = _jpeg_tile(tmp_path)
    planes = tile.read(window=window)
    rgba = tile.read_rgba(window=window)
    assert rgba.shape == (window.height, window.width, 4) and rgba.dtype == np.uint8
    np.testing.assert_array_equal(rgba[..., :3], planes.transpose(1, 2, 0))
    assert (rgba[..., 3] == 255).all()
    # files GDAL decodes give the same layout
    gdal = dataclasses.replace(tile, jpeg=None)
    np.testing.assert_array_equal(
        gdal.read_rgba(window=window)[..., :3], gdal.read(window=window).transpose(1, 2, 0)
    )


def test_rgba_reads_are_refused_without_three_bands(tmp_path):
    with pytest.raises(ValueError, match="three 8-bit data bands"):
        _jpeg_tile(tmp_path, count=1).read_rgba(window=Window(0, 0, 8, 8))


def test_a_resampled_read_warps_the_rgba_read_as_it_would_the_planes(tmp_path):
    from imagery_tool.registration.warp import read_resampled

    tile = _jpeg_tile(tmp_path)
    # a quarter-degree turn and a sub-pixel shift, onto a 300 x 200 window
    turn = np.radians(0.25)
    matrix = np.array(
        [[np.cos(turn), -np.sin(turn), 3.4], [np.sin(turn), np.cos(turn), -2.7], [0, 0, 1]]
    )
    window = Window(150, 120, 300, 200)
    pixels, valid = read_resampled(tile, matrix, window)  # bands 1, 2, 3: read as RGBA
    planes, valid_planes = read_resampled(tile, matrix, window, bands=[3, 2, 1])  # as planes
    np.testing.assert_array_equal(pixels, planes[::-1])
    np.testing.assert_array_equal(valid, valid_planes)
    assert valid.all()


def test_band_selection_and_order_are_kept(tmp_path):
    tile = _jpeg_tile(tmp_path)
    window = Window(300, 100, 64, 64)
    everything = tile.read(window=window)
    np.testing.assert_array_equal(tile.read(window=window, bands=[3, 1]), everything[[2, 0]])


def test_grey_blocks_are_gdal_pixels(tmp_path):
    tile = _jpeg_tile(tmp_path, count=1)
    assert tile.jpeg is not None and tile.jpeg.bands == 1
    gdal = dataclasses.replace(tile, jpeg=None)
    for window in _WINDOWS:  # the same inverse DCT, and no colour to convert
        np.testing.assert_array_equal(tile.read(window=window), gdal.read(window=window))


def test_reduced_and_outside_reads_go_through_gdal(tmp_path, monkeypatch):
    tile = _jpeg_tile(tmp_path)
    monkeypatch.setattr(jpeg_tiles.JpegLayout, "read", _refuse)
    assert tile.read(out_shape=(130, 175)).shape == (3, 130, 175)
    outside = tile.read(window=Window(-10, -10, 40, 40))
    assert outside.shape == (3, 40, 40) and not outside[:, :10, :10].any()


def _refuse(*args, **kwargs):
    raise AssertionError("this read should have gone through GDAL")


@pytest.mark.parametrize(
    "profile",
    [
        {"compress": "DEFLATE", "photometric": "RGB"},
        {"compress": "JPEG", "photometric": "RGB"},  # RGB-coded JPEG: turbo would convert it
    ],
)
def test_other_files_are_left_to_gdal(tmp_path, profile):
    path = write_raster(tmp_path / "other.tif", _scene(3), tiled=True, **profile)
    assert open_tile(path).jpeg is None


@pytest.mark.parametrize("switch", ["runtime", "environment"])
def test_with_our_decoder_off_reads_are_gdal_pixels(tmp_path, monkeypatch, switch):
    tile = _jpeg_tile(tmp_path)
    gdal = dataclasses.replace(tile, jpeg=None)
    window = Window(200, 230, 120, 90)
    assert not np.array_equal(tile.read(window=window), gdal.read(window=window))
    monkeypatch.setattr(jpeg_tiles.JpegLayout, "read", _refuse)
    monkeypatch.setattr(jpeg_tiles.JpegLayout, "read_rgba", _refuse)
    if switch == "environment":  # the documented way to make GDAL the default
        monkeypatch.setenv(runtime.GDAL_JPEG_ENV, "1")
        context = runtime.runtime()
    else:
        context = runtime.runtime(jpeg_decoder=False)
    with context as settings:
        assert settings.to_dict()["jpeg_decoder"] == "GDAL"
        np.testing.assert_array_equal(tile.read(window=window), gdal.read(window=window))
        np.testing.assert_array_equal(tile.read_rgba(window=window), gdal.read_rgba(window=window))


def test_threads_with_other_decoders_each_read_with_their_own(tmp_path):
    tile = _jpeg_tile(tmp_path)
    window = Window(200, 230, 120, 90)
    gdal = dataclasses.replace(tile, jpeg=None).read(window=window)
    ours = tile.read(window=window)
    assert not np.array_equal(gdal, ours)
    entered, leave = threading.Event(), threading.Event()
    seen = {}

    def other():  # enters its context after this thread entered its own
        with runtime.runtime(jpeg_decoder=True):
            entered.set()
            leave.wait(10)
            seen["other"] = tile.read(window=window)

    with runtime.runtime(jpeg_decoder=False) as settings:
        thread = threading.Thread(target=other)
        thread.start()
        assert entered.wait(10)
        try:
            mine = tile.read(window=window)
        finally:
            leave.set()
            thread.join(10)
    assert settings.to_dict()["jpeg_decoder"] == "GDAL"  # recorded as read
    np.testing.assert_array_equal(mine, gdal)
    np.testing.assert_array_equal(seen["other"], ours)


def test_each_block_is_decoded_once_for_neighbouring_windows(tmp_path, monkeypatch):
    tile = _jpeg_tile(tmp_path)
    monkeypatch.setattr(jpeg_tiles, "_CACHE", jpeg_tiles._BlockCache(jpeg_tiles.cache_bound()))
    decoded = []
    decode = jpeg_tiles.JpegLayout._decode
    monkeypatch.setattr(
        jpeg_tiles.JpegLayout,
        "_decode",
        lambda self, ds, bx, by: decoded.append((bx, by)) or decode(self, ds, bx, by),
    )
    with tile.open() as ds:
        tile.read(window=Window(0, 0, 300, 300), dataset=ds)  # blocks (0..1, 0..1)
        tile.read(window=Window(250, 0, 300, 300), dataset=ds)  # shares (1, 0) and (1, 1)
    assert sorted(decoded) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]


def test_a_rewritten_file_is_decoded_anew(tmp_path):
    tile = _jpeg_tile(tmp_path)
    window = Window(0, 0, 64, 64)
    before = tile.read(window=window)
    write_raster(
        tile.path,
        255 - _scene(3),
        transform=_TRANSFORM,
        crs=UTM36N,
        compress="JPEG",
        photometric="YCBCR",
        tiled=True,
        blockxsize=256,
        blockysize=256,
    )
    after = open_tile(tile.path).read(window=window)
    assert np.abs(after.astype(int) + before - 255).mean() < 2


def test_a_corrupt_block_fails_with_the_file_named(tmp_path):
    tile = _jpeg_tile(tmp_path)
    with tile.open() as ds:
        offset = int(ds.get_tag_item("BLOCK_OFFSET_1_1", "TIFF", bidx=1))
    data = bytearray(tile.path.read_bytes())
    data[offset : offset + 400] = b"\xff" * 400  # the block's markers and Huffman tables
    tile.path.write_bytes(bytes(data))
    tile = open_tile(tile.path, check=False)
    with pytest.raises(TileReadError, match="jpeg3.tif.*truncated or corrupt"):
        tile.read(window=Window(300, 300, 10, 10))
    with pytest.raises(TileReadError, match="jpeg3.tif.*truncated or corrupt"):
        tile.read_rgba(window=Window(300, 300, 10, 10))
    assert tile.read(window=Window(0, 0, 10, 10)).shape == (3, 10, 10)  # other blocks still read


def test_the_cache_keeps_the_most_recent_blocks_within_its_bound():
    cache = jpeg_tiles._BlockCache(max_bytes=300)
    for key in "abcd":
        cache.put(key, key.upper(), 100)
        cache.get("a")  # a stays the most recently used
    assert cache.get("a") == "A"
    assert cache.get("b") is None  # the least recent went first
    assert cache.get("c") == "C" and cache.get("d") == "D"
    assert cache.bytes == 300


def test_sparse_blocks_read_as_gdal_fills_them(tmp_path):
    path = tmp_path / "sparse.tif"
    profile = {
        "driver": "GTiff", "width": 512, "height": 512, "count": 3, "dtype": "uint8",
        "crs": UTM36N, "transform": _TRANSFORM, "compress": "JPEG", "photometric": "YCBCR",
        "tiled": True, "blockxsize": 256, "blockysize": 256, "sparse_ok": True, "nodata": 0,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(_scene(3, 256, 256), window=Window(0, 0, 256, 256))  # three blocks never written
        ds.update_tags(ACQUISITIONDATETIME="2024-12-13T08:21:00Z")
    tile = open_tile(path)
    assert tile.jpeg is not None
    window = Window(200, 200, 100, 100)  # one written block and three sparse ones
    np.testing.assert_array_equal(
        tile.read(window=window) == 0, dataclasses.replace(tile, jpeg=None).read(window=window) == 0
    )
    assert not tile.read(window=Window(300, 300, 50, 50)).any()


def test_a_file_cut_short_fails_with_the_file_named(tmp_path):
    # a COG keeps its directory first: cut short, it still opens and its last blocks are gone
    cog = tmp_path / "cog.tif"
    rasterio.shutil.copy(
        _jpeg_tile(tmp_path).path, cog, driver="COG", compress="JPEG", blocksize=256
    )
    tile = open_tile(cog)
    assert tile.jpeg is not None
    with tile.open() as ds:
        offset = int(ds.get_tag_item("BLOCK_OFFSET_2_1", "TIFF", bidx=1))
    cog.write_bytes(cog.read_bytes()[: offset + 100])
    tile = open_tile(cog, check=False)
    with pytest.raises(TileReadError, match="cog.tif.*truncated or corrupt"):
        tile.read(window=Window(600, 300, 10, 10))


def test_a_runtime_bounds_the_cache_while_it_runs_then_the_bound_comes_back(monkeypatch):
    cache = jpeg_tiles._BlockCache(max_bytes=2 * 2**20)
    monkeypatch.setattr(jpeg_tiles, "_CACHE", cache)
    mib = 2**20
    with runtime.runtime(jpeg_cache_mb=4):
        for key in "abcd":
            cache.put(key, key.upper(), mib)
        assert cache.bytes == 4 * mib and cache.get("a") == "A"
    assert cache.max_bytes == 2 * mib and cache.bytes == 2 * mib
    assert cache.get("b") is None and cache.get("c") is None  # the least recent were dropped
    assert cache.get("a") == "A" and cache.get("d") == "D"
