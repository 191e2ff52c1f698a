"""Bundled fonts and text in any script: Arabic shaped and right to left beside Latin."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path

from PIL import ImageDraw, ImageFont, features

from imagery_tool.errors import FontError, RenderError

__all__ = [
    "FONT_FILES",
    "TEXT_ENGINES",
    "draw_text",
    "font_path",
    "has_rtl",
    "isolate",
    "load_font",
    "text_engine",
    "text_size",
    "visual_text",
]

# The bundled fonts (DejaVu Sans covers Latin, Greek, Cyrillic and Arabic in one file, so a
# mixed line needs no font fallback). Licence: data/fonts/LICENSE-DejaVu.txt.
FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}

# How complex scripts are laid out:
#   raqm: Pillow's libraqm (HarfBuzz shaping + FriBiDi reordering), used when Pillow has it.
#   bidi: arabic-reshaper (contextual forms, lam-alef ligatures) + python-bidi (reordering),
#         then Pillow's basic layout; the fallback where Pillow lacks raqm.
TEXT_ENGINES = ("raqm", "bidi")

_RTL_CLASSES = {"R", "AL", "RLE", "RLO", "RLI"}
# Bidi control characters: raqm hides them; the bidi engine drops them after reordering.
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def isolate(text: str) -> str:
    """Wrap a piece of text in Unicode first-strong isolates (U+2068 ... U+2069).

    A name pasted into a longer line (``Site: قاعدة حميميم · 2024-12-06``) then keeps its own
    direction without pulling the numbers after it into right-to-left order.
    """
    return f"\u2068{text}\u2069" if has_rtl(text) else text


def font_path(weight: str = "regular") -> Path:
    """Return the path of a bundled font.

    Parameters
    ----------
    weight : {"regular", "bold"}
        Which face.

    Returns
    -------
    Path
        The ``.ttf`` file inside the installed package.

    Raises
    ------
    FontError
        When the font file is missing from the installation.
    """
    if weight not in FONT_FILES:
        raise ValueError(f"weight must be one of {sorted(FONT_FILES)}; got {weight!r}")
    path = Path(str(resources.files("imagery_tool") / "data" / "fonts" / FONT_FILES[weight]))
    if not path.is_file():
        raise FontError(
            f"{path}: bundled font is missing; reinstall imagery-tool "
            "(pip install --force-reinstall imagery-tool)"
        )
    return path


@lru_cache(maxsize=64)
def load_font(
    size: int, *, weight: str = "regular", path: str | None = None
) -> ImageFont.FreeTypeFont:
    """Load a font at a pixel size, with the layout engine of `text_engine`.

    Parameters
    ----------
    size : int
        Em size in pixels (at least 1).
    weight : {"regular", "bold"}
        Bundled face, used when ``path`` is not given.
    path : str, optional
        Another TrueType/OpenType file to use instead of the bundled one.

    Returns
    -------
    PIL.ImageFont.FreeTypeFont

    Raises
    ------
    FontError
        When the file is missing or is not a font.
    """
    file = Path(path) if path is not None else font_path(weight)
    engine = ImageFont.Layout.RAQM if text_engine() == "raqm" else ImageFont.Layout.BASIC
    try:
        return ImageFont.truetype(str(file), max(1, int(size)), layout_engine=engine)
    except OSError as exc:
        raise FontError(
            f"{file}: cannot load the font ({exc}); pass an existing .ttf/.otf file"
        ) from exc


@lru_cache(maxsize=1)
def text_engine() -> str:
    """Name the layout engine in use: ``"raqm"`` when Pillow has libraqm, else ``"bidi"``."""
    return "raqm" if features.check("raqm") else "bidi"


def has_rtl(text: str) -> bool:
    """Whether ``text`` contains right-to-left characters (Arabic, Hebrew, ...)."""
    return any(unicodedata.bidirectional(ch) in _RTL_CLASSES for ch in text)


def visual_text(text: str, *, engine: str | None = None) -> str:
    """Return the string to hand to Pillow so that ``text`` comes out shaped and in order.

    With raqm the text is returned unchanged (raqm shapes and reorders it). With the bidi
    engine, Arabic letters are replaced by their contextual presentation forms and the line is
    reordered into visual (left-to-right drawing) order; the paragraph direction follows the
    first strong character, as raqm does.

    Parameters
    ----------
    text : str
        One line, in logical (typing) order.
    engine : {"raqm", "bidi"}, optional
        Defaults to `text_engine`.

    Returns
    -------
    str

    Raises
    ------
    RenderError
        When the text is right-to-left, Pillow has no raqm and arabic-reshaper/python-bidi are
        not installed.
    """
    engine = engine or text_engine()
    if engine not in TEXT_ENGINES:
        raise ValueError(f"engine must be one of {TEXT_ENGINES}; got {engine!r}")
    if engine == "raqm" or not has_rtl(text):
        return text
    try:
        import arabic_reshaper
        from bidi import get_display
    except ImportError as exc:
        raise RenderError(
            f"text {text!r} is right-to-left but Pillow has no raqm; "
            "install arabic-reshaper and python-bidi (pip install arabic-reshaper python-bidi)"
        ) from exc
    return get_display(arabic_reshaper.reshape(text)).translate(_BIDI_CONTROLS)


def text_size(text: str, font: ImageFont.FreeTypeFont) -> tuple[int, int]:
    """Width and height in pixels of one line of ``text`` as `draw_text` draws it.

    The height is the font's full line height (ascent + descent), so that labels of one font
    all have the same height whatever their letters.
    """
    left, _, right, _ = font.getbbox(visual_text(text), anchor="ls")
    ascent, descent = font.getmetrics()
    return (int(round(right - min(left, 0))), ascent + descent)


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    *,
    font: ImageFont.FreeTypeFont,
    fill: tuple[int, ...],
    stroke: tuple[int, ...] | None = None,
    stroke_width: int = 0,
) -> None:
    """Draw one line of text with its top-left corner at ``xy`` (a box of `text_size`).

    Parameters
    ----------
    draw : PIL.ImageDraw.ImageDraw
        Where to draw.
    xy : (float, float)
        Top-left corner ``(x, y)`` in pixels.
    text : str
        One line in logical order, any script the font covers.
    font : PIL.ImageFont.FreeTypeFont
        From `load_font`.
    fill : tuple of int
        RGB(A) colour.
    stroke, stroke_width
        Optional outline (halo) colour and width in pixels.
    """
    left, _, _, _ = font.getbbox(visual_text(text), anchor="ls")
    ascent, _ = font.getmetrics()
    x = round(xy[0] - min(left, 0))
    y = round(xy[1] + ascent)
    draw.text(
        (x, y),
        visual_text(text),
        font=font,
        fill=fill,
        anchor="ls",
        stroke_width=stroke_width,
        stroke_fill=stroke,
    )
