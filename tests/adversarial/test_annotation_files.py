"""Hostile foreign annotation files and paths against ``imagery-tool annotations`` and the readers.

Each case asserts the contract: exit 2 with one line naming the file, the element and the field
at fault, no traceback, nothing written or half-written, no temporary file left.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from imagery_tool.cli import main
from tests.cli.helpers import assert_one_line_error

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX rlimits")

MIB = 1024 * 1024


def _address_space(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _bounded_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the CLI with 1.5 GiB of address space and 60 s: a runaway loop fails, never hangs."""
    return subprocess.run(
        [sys.executable, "-m", "imagery_tool", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        preexec_fn=_address_space(1536 * MIB),
    )


def cli(capsys, *args: str) -> subprocess.CompletedProcess:
    """Run ``imagery-tool ARGS`` in this process (fast) and return exit code and output."""
    with pytest.raises(SystemExit) as end:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, end.value.code, out, err)


def coco(images=None, categories=None, annotations=None) -> dict:
    """A small valid COCO document with the given parts replaced."""
    return {
        "images": images
        if images is not None
        else [{"id": 1, "file_name": "t.png", "width": 100, "height": 100}],
        "categories": categories if categories is not None else [{"id": 1, "name": "An-124"}],
        "annotations": annotations
        if annotations is not None
        else [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 30]}],
    }


def write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc))
    return path


# -- 1. the warning re-emission loop -------------------------------------------------------------


def test_a_third_party_warning_is_shown_once_and_does_not_loop(tmp_path: Path) -> None:
    # _reported() used to re-emit foreign warnings inside its own recording block: each re-emitted
    # warning was appended to the list being iterated, growing memory ~100 MB/s forever.
    script = (
        "import warnings\n"
        "from imagery_tool.cli.annotations import _reported\n"
        "with _reported():\n"
        "    warnings.warn('overflow encountered', RuntimeWarning)\n"
        "print('done')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_address_space(1536 * MIB),
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip() == "done"
    assert result.stderr.count("overflow encountered") == 1


def test_huge_coco_segmentation_ends_in_a_clean_refusal_not_a_hang(tmp_path: Path) -> None:
    segmentation = [[0, 0, 1e300, 0, 1e300, 1e300, 0, 1e300]]
    doc = coco(annotations=[{"id": 1, "image_id": 1, "category_id": 1,
                             "segmentation": segmentation, "bbox": [0, 0, 1, 1]}])  # fmt: skip
    source = write_json(tmp_path / "big.json", doc)
    result = _bounded_cli("annotations", "convert", source, "out.csv", cwd=tmp_path)
    assert_one_line_error(result, "big.json", "annotations[0]", "segmentation")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json"]


# -- 2. huge coordinates are bounded -------------------------------------------------------------


def test_huge_geojson_pixel_corners_are_refused_with_file_feature_and_field(capsys, tmp_path):
    feature = _feature(corners_px=[[0, 0], [1e15, 0], [1e15, 1e15], [0, 1e15]])
    source = write_json(tmp_path / "big.geojson", {"type": "FeatureCollection",
                                                   "features": [feature]})  # fmt: skip
    result = cli(capsys, "annotations", "convert", source, tmp_path / "out.csv")
    assert_one_line_error(result, "big.geojson: feature 0", "corners_px", "1e+15")
    assert not (tmp_path / "out.csv").exists()


def test_huge_dota_coordinate_is_refused_with_file_line_and_field(capsys, tmp_path):
    source = tmp_path / "P0001.txt"
    source.write_text("imagesource:x\ngsd:0.5\n0 0 1e308 0 1e308 1e308 0 1e308 plane 0\n")
    result = cli(capsys, "annotations", "convert", source, tmp_path / "out.csv", "--from", "dota")
    assert_one_line_error(result, "P0001.txt:3", "coordinates", "1e+308 is outside")
    assert not (tmp_path / "out.csv").exists()


def test_huge_yolo_value_is_refused_after_scaling_to_pixels(capsys, tmp_path):
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "t.txt").write_text("0 0.5 0.5 5e6 0.1\n")
    (tmp_path / "classes.txt").write_text("An-124\n")
    tile = tmp_path / "t.png"
    from PIL import Image

    Image.new("L", (100, 80)).save(tile)
    result = cli(capsys, "annotations", "convert", tmp_path / "labels", tmp_path / "o.csv",
                 "--from", "yolo", "--tile", tile)  # fmt: skip
    assert_one_line_error(result, "t.txt:1", "coordinates (in pixels)")


# -- 3. every foreign file is checked against its format's layout --------------------------------

BOX = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 30]}


@pytest.mark.parametrize(
    ("doc", "fragments"),
    [
        (coco(categories=[{"id": 1}]), ["categories[0]", "name"]),
        (coco(categories=["An-124"]), ["categories[0]", "not an object"]),
        (coco(images=["t.png"]), ["images[0]", "not an object"]),
        (coco(images=[{"id": 1, "file_name": "t.png", "width": "abc", "height": 9}]),
         ["images[0]", "width", "'abc'"]),
        (coco(images=[{"id": [1], "file_name": "t.png"}]), ["images[0]", "id", "[1]"]),
        (coco(annotations=[{**BOX, "image_id": [1]}]), ["annotations[0]", "image_id"]),
        (coco(annotations=[{**BOX, "category_id": {"a": 1}}]), ["annotations[0]", "category_id"]),
        (coco(annotations=[{**BOX, "attributes": {"rotation": "left"}}]),
         ["annotations[0]", "attributes.rotation", "'left'"]),
        (coco(annotations=[{**BOX, "score": "high"}]), ["annotations[0]", "score", "'high'"]),
        (coco(annotations=[{**BOX, "attributes": [1, 2]}]), ["annotations[0]", "attributes"]),
        (coco(annotations=[{**BOX, "bbox": [1, 2, "3", 4]}]), ["annotations[0]", "bbox", "'3'"]),
        (coco(annotations=[{**BOX, "imagery_tool": {"author": ["a"]}}]),
         ["annotations[0]", "imagery_tool.author"]),
    ],
)  # fmt: skip
def test_malformed_coco_is_refused_with_file_element_and_field(capsys, tmp_path, doc, fragments):
    source = write_json(tmp_path / "in.json", doc)
    result = cli(capsys, "annotations", "convert", source, tmp_path / "out.csv")
    assert_one_line_error(result, "in.json", *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.json"]


def test_coco_width_of_1e400_is_refused(capsys, tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps(coco()).replace('"width": 100', '"width": 1e400'))
    result = cli(capsys, "annotations", "import", tmp_path / "s.gpkg", source)
    assert_one_line_error(result, "in.json: images[0]", "width", "not a finite number")
    assert not (tmp_path / "s.gpkg").exists()


def _feature(**props) -> dict:
    return {"type": "Feature", "geometry": props.pop("geometry", None),
            "properties": {"label": "An-124", "tile": "t.tif", **props}}  # fmt: skip


@pytest.mark.parametrize(
    ("feature", "fragments"),
    [
        (_feature(corners_px=[["a", "b"], [1, 0], [1, 1], [0, 1]]), ["corners_px", "'a'"]),
        (_feature(corners_px=[[0, 0], [1, 0, 5], [1, 1], [0, 1]]), ["corners_px", "point 1"]),
        (_feature(corners_px=[[0, 0], [1, 0], [1, 1]]), ["corners_px", "3 points"]),
        (_feature(geometry={"type": "Polygon", "coordinates": []}), ["empty polygon"]),
        (_feature(geometry={"type": "Polygon", "coordinates": [[]]}), ["no points"]),
        (_feature(geometry={"type": "Polygon",
                            "coordinates": [[["35.9", "35.4"], [1, 2], [3, 4], [5, 6]]]}),
         ["geometry.coordinates", "'35.9'"]),
        (_feature(tile=["a"], corners_px=[[0, 0], [1, 0], [1, 1], [0, 1]]), ["properties.tile"]),
        (_feature(score="high", corners_px=[[0, 0], [1, 0], [1, 1], [0, 1]]),
         ["properties.score"]),
    ],
)  # fmt: skip
def test_malformed_geojson_is_refused_with_file_feature_and_field(
    capsys, tmp_path, feature, fragments
):
    source = write_json(tmp_path / "in.geojson", {"type": "FeatureCollection",
                                                  "features": [feature]})  # fmt: skip
    result = cli(capsys, "annotations", "convert", source, tmp_path / "out.csv")
    assert_one_line_error(result, "in.geojson: feature 0", *fragments)
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("[" * 100_000 + "]" * 100_000, "nested too deeply"),
     ('{"annotations": [], "x": ' + "7" * 5000 + "}", "number too long")],
)  # fmt: skip
def test_json_too_deep_or_with_a_5000_digit_integer_is_refused(capsys, tmp_path, text, fragment):
    source = tmp_path / "in.json"
    source.write_text(text)
    result = cli(capsys, "annotations", "convert", source, tmp_path / "out.csv", "--from", "coco")
    assert_one_line_error(result, "in.json", fragment)


def test_voc_width_of_1e999_is_refused(capsys, tmp_path):
    source = tmp_path / "a.xml"
    source.write_text(
        "<annotation><filename>t.png</filename><size><width>1e999</width><height>9</height>"
        "</size><object><name>An-124</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>"
        "<ymax>5</ymax></bndbox></object></annotation>"
    )
    result = cli(capsys, "annotations", "convert", source, tmp_path / "out.csv")
    assert_one_line_error(result, "a.xml: size", "width", "'1e999'")


@pytest.mark.parametrize(
    ("name", "text", "fragments"),
    [("P1.txt", "gsd:abc\n0 0 1 0 1 1 0 1 plane\n", ["P1.txt:1", "gsd", "'abc'"]),
     ("P1.txt", "0 0 1 0 1 x 0 1 plane\n", ["P1.txt:1", "coordinates", "'x'"]),
     ("a.csv", 'image_id,geometry,class\nt.png,"[(0, 0), (1, 2, 3)]",A\n',
      ["a.csv:2", "geometry", "point 1"]),
     ("a.csv", 'image_id,geometry,class\nt.png,"[(0, 0), (1, 1e999), (2, 2)]",A\n',
      ["a.csv:2", "geometry", "inf"])],
)  # fmt: skip
def test_malformed_dota_and_csv_lines_name_file_line_and_field(
    capsys, tmp_path, name, text, fragments
):
    source = tmp_path / name
    source.write_text(text)
    fmt = "dota" if name.endswith(".txt") else "csv"
    result = cli(capsys, "annotations", "convert", source, tmp_path / "o.json", "--from", fmt)
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "o.json").exists()


def test_yolo_data_yaml_with_bad_class_ids_is_refused(capsys, tmp_path):
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "t.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "data.yaml").write_text("names: {zero: An-124}\n")
    result = cli(capsys, "annotations", "convert", tmp_path / "labels", tmp_path / "o.csv",
                 "--from", "yolo")  # fmt: skip
    assert_one_line_error(result, "data.yaml", "names", "'zero'")


# -- 4. negative sizes are reported, not flipped silently ----------------------------------------


def _warnings(result) -> list[str]:
    return [x for x in result.stderr.splitlines() if x.startswith("imagery-tool: warning:")]


def test_negative_coco_width_is_reported_with_file_and_element(capsys, tmp_path):
    boxes = [{**BOX, "id": 1, "bbox": [30, 10, -20, 30]}, {**BOX, "id": 2}]
    source = write_json(tmp_path / "in.json", coco(annotations=boxes))
    out = tmp_path / "out.csv"
    result = cli(capsys, "annotations", "convert", source, out)
    assert result.returncode == 0, result.stderr
    flipped = [x for x in _warnings(result) if "negative width or height" in x]
    assert len(flipped) == 1 and "in.json: annotations[0]" in flipped[0]
    assert "annotations[1]" not in flipped[0]
    assert "(10, 10), (30, 10), (30, 40), (10, 40)" in out.read_text()  # the box between edges


def test_negative_yolo_height_and_voc_min_above_max_are_reported(capsys, tmp_path):
    from PIL import Image

    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "t.txt").write_text("0 0.5 0.5 0.2 -0.2\n0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "classes.txt").write_text("An-124\n")
    Image.new("L", (100, 100)).save(tmp_path / "t.png")
    result = cli(capsys, "annotations", "convert", tmp_path / "labels", tmp_path / "a.csv",
                 "--from", "yolo", "--tile", tmp_path / "t.png")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [x for x in _warnings(result) if "negative width" in x and "t.txt:1" in x]
    voc = tmp_path / "v.xml"
    voc.write_text(
        "<annotation><filename>t.png</filename><object><name>An-124</name><bndbox><xmin>50</xmin>"
        "<ymin>1</ymin><xmax>10</xmax><ymax>5</ymax></bndbox></object></annotation>"
    )
    result = cli(capsys, "annotations", "convert", voc, tmp_path / "b.csv")
    assert result.returncode == 0, result.stderr
    assert [x for x in _warnings(result) if "min > max" in x and "v.xml: object 1" in x]


# -- 5. images of one name in two folders stay apart ---------------------------------------------


def test_coco_images_of_one_name_in_two_folders_are_kept_apart(capsys, tmp_path):
    images = [{"id": 1, "file_name": "train/0001.png", "width": 100, "height": 100},
              {"id": 2, "file_name": "val/0001.png", "width": 100, "height": 100}]  # fmt: skip
    boxes = [{**BOX, "id": 1, "image_id": 1}, {**BOX, "id": 2, "image_id": 2}]
    source = write_json(tmp_path / "in.json", coco(images=images, annotations=boxes))
    store = tmp_path / "s.gpkg"
    result = cli(capsys, "annotations", "import", store, source)
    assert result.returncode == 0, result.stderr
    shared = [x for x in _warnings(result) if "share the file name 0001.png" in x]
    assert len(shared) == 1 and "train_0001.png" in shared[0] and "val_0001.png" in shared[0]
    from imagery_tool.annotations.store import open_store

    with open_store(store, readonly=True) as s:
        assert sorted(a.tile for a in s.annotations()) == ["train_0001.png", "val_0001.png"]


# -- 6. paths in foreign files are reduced to base names, never exported ------------------------


def test_a_path_as_tile_name_is_reduced_and_never_reaches_an_export(capsys, tmp_path):
    feature = _feature(tile="../../../etc/x.tif", corners_px=[[0, 0], [9, 0], [9, 9], [0, 9]])
    source = write_json(tmp_path / "in.geojson", {"type": "FeatureCollection",
                                                  "features": [feature]})  # fmt: skip
    result = cli(capsys, "annotations", "convert", source, tmp_path / "out.csv")
    assert result.returncode == 0, result.stderr
    assert "x.tif" in (tmp_path / "out.csv").read_text()
    assert ".." not in (tmp_path / "out.csv").read_text()
    csv = tmp_path / "in.csv"
    ring = "[(0, 0), (5, 0), (5, 5), (0, 5)]"
    csv.write_text(f'image_id,geometry,class\n"..\\..\\y.png","{ring}",A\n')
    result = cli(capsys, "annotations", "convert", csv, tmp_path / "dota", "--to", "dota")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "dota").iterdir()) == ["y.txt"]


@pytest.mark.parametrize("name", ["../../..", "..", "  ", "a/.."])
def test_a_tile_name_that_is_no_file_name_is_refused_with_file_and_element(capsys, tmp_path, name):
    images = [{"id": 1, "file_name": name, "width": 100, "height": 100}]
    source = write_json(tmp_path / "in.json", coco(images=images))
    result = cli(capsys, "annotations", "convert", source, tmp_path / "out.csv")
    if not name.strip():  # an empty name is COCO's "no name": the image is named by its id
        assert result.returncode == 0 and "image_1" in (tmp_path / "out.csv").read_text()
        return
    assert_one_line_error(result, "in.json: images[0]: file_name", "not a file name")
    assert not (tmp_path / "out.csv").exists()


def test_geojson_tile_dotdot_is_refused_with_file_and_feature(capsys, tmp_path):
    source = write_json(tmp_path / "in.geojson", {"type": "FeatureCollection", "features": [
        _feature(tile="..", corners_px=[[0, 0], [9, 0], [9, 9], [0, 9]])]})  # fmt: skip
    result = cli(capsys, "annotations", "convert", source, tmp_path / "out.csv")
    assert_one_line_error(result, "in.geojson: feature 0: properties.tile", "not a file name")


# -- 7. one file per tile: same stems and long names ----------------------------------------------

RING = '"[(0, 0), (5, 0), (5, 5), (0, 5)]"'


def _csv(path: Path, *images: str) -> Path:
    path.write_text("image_id,geometry,class\n" + "".join(f"{i},{RING},An-124\n" for i in images))
    return path


@pytest.mark.parametrize(("fmt", "suffix"), [("dota", ".txt"), ("voc", ".xml")])
def test_tiles_of_one_stem_are_written_apart_and_the_count_is_true(capsys, tmp_path, fmt, suffix):
    source = _csv(tmp_path / "in.csv", "P0001.tif", "P0001.png")
    out = tmp_path / "out"
    result = cli(capsys, "annotations", "convert", source, out, "--to", fmt)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("2 box(es) written to 2 file(s)")
    assert sorted(p.name for p in out.iterdir()) == [f"P0001.png{suffix}", f"P0001.tif{suffix}"]
    assert [x for x in _warnings(result) if "share a file stem" in x]
    back = cli(capsys, "annotations", "convert", out, tmp_path / "back.csv", "--from", fmt)
    assert back.returncode == 0, back.stderr
    rows = (tmp_path / "back.csv").read_text().splitlines()[1:]
    assert sorted(r.split(",")[1] for r in rows) == ["P0001.png", "P0001.tif"]


def test_yolo_tiles_of_one_stem_get_separate_label_files_that_read_back(capsys, tmp_path):
    from imagery_tool.annotations.formats import read_annotations, write_annotations
    from imagery_tool.annotations.model import BoxAnnotation
    from imagery_tool.annotations.store import TileRecord

    boxes = [BoxAnnotation.from_xyxy(0, 0, 5, 5, label="An-124", tile=t)
             for t in ("P0001.tif", "P0001.png", "classes.png")]  # fmt: skip
    tiles = [TileRecord(n, 10, 10) for n in ("P0001.tif", "P0001.png", "classes.png")]
    with pytest.warns(UserWarning, match="cannot carry"):
        result = write_annotations(boxes, tmp_path / "y", format="yolo", tiles=tiles)
    labels = sorted(p.name for p in (tmp_path / "y" / "labels").iterdir())
    assert labels == ["P0001.png.txt", "P0001.tif.txt", "classes.png.txt"]  # classes.txt: names
    assert any("share a file stem" in x for x in result.issues)
    back = read_annotations(tmp_path / "y", format="yolo", tiles=tiles)
    assert sorted(a.tile for a in back.annotations) == ["P0001.png", "P0001.tif", "classes.png"]


def test_a_300_character_tile_name_gets_a_short_stable_file_name(capsys, tmp_path):
    name = "x" * 300 + ".tif"
    source = _csv(tmp_path / "in.csv", name)
    out = tmp_path / "dota"
    result = cli(capsys, "annotations", "convert", source, out, "--to", "dota")
    assert result.returncode == 0, result.stderr
    [written] = list(out.iterdir())
    assert len(written.name.encode()) <= 200 and written.name.endswith(".txt")
    assert [x for x in _warnings(result) if "304 characters is too long" in x]
    again = cli(capsys, "annotations", "convert", source, tmp_path / "dota2", "--to", "dota")
    assert again.returncode == 0
    assert [p.name for p in (tmp_path / "dota2").iterdir()] == [written.name]  # stable


# -- 8. paths: folders for files, files for folders, unwritable and full outputs -----------------


@pytest.mark.parametrize("fmt", ["coco", "geojson", "csv"])
def test_a_folder_given_to_a_one_file_format_is_refused(capsys, tmp_path, fmt):
    (tmp_path / "in").mkdir()
    result = cli(capsys, "annotations", "convert", tmp_path / "in", tmp_path / "o.csv",
                 "--from", fmt)  # fmt: skip
    assert_one_line_error(result, "in: is a folder", "read from a file")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("fmt", ["dota", "voc", "yolo"])
def test_a_folder_without_label_files_is_refused_not_read_as_empty(capsys, tmp_path, fmt):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.md").write_text("hello")
    result = cli(capsys, "annotations", "convert", tmp_path / "in", tmp_path / "o.csv",
                 "--from", fmt)  # fmt: skip
    assert_one_line_error(result, "in: no *.", "label file")
    assert not (tmp_path / "o.csv").exists()


def test_outputs_of_the_wrong_kind_are_refused(capsys, tmp_path):
    source = _csv(tmp_path / "in.csv", "t.png")
    (tmp_path / "x.csv").mkdir()
    result = cli(capsys, "annotations", "convert", source, tmp_path / "x.csv")
    assert_one_line_error(result, "x.csv: is a folder", "written to a file")
    (tmp_path / "dota").write_text("a file")
    result = cli(capsys, "annotations", "convert", source, tmp_path / "dota", "--to", "dota")
    assert_one_line_error(result, "dota: is a file", "written to a folder")
    assert (tmp_path / "dota").read_text() == "a file"
    result = cli(capsys, "annotations", "convert", source, tmp_path / "in.csv" / "sub" / "o.csv")
    assert_one_line_error(result, "cannot write", "o.csv")


def test_a_pipe_as_input_is_refused_not_read_forever(capsys, tmp_path):
    import os

    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    result = cli(capsys, "annotations", "convert", fifo, tmp_path / "o.json")
    assert_one_line_error(result, "in.csv: not a regular file")


def test_an_unwritable_output_folder_is_a_one_line_refusal(capsys, tmp_path, monkeypatch):
    # Tests run as root here, which ignores permissions: make the system refuse as it would.
    import errno
    import tempfile

    def refuse(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", dir)

    source = _csv(tmp_path / "in.csv", "a.png", "b.png")
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    result = cli(capsys, "annotations", "convert", source, tmp_path / "out", "--to", "dota")
    assert_one_line_error(result, "cannot write", "a.txt", "Permission denied")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def _file_size_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize(("out", "fmt"), [("out.csv", "csv"), ("dota", "dota")])
def test_a_full_disk_during_an_export_leaves_nothing_half_written(tmp_path, out, fmt):
    # 400 boxes: ~18 kB of CSV, or one ~12 kB DOTA file next to a small one; limit 5 kB.
    # A DOTA folder from an earlier run must keep its file.
    images = [f"t{i % 40}.png" for i in range(400)] if fmt == "csv" else ["big.png"] * 400
    _csv(tmp_path / "in.csv", *images, "small.png")
    (tmp_path / "dota").mkdir()
    (tmp_path / "dota" / "small.txt").write_text("previous run")
    result = subprocess.run(
        [sys.executable, "-m", "imagery_tool", "annotations", "convert", "in.csv", out,
         "--to", fmt],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
        preexec_fn=_file_size_limit(5_000),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    error = [x for x in result.stderr.splitlines() if "warning" not in x]
    assert len(error) == 1 and "no space left on the device or file too large" in error[0]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dota", "in.csv"]
    assert [p.name for p in (tmp_path / "dota").iterdir()] == ["small.txt"]
    assert (tmp_path / "dota" / "small.txt").read_text() == "previous run"


# -- 9. the error names the file at fault, and real ways to fix it -------------------------------


def test_duplicate_ids_in_a_file_are_blamed_on_the_file_not_the_store(capsys, tmp_path):
    box = [[0, 0], [9, 0], [9, 9], [0, 9]]
    features = [{**_feature(corners_px=box), "id": "b1"}, {**_feature(corners_px=box), "id": "b1"}]
    source = write_json(tmp_path / "in.geojson", {"type": "FeatureCollection",
                                                  "features": features})  # fmt: skip
    store = tmp_path / "s.gpkg"
    result = cli(capsys, "annotations", "import", store, source)
    assert_one_line_error(result, "in.geojson: feature 1: id", "'b1'", "feature 0")
    assert "s.gpkg" not in result.stderr and "use update" not in result.stderr
    assert not store.exists()  # refused before the store was created


def test_an_empty_id_is_refused_with_file_and_element(capsys, tmp_path):
    boxes = [{**BOX, "imagery_tool": {"id": " "}}]
    source = write_json(tmp_path / "in.json", coco(annotations=boxes))
    result = cli(capsys, "annotations", "convert", source, tmp_path / "o.csv")
    assert_one_line_error(result, "in.json: annotations[0]: id", "empty id")


def test_a_schema_nested_too_deeply_is_refused_with_its_name(capsys, tmp_path):
    schema = tmp_path / "deep.yaml"
    schema.write_text("[" * 1_000 + "]" * 1_000)
    result = cli(capsys, "annotations", "convert", _csv(tmp_path / "in.csv", "t.png"),
                 tmp_path / "o.json", "--schema", schema)  # fmt: skip
    assert_one_line_error(result, "deep.yaml", "nested too deeply")


def test_a_path_held_by_a_store_never_reaches_an_exported_file(capsys, tmp_path):
    from imagery_tool.annotations.model import BoxAnnotation
    from imagery_tool.annotations.store import open_store

    store = tmp_path / "s.gpkg"
    with open_store(store, author="ann") as s:  # an older version stored paths as tile names
        s.add(BoxAnnotation.from_xyxy(0, 0, 5, 5, label="An-124", tile="../../secret/x.tif"))
    for out, fmt in [("a.csv", "csv"), ("a.json", "coco"), ("voc", "voc"), ("dota", "dota")]:
        result = cli(capsys, "annotations", "export", store, tmp_path / out, "--to", fmt)
        assert result.returncode == 0, result.stderr
        target = tmp_path / out
        texts = (
            [p.read_text() for p in target.iterdir()] if target.is_dir() else [target.read_text()]
        )
        assert all("secret" not in t and ".." not in t for t in texts), texts
        assert any("x.tif" in t for t in texts) or fmt == "dota"
