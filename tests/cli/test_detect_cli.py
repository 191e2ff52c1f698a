"""``imagery-tool detect``: outputs, exit codes and one-line reasons for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio
from affine import Affine
from imagery_tool_synthetic import make_pair

from imagery_tool.change.level import dissimilarity_weight
from imagery_tool.change.model import default_model
from imagery_tool.cli import main


def _write(path, image, site=None, *, transform=None, nodata=None):
    profile = {
        "driver": "GTiff",
        "width": image.shape[2],
        "height": image.shape[1],
        "count": image.shape[0],
        "dtype": str(image.dtype),
    }
    if site is not None:
        profile.update(crs=site.crs, transform=transform or site.transform)
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(image)
    return str(path)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    p = make_pair(11, size=384, shift_px=(2.5, -1.5), n_aircraft=6, change_fraction=0.5)
    site = p.series.site
    before = _write(folder / "x_2024-12-06.tif", p.before, site)
    after = _write(folder / "x_2024-12-13.tif", p.after, site)
    return before, after, p, folder


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_detect_writes_geojson_mask_png_and_json_summary(tmp_path, pair, capsys):
    before, after, _, _ = pair
    out, mask, png = tmp_path / "c.geojson", tmp_path / "m.tif", tmp_path / "q.png"
    code, stdout, err = run(
        ["detect", before, after, "-o", str(out), "--mask", str(mask), "--png", str(png),
         "--json"], capsys)  # fmt: skip
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["registration"]["dx"] == pytest.approx(2.5, abs=0.15)
    assert summary["outputs"] == [str(out), str(mask), str(png)]
    data = json.loads(out.read_text())
    assert data["type"] == "FeatureCollection" and data["after"] == "x_2024-12-13.tif"
    assert len(data["features"]) == summary["regions"]
    with rasterio.open(mask) as ds:
        assert ds.shape == (384, 384) and ds.crs is not None
    image = cv2.imread(str(png))
    assert image.shape[1] > image.shape[0] > 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.geojson", "m.tif", "q.png"]
    # the boxes are in the one palette of the change kinds (the reviewer sheet's and napari's)
    from imagery_tool.style import change_bgr

    pixels = image.reshape(-1, 3).astype(int)
    for kind in {f["properties"]["change"] for f in data["features"]}:
        assert (np.abs(pixels - change_bgr(kind)).sum(axis=1) < 12).any(), kind


def test_detect_text_summary(tmp_path, pair, capsys):
    before, after, _, _ = pair
    code, stdout, _ = run(["detect", before, after, "-o", str(tmp_path / "c.json")], capsys)
    assert code == 0
    assert "change(s)" in stdout
    dx = float(stdout.split("registration: dx ")[1].split()[0])
    assert dx == pytest.approx(2.5, abs=0.1)
    # how far apart the dates are, and the level and operating point that follow
    summary = json.loads(run(["detect", before, after, "-o", str(tmp_path / "d.json"),
                              "--json"], capsys)[1])  # fmt: skip
    params = summary["parameters"]
    line = next(x for x in stdout.splitlines() if x.startswith("dates: "))
    assert f"{100 * params['dissimilarity']:.1f} % of the range" in line
    assert f"change level {params['threshold_level']:g}" in line
    w = dissimilarity_weight(params["dissimilarity"])
    assert params["min_score"] == pytest.approx(default_model().operating_point(w), abs=2e-3)
    assert f"min score {params['min_score']:.2f}" in line


def test_pixel_mode_json_works_and_geojson_is_refused(tmp_path, pair, capsys):
    _, _, p, _ = pair
    paths = []
    for name, image in (("b.png", p.before), ("a.png", p.after)):
        cv2.imwrite(str(tmp_path / name), image[::-1].transpose(1, 2, 0))
        paths.append(str(tmp_path / name))
    code, _, err = run(["detect", *paths, "-o", str(tmp_path / "c.json")], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "c.json").read_text())["coordinates"] == "pixel (col, row)"
    code, _, err = run(["detect", *paths, "-o", str(tmp_path / "c.geojson")], capsys)
    assert code == 2
    assert "b.png has no georeference" in err and "c.json" in err
    assert not (tmp_path / "c.geojson").exists()


def test_pixel_mode_prints_no_library_warning(tmp_path, pair):
    """rasterio's warning for files without georeference never reaches the user.

    Workers of the registration and the detection open files at once; a warnings filter
    swapped by one thread used to let another's warning through on every run with --mask.
    """
    from tests.cli.helpers import run_cli

    _, _, p, _ = pair
    paths = []
    for name, image in (("b.png", p.before), ("a.png", p.after)):
        cv2.imwrite(str(tmp_path / name), image[::-1].transpose(1, 2, 0))
        paths.append(str(tmp_path / name))
    for _ in range(2):
        result = run_cli("detect", *paths, "-o", str(tmp_path / "c.json"),
                         "--mask", str(tmp_path / "m.png"))  # fmt: skip
        assert result.returncode == 0 and result.stderr == "", result.stderr


def _bad_inputs(folder, p):
    site = p.series.site
    one = _write(folder / "one.tif", p.after[:1], site)
    far = _write(folder / "far.tif", p.after, site,
                 transform=site.transform * Affine.translation(100000, 0))  # fmt: skip
    plain = _write(folder / "plain.tif", p.after)
    constant = _write(folder / "constant.tif", np.full_like(p.after, 90), site)
    empty = _write(folder / "empty.tif", np.zeros_like(p.after), site, nodata=0)
    corrupt = folder / "corrupt.tif"
    corrupt.write_bytes((folder / "x_2024-12-13.tif").read_bytes()[:3000])
    return {
        "one.tif": (one, "has 3 band(s) but"),
        "far.tif": (far, "do not overlap"),
        "plain.tif": (plain, "has no georeference"),
        "constant.tif": (constant, "the image is constant"),
        "empty.tif": (empty, "no valid pixels"),
        "corrupt.tif": (str(corrupt), "corrupt"),
    }


@pytest.mark.parametrize("name", ["one.tif", "far.tif", "plain.tif", "constant.tif", "empty.tif",
                                  "corrupt.tif"])  # fmt: skip
def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path, pair, capsys, name):
    before, _, p, folder = pair
    path, reason = _bad_inputs(folder, p)[name]
    out = tmp_path / "c.geojson"
    code, _, err = run(["detect", before, path, "-o", str(out), "--mask", str(tmp_path / "m.tif")],
                       capsys)  # fmt: skip
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0] and name in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_bad_options_exit_2(tmp_path, pair, capsys):
    before, after, _, _ = pair
    code, _, err = run(["detect", before, after, "-o", str(tmp_path / "c.shp")], capsys)
    assert code == 2 and "-o/--output" in err
    code, _, err = run(["detect", before, after, "-o", str(tmp_path / "c.json"),
                        "--mask", str(tmp_path / "m.jpg")], capsys)  # fmt: skip
    assert code == 2 and "--mask" in err
    code, _, err = run(["detect", before, after, "-o", str(tmp_path / "c.json"),
                        "--method", "magic"], capsys)  # fmt: skip
    assert code == 2
    assert list(tmp_path.iterdir()) == []


def test_min_score_keeps_the_surer_objects_and_is_recorded(tmp_path, capsys):
    samples = Path(__file__).resolve().parents[2] / "sample_tiles"
    before, after = (str(samples / f"hmeimim_2024-12-{d}.tif") for d in ("06", "13"))

    def scores_at(level: float) -> list[float]:
        out = tmp_path / f"c{level}.json"
        argv = ["detect", before, after, "-o", str(out), "--min-score", str(level), "--json"]
        code, stdout, err = run(argv, capsys)
        assert code == 0, err
        assert json.loads(stdout)["parameters"]["min_score"] == level
        return sorted(f["properties"]["score"] for f in json.loads(out.read_text())["features"])

    everything = scores_at(0.05)
    level = everything[len(everything) // 2]  # the median object's score
    assert scores_at(level) == [v for v in everything if v >= level]
    code, _, err = run(
        ["detect", before, after, "-o", str(tmp_path / "c.json"), "--min-score", "2"], capsys
    )
    assert code == 2 and "--min-score" in err
