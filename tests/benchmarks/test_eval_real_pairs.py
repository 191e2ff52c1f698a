"""benchmarks/eval_real_pairs.py: scoring functions with known answers, discovery, a whole run."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load():
    name = "eval_real_pairs"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "eval_real_pairs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


erp = _load()


def region(bbox, mask=None, polygon=None):
    """A region as the harness sees one; the polygon is its box unless given."""
    c0, r0, c1, r1 = bbox
    if polygon is None:
        polygon = np.array([[c0, r0], [c1, r0], [c1, r1], [c0, r1]], float)
    return SimpleNamespace(bbox_px=bbox, mask=mask, polygon_px=polygon)


def blobs(shape=(60, 80), boxes=((5, 5, 15, 15), (40, 30, 50, 40))):
    """A label with square blobs at (c0, r0, c1, r1)."""
    truth = np.zeros(shape, bool)
    for c0, r0, c1, r1 in boxes:
        truth[r0:r1, c0:c1] = True
    return truth


# -- pixel scores -----------------------------------------------------------------------------


def test_pixel_counts_and_scores():
    truth = np.zeros((10, 10), bool)
    truth[0:4, 0:5] = True  # 20 px
    pred = np.zeros((10, 10), bool)
    pred[2:6, 0:5] = True  # 20 px, 10 of them on the label
    c = erp.pixel_counts(pred, truth)
    assert (c.tp, c.fp, c.fn, c.tn) == (10, 10, 10, 70)
    assert c.precision == 0.5 and c.recall == 0.5 and c.f1 == 0.5
    pooled = c + erp.PixelCounts(tp=10, fp=0, fn=0, tn=90)
    assert pooled.f1 == pytest.approx(40 / 60)


def test_pixel_scores_undefined_without_pixels():
    empty = np.zeros((4, 4), bool)
    c = erp.pixel_counts(empty, empty)
    assert c.precision is None and c.recall is None and c.f1 is None
    only_truth = erp.pixel_counts(empty, ~empty)
    assert only_truth.precision is None and only_truth.recall == 0 and only_truth.f1 == 0


def test_pixel_counts_refuse_other_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        erp.pixel_counts(np.zeros((3, 4), bool), np.zeros((4, 3), bool))


# -- components and matching ------------------------------------------------------------------


def test_components_are_8_connected_and_specks_ignored():
    truth = np.zeros((30, 30), bool)
    truth[2:6, 2:6] = True  # 16 px
    truth[6:10, 6:10] = True  # touches the first at a corner only: same component
    truth[20:23, 20:23] = True  # 9 px speck
    comps = erp.label_components(truth)
    assert comps.count == 1 and comps.ignored == 1
    assert comps.areas.tolist() == [32]
    # the centre of pixels 2..9 is 6.0 in continuous coordinates
    assert comps.centroids[0] == pytest.approx([6.0, 6.0])
    assert set(np.unique(comps.labels)) == {0, 1}
    assert not comps.labels[20:23, 20:23].any()


def test_issue_example_recall_half_precision_half():
    truth = blobs()
    comps = erp.label_components(truth)
    # covers blob 1 (10 x 10) and as much background: IoU 0.5
    on_blob = region((5, 5, 25, 15))
    off_both = region((60, 5, 70, 15))
    match = erp.match_objects(comps, [on_blob, off_both], truth)
    assert match.found.tolist() == [True, False]
    assert match.region_ok.tolist() == [True, False]
    assert match.recall == 0.5 and match.precision == 0.5


def test_iou_rule_threshold_without_polygon():
    truth = blobs()
    comps = erp.label_components(truth)
    at_half = region((5, 5, 25, 15), polygon=None)
    at_half.polygon_px = None
    # the top half of blob 1 and more: 50 px of 200 on it, IoU 0.2, its centre (10, 10) below
    at_fifth = region((0, 5, 40, 10))
    at_fifth.polygon_px = None
    assert erp.match_objects(comps, [at_half], truth).found.tolist() == [True, False]
    low = erp.match_objects(comps, [at_fifth], truth)
    assert low.found.tolist() == [False, False]
    assert low.region_ok.tolist() == [False]  # 25 % of its pixels on change


def test_centroid_rule_finds_a_component_with_low_iou():
    truth = blobs()
    comps = erp.label_components(truth)
    # a 2 x 2 mask (IoU 0.04) whose oriented box holds blob 1's centre (10, 10)
    small = np.ones((2, 2), bool)
    r = region((9, 9, 11, 11), mask=small, polygon=np.array([[0, 0], [20, 0], [20, 20], [0, 20]]))
    match = erp.match_objects(comps, [r], truth)
    assert match.found.tolist() == [True, False]
    assert match.region_ok.tolist() == [True]


def test_region_mostly_on_change_is_right_without_finding():
    truth = np.zeros((100, 100), bool)
    truth[10:90, 10:90] = True  # one large component, centre (50, 50)
    comps = erp.label_components(truth)
    inside = region((12, 12, 22, 22))  # all on change, IoU 0.016, centre not inside
    match = erp.match_objects(comps, [inside], truth)
    assert match.found.tolist() == [False]
    assert match.region_ok.tolist() == [True]
    assert match.to_dict()["regions_ok"] == 1 and match.recall == 0.0


def test_region_mask_is_used_not_its_box():
    truth = blobs()
    comps = erp.label_components(truth)
    mask = np.zeros((10, 40), bool)
    mask[:, 35:] = True  # only 50 pixels far from blob 1, box over blob 1
    r = region((5, 5, 45, 15), mask=mask)
    r.polygon_px = None
    match = erp.match_objects(comps, [r], truth)
    assert match.found.tolist() == [False, False]
    r.mask = None  # now the box: 100 on blob 1 of 400, and blob 1's centre inside it
    assert erp.match_objects(comps, [r], truth).found.tolist() == [True, False]
    r.bbox_px = (5, 5, 45, 10)  # the top half only: IoU 0.2, the centre (10, 10) outside
    assert erp.match_objects(comps, [r], truth).found.tolist() == [False, False]
    r.bbox_px = (5, 5, 20, 15)  # box 150 px, blob 100: IoU 0.67
    assert erp.match_objects(comps, [r], truth).found.tolist() == [True, False]


def test_centroid_inside_the_region_pixels_beyond_its_box():
    truth = blobs()
    comps = erp.label_components(truth)
    # a footprint reaching from a small box at (30, 30) over blob 1's centre (10, 10): its
    # mask lies at mask_box, its oriented box elsewhere
    footprint = np.zeros((20, 30), bool)
    footprint[4:7, 4:30] = True  # rows 9..11, columns 9..34: a thin band through (10, 10)
    r = region((30, 9, 35, 12), mask=footprint)
    r.mask_box = (5, 5, 35, 25)
    match = erp.match_objects(comps, [r], truth)
    assert match.found.tolist() == [True, False]  # IoU 6 / 172: found by the centre alone
    r.mask = np.roll(footprint, 5, axis=0)  # the band moved to rows 14..16: centre outside
    assert erp.match_objects(comps, [r], truth).found.tolist() == [False, False]


def test_rasterise_clips_and_falls_back_to_box():
    mask = np.array([[True, False], [False, True]])
    regions = [region((-1, -1, 1, 1), mask=mask), region((3, 2, 5, 3))]
    out = erp.rasterise_regions(regions, (4, 5))
    expected = np.zeros((4, 5), bool)
    expected[0, 0] = True  # mask pixel (1, 1) lands on image pixel (0, 0)
    expected[2, 3:5] = True
    assert (out == expected).all()
    assert erp.region_window(region((6, 0, 9, 2)), (4, 5)) is None


def test_region_mask_of_the_wrong_size_is_an_error():
    with pytest.raises(ValueError, match="does not match its box"):
        erp.region_window(region((0, 0, 4, 4), mask=np.ones((3, 4), bool)), (10, 10))


def test_points_in_polygon_square_and_diamond():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    diamond = np.array([[5, 0], [10, 5], [5, 10], [0, 5]], float)
    pts = np.array([[5, 5], [1, 1], [11, 5], [9.9, 9.9]])
    assert erp.points_in_polygon(pts, square).tolist() == [True, True, False, True]
    assert erp.points_in_polygon(pts, diamond).tolist() == [True, False, False, False]
    assert erp.points_in_polygon(np.zeros((0, 2)), square).tolist() == []


# -- hand truth boxes -------------------------------------------------------------------------


def test_box_rules_and_truth_scores():
    assert erp.box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    objects = [
        {"id": "P1", "state": "parked", "box": [0, 0, 10, 10]},
        {"id": "P2", "state": "parked", "box": [50, 50, 60, 60]},
        {"id": "M1", "state": "moving", "box": [100, 0, 110, 10], "box_after": [120, 0, 130, 10]},
        {"id": "M2", "state": "moving", "box": [200, 0, 210, 10]},
    ]
    regions = [
        region((8, 8, 30, 30)),  # IoU 4/580 with P1, P1's centre (5, 5) outside: no hit
        region((54, 54, 56, 56), polygon=np.array([[40, 40], [70, 40], [70, 70], [40, 70]])),
        region((121, 0, 131, 10)),  # M1 where it is in B
    ]
    scores = erp.score_truth_boxes(objects, regions)
    assert (scores["parked"], scores["parked_flagged"]) == (2, 1)
    assert (scores["moving"], scores["moving_found"]) == (2, 1)
    assert [o["hit"] for o in scores["objects"]] == [False, True, True, False]
    assert erp.box_hit([0, 0, 10, 10], [region((7, 0, 17, 10))])  # IoU 3/17 >= 0.1


def test_truth_file_of_the_repo_is_valid():
    pairs = erp.load_truth_boxes([erp.DEFAULT_TRUTH_BOXES])
    names = {p["pair"] for p in pairs}
    assert names == {"sfo_airport_1", "sfo_airport_2"}
    for p in pairs:
        w, h = p["size"]
        states = {o["state"] for o in p["objects"]}
        assert states == {"parked", "moving"}
        for o in p["objects"]:
            for box in [o["box"], o.get("box_after")]:
                if box:
                    assert 0 <= box[0] < box[2] <= w and 0 <= box[1] < box[3] <= h


def test_truth_boxes_apply_by_md5_or_by_name(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"pixels")
    md5 = hashlib.md5(b"pixels").hexdigest()
    pair = erp.Pair("ds", "a.png", image, image)
    by_md5 = {"md5_before": md5, "pair": "other", "objects": []}
    wrong = {"md5_before": "0" * 32, "dataset": "ds", "pair": "a", "objects": []}
    by_name = {"dataset": "ds", "pair": "a", "objects": []}
    assert erp.truth_for_pair(pair, [wrong, by_md5]) is by_md5
    assert erp.truth_for_pair(pair, [wrong]) is None
    assert erp.truth_for_pair(pair, [by_name]) is by_name


def test_bad_truth_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "t.json"
    bad.write_text('{"pairs": [{"objects": [{"state": "flying", "box": [0, 0, 1, 1]}]}]}')
    with pytest.raises(ValueError, match="t.json: not a truth box file"):
        erp.load_truth_boxes([bad])


# -- registration -----------------------------------------------------------------------------


def test_corner_displacement_of_shift_rotation_and_identity():
    overlap = (0, 0, 200, 100)
    assert erp.corner_displacement_px((1, 0, 0, 0, 1, 0), overlap) == 0
    assert erp.corner_displacement_px((1, 0, 0.5, 0, 1, -1.2), overlap) == pytest.approx(1.3)
    theta = math.radians(0.5)
    c, s = math.cos(theta), math.sin(theta)
    cx, cy = 100, 50  # rotation about the overlap's centre
    matrix = (c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy)
    radius = math.hypot(100, 50)
    expected = 2 * radius * math.sin(theta / 2)
    assert erp.corner_displacement_px(matrix, overlap) == pytest.approx(expected)
    # the shift at the centre is 0 there, the corners move by about 0.98 px
    assert expected == pytest.approx(0.976, abs=1e-3)
    record = erp.registration_record({"model": "similarity", "matrix": matrix, "overlap": overlap})
    assert record["centre_shift_px"] == pytest.approx(0, abs=1e-4)
    assert record["max_shift_px"] == pytest.approx(expected, abs=1e-4)


def test_registration_status_reported_or_derived():
    applied = erp.registration_record(
        {"model": "similarity", "matrix": [1, 0, 0.3, 0, 1, 0.4], "overlap": [0, 0, 10, 10]}
    )
    assert applied["status"] == "applied" and applied["status_source"] == "derived"
    assert applied["max_shift_px"] == pytest.approx(0.5)
    assert applied["centre_shift_px"] == pytest.approx(0.5)
    none = erp.registration_record({"model": "none"})
    assert none["status"] == "not_measured"
    fallback = erp.registration_record(
        {"model": "none", "status": "fallback", "reason": "too few windows", "confidence": 0.2}
    )
    assert fallback["status_source"] == "reported" and fallback["reason"] == "too few windows"
    off = erp.registration_record(
        {"model": "shift", "status": "applied", "matrix": [1, 0, 1.5, 0, 1, 0], "overlap": [0] * 4}
    )
    summary = erp.summarise_registration([applied, none, fallback, off])
    assert (summary["applied"], summary["fallback"], summary["not_measured"]) == (2, 1, 1)
    assert summary["max_shift_px_applied"] == pytest.approx(1.5)
    assert summary["max_centre_shift_px_applied"] == pytest.approx(1.5)
    assert summary["target_met"] is False
    assert erp.summarise_registration([applied, fallback])["target_met"] is True
    assert erp.summarise_registration([none])["target_met"] is None


def test_registration_of_a_registration_object_reads_its_status():
    class Old:  # the Registration of before Registration.status
        def to_dict(self):
            return {"model": "similarity", "matrix": [1, 0, 0, 0, 1, 0], "overlap": [0, 0, 4, 4]}

    class New(Old):
        status, reason, confidence = "fallback", "scattered windows", 0.1

    assert erp.registration_record(erp._registration_dict(Old()))["status"] == "applied"
    new = erp.registration_record(erp._registration_dict(New()))
    assert (new["status"], new["reason"], new["confidence"]) == (
        "fallback",
        "scattered windows",
        0.1,
    )


# -- corpus -----------------------------------------------------------------------------------


def _png(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def test_discover_from_the_folder_layout(tmp_path):
    img = np.zeros((8, 8, 3), np.uint8)
    _png(tmp_path / "lab" / "A" / "p1.png", img)
    _png(tmp_path / "lab" / "B" / "p1.png", img)
    _png(tmp_path / "lab" / "label" / "p1.tif", img[..., 0])  # same stem, other suffix
    _png(tmp_path / "lab" / "A" / "p2.png", img)
    _png(tmp_path / "lab" / "B" / "p2.jpg", img)
    _png(tmp_path / "lab" / "A" / "lonely.png", img)
    (tmp_path / "lab" / "A" / "notes.txt").write_text("not an image")
    _png(tmp_path / "unl" / "A" / "q.png", img)
    _png(tmp_path / "unl" / "B" / "q.png", img)
    _png(tmp_path / "half" / "A" / "x.png", img)  # no B/: not a dataset
    (tmp_path / "manifest.csv").write_text("dataset,name,labelled\nlab,p2.png,yes\n")
    datasets = erp.discover(tmp_path)
    assert [d.name for d in datasets] == ["lab", "unl"]
    lab = {p.stem: p for p in datasets[0].pairs}
    assert set(lab) == {"lonely", "p1", "p2"}
    assert lab["p1"].label.name == "p1.tif"
    assert lab["p2"].after.name == "p2.jpg" and lab["p2"].label is None
    assert "manifest" in lab["p2"].note
    assert lab["lonely"].after is None
    # a dataset folder given directly
    assert [d.name for d in erp.discover(tmp_path / "unl")] == ["unl"]


def test_read_label_thresholds_and_checks_size(tmp_path):
    label = np.zeros((6, 8), np.uint8)
    label[1:3, 2:5] = 255
    label[5, 7] = 100  # below half: not changed
    path = _png(tmp_path / "l.png", label)
    truth = erp.read_label(path, (6, 8))
    assert truth.sum() == 6 and truth[1, 2] and not truth[5, 7]
    with pytest.raises(ValueError, match=r"l\.png: label is 8 x 6 px but A is 7 x 6 px"):
        erp.read_label(path, (6, 7))


# -- pooling and targets ----------------------------------------------------------------------


def _record(pair, method, tp, fp, fn, found, components, ok, regions):
    counts = erp.PixelCounts(tp, fp, fn, 1000 - tp - fp - fn)
    return {
        "dataset": "d",
        "pair": pair,
        "method": method,
        "labelled": True,
        "error": None,
        "pixel": counts.to_dict(),
        "objects": {
            "components": components,
            "found": found,
            "regions": regions,
            "regions_ok": ok,
            "ignored_specks": 0,
        },
        "regions": regions,
        "megapixels": 0.001,
        "km2": 0.00025,
        "pixel_size_assumed": True,
        "seconds": 1.0,
        "registration": erp.registration_record(
            {"model": "none" if method == "cva" else "shift", "status": None}
        ),
    }


def test_pooled_scores_and_targets():
    records = [
        _record("a", "robust", 30, 10, 10, 4, 5, 3, 4),
        _record("b", "robust", 10, 0, 30, 1, 5, 1, 1),
        _record("a", "cva", 20, 60, 20, 2, 5, 2, 40),
        _record("b", "cva", 5, 5, 35, 0, 5, 0, 10),
        {**_record("c", "cva", 0, 0, 0, 0, 0, 0, 0), "error": "RuntimeError: boom"},
    ]
    rows = erp.summarise(records, ["robust", "cva"], "cva")
    (row,) = rows
    robust, cva = row["methods"]["robust"], row["methods"]["cva"]
    assert robust["pixel"]["f1"] == pytest.approx(80 / 130, abs=1e-4)  # tp 40, fp 10, fn 40
    assert robust["f1_mean"] == pytest.approx((60 / 80 + 20 / 50) / 2, abs=1e-4)
    assert cva["pixel"]["f1"] == pytest.approx(50 / 170, abs=1e-4)  # tp 25, fp 65, fn 55
    assert cva["errors"] == 1 and cva["pairs"] == 3
    assert robust["objects"]["recall"] == 0.5 and robust["objects"]["precision"] == 0.8
    assert robust["regions_per_mp"] == pytest.approx(2500)
    t = row["targets"]["robust"]
    assert t["f1_ratio"] == pytest.approx((80 / 130) / (50 / 170), abs=1e-3)
    assert t["f1_met"] is True  # 2.09 x the baseline
    assert t["object_recall_met"] is False  # 0.5 < 0.7
    assert t["registration_met"] is True and t["met"] is False
    report = erp.markdown_report(rows, ["robust", "cva"], "cva", records=records, per_pair=True)
    assert "| d | 3 (1 error) |" in report
    assert "object recall 0.50 >= 0.7: not met" in report
    assert "error: RuntimeError: boom" in report


def test_failing_detector_is_an_error_row(tmp_path):
    def broken(pair, method, *, pixel_size_m, min_score=None):
        raise RuntimeError("tile unreadable\nsecond line")

    pair = erp.Pair("d", "a.png", tmp_path / "a.png", tmp_path / "b.png")
    record, detection, truth = erp.evaluate_pair(pair, "cva", detector=broken)
    assert record["error"] == "RuntimeError: tile unreadable"
    assert detection is None and truth is None
    lonely = erp.Pair("d", "a.png", tmp_path / "a.png", None)
    assert erp.evaluate_pair(lonely, "cva")[0]["error"] == "no B/a.png for A/a.png"


# -- whole runs (the real detector on small generated pairs) ----------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two datasets of 192 px PNG pairs: a textured ground where a bright block appears."""
    root = tmp_path_factory.mktemp("realpairs")
    rng = np.random.default_rng(5)
    ground = cv2.GaussianBlur(rng.uniform(60, 140, (192, 192, 3)).astype(np.float32), (0, 0), 3)
    before = ground.astype(np.uint8)
    after = before.copy()
    after[60:90, 100:140] = (235, 235, 225)
    label = np.zeros((192, 192), np.uint8)
    label[60:90, 100:140] = 255
    for name in ("p1", "p2"):
        _png(root / "lab" / "A" / f"{name}.png", before)
        _png(root / "lab" / "B" / f"{name}.png", after)
    _png(root / "lab" / "label" / "p1.png", label)
    _png(root / "lab" / "label" / "p2.png", label[:100])  # not on A's grid: an error row
    _png(root / "unl" / "A" / "u.png", before)
    _png(root / "unl" / "B" / "u.png", after)
    return root


def _run(argv, capsys):
    code = erp.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_whole_run_reports_errors_and_agrees_with_its_saved_masks(corpus, tmp_path, capsys):
    out = tmp_path / "r.json"
    code, stdout, _ = _run(
        ["--data", corpus, "--methods", "cva,robust", "--per-pair", "--json", out,
         "--save-masks", tmp_path / "m", "--no-truth-boxes"], capsys)  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["methods"] == ["cva", "robust"] and doc["baseline"] == "cva"
    assert doc["code"]["version"] and "commit" in doc["code"]
    pairs = {(r["pair"], r["method"]): r for r in doc["pairs"]}
    assert len(pairs) == 6
    bad = pairs[("p2", "cva")]["error"]
    assert "p2.png: label is 192 x 100 px but A is 192 x 192 px" in bad
    good = pairs[("p1", "cva")]
    assert good["error"] is None and good["labelled"] and good["seconds"] > 0
    assert good["command"][:2] == ["imagery-tool", "detect"]
    assert good["registration"]["status"] == "not_measured"
    assert not pairs[("u", "robust")]["labelled"] and pairs[("u", "robust")]["megapixels"] > 0
    # the record's pixel counts are those of the mask it saved against the label
    saved = cv2.imread(str(tmp_path / "m" / "lab" / "p1.cva.mask.png"), cv2.IMREAD_UNCHANGED)
    truth = cv2.imread(str(corpus / "lab" / "label" / "p1.png"), cv2.IMREAD_UNCHANGED) > 0
    counts = erp.pixel_counts(saved > 0, truth)
    assert good["pixel"]["tp"] == counts.tp and good["pixel"]["fp"] == counts.fp
    panel = cv2.imread(str(tmp_path / "m" / "lab" / "p1.cva.png"))
    assert panel.shape[0] == 192 and panel.shape[1] == 4 * 192 + 3 * 4
    groups = {d["group"]: d for d in doc["datasets"]}
    assert set(groups) == {"lab", "unl (unlabelled)"}
    assert groups["lab"]["methods"]["cva"]["errors"] == 1
    assert "| lab | 2 (1 error) |" in stdout and "| unl (unlabelled) | 1 |" in stdout
    assert "lab [robust]: pixel F1" in stdout


def test_cli_mode_gives_the_in_process_figures(corpus, tmp_path, capsys):
    figures = {}
    for mode in ("in-process", "cli"):
        out = tmp_path / f"{mode}.json"
        argv = ["--data", corpus, "--datasets", "lab", "--pairs", "p1", "--methods", "cva"]
        argv += ["--json", out, "--no-truth-boxes"] + (["--cli"] if mode == "cli" else [])
        assert _run(argv, capsys)[0] == 0
        (record,) = json.loads(out.read_text())["pairs"]
        assert record["error"] is None, record["error"]
        figures[mode] = (record["regions"], record["pixel"], record["objects"])
    assert figures["cli"] == figures["in-process"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "/no/such/folder"], "no such folder"),
        (["--methods", "cva,magic"], "unknown magic"),
        (["--datasets", "nope"], "no nope under"),
        (["--pairs", "nothing"], "no pairs found"),
    ],
)
def test_bad_usage_exits_2_with_one_line(corpus, argv, message, capsys):
    if argv[0] != "--data":
        argv = ["--data", str(corpus), *argv]
    with pytest.raises(SystemExit) as exc:
        erp.main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert message in err and len(err.strip().splitlines()) == 1
