"""Anti-aliased outlines (solid or dashed, dark halo) and sizes that scale with the output."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

__all__ = ["Canvas", "Style", "blend_rect", "dashes", "draw_outline", "draw_polyline"]

# OpenCV draws with sub-pixel precision when coordinates are fixed point with this many bits.
_SHIFT = 4
_ONE = 1 << _SHIFT
HALO = (20, 20, 20)


@dataclass(frozen=True)
class Style:
    """Line widths, text sizes and spacing for a picture of a given width.

    Everything grows with the output so that a 4000 px sheet reads like a 1000 px one, only
    sharper. Make one with `for_width`.

    Attributes
    ----------
    width : int
        Output width the style is for, in pixels.
    line : int
        Box outline width in pixels.
    label_font, caption_font, title_font : int
        Font sizes in pixels.
    pad : int
        Padding inside label and legend boxes.
    margin : int
        Space between image edge and decorations.
    """

    width: int
    line: int
    label_font: int
    caption_font: int
    title_font: int
    pad: int
    margin: int

    @classmethod
    def for_width(cls, width: int) -> Style:
        """Return the style for an output ``width`` pixels wide."""
        u = max(width, 400) / 1000.0
        return cls(
            width=int(width),
            line=max(2, round(2.0 * u)),
            label_font=max(11, round(13 * u)),
            caption_font=max(11, round(14 * u)),
            title_font=max(13, round(19 * u)),
            pad=max(2, round(3 * u)),
            margin=max(6, round(12 * u)),
        )


def _fixed(points: np.ndarray) -> np.ndarray:
    """Continuous pixel coordinates (0 = a pixel's edge) to OpenCV's fixed point (0 = centre)."""
    xy = (np.asarray(points, dtype=np.float64) - 0.5) * _ONE
    return np.round(xy).astype(np.int32).reshape(-1, 1, 2)


def draw_polyline(
    image: np.ndarray,
    points: np.ndarray,
    colour: tuple[int, int, int],
    thickness: int,
    *,
    closed: bool = True,
    halo: bool = True,
) -> None:
    """Draw an anti-aliased polyline in place, over a dark halo for contrast.

    Parameters
    ----------
    image : (H, W, 3) uint8 ndarray
        Drawn on in place (C-contiguous).
    points : (N, 2) array_like of float
        ``(x, y)`` vertices in pixels (sub-pixel positions are kept).
    colour : (int, int, int)
        RGB.
    thickness : int
        Line width in pixels.
    closed : bool
        Join the last vertex to the first.
    halo : bool
        First draw a dark line two pixels wider, so that the colour reads on bright ground.
    """
    pts = [_fixed(points)]
    if halo:
        cv2.polylines(image, pts, closed, HALO, thickness + 2, cv2.LINE_AA, _SHIFT)
    cv2.polylines(image, pts, closed, tuple(int(c) for c in colour), thickness, cv2.LINE_AA, _SHIFT)


def dashes(points: np.ndarray, dash: float, gap: float, *, closed: bool = True) -> list[np.ndarray]:
    """Cut a polyline into dashes.

    Parameters
    ----------
    points : (N, 2) array_like of float
        Vertices.
    dash, gap : float
        Dash and gap lengths in pixels.
    closed : bool
        Whether the polyline closes on its first vertex.

    Returns
    -------
    list of (M, 2) float64 ndarray
        The dashes, each a short open polyline (corners included, so dashes turn corners).
    """
    pts = np.asarray(points, dtype=np.float64)
    if closed:
        pts = np.vstack([pts, pts[:1]])
    seg = np.diff(pts, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    total = cum[-1]
    period = dash + gap
    out: list[np.ndarray] = []
    start = 0.0
    while start < total:
        end = min(start + dash, total)
        inner = [i for i in range(1, len(cum) - 1) if start < cum[i] < end]
        stops = [start, *(cum[i] for i in inner), end]
        out.append(np.array([_point_at(pts, cum, s) for s in stops]))
        start += period
    return out


def _point_at(pts: np.ndarray, cum: np.ndarray, s: float) -> np.ndarray:
    i = int(np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(pts) - 2))
    span = cum[i + 1] - cum[i]
    t = 0.0 if span == 0 else (s - cum[i]) / span
    return pts[i] + t * (pts[i + 1] - pts[i])


def draw_outline(
    image: np.ndarray,
    corners: np.ndarray,
    colour: tuple[int, int, int],
    thickness: int,
    *,
    dashed: bool = False,
    head: bool = False,
) -> None:
    """Draw a closed polygon outline in place, solid or dashed.

    Parameters
    ----------
    image : (H, W, 3) uint8 ndarray
        Drawn on in place.
    corners : (N, 2) array_like of float
        Polygon vertices ``(x, y)``.
    colour : (int, int, int)
        RGB.
    thickness : int
        Line width in pixels.
    dashed : bool
        Dashes of 4 line widths with gaps of 2.5 (change boxes are dashed, annotations solid).
    head : bool
        For a 4-corner box: mark the head edge (corner 0 -> 1, an aircraft's nose) with a small
        tick at its middle pointing outwards.
    """
    corners = np.asarray(corners, dtype=np.float64)
    if dashed:
        dash = max(4.0, 4.0 * thickness)
        segments = dashes(corners, dash, max(3.0, 2.5 * thickness))
        for part in segments:
            draw_polyline(image, part, (20, 20, 20), thickness + 2, closed=False, halo=False)
        for part in segments:
            draw_polyline(image, part, colour, thickness, closed=False, halo=False)
    else:
        draw_polyline(image, corners, colour, thickness)
    if head and len(corners) == 4:
        a, b = corners[0], corners[1]
        mid = (a + b) / 2
        centre = corners.mean(axis=0)
        out = mid - centre
        norm = math.hypot(*out)
        if norm > 0:
            tick = max(3.0, 3.0 * thickness)
            tip = mid + out / norm * tick
            draw_polyline(image, np.array([mid, tip]), colour, thickness, closed=False)


def blend_rect(
    image: np.ndarray,
    rect: tuple[int, int, int, int],
    colour: tuple[int, int, int],
    alpha: float,
) -> None:
    """Blend a filled rectangle into ``image`` in place.

    Parameters
    ----------
    image : (H, W, 3) uint8 ndarray
        Drawn on in place.
    rect : (int, int, int, int)
        ``(x0, y0, x1, y1)``, end-exclusive; cut to the image.
    colour : (int, int, int)
        RGB.
    alpha : float
        Opacity 0..1.
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in rect)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    region = image[y0:y1, x0:x1].astype(np.float32)
    region = region * (1.0 - alpha) + np.asarray(colour, dtype=np.float32) * alpha
    image[y0:y1, x0:x1] = np.round(region).astype(np.uint8)


@dataclass
class Canvas:
    """An RGB picture being drawn: outlines go on the pixels now, text is queued for the end.

    Text is drawn last, in one pass with Pillow, so that nothing drawn later covers it.

    Attributes
    ----------
    pixels : (H, W, 3) uint8 ndarray
        The picture; outlines are drawn on it in place.
    texts : list
        Queued ``(text, (x, y), size, weight, fill, stroke)`` items, drawn by `finish`.
    """

    pixels: np.ndarray
    texts: list = field(default_factory=list)

    @classmethod
    def blank(cls, height: int, width: int, colour: tuple[int, int, int]) -> Canvas:
        """Make a canvas of one colour."""
        pixels = np.empty((height, width, 3), dtype=np.uint8)
        pixels[:] = colour
        return cls(pixels)

    def text(
        self,
        text: str,
        xy: tuple[float, float],
        *,
        size: int,
        weight: str = "regular",
        fill: tuple[int, int, int] = (255, 255, 255),
        stroke: tuple[int, int, int] | None = None,
    ) -> None:
        """Queue one line of text with its top-left corner at ``xy``."""
        self.texts.append((text, (float(xy[0]), float(xy[1])), int(size), weight, fill, stroke))

    def paste(self, other: Canvas, x: int, y: int) -> None:
        """Copy another canvas (pixels and queued text) with its top-left at ``(x, y)``."""
        h, w = other.pixels.shape[:2]
        self.pixels[y : y + h, x : x + w] = other.pixels
        for text, (tx, ty), size, weight, fill, stroke in other.texts:
            self.texts.append((text, (tx + x, ty + y), size, weight, fill, stroke))

    def finish(self) -> np.ndarray:
        """Draw the queued text and return the picture.

        Returns
        -------
        (H, W, 3) uint8 ndarray
        """
        from PIL import Image, ImageDraw

        from imagery_tool.render.text import draw_text, load_font

        image = Image.fromarray(self.pixels)
        draw = ImageDraw.Draw(image)
        for text, xy, size, weight, fill, stroke in self.texts:
            font = load_font(size, weight=weight)
            width = max(1, size // 8) if stroke is not None else 0
            draw_text(draw, xy, text, font=font, fill=fill, stroke=stroke, stroke_width=width)
        return np.asarray(image).copy()
