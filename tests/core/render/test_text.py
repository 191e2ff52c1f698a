"""Text: bundled font, Arabic shaped and right to left with either layout engine."""

import importlib.util
import unicodedata

import numpy as np
import pytest
from PIL import Image, ImageDraw

from imagery_tool.errors import FontError
from imagery_tool.render import text as text_mod
from imagery_tool.render.text import (
    draw_text,
    font_path,
    has_rtl,
    isolate,
    load_font,
    text_size,
    visual_text,
)

SITE = "قاعدة حميميم"

# The fallback engine's libraries (declared dependencies; skip cleanly where missing).
needs_bidi = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("arabic_reshaper", "bidi")),
    reason="arabic-reshaper / python-bidi not installed",
)


def test_bundled_fonts_cover_latin_cyrillic_and_arabic():
    font = load_font(20)
    assert font_path().name == "DejaVuSans.ttf"
    assert font.getname()[0] == "DejaVu Sans"
    for ch in "AzАнقحم":  # Latin, Cyrillic, Arabic letters all have glyphs (not .notdef)
        assert font.getmask(ch).getbbox() is not None, ch


@needs_bidi
def test_bidi_engine_shapes_and_reverses_arabic():
    out = visual_text(SITE, engine="bidi")
    # Contextual presentation forms (U+FE70-U+FEFF), and the first logical letter (qaf) is last.
    assert all(0xFE70 <= ord(c) <= 0xFEFF for c in out if c != " ")
    assert unicodedata.name(out[-1]).startswith("ARABIC LETTER QAF")
    assert visual_text("An-124", engine="bidi") == "An-124"


@needs_bidi
def test_isolate_keeps_numbers_after_an_arabic_name_left_to_right():
    line = f"{isolate(SITE)}: 2024-12-06"
    out = visual_text(line, engine="bidi")
    assert out.endswith(": 2024-12-06")
    assert "\u2068" not in out and "\u2069" not in out
    assert isolate("Hmeimim") == "Hmeimim"
    assert has_rtl(SITE) and not has_rtl("An-124 · nose open")


def _ink(text: str, engine: str) -> np.ndarray:
    image = Image.new("L", (400, 60), 0)
    font = load_font(28)
    if engine == "bidi":
        from PIL import ImageFont

        font = ImageFont.truetype(str(font_path()), 28, layout_engine=ImageFont.Layout.BASIC)
    ImageDraw.Draw(image).text((10, 40), visual_text(text, engine=engine), font=font, fill=255,
                               anchor="ls")  # fmt: skip
    return np.asarray(image) > 127


@needs_bidi
@pytest.mark.skipif(text_mod.text_engine() != "raqm", reason="Pillow without raqm")
def test_raqm_and_bidi_engines_draw_the_same_arabic():
    raqm, bidi = _ink(SITE, "raqm"), _ink(SITE, "bidi")
    assert raqm.sum() > 300
    # The same joined letters in the same order: each picture lies within 2 px of the other
    # (raqm's HarfBuzz advances differ from the basic layout's by a pixel here and there).
    from scipy.ndimage import binary_dilation

    near = np.ones((5, 5), dtype=bool)
    assert (raqm & ~binary_dilation(bidi, near)).sum() < 0.03 * raqm.sum()
    assert (bidi & ~binary_dilation(raqm, near)).sum() < 0.03 * bidi.sum()
    # Right to left: the first logical letter (qaf, tall with two dots) is at the right end.
    cols = np.nonzero(raqm.any(axis=0))[0]
    assert cols.max() > 150


def test_text_size_matches_drawing():
    font = load_font(24)
    w, h = text_size("An-124 · nose open", font)
    image = Image.new("L", (w + 40, h + 40), 0)
    draw_text(ImageDraw.Draw(image), (20, 20), "An-124 · nose open", font=font, fill=255)
    x0, y0, x1, y1 = Image.fromarray(np.asarray(image)).getbbox()
    assert x0 >= 20 and y0 >= 20 and x1 <= 20 + w + 1 and y1 <= 20 + h


def test_missing_font_is_a_one_line_error(monkeypatch):
    monkeypatch.setitem(text_mod.FONT_FILES, "regular", "NoSuchFont.ttf")
    with pytest.raises(FontError, match="bundled font is missing"):
        font_path()
    with pytest.raises(FontError, match="cannot load the font"):
        load_font.__wrapped__(12, path="/nonexistent/font.ttf")
