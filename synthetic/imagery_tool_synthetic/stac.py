"""A self-contained STAC catalog (pystac) describing a series' tiles and their datetimes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pystac

from imagery_tool_synthetic.series import Series

__all__ = ["write_catalog"]

_PROJ_V1 = "https://stac-extensions.github.io/projection/v1.1.0/schema.json"
_VIEW_V1 = "https://stac-extensions.github.io/view/v1.0.0/schema.json"


def _footprint(series: Series) -> list[list[float]]:
    site = series.site
    w, h = site.width * site.gsd_m, site.height * site.gsd_m
    ring = np.array([[0, 0], [w, 0], [w, h], [0, h], [0, 0]], dtype=np.float64)
    return np.round(site.ground_to_lonlat(ring), 7).tolist()


def write_catalog(
    series: Series,
    tiles: list[str | os.PathLike],
    root: str | os.PathLike,
    *,
    title: str | None = None,
) -> Path:
    """Write ``catalog.json`` plus one item per tile, with asset hrefs relative to the item.

    Parameters
    ----------
    series : Series
        Supplies dates, georeference and the site name.
    tiles : list of path-like
        The COG written for each date, in date order.
    root : path-like
        Folder of the catalog (the tiles should be inside it).
    title : str, optional
        Catalog title.

    Returns
    -------
    Path
        Path of ``catalog.json``.
    """
    if len(tiles) != len(series):
        raise ValueError(f"{len(tiles)} tiles for a series of {len(series)} dates")
    root = Path(root)
    site = series.site
    ring = _footprint(series)
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    bbox = [min(lons), min(lats), max(lons), max(lats)]
    epsg = int(site.crs.split(":")[1])
    cat = pystac.Catalog(
        id=f"{site.name}-synthetic",
        description=(
            f"Synthetic dated tiles of {site.name} (imagery-tool generator; not real imagery)."
        ),
        title=title or f"{site.name} synthetic series",
    )
    for acq, tile, name in zip(series.acquisitions, tiles, series.tile_names, strict=True):
        item = pystac.Item(
            id=name,
            geometry={"type": "Polygon", "coordinates": [ring]},
            bbox=bbox,
            datetime=acq.when,
            properties={
                "gsd": site.gsd_m,
                "proj:epsg": epsg,
                "proj:shape": [site.height, site.width],
                "proj:transform": list(site.transform)[:6],
                "view:sun_azimuth": round(acq.sun_azimuth_deg, 2),
                "view:sun_elevation": round(acq.sun_elevation_deg, 2),
                "synthetic": True,
            },
            stac_extensions=[_PROJ_V1, _VIEW_V1],
        )
        item.add_asset(
            "image",
            pystac.Asset(
                href=str(Path(tile).resolve()),
                media_type=pystac.MediaType.COG,
                roles=["data"],
                title="RGB image (COG)",
            ),
        )
        cat.add_item(item)
    cat.normalize_hrefs(str(root.resolve()))
    cat.make_all_asset_hrefs_relative()
    cat.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return root / "catalog.json"
