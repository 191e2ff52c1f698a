"""Provenance: the feature-code hash follows the code, not its comments; what training records."""

from __future__ import annotations

import sys

import pytest

from imagery_tool.models.provenance import feature_code_hash, jpeg_decoder, training_record


@pytest.fixture
def feature_module(tmp_path, monkeypatch):
    """A throw-away module ``fake_features`` whose source the test rewrites."""
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "fake_features.py"

    def write(source: str) -> str:
        path.write_text(source)
        sys.modules.pop("fake_features", None)
        return feature_code_hash(("a", "b"), ["fake_features"])

    yield write
    sys.modules.pop("fake_features", None)


def test_the_hash_follows_the_code_and_the_names(feature_module):
    plain = feature_module('"""Doc."""\ndef f(x):\n    return x + 1\n')
    assert plain.startswith("sha256:") and len(plain) == 7 + 16
    reworded = feature_module('"""Other doc."""\n\n\ndef f(x):  # comment\n    """Doc."""\n'
                              "    return x + 1\n")  # fmt: skip
    assert reworded == plain
    assert feature_module('"""Doc."""\ndef f(x):\n    return x + 2\n') != plain
    assert feature_code_hash(("a", "c"), ["fake_features"]) != feature_code_hash(
        ("a", "b"), ["fake_features"]
    )


def test_the_decoder_follows_the_environment(monkeypatch):
    monkeypatch.delenv("IMAGERY_TOOL_GDAL_JPEG", raising=False)
    assert jpeg_decoder().startswith("libjpeg-turbo")
    monkeypatch.setenv("IMAGERY_TOOL_GDAL_JPEG", "1")
    assert jpeg_decoder().startswith("GDAL")


def test_a_training_record_says_what_made_the_model():
    record = training_record(script="tools/x.py", estimator="E", data={"scenes": 2})
    assert set(record) == {"script", "commit", "trained", "jpeg_decoder", "libraries",
                           "estimator", "data"}  # fmt: skip
    assert record["libraries"]["numpy"] and record["commit"]


def test_a_module_without_source_has_no_hash():
    assert feature_code_hash(("a",), ["sys"]) is None  # built in: nothing to read
