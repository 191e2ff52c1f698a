"""imagery-tool render: writes a PNG, same bytes every run, one-line errors and no partial file."""

import hashlib

import pytest

from imagery_tool.cli import main
from imagery_tool.render import text as text_mod
from tests.cli.helpers import assert_one_line_error, run_cli
from tests.core.render.conftest import boxes, changes_geojson, write_pair


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    from imagery_tool.annotations.formats import write_annotations
    from imagery_tool.annotations.store import TileRecord
    from imagery_tool.tile import open_tile

    folder = tmp_path_factory.mktemp("render_cli")
    before, after = write_pair(folder)
    ann = folder / "boxes.geojson"
    write_annotations(boxes(), ann, tiles=[TileRecord.from_tile(open_tile(after))])
    return before, after, ann, changes_geojson(folder / "changes.geojson")


def test_sheet_from_files_twice_gives_identical_bytes(inputs, tmp_path):
    before, after, ann, changes = inputs
    digests = []
    for name in ("a.png", "b.png"):
        out = tmp_path / name
        result = run_cli("render", after, "--before", before, "--annotations", ann,
                         "--changes", changes, "--site", "قاعدة حميميم", "--width", "900",
                         "-o", out)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "2 label(s)" in result.stdout or "label(s)" in result.stdout
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    from PIL import Image

    with Image.open(tmp_path / "a.png") as image:
        assert image.size[0] == 900 and image.mode == "RGB"
        assert not image.info  # no text chunks, no timestamp


def test_region_outside_the_tile_exits_2(inputs, tmp_path):
    _, after, _, _ = inputs
    out = tmp_path / "x.png"
    result = run_cli("render", after, "--bbox", "0,0,100,100", "-o", out)
    assert_one_line_error(result, "lies outside", "after.tif")
    assert not out.exists()


def test_annotations_of_another_tile_exit_2(inputs, tmp_path):
    _, after, _, _ = inputs
    from imagery_tool.annotations import BoxAnnotation
    from imagery_tool.annotations.formats import write_annotations
    from imagery_tool.annotations.store import TileRecord
    from imagery_tool.georef import GeoRef

    far = tmp_path / "far.json"  # COCO, pixel boxes of another image
    box = BoxAnnotation.from_xyxy(5000, 5000, 5050, 5050, label="Il-76", tile="elsewhere.tif")
    record = TileRecord.from_georef("elsewhere.tif", GeoRef(6000, 6000))
    write_annotations([box], far, tiles=[record])
    out = tmp_path / "x.png"
    result = run_cli("render", after, "--annotations", far, "-o", out)
    assert_one_line_error(result, "none of the 1 annotations lies on after.tif")
    assert not out.exists()


def test_unwritable_output_exits_2(inputs, tmp_path):
    _, after, _, _ = inputs
    result = run_cli("render", after, "-o", tmp_path / "no" / "such" / "folder.png")
    assert_one_line_error(result, "does not exist")
    result = run_cli("render", after, "-o", "/proc/imagery-tool.png")
    assert_one_line_error(result, "/proc", "is not writable")  # found before the drawing


def test_bad_options_exit_2(inputs, tmp_path):
    _, after, _, _ = inputs
    result = run_cli("render", after, "--center", "1,2", "-o", tmp_path / "x.png")
    assert result.returncode == 2 and "--size" in result.stderr
    result = run_cli("render", after, "--heat", "-o", tmp_path / "x.png")
    assert result.returncode == 2 and "--before" in result.stderr


def test_missing_font_exits_2(inputs, tmp_path, monkeypatch, capsys):
    _, after, _, _ = inputs
    monkeypatch.setitem(text_mod.FONT_FILES, "regular", "Missing.ttf")
    text_mod.load_font.cache_clear()
    out = tmp_path / "x.png"
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["render", str(after), "-o", str(out)])
    finally:
        text_mod.load_font.cache_clear()
    assert exit_info.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "bundled font is missing" in lines[0]
    assert not out.exists()


def test_centre_size_and_scale_set_the_frame(inputs, tmp_path):
    _, after, ann, _ = inputs
    from imagery_tool.tile import open_tile

    lon, lat = open_tile(after).georef.pixel_to_lonlat(200.0, 200.0)
    out = tmp_path / "zoom.png"
    result = run_cli("render", after, "--annotations", ann, "--center", f"{lon},{lat}",
                     "--lonlat", "--size", "100", "--scale", "0.25", "-o", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(out) as image:
        assert image.size[0] == 400  # 100 m at 0.25 m per pixel
