"""Boosted regression trees evaluated with numpy: the one evaluator of every learned model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

__all__ = ["LINKS", "BoostedTrees"]

#: How the trees' summed output is read: ``"logistic"`` as log-odds (a probability comes
#: out), ``"identity"`` as the predicted value itself (a regression).
LINKS = ("logistic", "identity")
_NODE_ARRAYS = {  # a node's fields, their type and the value that pads a shorter tree
    "feature": (np.intp, 0),
    "threshold": (np.float64, 0.0),
    "left": (np.intp, -1),
    "right": (np.intp, -1),
    "value": (np.float64, 0.0),
}


@dataclass(frozen=True, eq=False)
class BoostedTrees:
    """A gradient-boosted ensemble of regression trees in scikit-learn's node layout.

    Attributes
    ----------
    trees : tuple of dict
        Each with the node arrays ``feature``, ``threshold``, ``left``, ``right`` (a leaf has
        ``left == -1``; its ``feature`` is ignored) and ``value`` (the leaf's output). A row
        goes left where ``x[feature] <= threshold``.
    base : float
        The output before the trees (scikit-learn's initial prediction, as log-odds for the
        logistic link).
    learning_rate : float
        The factor of every tree's output.
    n_features : int
        Columns the trees read: the first ``n_features`` of a feature row.
    link : {"logistic", "identity"}
        How `predict` reads ``base + learning_rate * sum(leaf values)``.
    feature_dtype : {"float32", "float64"}
        The precision features are compared in. scikit-learn's trees compare float32 features
        (its ``predict`` casts them), so "float32" gives its predictions exactly.
    """

    trees: tuple[dict, ...]
    base: float
    learning_rate: float
    n_features: int
    link: Literal["logistic", "identity"] = "logistic"
    feature_dtype: Literal["float32", "float64"] = "float32"

    def __post_init__(self) -> None:
        if self.link not in LINKS:
            raise ValueError(f"link {self.link!r}: expected one of {LINKS}")
        if self.feature_dtype not in ("float32", "float64"):
            raise ValueError(f"feature_dtype {self.feature_dtype!r}: expected float32 or float64")

    @classmethod
    def from_dict(cls, raw: dict) -> BoostedTrees:
        """Read the plain-JSON form written by `to_dict`.

        Raises
        ------
        KeyError, TypeError, ValueError
            When a field is missing or malformed, or a tree is no tree (`_check_tree`).
        """
        trees = tuple(
            {key: np.asarray(tree[key], dtype=dtype) for key, (dtype, _) in _NODE_ARRAYS.items()}
            for tree in raw["trees"]
        )
        n_features = int(raw["n_features"])
        for number, tree in enumerate(trees):
            _check_tree(tree, n_features, number)
        return cls(
            trees=trees,
            base=float(raw["base"]),
            learning_rate=float(raw["learning_rate"]),
            n_features=n_features,
            link=raw["link"],
            feature_dtype=raw["feature_dtype"],
        )

    @classmethod
    def from_fitted(
        cls, ensemble, x: np.ndarray, *, link: Literal["logistic", "identity"]
    ) -> BoostedTrees:
        """Take a fitted scikit-learn gradient-boosting ensemble, through its public attributes.

        The trees are the documented ``tree_`` arrays of each stage's regressor; the output the
        boosting starts from is the ensemble's raw output (``decision_function`` for the
        logistic link, ``predict`` for the identity link) less the trees' sum, on one row of
        ``x`` (the same for every row). The trainers of both shipped models use this.

        Parameters
        ----------
        ensemble : GradientBoostingClassifier or GradientBoostingRegressor
            Fitted, binary (one column of ``estimators_``).
        x : (N, F) ndarray
            Rows it was fitted on (one is used).
        link : {"logistic", "identity"}
            Logistic for a classifier, identity for a regressor.
        """
        estimators = ensemble.estimators_[:, 0]
        trees = tuple(
            {
                "feature": e.tree_.feature.clip(min=0),
                "threshold": e.tree_.threshold,
                "left": e.tree_.children_left,
                "right": e.tree_.children_right,
                "value": e.tree_.value[:, 0, 0],
            }
            for e in estimators
        )
        row = np.asarray(x[:1], dtype=np.float32)
        summed = sum(float(e.predict(row)[0]) for e in estimators)
        raw = ensemble.decision_function if link == "logistic" else ensemble.predict
        base = float(np.ravel(raw(row))[0]) - ensemble.learning_rate * summed
        return cls(trees, base, ensemble.learning_rate, int(np.shape(x)[1]), link=link)

    def to_dict(self) -> dict:
        """Return the ensemble as plain JSON types (what `from_dict` reads)."""
        return {
            "link": self.link,
            "feature_dtype": self.feature_dtype,
            "n_features": self.n_features,
            "base": self.base,
            "learning_rate": self.learning_rate,
            "trees": [
                {key: np.asarray(t[key]).tolist() for key in _NODE_ARRAYS} for t in self.trees
            ],
        }

    def raw(self, features: np.ndarray) -> np.ndarray:
        """Return ``base + learning_rate * sum of the leaf values`` for each row.

        Parameters
        ----------
        features : (N, F) or (F,) float ndarray
            Feature rows, ``F >= n_features``: the first `n_features` columns are read.

        Returns
        -------
        (N,) float64 ndarray
        """
        x = np.atleast_2d(np.asarray(features, dtype=np.float64))
        if x.shape[1] < self.n_features:
            raise ValueError(f"expected {self.n_features} features, got {x.shape[1]}")
        x = x[:, : self.n_features].astype(self.feature_dtype).astype(np.float64)
        if not self.trees or len(x) == 0:
            return np.full(len(x), self.base)
        feature, threshold, left, right, value, roots, depth = self._flat
        at = np.tile(roots, (len(x), 1))  # all rows down all trees at once: flat node indexes
        rows = np.arange(len(x))[:, None]
        for _ in range(depth):  # a leaf leads to itself
            go_left = x[rows, feature.take(at)] <= threshold.take(at)
            at = np.where(go_left, left.take(at), right.take(at))
        return self.base + self.learning_rate * value.take(at).sum(axis=1)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Return the model's output for each row: `raw` through the `link`.

        Parameters
        ----------
        features : (N, F) or (F,) float ndarray

        Returns
        -------
        (N,) float64 ndarray
            A probability in 0..1 (logistic link) or the predicted value (identity link).
        """
        raw = self.raw(features)
        if self.link == "identity":
            return raw
        return 1.0 / (1.0 + np.exp(-raw))

    @cached_property
    def _flat(self) -> tuple:
        """The trees' nodes in flat arrays, children as flat indexes; a leaf is its own child.

        Returns ``(feature, threshold, left, right, value, roots, depth)``: one lookup per
        level and no test for leaves while walking `raw`'s rows down the trees.
        """
        width = max(len(t["left"]) for t in self.trees)
        feature, threshold, left, right, value = (
            np.stack([np.pad(t[key], (0, width - len(t[key])), constant_values=pad)
                      for t in self.trees])
            for key, (_, pad) in _NODE_ARRAYS.items()
        )  # fmt: skip
        roots = np.arange(len(self.trees)) * width
        itself = roots[:, None] + np.arange(width)
        leaf = left < 0
        feature = np.where(leaf, 0, feature)  # scikit-learn marks a leaf's feature -2
        left = np.where(leaf, itself, left + roots[:, None]).ravel()
        right = np.where(leaf, itself, right + roots[:, None]).ravel()
        depth, level = 0, roots  # the longest path: levels down until only leaves remain
        while (splits := level[left[level] != level]).size:
            depth, level = depth + 1, np.concatenate([left[splits], right[splits]])
        return feature.ravel(), threshold.ravel(), left, right, value.ravel(), roots, depth


def _check_tree(tree: dict, n_features: int, number: int) -> None:
    """Refuse node arrays that are no tree `BoostedTrees.raw` can walk.

    Every split's children come after it (so no path loops) and exist, and it reads one of the
    first `n_features` features; a leaf has ``left == -1`` and ``right == -1``.

    Raises
    ------
    ValueError
        Naming the tree (`number`, from 0) and what is wrong with it.
    """
    lengths = {len(a) for a in tree.values()}
    if len(lengths) != 1 or tree["left"].ndim != 1:
        raise ValueError(f"tree {number}: its node arrays differ in length")
    (size,) = lengths
    if size == 0:
        raise ValueError(f"tree {number}: no nodes")
    left, right, feature = tree["left"], tree["right"], tree["feature"]
    node = np.arange(size)
    leaf = left == -1
    if np.any(leaf != (right == -1)):
        raise ValueError(f"tree {number}: a node with one child")
    for name, child in (("left", left), ("right", right)):
        bad = ~leaf & ((child <= node) | (child >= size))
        if bad.any():
            at = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"tree {number}: node {at}'s {name} child {int(child[at])} is not one of the "
                f"nodes after it (up to {size - 1})"
            )
    bad = ~leaf & ((feature < 0) | (feature >= n_features))
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"tree {number}: node {at} splits on feature {int(feature[at])} of {n_features}"
        )
