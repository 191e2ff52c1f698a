"""Inventory per date from proposals alone: counts per date and size class against the truth.

Data: synthetic only (the truth says which aircraft stand on each date): the four Hmeimim
sample tiles and the two dates of random test scenes (``random_series``, seeds below, 2048 px
at 0.5 m). For each date the inventory is taken from single-date proposals (no store), and
compared with the truth: total count, and count per size class (the catalogue's classes of
the true types against those of the suggested types). Printed: the mean absolute count error
per date, the share of dates counted exactly and within one, and the size-class confusion
(sum over classes of |counted - true|, per date, as a share of the true count).

Usage::

    python benchmarks/bench_inventory.py [--scenes N] [--types catalogue|schema]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from imagery_tool_synthetic import random_series, write_series

from imagery_tool.aircraft.inventory import CLASSES, take_inventory
from imagery_tool.aircraft_catalogue import lookup

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SEEDS = range(101, 121)


def _truth(path: Path) -> Counter:
    objects = json.loads(path.read_text())["objects"]
    return Counter(lookup(o["class"]).size_class for o in objects if o["kind"] == "aircraft")


def scenes(n: int, folder: Path) -> list[tuple[list[Path], list[Path]]]:
    """Return (tiles, truth files) of the sample tiles and ``n`` random scenes."""
    out = [(sorted(SAMPLES.glob("hmeimim_*.tif")),
            sorted((SAMPLES / "truth").glob("hmeimim_*.json")))]  # fmt: skip
    for seed in list(SEEDS)[:n]:
        files = write_series(
            random_series(seed, size=2048, n_dates=2, n_aircraft=14), folder / f"s{seed}",
            catalog=False,
        )  # fmt: skip
        out.append((files.tiles, files.truth))
    return out


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=6, help="random scenes (default 6)")
    parser.add_argument("--types", default="catalogue", choices=["catalogue", "schema"])
    args = parser.parse_args()
    errors, class_errors, exact, within1, seconds, n_tiles = [], [], 0, 0, 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for tiles, truths in scenes(args.scenes, Path(tmp)):
            t0 = time.perf_counter()
            inventory = take_inventory(tiles, types=args.types)
            seconds += time.perf_counter() - t0
            n_tiles += len(tiles)
            by_tile = {d.tiles[0]: d for d in inventory.dates}
            for tile, truth_path in zip(tiles, truths, strict=True):
                truth = _truth(truth_path)
                day = by_tile[tile.name]
                counted = day.counts()
                total, found = sum(truth.values()), len(day.aircraft)
                errors.append(abs(found - total))
                exact += found == total
                within1 += abs(found - total) <= 1
                l1 = sum(abs(counted[c] - truth.get(c, 0)) for c in CLASSES)
                class_errors.append(l1 / max(total, 1))
                shown = {c: v for c, v in counted.items() if v}
                print(f"{tile.name:34} true {total:3d} counted {found:3d}  "
                      f"true {dict(truth)}  counted {shown}")  # fmt: skip
    n = len(errors)
    print(f"\nsynthetic dates: {n}; types from the {args.types}")
    print(f"count: mean |error| {np.mean(errors):.2f} aircraft per date; exact {exact / n:.0%}, "
          f"within one {within1 / n:.0%}")  # fmt: skip
    print(f"size classes: mean sum |counted - true| / true = {np.mean(class_errors):.0%} per date")
    print(f"time: {seconds / n_tiles:.1f} s per 2048 x 2048 tile (proposals + inventory)")


if __name__ == "__main__":
    main()
