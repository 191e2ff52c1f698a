"""Proposals as a FeatureCollection: lon/lat GeoJSON (RFC 7946) or pixel JSON, like detect.

Each feature is the rotated box, with ``label`` (best-fitting type), ``source = "proposed"``,
``score``, ``corners_px`` and ``tile`` as the annotation GeoJSON has them, so the file imports
with ``imagery-tool annotations import`` as it is; ``bbox_px``, ``length_m``, ``width_m``,
``heading_deg`` and the ranked ``types`` ride along (the importer notes them as not imported).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from imagery_tool.aircraft.propose import AircraftProposal
from imagery_tool.atomic import atomic_outputs
from imagery_tool.errors import NotGeoreferencedError, UnsupportedCRSError
from imagery_tool.geometry import counter_clockwise
from imagery_tool.georef import crs_label
from imagery_tool.runtime import current

__all__ = ["proposals_collection", "write_proposals"]

_DECIMALS = 7  # as change/result.py: 1e-7 degree is about 1 cm


def proposals_collection(
    proposals: list[AircraftProposal],
    tile,
    *,
    pixel_size_m: float,
    pixel_size_assumed: bool,
    lonlat: bool,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the FeatureCollection of `proposals` found in `tile`.

    Parameters
    ----------
    proposals : list of AircraftProposal
    tile : Tile
        The tile they were found in (name, date, georeference).
    pixel_size_m : float
        The pixel size the sizes were measured with.
    pixel_size_assumed : bool
        True when the tile has no GSD and `pixel_size_m` was assumed (recorded in the file).
    lonlat : bool
        Lon/lat polygons (RFC 7946) when True, else ``(col, row)`` pixel polygons.
    parameters : dict, optional
        Options of the run, recorded as they are, with the process-wide settings in force
        (`imagery_tool.runtime.current`) under ``"runtime"``.

    Returns
    -------
    dict

    Raises
    ------
    NotGeoreferencedError, UnsupportedCRSError
        `lonlat` asked of a tile without (usable) georeference.
    """
    g = tile.georef
    if lonlat and not g.is_georeferenced:
        raise NotGeoreferencedError(
            f"{tile.path} has no georeference, so lon/lat GeoJSON cannot be written; write a "
            ".json output (pixel coordinates) instead"
        )
    if lonlat and not g.has_lonlat:
        raise UnsupportedCRSError(
            f"{tile.path}: its CRS {crs_label(g.crs)!r} has no known relation to "
            "longitude/latitude; write a .json output (pixel coordinates) instead"
        )
    acquired = tile.acquired.isoformat()  # None when the date is not known
    features = []
    for p in proposals:
        ring = np.asarray(p.corners_px, dtype=np.float64)
        if lonlat:
            lon, lat = g.pixel_to_lonlat(ring[:, 0], ring[:, 1])
            ring = np.column_stack([lon, lat])
            decimals = _DECIMALS
        else:
            decimals = 3
        ring = counter_clockwise(ring, closed=True)
        props = {"label": p.label(), "source": "proposed", "tile": tile.path.name}
        if acquired:
            props["acquired"] = acquired
        props.update(p.to_dict())
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[round(float(x), decimals), round(float(y), decimals)] for x, y in ring]
                    ],
                },
                "properties": props,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "coordinates": "lon/lat (WGS 84)" if lonlat else "pixel (col, row)",
        "tile": tile.path.name,
        "acquired": acquired,
        "pixel_size_m": pixel_size_m,
        "pixel_size_assumed": pixel_size_assumed,
        "parameters": {**(parameters or {}), "runtime": current().to_dict()},
    }


def write_proposals(path: str | Path, collection: dict[str, Any]) -> Path:
    """Write a `proposals_collection` atomically (the old file stays if anything fails)."""
    path = Path(path)
    with atomic_outputs([path]) as (tmp,):
        tmp.write_text(json.dumps(collection, indent=1) + "\n", encoding="utf-8", newline="\n")
    return path
