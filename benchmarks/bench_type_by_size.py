"""Type by size: how often `rank_types` puts the true type first / in the top 3.

Two data sets, reported side by side:

- **synthetic**: every aircraft of the generator's random test scenes (``random_series``, seeds
  below) and the Hmeimim scenario, measured from the truth box with realistic error: each
  dimension shortened by blur by 0-6 % (uniform) and off by up to +-1 px (uniform) at 0.5 m.
  Two readings: the fitter knows the heading (length along the fuselage) or does not (the
  longer side taken as the length).
- **real** (``--allplanes DIR``, optional): the 25 aircraft of AllPlanes' example set, length
  nose-tail and span tip-tip from their keypoints. The crops' ground sample distance is not
  stated; it is computed from the tile row in each file name (its latitude) at web-map zoom
  19 (Web Mercator: 156543.034 m x cos(latitude) / 2**19 per pixel), not fitted to the
  aircraft. The mapbox files named zoom 18 are at zoom-19 scale too: the same KC-135s of the
  same base are 180 px long in the zoom-18 and the zoom-19 files, so they were upsampled 2x.

With ``--clicks`` the sizes are also measured end to end by click-to-box (`box_at`, one
click at the true centre) on the Hmeimim sample tiles and on the real crops, and the median
ratio of measured to true size is printed (what `SHRINK` models).

The ranking runs over the whole catalogue (89 types). Nothing here is tuned to these sets.

Usage::

    python benchmarks/bench_type_by_size.py [--allplanes ../shared/aircraft_allplanes] [--clicks]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from _allplanes import webmap_gsd
from imagery_tool_synthetic import make_hmeimim_series, random_series, tile_truth

from imagery_tool.aircraft.types import rank_types
from imagery_tool.aircraft_catalogue import lookup

SEEDS = range(1, 21)
GSD_M = 0.5


def synthetic_aircraft() -> list[tuple[str, float, float]]:
    """Return ``(type, length_m, width_m)`` of every aircraft on every synthetic test date."""
    out = []
    series_list = [random_series(s, size=2048, n_dates=2, n_aircraft=16) for s in SEEDS]
    series_list.append(make_hmeimim_series())
    for series in series_list:
        for i in range(len(series.acquisitions)):
            for o in tile_truth(series, i)["objects"]:
                if o["kind"] == "aircraft":
                    out.append((o["class"], o["length_m"], o["width_m"]))
    return out


def measure(length: float, width: float, rng: np.random.Generator) -> tuple[float, float]:
    """Return a realistic measurement of a true size: blur shortening and +-1 px."""
    shrink = rng.uniform(0.94, 1.0, 2)
    noise = rng.uniform(-1.0, 1.0, 2) * GSD_M
    return float(length * shrink[0] + noise[0]), float(width * shrink[1] + noise[1])


def score(cases: list[tuple[str, float, float]], *, gsd_m: float | None) -> dict:
    """Return top-1 / top-3 rates and the most common confusions."""
    top1 = top3 = 0
    confusions: Counter = Counter()
    for true, length, width in cases:
        names = [m.name for m in rank_types(length, width, top=3, gsd_m=gsd_m)]
        top1 += names[0] == true
        top3 += true in names
        if true not in names:
            confusions[f"{true} -> {names[0]}"] += 1
    n = len(cases)
    return {"n": n, "top1": top1 / n, "top3": top3 / n, "misses": confusions.most_common(5)}


def real_aircraft(root: Path) -> list[tuple[str, float, float]]:
    """Return ``(type, length_m, span_m)`` of the AllPlanes example aircraft from keypoints."""
    out = []
    for path in sorted((root / "data" / "example").glob("*/annotations/*.json")):
        gsd = webmap_gsd(path.name)
        record = json.loads(path.read_text())
        for label, kp in zip(record["labels"], record["keypoints"], strict=True):
            p = np.asarray(kp, dtype=float)[:, :2]
            a, b = np.linalg.norm(p[0] - p[2]), np.linalg.norm(p[1] - p[3])
            # nose-tail along, tip-tip across (the order the source gives is not always that)
            out.append((lookup(label).name, a * gsd, b * gsd))
    return out


def clicked_synthetic() -> tuple[list[tuple[str, float, float]], list[float]]:
    """Return sizes measured by click-to-box at each true centre of the sample tiles."""
    from imagery_tool.aircraft.click import box_at
    from imagery_tool.errors import ImageryToolError
    from imagery_tool.tile import open_tile

    root = Path(__file__).resolve().parents[1] / "sample_tiles"
    cases, ratios = [], []
    for path in sorted(root.glob("hmeimim_*.tif")):
        tile = open_tile(path)
        truth = json.loads((root / "truth" / f"{path.stem}.json").read_text())
        for o in truth["objects"]:
            if o["kind"] != "aircraft":
                continue
            try:
                box = box_at(tile, tuple(o["center_px"]))
            except ImageryToolError:
                cases.append((o["class"], 1.0, 1.0))  # missed: counts as wrong
                continue
            cases.append((o["class"], box.length_m, box.width_m))
            measured = sorted((box.length_m, box.width_m))
            true = sorted((o["length_m"], o["width_m"]))
            ratios += [measured[0] / true[0], measured[1] / true[1]]
    return cases, ratios


def clicked_real(root: Path) -> tuple[list[tuple[str, float, float]], list[float]]:
    """Return sizes of the real aircraft measured by click-to-box at their keypoint centre."""
    import cv2

    from imagery_tool.aircraft.click import box_in_image
    from imagery_tool.errors import ImageryToolError

    cases, ratios = [], []
    for path in sorted((root / "data" / "example").glob("*/annotations/*.json")):
        gsd = webmap_gsd(path.name)
        image_path = path.parents[1] / "images" / f"{path.stem}.png"
        rgb = cv2.cvtColor(cv2.imread(str(image_path)), cv2.COLOR_BGR2RGB)
        record = json.loads(path.read_text())
        for label, kp in zip(record["labels"], record["keypoints"], strict=True):
            p = np.asarray(kp, dtype=float)[:, :2]
            t = lookup(label)
            try:
                box = box_in_image(rgb, tuple(p.mean(axis=0)), pixel_size_m=gsd)
            except ImageryToolError:
                cases.append((t.name, 1.0, 1.0))
                continue
            cases.append((t.name, box.length_m, box.width_m))
            measured = sorted((box.length_m, box.width_m))
            true = sorted((t.length_m, t.span_m))
            ratios += [measured[0] / true[0], measured[1] / true[1]]
    return cases, ratios


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allplanes", type=Path, help="the aircraft_allplanes folder")
    parser.add_argument("--clicks", action="store_true", help="also measure by click-to-box")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    truth = synthetic_aircraft()
    known = [(t, *measure(L, W, rng)) for t, L, W in truth]
    unknown = [(t, max(L, W), min(L, W)) for t, L, W in known]
    rows = [
        ("synthetic, heading known", score(known, gsd_m=GSD_M)),
        ("synthetic, heading unknown", score(unknown, gsd_m=GSD_M)),
    ]
    if args.allplanes:
        real = real_aircraft(args.allplanes)
        rows.append(("real AllPlanes (GSD from the web-map tile)", score(real, gsd_m=None)))
    shrink = []
    if args.clicks:
        cases, ratios = clicked_synthetic()
        rows.append(("synthetic samples, click-to-box", score(cases, gsd_m=GSD_M)))
        shrink.append(("synthetic samples", ratios))
        if args.allplanes:
            cases, ratios = clicked_real(args.allplanes)
            rows.append(("real AllPlanes, click-to-box", score(cases, gsd_m=None)))
            shrink.append(("real AllPlanes", ratios))
    print(f"{'data':34} {'n':>5} {'top-1':>7} {'top-3':>7}  most common misses")
    for name, r in rows:
        print(f"{name:34} {r['n']:5d} {r['top1']:7.1%} {r['top3']:7.1%}  {r['misses']}")
    for name, ratios in shrink:
        if not ratios:
            print(f"click-to-box size / true size, {name}: no aircraft boxed")
            continue
        q = np.percentile(ratios, [25, 50, 75])
        print(
            f"click-to-box size / true size, {name}: median {q[1]:.3f} (IQR {q[0]:.3f}-{q[2]:.3f})"
        )
    types = Counter(t for t, _, _ in truth)
    print("synthetic types:", dict(types))


if __name__ == "__main__":
    main()
