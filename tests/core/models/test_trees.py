"""The one boosted-tree evaluator: sums of leaves, links, precision, its plain-JSON form."""

from __future__ import annotations

import json

import numpy as np
import pytest

from imagery_tool.models.trees import BoostedTrees


def _stump(threshold: float, feature: int = 0) -> dict:
    """One split: at or below ``threshold`` -2, above +2 (scikit-learn marks leaves -2)."""
    return {
        "feature": np.array([feature, -2, -2]),
        "threshold": np.array([threshold, -2.0, -2.0]),
        "left": np.array([1, -1, -1]),
        "right": np.array([2, -1, -1]),
        "value": np.array([0.0, -2.0, 2.0]),
    }


def test_the_identity_link_gives_the_sum_of_the_leaves():
    trees = BoostedTrees((_stump(0.5), _stump(1.5, feature=1)), 0.1, 0.5, 2, link="identity")
    x = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]])
    np.testing.assert_allclose(trees.predict(x), 0.1 + 0.5 * np.array([-4, 0, 4]))


def test_the_logistic_link_reads_the_sum_as_log_odds():
    trees = BoostedTrees((_stump(0.5),), 0.0, 1.0, 1)
    np.testing.assert_allclose(trees.predict(np.array([[0.0], [1.0]])), 1 / (1 + np.exp([2, -2])))


def test_only_the_first_n_features_are_read_and_too_few_are_refused():
    trees = BoostedTrees((_stump(0.5),), 0.0, 1.0, 1, link="identity")
    np.testing.assert_array_equal(trees.raw(np.array([[1.0, -9.0, -9.0]])), [2.0])
    with pytest.raises(ValueError, match="expected 2 features"):
        BoostedTrees((), 0.0, 1.0, 2).raw(np.zeros((1, 1)))


def test_float32_comparison_gives_scikit_learns_side_of_a_threshold():
    # scikit-learn compares float32 features: 0.1 rounds up to 0.10000000149, above the
    # threshold 0.1000000001, where a float64 comparison keeps it below
    x = np.array([[0.1]])
    as_sklearn = BoostedTrees((_stump(0.1000000001),), 0.0, 1.0, 1, link="identity")
    assert as_sklearn.raw(x)[0] == 2.0
    as_float64 = BoostedTrees((_stump(0.1000000001),), 0.0, 1.0, 1, "identity", "float64")
    assert as_float64.raw(x)[0] == -2.0


def test_no_trees_and_no_rows():
    assert BoostedTrees((), 0.0, 1.0, 2).predict(np.ones((2, 2))).tolist() == [0.5, 0.5]
    assert BoostedTrees((_stump(0.5),), 0.0, 1.0, 1).raw(np.zeros((0, 1))).shape == (0,)


def test_plain_json_round_trip_keeps_every_number():
    rng = np.random.default_rng(1)
    trees = BoostedTrees((_stump(0.3), _stump(0.7)), 0.123456789, 0.05, 1)
    back = BoostedTrees.from_dict(json.loads(json.dumps(trees.to_dict())))
    x = rng.random((100, 1))
    np.testing.assert_array_equal(back.raw(x), trees.raw(x))


@pytest.mark.parametrize(("field", "value"), [("link", "probit"), ("feature_dtype", "float16")])
def test_unknown_link_or_precision_is_refused(field, value):
    raw = BoostedTrees((), 0.0, 1.0, 1).to_dict()
    raw[field] = value
    with pytest.raises(ValueError, match=field):
        BoostedTrees.from_dict(raw)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"left": [1, 0, -1], "right": [2, 0, -1]}, "node 1's left child 0"),  # a cycle
        ({"left": [1, -1, -1], "right": [7, -1, -1]}, "node 0's right child 7"),  # no node 7
        ({"left": [1, -1, -1], "right": [-1, -1, -1]}, "one child"),
        ({"feature": [3, -2, -2]}, "node 0 splits on feature 3 of 1"),
        ({"threshold": [0.5, -2.0]}, "differ in length"),
        ({key: [] for key in ("feature", "threshold", "left", "right", "value")}, "no nodes"),
    ],
)
def test_node_arrays_that_are_no_tree_are_refused(change, match):
    raw = BoostedTrees((_stump(0.5),), 0.0, 1.0, 1).to_dict()
    raw["trees"].append({**raw["trees"][0], **change})
    with pytest.raises(ValueError, match=rf"tree 1: .*{match}"):
        BoostedTrees.from_dict(raw)
