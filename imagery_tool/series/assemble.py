"""Assemble a site's timeline: pair regions and inventory sightings as tracks on the first date."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import cv2
import numpy as np

from imagery_tool.display import chip_window, display_rgb, stretch_limits
from imagery_tool.errors import ImageryToolError
from imagery_tool.registration import GridMapping
from imagery_tool.series.timeline import Timeline, rows_shown
from imagery_tool.series.tracking import Event, Track, add_sightings, track_objects
from imagery_tool.style import CHANGE_COLOURS

if TYPE_CHECKING:
    from imagery_tool.series.state import SiteWork

__all__ = ["ReferenceGrid", "build_timeline", "site_inventory"]


class ReferenceGrid:
    """Maps each date's pixels to the reference grid and back (georeference + registration)."""

    def __init__(self, site: SiteWork) -> None:
        self.site = site
        ref = site.tiles[0].tile
        self.mappings = {i: GridMapping.between(ref, d.tile) for i, d in enumerate(site.tiles) if i}

    def to_reference(self, index: int, cols, rows) -> tuple[np.ndarray, np.ndarray]:
        """Map pixels ``(cols, rows)`` of date ``index`` to the reference grid."""
        cols, rows = np.asarray(cols, np.float64), np.asarray(rows, np.float64)
        if index == 0:
            return cols, rows
        c, r = self.mappings[index].to_before(cols, rows)
        inv = np.linalg.inv(self.site.registrations[index].matrix3)
        return inv[0, 0] * c + inv[0, 1] * r + inv[0, 2], inv[1, 0] * c + inv[1, 1] * r + inv[1, 2]

    def from_reference(self, index: int, cols, rows) -> tuple[np.ndarray, np.ndarray]:
        """Map reference-grid pixels ``(cols, rows)`` to date ``index``'s own grid."""
        cols, rows = np.asarray(cols, np.float64), np.asarray(rows, np.float64)
        if index == 0:
            return cols, rows
        m = self.site.registrations[index].matrix3
        c = m[0, 0] * cols + m[0, 1] * rows + m[0, 2]
        r = m[1, 0] * cols + m[1, 1] * rows + m[1, 2]
        return self.mappings[index].to_after(c, r)


def box_on_grid(grid, index: int, bbox, forward: bool) -> tuple[float, float, float, float]:
    c0, r0, c1, r1 = bbox
    cols, rows = [c0, c1, c1, c0], [r0, r0, r1, r1]
    fn = grid.to_reference if forward else grid.from_reference
    cc, rr = fn(index, cols, rows)
    return (float(cc.min()), float(rr.min()), float(cc.max()), float(rr.max()))


def change_events(site: SiteWork, grid: ReferenceGrid) -> list[Event]:
    events = []
    for k in range(len(site.tiles) - 1):
        path = site.pair_path(k)
        data = json.loads(path.read_text(encoding="utf-8"))
        for feature in data.get("features", []):
            p = feature.get("properties", {})
            bbox = box_on_grid(grid, k, p["bbox_px"], forward=True)
            events.append(
                Event(
                    pair=k,
                    change=p["change"],
                    score=float(p["score"]),
                    bbox=tuple(round(v, 1) for v in bbox),
                    length_m=p.get("length_m"),
                    width_m=p.get("width_m"),
                    area_m2=p.get("area_m2"),
                    source=str(path.relative_to(site.outdir)),
                )
            )
    return events


def site_inventory(site: SiteWork, *, store, pixel_size_m):
    """Count the aircraft on each date of a site (`imagery_tool.aircraft.inventory`)."""
    from imagery_tool.aircraft.inventory import take_inventory

    return take_inventory(
        [d.path for d in site.tiles], store=store, pixel_size_m=pixel_size_m, duplicates="first"
    )


def inventory_sightings(
    site: SiteWork, grid: ReferenceGrid, counted
) -> tuple[list, list[dict[str, int]]]:
    """Inventory aircraft as "present" events on the reference grid, and counts per date."""
    index = {d.path.name: i for i, d in enumerate(site.tiles)}
    sightings, counts = [], [{} for _ in site.tiles]
    for day in counted.dates:
        i = index.get(day.tiles[0])
        if i is None:
            continue
        counts[i] = day.counts()
        for a in day.aircraft:
            bbox = box_on_grid(grid, i, a.box.bounds, forward=True)
            event = Event(
                pair=i - 1, change="present",
                score=1.0 if a.box.score is None else float(a.box.score),
                bbox=tuple(round(v, 1) for v in bbox), length_m=a.length_m, width_m=a.width_m,
                source="inventory.geojson",
            )  # fmt: skip
            sightings.append((event, a.type))
    return sightings, counts


def build_timeline(site: SiteWork, counted=None) -> tuple[Timeline, dict[str, np.ndarray]]:
    """Chain a site's pair regions (and inventory sightings) into its timeline.

    Parameters
    ----------
    site : SiteWork
        A site whose pair files and registrations are all done.
    counted : Inventory, optional
        The site's inventory (`site_inventory`): its aircraft become tracks too.

    Returns
    -------
    timeline : Timeline
    chips : dict of str to (96, 96, 3) uint8 ndarray
        A picture of each track shown in the timeline, by track id.
    """
    grid = ReferenceGrid(site)
    tracks, unmatched = track_objects(change_events(site, grid), len(site.tiles))
    per_date = None
    if counted is not None:
        sightings, per_date = inventory_sightings(site, grid, counted)
        tracks = add_sightings(tracks, sightings, len(site.tiles))
    ref = site.tiles[0].tile.georef
    lonlat = []
    for t in tracks:
        c0, r0, c1, r1 = t.bbox
        if ref.is_georeferenced:
            lon, lat = ref.pixel_to_lonlat((c0 + c1) / 2, (r0 + r1) / 2)
            lonlat.append((float(lon), float(lat)))
        else:
            lonlat.append(None)
    timeline = Timeline(
        site=site.report.name,
        dates=[{"date": d.date, "datetime": d.iso, "tile": d.path.name} for d in site.tiles],
        tracks=tracks,
        unmatched=unmatched,
        lonlat=lonlat,
        reference=site.tiles[0].path.name,
        inventory=per_date,
    )
    chips: dict[str, np.ndarray] = {}
    by_date: dict[int, list] = {}
    for t in rows_shown(tracks):
        by_date.setdefault(t.first if t.arrived else t.last, []).append(t)
    for index, chosen in sorted(by_date.items()):
        tile = site.tiles[index].tile
        try:
            with tile.open() as ds:
                for t in chosen:
                    box = box_on_grid(grid, index, t.bbox, forward=False)
                    chips[t.id] = object_chip(tile, ds, box, _chip_colour(t))
        except (ImageryToolError, ValueError):  # a chip is a nicety: never fail the run for it
            continue
    return timeline, chips


def object_chip(tile, dataset, box, colour, side: int = 96) -> np.ndarray:
    """Read an object's chip (`imagery_tool.display.chip_window`) with its box drawn.

    Parameters
    ----------
    tile : Tile
    dataset : rasterio.io.DatasetReader
        ``tile``'s open dataset.
    box : (float, float, float, float)
        ``(col_min, row_min, col_max, row_max)`` on ``tile``'s grid.
    colour : (int, int, int)
        RGB of the box.
    side : int
        Side of the chip in pixels.

    Returns
    -------
    (side, side, 3) uint8 ndarray
        Stretched on the chip's own pixels; black where the tile has no data.
    """
    c0, r0, c1, r1 = box
    window = chip_window(box)
    n = int(window.width)
    out = (min(n, side), min(n, side))
    pixels = tile.read(window=window, bands=tile.rgb_bands, out_shape=out, dataset=dataset)
    valid = tile.read_valid(window=window, out_shape=out, pixels=pixels, dataset=dataset)
    rgb = display_rgb(pixels, stretch_limits(pixels, valid), valid)
    rgb = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_LINEAR)
    scale = side / n
    p0 = (round((c0 - window.col_off) * scale), round((r0 - window.row_off) * scale))
    p1 = (round((c1 - window.col_off) * scale), round((r1 - window.row_off) * scale))
    cv2.rectangle(rgb, p0, p1, colour, 1)
    return rgb


def _chip_colour(track: Track) -> tuple[int, int, int]:
    """Colour a track's chip box: its arrival's kind, else its departure's, else white."""
    if track.arrived:
        return CHANGE_COLOURS["appeared"]
    return CHANGE_COLOURS["disappeared"] if track.departed else (255, 255, 255)
