"""The learned proposal scorer over candidate shape features, applied with numpy.

The model ships as ``imagery_tool/aircraft/data/proposal_scorer.json.gz``, a model file
(`imagery_tool.models.file`) with its provenance (trained by ``tools/train_aircraft_scorer.py``
on generated scenes with exact truth; nothing is downloaded). Two stages: the seed stage, a
logistic regression on the blob features standardised and squared (so it can prefer a middle
range: a fill ratio neither that of a thin line nor that of a solid roof), chooses where
`body.fit_body` is tried; the final stage, boosted regression trees
(`imagery_tool.models.trees.BoostedTrees`), predicts each candidate's IoU with the true
aircraft box from all `candidates.FEATURE_NAMES`: the score reads as the expected overlap with
a real aircraft, 0 for anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from imagery_tool.aircraft.candidates import FEATURE_NAMES
from imagery_tool.models.file import ModelKind, load_model_file, shipped_model_file
from imagery_tool.models.trees import BoostedTrees

__all__ = [
    "KIND",
    "MODEL_FILE",
    "LogisticStage",
    "ProposalScorer",
    "expand",
    "load_model",
    "score_features",
]

#: The shipped scorer, in ``imagery_tool/aircraft/``.
MODEL_FILE = "data/proposal_scorer.json.gz"
#: What a proposal scorer file holds: `FEATURE_NAMES`, measured by `candidates`.
KIND = ModelKind(
    "aircraft proposal scorer", FEATURE_NAMES, ("imagery_tool.aircraft.candidates",),
    "tools/train_aircraft_scorer.py",
)  # fmt: skip


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


@dataclass(frozen=True, eq=False)
class LogisticStage:
    """A logistic regression on standardised features and their squares (`expand`).

    Attributes
    ----------
    mean, scale : (F,) float64 ndarray
        The standardisation of the first F features.
    coef : (2F,) float64 ndarray
    intercept : float
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, raw: dict) -> LogisticStage:
        """Read the plain-JSON form written by `to_dict`."""
        return cls(
            *(np.asarray(raw[key], dtype=np.float64) for key in ("mean", "scale", "coef")),
            float(raw["intercept"]),
        )

    def to_dict(self) -> dict:
        """Return the stage as plain JSON types."""
        return {
            "kind": "logistic regression",
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Return the probability of each row (its first ``len(mean)`` features are read)."""
        x = expand(features[:, : len(self.mean)], self.mean, self.scale)
        logit = x @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -40, 40)))


@dataclass(frozen=True, eq=False)
class ProposalScorer:
    """The two stages of the proposal scorer and its operating point.

    Attributes
    ----------
    seed : LogisticStage
        Scores the contrast blobs on their own features (the first `BLOB_FEATURES`) to choose
        where `fit_body` is tried.
    final : BoostedTrees or None
        Predicts every candidate's IoU with a true aircraft box from all `FEATURE_NAMES`
        (identity link); None while the trainer collects the final stage's samples.
    min_score : float
        The default lowest score of a proposal.
    provenance : dict
        How the model was made.
    """

    seed: LogisticStage
    final: BoostedTrees | None
    min_score: float
    provenance: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path, *, content: bytes | None = None) -> ProposalScorer:
        """Read a proposal scorer's model file, checked against the code.

        Parameters
        ----------
        path : str or Path
            A file written by ``tools/train_aircraft_scorer.py`` (plain or gzipped JSON).
        content : bytes, optional
            Its bytes, when already read (a packaged resource).

        Returns
        -------
        ProposalScorer

        Raises
        ------
        imagery_tool.errors.ModelFileError
            When the file is no proposal scorer, is malformed or was trained on other
            features than `FEATURE_NAMES`.

        Warns
        -----
        imagery_tool.errors.FeatureCodeWarning
            When the code measuring the features changed since the model was trained.
        """
        return load_model_file(path, kind=KIND, build=cls._from_record, content=content)

    @classmethod
    def _from_record(cls, record: dict) -> ProposalScorer:
        """Build the scorer from a checked model-file record (`load_model_file`)."""
        predictors = record["predictors"]
        return cls(
            seed=LogisticStage.from_dict(predictors["seed"]),
            final=BoostedTrees.from_dict(predictors["final"]),
            min_score=float(record["operating_points"]["min_score"]),
            provenance=dict(record.get("provenance", {})),
        )

    def to_record(self) -> dict:
        """Return the scorer as a model-file record (`imagery_tool.models.file.write_model`).

        Its ``feature_code`` is today's: the record of a model trained now, by this code.
        """
        if self.final is None:
            raise ValueError("a scorer without its final stage is not written")
        return KIND.record(
            operating_points={"min_score": self.min_score},
            provenance=self.provenance,
            predictors={
                "seed": self.seed.to_dict(),
                "final": {"kind": "boosted trees", **self.final.to_dict()},
            },
        )


@lru_cache(maxsize=4)
def load_model(path: str | Path | None = None) -> ProposalScorer:
    """Return the proposal scorer of a model file, cached; the shipped one by default."""
    if path is None:
        label, content = shipped_model_file("imagery_tool.aircraft", MODEL_FILE)
        return ProposalScorer.load(label, content=content)
    return ProposalScorer.load(path)


def score_features(
    features: np.ndarray, *, stage: str = "final", model: ProposalScorer | None = None
) -> np.ndarray:
    """Return the probability that each candidate is a well-boxed aircraft.

    Parameters
    ----------
    features : (N, F) float ndarray
        Rows of `candidates.FEATURE_NAMES` (the first features the stage reads are used).
    stage : {"final", "seed"}, optional
        Which model.
    model : ProposalScorer, optional
        The shipped one by default.

    Returns
    -------
    (N,) float64 ndarray
        In [0, 1]: a probability (seed stage) or a predicted IoU (final stage).
    """
    scorer = model or load_model()
    features = np.atleast_2d(np.asarray(features, dtype=np.float64))
    if features.shape[0] == 0:
        return np.zeros(0)
    if stage == "seed":
        return scorer.seed.predict(features)
    return np.clip(scorer.final.predict(features), 0.0, 1.0)
