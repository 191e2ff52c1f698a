"""The region model: boosted trees that score candidate objects, and its two operating points."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from imagery_tool.change.features import FEATURES
from imagery_tool.models.file import ModelKind, load_model_file, shipped_model_file
from imagery_tool.models.trees import BoostedTrees

__all__ = ["KIND", "MODEL_FILE", "RegionModel", "default_model"]

#: The shipped model, in ``imagery_tool/change/``.
MODEL_FILE = "data/region_model.json.gz"
#: What a region model file holds: `FEATURES`, measured by `imagery_tool.change.features`.
KIND = ModelKind(
    "region model", FEATURES, ("imagery_tool.change.features",), "tools/train_region_model.py"
)
PREDICTOR = "changed_object"


@dataclass(frozen=True, eq=False)
class RegionModel:
    """A binary boosted-tree ensemble (log-loss) over named features, with its operating points.

    Attributes
    ----------
    features : tuple of str
        Feature names, in column order.
    trees : BoostedTrees
        The ensemble, logistic link: its `~BoostedTrees.predict` is the probability.
    min_score : float
        The probability above which a candidate is reported by default, on pairs whose dates
        differ by sensor noise (chosen on generated scenes).
    min_score_dissimilar : float or None
        The default on pairs whose dates are months apart (chosen on real pairs); None: as
        `min_score`. See `operating_point`.
    provenance : dict
        How the model was made (script, commit, data, estimator, measured accuracy).
    """

    features: tuple[str, ...]
    trees: BoostedTrees
    min_score: float
    min_score_dissimilar: float | None = None
    provenance: dict = field(default_factory=dict)

    @classmethod
    def probe(cls, features: tuple[str, ...]) -> RegionModel:
        """Make a model without trees that keeps every candidate and every box hypothesis.

        What `tools/train_region_model.py` runs the detector with to collect training
        candidates (each scores 0.5).
        """
        trees = BoostedTrees((), 0.0, 1.0, len(features))
        return cls(tuple(features), trees, 0.0, None, {"probe": True})

    def operating_point(self, dissimilar: float) -> float:
        """Return the default ``min_score`` for a pair, 0 to 1 of the dissimilar kind.

        Linear between `min_score` (dates that differ by sensor noise) and
        `min_score_dissimilar` (dates months apart); see
        `imagery_tool.change.level.dissimilarity_weight`.
        """
        far = self.min_score if self.min_score_dissimilar is None else self.min_score_dissimilar
        return float((1.0 - dissimilar) * self.min_score + dissimilar * far)

    @property
    def is_probe(self) -> bool:
        """Whether this is a `probe` (no trees)."""
        return not self.trees.trees

    @classmethod
    def load(cls, path: str | Path, *, content: bytes | None = None) -> RegionModel:
        """Read a region model file (`imagery_tool.models.file`), checked against the code.

        Parameters
        ----------
        path : str or Path
            A file written by ``tools/train_region_model.py`` (plain or gzipped JSON).
        content : bytes, optional
            Its bytes, when already read (a packaged resource).

        Returns
        -------
        RegionModel

        Raises
        ------
        imagery_tool.errors.ModelFileError
            When the file is no region model file, is malformed or was trained on other
            features than `imagery_tool.change.features.FEATURES`.

        Warns
        -----
        imagery_tool.errors.FeatureCodeWarning
            When the code measuring the features changed since the model was trained.
        """
        return load_model_file(path, kind=KIND, build=cls._from_record, content=content)

    @classmethod
    def _from_record(cls, record: dict) -> RegionModel:
        """Build the model from a checked model-file record (`load_model_file`)."""
        points = record["operating_points"]
        far = points.get("min_score_dissimilar")
        return cls(
            features=tuple(record["features"]),
            trees=BoostedTrees.from_dict(record["predictors"][PREDICTOR]),
            min_score=float(points["min_score"]),
            min_score_dissimilar=None if far is None else float(far),
            provenance=dict(record.get("provenance", {})),
        )

    def to_record(self) -> dict:
        """Return the model as a model-file record (`imagery_tool.models.file.write_model`).

        Its ``feature_code`` is today's: the record of a model trained now, by this code.
        """
        return KIND.record(
            operating_points={
                "min_score": self.min_score,
                "min_score_dissimilar": self.min_score_dissimilar,
            },
            provenance=self.provenance,
            predictors={PREDICTOR: {"kind": "boosted trees", **self.trees.to_dict()}},
        )

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Probability that each candidate is a changed object.

        Parameters
        ----------
        x : (N, len(features)) float ndarray

        Returns
        -------
        (N,) float64 ndarray in 0..1
        """
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[1] != len(self.features):
            raise ValueError(f"expected {len(self.features)} features, got {x.shape[1]}")
        return self.trees.predict(x)


@cache
def default_model() -> RegionModel:
    """Load the model shipped with the package (``change/data/region_model.json.gz``)."""
    label, content = shipped_model_file("imagery_tool.change", MODEL_FILE)
    return RegionModel.load(label, content=content)
