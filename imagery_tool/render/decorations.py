"""Scale bar, true-north arrow, panel tags, caption lines and legends."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from pyproj import CRS as ProjCRS

from imagery_tool.georef import crs_label
from imagery_tool.render.draw import HALO, Canvas, Style, blend_rect, draw_outline, draw_polyline
from imagery_tool.render.layout import Frame
from imagery_tool.render.text import load_font, text_size

__all__ = [
    "INK",
    "PANEL",
    "PAPER",
    "PAPER_INK",
    "LegendEntry",
    "arrow_rect",
    "crs_text",
    "draw_legend",
    "draw_north_arrow",
    "draw_scale_bar",
    "draw_tag",
    "flow_legend",
    "nice_length",
    "north_angle",
    "scale_bar_rect",
    "tag_rect",
    "tag_size",
]

PANEL = (18, 18, 18)  # translucent backing of decorations on the image
INK = (245, 245, 245)  # text on dark backings
PAPER = (255, 255, 255)  # footer background
PAPER_INK = (25, 25, 25)  # footer text
_BACKING_ALPHA = 0.62


def north_angle(frame: Frame) -> float | None:
    """Direction of true north at the frame centre, in degrees clockwise from output 'up'.

    Two points on the meridian through the frame centre (a little south and north of it) are
    converted to output pixels; the direction between them is true north as drawn, whatever
    the grid's rotation, the projection's grid convergence or the output's aspect.

    Parameters
    ----------
    frame : Frame
        The drawn frame.

    Returns
    -------
    float or None
        In ``[0, 360)``: 0 when north is straight up, 90 when it points right; ``None`` without
        georeference or lon/lat (`GeoRef.has_lonlat`).
    """
    georef = frame.out_georef
    if not georef.has_lonlat:  # no CRS, or one with no known relation to lon/lat
        return None
    lon, lat = georef.pixel_to_lonlat(georef.width / 2, georef.height / 2)
    # A step of about a tenth of the frame's ground height (at least 5 m), in degrees.
    gsd = georef.mean_gsd_m or 1.0
    step_deg = max(georef.height * gsd / 10, 5.0) / 111_000.0
    lat_n, lat_s = min(lat + step_deg, 89.999), max(lat - step_deg, -89.999)
    cols, rows = georef.lonlat_to_pixel(np.array([lon, lon]), np.array([lat_s, lat_n]))
    dx, dy = cols[1] - cols[0], rows[1] - rows[0]
    return math.degrees(math.atan2(dx, -dy)) % 360.0


def nice_length(max_m: float) -> float:
    """Return the longest round length (1, 2 or 5 x 10^n metres) not above ``max_m``."""
    if not max_m > 0:
        raise ValueError(f"max_m must be positive; got {max_m}")
    exp = math.floor(math.log10(max_m))
    for mult in (5, 2, 1):
        value = mult * 10.0**exp
        if value <= max_m * (1 + 1e-9):
            return value
    return 10.0**exp  # pragma: no cover - 1 x 10^exp always fits


def metres_text(value: float) -> str:
    """``250 m`` or ``1.5 km``."""
    return f"{value / 1000:g} km" if value >= 1000 else f"{value:g} m"


def crs_text(frame: Frame) -> str:
    """Name the CRS: ``EPSG:32636 (WGS 84 / UTM zone 36N)``, or say there is none."""
    crs = frame.georef.crs
    if crs is None:
        return "no CRS (pixel coordinates)"
    code = frame.georef.epsg
    if not code:
        return crs_label(crs)
    return f"EPSG:{code} ({ProjCRS.from_user_input(crs.to_wkt()).name})"


def _bar(frame: Frame) -> tuple[float, float] | None:
    """``(length_m, length_px)`` of the scale bar: a round length near a fifth of the width."""
    mpp = frame.metres_per_px
    if mpp is None:
        return None
    length_m = nice_length(frame.out_shape[1] * 0.22 * mpp)
    return length_m, length_m / mpp


def scale_bar_rect(frame: Frame, style: Style) -> tuple[int, int, int, int] | None:
    """Where the scale bar goes (bottom-left of the frame); ``None`` without georeference."""
    bar = _bar(frame)
    if bar is None:
        return None
    tw, th = text_size(metres_text(bar[0]), load_font(style.caption_font))
    w = int(math.ceil(max(bar[1], tw))) + 4 * style.pad
    h = th + 4 * style.pad + 2 * max(3, style.line * 2)
    x0, y1 = style.margin, frame.out_shape[0] - style.margin
    return (x0, y1 - h, x0 + w, y1)


def draw_scale_bar(canvas: Canvas, frame: Frame, style: Style) -> tuple | None:
    """Draw a scale bar in metres at the bottom-left of the frame; return its rectangle."""
    rect = scale_bar_rect(frame, style)
    if rect is None:
        return None
    length_m, bar_px = _bar(frame)
    blend_rect(canvas.pixels, rect, PANEL, _BACKING_ALPHA)
    thick = max(3, style.line * 2)
    x0 = rect[0] + 2 * style.pad
    y = rect[3] - 2 * style.pad - thick
    half = bar_px / 2
    # A bar of two halves, white then black, with end ticks, as on a map.
    line = np.array([[x0, y], [x0 + bar_px, y]])
    draw_polyline(canvas.pixels, line, INK, thick, closed=False, halo=False)
    half_line = np.array([[x0 + half, y], [x0 + bar_px, y]])
    draw_polyline(
        canvas.pixels, half_line + [0, 0], HALO, max(1, thick - 2), closed=False, halo=False
    )
    for x in (x0, x0 + half, x0 + bar_px):
        tick = np.array([[x, y - thick], [x, y + thick / 2]])
        draw_polyline(canvas.pixels, tick, INK, max(1, style.line), closed=False, halo=False)
    canvas.text(metres_text(length_m), (x0, rect[1] + style.pad), size=style.caption_font, fill=INK)
    return rect


def arrow_rect(frame: Frame, style: Style) -> tuple[int, int, int, int]:
    """Where the north arrow goes: the frame's top-right corner."""
    size = max(56, round(style.title_font * 3.2))
    x1 = frame.out_shape[1] - style.margin
    return (x1 - size, style.margin, x1, style.margin + size)


def draw_north_arrow(canvas: Canvas, frame: Frame, style: Style) -> tuple | None:
    """Draw a true-north arrow at the frame's top-right; return its rectangle."""
    angle = north_angle(frame)
    if angle is None:
        return None
    rect = arrow_rect(frame, style)
    blend_rect(canvas.pixels, rect, PANEL, _BACKING_ALPHA)
    size = rect[2] - rect[0]
    font = load_font(style.caption_font, weight="bold")
    tw, th = text_size("N", font)
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    # Arrow half-length: the 'N' (a line of text th high) must fit beyond the tip in any direction.
    r = size / 2 - 1.1 * th - 1
    a = math.radians(angle)
    u = np.array([math.sin(a), -math.cos(a)])  # towards north
    p = np.array([-u[1], u[0]])  # to the right of it
    c = np.array([cx, cy])
    tip, tail = c + u * r, c - u * r
    left, right = tail - p * r * 0.6, tail + p * r * 0.6
    notch = c - u * r * 0.45
    for pts, colour in (
        (np.array([tip, right, notch, left]), INK),
        (np.array([tip, notch, left]), (120, 120, 120)),
    ):
        cv2.fillPoly(canvas.pixels, [np.round(pts * 16).astype(np.int32)], colour, cv2.LINE_AA, 4)
    # The 'N' sits beyond the tip on the arrow's axis.
    n = c + u * (r + th * 0.62)
    canvas.text(
        "N", (n[0] - tw / 2, n[1] - th / 2), size=style.caption_font, weight="bold", fill=INK
    )
    return rect


def tag_rect(
    text: str, xy: tuple[int, int], style: Style, *, size: int | None = None
) -> tuple[int, int, int, int]:
    """Where `draw_tag` draws a tag with its top-left corner at ``xy``."""
    tw, th = text_size(text, load_font(size or style.title_font, weight="bold"))
    return (xy[0], xy[1], xy[0] + tw + 4 * style.pad, xy[1] + th + 2 * style.pad)


def tag_size(text: str, frame: Frame, style: Style) -> int:
    """Font size for a panel's tag: the title size, smaller when it would reach the arrow."""
    limit = arrow_rect(frame, style)[0] - style.margin
    for size in (style.title_font, style.caption_font, style.label_font, 11, 9):
        if tag_rect(text, (style.margin, style.margin), style, size=size)[2] <= limit:
            return size
    return 9


def draw_tag(
    canvas: Canvas, text: str, xy: tuple[int, int], style: Style, *, size: int | None = None
) -> tuple:
    """Draw a bold tag (e.g. ``BEFORE · 2024-12-06``) on a dark backing; return its rectangle."""
    rect = tag_rect(text, xy, style, size=size)
    blend_rect(canvas.pixels, rect, PANEL, 0.7)
    canvas.text(
        text,
        (xy[0] + 2 * style.pad, xy[1] + style.pad),
        size=size or style.title_font,
        weight="bold",
        fill=INK,
    )
    return rect


@dataclass(frozen=True)
class LegendEntry:
    """One legend item: a swatch (solid for classes, dashed for changes) and its text."""

    text: str
    colour: tuple[int, int, int]
    dashed: bool = False


def _swatch_width(style: Style) -> int:
    return max(18, style.caption_font * 2)


def _line_height(style: Style) -> int:
    return text_size("Ag", load_font(style.caption_font))[1] + style.pad * 2


def flow_legend(
    groups: list[tuple[str, list[LegendEntry]]], style: Style, max_width: int
) -> list[list[tuple[str, LegendEntry | None, int]]]:
    """Flow legend groups into rows no wider than ``max_width``.

    Each group starts a row with its heading (bold); its entries follow and wrap onto more
    rows, indented under the heading.

    Returns
    -------
    list of rows
        Each row a list of ``(text, entry or None for a heading, width in pixels)``.
    """
    font = load_font(style.caption_font)
    bold = load_font(style.caption_font, weight="bold")
    swatch = _swatch_width(style)
    rows: list[list] = []
    for heading, entries in groups:
        if not entries:
            continue
        hw = text_size(heading, bold)[0] + 3 * style.pad
        row: list = [(heading, None, hw)]
        used = hw
        for entry in entries:
            w = swatch + 2 * style.pad + text_size(entry.text, font)[0] + 4 * style.pad
            if used + w > max_width and len(row) > 1:
                rows.append(row)
                row, used = [("", None, hw)], hw
            row.append((entry.text, entry, w))
            used += w
        rows.append(row)
    return rows


def legend_height(rows: list, style: Style) -> int:
    """Height in pixels of legend rows as `draw_legend` draws them."""
    return len(rows) * _line_height(style)


def draw_legend(
    canvas: Canvas, rows: list, origin: tuple[int, int], style: Style
) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Draw legend rows (from `flow_legend`) with their top-left at ``origin``.

    Returns
    -------
    list of (str, (int, int, int, int))
        Text and rectangle of every entry drawn (headings excluded).
    """
    line_h = _line_height(style)
    swatch = _swatch_width(style)
    x0, y = origin
    drawn = []
    for row in rows:
        x = x0
        for text, entry, w in row:
            if entry is None:
                if text:
                    canvas.text(
                        text,
                        (x, y + style.pad),
                        size=style.caption_font,
                        weight="bold",
                        fill=PAPER_INK,
                    )
            else:
                mid, sh = y + line_h / 2, line_h * 0.5
                box = np.array(
                    [
                        [x + 2, mid - sh / 2],
                        [x + swatch - 2, mid - sh / 2],
                        [x + swatch - 2, mid + sh / 2],
                        [x + 2, mid + sh / 2],
                    ]
                )
                draw_outline(
                    canvas.pixels, box, entry.colour, max(2, style.line), dashed=entry.dashed
                )
                canvas.text(
                    text,
                    (x + swatch + 2 * style.pad, y + style.pad),
                    size=style.caption_font,
                    fill=PAPER_INK,
                )
                drawn.append((text, (int(x), int(y), int(x + w), int(y + line_h))))
            x += w
        y += line_h
    return drawn
