"""Write a site's timeline: timeline.json, timeline.csv and a PNG of counts per date and chips."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from imagery_tool.atomic import atomic_write_files
from imagery_tool.series.tracking import Event, Track
from imagery_tool.style import CHANGE_COLOURS

__all__ = [
    "CSV_COLUMNS",
    "SIZE_CLASSES",
    "font",
    "Timeline",
    "render_timeline",
    "rows_shown",
    "size_class",
    "write_timeline",
]

# Long side of the changed region (object plus its shadow) in metres -> size class.
SIZE_CLASSES = {
    "vehicle-sized": (0.0, 12.0),
    "small aircraft-sized": (12.0, 25.0),
    "medium aircraft-sized": (25.0, 45.0),
    "large aircraft-sized": (45.0, float("inf")),
}

CSV_COLUMNS = (
    "object",
    "first_seen",
    "last_seen",
    "arrived",
    "departed",
    "dates_present",
    "class",
    "size_class",
    "length_m",
    "width_m",
    "lon",
    "lat",
    "score",
    "notes",
)

_MAX_ROWS_PNG = 40


def size_class(length_m: float | None) -> str | None:
    """Return the `SIZE_CLASSES` key for a long side in metres (``None`` when unknown)."""
    if length_m is None:
        return None
    for name, (lo, hi) in SIZE_CLASSES.items():
        if lo <= length_m < hi:
            return name
    return None


@dataclass
class Timeline:
    """What arrived when, how long it stayed and when it left, at one site.

    Attributes
    ----------
    site : str
    dates : list of dict
        ``{"date", "datetime", "tile"}`` per date, in time order.
    tracks : list of Track
    unmatched : list of Event
        Changed regions that belong to no track.
    lonlat : list of (float, float) or None
        Centre of each track in lon/lat (``None`` without georeference).
    reference : str
        The reference tile (first date) whose grid the boxes use.
    inventory : list of dict or None
        Per date, the aircraft an inventory counted by size class (``{"heavy": 2, ...}``;
        `imagery_tool.aircraft.inventory`), when the series took one.
    """

    site: str
    dates: list[dict[str, str]]
    tracks: list[Track]
    unmatched: list[Event]
    lonlat: list[tuple[float, float] | None]
    reference: str
    inventory: list[dict[str, int]] | None = None

    def _date(self, index: int | None) -> str | None:
        return None if index is None else self.dates[index]["date"]

    def objects(self) -> list[dict[str, Any]]:
        """One JSON-ready record per track."""
        out = []
        for track, ll in zip(self.tracks, self.lonlat, strict=True):
            key = track.key_event
            departed = (
                track.last + 1 if track.departed and track.last + 1 < len(self.dates) else None
            )
            out.append(
                {
                    "object": track.id,
                    "first_seen": self._date(track.first),
                    "last_seen": self._date(track.last),
                    "arrived": self._date(track.first) if track.arrived else None,
                    "departed": self._date(departed),
                    "dates_present": track.last - track.first + 1,
                    "class": track.label,
                    "size_class": size_class(key.length_m),
                    "length_m": key.length_m,
                    "width_m": key.width_m,
                    "area_m2": key.area_m2,
                    "lon": None if ll is None else round(ll[0], 7),
                    "lat": None if ll is None else round(ll[1], 7),
                    "score": max(e.score for e in track.events),
                    "bbox_px_reference": [round(v, 1) for v in key.bbox],
                    "events": [
                        {
                            "date": self._date(e.pair + 1),
                            "change": e.change,
                            "score": e.score,
                            "pair": e.source,
                        }
                        for e in track.events
                    ],
                    "notes": [f"{self._date(i)}: {text}" for i, text in track.notes],
                }
            )
        return out

    def counts(self) -> list[dict[str, Any]]:
        """Per date: objects present, arrived and departed (tracked objects only).

        With an inventory, also ``aircraft`` (counted on that date) and ``aircraft_by_class``.
        """
        rows = []
        for i, d in enumerate(self.dates):
            rows.append(
                {
                    "date": d["date"],
                    "datetime": d["datetime"],
                    "tile": d["tile"],
                    "present": sum(t.present_on(i) for t in self.tracks),
                    "arrived": sum(t.arrived and t.first == i for t in self.tracks),
                    "departed": sum(t.departed and t.last + 1 == i for t in self.tracks),
                    "other_changes": sum(e.pair + 1 == i for e in self.unmatched),
                }
            )
            if self.inventory is not None:
                rows[-1]["aircraft"] = sum(self.inventory[i].values())
                rows[-1]["aircraft_by_class"] = dict(self.inventory[i])
        return rows

    def to_dict(self) -> dict[str, Any]:
        """Return the content of ``timeline.json``."""
        return {
            "site": self.site,
            "reference": self.reference,
            "coordinates": "bbox_px_reference on the reference tile's grid; lon/lat WGS 84",
            "dates": self.counts(),
            "objects": self.objects(),
        }

    def csv_text(self) -> str:
        """Return the content of ``timeline.csv`` (one row per object)."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in self.objects():
            row = {k: record[k] for k in CSV_COLUMNS if k != "notes"}
            row["notes"] = "; ".join(record["notes"])
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return buffer.getvalue()


def rows_shown(tracks: list[Track]) -> list[Track]:
    """Return the tracks the PNG has a row for: the largest 40, in id order."""
    chosen = sorted(tracks, key=lambda t: (-(t.key_event.area_m2 or 0.0), t.id))[:_MAX_ROWS_PNG]
    return sorted(chosen, key=lambda t: t.id)


def write_timeline(
    timeline: Timeline, outdir: str | Path, *, chips: dict[str, np.ndarray] | None = None
) -> dict[str, Path]:
    """Write ``timeline.json``, ``timeline.csv`` and ``timeline.png``, all three or none.

    Parameters
    ----------
    timeline : Timeline
    outdir : str or Path
        Existing folder.
    chips : dict of str to (h, w, 3) uint8 ndarray, optional
        An image of each object (by track id) for the PNG.

    Returns
    -------
    dict
        ``{"json", "csv", "png"}`` paths.
    """
    outdir = Path(outdir)
    paths = {k: outdir / f"timeline.{k}" for k in ("json", "csv", "png")}
    text = json.dumps(timeline.to_dict(), indent=1) + "\n"
    table = timeline.csv_text()
    image = render_timeline(timeline, chips or {})
    png = io.BytesIO()
    Image.fromarray(image).save(png, format="PNG")
    atomic_write_files({paths["json"]: text, paths["csv"]: table, paths["png"]: png.getvalue()})
    return paths


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Return the bundled DejaVu Sans (bold when asked) at ``size`` pixels: the charts' font."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = resources.files("imagery_tool") / "data" / "fonts" / name
    with resources.as_file(path) as p:
        return ImageFont.truetype(str(p), size)


# Arrivals and departures in the change kinds' colours (`imagery_tool.style`), presence grey.
_ARRIVED = CHANGE_COLOURS["appeared"]
_DEPARTED = CHANGE_COLOURS["disappeared"]
_PRESENT = (150, 150, 150)
_INK = (30, 30, 30)
_GRID = (215, 215, 215)


def render_timeline(timeline: Timeline, chips: dict[str, np.ndarray]) -> np.ndarray:
    """Draw the timeline: objects per date, then a row per object with its chip and dates.

    The top chart has a bar per date (objects present; arrivals in orange, departures in blue);
    each row below shows an object's chip and a bar over the dates it was present.

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    n = len(timeline.dates)
    tracks = rows_shown(timeline.tracks)
    chip_side, row_h = 72, 80
    left, right, top = 330, 30, 70
    chart_h = 170
    width = max(900, left + right + 60 * n)
    height = (
        top
        + chart_h
        + 70
        + row_h * len(tracks)
        + (40 if len(timeline.tracks) > len(tracks) else 20)
    )
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    f_title, f_text, f_small = font(20, True), font(14), font(12)
    first, last = timeline.dates[0]["date"], timeline.dates[-1]["date"]
    draw.text(
        (20, 18),
        f"{timeline.site}: {n} dates {first} to {last}, {len(timeline.tracks)} objects tracked",
        font=f_title,
        fill=_INK,
    )
    step = (width - left - right) / n
    xs = [left + step * (i + 0.5) for i in range(n)]
    counts = timeline.counts()
    peak = max([c["present"] + c["departed"] for c in counts] + [1])
    base = top + chart_h
    draw.text((20, top), "objects present per date", font=f_text, fill=_INK)
    draw.text((20, top + 22), "grey: present; orange: arrived;", font=f_small, fill=_INK)
    draw.text((20, top + 38), "blue: left since the date before", font=f_small, fill=_INK)
    draw.line([(left, base), (width - right, base)], fill=_INK)
    bar_w = max(6, step * 0.5)
    for x, c in zip(xs, counts, strict=True):
        h = (chart_h - 30) * c["present"] / peak
        draw.rectangle([x - bar_w / 2, base - h, x + bar_w / 2, base], fill=_PRESENT)
        ah = (chart_h - 30) * c["arrived"] / peak
        if ah:
            draw.rectangle([x - bar_w / 2, base - ah, x + bar_w / 2, base], fill=_ARRIVED)
        label = str(c["present"])
        if c["departed"]:
            label += f"  -{c['departed']}"
            dh = (chart_h - 30) * c["departed"] / peak
            draw.rectangle([x + bar_w / 2 + 2, base - dh, x + bar_w / 2 + 6, base], fill=_DEPARTED)
        draw.text((x, base - h - 4), label, font=f_small, fill=_INK, anchor="ms")
        draw.text((x, base + 6), c["date"][5:], font=f_small, fill=_INK, anchor="mt")
    y = base + 40
    for track in tracks:
        chip = chips.get(track.id)
        if chip is not None:
            tile = Image.fromarray(chip).resize((chip_side, chip_side), Image.Resampling.LANCZOS)
            img.paste(tile, (20, y))
        key = track.key_event
        size = (
            "size unknown" if key.length_m is None else f"{key.length_m:.0f} x {key.width_m:.0f} m"
        )
        draw.text((20 + chip_side + 10, y + 6), track.id, font=font(14, True), fill=_INK)
        draw.text((20 + chip_side + 10, y + 26), size, font=f_small, fill=_INK)
        klass = size_class(key.length_m) or ""
        draw.text((20 + chip_side + 10, y + 42), klass, font=f_small, fill=_INK)
        for i in range(n):
            draw.line([(xs[i], y + 10), (xs[i], y + row_h - 14)], fill=_GRID)
        x0, x1 = xs[track.first] - step * 0.45, xs[track.last] + step * 0.45
        mid = y + row_h / 2 - 6
        draw.rectangle([x0, mid - 9, x1, mid + 9], fill=_PRESENT)
        if track.arrived:
            draw.rectangle([x0, mid - 9, x0 + 6, mid + 9], fill=_ARRIVED)
        if track.departed:
            draw.rectangle([x1 - 6, mid - 9, x1, mid + 9], fill=_DEPARTED)
        span = f"{timeline.dates[track.first]['date']} .. {timeline.dates[track.last]['date']}"
        draw.text(((x0 + x1) / 2, mid + 12), span, font=f_small, fill=_INK, anchor="mt")
        y += row_h
    if len(timeline.tracks) > len(tracks):
        more = len(timeline.tracks) - len(tracks)
        draw.text((20, y + 8), f"+{more} smaller objects in timeline.csv", font=f_text, fill=_INK)
    return np.asarray(img)
