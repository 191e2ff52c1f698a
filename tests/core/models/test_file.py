"""The model file: written gzipped and readable, refused in one line when it cannot be used."""

from __future__ import annotations

import gzip
import json

import pytest

from imagery_tool.errors import FeatureCodeWarning, ModelFileError
from imagery_tool.models.file import (
    FORMAT_VERSION,
    ModelKind,
    dumps_model,
    load_model_file,
    read_model,
    write_model,
)

RECORD = {
    "model": "test model",
    "features": ["a", "b"],
    "feature_code": "sha256:1111",
    "operating_points": {"min_score": 0.5},
    "provenance": {"script": "tools/x.py"},
    "predictors": {"only": {"kind": "boosted trees", "trees": [{"value": [0.1, -0.25]}]}},
}
CHECKS = {"model": "test model", "features": ("a", "b"), "feature_code": "sha256:1111",
          "retrain": "tools/x.py"}  # fmt: skip


def test_round_trip_gzipped_and_plain(tmp_path):
    for name in ("m.json.gz", "m.json"):
        path = write_model(tmp_path / name, RECORD)
        back = read_model(path, **CHECKS)
        assert back == {"format": "imagery-tool model", "format_version": FORMAT_VERSION, **RECORD}


def test_equal_models_give_equal_bytes(tmp_path):
    first = write_model(tmp_path / "a.json.gz", RECORD).read_bytes()
    assert write_model(tmp_path / "b.json.gz", RECORD).read_bytes() == first


def test_numbers_go_one_list_per_line():
    text = dumps_model(RECORD)
    assert '"value": [0.1,-0.25]' in text and '  "a",\n' in text


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"format": "something"}, "not an imagery-tool model file"),
        ({"format_version": FORMAT_VERSION + 1}, "newer than this imagery-tool reads"),
        ({"model": "other model"}, "not a test model"),
        ({"features": ["a"]}, r"other features .*lacks b.*retrain it with tools/x.py"),
        ({"features": ["b", "a"]}, "same features in another order"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_in_one_line(tmp_path, change, match):
    path = tmp_path / "m.json.gz"
    text = dumps_model(RECORD)
    record = {**json.loads(text), **change}
    path.write_bytes(gzip.compress(json.dumps(record).encode()))
    with pytest.raises(ModelFileError, match=match) as caught:
        read_model(path, **CHECKS)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_an_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "m.json.gz"
    path.write_bytes(b"\x1f\x8b broken")
    with pytest.raises(ModelFileError, match="cannot read the model file"):
        read_model(path, **CHECKS)
    with pytest.raises(ModelFileError, match="cannot read"):
        read_model(tmp_path / "missing.json", **CHECKS)


@pytest.mark.parametrize("cut", ["corrupt", "truncated"])
def test_a_damaged_gzipped_file_is_refused_in_one_line(tmp_path, cut):
    whole = write_model(tmp_path / "m.json.gz", RECORD).read_bytes()
    if cut == "corrupt":  # the deflate stream garbled past the header: zlib.error
        damaged = whole[:10] + bytes(b ^ 0xFF for b in whole[10:40]) + whole[40:]
    else:  # EOFError
        damaged = whole[: len(whole) // 2]
    path = tmp_path / "damaged.json.gz"
    path.write_bytes(damaged)
    with pytest.raises(ModelFileError, match="cannot read the model file") as caught:
        read_model(path, **CHECKS)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_record_its_model_cannot_be_built_from_is_refused_in_one_line(tmp_path):
    kind = ModelKind("test model", ("a", "b"), (), "tools/x.py")
    path = write_model(tmp_path / "m.json", {**RECORD, "feature_code": kind.feature_code()})
    assert load_model_file(path, kind=kind, build=lambda r: r["predictors"]["only"]["kind"]) == (
        "boosted trees"
    )
    with pytest.raises(ModelFileError, match=r"malformed test model file \(IndexError") as caught:
        load_model_file(path, kind=kind, build=lambda r: r["features"][5])
    assert str(path) in str(caught.value) and "retrain it with tools/x.py" in str(caught.value)


@pytest.mark.parametrize("score", [1.5, -0.1, float("nan"), "0.4", True])
def test_an_operating_point_that_is_no_score_is_refused_in_one_line(tmp_path, score):
    kind = ModelKind("test model", ("a", "b"), (), "tools/x.py")
    path = write_model(tmp_path / "m.json", {**RECORD, "feature_code": kind.feature_code()})
    record = json.loads(path.read_text())  # edited by hand: write_model refuses NaN itself
    record["operating_points"]["min_score"] = score
    path.write_text(json.dumps(record))
    with pytest.raises(ModelFileError, match="operating point min_score") as caught:
        load_model_file(path, kind=kind, build=lambda r: r)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_changed_feature_code_warns_and_loads(tmp_path):
    path = write_model(tmp_path / "m.json", RECORD)
    with pytest.warns(FeatureCodeWarning, match="sha256:1111 then, sha256:2222 now"):
        record = read_model(path, **{**CHECKS, "feature_code": "sha256:2222"})
    assert record["features"] == ["a", "b"]


def test_no_feature_code_to_compare_gives_no_warning(tmp_path, recwarn):
    path = write_model(tmp_path / "m.json", RECORD)
    read_model(path, **{**CHECKS, "feature_code": None})
    assert not recwarn.list
