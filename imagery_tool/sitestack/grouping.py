"""Which tiles show one site: footprints that overlap enough, linked through one another."""

from __future__ import annotations

from collections.abc import Sequence

from imagery_tool.grouping import connected_groups
from imagery_tool.tile import Tile

__all__ = ["SAME_SITE_OVERLAP", "footprint", "group_by_site", "shared_fraction"]

# Two footprints show one site when they share this fraction of the smaller one. Dates of a
# site are shot over the same place, so they share most of it; neighbouring scenes of a mosaic
# share an edge strip (typically 5 to 20 %) and are other places. Half keeps a crop of a larger
# scene with it (it shares all of the crop) while a row of neighbours, linked one to the next,
# never chains into one "site" whose first date covers only part of the others.
SAME_SITE_OVERLAP = 0.5


def footprint(tile: Tile) -> tuple[float, float, float, float] | None:
    """Return the tile's ``(west, south, east, north)`` in degrees, or None without lon/lat."""
    g = tile.georef
    if not g.is_georeferenced:
        return None
    try:
        return g.lonlat_bounds()
    except Exception:  # noqa: BLE001 - an exotic CRS without a lon/lat transform
        return None


def shared_fraction(a, b) -> float:
    """Intersection of two ``(W, S, E, N)`` boxes over the smaller one's area, in 0..1."""
    w, s = max(a[0], b[0]), max(a[1], b[1])
    e, n = min(a[2], b[2]), min(a[3], b[3])
    if e <= w or n <= s:
        return 0.0
    inter = (e - w) * (n - s)
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return inter / smaller if smaller > 0 else 0.0


def group_by_site(tiles: Sequence[Tile]) -> list[list[int]]:
    """Group tiles into sites, whatever their order.

    Two tiles are linked when their footprints share at least `SAME_SITE_OVERLAP` of the
    smaller one; a site is every tile linked to another directly or through others
    (`imagery_tool.grouping.connected_groups`). Tiles without georeference are one site
    when they have the same size in pixels; a georeferenced tile without lon/lat (a local
    CRS) is a site of its own.

    Parameters
    ----------
    tiles : sequence of Tile

    Returns
    -------
    list of list of int
        Each site's tile indexes in increasing order; sites in the order of their first tile.
    """
    feet = [footprint(t) for t in tiles]

    def same_site(i: int, j: int) -> bool:
        fi, fj = feet[i], feet[j]
        if fi is not None and fj is not None:
            return shared_fraction(fi, fj) >= SAME_SITE_OVERLAP
        if fi is None and fj is None:
            gi, gj = tiles[i].georef, tiles[j].georef
            return not gi.is_georeferenced and not gj.is_georeferenced and gi.shape == gj.shape
        return False

    n = len(tiles)
    links = ((i, j) for i in range(n) for j in range(i + 1, n) if same_site(i, j))
    return connected_groups(n, links)
