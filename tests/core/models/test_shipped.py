"""The shipped models score as they did before their file and evaluator changed (issue #17).

``tests/data/models/shipped_model_scores.json`` holds the scores the evaluators of commit
3e9409b gave the shipped models on fixed feature rows (see the README there).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from imagery_tool.aircraft.scorer import load_model, score_features
from imagery_tool.change.model import default_model

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "models" / "shipped_model_scores.json"


def _fixture() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_the_region_model_scores_as_before():
    expected = _fixture()["region_model"]
    got = default_model().probability(np.array(expected["features"]))
    np.testing.assert_allclose(got, expected["probability"], rtol=0, atol=1e-12)


def test_the_proposal_scorer_scores_as_before():
    expected = _fixture()["proposal_scorer"]
    x = np.array(expected["features"])
    np.testing.assert_allclose(score_features(x), expected["final"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        score_features(x, stage="seed"), expected["seed"], rtol=0, atol=1e-12
    )


def test_the_shipped_models_load_without_a_warning():
    default_model.cache_clear()
    load_model.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default_model()
        load_model()
