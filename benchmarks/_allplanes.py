"""The AllPlanes example crops (``../shared/aircraft_allplanes``): their pixel size, one place.

The crops state no ground resolution; their file names carry the web-map provider, zoom and
tile (``..._mapbox_201216_18_<x>_<y>_...``), from which it follows (Web Mercator). Mapbox's
raster tiles are 512 px, Google's and Bing's 256 px.
"""

from __future__ import annotations

import math
import re

__all__ = ["webmap_gsd"]


def webmap_gsd(name: str) -> float:
    """Return the metres per pixel of a web-map crop from its name (zoom, tile row, provider)."""
    m = re.search(r"_(google|bing|mapbox)_\d+_(\d+)_(\d+)_(\d+)_", name)
    if not m:
        raise ValueError(f"no zoom/tile in {name}")
    provider, zoom, ty = m.group(1), int(m.group(2)), int(m.group(4))
    n = 2.0**zoom
    lat = math.atan(math.sinh(math.pi * (1 - 2 * (ty + 0.5) / n)))
    tile_px = 512 if provider == "mapbox" else 256
    return 40075016.686 * math.cos(lat) / (n * tile_px)
