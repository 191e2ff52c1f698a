"""``imagery-tool annotations``: convert, import/export, list, check, history, undo; exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.store import open_store
from imagery_tool.cli import cli
from imagery_tool.errors import NotGeoreferencedError
from tests.cli.helpers import assert_one_line_error, run_cli
from tests.core.annotations.conftest import TILE_NAME, an124_boxes, make_georef

DATA = Path(__file__).parents[1] / "data" / "annotations"


@pytest.fixture
def runner():
    return (
        CliRunner(mix_stderr=False)
        if "mix_stderr" in CliRunner.__init__.__code__.co_varnames
        else CliRunner()
    )


@pytest.fixture
def tile(tmp_path):
    import numpy as np
    import rasterio

    g = make_georef()
    path = tmp_path / TILE_NAME
    with rasterio.open(path, "w", driver="GTiff", width=g.width, height=g.height, count=1,
                       dtype="uint8", crs=g.crs, transform=g.transform) as ds:  # fmt: skip
        ds.write(np.zeros((1, g.height, g.width), dtype=np.uint8))
        ds.update_tags(TIFFTAG_DATETIME="2024:12:13 08:21:00")
    return path


@pytest.fixture
def store_path(tmp_path, tile):
    from imagery_tool.annotations.store import TileRecord
    from imagery_tool.tile import open_tile

    path = tmp_path / "project.gpkg"
    with open_store(path, project="hmeimim", author="ann") as s:
        s.add_tile(TileRecord.from_tile(open_tile(tile)))
        s.add_many(an124_boxes())
    return path


def invoke(runner, *args):
    return runner.invoke(cli, ["annotations", *map(str, args)], catch_exceptions=False)


def test_export_every_format_and_import_back(runner, tmp_path, store_path, tile):
    for name, target in [("geojson", "a.geojson"), ("coco", "a.json"), ("dota", "dota"),
                         ("yolo-obb", "obb"), ("voc", "voc"), ("csv", "a.csv")]:  # fmt: skip
        out = tmp_path / target
        result = invoke(runner, "export", store_path, out, "--to", name)
        assert result.exit_code == 0, result.output
        assert "4 box(es) written" in result.stdout
        lossy = [x for x in result.stderr.splitlines() if "cannot carry" in x]
        assert len(lossy) == (0 if name in ("geojson", "coco") else 1)  # once, one line
        again = tmp_path / f"{name}.gpkg"
        result = invoke(runner, "import", again, out, "--from", name, "--tile", tile)
        assert result.exit_code == 0, result.output
        with open_store(again) as s:
            labels = sorted(a.label for a in s.annotations())
            assert labels == ["An-124", "An-124", "An-124", "Su-24"]


def test_convert_between_files_with_class_map(runner, tmp_path):
    out = tmp_path / "out.geojson"
    result = invoke(runner, "convert", DATA / "airbus_annotations.csv", tmp_path / "a.json",
                    "--map", "Aircraft=unknown fixed-wing",
                    "--map", "Truncated_Aircraft=unknown fixed-wing")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "a.json").read_text())
    assert {c["name"] for c in doc["categories"]} >= {"unknown fixed-wing"}
    assert {a["category_id"] for a in doc["annotations"]} == {
        next(c["id"] for c in doc["categories"] if c["name"] == "unknown fixed-wing")
    }
    result = runner.invoke(cli, ["annotations", "convert", str(DATA / "airbus_annotations.csv"),
                                 str(out)])  # fmt: skip
    assert isinstance(result.exception, NotGeoreferencedError)  # main() turns it into exit 2
    assert "GeoJSON needs lon/lat" in str(result.exception) and not out.exists()


def test_convert_store_to_dota_and_dota_to_store(runner, tmp_path, store_path):
    result = invoke(runner, "convert", store_path, tmp_path / "dota", "--to", "dota")
    assert result.exit_code == 0
    assert (
        (tmp_path / "dota" / "hmeimim_2024-12-13.txt")
        .read_text()
        .startswith("imagesource:imagery-tool\ngsd:0.5\n")
    )
    result = invoke(runner, "convert", tmp_path / "dota", tmp_path / "back.gpkg")
    assert "4 box(es) added" in result.stdout


def test_list_and_history(runner, store_path):
    result = invoke(runner, "list", store_path)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{store_path}: project 'hmeimim', 4 box(es) on 1 tile(s)")
    assert "An-124" in lines[1] and "70.0 x  74.0 m" in lines[1] and "nose_open=true" in lines[1]
    assert "accepted by bob" in lines[1]
    boxes = json.loads(invoke(runner, "list", store_path, "--json").stdout)
    assert len(boxes) == 4 and boxes[0]["attributes"]["nose_open"] is True
    result = invoke(runner, "history", store_path)
    assert result.stdout.count(" ann  add ") == 4


def test_undo_and_redo(runner, store_path):
    result = invoke(runner, "undo", store_path, "--author", "ann")
    assert "undo of 4 edit(s)" in result.stdout
    with open_store(store_path) as s:
        assert len(s) == 0
    result = invoke(runner, "redo", store_path, "--author", "ann")
    assert "redo of 4 edit(s)" in result.stdout
    assert "nothing to redo" in invoke(runner, "redo", store_path, "--author", "ann").stdout


def test_check_reports_sizes_and_warns_on_a_25_m_an124(runner, store_path):
    with open_store(store_path, author="ann") as s:
        s.add(BoxAnnotation.from_center(100, 100, 50, 48, 30, label="An-124", tile=TILE_NAME))
    result = invoke(runner, "check", store_path)
    assert "nose_open" not in result.stderr  # Su-24 has engines_covered only: no schema issue
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert "An-124" in lines[0] and "70.0 m x  74.0 m" in lines[0] and "fits" in lines[0]
    assert "best: An-124" in lines[0]
    assert "25.0 m x  24.0 m  MISFIT" in lines[4]
    warnings = [x for x in result.stderr.splitlines() if "warning" in x]
    assert len(warnings) == 1 and "'An-124' is 25.0 m x 24.0 m" in warnings[0]
    assert "cannot fit" in warnings[0]
    reports = json.loads(invoke(runner, "check", store_path, "--json").stdout)
    assert [r["label_fits"] for r in reports] == [True, True, True, True, False]


def test_check_reports_schema_issues(runner, store_path):
    with open_store(store_path, author="ann") as s:
        attributes = {"nose_open": True, "colour": "grey"}
        s.add(BoxAnnotation.from_xyxy(0, 0, 40, 40, label="Su-24", tile=TILE_NAME,
                                      attributes=attributes))  # fmt: skip
    lines = invoke(runner, "check", store_path).stderr.splitlines()
    assert any("'nose_open' does not apply to class 'Su-24'" in x for x in lines)
    assert any("attribute 'colour' is not in the label schema" in x for x in lines)


def test_check_a_dota_file_uses_its_gsd_header(runner):
    result = invoke(runner, "check", DATA / "dota")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 5


def test_check_a_file_with_gsd_option(runner):
    result = invoke(runner, "check", DATA / "voc", "--gsd", "0.5")
    assert "Su-24" in result.stdout and "18.0 m x  23.0 m  fits    best: Su-24" in result.stdout


def test_bad_map_option_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(
        cli,
        ["annotations", "convert", str(DATA / "voc"), str(tmp_path / "x.csv"), "--map", "nothing"],
    )  # noqa: E501
    assert result.exit_code == 2 and "--map" in result.stderr


# -- real processes: exit codes and one-line errors --------------------------------------------


def test_malformed_json_exits_2_naming_file_and_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"annotations": [\n {"id": 1,,\n}]}')
    result = run_cli("annotations", "convert", bad, tmp_path / "out.csv")
    assert_one_line_error(result, "bad.json:2: malformed JSON")
    assert not (tmp_path / "out.csv").exists()


def test_entity_bomb_exits_2(tmp_path):
    from tests.core.annotations.test_foreign_files import BILLION_LAUGHS

    bomb = tmp_path / "bomb.xml"
    bomb.write_text(BILLION_LAUGHS)
    result = run_cli("annotations", "convert", bomb, tmp_path / "out.csv")
    assert_one_line_error(result, "bomb.xml", "entity-expansion")


def test_newer_store_exits_2(tmp_path):
    import sqlite3

    path = tmp_path / "new.gpkg"
    open_store(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE store_meta SET value = '99' WHERE key = 'format_version'")
    con.commit()
    con.close()
    result = run_cli("annotations", "list", path)
    assert_one_line_error(result, "new.gpkg", "newer imagery-tool", "upgrade")


def test_lossy_export_prints_one_warning_line(tmp_path, store_path):
    result = run_cli("annotations", "export", store_path, tmp_path / "voc", "--to", "voc")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("imagery-tool: warning: Pascal VOC cannot carry rotation (4 boxes)")


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("bad.xml", "<annotation>\n<object>\n</annotation>", "bad.xml:3: malformed XML"),
        ("bad.csv", 'id,image_id,geometry,class\n1,a.jpg,"[(1, x)]",Aircraft\n', "bad.csv:2:"),
    ],
)
def test_malformed_xml_and_csv_exit_2(tmp_path, name, text, fragment):
    path = tmp_path / name
    path.write_text(text)
    assert_one_line_error(run_cli("annotations", "convert", path, tmp_path / "o.json"), fragment)


def test_foreign_paths_never_leave_the_output_folder(runner, tmp_path):
    out = tmp_path / "a" / "b" / "dota"
    result = invoke(runner, "convert", DATA / "coco_cvat.json", out, "--to", "dota")
    assert result.exit_code == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.txt"))
    assert written == ["a/b/dota/hmeimim_2024-12-13.txt", "a/b/dota/hmeimim_2024-12-14.txt"]
    assert "reaches outside" in result.stderr  # the fuel truck past the image edge


def test_import_into_a_new_store_gives_it_the_columns_of_the_schema(runner, tmp_path, store_path):
    import sqlite3

    exported = tmp_path / "a.geojson"
    assert invoke(runner, "export", store_path, exported).exit_code == 0
    schema = tmp_path / "schema.yaml"
    schema.write_text(
        "classes: [{name: An-124, group: fixed-wing}, {name: Su-24, group: fixed-wing}]\n"
        "attributes:\n  nose_open: {type: bool}\n"
        "  fuel_state: {type: enum, values: [empty, full]}\n"
    )
    new = tmp_path / "new.gpkg"
    result = invoke(runner, "import", new, exported, "--schema", schema)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(new) as con:
        columns = [r[1] for r in con.execute('PRAGMA table_info("annotations")')]
        opened = con.execute("SELECT count(*) FROM annotations WHERE nose_open = 1").fetchone()
    assert "fuel_state" in columns and "engines_covered" not in columns
    assert opened[0] == sum(bool(b.attributes.get("nose_open")) for b in an124_boxes())
