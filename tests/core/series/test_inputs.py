"""Folders and STAC catalogs become dated series per site; bad tiles are listed with reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS

from imagery_tool.errors import SeriesInputError
from imagery_tool.series import collect_inputs
from tests.conftest import HMEIMIM_UTM, UTM36N, gradient, write_raster

SAMPLE = Path(__file__).resolve().parents[3] / "sample_tiles"


def _tile(folder: Path, name: str, *, origin=HMEIMIM_UTM, date: str | None = None, crs=UTM36N):
    tags = {"ACQUISITIONDATETIME": date} if date else None
    transform = Affine(0.5, 0, origin[0], 0, -0.5, origin[1])
    if crs != UTM36N:  # the same ground in lon/lat (pixels of about 0.5 m)
        lon, lat = Transformer.from_crs(UTM36N, crs, always_xy=True).transform(*origin)
        transform = Affine(5.5e-6, 0, lon, 0, -4.5e-6, lat)
    return write_raster(
        folder / name, gradient(3, 200, 200), transform=transform, crs=crs, tags=tags
    )


def test_folder_is_grouped_by_site_and_bad_tiles_are_listed(tmp_path):
    _tile(tmp_path, "base_2024-12-01.tif")
    _tile(tmp_path, "base_2024-12-08.tif")
    _tile(tmp_path, "base_lonlat.tif", date="2024-12-15T08:00:00Z", crs=CRS.from_epsg(4326))
    far = (HMEIMIM_UTM[0] + 50_000, HMEIMIM_UTM[1])
    _tile(tmp_path, "port_2024-12-02.tif", origin=far)
    _tile(tmp_path, "port_2024-12-09.tif", origin=far)
    _tile(tmp_path, "nodate.tif")
    (tmp_path / "broken.tif").write_bytes(b"II*\x00 not a tiff")
    (tmp_path / "notes.txt").write_text("not a tile")
    inputs = collect_inputs(tmp_path)
    sites = {s.name: s for s in inputs.sites}
    assert sorted(sites) == ["base", "port"]
    base = sites["base"]
    assert [t.date for t in base.tiles] == ["2024-12-01", "2024-12-08", "2024-12-15"]
    assert base.crs == ["EPSG:32636", "EPSG:4326"]  # one site across two CRSs
    assert [t.source for t in base.tiles] == [
        "filename",
        "filename",
        "metadata:ACQUISITIONDATETIME",
    ]
    assert [t.date for t in sites["port"].tiles] == ["2024-12-02", "2024-12-09"]
    skipped = {Path(s.path).name: s.reason for s in inputs.skipped}
    assert set(skipped) == {"nodate.tif", "broken.tif"}
    assert skipped["nodate.tif"].startswith("no acquisition date")
    assert skipped["broken.tif"].startswith("unreadable")


def test_a_site_with_one_date_is_skipped_with_its_reason(tmp_path):
    _tile(tmp_path, "base_2024-12-01.tif")
    _tile(tmp_path, "base_2024-12-08.tif")
    _tile(tmp_path, "lone_2024-12-03.tif", origin=(HMEIMIM_UTM[0] - 40_000, HMEIMIM_UTM[1]))
    inputs = collect_inputs(tmp_path)
    assert [s.name for s in inputs.sites] == ["base"]
    (lone,) = inputs.skipped
    assert lone.path.endswith("lone_2024-12-03.tif") and "needs two dates" in lone.reason


def test_duplicate_dates_are_refused_or_kept_first(tmp_path):
    _tile(tmp_path, "base_2024-12-01.tif")
    _tile(tmp_path, "base_2024-12-01_reprocessed.tif")
    _tile(tmp_path, "base_2024-12-08.tif")
    with pytest.raises(SeriesInputError, match="base_2024-12-01.tif and base_2024-12-01_repro"):
        collect_inputs(tmp_path)
    inputs = collect_inputs(tmp_path, duplicates="first")
    assert [t.path.name for t in inputs.sites[0].tiles] == [
        "base_2024-12-01.tif",
        "base_2024-12-08.tif",
    ]
    (dup,) = inputs.skipped
    assert "same acquisition time" in dup.reason and "kept that one" in dup.reason


def test_nothing_usable_is_one_clear_error(tmp_path):
    _tile(tmp_path, "nodate.tif")
    with pytest.raises(SeriesInputError, match="no site has two dated tiles.*nodate.tif"):
        collect_inputs(tmp_path)
    with pytest.raises(SeriesInputError, match="no such file or folder"):
        collect_inputs(tmp_path / "missing")


def test_output_folder_inside_the_input_is_not_an_input(tmp_path):
    _tile(tmp_path, "base_2024-12-01.tif")
    _tile(tmp_path, "base_2024-12-08.tif")
    (tmp_path / "timeline.png").write_bytes(b"\x89PNG")
    inputs = collect_inputs(tmp_path, exclude=tmp_path)  # OUTDIR = INPUT
    assert len(inputs.sites[0].tiles) == 2 and not inputs.skipped
    inputs = collect_inputs(tmp_path, exclude=tmp_path / "elsewhere")
    assert [Path(s.path).name for s in inputs.skipped] == ["timeline.png"]


def test_stac_catalog_gives_item_dates_in_order():
    inputs = collect_inputs(SAMPLE / "catalog.json")
    (site,) = inputs.sites
    assert site.name == "hmeimim"
    assert [t.iso for t in site.tiles] == [
        "2024-11-29T07:44:00Z",
        "2024-12-06T08:36:00Z",
        "2024-12-13T08:21:00Z",
        "2024-12-20T09:02:00Z",
    ]
    assert site.tiles[0].source == "stac:hmeimim_2024-11-29"
    assert not inputs.skipped


def test_unreadable_catalog_is_refused(tmp_path):
    bad = tmp_path / "catalog.json"
    bad.write_text("{not json")
    with pytest.raises(SeriesInputError, match="not a readable STAC catalog"):
        collect_inputs(bad)


def test_collect_tiles_takes_a_folder_as_series_does(tmp_path):
    from imagery_tool.series.inputs import collect_tiles

    samples = Path(__file__).resolve().parents[3] / "sample_tiles"
    files = sorted(samples.glob("hmeimim_*.tif"))
    by_folder = collect_tiles([samples])
    by_files = collect_tiles(files)
    assert [[t.path for t in s.tiles] for s in by_folder.sites] == [
        [t.path for t in s.tiles] for s in by_files.sites
    ]
    assert len(by_folder.sites[0].tiles) == 4
    with pytest.raises(SeriesInputError, match="nothing: no such file or folder"):
        collect_tiles([tmp_path / "nothing"])
