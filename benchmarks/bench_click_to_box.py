"""Click-to-box accuracy and speed: jittered clicks on synthetic test scenes and real aircraft.

Each aircraft gets ``--clicks`` clicks (fixed seed) at most 15 % of its length from its true
centre; a click scores the IoU of the returned rotated box with the true rotated box (no box
counts as IoU 0). Printed per data set: the fraction of aircraft-clicks with IoU >= 0.5 and
>= 0.7, the median heading error (fuselage axis, modulo 180), and time per click.

Data
----
synthetic : ``imagery_tool_synthetic.make_pair`` scenes, seeds 7001.. (never used in tests), 0.5
    m, the generator's exact rotated boxes (fixed-wing: catalogue length x span).
real : ``--real DIR`` (``../shared/aircraft_allplanes``): 25 aircraft on 15 web-map crops. The
    true rotated box comes from the 4 keypoints (nose-tail axis: heading and length; wing tips:
    span). The pixel size is not in the files: it is computed from the web-map zoom level and
    tile row in each file name (Web Mercator ground resolution at that latitude; Mapbox tiles
    are 512 px, Google/Bing 256 px), never from the aircraft.

Usage::

    python benchmarks/bench_click_to_box.py [--real ../shared/aircraft_allplanes] [--scenes 6]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import cv2
import numpy as np
from _allplanes import webmap_gsd

from imagery_tool.aircraft.click import NothingAircraftLike, box_in_image


def rotated_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two convex quadrilaterals ``(4, 2)``."""
    a32, b32 = np.asarray(a, np.float32), np.asarray(b, np.float32)
    area_a = abs(cv2.contourArea(a32))
    area_b = abs(cv2.contourArea(b32))
    inter, _ = cv2.intersectConvexConvex(a32, b32)
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0


def axis_error_deg(h1: float, h2: float) -> float:
    """Angle between two axes (headings modulo 180), degrees in [0, 90]."""
    d = abs((h1 - h2) % 180.0)
    return min(d, 180.0 - d)


def box_corners(center, heading_deg, length, width) -> np.ndarray:
    t = math.radians(heading_deg)
    f = np.array([math.sin(t), -math.cos(t)]) * length / 2
    r = np.array([math.cos(t), math.sin(t)]) * width / 2
    c = np.asarray(center, np.float64)
    return np.stack([c + f - r, c + f + r, c - f + r, c - f - r])


def synthetic_cases(n_scenes: int, size: int = 768):
    """(image HWC uint8, gsd, list of (corners, heading, length_px, label)) per scene."""
    from imagery_tool_synthetic import make_pair

    for seed in range(7001, 7001 + n_scenes):
        pair = make_pair(seed, size=size, n_aircraft=10, n_vehicles=4)
        truth = pair.before_truth
        gsd = float(truth["gsd_m"])
        objs = []
        for o in truth["objects"]:
            if o["kind"] != "aircraft":
                continue
            c = np.asarray(o["corners_px"], np.float64)
            if c.min() < 0 or c[:, 0].max() > size or c[:, 1].max() > size:
                continue  # cut by the scene edge: no whole aircraft to click
            objs.append((c, float(o["heading_deg"]), o["length_m"] / gsd, o["class"]))
        yield f"seed {seed}", np.moveaxis(pair.before, 0, -1), gsd, objs


def real_cases(root: Path):
    for ann in sorted(root.glob("data/example/*/annotations/*.json")):
        img_path = ann.parent.parent / "images" / (ann.stem + ".png")
        image = cv2.imread(str(img_path), cv2.IMREAD_COLOR)[:, :, ::-1]
        d = json.loads(ann.read_text())
        gsd = webmap_gsd(ann.stem)
        objs = []
        for label, kp in zip(d["labels"], d["keypoints"], strict=True):
            k = np.asarray(kp, np.float64)[:, :2]
            nose, tip1, tail, tip2 = k
            axis = nose - tail
            length = float(np.hypot(*axis))
            u = axis / length
            v = np.array([-u[1], u[0]])
            s = sorted([float((tip1 - tail) @ v), float((tip2 - tail) @ v)])
            width = s[1] - s[0]
            centre = (nose + tail) / 2 + v * ((s[0] + s[1]) / 2)
            heading = math.degrees(math.atan2(u[0], -u[1])) % 360
            objs.append((box_corners(centre, heading, length, width), heading, length, label))
        yield ann.stem[:40], image, gsd, objs


def run(cases, clicks: int, rng: np.random.Generator, verbose: bool):
    ious, axes, times, noses = [], [], [], []
    per_class: dict[str, list[float]] = {}
    for name, image, gsd, objs in cases:
        for corners, heading, length_px, label in objs:
            centre = corners.mean(axis=0)
            for _ in range(clicks):
                r = 0.15 * length_px * math.sqrt(rng.uniform())
                a = rng.uniform(0, 2 * math.pi)
                pt = (centre[0] + r * math.cos(a), centre[1] + r * math.sin(a))
                t0 = time.perf_counter()
                try:
                    box = box_in_image(image, pt, pixel_size_m=gsd)
                except NothingAircraftLike:
                    box = None
                times.append(time.perf_counter() - t0)
                iou = 0.0 if box is None else rotated_iou(box.corners_px, corners)
                ious.append(iou)
                per_class.setdefault(label, []).append(iou)
                if box is not None:
                    axes.append(axis_error_deg(box.heading_deg, heading))
                    if box.nose_known:
                        d = abs((box.heading_deg - heading + 180) % 360 - 180)
                        noses.append(d < 90)
                if verbose:
                    print(
                        f"  {name} {label:8s} iou={iou:.2f}"
                        + (
                            ""
                            if box is None
                            else f" L={box.length_m:.1f} W={box.width_m:.1f}"
                            f" hd={box.heading_deg:.0f}/{heading:.0f} nose={box.nose_known}"
                        )
                    )
    ious = np.asarray(ious)
    return {
        "clicks": int(ious.size),
        "iou>=0.5": float((ious >= 0.5).mean()) if ious.size else float("nan"),
        "iou>=0.7": float((ious >= 0.7).mean()) if ious.size else float("nan"),
        "median_iou": float(np.median(ious)) if ious.size else float("nan"),
        "median_axis_err_deg": float(np.median(axes)) if axes else float("nan"),
        "nose_known": len(noses) / max(len(axes), 1),
        "nose_correct_when_known": float(np.mean(noses)) if noses else float("nan"),
        "s_per_click_median": float(np.median(times)) if times else float("nan"),
        "s_per_click_max": float(np.max(times)) if times else float("nan"),
        "per_class_iou>=0.5": {k: round(float((np.asarray(v) >= 0.5).mean()), 2)
                               for k, v in sorted(per_class.items())},
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real", type=Path, help="aircraft_allplanes folder")
    p.add_argument("--scenes", type=int, default=6, help="synthetic scenes (768 px, 0.5 m)")
    p.add_argument("--clicks", type=int, default=4, help="clicks per aircraft")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    cv2.setNumThreads(2)
    rows = {}
    rng = np.random.default_rng(15)
    rows["synthetic test scenes"] = run(
        synthetic_cases(args.scenes), args.clicks, rng, args.verbose
    )
    if args.real:
        rng = np.random.default_rng(15)
        rows["real (aircraft_allplanes)"] = run(real_cases(args.real), args.clicks, rng,
                                                args.verbose)  # fmt: skip
    print("targets: IoU>=0.5 for >=90 %, IoU>=0.7 for >=75 %, <=1 s per click")
    for name, r in rows.items():
        print(f"\n{name}:")
        for k, v in r.items():
            print(f"  {k}: {v if isinstance(v, dict) else round(v, 3)}")


if __name__ == "__main__":
    main()
