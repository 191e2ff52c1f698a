"""Detection speed and memory against plain reading, on JPEG, deflate and uint16 pairs of 2k-20k px.

For each side N a two-date pair is generated once (JPEG COGs, 3-band uint8, 0.5 m) into a cache
folder; the other formats are made once from that same pair, so that every format shows the
same scene:

- ``jpeg``: the generated pair as it is: 3-band uint8, JPEG (YCbCr, quality 90), COG layout,
  512 px tiles, overviews;
- ``deflate``: the same pixels in a DEFLATE COG (predictor 2, 512 px tiles, the same overview
  levels, recompressed from the JPEG ones);
- ``uint16``: 4-band uint16 with 11-bit values (0..2047), bands blue, green, red, near
  infrared with that colour interpretation (blue, green, red, undefined), DEFLATE COG
  (predictor 2, 512 px tiles, overviews): how 11-bit multispectral products are delivered.
  The RGB is scaled to a bright scene's reflectance (0..0.6) plus the path radiance of raw
  counts (0.03), each 8-bit level spread over the 11-bit counts by a dither hashed from the
  pixel's position; near infrared follows the brightness and rises where green exceeds red
  (see `bgrn_11bit`).

Then, in fresh subprocesses so that peak memory is measured per run:

- ``read``: read both rasters whole with rasterio, block by block (the floor any tool pays);
  single-threaded, as a plain script would;
- ``read (ours)``: the same reads through `Tile.read`, which decodes JPEG GeoTIFFs with
  libjpeg-turbo instead of GDAL's libjpeg (`imagery_tool.jpeg_tiles`) and reads the others
  through rasterio: what detection itself pays to decode, shown for comparison;
- ``detect``: ``detect_changes`` end to end (registration, normalisation, blocks, objects),
  with the heap tuned as the command line runs it (`imagery_tool.runtime`); the settings in
  force are logged with the run.

Each size is measured ``--repeat`` times (5 by default), the runs of all measures and formats
interleaved, so that the machine's speed, which varies by tens of per cent from minute to
minute here, weighs on every format and on read and detect alike. Printed per format and
size, as medians: megapixels, read seconds, detect seconds, their ratio (and the range of the
per-run ratios), the CPU seconds of each run (all threads: less sensitive to other jobs than
wall time), detect milliseconds per megapixel (flat = linear cost), the peak resident memory
of each run (VmHWM: the process's own high-water mark; ``ru_maxrss`` would include the
parent's memory at fork) and the range of the 1-minute load average before each run (other
jobs on the machine slow both runs, the two-threaded detection more than the single-threaded
read). A run that fails prints its error and is not repeated; the others go on.

Every run also appends one JSON line to ``--log`` (``detect_speed_runs.jsonl`` in the cache
folder by default): the format, side, measure and repeat, the pair's files and layout, the
result or the error with its traceback, the load average, the code measured (commit, whether
the package or this script differ from it, which files, a digest of the differences) and the
process-wide settings in force (environment variables that steer GDAL, OpenCV, BLAS, malloc
and imagery-tool, the libraries' versions, a digest of this script, OpenCV's and GDAL's
thread and cache settings and the ``imagery_tool`` imported, as the measuring process sees
them). ``--src`` measures another checkout's package (a clone at a commit, say, while the
working tree is being edited): the measuring processes import it, and the record names its
commit.

Usage::

    python benchmarks/bench_detect_speed.py [--formats jpeg,deflate,uint16]
        [--sizes 2048,5000,10000,20000] [--repeat 5] [--dir CACHE] [--log FILE]
        [--src CHECKOUT]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import rasterio
import rasterio.shutil
from imagery_tool_synthetic.noise import hash_uniform
from rasterio.enums import ColorInterp, Resampling
from rasterio.windows import Window

ROOT = Path(__file__).resolve().parents[1]

# Printed by every measuring process after its work: its peak memory and the settings in force.
_REPORT = r"""
import cv2, importlib.util, rasterio.env
rss = [int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
out.update(rss_mb=rss, settings={
    "cv2_threads": cv2.getNumThreads(),
    "gdal_cachemax": rasterio.env.get_gdal_config("GDAL_CACHEMAX"),
    "gdal_num_threads": rasterio.env.get_gdal_config("GDAL_NUM_THREADS"),
    "imagery_tool": importlib.util.find_spec("imagery_tool").origin,
})
print(json.dumps(out))
"""

_READ = r"""
import json, sys, time
import rasterio
t, c = time.perf_counter(), time.process_time()
for path in sys.argv[1:3]:
    with rasterio.open(path) as ds:
        for _, w in ds.block_windows(1):
            ds.read(window=w)
out = {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c}
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
out = {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c}
"""

_DETECT = r"""
import contextlib, json, sys, time
from imagery_tool.change import detect_changes
try:  # as the command line runs it: heap tuned (imagery_tool.runtime)
    from imagery_tool.runtime import runtime
    settings = runtime(heap_tuning=True)
except ImportError:  # a --src checkout before the runtime context: detection tuned the heap
    settings = contextlib.nullcontext()
t, c = time.perf_counter(), time.process_time()
with settings:
    result = detect_changes(sys.argv[1], sys.argv[2])
out = {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c,
       "regions": len(result.regions), "runtime": result.parameters.get("runtime")}
"""

MEASURES: dict[str, str] = {
    name: code + _REPORT
    for name, code in (("read", _READ), ("read_ours", _READ_OURS), ("detect", _DETECT))
}


def make_pair_files(size: int, folder: Path) -> tuple[Path, Path]:
    """Generate (once) a two-date pair of ``size`` px per side with the synthetic generator."""
    from imagery_tool_synthetic import random_series, write_series

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


def jpeg_pair(size: int, cache: Path, mosaic_above: int) -> tuple[Path, Path]:
    """Give the generated JPEG pair of ``size`` px (a mosaic of copies above ``mosaic_above``)."""
    if size <= mosaic_above:
        return make_pair_files(size, cache)
    base_b, base_a = make_pair_files(mosaic_above, cache)
    t = time.perf_counter()
    folder = cache / f"mosaic_pair_{size}_of_{mosaic_above}"
    made = (folder / base_b.name).exists() and (folder / base_a.name).exists()
    pair = make_mosaic_pair(base_b, base_a, size, folder)
    if not made:
        print(f"  mosaic {size} px made in {time.perf_counter() - t:.0f} s", flush=True)
    return pair


# The COG layout of every derived pair: GDAL's COG driver, the source's overview levels.
_COG = {
    "driver": "COG", "BLOCKSIZE": "512", "OVERVIEWS": "FORCE_USE_EXISTING",
    "BIGTIFF": "IF_SAFER", "COMPRESS": "DEFLATE", "PREDICTOR": "2",
}  # fmt: skip


def _to_cog(source: Path, path: Path) -> None:
    """Copy ``source`` (with its overviews) to a DEFLATE COG at ``path``, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.cog.tmp.tif")
    try:
        rasterio.shutil.copy(source, tmp, **_COG)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_deflate(source: Path, path: Path) -> Path:
    """Write ``source``'s pixels, tags and overviews as a DEFLATE COG (predictor 2)."""
    _to_cog(source, path)
    return path


# The 11-bit product: counts of 0..2047 for reflectance 0..1; the rendered 8-bit RGB is taken
# as a bright scene's reflectance (255 -> 0.6) over the path radiance of raw counts (0.03):
# values of about 61 to 1290, mostly dark, as 11-bit imagery is.
WHITE_11BIT = 2047
_REFLECTANCE_OF_255 = 0.6
_DARK = 0.03
BGRN_COLORINTERP = (ColorInterp.blue, ColorInterp.green, ColorInterp.red, ColorInterp.undefined)
BGRN_NAMES = ("blue", "green", "red", "nir")


def bgrn_11bit(rgb: np.ndarray, *, col0: int = 0, row0: int = 0, seed: int = 0) -> np.ndarray:
    """Turn a window of a rendered 8-bit RGB scene into 11-bit blue, green, red, NIR counts.

    Each band is the 8-bit value as reflectance (255 -> 0.6) plus 0.03, plus a dither of
    +-half an 8-bit level hashed from the pixel's position in the scene (so that a window gives
    the same counts however the scene is cut into windows), clipped to 0..1 and scaled to
    0..2047. Near infrared is ``0.8 * mean(red, green, blue) + 1.5 * max(green - red, 0)`` in
    reflectance: it follows the brightness and rises on vegetation, so a changed object
    changes it too.

    Parameters
    ----------
    rgb : (3, H, W) uint8 ndarray
        Red, green, blue. Not modified.
    col0, row0 : int
        Position of the window's top-left pixel in the scene (seeds the dither).
    seed : int
        Selects the dither (one per date).

    Returns
    -------
    (4, H, W) uint16 ndarray
        Blue, green, red, near infrared; counts 0..2047.
    """
    if rgb.ndim != 3 or rgb.shape[0] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be (3, H, W) uint8, not {rgb.shape} {rgb.dtype}")
    _, h, w = rgb.shape
    red, green, blue = rgb.astype(np.float32) * np.float32(_REFLECTANCE_OF_255 / 255.0)
    nir = 0.8 * (red + green + blue) / 3.0 + 1.5 * np.maximum(green - red, 0.0)
    cols = np.arange(col0, col0 + w)[None, :]
    rows = np.arange(row0, row0 + h)[:, None]
    level = np.float32(_REFLECTANCE_OF_255 / 255.0)
    out = np.empty((4, h, w), np.uint16)
    for k, band in enumerate((blue, green, red, nir)):
        dither = (hash_uniform(cols, rows, seed=seed * 4 + k) - np.float32(0.5)) * level
        counts = np.clip(band + np.float32(_DARK) + dither, 0.0, 1.0) * np.float32(WHITE_11BIT)
        out[k] = np.rint(counts)
    return out


def write_uint16(source: Path, path: Path, *, seed: int, step: int = 2048) -> Path:
    """Write ``source`` (3-band uint8 RGB) as a 4-band 11-bit BGRN DEFLATE COG.

    Converted window by window (`bgrn_11bit`) into a temporary tiled GeoTIFF with the source's
    tags and overview levels (averaged from the 11-bit counts), then copied to a COG.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.u16.tmp.tif")
    try:
        with rasterio.open(source) as src:
            profile = {
                "driver": "GTiff", "width": src.width, "height": src.height, "count": 4,
                "dtype": "uint16", "crs": src.crs, "transform": src.transform, "tiled": True,
                "blockxsize": 512, "blockysize": 512, "BIGTIFF": "IF_SAFER",
            }  # fmt: skip
            with rasterio.open(tmp, "w", **profile) as dst:
                for row in range(0, src.height, step):
                    for col in range(0, src.width, step):
                        w = Window(
                            col, row, min(step, src.width - col), min(step, src.height - row)
                        )
                        rgb = src.read((1, 2, 3), window=w)
                        dst.write(bgrn_11bit(rgb, col0=col, row0=row, seed=seed), window=w)
                dst.update_tags(**src.tags())
                dst.colorinterp = BGRN_COLORINTERP
                for band, name in enumerate(BGRN_NAMES, start=1):
                    dst.set_band_description(band, name)
                dst.build_overviews(src.overviews(1), Resampling.average)
        _to_cog(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _derived_pair(
    pair: tuple[Path, Path], folder: Path, write: Callable[[Path, Path, int], Path]
) -> tuple[Path, Path]:
    """Make (once) the pair ``write`` derives from ``pair`` into ``folder``; files appear whole."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for seed, source in enumerate(pair):
        path = folder / source.name
        if not path.exists():
            t = time.perf_counter()
            write(source, path, seed)
            print(f"  wrote {path} in {time.perf_counter() - t:.0f} s", flush=True)
        out.append(path)
    return out[0], out[1]


def deflate_pair(size: int, cache: Path, mosaic_above: int) -> tuple[Path, Path]:
    """Give the JPEG pair of ``size`` px as DEFLATE COGs (made once)."""
    return _derived_pair(
        jpeg_pair(size, cache, mosaic_above), cache / "deflate" / f"pair_{size}",
        lambda source, path, seed: write_deflate(source, path),
    )  # fmt: skip


def uint16_pair(size: int, cache: Path, mosaic_above: int) -> tuple[Path, Path]:
    """Give the JPEG pair of ``size`` px as 4-band 11-bit BGRN DEFLATE COGs (made once)."""
    return _derived_pair(
        jpeg_pair(size, cache, mosaic_above), cache / "uint16" / f"pair_{size}",
        lambda source, path, seed: write_uint16(source, path, seed=seed),
    )  # fmt: skip


FORMATS: dict[str, Callable[[int, Path, int], tuple[Path, Path]]] = {
    "jpeg": jpeg_pair,
    "deflate": deflate_pair,
    "uint16": uint16_pair,
}


def describe_file(path: Path) -> dict:
    """Describe one raster for the record: layout, compression, size on disk."""
    with rasterio.open(path) as ds:
        structure = ds.tags(ns="IMAGE_STRUCTURE")
        return {
            "path": str(path), "width": ds.width, "height": ds.height, "count": ds.count,
            "dtype": ds.dtypes[0], "block": list(ds.block_shapes[0]),
            "compression": structure.get("COMPRESSION"), "predictor": structure.get("PREDICTOR"),
            "layout": structure.get("LAYOUT"), "interleave": structure.get("INTERLEAVE"),
            "colorinterp": [c.name for c in ds.colorinterp], "overviews": ds.overviews(1),
            "bytes": path.stat().st_size,
        }  # fmt: skip


def _git(src: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=src, capture_output=True, check=True).stdout


# What decides the figures: the package and this script.
_CODE_PATHS = ("imagery_tool", "benchmarks/bench_detect_speed.py")


def code_state(src: Path = ROOT) -> dict:
    """Say which commit is measured, whether the code differs from it, and a digest of how."""
    try:
        commit = _git(src, "rev-parse", "HEAD").decode().strip()
        status = _git(src, "status", "--porcelain", "--untracked-files=all", "--", *_CODE_PATHS)
        diff = _git(src, "diff", "HEAD", "--", *_CODE_PATHS)
    except (OSError, subprocess.CalledProcessError) as err:
        return {"commit": None, "error": str(err)}
    paths = sorted(line[3:] for line in status.decode().splitlines())
    digest = hashlib.sha1(diff)
    for line in status.decode().splitlines():  # untracked files count by their content
        if line.startswith("??") and (src / line[3:]).is_file():
            digest.update((src / line[3:]).read_bytes())
    return {
        "src": str(src), "commit": commit, "dirty": bool(paths), "dirty_paths": paths,
        "diff_sha1": digest.hexdigest() if paths else None,
    }  # fmt: skip


# Environment variables that change how fast or how big a run is.
_SETTING_PREFIXES = (
    "GDAL_", "CPL_", "VSI_", "OMP_", "OPENBLAS_", "MKL_", "NUMEXPR_", "MALLOC_", "OPENCV_",
    "IMAGERY_TOOL_", "PYTHONMALLOC", "PYTHONHASHSEED",
)  # fmt: skip


def process_settings() -> dict:
    """Collect the settings the measuring processes inherit: environment, versions, cores."""
    from imagery_tool.runtime import usable_workers

    meminfo = Path("/proc/meminfo")
    total = next(
        (int(line.split()[1]) // 1024 for line in meminfo.read_text().splitlines()
         if line.startswith("MemTotal")), None,
    ) if meminfo.exists() else None  # fmt: skip
    environment = {k: v for k, v in sorted(os.environ.items()) if k.startswith(_SETTING_PREFIXES)}
    return {
        "environment": environment,
        "python": platform.python_version(), "numpy": np.__version__,
        "rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__,
        "opencv": cv2.__version__, "default_workers": usable_workers(),
        "cpu_count": os.cpu_count(), "cpu_affinity": len(os.sched_getaffinity(0)),
        "memory_mb": total, "machine": platform.node(),
        "script_sha1": hashlib.sha1(Path(__file__).read_bytes()).hexdigest(),
    }  # fmt: skip


def run(code: str, before: Path, after: Path, *, src: Path = ROOT) -> dict:
    """Run one measure in a fresh process on ``src``'s package: its figures, or its error."""
    path = os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH")) if p)
    out = subprocess.run(
        [sys.executable, "-c", code, str(before), str(after)],
        capture_output=True, text=True, cwd=src, env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip
    if out.returncode == 0:
        return json.loads(out.stdout.strip().splitlines()[-1])
    lines = out.stderr.strip().splitlines() or [f"exit status {out.returncode}"]
    return {"error": lines[-1], "traceback": out.stderr, "returncode": out.returncode}


def median_run(results: list[dict]) -> dict | None:
    """Median seconds and CPU of the successful runs, their largest peak memory."""
    good = [r for r in results if "error" not in r]
    if not good:
        return None
    out = dict(good[0])
    for key in ("seconds", "cpu"):
        out[key] = float(np.median([r[key] for r in good]))
    out["rss_mb"] = max(r["rss_mb"] for r in good)
    return out


HEADER = (
    "| format | side | MP | read s | read (ours) s | detect s | detect / read (runs) "
    "| CPU read s | CPU detect s | detect ms/MP | peak RSS read MB | peak RSS detect MB "
    "| regions | load |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def _ok(result: dict | None) -> bool:
    return result is not None and "error" not in result


def table_row(fmt: str, size: int, runs: list[dict[str, dict]], loads: list[float]) -> str:
    """One printed row: medians of the runs of one format and size (``-`` where none ran)."""
    med = {m: median_run([r[m] for r in runs if m in r]) for m in MEASURES}
    read, ours, detect = med["read"], med["read_ours"], med["detect"]
    mp = size * size / 1e6

    def f(run: dict | None, key: str, spec: str) -> str:
        return "-" if run is None else format(run[key], spec)

    ratio = "-"
    if read and detect:
        both = [r for r in runs if _ok(r.get("read")) and _ok(r.get("detect"))]
        ratios = sorted(r["detect"]["seconds"] / r["read"]["seconds"] for r in both)
        ratio = f"{detect['seconds'] / read['seconds']:.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"
    ms_mp = "-" if detect is None else f"{detect['seconds'] / mp * 1000:.0f}"
    return (
        f"| {fmt} | {size} | {mp:.1f} | {f(read, 'seconds', '.2f')} | {f(ours, 'seconds', '.2f')} "
        f"| {f(detect, 'seconds', '.2f')} | {ratio} | {f(read, 'cpu', '.2f')} "
        f"| {f(detect, 'cpu', '.2f')} | {ms_mp} | {f(read, 'rss_mb', '.0f')} "
        f"| {f(detect, 'rss_mb', '.0f')} | {f(detect, 'regions', 'd')} "
        f"| {min(loads):.2f}-{max(loads):.2f} |"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default="jpeg,deflate,uint16", help=f"of {list(FORMATS)}")
    parser.add_argument("--sizes", default="2048,5000,10000,20000")
    parser.add_argument("--dir", default="/tmp/imagery_tool_bench", help="cache of the pairs")
    parser.add_argument(
        "--log", default=None,
        help="JSON-lines file each run is appended to (default: detect_speed_runs.jsonl in --dir)",
    )  # fmt: skip
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
    parser.add_argument(
        "--src", default=str(ROOT),
        help="checkout whose imagery_tool is measured (default: this script's repository), "
        "e.g. a clone at a commit while the working tree is being edited",
    )  # fmt: skip
    args = parser.parse_args(argv)
    src = Path(args.src).resolve()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        parser.error(f"--formats: unknown {unknown}; choose from {list(FORMATS)}")
    sizes = [int(s) for s in args.sizes.split(",")]
    cache = Path(args.dir)
    cache.mkdir(parents=True, exist_ok=True)
    log = Path(args.log) if args.log else cache / "detect_speed_runs.jsonl"
    invocation = datetime.now(UTC).isoformat(timespec="seconds")
    settings = process_settings()
    start_code = code_state(src)
    measured_code = (start_code.get("commit"), start_code.get("diff_sha1"))
    changes = ", ".join(start_code.get("dirty_paths", []))
    print(f"measuring {src} at commit {start_code.get('commit')}")
    print(f"changes in {changes}" if changes else "no changes to the measured code")
    print(f"log {log}\n\n{HEADER}", flush=True)
    for size in sizes:
        pairs = {fmt: FORMATS[fmt](size, cache, args.mosaic_above) for fmt in formats}
        files = {fmt: [describe_file(p) for p in pair] for fmt, pair in pairs.items()}
        runs: dict[str, list[dict[str, dict]]] = {fmt: [] for fmt in formats}
        loads: dict[str, list[float]] = {fmt: [] for fmt in formats}
        failed: set[tuple[str, str]] = set()
        for repeat in range(max(1, args.repeat)):
            for fmt in formats:
                this: dict[str, dict] = {}
                for measure, code in MEASURES.items():
                    if (fmt, measure) in failed:
                        continue
                    load = os.getloadavg()
                    loads[fmt].append(load[0])
                    state = code_state(src)
                    result = run(code, *pairs[fmt], src=src)
                    this[measure] = result
                    record = {
                        "bench": "detect_speed", "invocation": invocation,
                        "time": datetime.now(UTC).isoformat(timespec="seconds"),
                        "format": fmt, "size": size, "megapixels": size * size / 1e6,
                        "measure": measure, "repeat": repeat, "files": files[fmt],
                        "result": result, "loadavg_before": list(load), "code": state,
                        "settings": settings,
                    }  # fmt: skip
                    with log.open("a") as fh:
                        fh.write(json.dumps(record) + "\n")
                    if "error" in result:
                        failed.add((fmt, measure))
                        print(f"  {fmt} {size} px {measure} failed: {result['error']}", flush=True)
                        print(result["traceback"], file=sys.stderr, flush=True)
                    if (state.get("commit"), state.get("diff_sha1")) != measured_code:
                        measured_code = (state.get("commit"), state.get("diff_sha1"))
                        print(f"  note: the code changed before this run ({fmt} {measure})")
                runs[fmt].append(this)
        for fmt in formats:
            print(table_row(fmt, size, runs[fmt], loads[fmt]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
