"""Tiles with their acquisition times, files left out and why, and the order of dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from imagery_tool.tile import Tile

__all__ = ["DatedTile", "Skipped", "date_order"]

_UNDATED = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DatedTile:
    """One tile of a site with its acquisition time.

    Attributes
    ----------
    tile : Tile
    when : datetime
        Acquisition time, timezone-aware UTC.
    source : str
        Where the time was read (``"metadata:..."``, ``"filename"``, ``"stac:<item id>"``).
    """

    tile: Tile
    when: datetime
    source: str

    @property
    def path(self) -> Path:
        """The tile's file."""
        return self.tile.path

    @property
    def stem(self) -> str:
        """The file name without its suffix."""
        return self.tile.path.stem

    @property
    def iso(self) -> str:
        """Acquisition time as ISO 8601 UTC with a ``Z``."""
        return self.when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def date(self) -> str:
        """Acquisition date ``YYYY-MM-DD``."""
        return self.when.astimezone(UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Skipped:
    """A file left out of a site and why (one line)."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready record."""
        return {"path": self.path, "reason": self.reason}


def date_order(when: datetime | None, path: str | Path) -> tuple[bool, datetime, str]:
    """Sort key of a site's dates: by acquisition time, then file name; undated ones last.

    Parameters
    ----------
    when : datetime or None
        Acquisition time (naive times are taken as UTC); None when unknown.
    path : str or Path
        The tile's file (its name breaks ties).

    Returns
    -------
    tuple
        ``(undated, time, file name)``.
    """
    if when is None:
        return (True, _UNDATED, Path(path).name)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (False, when.astimezone(UTC), Path(path).name)
