"""Connected groups of items linked by pairs (union-find)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["connected_groups"]


def connected_groups(count: int, links: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Group the indexes ``0 .. count - 1`` that are linked, directly or through others.

    Parameters
    ----------
    count : int
        Number of items.
    links : iterable of (int, int)
        Pairs of linked indexes.

    Returns
    -------
    list of list of int
        Each group's indexes in increasing order; groups in the order of their first index.
    """
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in links:
        parent[find(i)] = find(j)
    members: dict[int, list[int]] = {}
    for i in range(count):
        members.setdefault(find(i), []).append(i)
    return list(members.values())
