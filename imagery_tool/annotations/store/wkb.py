"""GeoPackage geometry blobs: the header, envelope and WKB polygon of a box's lon/lat ring."""

from __future__ import annotations

import struct

import numpy as np

from imagery_tool.annotations.store.layout import SRS_LONLAT
from imagery_tool.geometry import counter_clockwise

__all__ = ["gpkg_polygon"]


def gpkg_polygon(lonlat: np.ndarray | None, *, srs_id: int = SRS_LONLAT) -> bytes:
    """Encode a closed ring as a GeoPackage geometry blob (header + envelope + WKB polygon).

    Parameters
    ----------
    lonlat : (N, 2) float ndarray or None
        The ring's vertices without the closing vertex; ``None`` for an empty polygon. The
        ring is written counter-clockwise (exterior ring, as OGC and RFC 7946 want).
    srs_id : int
        The ``gpkg_spatial_ref_sys`` id.

    Returns
    -------
    bytes
    """
    if lonlat is None:
        flags = 0x01 | 0x10  # little endian, empty, no envelope
        return b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id) + struct.pack("<BII", 1, 3, 0)
    ring = counter_clockwise(lonlat, closed=True)
    envelope = struct.pack(
        "<4d", ring[:, 0].min(), ring[:, 0].max(), ring[:, 1].min(), ring[:, 1].max()
    )
    wkb = struct.pack("<BIII", 1, 3, 1, len(ring)) + ring.astype("<f8").tobytes()
    return b"GP" + bytes([0, 0x01 | 0x02]) + struct.pack("<i", srs_id) + envelope + wkb
