"""Every format round-trips a store of rotated An-124 boxes; each format's conventions hold."""

from __future__ import annotations

import json
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools.coco import COCO

from imagery_tool.annotations.formats import (
    FORMATS,
    detect_format,
    read_annotations,
    write_annotations,
)
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.store import TileRecord, open_store
from imagery_tool.errors import DataLossWarning, NotGeoreferencedError

from .conftest import TILE_NAME


def _out(tmp_path, name):
    spec = FORMATS[name]
    return tmp_path / (f"out{spec.suffix}" if spec.output == "file" else f"out_{name}")


def _export(store, out, name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = write_annotations(store.annotations(), out, format=name, tiles=store.tiles())
    return result, [w for w in caught if issubclass(w.category, DataLossWarning)]


@pytest.mark.parametrize("name", list(FORMATS))
def test_store_round_trips_through_every_format(tmp_path, store, name):
    spec = FORMATS[name]
    original = store.annotations()
    assert sum(a.label == "An-124" and a.attributes["nose_open"] for a in original) == 3
    out = _out(tmp_path, name)
    result, lost = _export(store, out, name)
    assert all(p.exists() for p in result.paths)
    # what cannot be carried is warned once, in one line
    assert len(lost) == (0 if name in ("geojson", "coco") else 1)
    if lost:
        message = str(lost[0].message)
        assert "\n" not in message and "attributes" in message
        assert ("rotation" in message) == ("rotation" not in spec.carries)

    back = read_annotations(out, format=name, tiles=store.tiles())
    assert back.issues == []
    assert len(back.annotations) == len(original)
    with open_store(tmp_path / "back.gpkg", project="hmeimim") as again:
        for record in back.tiles.values():
            again.add_tile(record)
        again.add_many(back.annotations)
        restored = again.annotations()
    for a, b in zip(original, restored, strict=True):
        assert b.label == a.label and b.tile == TILE_NAME
        if "rotation" in spec.carries:
            # same corners in the same order: the head (nose) edge survives
            assert np.abs(a.xy - b.xy).max() <= 0.5
            assert abs((a.angle_deg - b.angle_deg + 180) % 360 - 180) < 0.5
        else:
            assert np.abs(np.subtract(a.bounds, b.bounds)).max() <= 0.5
            assert b.is_axis_aligned
        if "attributes" in spec.carries:
            assert b.attributes == a.attributes
        if "review status" in spec.carries:
            assert (b.review, b.reviewer, b.review_note) == (a.review, a.reviewer, a.review_note)
        if "ids" in spec.carries:
            assert b.id == a.id and b.created == a.created
        if "detection score" in spec.carries:
            assert (b.source, b.score) == (a.source, a.score)
        assert b.acquired == a.acquired  # from the file or from the tile


def test_geojson_follows_rfc_7946(tmp_path, store, georef):
    out = tmp_path / "a.geojson"
    write_annotations(store.annotations(), out, tiles=store.tiles())
    doc = json.loads(out.read_text())
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    for feature, box in zip(doc["features"], store.annotations(), strict=True):
        ring = np.array(feature["geometry"]["coordinates"][0])
        assert len(ring) == 5 and (ring[0] == ring[-1]).all()
        x, y = ring[:, 0], ring[:, 1]
        assert np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]) > 0  # counter-clockwise
        assert np.all(np.round(ring, 7) == ring)
        assert ring[:, 0].mean() == pytest.approx(35.949, abs=2e-3)  # lon first
        assert ring[:, 1].mean() == pytest.approx(35.401, abs=2e-3)
        expected = box.lonlat(georef)
        for corner in expected:
            assert np.abs(ring[:4] - corner).max(axis=1).min() < 1e-7
        props = feature["properties"]
        assert props["label"] == box.label and props["attributes"] == box.attributes
        assert props["corners_px"] == [list(c) for c in np.round(box.xy, 4).tolist()]
        assert props["acquired"] == "2024-12-13T08:21:00Z" and props["review"] == box.review
    for text in out.read_text().split(","):
        if "." in text and text.strip(" []\n").replace(".", "").replace("-", "").isdigit():
            assert len(text.strip(" []\n").split(".")[1]) <= 7


def test_geojson_export_without_georeference_fails_with_the_reason(tmp_path):
    box = BoxAnnotation.from_xyxy(0, 0, 5, 5, label="tug", tile="photo.png")
    with pytest.raises(NotGeoreferencedError, match=r"photo\.png.*coco or dota"):
        write_annotations([box], tmp_path / "a.geojson", tiles=[TileRecord("photo.png", 9, 9)])
    assert not (tmp_path / "a.geojson").exists()


def test_coco_loads_in_pycocotools_with_rotation_in_the_polygon(tmp_path, store):
    out = tmp_path / "coco.json"
    write_annotations(store.annotations(), out, tiles=store.tiles())
    coco = COCO(str(out))
    cats = {c["name"]: c["id"] for c in coco.loadCats(coco.getCatIds())}
    assert cats["An-124"] == 1 and "Mi-24/35" in cats  # categories from the schema
    ann_ids = coco.getAnnIds(catIds=[cats["An-124"]])
    assert len(ann_ids) == 3
    ann = coco.loadAnns(ann_ids[0])[0]
    box = store.annotations()[0]
    np.testing.assert_allclose(np.reshape(ann["segmentation"][0], (4, 2)), box.xy, atol=1e-3)
    x0, y0, x1, y1 = box.bounds
    assert ann["bbox"] == pytest.approx([x0, y0, x1 - x0, y1 - y0], abs=1e-3)
    assert ann["attributes"]["nose_open"] is True
    image = coco.loadImgs(ann["image_id"])[0]
    assert (image["file_name"], image["width"], image["height"]) == (TILE_NAME, 400, 400)
    with warnings.catch_warnings():  # pycocotools' mask code predates NumPy 2's copy keyword
        warnings.simplefilter("ignore", DeprecationWarning)
        mask = coco.annToMask(ann)
    assert mask.sum() == pytest.approx(box.area_px, rel=0.05)


@pytest.mark.filterwarnings("ignore::imagery_tool.errors.DataLossWarning")
def test_dota_header_and_clockwise_from_the_head(tmp_path, store):
    out = tmp_path / "dota"
    write_annotations(store.annotations(), out, format="dota", tiles=store.tiles())
    lines = (out / "hmeimim_2024-12-13.txt").read_text().splitlines()
    assert lines[0] == "imagesource:imagery-tool"
    assert lines[1] == "gsd:0.5"
    first = lines[2].split()
    assert first[8:] == ["An-124", "0"]
    xy = np.array(first[:8], dtype=float).reshape(4, 2)
    box = store.annotations()[0]  # heading 30 degrees: the nose is up and to the right
    np.testing.assert_allclose(xy, box.xy, atol=0.005)
    head_mid = xy[:2].mean(axis=0) - xy.mean(axis=0)
    assert head_mid[0] > 0 and head_mid[1] < 0
    area = np.dot(xy[:, 0], np.roll(xy[:, 1], -1)) - np.dot(np.roll(xy[:, 0], -1), xy[:, 1])
    assert area > 0  # clockwise on screen (y down)


@pytest.mark.filterwarnings("ignore::imagery_tool.errors.DataLossWarning")
def test_dota_class_names_with_spaces_and_difficult_flag(tmp_path):
    boxes = [
        BoxAnnotation.from_xyxy(0, 0, 10, 10, label="unknown fixed-wing",
                                attributes={"confidence": "low"}, tile="a.png"),
    ]  # fmt: skip
    out = tmp_path / "a.txt"
    write_annotations(boxes, out, format="dota")
    assert out.read_text().splitlines()[2] == "0 0 10 0 10 10 0 10 unknown_fixed-wing 1"
    back = read_annotations(out, format="dota")
    assert back.annotations[0].label == "unknown fixed-wing"
    assert back.annotations[0].attributes == {"confidence": "low"}


@pytest.mark.filterwarnings("ignore::imagery_tool.errors.DataLossWarning")
def test_voc_is_one_based(tmp_path):
    box = BoxAnnotation.from_xyxy(10, 20, 50, 60, label="Su-24", tile="img.png")
    out = tmp_path / "img.xml"
    write_annotations([box], out, tiles=[TileRecord("img.png", 100, 200)])
    root = ET.parse(out).getroot()
    bnd = {e.tag: int(e.text) for e in root.find("object/bndbox")}
    assert bnd == {"xmin": 11, "ymin": 21, "xmax": 50, "ymax": 60}
    assert root.findtext("size/width") == "200" and root.findtext("filename") == "img.png"
    back = read_annotations(out).annotations[0]
    assert back.bounds == box.bounds


def test_yolo_values_are_normalised(tmp_path):
    box = BoxAnnotation.from_xyxy(10, 20, 50, 60, label="Su-24", tile="img.png")
    out = tmp_path / "yolo"
    with pytest.warns(DataLossWarning):
        write_annotations([box], out, format="yolo", tiles=[TileRecord("img.png", 100, 200)])
    classes = (out / "classes.txt").read_text().splitlines()
    line = (out / "labels" / "img.txt").read_text().split()
    assert classes[int(line[0])] == "Su-24"
    assert [float(v) for v in line[1:]] == [0.15, 0.4, 0.2, 0.4]
    assert detect_format(out) == "yolo"


def test_yolo_needs_the_image_size(tmp_path):
    box = BoxAnnotation.from_xyxy(10, 20, 50, 60, label="Su-24", tile="img.png")
    from imagery_tool.errors import AnnotationFormatError

    with pytest.raises(AnnotationFormatError, match="pass them with `tiles`") as refused:
        write_annotations([box], tmp_path / "y", format="yolo")
    assert refused.value.parameter == "tiles"


@pytest.mark.filterwarnings("ignore::imagery_tool.errors.DataLossWarning")
def test_image_names_never_leave_the_output_folder(tmp_path):
    out = tmp_path / "deep" / "out"
    boxes = [
        BoxAnnotation.from_xyxy(0, 0, 5, 5, label="tug", tile="../../etc/x.png"),
        BoxAnnotation.from_xyxy(0, 0, 5, 5, label="tug", tile="..\\..\\y.png"),
    ]
    for name in ("dota", "voc"):
        result = write_annotations(boxes, out / name, format=name)
        for path in result.paths:
            assert path.resolve().is_relative_to((out / name).resolve())
    assert sorted(p.name for p in (out / "dota").iterdir()) == ["x.txt", "y.txt"]
    assert not (tmp_path / "etc").exists()


def test_foreign_geojson_lonlat_polygons_are_converted_to_pixels(tmp_path, tile_record, georef):
    box = BoxAnnotation.from_center(150, 120, 60, 40, 0, label="Il-76", tile=TILE_NAME)
    ring = box.lonlat(georef).tolist()
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
                "properties": {"class": "Il76", "engines_covered": "yes", "area_m2": 2400},
            }
        ],
    }
    path = tmp_path / "foreign.geojson"
    path.write_text(json.dumps(doc))
    result = read_annotations(path, tiles=[tile_record])
    back = result.annotations[0]
    assert back.label == "Il-76" and back.tile == TILE_NAME
    assert back.attributes == {"engines_covered": True}  # a schema attribute as a property
    assert result.issues == [f"{path}: property 'area_m2' (1 feature) is neither a field nor a "
                             "schema attribute; not imported"]  # fmt: skip
    assert np.abs(back.xy - box.xy).max() < 1e-6
    with pytest.raises(NotGeoreferencedError, match="with `tiles`"):
        read_annotations(path)


@given(
    angle=st.floats(0, 359.9),
    length=st.floats(4, 300),
    width=st.floats(4, 300),
    cx=st.floats(0, 400),
    cy=st.floats(0, 400),
)
@settings(max_examples=25, deadline=None)
@pytest.mark.filterwarnings("ignore::imagery_tool.errors.DataLossWarning")
def test_any_rotated_box_round_trips_with_its_heading(angle, length, width, cx, cy):
    import tempfile
    from pathlib import Path

    box = BoxAnnotation.from_center(cx, cy, length, width, angle, label="An-124", tile="t.png")
    tiles = [TileRecord("t.png", 400, 400)]
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("coco", "yolo-obb", "dota", "csv"):
            out = Path(tmp) / (f"{name}.json" if name == "coco" else f"{name}.csv")
            out = out if name in ("coco", "csv") else Path(tmp) / name
            write_annotations([box], out, format=name, tiles=tiles)
            back = read_annotations(out, format=name, tiles=tiles).annotations[0]
            assert np.abs(back.xy - box.xy).max() <= 0.01, name
            assert abs((back.angle_deg - box.angle_deg + 180) % 360 - 180) < 0.5, name


@pytest.mark.filterwarnings("ignore::imagery_tool.errors.DataLossWarning")
@pytest.mark.parametrize("name", ["coco", "dota", "voc", "csv"])
def test_boxes_without_a_tile_are_written_as_untiled(tmp_path, name):
    box = BoxAnnotation.from_xyxy(1, 2, 30, 40, label="tug")
    out = _out(tmp_path, name)
    write_annotations([box], out, format=name)
    back = read_annotations(out, format=name).annotations[0]
    assert back.tile == "untiled" and back.bounds == box.bounds
