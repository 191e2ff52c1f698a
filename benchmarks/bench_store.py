"""Time the annotation store's edits: 1,000 single adds, updates and undos (each a durable commit).

The napari workbench adds one box per keystroke and needs each edit under 50 ms on average.
Run: ``.venv/bin/python benchmarks/bench_store.py [--n 1000] [--dir DIR]`` (DIR on the disk
you care about: the timing is dominated by fsync, synchronous=FULL).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from affine import Affine
from rasterio.crs import CRS

from imagery_tool.annotations import BoxAnnotation, TileRecord, open_store
from imagery_tool.georef import GeoRef


def summary(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(
        f"{name:<28} n={len(ms):5d}  mean {statistics.fmean(ms):7.2f} ms  "
        f"median {statistics.median(ms):7.2f} ms  p95 {p95:7.2f} ms  max {ms[-1]:7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    georef = GeoRef(20000, 20000, Affine(0.5, 0, 767300, 0, -0.5, 3922000), CRS.from_epsg(32636))
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.gpkg"
        store = open_store(path, project="bench", author="bench")
        store.add_tile(TileRecord.from_georef("t.tif", georef))
        boxes = [
            BoxAnnotation.from_center(100 + 17 * i % 19000, 100 + 13 * i % 19000, 140, 148,
                                      i % 360, label="An-124", tile="t.tif",
                                      attributes={"nose_open": True})
            for i in range(args.n)
        ]  # fmt: skip
        adds = []
        for b in boxes:
            t0 = time.perf_counter()
            store.add(b)
            adds.append(time.perf_counter() - t0)
        summary("add (one commit each)", adds)

        updates = []
        for b in store.annotations()[: args.n]:
            t0 = time.perf_counter()
            store.update(b.replace(attributes={"nose_open": False}))
            updates.append(time.perf_counter() - t0)
        summary("update", updates)

        undos = []
        for _ in range(args.n):
            t0 = time.perf_counter()
            store.undo()
            undos.append(time.perf_counter() - t0)
        summary("undo", undos)

        redos = []
        for _ in range(min(args.n, 200)):
            t0 = time.perf_counter()
            store.redo()
            redos.append(time.perf_counter() - t0)
        summary("redo", redos)

        t0 = time.perf_counter()
        listed = store.annotations()
        summary(f"read all ({len(listed)} boxes)", [time.perf_counter() - t0])

        t0 = time.perf_counter()
        store.add_many(
            BoxAnnotation.from_xyxy(i, i, i + 50, i + 60, label="tug", tile="t.tif")
            for i in range(args.n)
        )
        summary(f"add_many ({args.n} in 1 commit)", [time.perf_counter() - t0])
        store.close()
        print(f"store size: {path.stat().st_size / 1e6:.1f} MB (+ WAL)")


if __name__ == "__main__":
    main()
