"""The reader: single tiles, time stacks, STAC, bad input; the manifest validates."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from napari_imagery_tool._axes import rowcol_to_xy, xy_to_rowcol
from napari_imagery_tool._hooks import geo_status, info_of, text_overlay
from napari_imagery_tool._reader import get_reader

from tests.conftest import HMEIMIM_UTM, write_raster
from tests.plugin.conftest import dated_tile

MANIFEST = Path(__file__).parents[2] / "plugins" / "napari_imagery_tool" / "napari.yaml"


def test_manifest_validates():
    npe2 = Path(sys.executable).with_name("npe2")
    out = subprocess.run([str(npe2), "validate", str(MANIFEST)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    from npe2 import PluginManager

    pm = PluginManager.instance()
    pm.discover()
    assert "imagery-tool" in pm._manifests


def test_axes_round_trip():
    xy = np.array([[10.0, 20.0], [0.5, 0.5]])
    rc = xy_to_rowcol(xy)
    assert rc.tolist() == [[19.5, 9.5], [0.0, 0.0]]  # pixel [0, 0] centre is napari (0, 0)
    assert np.array_equal(rowcol_to_xy(np.column_stack([np.zeros(2), rc])), xy)


def test_reader_declines_what_it_does_not_take(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert get_reader(str(text)) is None
    assert get_reader(str(tmp_path / "missing.json")) is None
    plain_json = tmp_path / "points.json"
    plain_json.write_text('{"type": "FeatureCollection", "features": []}')
    assert get_reader(str(plain_json)) is None
    empty = tmp_path / "empty"
    empty.mkdir()
    assert get_reader(str(empty)) is None


def test_not_a_raster_is_a_notification(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    fake = tmp_path / "fake.tif"
    fake.write_bytes(b"not a tiff at all")
    layers = get_reader(str(fake))(str(fake))
    assert layers == []
    assert len(viewer.layers) == 0


def test_single_tile_is_multiscale_and_lazy(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    path = dated_tile(tmp_path, "2024-12-13")
    (layer,) = viewer.open(str(path), plugin="imagery-tool")
    assert layer.multiscale and layer.rgb
    shapes = [tuple(level.shape) for level in layer.data]
    assert shapes == [(512, 640, 3), (256, 320, 3), (128, 160, 3)]
    assert type(layer.data[0]).__module__.startswith("dask")
    info = info_of(layer)
    assert info.georeferenced and not info.is_stack
    # pixel [r=10, c=20] of level 0 is the tile's pixel, stretched to uint8
    block = np.asarray(layer.data[0][10:12, 20:23])
    assert block.shape == (2, 3, 3) and block.dtype == np.uint8
    text = geo_status(info, (0.0, 0.0))
    lon, lat = info.georef.pixel_to_lonlat(0.5, 0.5)
    assert text.startswith("x 0.5 y 0.5 px") and f"{lon:.5f} E" in text and f"{lat:.5f} N" in text


def test_folder_opens_as_time_stack_with_dates(make_napari_viewer, site_folder):
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(site_folder), plugin="imagery-tool")
    info = info_of(layer)
    assert info.dates == ["2024-12-13", "2025-01-10"]
    assert layer.data[0].shape == (2, 512, 640, 3)
    # the measured residual shift of the later date comes back (known: +3, -2 px)
    dx, dy = info.shifts[1]
    assert abs(dx + 3) < 0.5 and abs(dy - 2) < 0.5 or abs(dx - 3) < 0.5 and abs(dy + 2) < 0.5
    assert viewer.dims.axis_labels[0].startswith("2024-12-13")
    viewer.dims.set_current_step(0, 1)
    assert viewer.dims.axis_labels[0].startswith("2025-01-10")
    assert "2025-01-10" in text_overlay(viewer).text
    # after alignment the bright block (rows 68-97, cols 88-137) is at the same place on both dates
    centres = []
    for t in (0, 1):
        bright = np.asarray(layer.data[0][t, 50:120, 70:160, 0]) > 250
        rows, cols = np.nonzero(bright)
        centres.append((rows.mean() + 50, cols.mean() + 70))
    assert np.allclose(centres[0], (82.5, 112.5), atol=0.3)
    assert np.allclose(centres[1], centres[0], atol=0.75)  # unaligned: off by (2, 3)


def test_pixel_mode_tile_says_so(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    path = write_raster(tmp_path / "plain.tif", np.full((3, 64, 80), 100, np.uint8))
    (layer,) = viewer.open(str(path), plugin="imagery-tool")
    info = info_of(layer)
    assert not info.georeferenced
    assert "pixel mode" in info.pixel_mode_reason()
    assert "no georeference (pixel mode)" in geo_status(info, (5, 5))


def test_different_sites_are_split(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    dated_tile(tmp_path, "2024-12-13")
    dated_tile(tmp_path, "2025-01-10", origin=(700_000.0, 3_800_000.0))
    layers = viewer.open(str(tmp_path), plugin="imagery-tool")
    assert len(layers) == 2
    assert all(not info_of(layer).is_stack for layer in layers)


def test_napari_and_series_split_a_folder_into_the_same_sites(tmp_path):
    from napari_imagery_tool._reader import read_stack

    from imagery_tool.series.inputs import collect_tiles
    from imagery_tool.tile import open_tile

    # a neighbouring scene shares 30 % of the first: napari stacked it onto the first date
    # (greedy, 10 %) while series made it another site (union-find, 50 %)
    x, y = HMEIMIM_UTM
    dated_tile(tmp_path, "2024-12-13")
    dated_tile(tmp_path, "2025-01-10", origin=(x + 224.0, y))
    dated_tile(tmp_path, "2025-02-07", origin=(x + 230.0, y))
    tiles = [open_tile(p) for p in sorted(tmp_path.glob("*.tif"))]
    in_napari = {
        tuple(t.path.name for t in info.tiles) for info in read_stack(tiles, register=False)
    }
    in_series = {tuple(d.path.name for d in site.tiles) for site in collect_tiles([tmp_path]).sites}
    assert (
        in_napari
        == in_series
        == {
            ("site_2024-12-13.tif",),
            ("site_2025-01-10.tif", "site_2025-02-07.tif"),
        }
    )


def test_stac_catalog_opens_as_stack(make_napari_viewer, site_folder):
    import pystac

    catalog = pystac.Catalog("site", "two dates")
    for path in sorted(site_folder.glob("*.tif")):
        date = path.stem.split("_")[1]
        from datetime import datetime

        item = pystac.Item(path.stem, None, None, datetime.fromisoformat(date), {})
        item.add_asset("visual", pystac.Asset(str(path), media_type=pystac.MediaType.COG))
        catalog.add_item(item)
    out = site_folder.parent / "stac"
    catalog.normalize_and_save(str(out), catalog_type=pystac.CatalogType.SELF_CONTAINED)
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(out / "catalog.json"), plugin="imagery-tool")
    assert info_of(layer).dates == ["2024-12-13", "2025-01-10"]


def test_a_catalog_with_a_broken_item_link_is_a_warning_not_a_crash(tmp_path, monkeypatch):
    from napari_imagery_tool import _reader

    from tests.cli.helpers import write_catalog_with_a_broken_item_link

    catalog = write_catalog_with_a_broken_item_link(tmp_path)
    shown = []
    monkeypatch.setattr(_reader, "notify", lambda message, level="info": shown.append(message))
    assert _reader.read_paths(str(catalog)) == []
    (message,) = shown
    assert str(catalog) in message and "gone.json" in message


@pytest.mark.parametrize("name", ["a.tif", "b.tiff"])
def test_reader_accepts_raster_suffixes(tmp_path, name):
    assert get_reader(str(tmp_path / name)) is not None


def test_menus_give_the_three_widgets(make_napari_viewer, site_folder):
    """Plugins > imagery-tool > … docks each widget through the manifest, as a user does."""
    viewer = make_napari_viewer()
    viewer.open(str(site_folder), plugin="imagery-tool")
    widgets = {}
    for title, cls_name in (
        ("Annotate boxes", "AnnotationWidget"),
        ("Compare dates", "CompareWidget"),
        ("Export", "ExportWidget"),
    ):
        _dock, widgets[title] = viewer.window.add_plugin_dock_widget("imagery-tool", title)
        assert type(widgets[title]).__name__ == cls_name
    assert widgets["Compare dates"].before_combo.count() == 2
    assert widgets["Annotate boxes"].store_edit.text().endswith("site.gpkg")
    # the manifest's menu contributions: Layers > Annotate / Visualize, File > IO Utilities
    found = set()

    def walk(menu, path):
        for action in menu.actions():
            if action.menu():
                walk(action.menu(), f"{path}/{action.text().replace('&', '')}")
            elif "(imagery-tool)" in action.text():
                found.add(f"{path} -> {action.text()}")

    for action in viewer.window._qt_window.menuBar().actions():
        if action.menu():
            walk(action.menu(), action.text().replace("&", ""))
    assert {
        "Layers/Annotate -> Annotate boxes (imagery-tool)",
        "Layers/Visualize -> Compare dates (imagery-tool)",
        "File/IO Utilities -> Export (imagery-tool)",
        "Plugins/imagery-tool -> Annotate boxes (imagery-tool)",
    } <= found


def test_napari_shows_a_tile_with_the_stretch_of_every_other_picture(tmp_path):
    from napari_imagery_tool._stack import TileStack
    from rasterio.windows import Window

    from imagery_tool.display import composite
    from imagery_tool.tile import open_tile

    pixels = (np.arange(3 * 64 * 64) % 1999).reshape(3, 64, 64).astype(np.uint16)
    tile = open_tile(write_raster(tmp_path / "ms.tif", pixels))
    viewed = TileStack([tile], ["t"]).read_rgb(0, Window(0, 0, 64, 64), (64, 64))
    np.testing.assert_array_equal(viewed, composite(tile)[..., :3])  # rounded alike


def test_napari_opens_the_data_asset_of_a_stac_item_as_series_does(site_folder, tmp_path):
    import pystac
    from napari_imagery_tool._reader import read_paths

    from imagery_tool.series.inputs import collect_inputs

    catalog = pystac.Catalog("site", "two dates, each with a small overview keyed 'visual'")
    overview = write_raster(tmp_path / "overview.tif", np.zeros((3, 16, 16), np.uint8))
    for path in sorted(site_folder.glob("*.tif")):
        when = datetime.fromisoformat(path.stem.split("_")[1]).replace(tzinfo=UTC)
        item = pystac.Item(path.stem, None, None, when, {})
        item.add_asset("visual", pystac.Asset(str(overview), roles=["overview"]))
        item.add_asset("analytic", pystac.Asset(str(path), roles=["data"]))
        item.add_asset("remote", pystac.Asset("https://example.com/x.tif", roles=["data"]))
        catalog.add_item(item)
    catalog.normalize_and_save(str(tmp_path / "stac"), pystac.CatalogType.ABSOLUTE_PUBLISHED)
    stac = tmp_path / "stac" / "catalog.json"
    (data, kwargs, _) = read_paths(str(stac))[0]
    napari_tiles = [t.path.name for t in kwargs["metadata"]["imagery_tool"].tiles]
    (site,) = collect_inputs(stac).sites
    assert (
        napari_tiles
        == [d.path.name for d in site.tiles]
        == sorted(p.name for p in site_folder.glob("*.tif"))
    )


def test_two_dates_of_one_day_are_in_time_order(tmp_path):
    from napari_imagery_tool._reader import read_stack

    from imagery_tool.tile import open_tile

    for name, time in (("a_2024-12-13.tif", "15:00:00"), ("b_2024-12-13.tif", "08:00:00")):
        write_raster(
            tmp_path / name,
            np.full((1, 32, 32), 100, np.uint8),
            tags={"ACQUISITIONDATETIME": f"2024-12-13T{time}Z"},
        )
    tiles = [open_tile(p) for p in sorted(tmp_path.glob("*.tif"))]
    (info,) = read_stack(tiles, register=False)
    assert [t.path.name for t in info.tiles] == ["b_2024-12-13.tif", "a_2024-12-13.tif"]


def test_napari_names_a_site_and_its_store_as_series_does(tmp_path):
    from napari_imagery_tool._reader import read_paths
    from napari_imagery_tool._widgets.annotation import default_store_path

    from imagery_tool.series.inputs import collect_inputs

    folder = tmp_path / "tiles"
    folder.mkdir()
    for date in ("2024-12-13", "2025-01-10"):
        dated_tile(folder, date).rename(folder / f"apron_west_{date}.tif")
    ((_, kwargs, _),) = read_paths(str(folder))
    (site,) = collect_inputs(folder).sites
    assert site.name == "apron_west"  # napari used to say "apron"
    assert kwargs["name"] == "apron_west (2 dates)"
    assert default_store_path(kwargs["metadata"]["imagery_tool"]) == folder / "apron_west.gpkg"


def test_the_manifest_offers_the_reader_for_georasters_and_folders_of_any_raster(tmp_path):
    import yaml

    from imagery_tool.sitestack import GEORASTER_SUFFIXES, RASTER_SUFFIXES

    manifest = yaml.safe_load(MANIFEST.read_text())
    (reader,) = manifest["contributions"]["readers"]
    assert reader["accepts_directories"] is True
    patterns = set(reader["filename_patterns"]) - {"*.json"}
    expected = {f"*{s}" for s in GEORASTER_SUFFIXES} | {f"*{s.upper()}" for s in GEORASTER_SUFFIXES}
    assert patterns == expected  # a lone PNG or JPEG is left to napari's own reader
    for suffix in RASTER_SUFFIXES:  # chosen explicitly, or in a folder, every raster is read
        assert get_reader(f"tile{suffix}") is not None
    folder = tmp_path / "pngs"
    folder.mkdir()
    (folder / "site_2024-12-06.png").write_bytes(b"")
    assert get_reader(str(folder)) is not None
