"""What a series run keeps per site between runs: input fingerprints and registrations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagery_tool.atomic import atomic_write_text
from imagery_tool.registration import Registration

if TYPE_CHECKING:
    from imagery_tool.series.inputs import SiteSeries
    from imagery_tool.series.run import SiteReport
    from imagery_tool.sitestack import DatedTile

__all__ = [
    "STATE_FILE",
    "STATE_VERSION",
    "SiteWork",
    "load_state",
    "registration_from_record",
]

STATE_FILE = "state.json"  # per site: which pair files were made from which inputs
STATE_VERSION = 1


@dataclass
class SiteWork:
    """Working state of one site during a run.

    Attributes
    ----------
    series : SiteSeries
    outdir : Path
        The site's output folder.
    report : SiteReport
        What the run reports for the site (filled as results arrive).
    state : dict
        The contents of ``state.json`` (``version``, ``pairs``, ``registrations``).
    registrations : dict of int to Registration
        How each later date (by index) is placed on the first.
    failed : bool
    """

    series: SiteSeries
    outdir: Path
    report: SiteReport
    state: dict[str, Any]
    registrations: dict[int, Registration] = field(default_factory=dict)
    failed: bool = False

    @property
    def tiles(self) -> tuple[DatedTile, ...]:
        """The site's dated tiles, in time order."""
        return self.series.tiles

    def pair_name(self, k: int) -> str:
        """``<before>_to_<after>`` for the pair of dates ``k`` and ``k + 1``."""
        b, a = self.tiles[k], self.tiles[k + 1]
        return f"{b.stem}_to_{a.stem}"

    def pair_path(self, k: int) -> Path:
        """Return the pair's file (``.geojson``, or ``.json`` without georeference)."""
        georef = self.tiles[k].tile.georef.is_georeferenced
        return self.outdir / "pairs" / f"{self.pair_name(k)}.{'geojson' if georef else 'json'}"

    def save_state(self) -> None:
        """Write ``state.json`` atomically."""
        text = json.dumps(self.state, indent=1, sort_keys=True) + "\n"
        atomic_write_text(self.outdir / STATE_FILE, text)


def load_state(path: Path) -> dict[str, Any]:
    """Read a site's ``state.json``; empty when missing, unreadable or of another version.

    Registrations recorded before the trust gate are left out, so they are measured again:
    a series never uses a registration the gate has not judged (napari measures them anew).
    """
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return {}
    registrations = state.get("registrations")
    if isinstance(registrations, dict):
        state["registrations"] = {
            stem: entry
            for stem, entry in registrations.items()
            if isinstance(entry, dict) and "status" in entry.get("registration", {})
        }
    return state


def registration_from_record(record: dict[str, Any]) -> Registration:
    """Read a `Registration` back from its record in ``state.json`` (``Registration.to_dict``)."""
    measured = record.get("measured_matrix")
    return Registration(
        matrix=tuple(float(v) for v in record["matrix"]),
        model=record["model"],
        windows_used=int(record["windows_used"]),
        windows_measured=int(record["windows_measured"]),
        rmse_px=record.get("rmse_px"),
        resampled=bool(record["resampled"]),
        overlap=tuple(int(v) for v in record["overlap"]),
        status=record["status"],
        reason=record.get("reason"),
        confidence=record.get("confidence"),
        measured_matrix=None if measured is None else tuple(float(v) for v in measured),
    )
