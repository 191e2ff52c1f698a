"""The region model: gradient-boosted trees that score candidate objects from their features."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["RegionModel", "default_model"]


@dataclass(frozen=True, eq=False)
class RegionModel:
    """A binary gradient-boosted tree ensemble (log-loss) over named features.

    Attributes
    ----------
    features : tuple of str
        Feature names, in column order.
    trees : tuple of dict
        Each with ``feature``, ``threshold``, ``left``, ``right`` (node arrays; a leaf has
        ``left == -1``) and ``value`` (the leaf's contribution to the log-odds).
    base : float
        Log-odds before the trees.
    learning_rate : float
    min_score : float
        The probability above which a candidate is reported by default, on pairs whose dates
        differ by sensor noise (chosen on generated scenes).
    about : dict
        How the model was trained (data, seeds, measured accuracy).
    min_score_dissimilar : float or None
        The default on pairs whose dates are months apart (chosen on real pairs); None: as
        `min_score`. See `operating_point`.
    """

    features: tuple[str, ...]
    trees: tuple[dict, ...]
    base: float
    learning_rate: float
    min_score: float
    about: dict
    min_score_dissimilar: float | None = None

    @classmethod
    def probe(cls, features: tuple[str, ...]) -> RegionModel:
        """Make a model without trees that keeps every candidate and every box hypothesis.

        What `benchmarks/train_region_model.py` runs the detector with to collect training
        candidates (each scores 0.5).
        """
        return cls(tuple(features), (), 0.0, 1.0, 0.0, {"probe": True})

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
        return not self.trees

    @classmethod
    def load(cls, path: str | Path) -> RegionModel:
        """Read a model written as JSON (`to_dict`).

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        RegionModel
        """
        raw = json.loads(Path(path).read_text())
        return cls._from_dict(raw)

    @classmethod
    def _from_dict(cls, raw: dict) -> RegionModel:
        trees = tuple(
            {
                "feature": np.asarray(t["feature"], dtype=np.intp),
                "threshold": np.asarray(t["threshold"], dtype=np.float64),
                "left": np.asarray(t["left"], dtype=np.intp),
                "right": np.asarray(t["right"], dtype=np.intp),
                "value": np.asarray(t["value"], dtype=np.float64),
            }
            for t in raw["trees"]
        )
        return cls(
            features=tuple(raw["features"]),
            trees=trees,
            base=float(raw["base"]),
            learning_rate=float(raw["learning_rate"]),
            min_score=float(raw["min_score"]),
            about=dict(raw.get("about", {})),
            min_score_dissimilar=(
                None if raw.get("min_score_dissimilar") is None
                else float(raw["min_score_dissimilar"])
            ),
        )  # fmt: skip

    def to_dict(self) -> dict:
        """Return the model as plain JSON types (what `load` reads)."""
        return {
            "features": list(self.features),
            "base": self.base,
            "learning_rate": self.learning_rate,
            "min_score": self.min_score,
            "min_score_dissimilar": self.min_score_dissimilar,
            "about": self.about,
            "trees": [{k: np.asarray(v).tolist() for k, v in t.items()} for t in self.trees],
        }

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Probability that each candidate is a changed object.

        Parameters
        ----------
        x : (N, len(features)) float ndarray

        Returns
        -------
        (N,) float64 ndarray in 0..1
        """
        # the trees were fitted on float32 features (scikit-learn casts): compare alike
        x = np.atleast_2d(np.asarray(x, dtype=np.float32)).astype(np.float64)
        if x.shape[1] != len(self.features):
            raise ValueError(f"expected {len(self.features)} features, got {x.shape[1]}")
        if not self.trees:
            return np.full(len(x), 1.0 / (1.0 + math.exp(-self.base)))
        feature, threshold, left, right, value, roots, depth = self._flat
        at = np.tile(roots, (len(x), 1))  # all rows down all trees at once: flat node indexes
        rows = np.arange(len(x))[:, None]
        for _ in range(depth):  # a leaf leads to itself
            go_left = x[rows, feature.take(at)] <= threshold.take(at)
            at = np.where(go_left, left.take(at), right.take(at))
        raw = self.base + self.learning_rate * value.take(at).sum(axis=1)
        return 1.0 / (1.0 + np.exp(-raw))

    @cached_property
    def _flat(self) -> tuple:
        """The trees' nodes in flat arrays, children as flat indexes; a leaf is its own child.

        Returns ``(feature, threshold, left, right, value, roots, depth)``: one lookup per
        level and no test for leaves while walking `probability`'s rows down the trees.
        """
        width = max(len(t["left"]) for t in self.trees)
        keys = ("feature", "threshold", "left", "right", "value")
        pads = (0, 0.0, -1, -1, 0.0)
        feature, threshold, left, right, value = (
            np.stack(
                [np.pad(t[k], (0, width - len(t[k])), constant_values=pad) for t in self.trees]
            )
            for k, pad in zip(keys, pads, strict=True)
        )
        roots = np.arange(len(self.trees)) * width
        itself = roots[:, None] + np.arange(width)
        leaf = left < 0
        left = np.where(leaf, itself, left + roots[:, None]).ravel()
        right = np.where(leaf, itself, right + roots[:, None]).ravel()
        depth, level = 0, roots  # the longest path: levels down until only leaves remain
        while (splits := level[left[level] != level]).size:
            depth, level = depth + 1, np.concatenate([left[splits], right[splits]])
        return feature.ravel(), threshold.ravel(), left, right, value.ravel(), roots, depth


@cache
def default_model() -> RegionModel:
    """Load the model shipped with the package (``change/data/region_model.json``)."""
    text = resources.files("imagery_tool.change").joinpath("data/region_model.json").read_text()
    return RegionModel._from_dict(json.loads(text))
