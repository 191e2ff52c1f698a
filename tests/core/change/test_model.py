"""The region model: its tree evaluator, its file format and the model shipped."""

from __future__ import annotations

import numpy as np
import pytest

from imagery_tool.change.features import FEATURES
from imagery_tool.change.model import RegionModel, default_model


def _stump(threshold: float = 0.5) -> dict:
    """One split on feature 0: at or below ``threshold`` -2 log-odds, above +2."""
    return {
        "feature": np.array([0, 0, 0]),
        "threshold": np.array([threshold, -2.0, -2.0]),
        "left": np.array([1, -1, -1]),
        "right": np.array([2, -1, -1]),
        "value": np.array([0.0, -2.0, 2.0]),
    }


def _model(**changes) -> RegionModel:
    fields = {
        "features": ("a", "b"),
        "trees": (_stump(), _stump(1.5)),
        "base": 0.5,
        "learning_rate": 0.5,
        "min_score": 0.4,
        "about": {"what": "test"},
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


def test_round_trip_through_json(tmp_path):
    import json

    path = tmp_path / "model.json"
    path.write_text(json.dumps(_model().to_dict()))
    back = RegionModel.load(path)
    x = np.array([[0.3, 0.0], [1.7, 0.0]])
    np.testing.assert_array_equal(back.probability(x), _model().probability(x))
    assert (back.features, back.min_score, back.about) == (("a", "b"), 0.4, {"what": "test"})


def test_probe_scores_everything_one_half_and_keeps_it():
    probe = RegionModel.probe(FEATURES)
    assert probe.is_probe and probe.min_score == 0.0
    np.testing.assert_array_equal(probe.probability(np.ones((2, len(FEATURES)))), [0.5, 0.5])


def test_shipped_model_reads_the_features_the_detector_measures():
    model = default_model()
    assert model.features == FEATURES
    assert not model.is_probe and 0.0 < model.min_score < 1.0
    assert model.about["out_of_fold"]["precision"] >= 0.9


def test_the_operating_point_blends_from_noise_to_months_apart():
    model = _model(min_score=0.4, min_score_dissimilar=0.1)
    assert model.operating_point(0.0) == pytest.approx(0.4)
    assert model.operating_point(1.0) == pytest.approx(0.1)
    assert model.operating_point(0.5) == pytest.approx(0.25)
    assert _model(min_score=0.4).operating_point(1.0) == pytest.approx(0.4)  # one point only


def test_the_operating_points_go_through_the_file(tmp_path):
    import json

    path = tmp_path / "m.json"
    path.write_text(json.dumps(_model(min_score_dissimilar=0.05).to_dict()))
    assert RegionModel.load(path).min_score_dissimilar == pytest.approx(0.05)
    raw = _model().to_dict()
    del raw["min_score_dissimilar"]  # a model written before there were two
    path.write_text(json.dumps(raw))
    assert RegionModel.load(path).min_score_dissimilar is None


def test_the_shipped_model_knows_how_it_was_made():
    model = default_model()
    assert model.features == FEATURES
    about = model.about
    assert about["features"] == list(FEATURES)
    assert about["trained_by"] == "benchmarks/train_region_model.py"
    assert set(about["leave_one_dataset_out"]) >= {"whu_cd", "fotbcd", "airchange"}
    assert about["out_of_fold"]["precision"] >= 0.95 and about["out_of_fold"]["recall"] >= 0.95
    assert 0.0 <= model.min_score_dissimilar <= model.min_score
