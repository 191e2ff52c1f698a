"""``imagery-tool propose``: GeoJSON on a georeferenced tile, pixel JSON on a PNG, bad input."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import rasterio
from imagery_tool_synthetic import random_series, render_date, tile_truth

from imagery_tool.aircraft.nms import rotated_iou
from imagery_tool.cli import main


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("propose")
    series = random_series(5, size=512, n_dates=1, n_aircraft=4, n_vehicles=3)
    image = render_date(series, 0)
    site = series.site
    tif = folder / "apron_2024-12-06.tif"
    profile = {"driver": "GTiff", "width": 512, "height": 512, "count": 3, "dtype": "uint8",
               "crs": site.crs, "transform": site.transform}  # fmt: skip
    with rasterio.open(tif, "w", **profile) as ds:
        ds.write(image)
    png = folder / "apron.png"
    cv2.imwrite(str(png), image[::-1].transpose(1, 2, 0))
    truth = [o for o in tile_truth(series, 0)["objects"] if o["kind"] == "aircraft"]
    return tif, png, truth


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_geojson_in_lonlat_with_sizes_types_and_pixel_boxes(scene, tmp_path, capsys):
    tif, _, truth = scene
    out = tmp_path / "p.geojson"
    code, stdout, err = run(["propose", str(tif), "-o", str(out), "-q"], capsys)
    assert code == 0, err
    assert "4 aircraft proposal(s)" in stdout and f"wrote {out}" in stdout
    doc = json.loads(out.read_text())
    assert doc["coordinates"] == "lon/lat (WGS 84)" and doc["pixel_size_assumed"] is False
    assert len(doc["features"]) == 4
    settings = doc["parameters"]["runtime"]  # what the proposals were found with
    assert settings["jpeg_decoder"].startswith("libjpeg-turbo") and settings["heap_tuning"]
    for f in doc["features"]:
        props = f["properties"]
        assert {"bbox_px", "score", "length_m", "width_m", "types", "heading_deg"} <= set(props)
        assert props["source"] == "proposed"
        assert props["label"] in [t["name"] for t in props["types"]] + ["unknown fixed-wing"]
        ring = np.asarray(f["geometry"]["coordinates"][0])
        assert ring.shape == (5, 2) and (ring[0] == ring[-1]).all()
        assert 35 < ring[:, 1].mean() < 36  # Hmeimim's latitude: lon/lat, not pixels
    for t in truth:
        assert (
            max(
                rotated_iou(np.asarray(f["properties"]["corners_px"]), np.asarray(t["corners_px"]))
                for f in doc["features"]
            )
            >= 0.5
        )


def test_proposals_import_into_a_store(scene, tmp_path, capsys):
    tif, _, _ = scene
    out = tmp_path / "p.geojson"
    assert run(["propose", str(tif), "-o", str(out), "-q"], capsys)[0] == 0
    store = tmp_path / "s.gpkg"
    code, stdout, err = run(["annotations", "import", str(store), str(out), "--tile", str(tif)],
                            capsys)  # fmt: skip
    assert code == 0, err
    assert "4 box(es) imported" in stdout


def test_png_needs_json_output_and_records_the_pixel_size(scene, tmp_path, capsys):
    _, png, truth = scene
    out = tmp_path / "p.json"
    code, stdout, err = run(
        ["propose", str(png), "-o", str(out), "--pixel-size-m", "0.5", "--json"], capsys
    )
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["proposals"] == 4 and summary["pixel_size_assumed"] is False  # given
    doc = json.loads(out.read_text())
    assert doc["coordinates"] == "pixel (col, row)" and doc["pixel_size_m"] == 0.5
    ring = np.asarray(doc["features"][0]["geometry"]["coordinates"][0])
    assert ring.max() < 512  # pixel coordinates
    code, _, err = run(["propose", str(png), "-o", str(tmp_path / "p.geojson")], capsys)
    assert code == 2 and "apron.png has no usable georeference" in err and "p.json" in err
    assert not (tmp_path / "p.geojson").exists()


def test_without_pixel_size_the_assumption_is_printed(scene, tmp_path, capsys):
    _, png, _ = scene
    code, stdout, err = run(["propose", str(png), "-o", str(tmp_path / "p.json"), "-q"], capsys)
    assert code == 0, err
    assert "no pixel size in the file; 0.5 m per pixel (assumed" in stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-o", "x.txt"], "use a .geojson or .json file name"),
        (["-o", "x.json", "--min-score", "2"], "--min-score"),
        (["-o", "x.json", "--pixel-size-m", "nan"], "--pixel-size-m"),
    ],
)
def test_bad_options_exit_2(scene, tmp_path, capsys, args, fragment):
    _, png, _ = scene
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    code, _, err = run(["propose", str(png), *args], capsys)
    assert code == 2 and fragment in err


def test_the_default_min_score_is_the_scorers_operating_point(scene, tmp_path, capsys, monkeypatch):
    from dataclasses import replace

    from imagery_tool.aircraft import scorer

    other = replace(scorer.load_model(), min_score=0.77)
    monkeypatch.setattr(scorer, "load_model", lambda: other)
    tif, _, _ = scene
    out = tmp_path / "p.geojson"
    code, stdout, err = run(["propose", str(tif), "-o", str(out), "--json"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["min_score"] == 0.77
    doc = json.loads(out.read_text())
    assert doc["parameters"]["min_score"] == 0.77
    assert all(f["properties"]["score"] >= 0.77 for f in doc["features"])
