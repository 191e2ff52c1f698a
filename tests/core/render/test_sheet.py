"""Caption wrapping: lines fit, and a name cut by a line break keeps its direction."""

from imagery_tool.render.sheet import _wrap
from imagery_tool.render.text import isolate, load_font, text_size


def test_wrap_fits_and_keeps_isolates_balanced():
    font = load_font(14, weight="bold")
    title = f"{isolate('Hmeimim air base · قاعدة حميميم')}: 2024-12-06 → 2024-12-13"
    lines = _wrap(title, font, 200)
    assert len(lines) > 1
    for line in lines:
        assert text_size(line, font)[0] <= 200
        assert line.count("\u2068") == line.count("\u2069")
    assert lines[-1].endswith(": 2024-12-06 → 2024-12-13") or "2024-12-13" in lines[-1]


def test_overlong_word_is_cut_with_an_ellipsis():
    font = load_font(14)
    (line,) = _wrap("hmeimim_2024-12-13_with_a_very_long_name.tif", font, 120)
    assert line.endswith("…") and text_size(line, font)[0] <= 120
