"""A site's dated tiles: which tiles show one site, their dates, and their registration."""

from imagery_tool.sitestack.dated import DatedTile, Skipped, date_order
from imagery_tool.sitestack.files import (
    GEORASTER_SUFFIXES,
    RASTER_SUFFIXES,
    fingerprint,
    site_name,
)
from imagery_tool.sitestack.grouping import SAME_SITE_OVERLAP, footprint, group_by_site
from imagery_tool.sitestack.register import placement_note, register_to_reference
from imagery_tool.sitestack.stac import CatalogTile, read_stac

__all__ = [
    "GEORASTER_SUFFIXES",
    "RASTER_SUFFIXES",
    "SAME_SITE_OVERLAP",
    "CatalogTile",
    "DatedTile",
    "Skipped",
    "date_order",
    "fingerprint",
    "footprint",
    "group_by_site",
    "placement_note",
    "read_stac",
    "register_to_reference",
    "site_name",
]
