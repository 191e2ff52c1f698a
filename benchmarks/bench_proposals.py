"""Aircraft proposals: recall at IoU 0.5, precision and speed, on generated scenes and real crops.

Synthetic: held-out generated scenes (seeds 5000+, never used for training; the scorer was
trained on seeds 1000+ by ``tools/train_aircraft_scorer.py``), 1024 px at 0.5 m, plus the four
Hmeimim sample tiles. Real (``--real DIR``, the AllPlanes development crops described in its
ABOUT.md): true rotated boxes from the four keypoints (nose, wing tip, tail, wing tip: the box
spans the points along the nose-tail axis and across it); the crops state no pixel size, so it
is computed from the web-map zoom and tile row in each file name (Web Mercator ground
resolution at that latitude: ``156543.03 * cos(lat) / 2**zoom`` m/px), and also run with the
fixed assumption of 0.5 m for comparison. Speed: seconds per 2048 x 2048 tile (a sample tile,
read from its COG), on this machine's cores (the tool uses at most two).

    python benchmarks/bench_proposals.py [--scenes 8] [--real /work/shared/aircraft_allplanes]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# This checkout's tool and its scene generator (synthetic/), not installed ones.
sys.path[:0] = [str(ROOT), str(ROOT / "synthetic")]

from _allplanes import webmap_gsd  # noqa: E402

from imagery_tool.aircraft.nms import rotated_iou  # noqa: E402
from imagery_tool.aircraft.propose import propose_aircraft  # noqa: E402

TEST_SEED0 = 5000


def match(proposals, truth, *, iou=0.5) -> tuple[int, int, int]:
    """Greedy one-to-one matching best score first: (true positives, proposals, truths)."""
    used: set[int] = set()
    tp = 0
    for p in proposals:  # best first
        best, which = 0.0, None
        for j, t in enumerate(truth):
            if j in used:
                continue
            o = rotated_iou(p.corners_px, t)
            if o > best:
                best, which = o, j
        if which is not None and best >= iou:
            used.add(which)
            tp += 1
    return tp, len(proposals), len(truth)


def figures(counts) -> str:
    tp = sum(c[0] for c in counts)
    n_p = sum(c[1] for c in counts)
    n_t = sum(c[2] for c in counts)
    recall = tp / n_t if n_t else float("nan")
    precision = tp / n_p if n_p else float("nan")
    return f"recall {recall:.3f} ({tp}/{n_t}), precision {precision:.3f} ({tp}/{n_p})"


def synthetic(scenes: int, size: int, min_score: float | None) -> list:
    from imagery_tool_synthetic import aircraft_scene

    counts = []
    for seed in range(TEST_SEED0, TEST_SEED0 + scenes):
        image, truth = aircraft_scene(seed, size)
        kw = {} if min_score is None else {"min_score": min_score}
        counts.append(match(propose_aircraft(image, pixel_size_m=0.5, **kw), truth))
    return counts


def sample_tiles(min_score: float | None) -> tuple[list, list]:
    counts, seconds = [], []
    for tif in sorted((ROOT / "sample_tiles").glob("hmeimim_*.tif")):
        truth_doc = json.loads((ROOT / "sample_tiles" / "truth" / f"{tif.stem}.json").read_text())
        truth = [np.asarray(o["corners_px"]) for o in truth_doc["objects"]
                 if o["kind"] == "aircraft"]  # fmt: skip
        kw = {} if min_score is None else {"min_score": min_score}
        t0 = time.perf_counter()
        proposals = propose_aircraft(tif, **kw)
        seconds.append(time.perf_counter() - t0)
        counts.append(match(proposals, truth))
    return counts, seconds


def keypoint_box(points: np.ndarray) -> np.ndarray:
    """Rotated box of the 4 keypoints (nose, wing tip, tail, wing tip) along nose-tail."""
    p = np.asarray(points, dtype=np.float64)[:, :2]
    axis = p[0] - p[2]
    axis /= max(np.linalg.norm(axis), 1e-9)
    across = np.array([-axis[1], axis[0]])
    c = p.mean(axis=0)
    u = (p - c) @ axis
    v = (p - c) @ across
    u0, u1, v0, v1 = u.min(), u.max(), v.min(), v.max()
    return np.array(
        [c + a * axis + b * across for a, b in ((u1, v0), (u1, v1), (u0, v1), (u0, v0))]
    )


def real(folder: Path, min_score: float | None, fixed: float | None) -> list:
    import cv2

    counts = []
    for ann in sorted(folder.glob("data/example/*/annotations/*.json")):
        image_path = ann.parent.parent / "images" / f"{ann.stem}.png"
        doc = json.loads(ann.read_text())
        truth = [keypoint_box(k) for k in doc["keypoints"]]
        bgr = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
        image = bgr[:, :, ::-1].transpose(2, 0, 1).copy()
        gsd = fixed or webmap_gsd(ann.stem)
        kw = {} if min_score is None else {"min_score": min_score}
        counts.append(match(propose_aircraft(image, pixel_size_m=gsd, **kw), truth))
    return counts


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=8)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--min-score", type=float, default=None)
    parser.add_argument("--real", type=Path, default=None)
    args = parser.parse_args(argv)
    syn = synthetic(args.scenes, args.size, args.min_score)
    print(
        f"synthetic test scenes (seeds {TEST_SEED0}-{TEST_SEED0 + args.scenes - 1}, "
        f"{args.size} px, 0.5 m): {figures(syn)}"
    )
    tiles, seconds = sample_tiles(args.min_score)
    print(f"Hmeimim sample tiles (4 x 2048 px, 0.5 m): {figures(tiles)}")
    print(
        f"speed: {np.mean(seconds):.2f} s per 2048 x 2048 tile (mean of {len(seconds)}; "
        f"max {max(seconds):.2f} s)"
    )
    if args.real is not None:
        est = real(args.real, args.min_score, None)
        print(f"real AllPlanes crops (15 crops, pixel size from web-map zoom): {figures(est)}")
        fixed = real(args.real, args.min_score, 0.5)
        print(f"real AllPlanes crops (pixel size assumed 0.5 m): {figures(fixed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
