"""Open, describe and view a 30000 x 30000 GeoTIFF: time and memory, never the whole raster.

Usage::

    python benchmarks/bench_tile_read.py [--side 30000] [--workdir benchmarks/_data]

Makes (once) a tiled, DEFLATE-compressed 3-band uint8 GeoTIFF with overviews of the given
side, then prints the wall time and the peak resident memory of: opening it (`open_tile`, which
also decodes its first and last blocks), describing it (`describe_tile`), an 8-bit RGB composite
of the whole tile at 1024 px (through the overviews), and a full-resolution 2048 x 2048 window.
Each step runs in a fresh process so that peak memory is the step's own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling

STEPS = {
    "open_tile": "tile = open_tile(PATH)",
    "describe_tile": "describe_tile(open_tile(PATH))",
    "composite 1024 px": "t = open_tile(PATH); composite(t, out_shape=t.overview_shape(1024))",
    "window 2048 x 2048": "open_tile(PATH).read(window=Window(12000, 12000, 2048, 2048))",
}

PROBE = """
import json, resource, sys, time
from rasterio.windows import Window
from imagery_tool.tile import open_tile
from imagery_tool.summary import describe_tile
from imagery_tool.display import composite
PATH = sys.argv[1]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
{code}
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": elapsed, "peak_mb": peak / 1024, "growth_mb": (peak - base) / 1024}}))
"""


def make_raster(path: Path, side: int) -> None:
    """Write a tiled 3-band uint8 GeoTIFF with overviews, 2048-row strip by strip."""
    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": 3,
        "dtype": "uint8",
        "crs": "EPSG:32636",
        "transform": Affine(0.5, 0, 760_000, 0, -0.5, 3_930_000),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "photometric": "RGB",
        "BIGTIFF": "YES",
    }
    tmp = path.with_suffix(".tmp.tif")
    rng = np.random.default_rng(0)
    with rasterio.open(tmp, "w", **profile) as ds:
        for row in range(0, side, 2048):
            height = min(2048, side - row)
            cols = np.arange(side, dtype=np.int32)
            rows = np.arange(row, row + height, dtype=np.int32)[:, None]
            base = ((rows // 64 + cols // 64) % 2 * 60 + 90).astype(np.uint8)
            noise = rng.integers(0, 12, size=(height, side), dtype=np.uint8)
            band = base + noise
            ds.write(np.stack([band, band, band]), window=((row, row + height), (0, side)))
        ds.update_tags(ACQUISITIONDATETIME="2024-12-13T08:21:00Z")
        ds.build_overviews([2, 4, 8, 16, 32, 64], Resampling.average)
    tmp.replace(path)


def main() -> None:
    """Run the benchmark and print one line per step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=30_000)
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/_data"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / f"read_{args.side}.tif"
    if not path.exists():
        start = time.perf_counter()
        # In a child: its peak RSS would otherwise carry over to the measured steps.
        maker = multiprocessing.get_context("spawn").Process(
            target=make_raster, args=(path, args.side)
        )
        maker.start()
        maker.join()
        size_mb = path.stat().st_size / 1e6
        print(f"made {path} ({size_mb:.0f} MB) in {time.perf_counter() - start:.0f} s")
    raw_mb = args.side * args.side * 3 / 1e6
    print(f"raster: {args.side} x {args.side} px, 3 bands uint8 ({raw_mb:.0f} MB uncompressed)")
    for name, code in STEPS.items():
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(code=code), str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(out)
        print(
            f"{name:22s} {result['seconds'] * 1000:8.0f} ms   peak RSS {result['peak_mb']:6.0f} MB"
            f"   (+{result['growth_mb']:.0f} MB over the imports)"
        )


if __name__ == "__main__":
    main()
