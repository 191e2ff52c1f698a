"""Draw one panel (imagery, outlines, labels, scale bar, north arrow) and the caption footer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imagery_tool.render.decorations import (
    PAPER,
    PAPER_INK,
    LegendEntry,
    arrow_rect,
    draw_legend,
    draw_north_arrow,
    draw_scale_bar,
    draw_tag,
    flow_legend,
    legend_height,
    north_angle,
    scale_bar_rect,
    tag_rect,
    tag_size,
)
from imagery_tool.render.draw import Canvas, Style, blend_rect, draw_outline, draw_polyline
from imagery_tool.render.labels import place_labels
from imagery_tool.render.layout import Frame
from imagery_tool.render.marks import Mark
from imagery_tool.render.text import load_font, text_size
from imagery_tool.style import CHANGE_COLOURS, CHANGE_SIGNS

__all__ = ["Footer", "PanelResult", "draw_footer", "draw_panel", "footer_height"]


@dataclass
class PanelResult:
    """What a drawn panel holds, in the panel's pixels.

    Attributes
    ----------
    canvas : Canvas
        The panel.
    outlines : list of (Mark, (N, 2) float ndarray)
        Each mark drawn and its outline in panel pixels.
    labels : list of (str, (int, int, int, int))
        Each label placed and its rectangle.
    hidden : int
        Labels left out for want of room.
    reserved : list of (int, int, int, int)
        Rectangles of the tag, north arrow and scale bar.
    """

    canvas: Canvas
    outlines: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    hidden: int = 0
    reserved: list = field(default_factory=list)


def _ink_on(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white text, whichever reads better on ``colour``."""
    r, g, b = colour
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)


def draw_panel(
    rgb: np.ndarray,
    frame: Frame,
    style: Style,
    *,
    tag: str | None,
    marks: list[tuple[Mark, tuple[int, int, int], str | None]],
) -> PanelResult:
    """Draw outlines, labels and decorations on one frame's imagery.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 ndarray
        The frame's imagery (not modified).
    frame : Frame
        Its frame; marks are on ``frame.georef``'s pixel grid.
    style : Style
        Sizes.
    tag : str or None
        Text of the top-left tag (``BEFORE · 2024-12-06``).
    marks : list of (Mark, colour, label text or None)
        Outlines to draw, in drawing order (changes first, then annotations); a ``None`` label
        draws the outline only.

    Returns
    -------
    PanelResult
    """
    canvas = Canvas(np.ascontiguousarray(rgb.copy()))
    result = PanelResult(canvas)
    h, w = frame.out_shape
    # Tiny objects are drawn no smaller than this, so that a 3 m vehicle stays a box, not a dot.
    min_side = 4.0 * style.line + 4.0
    for mark, colour, _ in marks:
        pts = _at_least(frame.to_out(mark.xy), min_side)
        draw_outline(
            canvas.pixels, pts, colour, style.line, dashed=mark.is_change,
            head=not mark.is_change and len(pts) == 4,
        )  # fmt: skip
        result.outlines.append((mark, pts))
    # Decorations are drawn last (over leader lines) but their room is reserved first.
    tsize = tag_size(tag, frame, style) if tag else None
    decorations = [
        (tag_rect(tag, (style.margin, style.margin), style, size=tsize) if tag else None),
        (arrow_rect(frame, style) if north_angle(frame) is not None else None),
        scale_bar_rect(frame, style),
    ]
    result.reserved = [r for r in decorations if r is not None]
    # Labels: annotations first (they matter most, and may go farther out with a leader line),
    # then changes, the largest first.
    font = load_font(style.label_font)
    annotations = [m for m in marks if m[2] and not m[0].is_change]
    changes = [m for m in marks if m[2] and m[0].is_change]
    changes.sort(key=lambda m: -_bounds_area(m[0]))
    spots: list = []
    taken = list(result.reserved)
    for group, rings in ((annotations, 4), (changes, 2)):
        sizes, boxes = [], []
        for mark, _, text in group:
            tw, th = text_size(text, font)
            sizes.append((tw + 2 * style.pad, th + style.pad // 2))
            pts = _at_least(frame.to_out(mark.xy), min_side)
            boxes.append((*pts.min(axis=0), *pts.max(axis=0)))
        placed = place_labels(
            sizes, np.array(boxes).reshape(-1, 4), (h, w), reserved=taken,
            gap=max(2, style.line + 1), rings=rings,
        )  # fmt: skip
        for (_, colour, text), spot in zip(group, placed, strict=True):
            if spot is None:
                result.hidden += 1
                continue
            spots.append((colour, text, spot))
            taken.append(spot.rect)
        # Change labels keep off the annotation boxes, so that every analyst's box stays whole.
        taken += [tuple(int(round(v)) for v in b) for b in boxes]
    # All leader lines first, then all label boxes: no line crosses a label.
    for colour, _, spot in spots:
        if spot.leader:
            x0, y0, x1, y1 = spot.rect
            end = (min(max(spot.anchor[0], x0), x1), min(max(spot.anchor[1], y0), y1))
            line = np.array([spot.anchor, end])
            draw_polyline(canvas.pixels, line, colour, max(1, style.line - 1), closed=False)
    for colour, text, spot in spots:
        x0, y0, x1, y1 = spot.rect
        blend_rect(canvas.pixels, spot.rect, colour, 0.88)
        canvas.text(
            text, (x0 + style.pad, y0 + style.pad // 4), size=style.label_font, fill=_ink_on(colour)
        )
        result.labels.append((text, spot.rect))
    if tag:
        draw_tag(canvas, tag, (style.margin, style.margin), style, size=tsize)
    draw_north_arrow(canvas, frame, style)
    draw_scale_bar(canvas, frame, style)
    return result


def _bounds_area(mark: Mark) -> float:
    (x0, y0), (x1, y1) = mark.xy.min(axis=0), mark.xy.max(axis=0)
    return float((x1 - x0) * (y1 - y0))


def _at_least(pts: np.ndarray, side: float) -> np.ndarray:
    """Enlarge an outline about its centre so that its bounds are at least ``side`` pixels."""
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    extent = hi - lo
    if (extent >= side).all():
        return pts
    centre = (lo + hi) / 2
    factor = np.where(extent < side, side / np.maximum(extent, 1e-6), 1.0)
    return centre + (pts - centre) * factor


@dataclass
class Footer:
    """The caption below the panels: a title, caption lines and the legends."""

    title: str
    lines: list[str]
    classes: list[LegendEntry]
    changes: list[LegendEntry]
    extra: list[LegendEntry] = field(default_factory=list)

    def groups(self) -> list[tuple[str, list[LegendEntry]]]:
        """Legend groups in order."""
        return [("Objects", self.classes), ("Changes", self.changes), ("Overlay", self.extra)]


def _wrap(line: str, font, width: int, sep: str = " · ") -> list[str]:
    """Break a caption line so that each piece fits ``width`` pixels.

    Breaks go at the ' · ' separators first, then at spaces; a single word still too wide is
    cut with an ellipsis.
    """
    if text_size(line, font)[0] <= width:
        return [line]
    if sep not in line:
        if sep == " " or " " not in line:
            return [_ellipsis(line, font, width)]
        return _wrap(line, font, width, sep=" ")
    out, current = [], ""
    for part in line.split(sep):
        trial = part if not current else f"{current}{sep}{part}"
        if current and text_size(trial, font)[0] > width:
            out.append(current)
            current = part
        else:
            current = trial
    out.append(current)
    finer = " " if sep != " " else None
    pieces = [
        p for piece in out for p in ([piece] if finer is None else _wrap(piece, font, width, finer))
    ]
    return _balance_isolates(pieces)


def _balance_isolates(pieces: list[str]) -> list[str]:
    """Close isolates (U+2068 ... U+2069) cut by a line break and reopen them on the next line."""
    depth, fixed = 0, []
    for piece in pieces:
        opened = depth + piece.count("\u2068") - piece.count("\u2069")
        fixed.append("\u2068" * depth + piece + "\u2069" * max(opened, 0))
        depth = max(opened, 0)
    return fixed


def _ellipsis(text: str, font, width: int) -> str:
    while len(text) > 1 and text_size(text + "…", font)[0] > width:
        text = text[:-1]
    return text + "…"


def _layout_footer(footer: Footer, style: Style, width: int):
    font = load_font(style.caption_font)
    title_font = load_font(style.title_font, weight="bold")
    inner = width - 2 * style.margin
    lines = [piece for line in footer.lines for piece in _wrap(line, font, inner)]
    titles = _wrap(footer.title, title_font, inner)
    rows = flow_legend(footer.groups(), style, inner)
    title_h = text_size("Ag", title_font)[1]
    line_h = text_size("Ag", font)[1] + style.pad
    height = style.margin + len(titles) * title_h + style.pad * 2 + len(lines) * line_h
    if rows:
        height += style.pad * 2 + legend_height(rows, style)
    height += style.margin
    return titles, lines, rows, title_h, line_h, height


def footer_height(footer: Footer, style: Style, width: int) -> int:
    """Height in pixels of the footer drawn ``width`` pixels wide."""
    return _layout_footer(footer, style, width)[-1]


def draw_footer(footer: Footer, style: Style, width: int) -> tuple[Canvas, list]:
    """Draw the footer on white paper.

    Returns
    -------
    canvas : Canvas
    legend : list of (str, (int, int, int, int))
        Legend entries drawn and their rectangles (headings excluded).
    """
    titles, lines, rows, title_h, line_h, height = _layout_footer(footer, style, width)
    canvas = Canvas.blank(height, width, PAPER)
    x, y = style.margin, style.margin
    for title in titles:
        canvas.text(title, (x, y), size=style.title_font, weight="bold", fill=PAPER_INK)
        y += title_h
    y += style.pad * 2
    for line in lines:
        canvas.text(line, (x, y), size=style.caption_font, fill=PAPER_INK)
        y += line_h
    legend = []
    if rows:
        y += style.pad * 2
        legend = draw_legend(canvas, rows, (x, y), style)
    return canvas, legend


def change_legend(kinds_counts: dict[str, int]) -> list[LegendEntry]:
    """Legend entries for change kinds present, e.g. ``+ appeared (3)``, dashed."""
    return [
        LegendEntry(f"{CHANGE_SIGNS[kind]} {kind} ({n})", CHANGE_COLOURS[kind], dashed=True)
        for kind, n in kinds_counts.items()
        if n
    ]
