"""Which files a site stack takes, what its site is called, and which version of a file it read."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["GEORASTER_SUFFIXES", "RASTER_SUFFIXES", "fingerprint", "site_name"]

# File suffixes taken as rasters: the files of a folder that `series` and the napari reader
# take, and the STAC assets without a media type.
RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".png", ".jpg", ".jpeg", ".img", ".vrt")
# Of those, the formats made for georeferenced rasters: the single files napari's manifest
# offers this reader for. A PNG or JPEG on its own is more often a picture, left to napari's
# own reader; in a folder or a STAC catalog it is a date like the others.
GEORASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".img", ".vrt")

# A date (and time) in a file name, with the separators around it.
_DATE_IN_NAME = re.compile(
    r"[_\-. ]*(\d{4}-?\d{2}-?\d{2})(?:[T_]\d{2}[:\-]?\d{2}(?:[:\-]?\d{2})?Z?)?"
)
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def site_name(paths: Iterable[str | Path]) -> str | None:
    """Return a site's name from its tiles' file names; None when they hold only dates.

    Each file name without its suffix and its date (``hmeimim`` for
    ``hmeimim_2024-12-13.tif``), with other characters than letters, digits, ``_``, ``.``
    and ``-`` replaced by ``_``; the most common of these among the tiles. ``series`` names
    its site folders, and napari its layers and annotation stores, this way.

    Parameters
    ----------
    paths : iterable of str or Path
        The site's tiles.

    Returns
    -------
    str or None

    Examples
    --------
    >>> site_name(["apron_west_2024-12-13.tif", "apron_west_2025-01-10T08-21Z.tif"])
    'apron_west'
    >>> site_name(["2024-12-13.tif"]) is None
    True
    """
    names: Counter[str] = Counter()
    for path in paths:
        stem = _DATE_IN_NAME.sub("", Path(path).stem).strip("_-. ")
        if stem:
            names[_NOT_IN_NAME.sub("_", stem)] += 1
    return names.most_common(1)[0][0] if names else None


def fingerprint(path: Path) -> dict[str, Any]:
    """Identify a file's version: resolved path, size and modification time (ns).

    ``series`` records it for each input of its results, and napari keys the registrations
    it measured by it.
    """
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
