"""Co-registration accuracy and trust: synthetic pairs with known misregistration, real pairs.

Synthetic mode (default). Each pair comes from the synthetic generator with an exact
misregistration of AFTER (shift up to +-20 px, rotation up to +-1 degree), sensor noise,
gain/gamma/haze differences, a new sun and aircraft that arrived or left, written as JPEG
COGs. The error is the root-mean-square distance, over a grid of points covering the image,
between where the estimated and the true mapping send each BEFORE pixel into AFTER. The same
pairs are measured with plain whole-image ``cv2.phaseCorrelate`` on the grey images (a
translation only), in the same run. Every estimate must pass the trust gate (``applied``).

Real mode (``--real DIR``). ``DIR`` holds ``<dataset>/{A,B}/<name>.png`` pairs that are already
co-registered (the truth is zero shift) and, in ``naip_geotiff/{A,B}/*.tif``, GeoTIFF pairs on
slightly different grids. For every pair it prints what `coregister` did (``applied`` or
``fallback``, with its confidence) and, for an applied estimate, the largest displacement of
the applied matrix from the identity over the overlap's corners (its error if the truth is
zero), next to an independent estimate of the pair's own offset (OpenCV's ECC, intensity
based, a translation from zero: a sanity reference, which itself goes astray on heavily
changed pairs). Then every pair is made misaligned by a known amount: A and B
are written as GeoTIFFs, B with its georeference offset by ``(+7.3, -4.6)`` and by
``(-15.2, +9.8)`` pixels, so that placing B by georeference misaligns it by that much; the
estimate must recover the shift within 1 px (relative to the pair's own applied estimate, or
to zero when that fell back) or fall back, never be wrong. An applied estimate over 1 px off
is listed with its distance from the shift plus what was measured on the pair itself (a pair
whose own offset was refused keeps it when shifted).

Usage::

    python benchmarks/bench_registration.py [--pairs 12] [--size 1024]
    python benchmarks/bench_registration.py --real /work/shared/realpairs
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

sys.path.insert(0, str(Path(__file__).parent))
from eval_detection import write_pair  # noqa: E402
from imagery_tool_synthetic import make_pair  # noqa: E402

from imagery_tool.registration import coregister  # noqa: E402
from imagery_tool.registration.grid import affine_to_matrix  # noqa: E402
from imagery_tool.registration.trust import corner_gap  # noqa: E402

KNOWN_SHIFTS = ((7.3, -4.6), (-15.2, 9.8))  # B's georeference offset, in its pixels


def true_matrix(size: int, dx: float, dy: float, rot_deg: float) -> np.ndarray:
    """BEFORE -> AFTER continuous-pixel mapping of the generator (rotation about the centre)."""
    t = math.radians(rot_deg)
    r = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    c = np.array([size / 2, size / 2])
    m = np.eye(3)
    m[:2, :2] = r
    m[:2, 2] = c - r @ c + (dx, dy)
    return m


def rmse(estimate: np.ndarray, truth: np.ndarray, size: int) -> float:
    ys, xs = np.mgrid[0.5:size:16, 0.5:size:16]
    pts = np.column_stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    d = pts @ estimate[:2].T - pts @ truth[:2].T
    return float(np.sqrt(np.mean(np.sum(d**2, axis=1))))


def synthetic(args) -> int:
    rng = np.random.default_rng(2024)
    ours, plain, secs, statuses = [], [], [], []
    print(f"{'seed':>5s} {'dx':>7s} {'dy':>7s} {'rot':>6s} | {'ours RMSE':>9s} {'windows':>7s} "
          f"{'fit RMSE':>8s} {'status':>8s} {'conf':>5s} {'s':>5s} | "
          f"{'cv2.phaseCorrelate RMSE':>23s}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.pairs):
            seed = 300 + k
            dx, dy = (round(float(v), 2) for v in rng.uniform(-20, 20, 2))
            rot = round(float(rng.uniform(-1, 1)), 3)
            pair = make_pair(seed, size=args.size, shift_px=(dx, dy), rotation_deg=rot,
                             n_aircraft=10, change_fraction=0.35, sun_change_deg=30,
                             haze=0.25, noise_sigma=3.0, gain=0.12)  # fmt: skip
            folder = Path(tmp) / str(seed)
            folder.mkdir()
            before, after = write_pair(pair, folder)
            truth = true_matrix(args.size, dx, dy, rot)
            t0 = time.perf_counter()
            reg = coregister(before, after)
            secs.append(time.perf_counter() - t0)
            statuses.append(reg.status)
            ours.append(rmse(reg.matrix3, truth, args.size))
            grey_b = pair.before.astype(np.float32).mean(axis=0)
            grey_a = pair.after.astype(np.float32).mean(axis=0)
            (px, py), _ = cv2.phaseCorrelate(grey_b, grey_a)
            plain.append(rmse(np.array([[1, 0, px], [0, 1, py], [0, 0, 1.0]]), truth, args.size))
            print(f"{seed:5d} {dx:7.2f} {dy:7.2f} {rot:6.3f} | {ours[-1]:9.3f} "
                  f"{reg.windows_used:3d}/{reg.windows_measured:<3d} {reg.rmse_px:8.3f} "
                  f"{reg.status:>8s} {reg.confidence:5.2f} {secs[-1]:5.2f} | "
                  f"{plain[-1]:23.3f}", flush=True)  # fmt: skip
    applied = statuses.count("applied")
    print(f"RMSE over {args.pairs} pairs of {args.size} px: ours mean {np.mean(ours):.3f} px, "
          f"max {np.max(ours):.3f} px, {applied}/{args.pairs} applied; cv2.phaseCorrelate mean "
          f"{np.mean(plain):.3f} px, max {np.max(plain):.3f} px; ours {np.mean(secs):.2f} s "
          "per pair")  # fmt: skip
    return 0 if np.max(ours) < 0.1 and applied == args.pairs else 1


# -- real pairs -------------------------------------------------------------------------------


def real_pairs(root: Path) -> list[tuple[str, str, Path, Path]]:
    """``(dataset, name, A, B)`` for every ``<dataset>/A/<name>`` with a ``B`` twin."""
    pairs = []
    for folder in sorted(p for p in root.iterdir() if (p / "A").is_dir() and (p / "B").is_dir()):
        for a in sorted((folder / "A").iterdir()):
            b = folder / "B" / a.name
            if a.suffix.lower() in (".png", ".tif", ".tiff") and b.exists():
                pairs.append((folder.name, a.stem, a, b))
    return pairs


def _as_geotiff(src: Path, dst: Path, offset: tuple[float, float] = (0.0, 0.0)) -> Path:
    """Write an image as a GeoTIFF, its georeference offset by ``offset`` of its pixels.

    A PNG gets 1 m pixels in UTM 36N; a GeoTIFF keeps its own CRS and grid. With an offset
    ``t``, pixel ``q - t`` of the new file is placed where pixel ``q`` of the original was, so
    resampled by georeference it lands ``t`` away from where its content belongs.
    """
    if src.suffix.lower() == ".png":
        image = cv2.imread(str(src), cv2.IMREAD_COLOR)[..., ::-1].transpose(2, 0, 1)
        profile = {"driver": "GTiff", "width": image.shape[2], "height": image.shape[1],
                   "count": 3, "dtype": "uint8", "crs": CRS.from_epsg(32636),
                   "transform": Affine(1, 0, 500000, 0, -1, 4000000)}  # fmt: skip
        interpretation = None
    else:  # the same file but for its georeference: bands, their meaning, nodata
        with rasterio.open(src) as ds:
            image, profile, interpretation = ds.read(), ds.profile, ds.colorinterp
    profile["transform"] = profile["transform"] * Affine.translation(*offset)
    with rasterio.open(dst, "w", **profile) as ds:
        ds.write(image)
        if interpretation:
            ds.colorinterp = interpretation
    return dst


def _ecc_offset(a: Path, b: Path) -> tuple[float, float] | None:
    """Return the translation of B on A by OpenCV's ECC (intensity, from zero); None if failed."""
    if a.suffix.lower() != ".png":
        return None
    grey = [cv2.GaussianBlur(cv2.imread(str(p), 0).astype(np.float32), (0, 0), 1.5) for p in (a, b)]
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 200, 1e-6)
    try:
        _, warp = cv2.findTransformECC(*grey, warp, cv2.MOTION_TRANSLATION, criteria, None, 5)
    except cv2.error:
        return None
    return float(warp[0, 2]), float(warp[1, 2])


def _translation(t: tuple[float, float]) -> np.ndarray:
    return np.array([[1.0, 0, t[0]], [0, 1.0, t[1]], [0, 0, 1.0]])


def real(root: Path) -> int:
    warnings.simplefilter("ignore")  # PNGs have no georeference: pixel mode, said once per file
    rows: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    worst: dict[str, float] = defaultdict(float)
    notes = []
    print(f"{'dataset':28s} {'pair':24s} {'status':8s} {'conf':>5s} {'windows':>7s} "
          f"{'dx':>6s} {'dy':>6s} {'max px':>6s} {'ECC dx, dy':>13s} | known shifts")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for dataset, name, a, b in real_pairs(root):
            reg = coregister(a, b)
            row = rows[dataset]
            row["pairs"] += 1
            row[reg.status] += 1
            err = corner_gap(reg.matrix3, np.eye(3), reg.overlap) if reg.applied else None
            if err is not None:
                worst[dataset] = max(worst[dataset], err)
            ecc = _ecc_offset(a, b) if reg.applied else None
            ecc_text = "" if ecc is None else f"{ecc[0]:+5.2f},{ecc[1]:+5.2f}"
            measured = affine_to_matrix(reg.measured_matrix or reg.matrix)
            shown = reg.measured_shift or (reg.dx, reg.dy)
            text = (f"{dataset:28s} {name[:24]:24s} {reg.status:8s} {reg.confidence:5.2f} "
                    f"{reg.windows_used:3d}/{reg.windows_measured:<3d} {shown[0]:+6.2f} "
                    f"{shown[1]:+6.2f} {'' if err is None else f'{err:6.2f}':>6s} "
                    f"{ecc_text:>13s} |")  # fmt: skip
            ga = _as_geotiff(a, Path(tmp) / "a.tif")
            for t in KNOWN_SHIFTS:
                moved = coregister(ga, _as_geotiff(b, Path(tmp) / "b.tif", t))
                row["known"] += 1
                if not moved.applied:
                    row["known_fallback"] += 1
                    text += " fallback"
                    continue
                # against the shift plus the pair's own applied estimate (zero if refused), and
                # against the shift plus what was measured on the pair itself, applied or not
                miss = corner_gap(moved.matrix3, _translation(t) @ reg.matrix3, moved.overlap)
                again = corner_gap(moved.matrix3, _translation(t) @ measured, moved.overlap)
                row["known_applied"] += 1
                row["known_ok" if miss <= 1.0 else "known_wrong"] += 1
                worst[dataset + " known"] = max(worst[dataset + " known"], miss)
                worst[dataset + " again"] = max(worst[dataset + " again"], again)
                text += f" {miss:.2f} px"
                if miss > 1.0:
                    notes.append(
                        f"{dataset}/{name} shifted by {t}: {miss:.2f} px from the shift, "
                        f"{again:.2f} px from the shift plus the pair's own refused estimate "
                        f"(dx {shown[0]:+.2f}, dy {shown[1]:+.2f})"
                    )
            print(text, flush=True)
    print()
    print(
        "| data | pairs | applied | fallback | max error of applied (px, vs zero) | "
        "known shifts: applied, within 1 px, over 1 px, fallback | max error (px) | "
        "max error vs own measurement (px) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    total: dict[str, int] = defaultdict(int)

    def cell(key: str) -> str:
        return f"{worst[key]:.2f}" if key in worst else "-"

    for dataset, row in [*rows.items(), ("all", total)]:
        if dataset == "all":
            for key in [k for k in worst if not k.startswith("all")]:
                kind = key.split(" ")[1:] or [""]
                name = " ".join(["all", *kind]).strip()
                worst[name] = max(worst.get(name, 0.0), worst[key])
        else:
            for k, v in row.items():
                total[k] += v
        print(f"| {dataset} | {row['pairs']} | {row['applied']} | {row['fallback']} | "
              f"{cell(dataset)} | {row['known_applied']} of {row['known']}, {row['known_ok']}, "
              f"{row['known_wrong']}, {row['known_fallback']} | {cell(dataset + ' known')} | "
              f"{cell(dataset + ' again')} |")  # fmt: skip
    for note in notes:
        print("over 1 px:", note)
    return 0 if total["known_wrong"] == 0 else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--real", type=Path, help="folder of real pairs: <dataset>/{A,B}/<name>")
    args = parser.parse_args(argv)
    return real(args.real) if args.real else synthetic(args)


if __name__ == "__main__":
    sys.exit(main())
