"""The learned proposal scorer: a logistic regression over candidate shape features, in numpy.

The coefficients ship as JSON in ``imagery_tool/aircraft/data/proposal_scorer.json`` with their
provenance (trained by ``tools/train_aircraft_scorer.py`` on generated scenes with exact truth;
nothing is downloaded). The input is `candidates.FEATURE_NAMES`; each feature also enters
squared (after standardising), so the model can prefer a middle range (a fill ratio neither
that of a thin line nor that of a solid roof).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from imagery_tool.aircraft.candidates import FEATURE_NAMES

__all__ = ["MODEL_PATH", "expand", "load_model", "score_features"]

MODEL_PATH = Path(__file__).parent / "data" / "proposal_scorer.json"


def expand(features: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Standardise features and append their squares.

    Parameters
    ----------
    features : (N, F) float ndarray
    mean, scale : (F,) float ndarray

    Returns
    -------
    (N, 2F) float64 ndarray
    """
    z = (np.asarray(features, dtype=np.float64) - mean) / scale
    return np.hstack([z, z * z])


@lru_cache(maxsize=4)
def load_model(path: str | Path = MODEL_PATH) -> dict:
    """Return the scorer's JSON record with numpy arrays for its vectors.

    Raises
    ------
    ValueError
        When the record was trained on other features than `FEATURE_NAMES`.
    """
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    if tuple(record["features"]) != FEATURE_NAMES:
        raise ValueError(
            f"{path}: trained on features {record['features']}, the code measures "
            f"{list(FEATURE_NAMES)}; retrain with tools/train_aircraft_scorer.py"
        )
    for key in ("mean", "scale", "coef"):
        record[key] = np.asarray(record[key], dtype=np.float64)
    return record


def score_features(features: np.ndarray, model: dict | None = None) -> np.ndarray:
    """Return the probability that each candidate is a well-boxed aircraft.

    Parameters
    ----------
    features : (N, F) float ndarray
        Rows of `candidates.FEATURE_NAMES`.
    model : dict, optional
        A `load_model` record; the shipped one by default.

    Returns
    -------
    (N,) float64 ndarray
        In [0, 1].
    """
    model = model or load_model()
    features = np.atleast_2d(np.asarray(features, dtype=np.float64))
    if features.shape[0] == 0:
        return np.zeros(0)
    x = expand(features, model["mean"], model["scale"])
    logit = x @ model["coef"] + float(model["intercept"])
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -40, 40)))
