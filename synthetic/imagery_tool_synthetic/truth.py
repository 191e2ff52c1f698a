"""Ground-truth records for each tile and each consecutive pair of dates."""

from __future__ import annotations

import numpy as np

from imagery_tool_synthetic.acquisition import Acquisition, ground_to_pixel
from imagery_tool_synthetic.series import Series
from imagery_tool_synthetic.shapes import Body
from imagery_tool_synthetic.site import Site

__all__ = ["object_record", "pair_truth", "tile_truth"]

_SAME_PLACE_M = 0.5


def _r(a, nd: int = 3):
    return np.round(np.asarray(a, dtype=np.float64), nd).tolist()


def _pixels(site: Site, acq: Acquisition, ground: np.ndarray) -> np.ndarray:
    m = ground_to_pixel(acq, gsd_m=site.gsd_m, shape=site.shape)
    return np.asarray(ground) @ m[:, :2].T + m[:, 2]


def object_record(site: Site, acq: Acquisition, body: Body) -> dict:
    """Truth record of one object on one date's pixel grid.

    Parameters
    ----------
    site : Site
        Supplies the georeference.
    acquisition : Acquisition
        The date whose pixel grid (with its misregistration) the pixel coordinates use.
    body : Body
        The object.

    Returns
    -------
    dict
        Keys ``id``, ``class``, ``kind``, ``attributes``, ``corners_px`` (4 x [col, row],
        clockwise from the front-left corner), ``bbox_px`` ([col_min, row_min, col_max,
        row_max]), ``center_px``, ``corners_lonlat``, ``center_lonlat``, ``heading_deg``
        (true heading on the ground, clockwise from north), ``length_m``, ``width_m``.
    """
    g = body.box_ground()
    px = _pixels(site, acq, g)
    c = _pixels(site, acq, np.asarray([body.center]))[0]
    ll = site.ground_to_lonlat(np.concatenate([g, [body.center]]))
    return {
        "id": body.id,
        "class": body.cls,
        "kind": body.kind,
        "attributes": dict(body.attributes),
        "corners_px": _r(px),
        "bbox_px": _r([*px.min(axis=0), *px.max(axis=0)]),
        "center_px": _r(c),
        "corners_lonlat": _r(ll[:4], 7),
        "center_lonlat": _r(ll[4], 7),
        "heading_deg": round(body.heading_deg % 360, 3),
        "length_m": round(body.length_m, 3),
        "width_m": round(body.width_m, 3),
    }


def tile_truth(series: Series, index: int, *, tile: str | None = None) -> dict:
    """Truth for one date of a series.

    Parameters
    ----------
    series : Series
        The scenario.
    index : int
        Date index.
    tile : str, optional
        Tile file name to record; defaults to ``<site>_<date>.tif``.

    Returns
    -------
    dict
        ``{"tile", "date", "datetime", "gsd_m", "crs", "shape", "misregistration":
        {"shift_px", "rotation_deg"}, "sun": {"azimuth_deg", "elevation_deg"},
        "objects": [object records]}``.
    """
    site = series.site
    acq = series.acquisitions[index]
    return {
        "tile": tile or f"{series.tile_names[index]}.tif",
        "date": acq.date,
        "datetime": acq.iso,
        "gsd_m": site.gsd_m,
        "crs": site.crs,
        "shape": [site.height, site.width],
        "synthetic": True,
        "misregistration": {
            "shift_px": _r(acq.shift_px),
            "rotation_deg": round(acq.rotation_deg, 4),
            "about_px": _r([site.width / 2, site.height / 2]),
        },
        "sun": {
            "azimuth_deg": round(acq.sun_azimuth_deg, 2),
            "elevation_deg": round(acq.sun_elevation_deg, 2),
        },
        "objects": [object_record(site, acq, b) for b in series.objects[index]],
    }


def _same_place(a: Body, b: Body) -> bool:
    d = np.hypot(a.center[0] - b.center[0], a.center[1] - b.center[1])
    dh = abs((a.heading_deg - b.heading_deg + 180) % 360 - 180)
    return bool(d <= _SAME_PLACE_M and dh < 1.0 and a.cls == b.cls)


def pair_truth(series: Series, before: int, after: int) -> dict:
    """List what appeared, disappeared and stayed between two dates.

    Boxes are given on the BEFORE tile's pixel grid (``corners_px_before``,
    ``bbox_px_before``), and in lon/lat. An object that moved to another place counts as
    disappeared at its old place and appeared at its new one. Objects that stayed but changed
    attributes (a visor raised or lowered) are also listed under ``changed``.

    Parameters
    ----------
    series : Series
        The scenario.
    before, after : int
        Date indices.

    Returns
    -------
    dict
        ``{"before", "after", "before_tile", "after_tile", "appeared", "disappeared",
        "stayed", "changed"}``.
    """
    site = series.site
    acq_b = series.acquisitions[before]
    old = {b.id: b for b in series.objects[before]}
    new = {b.id: b for b in series.objects[after]}
    stayed = sorted(i for i in old if i in new and _same_place(old[i], new[i]))

    def rec(body: Body) -> dict:
        r = object_record(site, acq_b, body)
        return {
            "id": r["id"],
            "class": r["class"],
            "kind": r["kind"],
            "attributes": r["attributes"],
            "corners_px_before": r["corners_px"],
            "bbox_px_before": r["bbox_px"],
            "corners_lonlat": r["corners_lonlat"],
            "center_lonlat": r["center_lonlat"],
            "length_m": r["length_m"],
            "width_m": r["width_m"],
        }

    return {
        "before": acq_b.date,
        "after": series.acquisitions[after].date,
        "before_tile": f"{series.tile_names[before]}.tif",
        "after_tile": f"{series.tile_names[after]}.tif",
        "appeared": [rec(b) for i, b in new.items() if i not in stayed],
        "disappeared": [rec(b) for i, b in old.items() if i not in stayed],
        "stayed": stayed,
        "changed": [
            {"id": i, "before": old[i].attributes, "after": new[i].attributes}
            for i in stayed
            if old[i].attributes != new[i].attributes
        ],
    }
