"""The learned proposal scorer over candidate shape features, applied with numpy.

The coefficients ship as JSON in ``imagery_tool/aircraft/data/proposal_scorer.json`` with their
provenance (trained by ``tools/train_aircraft_scorer.py`` on generated scenes with exact truth;
nothing is downloaded). Two stages: the seed stage, a logistic regression on the blob features
standardised and squared (so it can prefer a middle range: a fill ratio neither that of a
thin line nor that of a solid roof), chooses where `body.fit_body` is tried; the final stage,
small boosted regression trees (scikit-learn's gradient boosting, exported as arrays), predicts
each candidate's IoU with the true aircraft box from all `candidates.FEATURE_NAMES`: the score
reads as the expected overlap with a real aircraft, 0 for anything else.
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
    """Return the scorer's JSON record, its stages' vectors as numpy arrays.

    The record has two stages: ``"seed"`` scores the contrast blobs on their own features
    (the first `BLOB_FEATURES`) to choose where `fit_body` is tried; ``"final"`` scores every
    candidate, blob or body fit, on all `FEATURE_NAMES`.

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
    for stage in record["stages"].values():
        for key in ("mean", "scale", "coef"):
            if key in stage:
                stage[key] = np.asarray(stage[key], dtype=np.float64)
        for tree in stage.get("trees", ()):
            for key in ("left", "right", "feature"):
                tree[key] = np.asarray(tree[key], dtype=np.int64)
            for key in ("threshold", "value"):
                tree[key] = np.asarray(tree[key], dtype=np.float64)
    return record


def _trees_logit(stage: dict, x: np.ndarray) -> np.ndarray:
    """Sum of the boosted regression trees' leaf values (scikit-learn's layout, -1 = leaf)."""
    total = np.full(x.shape[0], float(stage["init"]))
    rows = np.arange(x.shape[0])
    for tree in stage["trees"]:
        node = np.zeros(x.shape[0], dtype=np.int64)
        for _ in range(int(stage["max_depth"]) + 1):
            leaf = tree["left"][node] < 0
            if leaf.all():
                break
            f = np.where(leaf, 0, tree["feature"][node])
            go_left = x[rows, f] <= tree["threshold"][node]
            nxt = np.where(go_left, tree["left"][node], tree["right"][node])
            node = np.where(leaf, node, nxt)
        total += float(stage["learning_rate"]) * tree["value"][node]
    return total


def score_features(
    features: np.ndarray, *, stage: str = "final", model: dict | None = None
) -> np.ndarray:
    """Return the probability that each candidate is a well-boxed aircraft.

    Parameters
    ----------
    features : (N, F) float ndarray
        Rows of `candidates.FEATURE_NAMES` (the first ``n_features`` of the stage are used).
    stage : {"final", "seed"}, optional
        Which model.
    model : dict, optional
        A `load_model` record; the shipped one by default.

    Returns
    -------
    (N,) float64 ndarray
        In [0, 1]: a probability (seed stage) or a predicted IoU (final stage).
    """
    record = model or load_model()
    st = record["stages"][stage]
    features = np.atleast_2d(np.asarray(features, dtype=np.float64))
    if features.shape[0] == 0:
        return np.zeros(0)
    if st.get("kind") == "boosted trees":
        raw = _trees_logit(st, features[:, : int(st["n_features"])])
        if st.get("link") == "identity":  # a regression of the IoU
            return np.clip(raw, 0.0, 1.0)
        logit = raw
    else:
        x = expand(features[:, : len(st["mean"])], st["mean"], st["scale"])
        logit = x @ st["coef"] + float(st["intercept"])
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -40, 40)))
