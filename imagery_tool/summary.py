"""Describe a tile as a plain, JSON-ready record (what ``imagery-tool info`` prints)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pyproj import CRS as ProjCRS
from pyproj.exceptions import CRSError

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
        colour interpretation, description, role), ``rgb_bands`` (1-based red, green, blue
        bands of a natural-colour view, or one band for grey), ``rgb_source`` (where they come
        from: ``"colorinterp"``, ``"description"``, ``"band order"`` when the file does not
        say, ``"grey"``), ``value_range`` (``[min, max]`` of a sample of valid pixels, None
        when none is valid), ``bits`` (bits per sample of integer data: the ``NBITS`` tag,
        else the fewest of 8, 10, 11, 12, 14, 16 that hold the sample's maximum; None for
        floats and signed integers without the tag), ``bits_source`` (``"NBITS tag"``,
        ``"dtype"``, ``"sampled values"`` or None), ``georeferenced``, ``crs`` (``"EPSG:32636"`` or
        the CRS's name), ``epsg``, ``crs_name``, ``gcp_count``, ``transform`` (6 affine
        coefficients a..f), ``rotated``, ``south_up``, ``bounds`` (map units), ``lonlat_bounds``
        and ``center_lonlat`` (degrees; ``None`` without a CRS or when the CRS has no known
        relation to lon/lat: a local or engineering CRS, an unusable datum or projection),
        ``gsd_m`` (None when the CRS gives no length), ``date`` (ISO 8601 or ``None``),
        ``date_source``, ``overviews``, ``nodata``, ``mask``, ``compression``,
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
            {
                "index": i + 1,
                "colorinterp": ci,
                "description": tile.descriptions[i],
                "role": tile.band_roles[i],
            }
            for i, ci in enumerate(tile.colorinterp)
        ],
        "rgb_bands": list(tile.rgb_bands),
        "rgb_source": tile.band_roles_source,
        **_values(tile),
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
        record["crs_name"] = _crs_name(g.crs)
        if g.has_lonlat:
            west, south, east, north = g.lonlat_bounds()
            record["lonlat_bounds"] = {"west": west, "south": south, "east": east, "north": north}
            record["center_lonlat"] = list(g.center_lonlat)
    return record


# Bit depths that products use in 16-bit words (a sampled maximum picks the fewest that hold it).
_DEPTHS = (8, 10, 11, 12, 14, 16)


def _values(tile: Tile) -> dict[str, Any]:
    """Value range of a sample of valid pixels, and the bits per sample.

    Full-resolution windows on a 3 x 3 grid (`Tile.sample_windows`; the whole tile when it is
    smaller): bounded work whatever the raster's size, real values (overviews average the
    extremes away).
    """
    low, high = np.inf, -np.inf
    with tile.open() as ds:
        for window in tile.sample_windows():
            pixels = tile.read(window=window, dataset=ds)
            valid = tile.read_valid(window=window, pixels=pixels, dataset=ds)
            values = pixels[:, valid]
            if values.size:
                low, high = min(low, values.min()), max(high, values.max())
    value_range = None if low > high else [_plain(low), _plain(high)]
    kind = np.dtype(tile.dtype)
    bits, source = None, None
    if tile.nbits:
        bits, source = tile.nbits, "NBITS tag"
    elif kind == np.uint8:
        bits, source = 8, "dtype"
    elif kind.kind == "u" and value_range is not None:
        fits = [d for d in _DEPTHS if d <= kind.itemsize * 8 and value_range[1] < 2**d]
        bits, source = (fits[0], "sampled values") if fits else (kind.itemsize * 8, "dtype")
    return {"value_range": value_range, "bits": bits, "bits_source": source}


def _plain(value) -> float | int:
    """Return a JSON number: an int for integer data, a float to 6 significant digits."""
    if isinstance(value, np.integer):
        return int(value)
    return float(f"{float(value):.6g}")


def _crs_name(crs) -> str:
    """Return the CRS's own name (``"WGS 84 / UTM zone 36N"``), or ``"unknown"``."""
    try:
        return ProjCRS.from_user_input(crs.to_wkt()).name or "unknown"
    except CRSError:
        return "unknown"


def _json_number(value: float | None) -> float | str | None:
    """JSON has no NaN nor infinity: they are written as ``"nan"``, ``"inf"``, ``"-inf"``."""
    if value is None:
        return None
    if not math.isfinite(value):
        return str(value)  # Python spells them "nan", "inf", "-inf"
    return value
