"""Unusual rasters against ``info`` and ``render``: huge, sparse, odd SRS, NaN holes, full disks."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from PIL import Image
from rasterio.windows import Window

from imagery_tool.summary import describe_tile
from imagery_tool.tile import open_tile
from tests.cli.helpers import assert_one_line_error, run_cli
from tests.conftest import HMEIMIM_UTM, UTM36N, write_raster

# 0.5 m pixels from the fixtures' top-left corner (UTM 36N).
_TRANSFORM = Affine(0.5, 0, HMEIMIM_UTM[0], 0, -0.5, HMEIMIM_UTM[1])


def sparse_tiff(
    path: Path,
    height: int,
    width: int,
    *,
    block: int = 512,
    written: tuple[tuple[int, int], ...] = (),
    count: int = 3,
    **profile,
) -> Path:
    """A tiled sparse BigTIFF: only the blocks at ``written`` (row, col) hold data (a ramp)."""
    options = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": "uint8",
        "crs": UTM36N,
        "transform": _TRANSFORM,
        "tiled": True,
        "blockxsize": block,
        "blockysize": block,
        "compress": "deflate",
        "SPARSE_OK": "TRUE",
        "BIGTIFF": "YES",
    }
    options.update(profile)
    ramp = (np.add.outer(np.arange(block), np.arange(block)) % 200 + 30).astype("uint8")
    with rasterio.open(path, "w", **options) as ds:
        for row, col in written:
            ds.write(np.stack([ramp] * count), window=Window(col, row, block, block))
    return path


def _strict_json(text: str):
    """Parse JSON as any other reader would: NaN and Infinity are not JSON."""

    def refuse(constant: str):
        raise AssertionError(f"{constant} in the JSON output")

    return json.loads(text, parse_constant=refuse)


def _bbox(col: float, row: float, size_px: float) -> str:
    """``--bbox`` text of a square of ``size_px`` pixels from pixel ``(col, row)``."""
    x0, y1 = _TRANSFORM * (col, row)
    x1, y0 = _TRANSFORM * (col + size_px, row + size_px)
    return f"{x0},{y0},{x1},{y1}"


# -- 1. render of huge rasters without overviews: time follows the output, not the raster -----


def test_render_of_a_region_of_a_huge_sparse_bigtiff_is_fast(tmp_path: Path) -> None:
    tile = sparse_tiff(
        tmp_path / "huge.tif", 1_000_000, 1_000_000, block=2048, written=((500_000, 500_000),)
    )
    out = tmp_path / "region.png"
    start = time.monotonic()
    result = run_cli("render", tile, "-o", out, "--bbox", _bbox(500_100, 500_100, 400))
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start < 10
    # The stretch comes from what is drawn, so the ramp spans the grey levels.
    with Image.open(out) as image:
        picture = np.asarray(image.convert("L"))
    assert picture.max() - picture.min() > 150


def test_render_of_a_whole_huge_raster_without_overviews_refuses_at_once(tmp_path: Path) -> None:
    tile = sparse_tiff(tmp_path / "huge.tif", 200_000, 200_000, written=((0, 0),))
    out = tmp_path / "whole.png"
    start = time.monotonic()
    result = run_cli("render", tile, "-o", out)
    assert time.monotonic() - start < 10
    assert_one_line_error(result, "huge.tif", "overviews", "--bbox")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [tile]


def test_stretch_of_a_huge_tile_reads_a_bounded_sample(tmp_path: Path) -> None:
    from imagery_tool.display import composite

    tile = open_tile(sparse_tiff(tmp_path / "huge.tif", 200_000, 200_000, written=((0, 0),)))
    start = time.monotonic()
    rgba = composite(tile, window=Window(0, 0, 512, 512), out_shape=(256, 256))
    assert time.monotonic() - start < 2
    assert rgba.shape == (256, 256, 4)
    assert int(rgba[..., 0].max()) - int(rgba[..., 0].min()) > 150


def test_render_of_a_tile_with_overviews_still_uses_the_whole_tile_stretch(utm_tile) -> None:
    from imagery_tool.display import display_limits

    tile = open_tile(utm_tile)
    whole = display_limits(tile, (1, 2, 3), percentiles=(0.5, 99.5))
    corner = tile.read(window=Window(0, 0, 16, 16))
    # The frame's own pixels do not change limits taken from the whole tile.
    assert np.array_equal(
        whole, display_limits(tile, (1, 2, 3), percentiles=(0.5, 99.5), pixels=corner)
    )


# -- 2. info on huge or oddly blocked TIFFs answers --------------------------------------------


def test_info_of_a_sparse_tiff_with_one_huge_block_answers(tmp_path: Path) -> None:
    # 66000 x 4096 px in one 66016 x 4096 block: more than a whole read allows.
    path = sparse_tiff(tmp_path / "wide.tif", 4096, 66000, count=1, block=4096, blockxsize=66016)
    result = run_cli("info", "--json", path)
    assert result.returncode == 0, result.stderr
    (record,) = _strict_json(result.stdout)
    assert (record["width"], record["height"]) == (66000, 4096)
    assert record["value_range"] == [0, 0]


def test_info_of_a_huge_sparse_bigtiff_answers_quickly(tmp_path: Path) -> None:
    path = sparse_tiff(tmp_path / "huge.tif", 200_000, 200_000, written=((0, 0),))
    start = time.monotonic()
    record = describe_tile(open_tile(path))
    assert time.monotonic() - start < 2
    assert record["value_range"][0] == 0 and record["value_range"][1] >= 200


# -- 5. a full disk while writing the PNG ------------------------------------------------------


def _file_size_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX rlimits")
def test_render_on_a_full_disk_keeps_the_previous_png(utm_tile: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "apron.png"
    out.parent.mkdir()
    out.write_bytes(b"previous picture")
    result = subprocess.run(
        [sys.executable, "-m", "imagery_tool", "render", str(utm_tile), "-o", str(out)],
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit(4096),
        timeout=120,
    )
    assert_one_line_error(result, str(out), "no space left on the device or file too large")
    assert result.stderr.count(str(out)) == 1  # said once, not wrapped in a second message
    assert out.read_bytes() == b"previous picture"
    assert [p.name for p in out.parent.iterdir()] == ["apron.png"]


# -- 4. float tiles with NaN holes and no declared nodata -------------------------------------


@pytest.fixture(scope="module")
def nan_pair(tmp_path_factory):
    """Reflectance with NaN holes whose files declare no nodata: only NaN says "no data"."""
    from tests.sensor_pairs import write_pair

    pair = write_pair(tmp_path_factory.mktemp("nan_pair"), "reflectance")
    for path in (pair.before, pair.after):
        with rasterio.open(path, "r+") as ds:
            ds.nodata = None
    return pair


def test_detect_on_nan_holes_finds_the_new_object_and_nothing_in_the_holes(nan_pair) -> None:
    from imagery_tool.change import detect_changes
    from tests.sensor_pairs import overlaps

    assert open_tile(nan_pair.before).mask_kind == "none"  # NaN is all there is
    result = detect_changes(nan_pair.before, nan_pair.after)
    boxes = {r.change: r.bbox_px for r in result.regions}
    assert "appeared" in boxes and overlaps(boxes["appeared"], nan_pair.truth["arrives"])
    hole = nan_pair.before_hole
    inside = [r.bbox_px for r in result.regions if overlaps(r.bbox_px, hole)]
    assert inside == []


def test_registration_and_radiometry_never_see_nan(nan_pair) -> None:
    from imagery_tool.registration import coregister

    registration = coregister(nan_pair.before, nan_pair.after)
    assert np.isfinite(registration.matrix).all()
    tile = open_tile(nan_pair.before)
    pixels, valid = tile.read_masked(window=Window(400, 150, 256, 256))
    assert np.isfinite(pixels).all() and not valid.all() and valid.any()


def test_an_all_nan_tile_is_refused_naming_it(nan_pair, tmp_path: Path) -> None:
    empty = tmp_path / "empty_2024-12-13.tif"
    with rasterio.open(nan_pair.after) as src:
        shape, crs, transform = (src.count, src.height, src.width), src.crs, src.transform
    write_raster(empty, np.full(shape, np.nan, "float32"), crs=crs, transform=transform)
    result = run_cli("detect", nan_pair.before, empty, "-o", tmp_path / "changes.geojson")
    assert_one_line_error(result, str(empty))
    assert sorted(p.name for p in tmp_path.iterdir()) == [empty.name]


# -- 3. a CRS that PROJ cannot relate to lon/lat -----------------------------------------------

_LOCAL_CS = 'LOCAL_CS["Site grid",UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
_ODD_CRS = {
    "local": _LOCAL_CS,
    "engineering": 'ENGCRS["Plant",EDATUM["P1"],CS[Cartesian,2],'
    'AXIS["x",east,ORDER[1],LENGTHUNIT["metre",1]],AXIS["y",north,ORDER[2],LENGTHUNIT["metre",1]]]',
}


def _odd_crs_tile(path: Path, wkt: str, *, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(40, 200, (3, 96, 96)).astype("uint8")
    return write_raster(path, pixels, crs=rasterio.crs.CRS.from_user_input(wkt),
                        transform=_TRANSFORM)  # fmt: skip


@pytest.mark.parametrize("kind", sorted(_ODD_CRS))
def test_info_shows_an_odd_crs_as_given_and_no_lonlat(kind: str, tmp_path: Path) -> None:
    path = _odd_crs_tile(tmp_path / f"{kind}.tif", _ODD_CRS[kind])
    result = run_cli("info", "--json", path)
    assert result.returncode == 0, result.stderr
    (record,) = _strict_json(result.stdout)
    assert record["georeferenced"] and "LOCAL_CS" in record["crs"]
    assert record["lonlat_bounds"] is None and record["center_lonlat"] is None
    assert record["gsd_m"] == [0.5, 0.5]  # the CRS's own metres
    text = run_cli("info", path)
    assert text.returncode == 0 and "lon/lat     unavailable" in text.stdout


def test_render_of_a_local_crs_tile_draws_and_refuses_lonlat_regions(tmp_path: Path) -> None:
    path = _odd_crs_tile(tmp_path / "local.tif", _LOCAL_CS)
    out = tmp_path / "local.png"
    assert run_cli("render", path, "-o", out).returncode == 0
    refused = run_cli("render", path, "-o", tmp_path / "r.png", "--lonlat", "--center",
                      "35.95,35.40", "--size", "10")  # fmt: skip
    assert_one_line_error(refused, "local.tif", "EPSG:4326", "own map units")
    assert not (tmp_path / "r.png").exists()


def test_a_local_crs_and_a_projected_tile_are_refused_as_a_pair(utm_tile, tmp_path) -> None:
    local = _odd_crs_tile(tmp_path / "local.tif", _LOCAL_CS)
    sheet = run_cli("render", local, "--before", utm_tile, "-o", tmp_path / "s.png")
    assert_one_line_error(sheet, "local.tif", "apron.tif", "gdalwarp")
    detect = run_cli("detect", utm_tile, local, "-o", tmp_path / "c.json")
    assert_one_line_error(detect, "local.tif", "apron.tif", "gdalwarp")


def test_changes_of_a_local_crs_pair_go_to_json_not_lonlat_geojson(tmp_path: Path) -> None:
    from imagery_tool.change.result import ChangeResult
    from imagery_tool.errors import UnsupportedCRSError

    before = open_tile(_odd_crs_tile(tmp_path / "a.tif", _LOCAL_CS, seed=1))
    result = ChangeResult(regions=[], before=before, after=before, method="robust",
                          parameters={}, registration=None)  # fmt: skip
    with pytest.raises(UnsupportedCRSError, match=r"a\.tif: its CRS 'Site grid'.*\.json"):
        result.to_geojson()
    assert not before.georef.has_lonlat and before.georef.gsd_m == (0.5, 0.5)


def test_detect_refuses_lonlat_geojson_for_a_local_crs_pair_before_the_work(tmp_path) -> None:
    before = _odd_crs_tile(tmp_path / "a.tif", _LOCAL_CS, seed=1)
    after = _odd_crs_tile(tmp_path / "b.tif", _LOCAL_CS, seed=2)
    refused = run_cli("detect", before, after, "-o", tmp_path / "c.geojson")
    assert_one_line_error(refused, "a.tif", "no known relation to longitude/latitude", "c.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif", "b.tif"]


# -- 6. other unusual TIFFs: info and render answer or refuse in one line ---------------------


def _odd(path: Path, kind: str) -> Path:
    """Write one unusual raster of ``kind`` at ``path``."""
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 255, (3, 64, 64)).astype("uint8")
    geo = {"crs": UTM36N, "transform": _TRANSFORM}
    if kind == "one pixel":
        return write_raster(path, np.array([[[7]]], np.uint8), **geo)
    if kind == "palette":
        write_raster(path, rng.integers(0, 4, (1, 64, 64)).astype("uint8"), photometric="palette",
                     **geo)  # fmt: skip
        with rasterio.open(path, "r+") as ds:
            ds.write_colormap(1, {0: (255, 0, 0, 255), 1: (0, 255, 0, 255), 2: (0, 0, 255, 255)})
        return path
    if kind == "int16 negative":
        return write_raster(path, rng.integers(-3000, -100, (1, 64, 64)).astype("int16"), **geo)
    if kind == "two bands":
        return write_raster(path, rgb[:2], **geo)
    if kind == "five bands":
        return write_raster(path, np.concatenate([rgb, rgb[:2]]), **geo)
    if kind == "float64 with inf":
        pixels = rng.random((3, 64, 64))
        pixels[:, :8] = np.inf
        return write_raster(path, pixels, **geo)
    if kind == "rotated":
        turned = Affine(0.433, 0.25, 767_800, 0.25, -0.433, 3_921_600)  # 30 degrees
        return write_raster(path, rgb, crs=UTM36N, transform=turned)
    if kind == "gcps only":
        from rasterio.control import GroundControlPoint as Gcp

        gcps = [Gcp(0, 0, 767_800, 3_921_600), Gcp(0, 64, 767_832, 3_921_600),
                Gcp(64, 0, 767_800, 3_921_568), Gcp(64, 64, 767_832, 3_921_568)]  # fmt: skip
        return write_raster(path, rgb, gcps=gcps, crs=UTM36N, transform=None)
    if kind == "nodata -inf":
        pixels = rng.random((1, 64, 64)).astype("float32")
        pixels[:, :8] = -np.inf
        return write_raster(path, pixels, nodata=-np.inf, **geo)
    if kind == "pixel size 1e30":
        return write_raster(path, rgb, crs=UTM36N, transform=Affine(1e30, 0, 0, 0, -1e30, 0))
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    ["one pixel", "palette", "int16 negative", "two bands", "five bands", "float64 with inf",
     "rotated", "gcps only", "pixel size 1e30", "nodata -inf"],
)  # fmt: skip
def test_info_and_render_answer_on_unusual_tiffs(kind: str, tmp_path: Path) -> None:
    path = _odd(tmp_path / "odd.tif", kind)
    info = run_cli("info", "--json", path)
    assert info.returncode == 0, info.stderr
    _strict_json(info.stdout)
    out = tmp_path / "odd.png"
    drawn = run_cli("render", path, "-o", out, "--width", "64")
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stderr == ""
    with Image.open(out) as picture:
        assert picture.size[0] == 64


def _mixed_vrt(path: Path) -> Path:
    source = write_raster(path.with_suffix(".tif"), np.ones((1, 16, 16), "uint8"))
    bands = "".join(
        f'<VRTRasterBand dataType="{kind}" band="{i + 1}"><SimpleSource><SourceFilename '
        f'relativeToVRT="1">{source.name}</SourceFilename><SourceBand>1</SourceBand>'
        "</SimpleSource></VRTRasterBand>"
        for i, kind in enumerate(("Byte", "Float32", "Int16"))
    )
    path.write_text(f'<VRTDataset rasterXSize="16" rasterYSize="16">{bands}</VRTDataset>')
    return path


def _complex(path: Path, dtype: str) -> Path:
    pixels = np.ones((1, 16, 16), "complex64")
    return write_raster(path, pixels, dtype=dtype, crs=UTM36N, transform=_TRANSFORM)


@pytest.mark.parametrize(
    ("kind", "make", "fragment"),
    [
        ("complex64", lambda p: _complex(p, "complex64"), "complex (complex64) pixels"),
        ("cint16", lambda p: _complex(p, "complex_int16"), "complex (complex_int16) pixels"),
        ("zero pixel size", lambda p: write_raster(p, np.ones((1, 16, 16), "uint8"), crs=UTM36N,
                                                   transform=Affine(0, 0, 1, 0, 0, 1)),
         "geotransform"),
        ("mixed band types", lambda p: _mixed_vrt(p.with_suffix(".vrt")), "different pixel types"),
        ("nan pixel size", lambda p: write_raster(p, np.ones((1, 16, 16), "uint8"), crs=UTM36N,
                                                  transform=Affine(np.nan, 0, 1, 0, -1, 1)),
         "geotransform"),
    ],
)  # fmt: skip
def test_unusable_tiffs_are_refused_in_one_line(kind, make, fragment, tmp_path: Path) -> None:
    path = make(tmp_path / "odd.tif")
    before = sorted(tmp_path.iterdir())
    for args in (("info",), ("render", "-o", tmp_path / "odd.png")):
        result = run_cli(*args[:1], path, *args[1:])
        assert_one_line_error(result, str(path), fragment)
    assert sorted(tmp_path.iterdir()) == before


def test_a_truncated_huge_tiff_answers_info_and_refuses_the_lost_region(tmp_path: Path) -> None:
    # 30000 px declared; the file ends inside its last written block (at pixel 28672).
    path = sparse_tiff(tmp_path / "cut.tif", 30_000, 30_000,
                       written=tuple((i, i) for i in range(0, 30_000, 4096)))  # fmt: skip
    with rasterio.open(path) as ds:
        lost_at = int(ds.get_tag_item("BLOCK_OFFSET_56_56", "TIFF", bidx=1))
    with open(path, "r+b") as f:
        f.truncate(lost_at + 100)
    info = run_cli("info", "--json", path)
    assert info.returncode == 0, info.stderr
    lost = _bbox(28_672 + 10, 28_672 + 10, 100)
    result = run_cli("render", path, "-o", tmp_path / "cut.png", "--bbox", lost)
    assert_one_line_error(result, str(path), "truncated or corrupt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.tif"]


def test_a_palette_tile_is_drawn_in_its_own_colours(tmp_path: Path) -> None:
    from imagery_tool.display import composite

    path = _odd(tmp_path / "classes.tif", "palette")
    rgba = composite(open_tile(path))
    colours = {tuple(c) for c in rgba[..., :3].reshape(-1, 3)}
    assert colours <= {(255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 0, 0)}
    assert {(255, 0, 0), (0, 255, 0), (0, 0, 255)} <= colours
    out = tmp_path / "classes.png"
    assert run_cli("render", path, "-o", out, "--width", "128").returncode == 0
    with Image.open(out) as image:
        panel = np.asarray(image.convert("RGB"))[40:90, 40:90].reshape(-1, 3)
    red = (panel == (255, 0, 0)).all(axis=1).mean()
    assert red > 0.15  # a grey stretch of the class numbers has no red at all
    # napari shows it alike (the stack reads outside the GUI: no display needed)
    stack_module = pytest.importorskip("napari_imagery_tool._stack")
    viewed = stack_module.TileStack([open_tile(path)], ["2024-12-13"]).read_rgb(
        0, Window(0, 0, 64, 64), (64, 64)
    )
    assert np.array_equal(viewed, rgba[..., :3])


def test_a_local_crs_pair_is_detected_to_json_and_drawn_with_its_changes(
    nan_pair, tmp_path
) -> None:
    import shutil

    from imagery_tool.change import detect_changes
    from imagery_tool.render import render

    before, after = (shutil.copy(p, tmp_path / p.name) for p in (nan_pair.before, nan_pair.after))
    for path in (before, after):
        with rasterio.open(path, "r+") as ds:
            ds.crs = rasterio.crs.CRS.from_wkt(_LOCAL_CS)
    changes = detect_changes(before, after).write(tmp_path / "changes.json")
    assert json.loads(changes.read_text())["coordinates"] == "pixel (col, row)"
    sheet = render(open_tile(after), before=open_tile(before), changes=changes)
    assert len(sheet.outlines) >= 1


@pytest.mark.parametrize(
    ("wkt", "origin", "has_lonlat"),
    [
        # a datum PROJ does not know, on the WGS 84 ellipsoid: lon/lat by ballpark
        ('GEOGCS["unknown",DATUM["unknown",SPHEROID["unretrievable",6378137,298.257223563]],'
         'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]', (35.9, 35.4), True),
        # an orthographic view whose grid lies off the globe: no lon/lat there
        ("+proj=ortho +lat_0=-35 +lon_0=-144 +ellps=WGS84 +units=m", (7e6, 7e6), False),
    ],
)  # fmt: skip
def test_info_answers_for_unusual_datums_and_domains(wkt, origin, has_lonlat, tmp_path) -> None:
    step = 1e-5 if wkt.startswith("GEOGCS") else 0.5
    path = write_raster(tmp_path / "odd.tif", np.ones((1, 32, 32), "uint8"),
                        crs=rasterio.crs.CRS.from_user_input(wkt),
                        transform=Affine(step, 0, origin[0], 0, -step, origin[1]))  # fmt: skip
    result = run_cli("info", "--json", path)
    assert result.returncode == 0, result.stderr
    (record,) = _strict_json(result.stdout)
    assert (record["lonlat_bounds"] is not None) == has_lonlat


@pytest.mark.parametrize(
    "region",
    [("--center", "nan,nan", "--size", "10"), ("--bbox", "767800,3921500,inf,3921600"),
     ("--center", "767850,3921550", "--size", "inf"),
     ("--lonlat", "--center", "1e300,1e300", "--size", "10")],
)  # fmt: skip
def test_render_refuses_regions_that_are_not_finite(region, utm_tile, tmp_path) -> None:
    out = tmp_path / "region.png"
    result = run_cli("render", utm_tile, "-o", out, *region)
    assert_one_line_error(result)
    assert "finite" in result.stderr or "outside" in result.stderr  # CLI or core wording
    assert not out.exists()


def test_a_huge_tile_whose_overviews_stop_early_is_described_and_drawn_quickly(tmp_path) -> None:
    # One 2x overview (an external .ovr) of a 200000 px raster: still 1e10 px to reduce.
    path = sparse_tiff(tmp_path / "huge.tif", 200_000, 200_000, written=((0, 0),))
    sparse_tiff(tmp_path / "huge.tif.ovr", 100_000, 100_000, written=((0, 0),), crs=None,
                transform=None)  # fmt: skip
    start = time.monotonic()
    tile = open_tile(path)
    assert tile.overview_factors == (2,)
    describe_tile(tile)
    assert time.monotonic() - start < 2
    whole = run_cli("render", path, "-o", tmp_path / "whole.png")
    assert_one_line_error(whole, "huge.tif", "overviews")
    region = run_cli("render", path, "-o", tmp_path / "corner.png", "--bbox", _bbox(0, 0, 400))
    assert region.returncode == 0, region.stderr
