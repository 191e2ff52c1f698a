"""Describe a tile as a plain, JSON-ready record (what ``imagery-tool info`` prints)."""

from __future__ import annotations

from typing import Any

from pyproj.exceptions import ProjError

from imagery_tool.tile import Tile

__all__ = ["describe_tile"]


def describe_tile(tile: Tile) -> dict[str, Any]:
    """Return a JSON-ready description of a tile.

    Parameters
    ----------
    tile : Tile
        An open tile.

    Returns
    -------
    dict
        Keys: ``path``, ``driver``, ``width``, ``height``, ``count``, ``dtype``, ``bands`` (index,
        colour interpretation, description), ``georeferenced``, ``crs`` (``"EPSG:32636"`` or
        the CRS's name), ``epsg``, ``crs_name``, ``gcp_count``, ``transform`` (6 affine
        coefficients a..f), ``rotated``, ``south_up``, ``bounds`` (map units), ``lonlat_bounds``
        and ``center_lonlat`` (degrees; ``None`` without a CRS), ``gsd_m``, ``date`` (ISO 8601 or
        ``None``), ``date_source``, ``overviews``, ``nodata``, ``mask``, ``compression``,
        ``block_shape``.
    """
    g = tile.georef
    record: dict[str, Any] = {
        "path": str(tile.path),
        "driver": tile.driver,
        "width": tile.width,
        "height": tile.height,
        "count": tile.count,
        "dtype": tile.dtype,
        "bands": [
            {"index": i + 1, "colorinterp": ci, "description": tile.descriptions[i]}
            for i, ci in enumerate(tile.colorinterp)
        ],
        "georeferenced": g.is_georeferenced,
        "crs": None,
        "epsg": g.epsg,
        "crs_name": None,
        "gcp_count": tile.gcp_count,
        "transform": [round(v, 12) for v in tuple(g.transform)[:6]],
        "rotated": g.is_rotated,
        "south_up": g.is_south_up,
        "bounds": dict(zip(("left", "bottom", "right", "top"), map(float, g.bounds), strict=True)),
        "lonlat_bounds": None,
        "center_lonlat": None,
        "gsd_m": None if g.gsd_m is None else [round(v, 6) for v in g.gsd_m],
        "date": tile.acquired.isoformat(),
        "date_source": tile.acquired.source,
        "overviews": list(tile.overview_factors),
        "nodata": _json_number(tile.nodata),
        "mask": tile.mask_kind,
        "compression": tile.compression,
        "block_shape": list(tile.block_shape),
    }
    if g.crs is not None:
        record["crs"] = f"EPSG:{g.epsg}" if g.epsg else g.crs.to_string()
        record["crs_name"] = _crs_name(g)
        try:
            west, south, east, north = g.lonlat_bounds()
            record["lonlat_bounds"] = {"west": west, "south": south, "east": east, "north": north}
            record["center_lonlat"] = list(g.center_lonlat)
        except ProjError:  # a local/engineering CRS with no path to WGS 84
            pass
    return record


def _crs_name(georef) -> str:
    from pyproj import CRS as ProjCRS

    return ProjCRS.from_user_input(georef.crs.to_wkt()).name


def _json_number(value: float | None) -> float | str | None:
    """JSON has no NaN: a NaN nodata value is written as the string ``"nan"``."""
    if value is None:
        return None
    if value != value:
        return "nan"
    return value
