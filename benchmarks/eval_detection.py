"""Object-level accuracy of change detection on generated scenes, robust vs textbook baseline.

Each scene is a before/after pair from the synthetic generator (``make_pair``), written as
JPEG-compressed COGs like real deliveries, then run through ``detect_changes`` with each
method. Detections are matched one-to-one to the truth boxes (appeared and disappeared
objects, on BEFORE's grid) at IoU >= 0.3; precision, recall and the share of matched objects
whose ``change`` kind is right are printed per method and per scene set. Detections on
objects that stayed but changed attributes (a visor raised) count neither way, nor do truth
objects less than half inside the compared area.

Scene sets: ``train`` (seeds the rules were tuned on and the region model was trained on, see
``tools/train_region_model.py``) and ``test`` (other seeds, never looked at while developing the
detector); each seed gives an easy and a hard scene (larger shift and rotation, sun change,
haze, noise).

``--pair BEFORE AFTER TRUTH`` scores one written pair instead (e.g. the 10000 px pair of
``bench_detect_speed.py``) against the generator's pair truth file
(``truth/pairs/<before>_<after date>.json``; objects that changed attributes are read from the
BEFORE truth file beside it): same matching, plus the number of regions reported.

Usage::

    python benchmarks/eval_detection.py [--set test|train|all] [--scenes N] [--size PX]
    python benchmarks/eval_detection.py --pair BEFORE.tif AFTER.tif TRUTH.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from imagery_tool_synthetic import make_pair
from imagery_tool_synthetic.cog import write_cog

from imagery_tool.change import detect_changes

IOU = 0.3

# name -> make_pair keyword arguments drawn from the seed
LEVELS = {
    "easy": {"shift": 5.0, "rotation": 0.2, "sun": 10.0, "haze": 0.08, "noise": 1.5, "gain": 0.05},
    "hard": {"shift": 20.0, "rotation": 1.0, "sun": 35.0, "haze": 0.3, "noise": 3.0, "gain": 0.15},
}
# train: the seeds the detector's rules were tuned on and its region model was trained on;
# test: seeds never looked at while developing it.
SETS = {
    "train": [
        *range(1, 1000, 97),
        *range(1003, 5000, 61),
        *range(5001, 9000, 131),
        *range(10007, 20000, 229),
        *range(20011, 30000, 119),
    ],
    "test": range(30011, 40000, 173),
}


@dataclass(frozen=True)
class Scene:
    """A written pair and the truth boxes it is scored against."""

    name: str
    before: Path
    after: Path
    scored: list
    neutral: list


def prepare_scene(seed: int, folder: Path, *, size: int = 1024) -> list[Scene]:
    """Render and write (once) the easy and the hard scene of a seed under ``folder``.

    Each scene is a folder ``<seed>_<level>`` with ``before.tif``, ``after.tif`` and
    ``truth.json`` (the scored and neutral truth objects); a folder written before is reused.
    """
    scenes = []
    for level in LEVELS:
        sub = folder / f"{seed}_{level}"
        truth = sub / "truth.json"
        if not truth.exists():
            pair = make_pair(seed, size=size, **scene_kwargs(seed, level))
            sub.mkdir(parents=True, exist_ok=True)
            for written, name in zip(write_pair(pair, sub), ("before", "after"), strict=True):
                written.replace(sub / f"{name}.tif")
            scored, neutral = truth_boxes(pair.truth, (size, size))
            neutral += changed_boxes(pair)
            truth.write_text(json.dumps({"scored": scored, "neutral": neutral}))
        boxes = json.loads(truth.read_text())
        scored, neutral = boxes["scored"], boxes["neutral"]
        scenes.append(
            Scene(f"{seed} {level}", sub / "before.tif", sub / "after.tif", scored, neutral)
        )
    return scenes


@dataclass
class Score:
    """Counts for one method over scenes."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    kind_ok: int = 0
    seconds: float = 0.0
    found: dict = field(default_factory=dict)  # truth object kind -> [matched, total]

    def add(self, other: Score) -> None:
        """Accumulate another score."""
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.kind_ok += other.kind_ok
        self.seconds += other.seconds
        for k, (m, n) in other.found.items():
            mm, nn = self.found.get(k, (0, 0))
            self.found[k] = (mm + m, nn + n)

    @property
    def precision(self) -> float:
        """Matched detections over all counted detections."""
        return self.tp / max(1, self.tp + self.fp)

    @property
    def recall(self) -> float:
        """Matched truth objects over all counted truth objects."""
        return self.tp / max(1, self.tp + self.fn)

    @property
    def kind(self) -> float:
        """Share of matched objects whose change kind is right."""
        return self.kind_ok / max(1, self.tp)


def scene_kwargs(seed: int, level: str) -> dict:
    """``make_pair`` options for a scene, drawn deterministically from its seed."""
    p = LEVELS[level]
    rng = np.random.default_rng(seed)
    return {
        "shift_px": (
            round(float(rng.uniform(-p["shift"], p["shift"])), 2),
            round(float(rng.uniform(-p["shift"], p["shift"])), 2),
        ),
        "rotation_deg": round(float(rng.uniform(-p["rotation"], p["rotation"])), 3),
        "sun_change_deg": p["sun"],
        "haze": p["haze"],
        "noise_sigma": p["noise"],
        "gain": p["gain"],
        "n_aircraft": 10,
        "n_vehicles": 6,
        "change_fraction": 0.35,
    }


def write_pair(pair, folder: Path) -> tuple[Path, Path]:
    """Write a generated pair as two JPEG COGs (the generator's own writer)."""
    paths = []
    for name, image, acq in (
        ("before", pair.before, pair.series.acquisitions[0]),
        ("after", pair.after, pair.series.acquisitions[1]),
    ):
        path = folder / f"{name}_{acq.date}.tif"

        def window(w, image=image):
            c, r = int(w.col_off), int(w.row_off)
            return image[:, r : r + int(w.height), c : c + int(w.width)]

        write_cog(path, window, site=pair.series.site, acquisition=acq, block=1024)
        paths.append(path)
    return paths[0], paths[1]


def truth_boxes(truth: dict, shape: tuple[int, int]) -> tuple[list, list]:
    """(scored, neutral): truth objects as ``(box, change, object kind, boxes)``.

    ``boxes`` are the boxes a detection may match (at IoU >= 0.3 with any of them). Neutral
    objects are not counted either way: less than half inside the image, or replaced by
    another of the same class at the same place (the generator gives it a new id, but nothing
    visible changed). An object replaced by one of another class on the same stand (IoU >= 0.3
    between their boxes; an Su-25 where an Su-24 stood) is one change of kind ``changed``:
    both dates hold an object there, and an analyst counts one change, not two; its box is
    the union of both and a detection may match it or either part.
    """
    h, w = shape
    appeared = [(r["bbox_px_before"], r) for r in truth["appeared"]]
    disappeared = [(r["bbox_px_before"], r) for r in truth["disappeared"]]
    candidates = sorted(
        (iou(a, d), i, j)
        for i, (a, _) in enumerate(appeared)
        for j, (d, _) in enumerate(disappeared)
    )[::-1]
    entries, used_a, used_d = [], set(), set()
    for value, i, j in candidates:
        if value < IOU or i in used_a or j in used_d:
            continue
        used_a.add(i)
        used_d.add(j)
        (a, ra), (d, rd) = appeared[i], disappeared[j]
        if ra["class"] == rd["class"] and value > 0.8:
            entries.append((a, "invisible", ra["kind"], [a, d]))
        else:
            union = [min(a[0], d[0]), min(a[1], d[1]), max(a[2], d[2]), max(a[3], d[3])]
            entries.append((union, "changed", ra["kind"], [union, a, d]))
    for kind, records, used in (
        ("appeared", appeared, used_a),
        ("disappeared", disappeared, used_d),
    ):
        entries += [(b, kind, r["kind"], [b]) for k, (b, r) in enumerate(records) if k not in used]
    scored, neutral = [], []
    for entry in entries:
        box = entry[0]
        inside = _area(_clip(box, w, h)) / max(_area(box), 1e-9)
        ok = inside >= 0.5 and entry[1] != "invisible"
        (scored if ok else neutral).append(entry)
    return scored, neutral


def match_iou(box, truth_entry) -> float:
    """IoU of a detection box with a truth object (the best of the boxes it may match)."""
    return max(iou(box, b) for b in truth_entry[3])


def changed_boxes(pair) -> list:
    """Boxes (BEFORE grid) of objects that stayed but changed attributes."""
    ids = {c["id"] for c in pair.truth["changed"]}
    objects = pair.before_truth["objects"]
    return [(o["bbox_px"], "changed", o["kind"], [o["bbox_px"]]) for o in objects if o["id"] in ids]


def _area(b) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _clip(b, w, h):
    return [max(0, b[0]), max(0, b[1]), min(w, b[2]), min(h, b[3])]


def iou(a, b) -> float:
    """Intersection over union of two (c0, r0, c1, r1) boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = _area(a) + _area(b) - inter
    return inter / union if union > 0 else 0.0


def score_scene(regions, scored, neutral) -> Score:
    """Greedy one-to-one matching at IoU >= 0.3."""
    pairs = sorted(
        (
            (match_iou(r.bbox_px, t), i, j)
            for i, r in enumerate(regions)
            for j, t in enumerate(scored)
        ),
        reverse=True,
    )
    used_r, used_t, s = set(), set(), Score()
    for value, i, j in pairs:
        if value < IOU:
            break
        if i in used_r or j in used_t:
            continue
        used_r.add(i)
        used_t.add(j)
        s.tp += 1
        s.kind_ok += regions[i].change == scored[j][1]
    for i, r in enumerate(regions):
        if i in used_r:
            continue
        if any(iou(r.bbox_px, n[0]) >= IOU or _centre_in(r, n[0]) for n in neutral):
            continue
        s.fp += 1
    s.fn = len(scored) - len(used_t)
    for j, t in enumerate(scored):
        m, n = s.found.get(t[2], (0, 0))
        s.found[t[2]] = (m + (j in used_t), n + 1)
    return s


def _centre_in(region, box) -> bool:
    c, r = region.centre_px
    return box[0] <= c <= box[2] and box[1] <= r <= box[3]


def run(seeds, *, size: int, methods, verbose: bool, cache: Path | None) -> dict[str, Score]:
    """Evaluate methods over the scenes; returns the total score per method."""
    totals = {m: Score() for m in methods}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for scene in prepare_scene(seed, cache or Path(tmp), size=size):
                line = [f"seed {scene.name:10s} objects {len(scene.scored):2d}"]
                for m in methods:
                    t0 = time.perf_counter()
                    result = detect_changes(scene.before, scene.after, method=m)
                    s = score_scene(result.regions, scene.scored, scene.neutral)
                    s.seconds = time.perf_counter() - t0
                    totals[m].add(s)
                    line.append(f"{m}: tp {s.tp} fp {s.fp} fn {s.fn} kind {s.kind_ok}/{s.tp}")
                if verbose:
                    print("  " + " | ".join(line), flush=True)
    return totals


def written_scene(before: Path, after: Path, truth_path: Path) -> Scene:
    """Load a pair written by the generator (`write_series`) and its truth as a `Scene`.

    Objects that changed attributes are read from the BEFORE truth file beside it.
    """
    truth_path = Path(truth_path)
    truth = json.loads(truth_path.read_text())
    with rasterio.open(before) as ds:
        shape = (ds.height, ds.width)
    scored, neutral = truth_boxes(truth, shape)
    ids = {c["id"] for c in truth.get("changed", [])}
    before_truth = truth_path.parent.parent / f"{Path(truth['before_tile']).stem}.json"
    if ids and before_truth.exists():
        objects = json.loads(before_truth.read_text())["objects"]
        neutral += [
            (o["bbox_px"], "changed", o["kind"], [o["bbox_px"]]) for o in objects if o["id"] in ids
        ]
    return Scene(Path(before).stem, Path(before), Path(after), scored, neutral)


def score_files(before: Path, after: Path, truth_path: Path, *, methods) -> dict[str, Score]:
    """Score detection on one written pair against its generator truth file."""
    scene = written_scene(before, after, truth_path)
    totals = {}
    for m in methods:
        t0 = time.perf_counter()
        result = detect_changes(before, after, method=m)
        s = score_scene(result.regions, scene.scored, scene.neutral)
        s.seconds = time.perf_counter() - t0
        totals[m] = s
        print(f"{m}: {len(result.regions)} regions for {len(scene.scored)} counted changes "
              f"({len(scene.neutral)} not counted)", flush=True)  # fmt: skip
    return totals


def _print_totals(totals: dict[str, Score], scenes: int) -> None:
    print(f"{'method':16s} {'precision':>9s} {'recall':>7s} {'kind':>6s} {'TP':>5s} "
          f"{'FP':>6s} {'FN':>4s} {'s/scene':>8s}")  # fmt: skip
    for m, s in totals.items():
        print(f"{m:16s} {s.precision:9.3f} {s.recall:7.3f} {s.kind:6.3f} {s.tp:5d} "
              f"{s.fp:6d} {s.fn:4d} {s.seconds / scenes:8.2f}  recall by object: "
              + ", ".join(f"{k} {m}/{t}" for k, (m, t) in sorted(s.found.items())))  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="test")
    parser.add_argument("--scenes", type=int, default=20, help="seeds per set (x2 levels)")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--cache", type=Path, help="keep the written scenes here (and reuse them)")
    parser.add_argument("--methods", default="robust,cva")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument(
        "--pair", nargs=3, type=Path, metavar=("BEFORE", "AFTER", "TRUTH"),
        help="score one written pair against its generator truth file",
    )  # fmt: skip
    args = parser.parse_args(argv)
    methods = args.methods.split(",")
    if args.pair:
        _print_totals(score_files(*args.pair, methods=methods), 1)
        return 0
    names = list(SETS) if args.set == "all" else [args.set]
    ok = True
    for name in names:
        seeds = list(SETS[name])[: args.scenes]
        print(
            f"set {name}: {len(seeds)} seeds x {len(LEVELS)} levels, {args.size} px, IoU >= {IOU}"
        )
        cache = args.cache / name if args.cache else None
        totals = run(seeds, size=args.size, methods=methods, verbose=not args.quiet, cache=cache)
        _print_totals(totals, len(seeds) * len(LEVELS))
        if "robust" in totals:
            s = totals["robust"]
            met = s.recall >= 0.95 and s.precision >= 0.9 and s.kind >= 0.9
            print(f"target (recall >= 0.95, precision >= 0.9, kind >= 0.9): "
                  f"{'met' if met else 'NOT met'}")  # fmt: skip
            ok &= met
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
