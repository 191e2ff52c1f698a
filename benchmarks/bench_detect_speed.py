"""Detection speed and memory against plain reading, for pairs of 2k to 20k px per side.

For each side N a two-date pair is generated once (JPEG COGs, 3-band uint8, 0.5 m) into a cache
folder. Then, in fresh subprocesses so that peak memory is measured per run:

- ``read``: read both rasters whole with rasterio, block by block (the floor any tool pays);
  single-threaded, as a plain script would;
- ``read (ours)``: the same reads through `Tile.read`, which decodes JPEG GeoTIFFs with
  libjpeg-turbo instead of GDAL's libjpeg (`imagery_tool.jpeg_tiles`): what detection itself
  pays to decode, shown for comparison;
- ``detect``: ``detect_changes`` end to end (registration, normalisation, blocks, objects).

Each size is measured ``--repeat`` times (5 by default), the runs interleaved, so that
the machine's speed, which varies by tens of per cent from minute to minute here, weighs on
read and detect alike. Printed per size, as medians: megapixels, read seconds, detect
seconds, their ratio (and the range of the per-run ratios), the CPU seconds of
each run (all threads: less sensitive to other jobs than wall time), detect seconds per
megapixel (flat = linear cost), the peak resident memory of each run (VmHWM: the
process's own high-water mark; ``ru_maxrss`` would include the parent's memory at fork) and
the 1-minute load average before the runs (other jobs on the machine slow both runs, the
two-threaded detection more than the single-threaded read).

Usage::

    python benchmarks/bench_detect_speed.py [--sizes 2048,5000,10000,20000] [--repeat 5]
        [--dir CACHE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
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

_READ_OURS = r"""
import json, sys, time
from imagery_tool.tile import open_tile
t, c = time.perf_counter(), time.process_time()
for path in sys.argv[1:3]:
    tile = open_tile(path, check=False)
    with tile.open() as ds:
        for _, w in ds.block_windows(1):
            tile.read(window=w, dataset=ds)
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


# The mosaic repeats the inner part of the scene (a margin clear of AFTER's shifted edges), and
# AFTER's copies are laid out so that the whole mosaic pair is misregistered by one similarity
# (as a real 20000 px pair is): copies of the rotated AFTER tile would each turn about their
# own centre, which no single fit can undo.
_MARGIN = 64
_MOSAIC_SHIFT = (6.3, -4.8)  # px, AFTER minus BEFORE at the mosaic's centre
_MOSAIC_ROTATION_DEG = 0.2


def make_mosaic_pair(before: Path, after: Path, size: int, folder: Path) -> tuple[Path, Path]:
    """Write (once) a ``size`` px pair of JPEG-tiled GeoTIFFs from copies of a smaller pair.

    BEFORE's copies tile the mosaic; AFTER is first brought onto BEFORE's grid (by the
    registration measured between them) and its copies are then shifted and rotated together.
    """
    from imagery_tool.registration import coregister

    out_b, out_a = folder / before.name, folder / after.name
    if out_b.exists() and out_a.exists():
        return out_b, out_a
    folder.mkdir(parents=True, exist_ok=True)
    residual = coregister(before, after).matrix3
    angle = np.radians(_MOSAIC_ROTATION_DEG)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = np.array([size / 2, size / 2])

    def on_before(cols, rows):
        return cols, rows

    def on_after(cols, rows):  # mosaic pixel -> the same ground in the BEFORE-like mosaic
        c, r = cols - centre[0], rows - centre[1]
        return (
            rot[0, 0] * c + rot[0, 1] * r + centre[0] + _MOSAIC_SHIFT[0],
            rot[1, 0] * c + rot[1, 1] * r + centre[1] + _MOSAIC_SHIFT[1],
        )

    _write_mosaic(before, size, out_b, on_before, np.eye(3))
    _write_mosaic(after, size, out_a, on_after, residual)
    return out_b, out_a


def _write_mosaic(source: Path, size: int, path: Path, layout, residual: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(source) as src:
        image = np.ascontiguousarray(src.read().transpose(1, 2, 0))  # (h, w, bands) for remap
        period = src.width - 2 * _MARGIN, src.height - 2 * _MARGIN
        profile = {
            "driver": "GTiff", "width": size, "height": size, "count": src.count,
            "dtype": "uint8", "crs": src.crs, "transform": src.transform, "tiled": True,
            "blockxsize": 512, "blockysize": 512, "compress": "JPEG", "photometric": "YCBCR",
            "jpeg_quality": 90,
        }  # fmt: skip
        tags = src.tags()
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.update_tags(**tags)
        step = 2048
        for r in range(0, size, step):
            for c in range(0, size, step):
                h, w = min(step, size - r), min(step, size - c)
                rows, cols = np.mgrid[r : r + h, c : c + w].astype(np.float64)
                x, y = layout(cols, rows)
                x = _MARGIN + np.mod(x, period[0])  # the copy's pixel, BEFORE's grid
                y = _MARGIN + np.mod(y, period[1])
                ax = residual[0, 0] * x + residual[0, 1] * y + residual[0, 2]
                ay = residual[1, 0] * x + residual[1, 1] * y + residual[1, 2]
                block = cv2.remap(
                    image, ax.astype(np.float32), ay.astype(np.float32), cv2.INTER_LINEAR
                )
                dst.write(block.reshape(h, w, -1).transpose(2, 0, 1), window=Window(c, r, w, h))
    with rasterio.open(tmp, "r+") as dst:
        dst.build_overviews([2, 4, 8, 16, 32], Resampling.average)
    tmp.replace(path)


def _median_run(results: list[dict]) -> dict:
    """Median seconds and CPU of repeated runs, their largest peak memory."""
    out = dict(results[0])
    for key in ("seconds", "cpu"):
        out[key] = float(np.median([r[key] for r in results]))
    out["rss_mb"] = max(r["rss_mb"] for r in results)
    return out


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
        "--repeat", type=int, default=5,
        help="runs of each measure per size, interleaved; medians are printed (the machine's "
        "speed varies by tens of per cent from minute to minute)",
    )  # fmt: skip
    parser.add_argument(
        "--mosaic-above", type=int, default=10000,
        help="sides above this are mosaics of copies of the generated pair of this side "
        "(rendering a 20000 px scene takes the generator tens of minutes on two cores)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    cache = Path(args.dir)
    cache.mkdir(parents=True, exist_ok=True)
    for size in (int(s) for s in args.sizes.split(",")):
        if size > args.mosaic_above:
            base_b, base_a = make_pair_files(args.mosaic_above, cache)
            t = time.perf_counter()
            folder = cache / f"mosaic_pair_{size}_of_{args.mosaic_above}"
            before, after = make_mosaic_pair(base_b, base_a, size, folder)
            print(f"  mosaic {size} px ready in {time.perf_counter() - t:.0f} s", flush=True)
        else:
            before, after = make_pair_files(size, cache)
        load = os.getloadavg()[0]
        runs = [
            (run(_READ, before, after), run(_READ_OURS, before, after), run(_DETECT, before, after))
            for _ in range(max(1, args.repeat))
        ]
        read, ours, detect = (_median_run([r[k] for r in runs]) for k in range(3))
        ratios = sorted(d["seconds"] / r["seconds"] for r, _, d in runs)
        mp = size * size / 1e6
        print(
            f"{size:6d} px  {mp:6.1f} MP  read {read['seconds']:7.2f} s  (ours "
            f"{ours['seconds']:5.2f} s)  detect "
            f"{detect['seconds']:7.2f} s  ratio {detect['seconds'] / read['seconds']:4.2f} "
            f"(runs {ratios[0]:.2f}-{ratios[-1]:.2f})  "
            f"CPU read {read['cpu']:6.2f} s detect {detect['cpu']:6.2f} s  "
            f"{detect['seconds'] / mp * 1000:6.1f} ms/MP  peak RSS read {read['rss_mb']:6.0f} MB "
            f"detect {detect['rss_mb']:6.0f} MB  regions {detect['regions']}  load {load:.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
