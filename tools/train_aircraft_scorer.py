"""Train the aircraft proposal scorer on generated scenes with exact truth; write its JSON.

Every candidate that `imagery_tool.aircraft.propose.raw_candidates` finds in a generated scene
gets the IoU of its rotated box with the best true aircraft box (0 for what the generator puts
around aircraft: vehicles, hangars, shelters, markings, shadows, stains). The seed stage, a
logistic regression on the blob features (label IoU >= 0.5), picks where `fit_body` is tried;
the final stage, boosted regression trees on all features, predicts the IoU itself, so the
score ranks the better-fitted of two boxes of one aircraft first and reads as "expected overlap
with a true aircraft". Both are written as plain numbers with their provenance to
``imagery_tool/aircraft/data/proposal_scorer.json`` (scikit-learn is used offline only); the
tool applies them with numpy. Seeds 1000-1000+N are the training scenes; the default
score threshold was chosen on seeds 3000-3009 and the benchmark tests on seeds 5000+.

    python tools/train_aircraft_scorer.py [--scenes 24] [--size 1024]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# This checkout's tool and its scene generator (synthetic/), not installed ones.
sys.path[:0] = [str(ROOT), str(ROOT / "synthetic")]

from imagery_tool_synthetic import aircraft_scene  # noqa: E402

from imagery_tool.aircraft.candidates import BLOB_FEATURES, FEATURE_NAMES  # noqa: E402
from imagery_tool.aircraft.nms import rotated_iou  # noqa: E402
from imagery_tool.aircraft.propose import raw_candidates  # noqa: E402
from imagery_tool.aircraft.scorer import MODEL_PATH, expand  # noqa: E402
from imagery_tool.atomic import atomic_write_text  # noqa: E402

TRAIN_SEED0 = 1000


def scene(seed: int, size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """One generated scene and its true aircraft boxes; odd seeds JPEG-compressed, as tiles are."""
    return aircraft_scene(seed, size, jpeg=bool(seed % 2))


def samples(image, truth, **options) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of every candidate of one scene."""
    cands = raw_candidates(image, gsd_m=0.5, **options)
    x = np.stack([c.features for c in cands]) if cands else np.zeros((0, len(FEATURE_NAMES)))
    iou = np.array([max((rotated_iou(c.corners_px, t) for t in truth), default=0.0) for c in cands])
    return x, iou


def fit_stage(x: np.ndarray, y: np.ndarray) -> dict:
    """Logistic regression on standardised features and their squares, as plain numbers."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced")
    model.fit(expand(x, mean, scale), y)
    return {
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": model.coef_[0].tolist(),
        "intercept": float(model.intercept_[0]),
    }


def fit_trees(x: np.ndarray, iou: np.ndarray, *, n_trees: int = 200, depth: int = 3) -> dict:
    """Gradient-boosted regression trees of the IoU with the best true box, as arrays."""
    from sklearn.ensemble import GradientBoostingRegressor

    model = GradientBoostingRegressor(
        n_estimators=n_trees, max_depth=depth, learning_rate=0.1, subsample=0.8,
        random_state=0,
    )  # fmt: skip
    model.fit(x, iou)
    trees = []
    for est in model.estimators_[:, 0]:
        t = est.tree_
        trees.append({
            "left": t.children_left.tolist(), "right": t.children_right.tolist(),
            "feature": t.feature.tolist(),
            "threshold": [round(float(v), 6) for v in t.threshold],
            "value": [round(float(v), 6) for v in t.value[:, 0, 0]],
        })  # fmt: skip
    return {
        "kind": "boosted trees", "link": "identity", "n_features": int(x.shape[1]),
        "init": float(model.init_.constant_[0, 0]), "learning_rate": 0.1, "max_depth": depth,
        "trees": trees,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Train and write the model; print the training figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=24)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    scenes = [scene(seed, args.size) for seed in range(TRAIN_SEED0, TRAIN_SEED0 + args.scenes)]
    stages = {}
    # stage 1: the blobs alone (where to try fit_body)
    parts = [samples(image, truth, body_fit=False) for image, truth in scenes]
    x, iou = np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    y = (iou >= 0.5).astype(np.int64)
    stages["seed"] = fit_stage(x[:, :BLOB_FEATURES], y)
    print(f"seed stage: {len(y)} blob candidates, {int(y.sum())} positive", flush=True)
    # stage 2: blobs and body fits, all features
    seed_model = {
        "features": list(FEATURE_NAMES),
        "stages": {
            "seed": {
                k: np.asarray(v) if isinstance(v, list) else v for k, v in stages["seed"].items()
            }
        },
    }
    parts = [samples(image, truth, model=seed_model) for image, truth in scenes]
    x, iou = np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    y = (iou >= 0.5).astype(np.int64)
    stages["final"] = fit_trees(x, iou)
    fits = x[:, FEATURE_NAMES.index("body_fit")] > 0
    print(
        f"final stage: {len(y)} candidates ({int(fits.sum())} body fits), {int(y.sum())} "
        f"positive ({int(y[fits].sum())} body fits); {time.perf_counter() - t0:.0f} s"
    )
    try:
        commit = (
            subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            or None
        )
    except OSError:
        commit = None
    record = {
        "model": (
            "seed: logistic regression on standardised blob features and their squares "
            "(label: IoU >= 0.5); final: 200 gradient-boosted regression trees of depth 3 on "
            "all features predicting the IoU with the best true aircraft box"
        ),
        "features": list(FEATURE_NAMES),
        "stages": stages,
        "provenance": {
            "script": "tools/train_aircraft_scorer.py",
            "data": (
                f"imagery_tool_synthetic.random_series seeds {TRAIN_SEED0}-"
                f"{TRAIN_SEED0 + args.scenes - 1}, {args.size} px at 0.5 m, one date each, odd "
                "seeds JPEG-compressed (quality 75-94); target: each candidate box's IoU with "
                "the best true aircraft box (seed stage: IoU >= 0.5)"
            ),
            "samples_final": int(len(y)),
            "positives_final": int(y.sum()),
            "code_commit": commit,
            "seed_stage": "LogisticRegression(C=1.0, class_weight='balanced')",
            "final_stage": "GradientBoostingRegressor(200 trees, depth 3, lr 0.1, subsample 0.8)",
        },
    }
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
