"""Make the synthetic Hmeimim sample tiles, their ground truth and a STAC catalog.

Usage::

    python tools/make_sample_tiles.py                      # the committed 2048 px tiles
    python tools/make_sample_tiles.py --size 20000 --outdir /tmp/big   # benchmark scene

The output is deterministic: running twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_tiles"
# Run from a checkout without installing: this checkout's tool and its generator distribution.
sys.path[:0] = [str(ROOT), str(ROOT / "synthetic")]

from imagery_tool_synthetic import make_hmeimim_series, write_series  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, write the series, print what was written."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--outdir", type=Path, default=SAMPLES, help="output folder (default: sample_tiles/)"
    )
    ap.add_argument("--size", type=int, default=2048, help="width = height in pixels")
    ap.add_argument("--large", type=int, default=None, metavar="SIZE",
                    help="alias of --size for benchmark scenes (do not commit those)")  # fmt: skip
    ap.add_argument("--block", type=int, default=2048, help="rendering block size in pixels")
    args = ap.parse_args(argv)
    size = args.large or args.size
    if size < 2048:
        ap.error(f"--size {size}: the Hmeimim scenario needs at least 2048 px")
    t0 = time.perf_counter()
    files = write_series(make_hmeimim_series(size=size), args.outdir, block=args.block)
    for p in [*files.tiles, *files.truth, *files.pairs, files.catalog]:
        print(p)
    print(f"{len(files.tiles)} tiles of {size} x {size} px in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
