"""Files from other tools import (DOTA devkit, CVAT COCO, Airbus CSV, labelImg VOC); bad input fails
with the file and line; entity bombs are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imagery_tool.annotations.formats import detect_format, read_annotations
from imagery_tool.errors import AnnotationFormatError

DATA = Path(__file__).parents[2] / "data" / "annotations"


def test_dota_devkit_label_folder():
    assert detect_format(DATA / "dota") == "dota"
    result = read_annotations(DATA / "dota")
    boxes = result.annotations
    assert [b.label for b in boxes] == [
        "unknown fixed-wing", "unknown vehicle", "unknown vehicle", "unknown helicopter",
        "unknown fixed-wing",
    ]  # fmt: skip  # DOTA's plane/...-vehicle/helicopter are aliases in the default schema
    np.testing.assert_array_equal(boxes[0].xy, [[2753, 2408], [2861, 2385], [2888, 2468],
                                                [2805, 2502]])  # fmt: skip
    assert boxes[0].tile == "P0042"
    assert result.gsd == {"P0042": pytest.approx(0.146343590398)}
    assert boxes[2].attributes == {"confidence": "low"}  # difficult 1
    assert result.issues == []


def test_cvat_coco_export():
    result = read_annotations(DATA / "coco_cvat.json", class_map={"Airplane": "unknown fixed-wing"})
    boxes = result.annotations
    assert [b.label for b in boxes] == [
        "unknown fixed-wing", "unknown fixed-wing", "unknown helicopter", "fuel truck",
    ]  # fmt: skip
    assert boxes[0].bounds == (412.0, 300.5, 503.0, 410.5)
    assert boxes[0].attributes == {"nose_open": True}
    # CVAT's rotation: 30 degrees clockwise about the centre of the unrotated bbox
    assert boxes[1].angle_deg == pytest.approx(30)
    assert boxes[1].center == pytest.approx((740, 440))
    assert (boxes[1].length_px, boxes[1].width_px) == pytest.approx((120, 80))
    # a 5-point polygon becomes its minimum-area rectangle, and says so
    assert any("annotations[2]: polygon with 5 points" in i for i in result.issues)
    assert boxes[2].attributes == {"occluded": True}
    # the ../../etc path is reduced to a file name
    assert boxes[3].tile == "hmeimim_2024-12-14.png"
    assert set(result.tiles) == {"hmeimim_2024-12-13.png", "hmeimim_2024-12-14.png"}
    # reported, not clipped, not dropped
    assert boxes[3].bounds == (1275.0, 10.0, 1295.0, 15.0)
    assert any("reaches outside" in i and "kept unclipped" in i for i in result.issues)
    assert any("'tank_empty'" in i for i in result.issues)
    assert boxes[3].attributes == {"tank_empty": True}


def test_unknown_foreign_classes_are_reported_and_kept(tmp_path):
    path = tmp_path / "coco.json"
    path.write_text((DATA / "coco_cvat.json").read_text().replace('"Airplane"', '"B-52"'))
    result = read_annotations(path)
    assert [b.label for b in result.annotations][:2] == ["B-52", "B-52"]
    assert any("class 'B-52' (2 boxes)" in i and "`class_map`" in i for i in result.issues)
    # without --map, CVAT's "Airplane" is an alias of "unknown fixed-wing" in the schema
    assert read_annotations(DATA / "coco_cvat.json").annotations[0].label == "unknown fixed-wing"


def test_airbus_csv_of_pixel_polygons():
    result = read_annotations(
        DATA / "airbus_annotations.csv",
        class_map={"Aircraft": "unknown fixed-wing", "Truncated_Aircraft": "unknown fixed-wing"},
    )
    boxes = result.annotations
    assert len(boxes) == 4 and {b.label for b in boxes} == {"unknown fixed-wing"}
    assert boxes[0].bounds == (135.0, 522.0, 245.0, 600.0)
    assert boxes[0].tile == "4f833867-273e-4d73-8bc3-cb2d9ceb54ef.jpg"
    assert result.issues == []


def test_labelimg_voc():
    result = read_annotations(DATA / "voc")
    boxes = result.annotations
    assert [b.label for b in boxes] == ["Su-24", "unknown fixed-wing"]
    assert boxes[0].bounds == (104.0, 78.0, 150.0, 114.0)  # 1-based -> 0-based edges
    assert boxes[1].attributes == {"confidence": "low"}
    assert result.tiles["hmeimim_0001.jpg"].width == 800


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<annotation><filename>&lol9;</filename></annotation>
"""


def test_xml_entity_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.xml"
    path.write_text(BILLION_LAUGHS)
    with pytest.raises(AnnotationFormatError, match=r"bomb\.xml.*entity-expansion"):
        read_annotations(path)


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("bad.json", '{"annotations": [\n {"id": 1,\n  "bbox": [1, 2, 3 4]}]}', r"bad\.json:3: malformed JSON"),  # noqa: E501
        ("bad.geojson", '{"type": "FeatureCollection",\n\n "features": [}', r"bad\.geojson:3: malformed"),  # noqa: E501
        ("bad.xml", "<annotation>\n<object>\n</annotation>", r"bad\.xml:3: malformed XML"),
        ("bad.csv", 'id,image_id,geometry,class\n1,a.jpg,"[(1, 2), (3, 2), (3, 4), (1, 4)]",Aircraft\n2,a.jpg,"[(1, 2), (3, x)]",Aircraft\n', r"bad\.csv:3: geometry"),  # noqa: E501
        ("short.csv", "id,image_id,class\n1,a.jpg,x\n", r"short\.csv:1: missing column"),
        ("bad.txt", "imagesource:x\ngsd:0.5\n1 2 9 2 9 8 1 8 plane 0\n1 2 3 plane\n", r"bad\.txt:4: expected"),  # noqa: E501
    ],
)  # fmt: skip
def test_malformed_files_name_the_file_and_line(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(AnnotationFormatError, match=match):
        fmt = "dota" if name.endswith(".txt") else None
        read_annotations(path, format=fmt)


def test_csv_with_a_two_point_polygon_is_refused(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text('id,image_id,geometry,class\n1,a.jpg,"[(1, 2), (3, 4)]",Aircraft\n')
    with pytest.raises(AnnotationFormatError, match=r"two\.csv:2: a polygon needs"):
        read_annotations(path)


def test_yolo_folder_with_classes_and_images(tmp_path, tile_path):
    (tmp_path / "labels").mkdir()
    (tmp_path / "images").mkdir()
    tile_path.rename(tmp_path / "images" / tile_path.name)
    (tmp_path / "classes.txt").write_text("An-124\nSu-24\n")
    stem = tile_path.stem
    (tmp_path / "labels" / f"{stem}.txt").write_text(
        "0 0.5 0.5 0.25 0.5\n1 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n"
    )
    result = read_annotations(tmp_path)
    a, b = result.annotations
    assert a.label == "An-124" and a.bounds == (150.0, 100.0, 250.0, 300.0)
    assert a.acquired == "2024-12-13T08:21:00Z"  # from the image found beside the labels
    assert b.label == "Su-24" and b.bounds == pytest.approx((40.0, 40.0, 80.0, 80.0))


def test_one_tile_for_a_file_about_several_images_is_refused(tile_record):
    with pytest.raises(AnnotationFormatError, match="several images"):
        read_annotations(DATA / "airbus_annotations.csv", tiles=[tile_record])
    # matched by stem, the tile takes its image; the other image keeps its own size
    result = read_annotations(DATA / "coco_cvat.json", tiles=[tile_record])
    assert {b.tile for b in result.annotations} == {tile_record.name, "hmeimim_2024-12-14.png"}
    assert any("1280 x 1024 px in the file but tile" in i for i in result.issues)


def test_image_size_differing_from_the_tile_is_reported(tile_record, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text(
        'id,image_id,geometry,class\n1,x.jpg,"[(1, 2), (9, 2), (9, 8), (1, 8)]",Su-24\n'
    )
    result = read_annotations(path, tiles=[tile_record])  # a single image: maps to the tile
    assert result.annotations[0].tile == tile_record.name
    coco = tmp_path / "one.json"
    coco.write_text(
        '{"images": [{"id": 1, "file_name": "hmeimim_2024-12-13.tif", '
        '"width": 800, "height": 800}],'
        ' "categories": [{"id": 1, "name": "Su-24"}], "annotations": ['
        '{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 8, 6]},'
        '{"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 2, 8, 6]}]}'
    )
    issues = read_annotations(coco, tiles=[tile_record]).issues
    assert len(issues) == 1 and "800 x 800 px in the file but tile" in issues[0]
