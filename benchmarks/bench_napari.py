"""napari workbench speed: first view of a 30000 x 30000 COG, memory while panning, 1,000 boxes.

Run under a display (Xvfb), from the repository root:

    xvfb-run -a python benchmarks/bench_napari.py [--side 30000] [--workdir benchmarks/_data]

The raster is the one of ``bench_tile_read.py`` (3-band uint8, tiled 512, deflate, overviews
2..64), made on first use and not committed. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).parent))


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def settle(app, seconds: float = 0.0) -> None:
    end = time.perf_counter() + seconds
    app.processEvents()
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=30_000)
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/_data"))
    parser.add_argument("--boxes", type=int, default=1000)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / f"read_{args.side}.tif"
    if not path.exists():
        from bench_tile_read import make_raster

        start = time.perf_counter()
        make_raster(path, args.side)
        print(f"made {path} in {time.perf_counter() - start:.0f} s")

    warnings.simplefilter("ignore")
    import napari
    from napari_imagery_tool._axes import xy_to_rowcol
    from napari_imagery_tool._hooks import camera
    from napari_imagery_tool._session import AnnotationSession
    from qtpy.QtWidgets import QApplication

    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1400, 900)
    app = QApplication.instance()
    settle(app, 1.0)
    base = rss_mb()
    print(f"viewer running: RSS {base:.0f} MB")

    # -- first view: open call -> first frame drawn with the tile in it -------------------
    start = time.perf_counter()
    (layer,) = viewer.open(str(path), plugin="imagery-tool")
    frame = viewer.screenshot(canvas_only=True, flash=False)
    first_view = time.perf_counter() - start
    drawn = float((frame[..., :3] > 0).mean())
    print(
        f"first view of a {args.side} x {args.side} COG: {first_view:.2f} s "
        f"({len(layer.data)} levels, {drawn:.0%} of the canvas drawn)"
    )

    # -- panning at full resolution and at two zooms ---------------------------------------
    times = []
    peak = rss_mb()
    cam = camera(viewer)
    rng = np.random.default_rng(0)
    for zoom in (1.0, 0.25, 4.0):
        cam.zoom = zoom
        for _ in range(25):
            centre = rng.uniform(1000, args.side - 1000, 2)
            t = time.perf_counter()
            cam.center = tuple(centre)
            viewer.screenshot(canvas_only=True, flash=False)  # forces the frame to be drawn
            times.append(time.perf_counter() - t)
            peak = max(peak, rss_mb())
    print(
        f"panning: {len(times)} jumps to random places (zoom 1, 1/4, 4): "
        f"median {np.median(times) * 1000:.0f} ms, "
        f"95th pct {np.percentile(times, 95) * 1000:.0f} ms per frame; "
        f"peak RSS {peak:.0f} MB (viewer alone {base:.0f} MB)"
    )

    # -- adding boxes: each one autosaved to the store -------------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        session = AnnotationSession(viewer, layer, Path(tmp) / "bench.gpkg")
        session.auto_labels = False  # as in the widget: labels are redrawn on a timer
        session.set_label("Su-24")
        per_box = []
        for i in range(args.boxes):
            x, y = 500 + (i % 40) * 60, 500 + (i // 40) * 60
            vertices = xy_to_rowcol([[x, y], [x + 44, y], [x + 44, y + 30], [x, y + 30]])
            t = time.perf_counter()
            session.layer.add_rectangles([vertices])
            per_box.append(time.perf_counter() - t)
        stored = len(session.store)
        t = time.perf_counter()
        session.refresh_labels()  # first time: a size check per box
        labels_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        session.refresh_labels()  # what the widget's label timer does after one more edit
        again_ms = (time.perf_counter() - t) * 1000
        session.close()
    per_box = np.array(per_box) * 1000
    print(
        f"adding {args.boxes} boxes (each a store transaction + size check + label): "
        f"mean {per_box.mean():.1f} ms, first 100 {per_box[:100].mean():.1f} ms, "
        f"last 100 {per_box[-100:].mean():.1f} ms, max {per_box.max():.0f} ms; {stored} stored; "
        f"drawing all {stored} labels {labels_ms:.0f} ms the first time, {again_ms:.0f} ms after"
    )
    viewer.close()


if __name__ == "__main__":
    main()
