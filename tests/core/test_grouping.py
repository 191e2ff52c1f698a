"""Connected groups: what links through others ends in one group, in a stable order."""

from __future__ import annotations

from imagery_tool.grouping import connected_groups


def test_chains_join_and_loners_stay_alone():
    assert connected_groups(6, [(4, 1), (1, 5), (2, 2)]) == [[0], [1, 4, 5], [2], [3]]


def test_no_items_no_groups():
    assert connected_groups(0, []) == []
