"""The region model: its trees, its file and the model shipped."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from imagery_tool.change.features import FEATURES
from imagery_tool.change.model import RegionModel, default_model
from imagery_tool.errors import FeatureCodeWarning, ModelFileError
from imagery_tool.models.file import write_model
from imagery_tool.models.trees import BoostedTrees


def _stump(threshold: float = 0.5) -> dict:
    """One split on feature 0: at or below ``threshold`` -2 log-odds, above +2."""
    return {
        "feature": np.array([0, 0, 0]),
        "threshold": np.array([threshold, -2.0, -2.0]),
        "left": np.array([1, -1, -1]),
        "right": np.array([2, -1, -1]),
        "value": np.array([0.0, -2.0, 2.0]),
    }


def _model(trees=None, base=0.5, learning_rate=0.5, **changes) -> RegionModel:
    trees = (_stump(), _stump(1.5)) if trees is None else trees
    fields = {
        "features": ("a", "b"),
        "trees": BoostedTrees(trees, base, learning_rate, 2),
        "min_score": 0.4,
        "provenance": {"what": "test"},
    }
    return RegionModel(**{**fields, **changes})


def test_trees_add_their_leaves_to_the_log_odds():
    model = _model()
    x = np.array([[0.0, 9.0], [1.0, 9.0], [2.0, 9.0]])
    raw = 0.5 + 0.5 * np.array([-2 - 2, 2 - 2, 2 + 2])
    np.testing.assert_allclose(model.probability(x), 1 / (1 + np.exp(-raw)))


def test_trees_of_different_depths_are_walked_to_their_own_leaves():
    deep = {  # feature 1 <= 0 -> (feature 0 <= 1 -> -1 else +3), else +5
        "feature": np.array([1, 0, 0, 0, 0]),
        "threshold": np.array([0.0, 1.0, -2.0, -2.0, -2.0]),
        "left": np.array([1, 3, -1, -1, -1]),
        "right": np.array([2, 4, -1, -1, -1]),
        "value": np.array([0.0, 0.0, 5.0, -1.0, 3.0]),
    }
    model = _model(trees=(_stump(), deep), base=0.0, learning_rate=1.0)
    x = np.array([[0.0, -1.0], [2.0, -1.0], [0.0, 1.0]])
    raw = np.array([-2 - 1, 2 + 3, -2 + 5])
    np.testing.assert_allclose(model.probability(x), 1 / (1 + np.exp(-raw)))


def test_one_row_and_many_rows_agree():
    model = default_model()
    x = np.random.default_rng(3).normal(size=(50, len(model.features)))
    one_by_one = [model.probability(row)[0] for row in x]
    np.testing.assert_allclose(model.probability(x), one_by_one, rtol=0, atol=1e-12)


def test_wrong_feature_count_is_refused():
    with pytest.raises(ValueError, match="expected 2 features"):
        _model().probability(np.zeros((1, 3)))


def _full(**changes) -> RegionModel:
    """A small model over the features the detector measures (stumps on the first two)."""
    return _model(features=FEATURES, **changes)


@pytest.mark.parametrize("name", ["model.json", "model.json.gz"])
def test_round_trip_through_the_model_file(tmp_path, name):
    path = write_model(tmp_path / name, _full().to_record())
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = RegionModel.load(path)
    x = np.zeros((3, len(FEATURES)))
    x[:, 0] = [0.3, 1.0, 1.7]
    np.testing.assert_array_equal(back.probability(x), _full().probability(x))
    assert (back.min_score, back.provenance) == (0.4, {"what": "test"})


def test_a_model_trained_on_other_features_is_refused_in_one_line(tmp_path):
    record = _full().to_record()
    record["features"] = [*FEATURES[:-1], "something_else"]
    path = write_model(tmp_path / "theirs.json.gz", record)
    with pytest.raises(ModelFileError) as caught:
        RegionModel.load(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert "pair_dissimilarity" in message and "tools/train_region_model.py" in message


def test_a_model_whose_feature_code_changed_warns(tmp_path):
    record = _full().to_record()
    record["feature_code"] = "sha256:0000000000000000"
    path = write_model(tmp_path / "old.json.gz", record)
    with pytest.warns(FeatureCodeWarning, match="retrain"):
        model = RegionModel.load(path)
    assert model.features == FEATURES  # still usable


def test_a_malformed_model_file_is_refused_in_one_line(tmp_path):
    record = _full().to_record()
    del record["predictors"]["changed_object"]["trees"][0]["threshold"]
    path = write_model(tmp_path / "broken.json.gz", record)
    with pytest.raises(ModelFileError, match="malformed region model file") as caught:
        RegionModel.load(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_tree_that_loops_is_refused_in_one_line(tmp_path):
    record = _full().to_record()
    record["predictors"]["changed_object"]["trees"][0]["left"] = [1, 0, -1]
    path = write_model(tmp_path / "loop.json.gz", record)
    with pytest.raises(ModelFileError, match="malformed region model file .*child") as caught:
        RegionModel.load(path)
    assert "\n" not in str(caught.value)


def test_a_file_of_the_old_format_is_refused(tmp_path):
    path = tmp_path / "region_model.json"
    path.write_text(json.dumps({"features": list(FEATURES), "trees": [], "base": 0.0}))
    with pytest.raises(ModelFileError, match="not an imagery-tool model file"):
        RegionModel.load(path)


def test_probe_scores_everything_one_half_and_keeps_it():
    probe = RegionModel.probe(FEATURES)
    assert probe.is_probe and probe.min_score == 0.0
    np.testing.assert_array_equal(probe.probability(np.ones((2, len(FEATURES)))), [0.5, 0.5])


def test_shipped_model_reads_the_features_the_detector_measures():
    model = default_model()
    assert model.features == FEATURES
    assert not model.is_probe and 0.0 < model.min_score < 1.0
    assert model.provenance["accuracy"]["out_of_fold"]["precision"] >= 0.9


def test_the_operating_point_blends_from_noise_to_months_apart():
    model = _model(min_score=0.4, min_score_dissimilar=0.1)
    assert model.operating_point(0.0) == pytest.approx(0.4)
    assert model.operating_point(1.0) == pytest.approx(0.1)
    assert model.operating_point(0.5) == pytest.approx(0.25)
    assert _model(min_score=0.4).operating_point(1.0) == pytest.approx(0.4)  # one point only


def test_the_operating_points_go_through_the_file(tmp_path):
    path = write_model(tmp_path / "m.json", _full(min_score_dissimilar=0.05).to_record())
    assert RegionModel.load(path).min_score_dissimilar == pytest.approx(0.05)
    path = write_model(tmp_path / "m.json", _full().to_record())
    assert RegionModel.load(path).min_score_dissimilar is None


def test_the_shipped_model_knows_how_it_was_made():
    model = default_model()
    assert model.features == FEATURES
    made = model.provenance
    assert made["script"].startswith("benchmarks/train_region_model.py")
    assert made["commit"].startswith("e33e326") and "3a9d42c" in made["commit"]
    assert {"trained", "jpeg_decoder", "libraries", "estimator", "data"} <= set(made)
    accuracy = made["accuracy"]
    assert set(accuracy["leave_one_dataset_out"]) >= {"whu_cd", "fotbcd", "airchange"}
    oof = accuracy["out_of_fold"]
    assert oof["precision"] >= 0.95 and oof["recall"] >= 0.95
    assert 0.0 <= model.min_score_dissimilar <= model.min_score


def test_the_shipped_model_is_readable_json_once_unzipped():
    from imagery_tool.change import model as module

    path = Path(module.__file__).parent / module.MODEL_FILE
    text = gzip.decompress(path.read_bytes()).decode()
    assert text.startswith('{\n "format": "imagery-tool model",\n "format_version": 1,')
    assert len(text.splitlines()) < 3000  # a node array per line, not a number per line
