"""Aircraft proposals on a single date: rotated boxes with a score, size in metres and types.

`propose_aircraft` walks the tile in blocks (bounded memory, as ``detect`` does), finds
aircraft-like contrast blobs at aircraft scale in each (`candidates.find_candidates`), scores
them with the learned shape model (`scorer`), keeps the best of overlapping boxes
(`nms.nms_rotated`) and ranks the plausible types by size (`types.rank_types`).

Examples
--------
>>> from imagery_tool_synthetic import random_series, render_date
>>> image = render_date(random_series(7, size=512, n_dates=1, n_aircraft=3), 0)
>>> proposals = propose_aircraft(image, pixel_size_m=0.5)
>>> all(0 <= p.score <= 1 for p in proposals)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.windows import Window

from imagery_tool.aircraft.body import fit_body
from imagery_tool.aircraft.candidates import BLOB_FEATURES, Candidate, Prepared
from imagery_tool.aircraft.nms import nms_rotated
from imagery_tool.aircraft.scorer import ProposalScorer, load_model, score_features
from imagery_tool.aircraft.types import (
    AIRCRAFT_SIZE_RANGE_M,
    TypeMatch,
    rank_types,
    suggest_label,
    unknown_label,
)
from imagery_tool.errors import ImageryToolError
from imagery_tool.georef import ASSUMED_PIXEL_SIZE_M
from imagery_tool.runtime import runtime

__all__ = [
    "AircraftProposal",
    "ProposalsCancelled",
    "propose_aircraft",
    "proposal_gsd",
]

_BLOCK_PX = 2048
_NMS_IOU = 0.25
_TOP_TYPES = 8  # ranked types kept per proposal (the label is the first the schema has)
_SEED_SCORE = 0.1  # blobs the seed stage scores at least this are refined by `fit_body`
_MAX_SEEDS = 300  # per block: bounds the time on a cluttered image
_EDGE_PX = 2.0  # a box this close to the tile's edge is an aircraft cut by it


class ProposalsCancelled(ImageryToolError, RuntimeError):
    """The caller's ``cancel()`` returned True: no proposals."""


@dataclass(frozen=True)
class AircraftProposal:
    """One aircraft-like object found in a tile.

    Attributes
    ----------
    corners_px : (4, 2) float ndarray
        Rotated box ``(x, y)`` on the tile's pixel grid, clockwise from the front-left corner.
    bbox_px : tuple of float
        Axis-aligned bounds ``(x0, y0, x1, y1)``.
    score : float
        Probability-like score in [0, 1] from the proposal scorer.
    length_m, width_m : float
        Extent along and across the fuselage axis (width = span for a fixed-wing aircraft).
    heading_deg : float
        Fuselage axis, 0 = up, clockwise, in [0, 180): which end is the nose is not told.
    types : list of TypeMatch
        Catalogue types ranked by how well they fit the size, best first.
    """

    corners_px: np.ndarray
    bbox_px: tuple[float, float, float, float]
    score: float
    length_m: float
    width_m: float
    heading_deg: float
    types: list[TypeMatch] = field(default_factory=list)
    at_edge: bool = False

    def label(self, schema=None) -> str:
        """Return the label-schema class the measured size suggests (`suggest_label`).

        An aircraft cut by the tile's edge (`at_edge`) gets the schema's unknown class: its
        measured size is not its size.
        """
        if self.at_edge:
            from imagery_tool.annotations.schema import default_schema

            return unknown_label(schema or default_schema())
        return suggest_label(self.length_m, self.width_m, schema)

    def to_annotation(
        self,
        tile_name: str | None = None,
        *,
        acquired: str | None = None,
        label: str | None = None,
        author: str | None = "imagery-tool propose",
    ):
        """Return the proposal as a `BoxAnnotation` with source ``"proposed"``, keeping its score.

        Parameters
        ----------
        tile_name : str, optional
            The tile's file name.
        acquired : str, optional
            The tile's acquisition time, ISO 8601.
        label : str, optional
            Class; the best-fitting type by default (`label`).
        author : str, optional
            Who made the box.

        Returns
        -------
        BoxAnnotation
        """
        from imagery_tool.annotations.model import BoxAnnotation

        return BoxAnnotation(
            tuple(map(tuple, self.corners_px)),
            label or self.label(),
            source="proposed",
            score=round(float(self.score), 4),
            tile=tile_name,
            acquired=acquired,
            author=author,
            attributes={},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready properties (``corners_px`` included)."""
        return {
            "score": round(float(self.score), 4),
            "length_m": round(float(self.length_m), 2),
            "width_m": round(float(self.width_m), 2),
            "heading_deg": round(float(self.heading_deg), 1),
            "at_edge": self.at_edge,
            "bbox_px": [round(float(v), 2) for v in self.bbox_px],
            "corners_px": [[round(float(x), 2), round(float(y), 2)] for x, y in self.corners_px],
            "types": [
                {
                    "name": m.name,
                    "score": round(float(m.score), 3),
                    "length_m": m.length_m,
                    "span_m": m.span_m,
                }
                for m in self.types
            ],  # fmt: skip
        }


def proposal_gsd(tile, pixel_size_m: float | None = None) -> tuple[float, bool]:
    """Return the pixel size used and whether it was assumed (no GSD in the tile).

    Parameters
    ----------
    tile : Tile, str, Path or ndarray
        A tile (its georeference gives the GSD) or an array (never has one).
    pixel_size_m : float, optional
        Used when the tile has no GSD; `ASSUMED_PIXEL_SIZE_M` (0.5 m) otherwise.

    Returns
    -------
    gsd_m : float
    assumed : bool
        True only when neither the tile nor the caller gave a pixel size.
    """
    if pixel_size_m is not None and not (math.isfinite(pixel_size_m) and pixel_size_m > 0):
        raise ValueError(f"pixel_size_m={pixel_size_m}; give the metres per pixel, above 0")
    gsd = None
    if not isinstance(tile, np.ndarray):
        tile = _as_tile(tile)
        gsd = tile.georef.mean_gsd_m
    if gsd is not None:
        return float(gsd), False
    if pixel_size_m is not None:
        return float(pixel_size_m), False  # given by the user: not assumed
    return ASSUMED_PIXEL_SIZE_M, True


def _as_tile(tile):
    if isinstance(tile, str | Path):
        from imagery_tool.tile import open_tile

        return open_tile(tile)
    return tile


def _blocks(height: int, width: int, block_px: int, margin: int):
    """Yield ``(core, read)`` windows: cores tile the raster, reads add `margin` around."""
    for r in range(0, height, block_px):
        for c in range(0, width, block_px):
            core = (c, r, min(c + block_px, width), min(r + block_px, height))
            c0, r0 = max(0, c - margin), max(0, r - margin)
            c1, r1 = min(width, core[2] + margin), min(height, core[3] + margin)
            yield core, (c0, r0, c1, r1)


def raw_candidates(
    tile,
    *,
    gsd_m: float,
    length_range_m: tuple[float, float] = AIRCRAFT_SIZE_RANGE_M,
    block_px: int = _BLOCK_PX,
    body_fit: bool = True,
    model: ProposalScorer | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[Candidate]:
    """Every candidate of the tile, on its pixel grid, before the final scoring.

    Contrast blobs (`candidates.Prepared.blobs`), and, where the seed stage of the scorer
    finds a blob promising, the body `body.fit_body` segments there with its box.

    Parameters
    ----------
    tile : Tile or (B, H, W) / (H, W) ndarray
    gsd_m : float
    length_range_m, block_px, progress, cancel
        As `propose_aircraft`.
    body_fit : bool, optional
        Add the `fit_body` candidates (training the seed stage turns this off).
    model : ProposalScorer, optional
        The scorer whose seed stage picks the blobs (the shipped one by default).

    Returns
    -------
    list of Candidate
    """
    if isinstance(tile, np.ndarray):
        array = tile if tile.ndim == 3 else tile[None]
        height, width = array.shape[1:]
    else:
        array = None
        height, width = tile.height, tile.width
    margin = int(math.ceil(1.6 * length_range_m[1] / gsd_m))
    blocks = list(_blocks(height, width, block_px, margin))

    def size_fit(length_m: float, width_m: float) -> float:
        best = rank_types(length_m, width_m, top=1, gsd_m=gsd_m)
        return best[0].score if best else 0.0

    out: list[Candidate] = []
    for done, (core, read) in enumerate(blocks):
        if cancel is not None and cancel():
            raise ProposalsCancelled("proposals cancelled; nothing was proposed")
        c0, r0, c1, r1 = read
        if array is not None:
            pixels = array[:, r0:r1, c0:c1]
            valid = None
        else:
            bands = list(tile.rgb_bands)[:3]
            pixels, valid = tile.read_masked(window=Window(c0, r0, c1 - c0, r1 - r0), bands=bands)
            if not valid.any():
                if progress is not None:
                    progress(2 * done + 2, 2 * len(blocks), "blocks")
                continue
        prep = Prepared(
            pixels, valid, gsd_m=gsd_m, length_range_m=length_range_m, size_fit=size_fit
        )
        found = prep.blobs()
        if progress is not None:
            progress(2 * done + 1, 2 * len(blocks), "candidates")
        if body_fit and found:
            found += _body_fits(prep, found, pixels, valid, cancel=cancel, model=model)
        for cand in found:
            x, y = cand.center_px
            gx, gy = x + c0, y + r0
            if not (core[0] <= gx < core[2] and core[1] <= gy < core[3]):
                continue  # another block's core owns it
            out.append(
                Candidate(
                    corners_px=cand.corners_px + (c0, r0),
                    center_px=(gx, gy),
                    length_px=cand.length_px,
                    width_px=cand.width_px,
                    heading_deg=cand.heading_deg,
                    features=cand.features,
                )
            )
        if progress is not None:
            progress(2 * done + 2, 2 * len(blocks), "body fits")
    return out


def _body_fits(
    prep: Prepared,
    blobs: list[Candidate],
    pixels: np.ndarray,
    valid: np.ndarray | None,
    *,
    cancel: Callable[[], bool] | None,
    model: ProposalScorer | None,
) -> list[Candidate]:
    """`fit_body` at the promising blobs' centres, described like blobs (window pixels)."""
    seed_scores = score_features(
        np.stack([c.features[:BLOB_FEATURES] for c in blobs]), stage="seed", model=model
    )
    order = [i for i in np.argsort(-seed_scores) if seed_scores[i] >= _SEED_SCORE]
    kept = nms_rotated([blobs[i].corners_px for i in order], seed_scores[order], iou=0.5)
    image = np.moveaxis(pixels[:3], 0, -1)
    h, w = image.shape[:2]
    reach = int(math.ceil(prep.hi_px))
    out = []
    for k in kept[:_MAX_SEEDS]:
        if cancel is not None and cancel():
            raise ProposalsCancelled("proposals cancelled; nothing was proposed")
        seed = blobs[order[k]]
        x, y = seed.center_px
        c0, r0 = max(int(x) - reach, 0), max(int(y) - reach, 0)
        c1, r1 = min(int(x) + reach + 1, w), min(int(y) + reach + 1, h)
        fit = fit_body(
            image[r0:r1, c0:c1], (x - c0, y - r0), gsd_m=prep.gsd_m,
            length_range_m=prep.length_range_m,
            mask=None if valid is None else valid[r0:r1, c0:c1],
        )  # fmt: skip
        if fit is None or not fit.mask.any():
            continue
        ys, xs = np.nonzero(fit.mask)
        y0, x0 = int(ys.min()), int(xs.min())
        blob = fit.mask[y0 : int(ys.max()) + 1, x0 : int(xs.max()) + 1]
        cx, cy = fit.center_px
        cand = prep.describe(
            blob, (c0 + x0, r0 + y0), polarity=seed.features[7], level=seed.features[10],
            box=(c0 + cx, r0 + cy, fit.length_px, fit.width_px, fit.heading_deg),
            fit_score=fit.score,
        )  # fmt: skip
        if cand is not None:
            out.append(cand)
    return out


def propose_aircraft(
    tile,
    *,
    pixel_size_m: float | None = None,
    min_score: float | None = None,
    length_range_m: tuple[float, float] = AIRCRAFT_SIZE_RANGE_M,
    block_px: int = _BLOCK_PX,
    model: ProposalScorer | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[AircraftProposal]:
    """Find aircraft-like objects in one image.

    Parameters
    ----------
    tile : Tile, str, Path or ndarray
        A tile (read block by block) or an image ``(B, H, W)`` / ``(H, W)``.
    pixel_size_m : float, optional
        Metres per pixel for an image without GSD (default `ASSUMED_PIXEL_SIZE_M`; see
        `proposal_gsd`). Ignored when the tile's georeference gives its GSD.
    min_score : float, optional
        Keep proposals scoring at least this, in [0, 1]; default: the scorer's operating
        point (`ProposalScorer.min_score`, from its model file).
    length_range_m : tuple of float, optional
        Shortest and longest aircraft sought, metres.
    block_px : int, optional
        Side of the blocks read at a time (each read with a margin of the longest aircraft).
    model : ProposalScorer, optional
        The scorer (`imagery_tool.aircraft.scorer.load_model`); the shipped one by default.
    progress : callable, optional
        ``progress(done, total, label)`` twice per block: after its candidates, after the
        body fits (``total`` = 2 x blocks).
    cancel : callable, optional
        ``cancel() -> bool``, asked before each block; True stops with `ProposalsCancelled`.

    Returns
    -------
    list of AircraftProposal
        Best score first.

    Raises
    ------
    ValueError
        `min_score` outside [0, 1] or a bad size range.
    ProposalsCancelled
        When `cancel` said so.
    """
    model = model or load_model()
    if min_score is None:
        min_score = model.min_score
    if not 0.0 <= float(min_score) <= 1.0:
        raise ValueError(f"min_score={min_score}; use a score in [0, 1]")
    lo, hi = length_range_m
    if not 0 < lo < hi:
        raise ValueError(f"length_range_m={length_range_m}; use 0 < shortest < longest metres")
    if not isinstance(tile, np.ndarray):
        tile = _as_tile(tile)
    gsd_m, _ = proposal_gsd(tile, pixel_size_m)
    # the settings in force where called (`imagery_tool.runtime`), held for this call: every
    # block reads with the same decoder, whatever contexts other threads enter meanwhile
    with runtime():
        cands = raw_candidates(
            tile, gsd_m=gsd_m, length_range_m=length_range_m, block_px=block_px,
            model=model, progress=progress, cancel=cancel,
        )  # fmt: skip
    if not cands:
        return []
    scores = score_features(np.stack([c.features for c in cands]), model=model)
    keep = [i for i in np.argsort(-scores) if scores[i] >= min_score]
    kept = nms_rotated([cands[i].corners_px for i in keep], scores[keep], iou=_NMS_IOU)
    height, width = tile.shape[-2:] if isinstance(tile, np.ndarray) else tile.shape
    out = []
    for k in kept:
        c = cands[keep[k]]
        length_m, width_m = c.length_px * gsd_m, c.width_px * gsd_m
        xs, ys = c.corners_px[:, 0], c.corners_px[:, 1]
        at_edge = bool(  # cut by the tile's edge: no type from a size that is not its size
            xs.min() < _EDGE_PX or ys.min() < _EDGE_PX
            or xs.max() > width - _EDGE_PX or ys.max() > height - _EDGE_PX
        )  # fmt: skip
        out.append(
            AircraftProposal(
                corners_px=c.corners_px,
                bbox_px=(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())),
                score=float(scores[keep[k]]),
                length_m=length_m,
                width_m=width_m,
                heading_deg=c.heading_deg,
                types=[] if at_edge else rank_types(length_m, width_m, top=_TOP_TYPES, gsd_m=gsd_m),
                at_edge=at_edge,
            )
        )
    return out
