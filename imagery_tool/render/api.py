"""Render reviewer PNGs: an annotated tile or a before/after sheet, with caption and legends."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from PIL import Image
from rasterio.windows import Window

from imagery_tool.atomic import atomic_write_bytes
from imagery_tool.errors import RenderError, UnsupportedCRSError
from imagery_tool.georef import crs_transformer, unrelated_crs_message
from imagery_tool.render.chips import Chip, contact_sheet
from imagery_tool.render.decorations import PAPER, LegendEntry, crs_text
from imagery_tool.render.draw import Canvas, Style
from imagery_tool.render.heat import HEAT_RAMP, change_heat, overlay_heat
from imagery_tool.render.imagery import read_frame, read_onto
from imagery_tool.render.layout import DEFAULT_MAX_WIDTH, Frame, Region, make_frame
from imagery_tool.render.marks import (
    Mark,
    class_colours,
    label_text,
    marks_from_annotations,
    move_marks,
    read_changes,
    read_residual,
    transform_marks,
)
from imagery_tool.render.sheet import (
    Footer,
    change_legend,
    draw_footer,
    draw_panel,
)
from imagery_tool.render.text import isolate
from imagery_tool.style import CHANGE_COLOURS, CHANGE_KINDS
from imagery_tool.tile import Tile, open_tile

__all__ = [
    "PanelInfo",
    "Rendering",
    "encode_png",
    "load_annotations",
    "render",
    "render_tile",
    "write_png",
]

# zlib level of the PNG encoder: level 1 is three times faster than the default 6 on imagery
# and the files only about 6 % larger.
PNG_LEVEL = 1

# Default total width of a before/after sheet when neither width nor scale is given.
DEFAULT_SHEET_WIDTH = 2400


@dataclass(frozen=True)
class PanelInfo:
    """Where a panel sits in the rendering.

    Attributes
    ----------
    name : {"before", "after", "tile"}
        Which panel.
    tile : Tile
        The tile shown (AFTER is resampled onto BEFORE's frame).
    frame : Frame
        The frame; outlines are on ``frame.georef``'s grid (BEFORE's for a sheet).
    origin : (int, int)
        ``(x, y)`` of the panel's top-left corner in the rendering.
    """

    name: str
    tile: Tile
    frame: Frame
    origin: tuple[int, int]


@dataclass
class Rendering:
    """A rendered picture and where things went in it (all in the picture's pixels).

    Attributes
    ----------
    image : (H, W, 3) uint8 ndarray
        The picture.
    panels : list of PanelInfo
        One (single tile) or two (before, after).
    outlines : list of (str, Mark, (N, 2) float ndarray)
        Panel name, mark and its outline as drawn.
    labels : list of (str, (int, int, int, int))
        Label text and rectangle ``(x0, y0, x1, y1)``, end-exclusive.
    legend : list of (str, (int, int, int, int))
        Legend entry text and rectangle.
    reserved : list of (int, int, int, int)
        Rectangles of the panel tags, north arrows and scale bars.
    hidden_labels : int
        Labels left out for want of room.
    footer_origin : int
        First row of the caption footer.
    chips : list of (str, (int, int, int, int))
        Chip label and image rectangle, when chips were drawn.
    caption : list of str
        The footer's title and caption lines, in logical (typing) order.
    """

    image: np.ndarray
    panels: list[PanelInfo]
    outlines: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    legend: list = field(default_factory=list)
    reserved: list = field(default_factory=list)
    hidden_labels: int = 0
    footer_origin: int = 0
    chips: list = field(default_factory=list)
    caption: list = field(default_factory=list)


def load_annotations(path: str | Path, *, tiles: Sequence[Tile] = ()) -> list[Any]:
    """Read the boxes of an annotation store (``.gpkg``) or any file format imagery-tool reads.

    Parameters
    ----------
    path : str or Path
        A GeoPackage store or an interchange file/folder (GeoJSON, COCO, YOLO, DOTA, VOC, CSV).
    tiles : sequence of Tile
        The tiles being drawn: formats that need a tile's size or georeference get them.

    Returns
    -------
    list of BoxAnnotation
    """
    from imagery_tool.annotations import open_store
    from imagery_tool.annotations.formats import read_annotations
    from imagery_tool.annotations.store import TileRecord

    path = Path(path)
    if path.suffix.lower() == ".gpkg":
        if not path.is_file():
            raise RenderError(f"{path}: no such annotation store; check the path")
        store = open_store(path, create=False, readonly=True)
        try:
            return store.annotations()
        finally:
            store.close()
    records = [TileRecord.from_tile(t) for t in tiles]
    return read_annotations(path, tiles=records).annotations


def _as_tile(tile: Tile | str | Path) -> Tile:
    return tile if isinstance(tile, Tile) else open_tile(tile)


def _date(tile: Tile) -> str:
    value = tile.acquired.value
    if value is None:
        return "date unknown"
    text = tile.acquired.isoformat()
    if "T" in text:
        day, time = text.split("T", 1)
        time = time.rstrip("Z")
        return day if time in ("00:00:00", "") else f"{day} {time[:5]} UTC"
    return text


def _day(tile: Tile) -> str:
    value = tile.acquired.value
    return "date unknown" if value is None else value.strftime("%Y-%m-%d")


def _check_crs_pair(before: Tile, after: Tile) -> None:
    """Refuse a sheet of two tiles whose CRSs PROJ cannot convert between, naming both."""
    gb, ga = before.georef, after.georef
    if not (gb.is_georeferenced and ga.is_georeferenced) or gb.crs == ga.crs:
        return
    try:
        crs_transformer(ga.crs, gb.crs)
    except UnsupportedCRSError as exc:
        raise RenderError(
            unrelated_crs_message(str(after.path), f"drawn on {before.path}'s frame", exc)
        ) from exc


def _sort_marks(marks: list[Mark]) -> list[Mark]:
    """Deterministic drawing order: top to bottom, then left to right, then label."""
    return sorted(
        marks, key=lambda m: (round(m.xy[:, 1].min(), 3), round(m.xy[:, 0].min(), 3), m.label)
    )


def _on_grid(mark: Mark, height: int, width: int) -> bool:
    xy = mark.xy
    return bool(
        xy[:, 0].max() > 0
        and xy[:, 1].max() > 0
        and xy[:, 0].min() < width
        and xy[:, 1].min() < height
    )


def _in_frame(mark: Mark, frame: Frame) -> bool:
    pts = frame.to_out(mark.xy)
    h, w = frame.out_shape
    return bool(
        pts[:, 0].max() > 0 and pts[:, 1].max() > 0 and pts[:, 0].min() < w and pts[:, 1].min() < h
    )


def _split_annotations(
    items: Iterable[Any], main: Tile, before: Tile | None
) -> tuple[list[Mark], list[Mark], int]:
    """Sort annotation marks into (on main tile, on before tile, skipped for other tiles)."""
    on_main, on_before, other = [], [], 0
    for mark in marks_from_annotations(items):
        if mark.tile in (None, main.name, main.path.stem):
            on_main.append(mark)
        elif before is not None and mark.tile in (before.name, before.path.stem):
            on_before.append(mark)
        else:
            other += 1
    return on_main, on_before, other


def render(
    tile: Tile | str | Path,
    *,
    annotations: Iterable[Any] | str | Path = (),
    changes: Iterable[Mark] | str | Path | None = None,
    before: Tile | str | Path | None = None,
    region: Region | None = None,
    width: int | None = None,
    scale: float | None = None,
    heat: bool = False,
    chips: bool = False,
    title: str | None = None,
    site: str | None = None,
    attributes: Sequence[str] | None = None,
    residual: Sequence[float] | None = None,
) -> Rendering:
    """Render a tile (or a before/after sheet) with boxes, labels, legends and a caption.

    Parameters
    ----------
    tile : Tile or path
        The tile to show; with ``before``, the AFTER date.
    annotations : iterable of BoxAnnotation (or `Mark`), or path
        Boxes on ``tile``'s (or ``before``'s, by their ``tile`` name) pixel grid, or a store
        (``.gpkg``) / annotation file to read them from. Boxes of other tiles are skipped;
        rejected boxes are not drawn.
    changes : iterable of Mark, or path, optional
        Change regions: the GeoJSON of ``imagery-tool detect`` (or its pixel-mode ``.json``),
        placed on BEFORE's grid (``tile``'s without ``before``).
    before : Tile or path, optional
        The earlier date: a side-by-side sheet, AFTER resampled onto BEFORE's frame.
    region : Region, optional
        Part of the tile to show (on BEFORE's grid for a sheet); the whole tile by default.
    width : int, optional
        Width of the whole picture in pixels.
    scale : float, optional
        Ground metres per output pixel (ignored with ``width``).
    heat : bool
        Overlay a change heat (AFTER vs BEFORE) on the AFTER panel; needs ``before``.
    chips : bool
        Append a contact sheet of the annotated objects, cropped and enlarged.
    title : str, optional
        Title line; by default the site (or tile) and dates.
    site : str, optional
        Site name for the caption, any script (``"Hmeimim air base · قاعدة حميميم"``).
    attributes : sequence of str, optional
        Attributes to show in labels; all true booleans by default (`label_text`).
    residual : sequence of 6 float, optional
        The residual misregistration of AFTER on BEFORE's grid (`Registration.matrix`), so that
        AFTER and its boxes are drawn exactly under BEFORE. By default taken from ``changes``
        when that is a detect output for these two tiles; otherwise AFTER is placed by
        georeference alone.

    Returns
    -------
    Rendering
        ``image`` is ``(H, W, 3) uint8``; the rest says where each thing was drawn.

    Raises
    ------
    RenderError
        Region outside the tile, annotations or changes that do not fall on the tile, a size
        out of range, ``heat`` without ``before``.
    """
    main = _as_tile(tile)
    before_tile = _as_tile(before) if before is not None else None
    if heat and before_tile is None:
        raise RenderError(
            "`heat` compares two dates; give the earlier tile with `before`", parameter="heat"
        )
    base = before_tile or main  # the grid the frame (and every outline) is drawn on
    if before_tile is not None:
        _check_crs_pair(before_tile, main)
    window = region.window(base.georef, name=str(base.path)) if region is not None else None
    frame, style, gutter = _plan(base, window, panels=2 if before_tile else 1, width=width,
                                 scale=scale)  # fmt: skip
    marks = _gather_marks(main, before_tile, annotations, changes, residual)
    panels = _read_panels(main, before_tile, frame, style, marks, heat=heat)
    shown = [m for p in panels for m in p.marks]
    colours = class_colours((m.label for m in shown), _schema_order())
    changes_shown = _sort_marks([m for m in marks.changes if _in_frame(m, frame)])

    rendering = Rendering(image=np.zeros((1, 1, 3), np.uint8), panels=[])
    canvases = _draw_panels(
        rendering, panels, frame, style, gutter,
        changes=changes_shown, colours=colours, attributes=attributes,
    )  # fmt: skip
    total = frame.out_shape[1] * len(panels) + gutter * (len(panels) - 1)
    footer = _footer(
        main, before_tile, frame, title=title, site=site, heat=heat,
        classes=Counter(m.label for m in shown), kinds=Counter(m.kind for m in changes_shown),
        colours=colours, hidden=rendering.hidden_labels, skipped=marks.skipped,
        aligned=marks.residual is not None,
    )  # fmt: skip
    footer_canvas, legend = draw_footer(footer, style, total)
    rendering.caption = [footer.title, *footer.lines]
    canvases.append((0, footer_canvas))
    cells = []
    if chips and shown:
        chip_list = [
            _chip_on_own_grid(Chip(p.tile, m, colours[m.label]), main, before_tile, marks.residual)
            for p in panels
            for m in p.marks
        ]
        chip_canvas, cells = contact_sheet(chip_list, style, total)
        canvases.append((0, chip_canvas))
    _compose(rendering, canvases, total, legend, cells)
    return rendering


@dataclass(frozen=True)
class _Marks:
    """What a picture outlines, on the frame's grid, and how AFTER sits on BEFORE."""

    on_main: list[Mark]  # annotations of the tile (AFTER for a sheet)
    on_before: list[Mark]  # annotations of BEFORE
    skipped: int  # annotations of other tiles
    changes: list[Mark]  # change regions
    residual: Affine | None  # AFTER's residual misregistration on BEFORE's grid


@dataclass(frozen=True)
class _Panel:
    """One panel to draw: which, its tile, its pixels and the annotations in its frame."""

    name: str  # {"before", "after", "tile"}
    tile: Tile
    rgb: np.ndarray
    marks: list[Mark]


def _gather_marks(
    main: Tile,
    before: Tile | None,
    annotations: Iterable[Any] | str | Path,
    changes: Iterable[Mark] | str | Path | None,
    residual: Sequence[float] | None,
) -> _Marks:
    """Read the annotations and changes (from files when given paths) onto the frame's grid.

    The residual comes from ``changes`` when it is a detect output for these two tiles and
    none is given; AFTER's annotations are carried under BEFORE with it.
    """
    if isinstance(annotations, (str, Path)):
        annotations = load_annotations(annotations, tiles=[t for t in (main, before) if t])
    if residual is None and before is not None and isinstance(changes, (str, Path)):
        residual = read_residual(changes, before=before.name, after=main.name)
    residual_affine = Affine(*residual) if residual is not None and before else None
    on_main, on_before, skipped = _annotation_marks(list(annotations), main, before)
    if residual_affine is not None:
        on_main = transform_marks(on_main, ~residual_affine)
    change_marks = _change_marks(changes, before or main)
    return _Marks(on_main, on_before, skipped, change_marks, residual_affine)


def _read_panels(
    main: Tile, before: Tile | None, frame: Frame, style: Style, marks: _Marks, *, heat: bool
) -> list[_Panel]:
    """Read each panel's imagery (AFTER resampled onto BEFORE's frame, with the heat)."""
    if before is not None:
        rgb_before, valid_before = read_frame(before, frame)
        rgb_after, valid_after = read_onto(
            main, frame, frame_name=before.name, residual=marks.residual
        )
        if heat:
            valid = valid_before & valid_after
            blur = max(1.0, style.line)
            rgb_after = overlay_heat(rgb_after, change_heat(rgb_before, rgb_after, valid,
                                                            blur_px=blur))  # fmt: skip
        specs = [
            ("before", before, rgb_before, marks.on_before),
            ("after", main, rgb_after, marks.on_main),
        ]
    else:
        specs = [("tile", main, read_frame(main, frame)[0], marks.on_main)]
    return [
        _Panel(n, t, rgb, _sort_marks([m for m in ms if _in_frame(m, frame)]))
        for n, t, rgb, ms in specs
    ]


def _draw_panels(
    rendering: Rendering,
    panels: list[_Panel],
    frame: Frame,
    style: Style,
    gutter: int,
    *,
    changes: list[Mark],
    colours: dict,
    attributes: Sequence[str] | None,
) -> list[tuple[int, Canvas]]:
    """Draw each panel's outlines, labels and decorations, side by side.

    Records where things went in ``rendering`` and returns each panel's ``(x, canvas)``.
    """
    canvases = []
    for k, panel in enumerate(panels):
        name, ptile = panel.name, panel.tile
        draw_list = [(m, CHANGE_COLOURS[m.kind], _change_label(m, name, panel.marks))
                     for m in changes]  # fmt: skip
        draw_list += [
            (m, colours[m.label], label_text(m, attributes=attributes)) for m in panel.marks
        ]
        tag = {"before": "BEFORE · ", "after": "AFTER · "}.get(name, "") + _day(ptile)
        result = draw_panel(panel.rgb, frame, style, tag=tag, marks=draw_list)
        x = k * (frame.out_shape[1] + gutter)
        rendering.panels.append(PanelInfo(name, ptile, frame, (x, 0)))
        rendering.outlines += [(name, m, pts + [x, 0]) for m, pts in result.outlines]
        rendering.labels += [(t, _shift(r, x, 0)) for t, r in result.labels]
        rendering.reserved += [_shift(r, x, 0) for r in result.reserved]
        rendering.hidden_labels += result.hidden
        canvases.append((x, result.canvas))
    return canvases


def _plan(
    base: Tile, window: Window | None, *, panels: int, width: int | None, scale: float | None
) -> tuple[Frame, Style, int]:
    """Choose the frame of each panel, the style and the gutter between panels.

    ``width`` is the whole picture's; with ``scale`` the panels get the scale's size; otherwise
    full resolution up to `DEFAULT_MAX_WIDTH` (`DEFAULT_SHEET_WIDTH` for a sheet).
    """
    window = window or Window(0, 0, base.width, base.height)
    if width is not None:
        total = int(width)
    elif scale is not None:
        total = make_frame(base.georef, window, scale=scale).out_shape[1] * panels
    else:
        total = DEFAULT_MAX_WIDTH if panels == 1 else DEFAULT_SHEET_WIDTH
        total = min(total, int(window.width) * panels)
    style = Style.for_width(total)
    gutter = style.margin if panels == 2 else 0
    panel_w = (total - gutter * (panels - 1)) // panels
    if panels == 2:
        gutter = total - 2 * panel_w  # keep the asked width exactly
    return make_frame(base.georef, window, width=panel_w), style, gutter


def _annotation_marks(
    items: list[Any], main: Tile, before: Tile | None
) -> tuple[list[Mark], list[Mark], int]:
    """Annotation marks on the frame's grid: (of AFTER or the tile, of BEFORE, skipped).

    Raises `RenderError` when annotations were given but none lies on the tile(s).
    """
    on_main, on_before, skipped = _split_annotations(items, main, before)
    base = before or main
    if before is not None:
        on_main = move_marks(on_main, main.georef, base.georef)
    if items and not any(_on_grid(m, *base.georef.shape) for m in on_main + on_before):
        names = sorted({str(getattr(a, "tile", None) or "?") for a in items})
        raise RenderError(
            f"none of the {len(items)} annotations lies on {main.name}"
            + (f" or {before.name}" if before else "")
            + f" (they are for {', '.join(names[:3])}); pass the annotations of this tile"
        )
    return on_main, on_before, skipped


def _change_marks(changes: Iterable[Mark] | str | Path | None, base: Tile) -> list[Mark]:
    """Change marks on BEFORE's (the frame's) grid, from a file or as given."""
    if changes is None:
        return []
    if isinstance(changes, (str, Path)):
        marks = read_changes(changes, base.georef, tile_name=base.name)
        source = str(changes)
    else:
        marks, source = list(changes), "the changes"
    if marks and not any(_on_grid(m, *base.georef.shape) for m in marks):
        raise RenderError(
            f"{source}: none of the {len(marks)} change regions lies on {base.name}; "
            "pass the changes detected for this pair"
        )
    return marks


def _change_label(mark: Mark, panel: str, annotations: list[Mark]) -> str | None:
    """Return the label of a change on a panel, or ``None`` to draw its outline only.

    A change is labelled where its object is (AFTER for appeared and changed, BEFORE for
    disappeared; always on a single tile), unless an annotation there already names it.
    """
    here = panel == "tile" or (panel == "before") == (mark.kind == "disappeared")
    if not here or any(_overlap(mark, a) >= 0.3 for a in annotations):
        return None
    return label_text(mark)


def _compose(rendering: Rendering, canvases: list, width: int, legend: list, cells: list):
    """Stack the panels (side by side), the footer and the chips into the final picture."""
    panel_h = canvases[0][1].pixels.shape[0]
    n_panels = len(rendering.panels)
    below = canvases[n_panels:]
    height = panel_h + sum(c.pixels.shape[0] for _, c in below)
    page = Canvas.blank(height, width, PAPER)
    for x, canvas in canvases[:n_panels]:
        page.paste(canvas, x, 0)
    y = panel_h
    rendering.footer_origin = panel_h
    rendering.legend = [(t, _shift(r, 0, panel_h)) for t, r in legend]
    for i, (_, canvas) in enumerate(below):
        page.paste(canvas, 0, y)
        if i == 1:
            rendering.chips = [(t, _shift(r, 0, y)) for t, r in cells]
        y += canvas.pixels.shape[0]
    rendering.image = page.finish()


def _overlap(a: Mark, b: Mark) -> float:
    """Intersection over union of two marks' pixel bounds."""
    (ax0, ay0), (ax1, ay1) = a.xy.min(axis=0), a.xy.max(axis=0)
    (bx0, by0), (bx1, by1) = b.xy.min(axis=0), b.xy.max(axis=0)
    iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    ih = max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / union if union > 0 else 0.0


def _chip_on_own_grid(chip: Chip, main: Tile, before: Tile | None, residual: Affine | None) -> Chip:
    """Chips are cut from each object's own tile: carry AFTER marks back to AFTER's grid."""
    if before is None or chip.tile is before:
        return chip
    marks = [chip.mark] if residual is None else transform_marks([chip.mark], residual)
    (mark,) = move_marks(marks, before.georef, main.georef)
    return Chip(main, mark, chip.colour)


def _shift(rect: tuple, dx: int, dy: int) -> tuple[int, int, int, int]:
    return (rect[0] + dx, rect[1] + dy, rect[2] + dx, rect[3] + dy)


def _schema_order() -> list[str]:
    try:
        from imagery_tool.annotations import default_schema

        return default_schema().class_names
    except Exception:  # noqa: BLE001 - colours fall back to name hashes without a schema
        return []


def _footer(
    main: Tile,
    before: Tile | None,
    frame: Frame,
    *,
    title: str | None,
    site: str | None,
    heat: bool,
    classes: Counter,
    kinds: Counter,
    colours: dict,
    hidden: int,
    skipped: int,
    aligned: bool = False,
) -> Footer:
    place = isolate(site) if site else main.path.stem
    if before is not None:
        default_title = f"{place}: {_day(before)} → {_day(main)}"
        dates = f"Before: {_date(before)} ({before.name}) · After: {_date(main)} ({main.name})"
    else:
        default_title = f"{place}: {_day(main)}"
        dates = f"Date: {_date(main)} ({main.name})"
    lines = []
    if site:
        lines.append(f"Site: {isolate(site)}")
    lines.append(dates)
    where = [f"CRS: {crs_text(frame)}"]
    georef = frame.out_georef
    if georef.has_lonlat:
        lon, lat = georef.center_lonlat
        where.append(
            f"Frame centre: {abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, "
            f"{abs(lon):.5f}° {'E' if lon >= 0 else 'W'}"
        )
    elif georef.is_georeferenced:
        where.append("no lon/lat (the CRS has no known relation to them)")
    if frame.georef.mean_gsd_m is not None:
        mpp = frame.metres_per_px
        gsd = frame.georef.mean_gsd_m
        where.append(f"1 px = {mpp:.2f} m (source {gsd:.2f} m)")
    w = frame.window
    if (w.width, w.height) != (frame.georef.width, frame.georef.height):
        where.append(
            f"window x {int(w.col_off)}-{int(w.col_off + w.width)}, "
            f"y {int(w.row_off)}-{int(w.row_off + w.height)} px"
        )
    lines.append(" · ".join(where))
    notes = []
    if before is not None:
        notes.append(
            "AFTER resampled onto the BEFORE grid by georeference and the measured residual"
            if aligned
            else "AFTER resampled onto the BEFORE grid by georeference"
        )
    if heat:
        notes.append("heat: brightness difference AFTER vs BEFORE, each date normalised")
    if hidden:
        notes.append(f"{hidden} label(s) left out where crowded")
    if skipped:
        notes.append(f"{skipped} box(es) of other tiles not shown")
    notes.append("solid boxes: annotations (tick = heading) · dashed: detected changes")
    lines.append(" · ".join(notes))
    class_entries = [
        LegendEntry(f"{isolate(name)} ({n})", colours[name])
        for name, n in sorted(classes.items(), key=lambda kv: list(colours).index(kv[0]))
    ]
    change_entries = change_legend({k: kinds.get(k, 0) for k in CHANGE_KINDS})
    extra = [LegendEntry("change heat", tuple(int(v) for v in HEAT_RAMP[2, 1:]))] if heat else []
    return Footer(
        isolate(title) if title else default_title, lines, class_entries, change_entries, extra
    )


def render_tile(tile: Tile | str | Path, **options: Any) -> np.ndarray:
    """Render and return only the picture; options as for `render`.

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    return render(tile, **options).image


def encode_png(image: np.ndarray) -> bytes:
    """Encode an RGB(A) picture as PNG bytes, the same bytes for the same pixels on every run.

    Fixed zlib level (`PNG_LEVEL`), no optimisation pass, no text chunks, no timestamp.

    Parameters
    ----------
    image : (H, W, 3) or (H, W, 4) uint8 ndarray

    Returns
    -------
    bytes
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3|4) uint8 image; got {image.shape} {image.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(
        buffer, format="PNG", compress_level=PNG_LEVEL, optimize=False
    )
    return buffer.getvalue()


def write_png(image: np.ndarray, path: str | Path) -> Path:
    """Write a picture as PNG atomically: a temporary file in the same folder, then a rename.

    Nothing is left behind when writing fails.

    Parameters
    ----------
    image : (H, W, 3) or (H, W, 4) uint8 ndarray
        The picture.
    path : str or Path
        The ``.png`` file to write (replaced if it exists).

    Returns
    -------
    Path

    Raises
    ------
    RenderError
        When ``path`` is a folder or its folder does not exist.
    OutputWriteError
        When the file cannot be written (not writable, disk full, ``ulimit -f``); the previous
        file, if any, is left as it was.
    """
    path = Path(path)
    data = encode_png(image)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise RenderError(f"{path}: is a folder; name a .png file to write")
    if not folder.is_dir():
        raise RenderError(f"{path}: folder {folder} does not exist; create it or choose another")
    return atomic_write_bytes(path, data)  # any write error: one line naming path
