"""Detection speed and memory against plain reading, for pairs of 2k to 20k px per side.

For each side N a two-date pair is generated once (JPEG COGs, 3-band uint8, 0.5 m) into a cache
folder. Then, in fresh subprocesses so that peak memory is measured per run:

- ``read``: read both rasters whole with rasterio, block by block (the floor any tool pays);
  single-threaded, as a plain script would;
- ``detect``: ``detect_changes`` end to end (registration, normalisation, blocks, objects).

Printed per size: megapixels, read seconds, detect seconds, their ratio, the CPU seconds of
each run (all threads: less sensitive to other jobs than wall time), detect seconds per
megapixel (flat = linear cost), the peak resident memory of each run (VmHWM: the
process's own high-water mark; ``ru_maxrss`` would include the parent's memory at fork) and
the 1-minute load average before the runs (other jobs on the machine slow both runs, the
two-threaded detection more than the single-threaded read).

Usage::

    python benchmarks/bench_detect_speed.py [--sizes 2048,5000,10000,20000] [--dir CACHE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.windows import Window

_READ = r"""
import json, sys, time
import rasterio
from rasterio.windows import Window
t, c = time.perf_counter(), time.process_time()
for path in sys.argv[1:3]:
    with rasterio.open(path) as ds:
        for _, w in ds.block_windows(1):
            ds.read(window=w)
dt, cpu = time.perf_counter() - t, time.process_time() - c
rss = [int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
print(json.dumps({"seconds": dt, "cpu": cpu, "rss_mb": rss}))
"""

_DETECT = r"""
import json, sys, time
from imagery_tool.change import detect_changes
t, c = time.perf_counter(), time.process_time()
result = detect_changes(sys.argv[1], sys.argv[2])
dt, cpu = time.perf_counter() - t, time.process_time() - c
rss = [int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
print(json.dumps({"seconds": dt, "cpu": cpu, "rss_mb": rss, "regions": len(result.regions)}))
"""


def make_pair_files(size: int, folder: Path) -> tuple[Path, Path]:
    """Generate (once) a two-date pair of ``size`` px per side with the synthetic generator."""
    from imagery_tool.synthetic import random_series, write_series

    folder = folder / f"pair_{size}"
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "done.json"
    if done.exists():
        paths = json.loads(done.read_text())
        return Path(paths[0]), Path(paths[1])
    series = random_series(
        7, size=size, n_dates=2, n_aircraft=12 * max(1, (size // 2048) ** 2),
        shift_px=8.0, rotation_deg=0.3,
    )  # fmt: skip
    t = time.perf_counter()
    files = write_series(series, folder, block=2048, catalog=False)
    print(f"  generated {size} px pair in {time.perf_counter() - t:.0f} s", flush=True)
    done.write_text(json.dumps([str(p) for p in files.tiles]))
    return files.tiles[0], files.tiles[1]


def wrapped(ds, row: int, col: int, h: int, w: int) -> np.ndarray:
    """Read a window of ``ds`` repeated periodically (a mosaic of copies of the scene)."""
    out = np.empty((ds.count, h, w), dtype="uint8")
    size_r, size_c = ds.height, ds.width
    r = 0
    while r < h:
        sr = (row + r) % size_r
        hh = min(h - r, size_r - sr)
        c = 0
        while c < w:
            sc = (col + c) % size_c
            ww = min(w - c, size_c - sc)
            out[:, r : r + hh, c : c + ww] = ds.read(window=Window(sc, sr, ww, hh))
            c += ww
        r += hh
    return out


def make_mosaic(source: Path, size: int, path: Path) -> Path:
    """Write a ``size`` px square JPEG-tiled GeoTIFF with overviews from copies of ``source``."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(source) as src:
        profile = {
            "driver": "GTiff",
            "width": size,
            "height": size,
            "count": src.count,
            "dtype": "uint8",
            "crs": src.crs,
            "transform": src.transform,
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
            "compress": "JPEG",
            "photometric": "YCBCR",
            "jpeg_quality": 90,
        }
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.update_tags(**src.tags())
            step = 2048
            for r in range(0, size, step):
                for c in range(0, size, step):
                    h, w = min(step, size - r), min(step, size - c)
                    dst.write(wrapped(src, r, c, h, w), window=Window(c, r, w, h))
        with rasterio.open(tmp, "r+") as dst:
            dst.build_overviews([2, 4, 8, 16, 32], Resampling.average)
    tmp.replace(path)
    return path


def run(code: str, before: Path, after: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, str(before), str(after)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2048,5000,10000,20000")
    parser.add_argument("--dir", default="/tmp/imagery_tool_bench")
    parser.add_argument(
        "--mosaic-above", type=int, default=10000,
        help="sides above this are mosaics of copies of the generated pair of this side "
        "(rendering a 20000 px scene takes the generator tens of minutes on two cores)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    cache = Path(args.dir)
    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        if size > args.mosaic_above:
            base_b, base_a = make_pair_files(args.mosaic_above, cache)
            t = time.perf_counter()
            folder = cache / f"mosaic_{size}_of_{args.mosaic_above}"
            before = make_mosaic(base_b, size, folder / base_b.name)
            after = make_mosaic(base_a, size, folder / base_a.name)
            print(f"  mosaic {size} px ready in {time.perf_counter() - t:.0f} s", flush=True)
        else:
            before, after = make_pair_files(size, cache)
        load = os.getloadavg()[0]
        read = run(_READ, before, after)
        detect = run(_DETECT, before, after)
        mp = size * size / 1e6
        rows.append((size, mp, read, detect))
        print(
            f"{size:6d} px  {mp:6.1f} MP  read {read['seconds']:7.2f} s  detect "
            f"{detect['seconds']:7.2f} s  ratio {detect['seconds'] / read['seconds']:4.2f}  "
            f"CPU read {read['cpu']:6.2f} s detect {detect['cpu']:6.2f} s  "
            f"{detect['seconds'] / mp * 1000:6.1f} ms/MP  peak RSS read {read['rss_mb']:6.0f} MB "
            f"detect {detect['rss_mb']:6.0f} MB  regions {detect['regions']}  load {load:.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
