"""Train the aircraft proposal scorer on generated scenes with exact truth; write its JSON.

Every candidate that `imagery_tool.aircraft.propose.raw_candidates` finds in a generated scene
is labelled 1 when its rotated box overlaps a true aircraft box with IoU >= 0.5, else 0 (the
negatives are what the generator puts around aircraft: vehicles, hangars, shelters, markings,
shadows, stains, and aircraft boxed badly). A logistic regression (scikit-learn, offline only)
on the standardised features and their squares is written as plain numbers with its
provenance to ``imagery_tool/aircraft/data/proposal_scorer.json``; the tool applies it with
numpy. Seeds 1000-1000+N are the training scenes; the benchmark tests on seeds 5000+.

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
sys.path.insert(0, str(ROOT))

from imagery_tool.aircraft.candidates import FEATURE_NAMES  # noqa: E402
from imagery_tool.aircraft.nms import rotated_iou  # noqa: E402
from imagery_tool.aircraft.propose import raw_candidates  # noqa: E402
from imagery_tool.aircraft.scorer import MODEL_PATH, expand  # noqa: E402
from imagery_tool.atomic import atomic_write_text  # noqa: E402
from imagery_tool.synthetic import random_series, render_date, tile_truth  # noqa: E402

TRAIN_SEED0 = 1000


def scene_samples(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of every candidate of one generated scene."""
    rng = np.random.default_rng(seed)
    series = random_series(
        seed, size=size, n_dates=1, n_aircraft=int(rng.integers(6, 16)),
        n_vehicles=int(rng.integers(4, 14)), haze=float(rng.uniform(0, 0.3)),
        noise_sigma=float(rng.uniform(1, 4)),
    )  # fmt: skip
    image = render_date(series, 0)
    truth = [
        np.asarray(o["corners_px"]) for o in tile_truth(series, 0)["objects"]
        if o["kind"] == "aircraft"
    ]  # fmt: skip
    cands = raw_candidates(image, gsd_m=0.5)
    x = np.stack([c.features for c in cands]) if cands else np.zeros((0, len(FEATURE_NAMES)))
    y = np.array(
        [max((rotated_iou(c.corners_px, t) for t in truth), default=0.0) >= 0.5 for c in cands],
        dtype=np.int64,
    )
    return x, y


def main(argv: list[str] | None = None) -> int:
    """Train and write the model; print the training figures."""
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=24)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    xs, ys = [], []
    for seed in range(TRAIN_SEED0, TRAIN_SEED0 + args.scenes):
        x, y = scene_samples(seed, args.size)
        xs.append(x)
        ys.append(y)
        print(f"seed {seed}: {len(y)} candidates, {int(y.sum())} positive", flush=True)
    x, y = np.vstack(xs), np.concatenate(ys)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    model.fit(expand(x, mean, scale), y)
    p = model.predict_proba(expand(x, mean, scale))[:, 1]
    print(
        f"{len(y)} candidates, {int(y.sum())} positive; training accuracy at 0.5: "
        f"{float(((p >= 0.5) == y).mean()):.3f}; {time.perf_counter() - t0:.0f} s"
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
        "model": "logistic regression on standardised features and their squares",
        "features": list(FEATURE_NAMES),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": model.coef_[0].tolist(),
        "intercept": float(model.intercept_[0]),
        "provenance": {
            "script": "tools/train_aircraft_scorer.py",
            "data": (
                f"imagery_tool.synthetic.random_series seeds {TRAIN_SEED0}-"
                f"{TRAIN_SEED0 + args.scenes - 1}, {args.size} px at 0.5 m, one date each; "
                "labels: candidate box IoU >= 0.5 with a true aircraft box"
            ),
            "samples": int(len(y)),
            "positives": int(y.sum()),
            "code_commit": commit,
            "sklearn_C": 1.0,
            "class_weight": "balanced",
        },
    }
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
