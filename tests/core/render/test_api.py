"""Rendering end to end on a known pair: sizes, legends, boxes at their pixels, determinism."""

import json
import os

import numpy as np
import pytest

from imagery_tool.annotations import BoxAnnotation
from imagery_tool.errors import OutputWriteError, RenderError
from imagery_tool.render import Region, encode_png, render, write_png
from imagery_tool.render.draw import Style
from imagery_tool.render.labels import rects_overlap
from imagery_tool.render.marks import Mark, class_colours, label_text
from imagery_tool.style import CHANGE_COLOURS
from tests.core.render.conftest import boxes

SITE = "Hmeimim air base · قاعدة حميميم"


@pytest.fixture(scope="module")
def sheet(pair, changes_file):
    before, after = pair
    return render(after, before=before, annotations=boxes(), changes=changes_file, width=1000,
                  site=SITE)  # fmt: skip


def test_sheet_size_and_panels(sheet):
    h, w, bands = sheet.image.shape
    assert (w, bands) == (1000, 3)
    before, after = sheet.panels
    assert (before.name, after.name) == ("before", "after")
    assert before.frame.out_shape == (494, 494)
    assert after.origin == (494 + Style.for_width(1000).margin, 0)
    assert sheet.footer_origin == 494 and h > 494 + 80


def test_legend_lists_classes_and_change_kinds(sheet):
    texts = [t for t, _ in sheet.legend]
    assert texts == ["An-124 (2)", "+ appeared (2)"]
    for _, rect in sheet.legend:
        assert rect[1] >= sheet.footer_origin and rect[2] <= sheet.image.shape[1]
    # The An-124 swatch is drawn in the class colour.
    colour = class_colours(["An-124"], ["An-124"])["An-124"]
    x0, y0, x1, y1 = sheet.legend[0][1]
    patch = sheet.image[y0:y1, x0:x1].reshape(-1, 3).astype(int)
    assert (np.abs(patch - colour).sum(axis=1) < 30).sum() > 10


def test_boxes_are_drawn_at_their_pixels(sheet):
    after = sheet.panels[1]
    colour = np.array(class_colours(["An-124"], ["An-124"])["An-124"])
    drawn = [(m, pts) for name, m, pts in sheet.outlines if name == "after" and not m.is_change]
    assert len(drawn) == 2
    for box, (_, pts) in zip(sorted(boxes(), key=lambda b: b.xy[:, 1].min()), drawn,
                                strict=True):  # fmt: skip
        expected = box.xy * (494 / 512) + after.origin
        np.testing.assert_allclose(pts, expected, atol=1e-9)
        # The middle of each long edge carries the class colour in the picture.
        for a, b in ((1, 2), (3, 0)):
            x, y = np.round((expected[a] + expected[b]) / 2).astype(int)
            pixel = sheet.image[y, x].astype(int)
            assert np.abs(pixel - colour).sum() < 60, (x, y, pixel)
    # Change boxes (dashed) are drawn on both panels at the same ground.
    changes = [(n, pts) for n, m, pts in sheet.outlines if m.is_change]
    assert sorted(n for n, _ in changes) == ["after", "after", "before", "before"]
    shift = np.array(after.origin)
    np.testing.assert_allclose(changes[0][1] + shift, changes[2][1], atol=1e-9)


def test_labels_disjoint_inside_their_panel_and_readable(sheet):
    texts = [t for t, _ in sheet.labels]
    # Each change box covers an annotated aircraft, whose label already names it.
    assert texts == ["An-124 · nose open", "An-124 · nose open"]
    rects = [r for _, r in sheet.labels]
    for i, r in enumerate(rects):
        panel = next(p for p in sheet.panels if p.origin[0] <= r[0] < p.origin[0] + 494)
        x0 = panel.origin[0]
        assert x0 <= r[0] < r[2] <= x0 + 494 and 0 <= r[1] < r[3] <= 494
        assert not any(rects_overlap(r, q) for q in rects[i + 1 :])
        assert not any(rects_overlap(r, q) for q in sheet.reserved)


def test_same_input_same_bytes(pair, changes_file, sheet):
    before, after = pair
    again = render(after, before=before, annotations=boxes(), changes=changes_file, width=1000,
                   site=SITE)  # fmt: skip
    assert encode_png(again.image) == encode_png(sheet.image)


def test_text_and_lines_scale_with_output(pair):
    _, after = pair
    small = render(after, annotations=boxes(), width=600)
    large = render(after, annotations=boxes(), width=2400)
    h_small = small.labels[0][1][3] - small.labels[0][1][1]
    h_large = large.labels[0][1][3] - large.labels[0][1][1]
    assert 2.5 < h_large / h_small < 5
    assert Style.for_width(2400).line > Style.for_width(600).line


def test_region_chips_and_heat(pair):
    before, after = pair
    region = Region.from_pixels(60, 60, 200, 200)
    plain = render(after, before=before, annotations=boxes(), region=region, width=800)
    result = render(after, before=before, annotations=boxes(), region=region, width=800,
                    heat=True, chips=True)  # fmt: skip
    assert result.panels[0].frame.window.width == 200
    # Only the box inside the region is drawn, labelled and chipped.
    assert [t for t, _ in result.chips] == ["An-124 · nose open"]
    assert [t for t, _ in result.legend] == ["An-124 (1)", "change heat"]
    # The heat colours the new aircraft on AFTER, not the unchanged BEFORE panel.
    x0 = result.panels[1].origin[0]
    y, x = 100 * 390 // 200, x0 + 90 * 390 // 200
    assert (result.image[:390, :390] == plain.image[:390, :390]).all()
    assert not (
        result.image[y - 5 : y + 5, x - 5 : x + 5] == plain.image[y - 5 : y + 5, x - 5 : x + 5]
    ).all()


def test_pixel_mode_changes_use_bbox_px(pair, tmp_path):
    _, after = pair
    path = tmp_path / "changes.json"
    feature = {
        "type": "Feature",
        "geometry": None,
        "properties": {"change": "disappeared", "score": 0.7, "bbox_px": [100, 200, 160, 250]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    result = render(after, changes=path, width=512)
    ((_, mark, pts),) = result.outlines
    assert mark.kind == "disappeared"
    np.testing.assert_allclose(pts, [[100, 200], [160, 200], [160, 250], [100, 250]])
    # Dashes start at the first corner: the top edge's first pixels are in the kind's colour.
    patch = result.image[199:201, 101:106].reshape(-1, 3).astype(int)
    assert (np.abs(patch - CHANGE_COLOURS["disappeared"]).sum(axis=1) < 60).any()


def test_label_text_shows_true_flags_and_chosen_attributes():
    mark = Mark(
        ((0, 0), (1, 0), (1, 1), (0, 1)),
        "An-124",
        attributes={"nose_open": True, "engines_covered": False, "confidence": "high"},
    )
    assert label_text(mark) == "An-124 · nose open"
    assert label_text(mark, attributes=["confidence"]) == "An-124 · confidence high"


def test_annotations_of_another_tile_are_refused(pair):
    _, after = pair
    far = [BoxAnnotation.from_xyxy(5000, 5000, 5100, 5100, label="An-124")]
    with pytest.raises(RenderError, match="none of the 1 annotations lies on after.tif"):
        render(after, annotations=far)
    other = [BoxAnnotation.from_xyxy(10, 10, 50, 50, label="An-124", tile="elsewhere.tif")]
    with pytest.raises(RenderError, match="elsewhere.tif"):
        render(after, annotations=other)


def test_region_outside_and_heat_without_before_are_refused(pair):
    _, after = pair
    with pytest.raises(RenderError, match="lies outside"):
        render(after, region=Region.from_bbox(0, 0, 100, 100))
    with pytest.raises(RenderError, match="give the earlier tile with `before`") as refused:
        render(after, heat=True)  # the API's parameter, not the command line's --before
    assert refused.value.parameter == "heat"


def test_write_png_is_atomic(tmp_path):
    image = np.zeros((20, 30, 3), np.uint8)
    out = write_png(image, tmp_path / "a.png")
    assert out.read_bytes() == encode_png(image)
    with pytest.raises(RenderError, match="does not exist"):
        write_png(image, tmp_path / "missing" / "a.png")
    # A folder nobody can write to, even root: /proc.
    if os.path.isdir("/proc"):
        with pytest.raises(OutputWriteError, match="cannot write /proc/imagery-tool-test.png"):
            write_png(image, "/proc/imagery-tool-test.png")
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_change_labels_give_sign_and_area(pair, changes_file):
    _, after = pair
    result = render(after, changes=changes_file, width=800)
    texts = sorted(t for t, _ in result.labels)
    areas = sorted(round(b.area_px * 0.25, 1) for b in boxes())
    assert texts == sorted(f"+ {a:,.0f} m²" for a in areas)


def test_fallback_text_engine_renders_the_same_picture(pair, monkeypatch):
    """Without raqm, arabic-reshaper + python-bidi draw the same Arabic caption."""
    pytest.importorskip("arabic_reshaper")
    pytest.importorskip("bidi")
    from imagery_tool.render import text as text_mod

    _, after = pair
    first = render(after, site="قاعدة حميميم", width=600)
    text_mod.load_font.cache_clear()
    monkeypatch.setattr(text_mod, "text_engine", lambda: "bidi")
    try:
        second = render(after, site="قاعدة حميميم", width=600)
    finally:
        text_mod.load_font.cache_clear()
    assert first.image.shape == second.image.shape
    differ = (first.image != second.image).any(axis=2)
    # Outside the text (the date tag, the 'N', the scale bar's figure, the footer) nothing moves.
    for x0, y0, x1, y1 in first.reserved:
        differ[y0:y1, x0:x1] = False
    assert not differ[: first.footer_origin].any()
    # In the footer the same glyphs are drawn on the same lines; the basic layout does not kern,
    # so words drift by a few pixels along a line, but the ink per row hardly changes.
    ink_a = first.image[first.footer_origin :].min(axis=2) < 100
    ink_b = second.image[second.footer_origin :].min(axis=2) < 100
    assert abs(int(ink_a.sum()) - int(ink_b.sum())) < 0.03 * ink_a.sum()
    rows_a, rows_b = ink_a.sum(axis=1), ink_b.sum(axis=1)
    assert np.corrcoef(rows_a, rows_b)[0, 1] > 0.98


def test_after_on_another_grid_is_resampled_onto_before(pair, tmp_path):
    """AFTER stored 10 px (5 m) further east shows the same ground, boxes at the same place."""
    import rasterio
    from affine import Affine

    from tests.conftest import write_raster

    before, after = pair
    with rasterio.open(after) as ds:
        pixels, t = ds.read(), ds.transform
    shifted = np.zeros_like(pixels)
    shifted[:, :, :-10] = pixels[:, :, 10:]
    moved = write_raster(
        tmp_path / "after_moved.tif", shifted, transform=t * Affine.translation(10, 0),
        crs=rasterio.crs.CRS.from_epsg(32636), photometric="RGB", nodata=0,
        tags={"ACQUISITIONDATETIME": "2024-12-13T08:21:00Z"},
    )  # fmt: skip
    moved_boxes = [
        BoxAnnotation(tuple((x - 10, y) for x, y in b.corners), b.label,
                      attributes=b.attributes, tile="after_moved.tif")
        for b in boxes()
    ]  # fmt: skip
    ref = render(after, before=before, annotations=boxes(), width=1000)
    got = render(moved, before=before, annotations=moved_boxes, width=1000)
    for (_, _, a), (_, _, b) in zip(ref.outlines, got.outlines, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # The AFTER panels agree away from the strip the shifted file no longer covers.
    x0 = ref.panels[1].origin[0]
    ra = ref.image[60:400, x0 + 40 : x0 + 440].astype(int)
    ga = got.image[60:400, x0 + 40 : x0 + 440].astype(int)
    assert np.abs(ra - ga).mean() < 3
