"""Deterministic synthetic air-base imagery with ground truth (the Hmeimim sample and test scenes).

The public API:

- :func:`make_hmeimim_series` — the fixed four-date Hmeimim scenario (December 2024, two
  An-124s with their nose visors raised on 2024-12-13).
- :func:`random_series` — random scenarios from a seed with difficulty knobs.
- :func:`make_pair` — two rendered dates plus truth, in memory (tests, benchmarks).
- :func:`render` — any window of any date, ``(3, H, W) uint8``.
- :func:`write_series` — COGs, truth JSON and a STAC catalog for a series, block by block.
- :func:`tile_truth`, :func:`pair_truth` — the truth records.

Examples
--------
>>> from imagery_tool_synthetic import make_pair
>>> pair = make_pair(1, size=256, shift_px=(3.0, -2.0))
>>> pair.before.shape, pair.after.dtype
((3, 256, 256), dtype('uint8'))
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imagery_tool.atomic import atomic_write_text
from imagery_tool_synthetic.acquisition import Acquisition, sun_position
from imagery_tool_synthetic.aircraft import make_aircraft
from imagery_tool_synthetic.cog import write_cog
from imagery_tool_synthetic.render import Renderer, render
from imagery_tool_synthetic.series import Series, hmeimim_series, random_series
from imagery_tool_synthetic.shapes import Body
from imagery_tool_synthetic.site import HMEIMIM_LONLAT, Site, build_site
from imagery_tool_synthetic.stac import write_catalog
from imagery_tool_synthetic.truth import pair_truth, tile_truth
from imagery_tool_synthetic.vehicles import make_vehicle

__all__ = [
    "HMEIMIM_LONLAT",
    "Acquisition",
    "Body",
    "Pair",
    "Series",
    "SeriesFiles",
    "Site",
    "aircraft_scene",
    "build_site",
    "make_aircraft",
    "make_hmeimim_series",
    "make_pair",
    "make_vehicle",
    "pair_truth",
    "random_series",
    "render",
    "render_date",
    "sun_position",
    "tile_truth",
    "write_series",
]


def make_hmeimim_series(*, size: int = 2048) -> Series:
    """Return the Hmeimim sample scenario (see :func:`.series.hmeimim_series`).

    Parameters
    ----------
    size : int, optional
        Scene width and height in pixels at 0.5 m; 2048 for the shipped tiles, larger for
        benchmarks (the layout grows with the scene; the scenario stays on the central apron).

    Returns
    -------
    Series
    """
    return hmeimim_series(size=size)


def render_date(series: Series, index: int, *, window=None, shadows: bool = True) -> np.ndarray:
    """Render date `index` of a series.

    Parameters
    ----------
    series : Series
        The scenario.
    index : int
        Date index.
    window : rasterio.windows.Window or tuple of int, optional
        ``(col_off, row_off, width, height)``; the whole scene by default.
    shadows : bool, optional
        Draw cast shadows.

    Returns
    -------
    image : (3, H, W) uint8 ndarray
    """
    return render(
        series.site,
        series.acquisitions[index],
        objects=series.objects[index],
        window=window,
        shadows=shadows,
    )


@dataclass(frozen=True)
class Pair:
    """Two rendered dates with their truth.

    Attributes
    ----------
    before, after : (3, H, W) uint8 ndarray
        The images, each on its own (misregistered) pixel grid.
    before_truth, after_truth : dict
        :func:`tile_truth` records.
    truth : dict
        :func:`pair_truth` record (boxes on BEFORE's grid).
    series : Series
        The two-date scenario that was rendered.
    """

    before: np.ndarray
    after: np.ndarray
    before_truth: dict
    after_truth: dict
    truth: dict
    series: Series


def aircraft_scene(seed: int, size: int, *, jpeg: bool = False) -> tuple[np.ndarray, list]:
    """Return one random apron at 0.5 m and the rotated boxes of its aircraft.

    The scenes the aircraft proposals are trained (`tools/train_aircraft_scorer.py`) and
    benchmarked (`benchmarks/bench_proposals.py`) on: 6-15 aircraft, 4-13 vehicles, some haze
    and sensor noise, all drawn from ``seed``.

    Parameters
    ----------
    seed : int
        Everything random comes from it.
    size : int
        Width and height, pixels.
    jpeg : bool
        Round-trip the picture through JPEG at quality 75-94, as JPEG-compressed tiles are.

    Returns
    -------
    image : (3, size, size) uint8 ndarray
    aircraft : list of (4, 2) ndarray
        Each aircraft's rotated box, pixel corners.
    """
    rng = np.random.default_rng(seed)
    series = random_series(
        seed, size=size, n_dates=1, n_aircraft=int(rng.integers(6, 16)),
        n_vehicles=int(rng.integers(4, 14)), haze=float(rng.uniform(0, 0.3)),
        noise_sigma=float(rng.uniform(1, 4)),
    )  # fmt: skip
    image = render_date(series, 0)
    if jpeg:
        import cv2

        quality = int(rng.integers(75, 95))
        _, data = cv2.imencode(
            ".jpg", image.transpose(1, 2, 0), [cv2.IMWRITE_JPEG_QUALITY, quality]
        )
        image = cv2.imdecode(data, cv2.IMREAD_COLOR).transpose(2, 0, 1).copy()
    objects = tile_truth(series, 0)["objects"]
    return image, [np.asarray(o["corners_px"]) for o in objects if o["kind"] == "aircraft"]


def make_pair(
    seed: int,
    *,
    size: int = 512,
    shift_px: tuple[float, float] = (0.0, 0.0),
    rotation_deg: float = 0.0,
    n_aircraft: int = 8,
    change_fraction: float = 0.3,
    n_vehicles: int = 4,
    sun_change_deg: float = 15.0,
    haze: float = 0.1,
    noise_sigma: float = 2.0,
    gain: float = 0.08,
) -> Pair:
    """Render a before/after pair in memory with a known misregistration.

    Parameters
    ----------
    seed : int
        Seeds everything; the same seed gives the same bytes.
    size : int, optional
        Width and height in pixels.
    shift_px : tuple of float, optional
        Exact (dx, dy) misregistration of AFTER relative to BEFORE, |dx|, |dy| <= 20.
    rotation_deg : float, optional
        Exact rotation of AFTER about the scene centre, degrees clockwise, |r| <= 1.
    n_aircraft, change_fraction, n_vehicles, sun_change_deg, haze, noise_sigma, gain
        As in :func:`random_series`.

    Returns
    -------
    Pair
    """
    series = random_series(
        seed, size=size, n_dates=2, n_aircraft=n_aircraft, change_fraction=change_fraction,
        n_vehicles=n_vehicles, shift_px=shift_px, rotation_deg=0.0,
        sun_change_deg=sun_change_deg, haze=haze, noise_sigma=noise_sigma, gain=gain,
    )  # fmt: skip
    after = dataclasses.replace(
        series.acquisitions[1],
        shift_px=(float(shift_px[0]), float(shift_px[1])),
        rotation_deg=float(rotation_deg),
    )
    series = Series(series.site, (series.acquisitions[0], after), series.objects)
    return Pair(
        before=render_date(series, 0),
        after=render_date(series, 1),
        before_truth=tile_truth(series, 0),
        after_truth=tile_truth(series, 1),
        truth=pair_truth(series, 0, 1),
        series=series,
    )


@dataclass(frozen=True)
class SeriesFiles:
    """Paths written by :func:`write_series`.

    Attributes
    ----------
    tiles : list of Path
        One COG per date.
    truth : list of Path
        One truth JSON per date (``truth/<stem>.json``).
    pairs : list of Path
        One truth JSON per consecutive pair (``truth/pairs/<before>_<after>.json``).
    catalog : Path or None
        ``catalog.json`` of the STAC catalog.
    """

    tiles: list[Path]
    truth: list[Path]
    pairs: list[Path]
    catalog: Path | None


def _dump(obj: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, json.dumps(obj, indent=1) + "\n")


def write_series(
    series: Series,
    outdir: str | os.PathLike,
    *,
    block: int = 2048,
    compress: str = "jpeg",
    quality: int = 90,
    catalog: bool = True,
) -> SeriesFiles:
    """Write a series as COGs with truth JSON and a STAC catalog.

    Rendering is block by block (memory bounded by `block`), so a 20000 x 20000 scene is fine.
    Each file is written to a temporary name and moved into place.

    Parameters
    ----------
    series : Series
        The scenario.
    outdir : path-like
        Output folder (created if missing).
    block : int, optional
        Rendering block size in pixels (a multiple of 256).
    compress : {"jpeg", "deflate", "none"}, optional
        COG compression (JPEG q=`quality` in YCbCr by default).
    quality : int, optional
        JPEG quality.
    catalog : bool, optional
        Also write a STAC catalog.

    Returns
    -------
    SeriesFiles
    """
    outdir = Path(outdir)
    tiles, truths, pairs = [], [], []
    for i, (acq, stem) in enumerate(zip(series.acquisitions, series.tile_names, strict=True)):
        renderer = Renderer(series.site, acq, objects=series.objects[i])
        tiles.append(
            write_cog(outdir / f"{stem}.tif", renderer.render, site=series.site,
                      acquisition=acq, block=block, compress=compress, quality=quality)
        )  # fmt: skip
        truths.append(_dump(tile_truth(series, i), outdir / "truth" / f"{stem}.json"))
    for i in range(len(series) - 1):
        a, b = series.dates[i], series.dates[i + 1]
        name = f"{series.site.name}_{a}_{b}.json"
        pairs.append(_dump(pair_truth(series, i, i + 1), outdir / "truth" / "pairs" / name))
    cat = write_catalog(series, tiles, outdir) if catalog else None
    return SeriesFiles(tiles, truths, pairs, cat)
