"""The reviewer sheet of the sample pair: two An-124 (nose open) and the changes of the week."""

from pathlib import Path

import numpy as np
import pytest

from imagery_tool.render import render
from imagery_tool.render.marks import class_colours
from imagery_tool.render.text import text_engine, visual_text
from imagery_tool.tile import open_tile
from tests.cli.helpers import run_cli

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "sample_tiles"
DATA = Path(__file__).resolve().parent / "data"
ANNOTATIONS = DATA.parents[3] / "sample_tiles" / "annotations" / "hmeimim_2024-12-13_an124.geojson"
CHANGES = DATA / "hmeimim_2024-12-06_2024-12-13_truth_changes.geojson"
SITE = "Hmeimim air base · قاعدة حميميم"

pytestmark = pytest.mark.skipif(
    not (SAMPLES / "hmeimim_2024-12-13.tif").exists(), reason="sample tiles not generated"
)


@pytest.fixture(scope="module")
def sheet():
    return render(
        SAMPLES / "hmeimim_2024-12-13.tif", before=SAMPLES / "hmeimim_2024-12-06.tif",
        annotations=ANNOTATIONS, changes=CHANGES, site=SITE, width=1800,
    )  # fmt: skip


def test_size_panels_and_caption(sheet):
    h, w, _ = sheet.image.shape
    before, after = sheet.panels
    assert w == 1800 and before.frame.out_shape == (889, 889)
    assert after.origin[0] + 889 == 1800 and h > 889 + 150
    assert sheet.caption[0] == f"\u2068{SITE}\u2069: 2024-12-06 → 2024-12-13"
    assert f"Site: \u2068{SITE}\u2069" in sheet.caption
    assert any(
        "EPSG:32636" in line and "35.40100° N, 35.94900° E" in line for line in sheet.caption
    )
    # Shaped right to left (by the engine in use): the visual string ends with the first word.
    if text_engine() == "bidi":
        assert visual_text(SITE).endswith("ﻢﻴﻤﻴﻤﺣ ﺓﺪﻋﺎﻗ")


def test_legend_has_the_class_and_both_change_kinds(sheet):
    assert [t for t, _ in sheet.legend] == ["An-124 (2)", "+ appeared (10)", "− disappeared (8)"]


def test_an124_boxes_sit_on_the_new_aircraft(sheet):
    before, after = sheet.panels
    zoom = after.frame.out_shape[1] / 2048
    colour = np.array(class_colours(["An-124"], ["An-124"])["An-124"])
    drawn = [pts for name, m, pts in sheet.outlines if name == "after" and not m.is_change]
    assert len(drawn) == 2
    texts = [t for t, _ in sheet.labels]
    assert texts.count("An-124 · nose open") == 2
    truth = sorted((a.xy for a in _annotations()), key=lambda p: p[:, 1].min())
    for corners, pts in zip(truth, sorted(drawn, key=lambda p: p[:, 1].min()), strict=True):
        np.testing.assert_allclose(pts, corners * zoom + after.origin, atol=1e-6)
    for pts in drawn:
        # The outline carries the class colour at the middle of an edge ...
        x, y = np.round((pts[1] + pts[2]) / 2).astype(int)
        patch = sheet.image[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3).astype(int)
        assert (np.abs(patch - colour).sum(axis=1) < 60).any()
        # ... and the box holds a bright aircraft on AFTER where BEFORE had bare apron.
        c = pts.mean(axis=0)
        inner = np.round(c).astype(int)
        a = sheet.image[inner[1] - 6 : inner[1] + 6, inner[0] - 6 : inner[0] + 6].mean()
        bx = inner[0] - after.origin[0]
        b = sheet.image[inner[1] - 6 : inner[1] + 6, bx - 6 : bx + 6].mean()
        assert a > b + 40, (a, b)


def _annotations():
    from imagery_tool.render import load_annotations

    return load_annotations(ANNOTATIONS, tiles=[open_tile(SAMPLES / "hmeimim_2024-12-13.tif")])


def test_cli_writes_the_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    result = run_cli(
        "render", SAMPLES / "hmeimim_2024-12-13.tif", "--before",
        SAMPLES / "hmeimim_2024-12-06.tif", "--annotations", ANNOTATIONS, "--changes", CHANGES,
        "--site", SITE, "--width", "1800", "-o", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(out) as image:
        assert image.size[0] == 1800
