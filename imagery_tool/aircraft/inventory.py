"""Count the aircraft on each date of a site by size class and type, and write the inventory.

Each tile is dated and grouped by site as the series does (`imagery_tool.series.inputs`). The
aircraft of a tile are the accepted boxes of an annotation store when the store knows the tile,
else the single-date proposals (`imagery_tool.aircraft.propose.propose_aircraft`). Each gets a
type (the catalogue type its class names, else the best size match, `rank_types`) and the size
class of that type (`imagery_tool.aircraft_catalogue.SIZE_CLASSES`); an aircraft no type
explains is classed by its size alone (heavy, medium, else unknown). Tiles without a ground
sample distance use the given or the assumed pixel size, and say so.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imagery_tool import aircraft_catalogue
from imagery_tool.aircraft.types import MIN_SUGGESTED_SCORE, rank_types, schema_types
from imagery_tool.aircraft_catalogue import SIZE_CLASSES, size_class_of
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema, default_schema
from imagery_tool.annotations.sizecheck import box_size_m
from imagery_tool.geometry import counter_clockwise

__all__ = [
    "CLASSES",
    "CSV_COLUMNS",
    "MIN_TYPE_SCORE",
    "TYPE_SOURCES",
    "DateInventory",
    "Inventory",
    "InventoryAircraft",
    "render_inventory",
    "take_inventory",
    "write_inventory",
]

# Size classes counted per date: the catalogue's, then "unknown" (no type could be given).
CLASSES = (*SIZE_CLASSES, "unknown")
CSV_COLUMNS = ("site", "date", "tiles", "origin", "aircraft", *CLASSES, "types")

ProposeFn = Callable[..., list]

# A size match below this `rank_types` score names no type: the aircraft is classed by its size
# alone (heavy, medium, else unknown). The same bound as the labels (`suggest_label`), so that
# an aircraft's type and label never disagree.
MIN_TYPE_SCORE = MIN_SUGGESTED_SCORE

# Which types a measured size may suggest -> description (the --types choices).
TYPE_SOURCES = {
    "catalogue": "every type of the aircraft catalogue",
    "schema": "only the types the label schema's classes name",
}


@dataclass(frozen=True)
class InventoryAircraft:
    """One aircraft counted on one date.

    Attributes
    ----------
    box : BoxAnnotation
        Its box on the tile (``tile``, ``acquired``, ``source`` and ``score`` filled in).
    type : str or None
        Catalogue type: the one its class names, else the best size match; ``None`` when
        neither is known.
    type_from : {"label", "size", "none"}
        Where the type came from.
    size_class : str
        One of `CLASSES`.
    length_m, width_m : float or None
        Box size along and across its heading (``None`` without a pixel size).
    lonlat : (4, 2) float ndarray or None
        Corners in lon/lat (``None`` when the tile has no georeference).
    """

    box: BoxAnnotation
    type: str | None
    type_from: str
    size_class: str
    length_m: float | None
    width_m: float | None
    lonlat: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DateInventory:
    """The aircraft of one site on one date.

    Attributes
    ----------
    site, date : str
        Site name and acquisition date ``YYYY-MM-DD``.
    tiles : tuple of str
        The tile (file name) read.
    origin : {"store", "proposals"}
        Accepted boxes of the store, or single-date proposals.
    aircraft : tuple of InventoryAircraft
    pixel_size_assumed : bool
        The tile has no ground sample distance: sizes use the given or assumed pixel size.
    gsd_m : float
        Metres per pixel used for sizes.
    """

    site: str
    date: str
    tiles: tuple[str, ...]
    origin: str
    aircraft: tuple[InventoryAircraft, ...]
    pixel_size_assumed: bool
    gsd_m: float

    def counts(self) -> dict[str, int]:
        """Return the number of aircraft per size class (every class of `CLASSES`)."""
        counted = Counter(a.size_class for a in self.aircraft)
        return {c: counted.get(c, 0) for c in CLASSES}

    def types(self) -> list[tuple[str, int]]:
        """Return ``(type, count)`` most common first (``"unknown"`` for untyped aircraft)."""
        counted = Counter(a.type or "unknown" for a in self.aircraft)
        return sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))

    def row(self) -> dict[str, Any]:
        """Return the CSV row of this date."""
        return {
            "site": self.site,
            "date": self.date,
            "tiles": " ".join(self.tiles),
            "origin": self.origin,
            "aircraft": len(self.aircraft),
            **self.counts(),
            "types": "; ".join(f"{t} x{n}" for t, n in self.types()),
        }


@dataclass(frozen=True)
class Inventory:
    """Aircraft per date, for every site of the input.

    Attributes
    ----------
    dates : tuple of DateInventory
        By site, then in time order.
    skipped : tuple of (str, str)
        Files left out and why.
    """

    dates: tuple[DateInventory, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    def notes(self) -> list[str]:
        """Return one line per date whose pixel size was assumed, and per file skipped."""
        lines = [
            f"{d.tiles[0]}: no ground sample distance; sizes and types assume {d.gsd_m:g} m "
            "per pixel (set `pixel_size_m`)"
            for d in self.dates
            if d.pixel_size_assumed
        ]
        return lines + [f"{path}: skipped: {reason}" for path, reason in self.skipped]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary: per-date rows and notes."""
        return {
            "dates": [
                {**d.row(), "pixel_size_assumed": d.pixel_size_assumed, "gsd_m": d.gsd_m}
                for d in self.dates
            ],
            "notes": self.notes(),
        }

    def csv_text(self) -> str:
        """Return the content of ``inventory.csv``: one row per site and date."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for d in self.dates:
            writer.writerow(d.row())
        return buffer.getvalue()

    def geojson(self) -> dict[str, Any]:
        """Return ``inventory.geojson``: a feature per aircraft (null geometry without lon/lat)."""
        features = []
        for d in self.dates:
            for a in d.aircraft:
                geometry = None
                if a.lonlat is not None:
                    # RFC 7946: exterior rings counter-clockwise
                    ring = counter_clockwise(a.lonlat, closed=True)
                    coordinates = [[round(float(x), 7), round(float(y), 7)] for x, y in ring]
                    geometry = {"type": "Polygon", "coordinates": [coordinates]}
                features.append(
                    {
                        "type": "Feature",
                        "geometry": geometry,
                        "properties": {
                            "site": d.site,
                            "date": d.date,
                            "tile": a.box.tile,
                            "type": a.type,
                            "type_from": a.type_from,
                            "size_class": a.size_class,
                            "label": a.box.label,
                            "source": a.box.source,
                            "origin": d.origin,
                            "score": a.box.score,
                            "length_m": _round(a.length_m),
                            "width_m": _round(a.width_m),
                            "pixel_size_assumed": d.pixel_size_assumed,
                            "id": a.box.id,
                            "corners_px": [[round(x, 2), round(y, 2)] for x, y in a.box.corners],
                        },
                    }
                )
        return {"type": "FeatureCollection", "features": features}


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def take_inventory(
    tiles: Iterable[str | Path],
    *,
    store=None,
    pixel_size_m: float | None = None,
    min_score: float | None = None,
    schema: LabelSchema | None = None,
    types: str = "schema",
    propose: ProposeFn | None = None,
    duplicates: str = "error",
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Inventory:
    """Count the aircraft of each tile, per site and date.

    Parameters
    ----------
    tiles : iterable of str or Path
        Tile files; dated and grouped by site as the series does.
    store : AnnotationStore or str or Path, optional
        An annotation store: for the tiles it knows (by file name), its accepted aircraft
        boxes are counted instead of proposals.
    pixel_size_m : float, optional
        Metres per pixel for tiles without a ground sample distance (0.5 assumed otherwise).
    min_score : float, optional
        Smallest proposal score kept (the proposer's default otherwise).
    schema : LabelSchema, optional
        Which store classes are aircraft and which catalogue type each names.
    types : {"schema", "catalogue"}
        Which types a size may suggest: only those the schema's classes name (the default, as
        napari's click-to-box and the proposals' labels: the project's fleet), or the whole
        catalogue (89 types, where size alone can take an An-124 for an A380).
    propose : callable, optional
        The proposer, ``propose(tile, *, pixel_size_m, min_score, progress, cancel)``;
        `imagery_tool.aircraft.propose.propose_aircraft` by default.
    duplicates : {"error", "first"}
        Two tiles of one site at the same time: refuse, or keep the first by name.
    progress : callable, optional
        ``progress(done, total, "tiles")`` after each tile.
    cancel : callable, optional
        Asked before each tile (and by the proposer); True stops with `ProposalsCancelled`.

    Returns
    -------
    Inventory

    Raises
    ------
    SeriesInputError
        A missing tile, no dated tile, or two tiles of one site at the same time.
    """
    from imagery_tool.aircraft.propose import ProposalsCancelled, proposal_gsd
    from imagery_tool.annotations.store import AnnotationStore, open_store
    from imagery_tool.series.inputs import collect_tiles

    schema = schema or default_schema()
    if types not in TYPE_SOURCES:
        raise ValueError(f"types must be one of {sorted(TYPE_SOURCES)}; got {types!r}")
    candidates = schema_types(schema) if types == "schema" else None
    inputs = collect_tiles(tiles, duplicates=duplicates)
    todo = [(site.name, d) for site in inputs.sites for d in site.tiles]
    own_store = store is not None and not isinstance(store, AnnotationStore)
    if own_store:
        store = open_store(store, create=False, readonly=True)
    try:
        dates = []
        for i, (site, dated) in enumerate(todo):
            if cancel is not None and cancel():
                raise ProposalsCancelled("inventory cancelled")
            tile = dated.tile
            gsd_m, assumed = proposal_gsd(tile, pixel_size_m)
            known = store is not None and store.tile(tile.name) is not None
            if known:
                boxes = [
                    b for b in store.annotations(tile=tile.name, review="accepted")
                    if _is_aircraft(b.label, schema)
                ]  # fmt: skip
                items = [_from_box(b, tile, gsd_m, schema, candidates) for b in boxes]
            else:
                items = _from_proposals(
                    tile, dated.iso, gsd_m, pixel_size_m, min_score, propose, cancel, candidates
                )
            dates.append(
                DateInventory(
                    site, dated.date, (tile.name,), "store" if known else "proposals",
                    tuple(items), assumed, gsd_m,
                )
            )  # fmt: skip
            if progress is not None:
                progress(i + 1, len(todo), "tiles")
    finally:
        if own_store:
            store.close()
    skipped = tuple((s.path, s.reason) for s in inputs.skipped)
    return Inventory(tuple(dates), skipped)


def _is_aircraft(label: str, schema: LabelSchema) -> bool:
    cls = schema.get(label)
    if cls is not None:
        return cls.is_aircraft
    try:
        aircraft_catalogue.lookup(label)
    except KeyError:
        return False
    return True


def _label_type(label: str, schema: LabelSchema):
    """Return the catalogue type a class names, or ``None``."""
    cls = schema.get(label)
    for name in (cls.catalogue if cls is not None else None, label):
        if name:
            try:
                return aircraft_catalogue.lookup(name)
            except KeyError:
                continue
    return None


def _lonlat(box: BoxAnnotation, tile) -> np.ndarray | None:
    georef = tile.georef
    if not (georef.is_georeferenced and georef.has_lonlat):
        return None
    return box.lonlat(georef)


def _best_type(length_m, width_m, *, kind=None, gsd_m=None, candidates=None):
    """Return the catalogue entry of the best size match, or ``None`` when none is plausible."""
    best = rank_types(length_m, width_m, kind=kind, top=1, gsd_m=gsd_m, candidates=candidates)
    if not best or best[0].score < MIN_TYPE_SCORE:
        return None
    return aircraft_catalogue.lookup(best[0].name)


def _item(box, tile, length_m, width_m, t, type_from) -> InventoryAircraft:
    """Return the inventory record of a box; an untyped one is classed by its size alone."""
    klass = t.size_class if t is not None else (size_class_of(length_m, width_m) or "unknown")
    return InventoryAircraft(
        box, t.name if t else None, type_from if t else "none", klass, length_m, width_m,
        _lonlat(box, tile),
    )  # fmt: skip


def _from_box(box, tile, gsd_m: float, schema: LabelSchema, candidates) -> InventoryAircraft:
    length_m, width_m = box_size_m(box, gsd_m)
    t = _label_type(box.label, schema)
    if t is not None:
        return _item(box, tile, length_m, width_m, t, "label")
    cls = schema.get(box.label)
    kind = cls.group if cls is not None and cls.group in ("fixed-wing", "helicopter") else None
    t = _best_type(length_m, width_m, kind=kind, gsd_m=gsd_m, candidates=candidates)
    return _item(box, tile, length_m, width_m, t, "size")


def _from_proposals(tile, acquired, gsd_m, pixel_size_m, min_score, propose, cancel, candidates):
    if propose is None:
        from imagery_tool.aircraft.propose import propose_aircraft as propose
    kwargs: dict[str, Any] = {"pixel_size_m": pixel_size_m, "cancel": cancel}
    if min_score is not None:
        kwargs["min_score"] = min_score
    items = []
    for p in propose(tile, **kwargs):
        box = p.to_annotation(tile.name, acquired=acquired)
        t = (
            None
            if p.at_edge
            else _best_type(p.length_m, p.width_m, gsd_m=gsd_m, candidates=candidates)
        )
        items.append(_item(box, tile, p.length_m, p.width_m, t, "size"))
    return items


def write_inventory(inventory: Inventory, outdir: str | Path) -> dict[str, Path]:
    """Write ``inventory.csv``, ``inventory.geojson`` and ``inventory.png``, all three or none.

    Parameters
    ----------
    inventory : Inventory
    outdir : str or Path
        Output folder, made when missing.

    Returns
    -------
    dict
        ``{"csv", "geojson", "png"}`` paths.
    """
    from PIL import Image

    from imagery_tool.atomic import atomic_write_files

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {k: outdir / f"inventory.{k}" for k in ("csv", "geojson", "png")}
    table = inventory.csv_text()
    features = json.dumps(inventory.geojson(), indent=1) + "\n"
    image = render_inventory(inventory)
    png = io.BytesIO()
    Image.fromarray(image).save(png, format="PNG")
    atomic_write_files(
        {paths["csv"]: table, paths["geojson"]: features, paths["png"]: png.getvalue()}
    )
    return paths


# One colour per size class, from the timeline chart's palette family.
CLASS_COLOURS = {
    "heavy": (70, 110, 190),
    "medium": (110, 160, 215),
    "light": (165, 200, 235),
    "fighter": (200, 50, 40),
    "helicopter": (40, 150, 60),
    "unknown": (170, 170, 170),
}


def render_inventory(inventory: Inventory) -> np.ndarray:
    """Draw a bar per site and date, stacked by size class, with the count above it.

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    from PIL import Image, ImageDraw

    from imagery_tool.series.timeline import font

    ink = (30, 30, 30)
    n = max(len(inventory.dates), 1)
    left, right, top, chart_h = 60, 170, 60, 260
    step = 70
    width = max(520, left + right + step * n)
    height = top + chart_h + 70
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    sites = sorted({d.site for d in inventory.dates})
    draw.text(
        (20, 18), f"aircraft per date: {', '.join(sites) or 'no tiles'}", font=font(18, True),
        fill=ink,
    )  # fmt: skip
    base = top + chart_h
    peak = max([len(d.aircraft) for d in inventory.dates] + [1])
    draw.line([(left, base), (left + step * n, base)], fill=ink)
    small = font(12)
    for i, d in enumerate(inventory.dates):
        x = left + step * (i + 0.5)
        y = base
        for cls, count in d.counts().items():
            if count:
                h = (chart_h - 30) * count / peak
                draw.rectangle([x - 20, y - h, x + 20, y], fill=CLASS_COLOURS[cls])
                y -= h
        label = str(len(d.aircraft)) + ("*" if d.origin == "proposals" else "")
        draw.text((x, y - 4), label, font=small, fill=ink, anchor="ms")
        draw.text((x, base + 6), d.date[5:], font=small, fill=ink, anchor="mt")
        if len(sites) > 1:
            draw.text((x, base + 22), d.site[:10], font=small, fill=ink, anchor="mt")
    lx = left + step * n + 20
    for j, cls in enumerate(CLASSES):
        y = top + 10 + 20 * j
        draw.rectangle([lx, y, lx + 12, y + 12], fill=CLASS_COLOURS[cls])
        draw.text((lx + 18, y - 1), cls, font=small, fill=ink)
    draw.text((lx, top + 20 * len(CLASSES) + 20), "* proposals,", font=small, fill=ink)
    draw.text((lx, top + 20 * len(CLASSES) + 36), "  not reviewed", font=small, fill=ink)
    return np.asarray(img)
