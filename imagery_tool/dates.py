"""Find a tile's acquisition date: file metadata, then its file name, then a STAC item beside it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "METADATA_DATE_KEYS",
    "AcquisitionDate",
    "date_from_filename",
    "date_from_metadata",
    "date_from_stac",
    "parse_datetime",
    "resolve_acquisition_date",
]

# Metadata keys that carry an acquisition time, most specific first. Keys are matched without
# regard to case; IMD keys (Maxar/DigitalGlobe .IMD files, exposed by GDAL in the "IMD" domain)
# may carry a group prefix such as ``IMAGE_1.``.
METADATA_DATE_KEYS = (
    "ACQUISITIONDATETIME",
    "ACQUISITION_DATETIME",
    "ACQUISITION_DATE",
    "ACQUISITIONDATE",
    "DATETIME_ORIGINAL",
    "FIRSTLINETIME",
    "EARLIESTACQTIME",
    "LATESTACQTIME",
    "TIFFTAG_DATETIME",
)


@dataclass(frozen=True)
class AcquisitionDate:
    """When a tile was acquired and where that was read.

    Parameters
    ----------
    value : datetime or None
        The acquisition time, timezone-aware (UTC when the source gives no zone); ``None`` when
        no source gives a date. A date without a time is midnight UTC.
    source : str
        Where the date came from, e.g. ``"metadata:ACQUISITIONDATETIME"``, ``"filename"``,
        ``"stac:hmeimim_2024-12-13.json"``, or ``"unknown"``.
    """

    value: datetime | None
    source: str

    @property
    def known(self) -> bool:
        """Whether a date was found."""
        return self.value is not None

    def isoformat(self) -> str | None:
        """Return the date as ISO 8601 (``2024-12-13T08:21:00Z``), or ``None`` when unknown."""
        if self.value is None:
            return None
        return self.value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def __str__(self) -> str:
        return "unknown" if self.value is None else f"{self.isoformat()} (from {self.source})"


UNKNOWN = AcquisitionDate(None, "unknown")

_TIFF_DATETIME = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?Z?\s*$")


def parse_datetime(text: str) -> datetime | None:
    """Parse a date or datetime as written in imagery metadata.

    Understands ISO 8601 (``2024-12-13``, ``2024-12-13T08:21:00.123Z``, with offsets), the TIFF
    form ``2024:12:13 08:21:00``, and compact ``20241213`` / ``20241213T082100``.

    Parameters
    ----------
    text : str
        The text to parse.

    Returns
    -------
    datetime or None
        A timezone-aware datetime (UTC when the text has no zone), or ``None`` when the text is
        not a valid date.

    Examples
    --------
    >>> parse_datetime("2024:12:13 08:21:00").isoformat()
    '2024-12-13T08:21:00+00:00'
    >>> parse_datetime("not a date") is None
    True
    """
    text = text.strip(' \t\r\n";')
    if not text:
        return None
    match = _TIFF_DATETIME.match(text)
    if match:
        parts = [int(p) for p in match.groups()]
        return _make_datetime(*parts)
    match = _COMPACT.match(text)
    if match:
        parts = [int(p) if p else 0 for p in match.groups()]
        return _make_datetime(*parts)
    iso = text.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _make_datetime(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime | None:
    if year < 1950:  # TIFF writers put 0000:00:00 for "no date"; no satellite image predates this
        return None
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def date_from_metadata(tags: Mapping[str, Mapping[str, str]]) -> AcquisitionDate | None:
    """Find an acquisition date in raster metadata.

    Parameters
    ----------
    tags : mapping of str to mapping of str to str
        Metadata by GDAL domain, e.g. ``{"": dataset.tags(), "IMD": dataset.tags(ns="IMD")}``.

    Returns
    -------
    AcquisitionDate or None
        The date from the first key of `METADATA_DATE_KEYS` present with a valid value, searched
        key by key across domains; ``None`` when there is none.
    """
    flat: dict[str, tuple[str, str]] = {}
    for domain, items in tags.items():
        for key, value in items.items():
            bare = key.rsplit(".", 1)[-1].upper()
            flat.setdefault(bare, (f"{domain}:{key}" if domain else key, value))
    for wanted in METADATA_DATE_KEYS:
        if wanted in flat:
            name, value = flat[wanted]
            parsed = parse_datetime(value)
            if parsed is not None:
                return AcquisitionDate(parsed, f"metadata:{name}")
    return None


_FILENAME_PATTERNS = (
    re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?:[T_](\d{2})[:-]?(\d{2})[:-]?(\d{2}))?(?!\d)"),
    re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2}))?(?!\d)"),
)


def date_from_filename(path: str | Path) -> AcquisitionDate | None:
    """Find an ISO date (``2024-12-13``) or ``YYYYMMDD`` in a file name.

    Only the file name is searched, not the folders above it. A number that is not a valid
    calendar date (``20241399``) is not a date.

    Examples
    --------
    >>> date_from_filename("tiles/hmeimim_2024-12-13.tif").value.date().isoformat()
    '2024-12-13'
    >>> date_from_filename("scene_20241213T082100.tif").value.isoformat()
    '2024-12-13T08:21:00+00:00'
    """
    name = Path(path).name
    for pattern in _FILENAME_PATTERNS:
        for match in pattern.finditer(name):
            parts = [int(p) if p else 0 for p in match.groups()]
            parsed = _make_datetime(*parts)
            if parsed is not None:
                return AcquisitionDate(parsed, "filename")
    return None


def date_from_stac(path: str | Path) -> AcquisitionDate | None:
    """Find the date in a STAC item beside the file.

    Looks at ``<stem>.json`` and ``<name>.json`` next to the file, then at every other ``*.json``
    STAC item in the same folder whose assets point at the file. The item's
    ``properties.datetime`` (or, when that is null, ``start_datetime``) is the date.
    """
    path = Path(path)
    beside = [path.with_suffix(".json"), path.with_name(path.name + ".json")]
    others = sorted(p for p in path.parent.glob("*.json") if p not in beside)
    for candidate in beside + others:
        item = _read_stac_item(candidate)
        if item is None or (candidate in others and not _item_refers_to(item, candidate, path)):
            continue
        props = item.get("properties") or {}
        text = props.get("datetime") or props.get("start_datetime")
        parsed = parse_datetime(text) if isinstance(text, str) else None
        if parsed is not None:
            return AcquisitionDate(parsed, f"stac:{candidate.name}")
    return None


def _read_stac_item(path: Path) -> dict | None:
    """Return the parsed STAC item at ``path``, or ``None`` when it is not one (or unreadable)."""
    if not path.is_file() or path.stat().st_size > 10_000_000:
        return None
    try:
        item = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(item, dict) and item.get("type") == "Feature" and "properties" in item:
        return item
    return None


def _item_refers_to(item: dict, item_path: Path, tile_path: Path) -> bool:
    """Whether one of the item's assets resolves to ``tile_path``."""
    target = tile_path.resolve()
    for asset in (item.get("assets") or {}).values():
        href = asset.get("href") if isinstance(asset, dict) else None
        if (
            isinstance(href, str)
            and "://" not in href
            and (item_path.parent / href).resolve() == target
        ):
            return True
    return False


def resolve_acquisition_date(
    path: str | Path, tags: Mapping[str, Mapping[str, str]]
) -> AcquisitionDate:
    """Return a tile's acquisition date from, in order, its metadata, file name, STAC item.

    Parameters
    ----------
    path : str or Path
        The tile's file.
    tags : mapping of str to mapping of str to str
        The tile's metadata by GDAL domain (see `date_from_metadata`).

    Returns
    -------
    AcquisitionDate
        The first date found, with its source; ``AcquisitionDate(None, "unknown")`` when no
        source gives one. A date is never guessed (file times are not acquisition dates).
    """
    return date_from_metadata(tags) or date_from_filename(path) or date_from_stac(path) or UNKNOWN
