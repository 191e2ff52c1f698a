"""``imagery-tool detect`` says how AFTER was placed: shift applied, refused, not measured."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from affine import Affine
from imagery_tool_synthetic import make_pair

from imagery_tool.cli import main


def _write(path, image, site):
    profile = {"driver": "GTiff", "width": image.shape[2], "height": image.shape[1],
               "count": image.shape[0], "dtype": str(image.dtype), "crs": site.crs,
               "transform": site.transform}  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(image)
    return str(path)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reg")
    p = make_pair(12, size=256, shift_px=(3.5, -2.0), n_aircraft=3)
    site = p.series.site
    before = _write(folder / "x_2024-12-06.tif", p.before, site)
    after = _write(folder / "x_2024-12-13.tif", p.after, site)
    # another date of the "same" site that shows other ground: nothing can be registered
    other = make_pair(13, size=256, n_aircraft=3).after
    unrelated = _write(folder / "x_2024-12-20.tif", np.ascontiguousarray(other[:, ::-1]), site)
    return before, after, unrelated


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_applied_shift_is_printed_with_its_confidence(tmp_path, pairs, capsys):
    before, after, _ = pairs
    code, stdout, err = run(["detect", before, after, "-o", str(tmp_path / "c.json")], capsys)
    assert code == 0, err
    line = next(s for s in stdout.splitlines() if s.startswith("registration: "))
    assert line.startswith("registration: dx +3.") and ", confidence 0." in line


def test_refused_estimate_is_said_and_detection_goes_on(tmp_path, pairs, capsys):
    before, _, unrelated = pairs
    out = tmp_path / "c.geojson"
    code, stdout, err = run(["detect", before, unrelated, "-o", str(out)], capsys)
    assert code == 0, err
    line = next(s for s in stdout.splitlines() if s.startswith("registration: "))
    assert line.startswith("registration: georeference only — content estimate refused (")
    assert "windows agree on dx" in line and "; confidence 0." in line
    assert out.exists()
    code, stdout, err = run(["detect", before, unrelated, "-o", str(out), "--json"], capsys)
    assert code == 0, err
    reg = json.loads(stdout)["registration"]
    assert reg["status"] == "fallback" and reg["reason"].startswith("content estimate refused")
    assert 0 <= reg["confidence"] < 0.5 and len(reg["measured_matrix"]) == 6
    assert reg["matrix"] == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    written = json.loads(out.read_text())["registration"]
    assert written["status"] == "fallback" and written["reason"] == reg["reason"]


def test_method_without_registration_says_not_measured(tmp_path, pairs, capsys):
    before, after, _ = pairs
    argv = ["detect", before, after, "-o", str(tmp_path / "c.json"), "--method", "cva"]
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    assert "registration: georeference only (not measured by --method cva)" in stdout
    code, stdout, _ = run([*argv, "--json"], capsys)
    reg = json.loads(stdout)["registration"]
    assert reg["status"] == "not_measured" and reg["confidence"] is None


def test_featureless_overlap_is_placed_by_georeference_and_detection_goes_on(
    tmp_path, pairs, capsys
):
    before, after, _ = pairs
    with rasterio.open(after) as ds:
        profile, pixels = ds.profile, ds.read()
    pixels[:, :, 128:] = 90  # BEFORE's right half is a flat field, AFTER extends east
    profile["transform"] = profile["transform"] * Affine.translation(128, 0)
    with rasterio.open(tmp_path / "flat.tif", "w", **profile) as ds:
        ds.write(pixels[:, :, ::-1])
    out = tmp_path / "c.json"
    code, stdout, err = run(["detect", before, str(tmp_path / "flat.tif"), "-o", str(out)],
                            capsys)  # fmt: skip
    assert code == 0, err
    assert (
        "registration: georeference only — flat.tif is featureless over the overlap "
        "(constant [90.0, 90.0, 90.0]): nothing to measure; confidence 0.00"
    ) in stdout
    assert out.exists()
