"""Render speed and memory: a 2048 px tile with 200 boxes, and a region of a 20000 px tile.

Usage::

    python benchmarks/bench_render.py [--workdir benchmarks/_data] [--side 20000]

1. A 2048 x 2048 tile (the sample ``sample_tiles/hmeimim_2024-12-13.tif`` when present, else a
   JPEG COG made here) with 200 oriented boxes of 8 classes: `render` at the default width
   (2048 px), then the PNG encoding. Target: under 1 s.
2. A 1000 m x 1000 m region (2000 x 2000 px) in the middle of a 20000 x 20000 3-band tile
   (made once under ``--workdir``, tiled, with overviews; not committed), rendered 2048 px wide
   with 50 boxes. Target: under 2 s, peak memory under 500 MB.

Each case runs in a fresh process; it prints the first (cold: imports done, fonts not yet
loaded) and the best of three further runs (warm), and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, resource, sys, time
import numpy as np
from imagery_tool.annotations import BoxAnnotation
from imagery_tool.render import Region, encode_png, render
from imagery_tool.tile import open_tile

path, n_boxes, region = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
tile = open_tile(path)
rng = np.random.default_rng(7)
c0, r0, w, h = region or (0, 0, tile.width, tile.height)
classes = ["An-124", "Il-76", "Su-24", "Su-34", "Ka-52", "Mi-8", "fuel truck", "tug"]
boxes = [
    BoxAnnotation.from_center(
        c0 + rng.uniform(40, w - 40), r0 + rng.uniform(40, h - 40), rng.uniform(20, 80),
        rng.uniform(15, 70), rng.uniform(0, 360), label=classes[i % len(classes)],
        attributes={"nose_open": bool(i % 5 == 0)},
    )
    for i in range(n_boxes)
]
kwargs = {"annotations": boxes}
if region:
    kwargs["region"] = Region.from_pixels(*region)
    kwargs["width"] = 2048
times, encode = [], []
for _ in range(4):
    start = time.perf_counter()
    result = render(tile, **kwargs)
    times.append(time.perf_counter() - start)
    start = time.perf_counter()
    data = encode_png(result.image)
    encode.append(time.perf_counter() - start)
# VmHWM: this process's own peak (ru_maxrss would carry the parent's over exec).
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024 if "VmHWM:" in status else (
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps({
    "shape": list(result.image.shape), "labels": len(result.labels),
    "hidden": result.hidden_labels, "cold_s": times[0], "warm_s": min(times[1:]),
    "png_s": min(encode), "png_kb": len(data) / 1024, "peak_mb": peak,
}))
"""


def make_small(path: Path) -> None:
    """Write a 2048 x 2048 JPEG COG with overviews and some texture."""
    side = 2048
    rows, cols = np.mgrid[0:side, 0:side]
    texture = ((rows // 24 + cols // 24) % 2) * 20 + (rows * 7 + cols * 13) % 23
    pixels = np.stack([texture + 90, texture + 100, texture + 80]).astype(np.uint8)
    profile = _profile(side, "JPEG")
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(pixels)
        ds.build_overviews([2, 4, 8], Resampling.average)


def make_large(path: Path, side: int) -> None:
    """Write a tiled 3-band uint8 GeoTIFF of ``side`` px, strip by strip, with overviews."""
    profile = _profile(side, "DEFLATE")
    strip = 1024
    tmp = path.with_suffix(".part.tif")
    with rasterio.open(tmp, "w", **profile) as ds:
        cols = np.arange(side)
        for row0 in range(0, side, strip):
            rows = np.arange(row0, min(row0 + strip, side))[:, None]
            texture = ((rows // 32 + cols // 32) % 2) * 30 + (rows * 3 + cols * 5) % 17
            block = np.stack([texture + 80, texture + 95, texture + 70]).astype(np.uint8)
            ds.write(block, window=((row0, row0 + len(rows)), (0, side)))
        ds.build_overviews([2, 4, 8, 16, 32, 64], Resampling.average)
    tmp.replace(path)


def _profile(side: int, compress: str) -> dict:
    return {
        "driver": "GTiff", "width": side, "height": side, "count": 3, "dtype": "uint8",
        "crs": "EPSG:32636", "transform": Affine(0.5, 0, 767_000.0, 0, -0.5, 3_925_000.0),
        "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": compress,
        "photometric": "YCBCR" if compress == "JPEG" else "RGB",
    }  # fmt: skip


def run(path: Path, n_boxes: int, region: list | None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), str(n_boxes), json.dumps(region)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Make the inputs if needed, run both cases, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "_data")
    ap.add_argument("--side", type=int, default=20000)
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    small = ROOT / "sample_tiles" / "hmeimim_2024-12-13.tif"
    if not small.exists():
        small = args.workdir / "render_2048.tif"
        if not small.exists():
            make_small(small)
    large = args.workdir / f"render_{args.side}.tif"
    if not large.exists():
        start = time.perf_counter()
        make_large(large, args.side)
        print(f"made {large} in {time.perf_counter() - start:.0f} s")

    half = args.side // 2
    cases = [
        (f"2048 x 2048 tile, 200 boxes ({small.name})", small, 200, None, 1.0, None),
        (f"2000 x 2000 px region of a {args.side} px tile, 50 boxes", large, 50,
         [half - 1000, half - 1000, 2000, 2000], 2.0, 500.0),
    ]  # fmt: skip
    print(f"{'case':58} {'cold s':>7} {'warm s':>7} {'png s':>6} {'peak MB':>8}  output")
    for name, path, n, region, limit_s, limit_mb in cases:
        r = run(path, n, region)
        ok = r["warm_s"] < limit_s and (limit_mb is None or r["peak_mb"] < limit_mb)
        h, w, _ = r["shape"]
        print(
            f"{name:58} {r['cold_s']:7.2f} {r['warm_s']:7.2f} {r['png_s']:6.2f} "
            f"{r['peak_mb']:8.0f}  {w} x {h} px, {r['labels']} labels ({r['hidden']} left out), "
            f"PNG {r['png_kb']:.0f} KB  {'ok' if ok else 'OVER TARGET'}"
        )


if __name__ == "__main__":
    main()
