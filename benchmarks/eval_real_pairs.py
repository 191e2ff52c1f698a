r"""Change detection on real image pairs: pixel and object accuracy, registration, false alarms.

Every pair of a corpus laid out as ``<dataset>/{A,B[,label]}/<name>`` is run through change
detection exactly as ``imagery-tool detect A B -o x.json --mask m.png --method M`` runs it
(``coregister`` then ``detect_changes`` with the command's defaults, in this process; ``--cli``
runs the real command in a subprocess instead and reads back the mask and the JSON it wrote).
No pixel size is passed unless ``--pixel-size-m`` says so: the detector's own assumption for
images without georeference is what a new user gets.

Labelled pairs (a ``label/`` file, 255 = changed, on A's grid):

* pixel precision, recall and F1 of the change mask, pooled over the dataset (TP, FP and FN
  summed over its pairs), and the mean of the per-pair F1;
* objects: each 8-connected component of the label of at least 16 px (smaller specks are
  ignored and counted) is *found* when a reported region covers it: IoU >= 0.3 between the
  component's pixels and the region's pixels (its mask placed at its mask box; the box when it
  has no mask), or the component's centroid inside the region's oriented box or its pixels
  (a region's footprint may reach beyond its box: the shadow, a building's other part).
  Object recall = found / components; object precision = share of regions that cover a
  component by the same rule or have >= 50 % of their pixels on labelled change. The labels
  of these corpora mark buildings only: vehicles that moved count against precision, so it is
  a lower bound.

Targets (from the issue), per labelled dataset, for each method against the baseline (``cva``):
pixel F1 >= 1.5 x the baseline's, object recall >= 0.7, and — the labelled pairs being
pre-aligned (true shift 0) — no applied registration estimate more than 1 px off (the largest
displacement of the overlap's corners under the applied residual matrix).

Unlabelled pairs: regions per megapixel and per km² (ground sample distance from BEFORE's
georeference, else the detector's assumed pixel size, flagged with ``*``). Pairs with hand
truth boxes (``benchmarks/data/sfo_aircraft.json``: parked and moving aircraft in PlanetScope
frames < 2 s apart) report parked aircraft flagged (target 0) and moving aircraft found: a
region hits a box at box IoU >= 0.1 or when its oriented box contains the box's centre.

A pair that fails (the tool raises, a label of the wrong size) is an error row with its
one-line message; the run goes on.

Usage::

    python benchmarks/eval_real_pairs.py --data /work/shared/realpairs
    python benchmarks/eval_real_pairs.py --data DIR --datasets whu_cd,cdd --per-pair \
        --json out/realpairs.json --save-masks out/realpairs_masks
    python benchmarks/eval_real_pairs.py --data DIR --datasets whu_cd --pairs scm_000121 --cli
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TRUTH_BOXES = ROOT / "benchmarks" / "data" / "sfo_aircraft.json"
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".jp2", ".bmp", ".gif", ".webp")

MIN_COMPONENT_PX = 16  # label components smaller than this are specks, not objects
FOUND_IOU = 0.3  # component pixels vs region pixels
COVER_SHARE = 0.5  # share of a region's pixels on labelled change that makes it a true region
BOX_IOU = 0.1  # hand truth box vs region box
TARGET_F1_RATIO = 1.5
TARGET_OBJECT_RECALL = 0.7
TARGET_MAX_SHIFT_PX = 1.0
DEFAULT_METHODS = ("robust", "cva")
DEFAULT_BASELINE = "cva"
PANEL_SIDE = 512  # longer side of each panel of the side-by-side PNG

NOTES = (
    f"Objects: 8-connected label components of >= {MIN_COMPONENT_PX} px (smaller specks "
    f"ignored); found at pixel IoU >= {FOUND_IOU} or centroid inside a region's oriented box "
    "or pixels.",
    "The labels mark buildings only: vehicles that moved and other real changes count "
    "against precision, so pixel and object precision are lower bounds.",
    f"Targets per labelled dataset: pixel F1 >= {TARGET_F1_RATIO} x the baseline's, object "
    f"recall >= {TARGET_OBJECT_RECALL}, no applied registration estimate more than "
    f"{TARGET_MAX_SHIFT_PX:g} px off (labelled pairs are pre-aligned: true shift 0).",
    "max shift: largest displacement of the overlap's corners under an applied residual matrix.",
    "* = regions per km² from the detector's assumed pixel size (no georeference).",
)


# -- pixel scores -----------------------------------------------------------------------------


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


@dataclass(frozen=True)
class PixelCounts:
    """Confusion counts of a binary change mask against a label.

    Attributes
    ----------
    tp, fp, fn, tn : int
        Changed in both; predicted only; labelled only; neither.
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: PixelCounts) -> PixelCounts:
        return PixelCounts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )

    @property
    def precision(self) -> float | None:
        """TP / (TP + FP); ``None`` when nothing was predicted."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        """TP / (TP + FN); ``None`` when nothing is labelled."""
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        """2 TP / (2 TP + FP + FN); ``None`` when neither label nor prediction has a pixel."""
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def to_dict(self) -> dict[str, Any]:
        """Return the counts and the three scores, JSON-ready."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "f1": _round(self.f1),
        }


def pixel_counts(predicted: np.ndarray, truth: np.ndarray) -> PixelCounts:
    """Count agreement of a predicted change mask with a label.

    Parameters
    ----------
    predicted, truth : (H, W) bool ndarray
        True = changed.

    Returns
    -------
    PixelCounts

    Examples
    --------
    >>> p = np.array([[1, 1, 0, 0]], bool)
    >>> t = np.array([[1, 0, 1, 0]], bool)
    >>> pixel_counts(p, t)
    PixelCounts(tp=1, fp=1, fn=1, tn=1)
    """
    predicted, truth = np.asarray(predicted, bool), np.asarray(truth, bool)
    if predicted.shape != truth.shape:
        raise ValueError(f"mask {predicted.shape} and label {truth.shape} differ in shape")
    tp = int(np.count_nonzero(predicted & truth))
    fp = int(np.count_nonzero(predicted)) - tp
    fn = int(np.count_nonzero(truth)) - tp
    return PixelCounts(tp, fp, fn, int(truth.size) - tp - fp - fn)


# -- objects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Components:
    """The objects of a label: its 8-connected components large enough to count.

    Attributes
    ----------
    labels : (H, W) int32 ndarray
        0 = background or an ignored speck; k = component k (1-based).
    areas : (K,) int64 ndarray
        Pixels of each component.
    centroids : (K, 2) float64 ndarray
        ``(col, row)`` of each component's centre in continuous pixel coordinates (pixel
        ``(0, 0)`` spans 0..1, so its centre is 0.5, 0.5), as `ChangeRegion.polygon_px`.
    ignored : int
        Components under the size limit.
    """

    labels: np.ndarray
    areas: np.ndarray
    centroids: np.ndarray
    ignored: int

    @property
    def count(self) -> int:
        """Number of components that count."""
        return int(self.areas.size)


def label_components(truth: np.ndarray, *, min_px: int = MIN_COMPONENT_PX) -> Components:
    """Split a label into 8-connected components and drop those under ``min_px`` pixels.

    Parameters
    ----------
    truth : (H, W) bool ndarray
        True = changed.
    min_px : int
        Smallest component that counts as an object.

    Returns
    -------
    Components
    """
    truth = np.asarray(truth, bool)
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(
        truth.astype(np.uint8), connectivity=8, ltype=cv2.CV_32S
    )
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.int64)
    keep = areas >= min_px
    relabel = np.zeros(n, np.int32)
    relabel[1:][keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return Components(
        labels=relabel[labels],
        areas=areas[keep],
        centroids=centroids[1:][keep].astype(np.float64) + 0.5,
        ignored=int((~keep).sum()),
    )


def region_window(region: Any, shape: tuple[int, int]) -> tuple[slice, slice, np.ndarray] | None:
    """Return where a region's pixels are on the image: rows, columns and a mask of them.

    Parameters
    ----------
    region : ChangeRegion or alike
        Has ``bbox_px`` ``(col0, row0, col1, row1)`` (pixel edges) and ``mask`` (the region's
        pixels inside ``mask_box`` when it has one, else inside the box; ``None``: the whole
        box).
    shape : (int, int)
        ``(H, W)`` of the image; the box is clipped to it.

    Returns
    -------
    (slice, slice, (h, w) bool ndarray) or None
        ``None`` when the box lies outside the image.
    """
    box = getattr(region, "mask_box", None) or region.bbox_px
    c0, r0, c1, r1 = (int(v) for v in box)
    h, w = shape
    x0, y0, x1, y1 = max(c0, 0), max(r0, 0), min(c1, w), min(r1, h)
    if x1 <= x0 or y1 <= y0:
        return None
    mask = getattr(region, "mask", None)
    if mask is None:
        crop = np.ones((y1 - y0, x1 - x0), bool)
    else:
        mask = np.asarray(mask, bool)
        if mask.shape != (r1 - r0, c1 - c0):
            raise ValueError(f"region mask {mask.shape} does not match its box {tuple(box)}")
        crop = mask[y0 - r0 : y1 - r0, x0 - c0 : x1 - c0]
    return slice(y0, y1), slice(x0, x1), crop


def rasterise_regions(regions: Iterable[Any], shape: tuple[int, int]) -> np.ndarray:
    """Return the union of the regions' pixels (see `region_window`) as an (H, W) bool mask."""
    out = np.zeros(shape, bool)
    for region in regions:
        window = region_window(region, shape)
        if window is not None:
            rows, cols, crop = window
            out[rows, cols] |= crop
    return out


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Test which points lie inside a polygon (even-odd rule).

    Parameters
    ----------
    points : (N, 2) array_like
        ``(x, y)`` points.
    polygon : (M, 2) array_like
        ``(x, y)`` vertices, open or closed.

    Returns
    -------
    (N,) bool ndarray
    """
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, np.float64).reshape(-1, 2)
    if len(pts) == 0 or len(poly) < 3:
        return np.zeros(len(pts), bool)
    x, y = pts[:, :1], pts[:, 1:]
    x0, y0 = poly[:, 0][None], poly[:, 1][None]
    x1, y1 = np.roll(poly[:, 0], -1)[None], np.roll(poly[:, 1], -1)[None]
    straddles = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    crossings = np.count_nonzero(straddles & (x < x_cross), axis=1)
    return crossings % 2 == 1


@dataclass(frozen=True)
class ObjectMatch:
    """Which label components were found and which regions are right.

    Attributes
    ----------
    found : (K,) bool ndarray
        Per component: covered by a region.
    region_ok : (R,) bool ndarray
        Per region: covers a component or lies mostly on labelled change.
    ignored : int
        Label specks left out (under the size limit).
    """

    found: np.ndarray
    region_ok: np.ndarray
    ignored: int = 0

    @property
    def recall(self) -> float | None:
        """Found components / components; ``None`` without components."""
        return _ratio(int(self.found.sum()), self.found.size)

    @property
    def precision(self) -> float | None:
        """Right regions / regions; ``None`` without regions."""
        return _ratio(int(self.region_ok.sum()), self.region_ok.size)

    def to_dict(self) -> dict[str, Any]:
        """Return counts and scores, JSON-ready."""
        return {
            "components": int(self.found.size),
            "found": int(self.found.sum()),
            "regions": int(self.region_ok.size),
            "regions_ok": int(self.region_ok.sum()),
            "ignored_specks": self.ignored,
            "recall": _round(self.recall),
            "precision": _round(self.precision),
        }


def match_objects(
    components: Components,
    regions: Sequence[Any],
    truth: np.ndarray,
    *,
    iou: float = FOUND_IOU,
    cover: float = COVER_SHARE,
) -> ObjectMatch:
    """Match reported regions to label components.

    A component is found by a region when their pixels overlap at IoU >= ``iou`` or the
    component's centroid lies inside the region: its ``polygon_px`` or its pixels. A region is
    right when it finds a component or >= ``cover`` of its pixels are labelled change.

    Parameters
    ----------
    components : Components
        From `label_components`.
    regions : sequence of ChangeRegion or alike
        With ``bbox_px``, ``mask`` (or ``None``) and ``polygon_px`` ((4, 2) ``(col, row)``).
    truth : (H, W) bool ndarray
        The label (specks included, for the ``cover`` rule).
    iou, cover : float
        The thresholds.

    Returns
    -------
    ObjectMatch
    """
    truth = np.asarray(truth, bool)
    k = components.count
    found = np.zeros(k, bool)
    ok = np.zeros(len(regions), bool)
    for i, region in enumerate(regions):
        hit = np.zeros(k, bool)
        window = region_window(region, truth.shape)
        n = 0 if window is None else int(np.count_nonzero(window[2]))
        if n:
            rows, cols, crop = window
            ids = components.labels[rows, cols][crop]
            inter = np.bincount(ids, minlength=k + 1)[1:]
            touched = inter > 0
            union = components.areas[touched] + n - inter[touched]
            hit[np.flatnonzero(touched)[inter[touched] / union >= iou]] = True
        polygon = getattr(region, "polygon_px", None)
        if polygon is not None and k:
            hit |= points_in_polygon(components.centroids, polygon)
        if n and k:
            # or inside the region's own pixels (its footprint may reach beyond its box)
            cols_px = np.floor(components.centroids[:, 0]).astype(int)
            rows_px = np.floor(components.centroids[:, 1]).astype(int)
            inside = (
                (rows_px >= rows.start) & (rows_px < rows.stop)
                & (cols_px >= cols.start) & (cols_px < cols.stop)
            )  # fmt: skip
            where = np.flatnonzero(inside)
            hit[where[crop[rows_px[where] - rows.start, cols_px[where] - cols.start]]] = True
        found |= hit
        on_change = int(np.count_nonzero(truth[rows, cols][crop])) if n else 0
        ok[i] = bool(hit.any()) or (n > 0 and on_change >= cover * n)
    return ObjectMatch(found=found, region_ok=ok, ignored=components.ignored)


# -- hand truth boxes -------------------------------------------------------------------------


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``(col0, row0, col1, row1)`` boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_hit(box: Sequence[float], regions: Iterable[Any], *, iou: float = BOX_IOU) -> bool:
    """Whether a region overlaps ``box`` at box IoU >= ``iou`` or contains its centre."""
    centre = np.array([[(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]])
    for region in regions:
        if box_iou(region.bbox_px, box) >= iou:
            return True
        polygon = getattr(region, "polygon_px", None)
        if polygon is not None and points_in_polygon(centre, polygon)[0]:
            return True
    return False


def score_truth_boxes(objects: Sequence[Mapping[str, Any]], regions: Sequence[Any]) -> dict:
    """Score regions against hand truth boxes of parked and moving objects.

    A parked object is *flagged* when a region hits its box (`box_hit`); a moving one is
    *found* when a region hits its box in A or, when given, its ``box_after`` in B.

    Parameters
    ----------
    objects : sequence of dict
        Each with ``id``, ``state`` (``"parked"`` or ``"moving"``), ``box`` and optionally
        ``box_after`` (``[col0, row0, col1, row1]`` on A's grid).
    regions : sequence of ChangeRegion or alike

    Returns
    -------
    dict
        ``parked``, ``parked_flagged``, ``moving``, ``moving_found`` and per-object hits.
    """
    per_object = []
    for obj in objects:
        boxes = [obj["box"]] + ([obj["box_after"]] if obj.get("box_after") else [])
        per_object.append(
            {
                "id": obj.get("id"),
                "state": obj["state"],
                "hit": any(box_hit(b, regions) for b in boxes),
            }
        )
    parked = [o for o in per_object if o["state"] == "parked"]
    moving = [o for o in per_object if o["state"] == "moving"]
    return {
        "parked": len(parked),
        "parked_flagged": sum(o["hit"] for o in parked),
        "moving": len(moving),
        "moving_found": sum(o["hit"] for o in moving),
        "objects": per_object,
    }


def load_truth_boxes(paths: Sequence[Path]) -> list[dict]:
    """Read hand truth box files (see ``benchmarks/data/sfo_aircraft.json``): their pairs."""
    pairs = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text())
            for entry in data["pairs"]:
                for obj in entry["objects"]:
                    if obj["state"] not in ("parked", "moving") or len(obj["box"]) != 4:
                        raise ValueError(f"object {obj.get('id')}: bad state or box")
                pairs.append({**entry, "source": str(path)})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{path}: not a truth box file ({_one_line(exc)}); fix it or leave it out"
            ) from exc
    return pairs


def truth_for_pair(pair: Pair, truth_pairs: Sequence[dict]) -> dict | None:
    """Return the truth box entry drawn on this pair's A image, if any.

    An entry with ``md5_before`` applies to the A image with that MD5 whatever its name; one
    without applies to the pair of the same dataset and name.
    """
    md5 = None
    for entry in truth_pairs:
        if entry.get("md5_before"):
            md5 = md5 or _md5(pair.before)
            if entry["md5_before"] == md5:
                return entry
        elif entry.get("dataset") == pair.dataset and entry.get("pair") == pair.stem:
            return entry
    return None


# -- registration -----------------------------------------------------------------------------


def corner_displacement_px(matrix: Sequence[float], overlap: Sequence[int]) -> float:
    """Largest displacement of the overlap's corners under a residual affine, in pixels.

    Parameters
    ----------
    matrix : 6 floats
        ``(a, b, c, d, e, f)``: ``(col, row) -> (a col + b row + c, d col + e row + f)``,
        as `Registration.matrix`.
    overlap : 4 ints
        ``(col_off, row_off, width, height)`` of the compared area.

    Returns
    -------
    float
        0 for the identity.
    """
    a, b, c, d, e, f = (float(v) for v in matrix)
    c0, r0, w, h = (float(v) for v in overlap)
    xs = np.array([c0, c0 + w, c0, c0 + w])
    ys = np.array([r0, r0, r0 + h, r0 + h])
    dx = a * xs + b * ys + c - xs
    dy = d * xs + e * ys + f - ys
    return float(np.hypot(dx, dy).max())


def registration_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Summarise what a registration says: status, shift at the centre and at the corners.

    Parameters
    ----------
    record : mapping
        `Registration.to_dict()` (or the ``registration`` of the CLI's JSON), with ``status``,
        ``reason`` and ``confidence`` when the tool reports them. Without ``status`` it is
        derived: ``"not_measured"`` for model ``"none"``, else ``"applied"``.

    Returns
    -------
    dict
    """
    status = record.get("status")
    source = "reported"
    if status is None:
        status = "not_measured" if record.get("model", "none") == "none" else "applied"
        source = "derived"
    matrix = record.get("matrix") or (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    overlap = record.get("overlap") or (0, 0, 0, 0)
    c0, r0, w, h = overlap
    out = {
        "status": status,
        "status_source": source,
        "reason": record.get("reason"),
        "confidence": record.get("confidence"),
        "model": record.get("model"),
        "windows_used": record.get("windows_used"),
        "windows_measured": record.get("windows_measured"),
        "rmse_px": record.get("rmse_px"),
        "resampled": record.get("resampled"),
        "dx": record.get("dx"),
        "dy": record.get("dy"),
        "rotation_deg": record.get("rotation_deg"),
        "scale": record.get("scale"),
        "centre_shift_px": round(corner_displacement_px(matrix, [c0 + w / 2, r0 + h / 2, 0, 0]), 4),
        "max_shift_px": round(corner_displacement_px(matrix, overlap), 4),
    }
    return out


def summarise_registration(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Count statuses; the largest corner (and centre) displacement among applied estimates."""
    counts = {"applied": 0, "fallback": 0, "not_measured": 0, "other": 0}
    worst = centre = None
    derived = False
    for rec in records:
        status = rec["status"]
        counts[status if status in counts else "other"] += 1
        derived |= rec.get("status_source") == "derived"
        if status == "applied":
            worst = max(worst or 0.0, rec["max_shift_px"])
            centre = max(centre or 0.0, rec.get("centre_shift_px") or 0.0)
    measured = counts["applied"] + counts["fallback"] + counts["other"]
    return {
        **counts,
        "measured": measured,
        "max_shift_px_applied": worst,
        "max_centre_shift_px_applied": centre,
        "target_met": None if measured == 0 else (worst or 0.0) <= TARGET_MAX_SHIFT_PX,
        "status_derived": derived,
    }


# -- the corpus -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """One BEFORE/AFTER pair of a dataset, with its label when there is one."""

    dataset: str
    name: str
    before: Path
    after: Path | None
    label: Path | None = None
    note: str | None = None

    @property
    def stem(self) -> str:
        """The pair's name without its suffix."""
        return Path(self.name).stem


@dataclass(frozen=True)
class Dataset:
    """A folder with ``A/`` and ``B/`` (and optionally ``label/``) holding pairs by name."""

    name: str
    root: Path
    pairs: tuple[Pair, ...] = field(default=())


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )


def find_image(folder: Path, name: str) -> Path | None:
    """Find ``name`` in ``folder``, else an image with the same stem and any image suffix."""
    exact = folder / name
    if exact.is_file():
        return exact
    stem = Path(name).stem
    for path in _images(folder):
        if path.stem == stem:
            return path
    return None


def _is_dataset(folder: Path) -> bool:
    return (folder / "A").is_dir() and (folder / "B").is_dir()


def discover(data: Path) -> list[Dataset]:
    """Find the datasets of a corpus and their pairs from the folder layout.

    ``data`` is either one dataset (it holds ``A/`` and ``B/``) or a folder of datasets. A
    pair is a file of ``A/``; its AFTER is the file of ``B/`` of the same name (else the same
    stem); its label the file of ``label/`` of the same name or stem, if any. A
    ``manifest.csv`` beside the datasets (columns ``dataset``, ``name``, ``labelled``) is only
    used to note pairs it calls labelled that have no label file.
    """
    data = Path(data)
    folders = [data] if _is_dataset(data) else sorted(p for p in data.iterdir() if _is_dataset(p))
    manifest = _read_manifest(data / "manifest.csv")
    datasets = []
    for folder in folders:
        pairs = []
        for before in _images(folder / "A"):
            after = find_image(folder / "B", before.name)
            label = find_image(folder / "label", before.name)
            note = None
            if label is None and manifest.get((folder.name, before.name), "").lower() == "yes":
                note = "manifest.csv says labelled but label/ has no such file"
            pairs.append(Pair(folder.name, before.name, before, after, label, note))
        datasets.append(Dataset(folder.name, folder, tuple(pairs)))
    return datasets


def _read_manifest(path: Path) -> dict[tuple[str, str], str]:
    if not path.is_file():
        return {}
    try:
        with path.open(newline="") as fh:
            return {
                (row.get("dataset", ""), row.get("name", "")): row.get("labelled") or ""
                for row in csv.DictReader(fh)
            }
    except (OSError, csv.Error, UnicodeDecodeError):
        return {}


def read_label(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """Read a change label (255 = changed, 0 = not) on A's grid as an (H, W) bool mask.

    Values above 127 count as changed; a colour label counts a pixel whose largest channel
    does.

    Raises
    ------
    ValueError
        The file cannot be read or its size is not A's.
    """
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        import rasterio

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with rasterio.open(path) as ds:
                    pixels = ds.read(1)
        except Exception as exc:
            raise ValueError(f"{path}: unreadable label ({_one_line(exc)})") from exc
    if pixels.ndim == 3:
        pixels = pixels.max(axis=2)
    if pixels.shape != tuple(shape):
        raise ValueError(
            f"{path}: label is {pixels.shape[1]} x {pixels.shape[0]} px but A is "
            f"{shape[1]} x {shape[0]} px; the label must be on A's grid"
        )
    return pixels > 127


# -- running the detector ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReadRegion:
    """A region read back from the command's JSON output (``--cli``)."""

    change: str
    score: float
    bbox_px: tuple[int, int, int, int]
    polygon_px: np.ndarray
    mask: np.ndarray | None


@dataclass
class Detection:
    """What one detection run gave, in-process or through the command line."""

    regions: list
    mask: np.ndarray
    registration: dict[str, Any]
    parameters: dict[str, Any]
    gsd_m: float | None
    seconds: float
    command: list[str]
    warnings: list[str] = field(default_factory=list)


def cli_defaults() -> dict[str, Any]:
    """Return the ``detect`` command's option defaults, read from the command itself."""
    from imagery_tool.cli.detect import detect

    return {p.name: p.default for p in detect.params}


def detect_arguments(
    pair: Pair,
    method: str,
    pixel_size_m: float | None,
    out: Path,
    min_score: float | None = None,
) -> list[str]:
    """Return the ``detect`` arguments for a pair (``regions.json``, ``mask.png`` in ``out``)."""
    args = ["detect", str(pair.before), str(pair.after), "-o", str(out / "regions.json")]
    args += ["--mask", str(out / "mask.png"), "--method", method]
    if pixel_size_m is not None:
        args += ["--pixel-size-m", repr(pixel_size_m)]
    if min_score is not None and method == "robust":
        args += ["--min-score", repr(min_score)]
    return args


def cli_prefix() -> list[str]:
    """How to start ``imagery-tool``: the script beside this Python, else through it."""
    exe = shutil.which("imagery-tool", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-c", "from imagery_tool.cli import main; main()"]


def _registration_dict(reg: Any) -> dict[str, Any]:
    record = dict(reg.to_dict())
    for name in ("status", "reason", "confidence"):
        record.setdefault(name, getattr(reg, name, None))
    return record


def detect_in_process(
    pair: Pair, method: str, *, pixel_size_m: float | None, min_score: float | None = None
) -> Detection:
    """Run detection as ``imagery-tool detect`` does (its defaults), in this process."""
    from imagery_tool.change import detect_changes
    from imagery_tool.change.methods import METHODS
    from imagery_tool.registration import coregister
    from imagery_tool.tile import open_tile

    defaults = cli_defaults()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = open_tile(pair.before)
        after = open_tile(pair.after)
        registration = coregister(
            before, after, model=defaults["registration_model"], measure=METHODS[method].register
        )
        result = detect_changes(
            before,
            after,
            method=method,
            min_size_m=defaults["min_size_m"],
            max_size_m=defaults["max_size_m"],
            threshold=defaults["threshold"],
            registration=registration,
            pixel_size_m=pixel_size_m if pixel_size_m is not None else defaults["pixel_size_m"],
            min_score=min_score if min_score is not None else defaults["min_score"],
        )
        mask = result.mask() > 0
    seconds = time.perf_counter() - start
    georef = before.georef
    return Detection(
        regions=list(result.regions),
        mask=mask,
        registration=_registration_dict(result.registration),
        parameters=dict(result.parameters),
        gsd_m=georef.mean_gsd_m if georef.is_georeferenced else None,
        seconds=seconds,
        command=[
            "imagery-tool",
            *detect_arguments(pair, method, pixel_size_m, Path("OUT"), min_score),
        ],
        warnings=sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
    )


def detect_with_cli(
    pair: Pair, method: str, *, pixel_size_m: float | None, min_score: float | None = None
) -> Detection:
    """Run the real ``imagery-tool detect`` command and read back its mask and JSON.

    The regions' masks are the written mask inside each region's box (the JSON has no
    per-region masks); their oriented boxes come from the JSON's polygons.
    """
    from imagery_tool.tile import open_tile

    with tempfile.TemporaryDirectory(prefix="eval_real_pairs_") as tmp:
        out = Path(tmp)
        cmd = [*cli_prefix(), *detect_arguments(pair, method, pixel_size_m, out, min_score)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            raise RuntimeError(
                f"imagery-tool detect exited {proc.returncode}: "
                f"{lines[-1] if lines else 'no message'}"
            )
        mask = cv2.imread(str(out / "mask.png"), cv2.IMREAD_UNCHANGED) > 0
        data = json.loads((out / "regions.json").read_text())
    georef = open_tile(pair.before).georef
    regions = []
    for feature in data["features"]:
        props = feature["properties"]
        ring = np.asarray(feature["geometry"]["coordinates"][0][:-1], np.float64)
        if not str(data.get("coordinates", "")).startswith("pixel"):
            cols, rows = georef.lonlat_to_pixel(ring[:, 0], ring[:, 1])
            ring = np.column_stack([cols, rows])
        c0, r0, c1, r1 = (int(v) for v in props["bbox_px"])
        regions.append(
            ReadRegion(
                change=props["change"],
                score=float(props["score"]),
                bbox_px=(c0, r0, c1, r1),
                polygon_px=ring,
                mask=_box_of(mask, (c0, r0, c1, r1)),
            )
        )
    return Detection(
        regions=regions,
        mask=mask,
        registration=dict(data.get("registration") or {}),
        parameters=dict(data.get("parameters") or {}),
        gsd_m=georef.mean_gsd_m if georef.is_georeferenced else None,
        seconds=seconds,
        command=cmd,
    )


def _box_of(mask: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Return the mask's pixels inside a box, False where the box leaves the image."""
    c0, r0, c1, r1 = box
    out = np.zeros((r1 - r0, c1 - c0), bool)
    h, w = mask.shape
    x0, y0, x1, y1 = max(c0, 0), max(r0, 0), min(c1, w), min(r1, h)
    if x1 > x0 and y1 > y0:
        out[y0 - r0 : y1 - r0, x0 - c0 : x1 - c0] = mask[y0:y1, x0:x1]
    return out


# -- one pair ---------------------------------------------------------------------------------

Detector = Callable[..., Detection]


def evaluate_pair(
    pair: Pair,
    method: str,
    *,
    detector: Detector = detect_in_process,
    pixel_size_m: float | None = None,
    min_score: float | None = None,
    truth_boxes: dict | None = None,
) -> tuple[dict[str, Any], Detection | None, np.ndarray | None]:
    """Detect changes on one pair with one method and score them.

    Returns
    -------
    (dict, Detection or None, (H, W) bool ndarray or None)
        The JSON-ready record (``error`` holds a one-line message when the pair failed), the
        detection and the label mask when they exist.
    """
    record: dict[str, Any] = {
        "dataset": pair.dataset,
        "pair": pair.stem,
        "method": method,
        "before": str(pair.before),
        "after": str(pair.after) if pair.after else None,
        "label": str(pair.label) if pair.label else None,
        "labelled": pair.label is not None,
        "error": None,
    }
    if pair.note:
        record["note"] = pair.note
    if pair.after is None:
        record["error"] = f"no B/{pair.name} for A/{pair.name}"
        return record, None, None
    detection = truth = None
    try:
        detection = detector(pair, method, pixel_size_m=pixel_size_m, min_score=min_score)
        h, w = detection.mask.shape
        pixel_size = detection.gsd_m
        assumed = False
        if pixel_size is None:
            pixel_size = detection.parameters.get("pixel_size_m")
            assumed = bool(detection.parameters.get("pixel_size_assumed", True))
        record.update(
            command=detection.command,
            seconds=round(detection.seconds, 3),
            width=w,
            height=h,
            megapixels=h * w / 1e6,
            pixel_size_m=pixel_size,
            pixel_size_assumed=assumed,
            km2=None if pixel_size is None else h * w * pixel_size**2 / 1e6,
            regions=len(detection.regions),
            registration=registration_record(detection.registration),
            parameters=detection.parameters,
            warnings=detection.warnings,
        )
        if pair.label is not None:
            truth = read_label(pair.label, (h, w))
            record["pixel"] = pixel_counts(detection.mask, truth).to_dict()
            components = label_components(truth)
            record["objects"] = match_objects(components, detection.regions, truth).to_dict()
        if truth_boxes is not None:
            record["truth_boxes"] = {
                "source": truth_boxes["source"],
                **score_truth_boxes(truth_boxes["objects"], detection.regions),
            }
    except Exception as exc:  # a failing pair is a row of the report, not the end of the run
        record["error"] = _one_line(exc)
    return record, detection, truth


# -- datasets ---------------------------------------------------------------------------------


def summarise_group(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Pool the records of one method over a group of pairs (one dataset, labelled or not).

    Returns
    -------
    dict
        ``pairs``, ``errors``, pooled ``pixel`` scores and ``f1_mean`` (labelled), ``objects``
        (labelled), ``regions``, ``regions_per_mp``, ``regions_per_km2`` (with
        ``km2_assumed``), ``registration`` and ``seconds_mean``.
    """
    ok = [r for r in records if not r.get("error")]
    out: dict[str, Any] = {"pairs": len(records), "errors": len(records) - len(ok)}
    labelled = [r for r in ok if "pixel" in r]
    if labelled:
        counts = PixelCounts()
        for r in labelled:
            p = r["pixel"]
            counts = counts + PixelCounts(p["tp"], p["fp"], p["fn"], p["tn"])
        f1s = [r["pixel"]["f1"] for r in labelled if r["pixel"]["f1"] is not None]
        out["pixel"] = counts.to_dict()
        out["f1_mean"] = _round(float(np.mean(f1s))) if f1s else None
        keys = ("components", "found", "regions", "regions_ok", "ignored_specks")
        objects = {k: sum(r["objects"][k] for r in labelled) for k in keys}
        objects["recall"] = _round(_ratio(objects["found"], objects["components"]))
        objects["precision"] = _round(_ratio(objects["regions_ok"], objects["regions"]))
        out["objects"] = objects
    regions = sum(r["regions"] for r in ok)
    mp = sum(r["megapixels"] for r in ok)
    km2 = [r["km2"] for r in ok]
    out["regions"] = regions
    out["regions_per_mp"] = _round(_ratio(regions, mp), 3)
    out["regions_per_km2"] = (
        _round(_ratio(regions, sum(km2)), 3) if ok and None not in km2 else None
    )
    out["km2_assumed"] = any(r["pixel_size_assumed"] for r in ok)
    out["registration"] = summarise_registration(r["registration"] for r in ok)
    out["seconds_mean"] = _round(float(np.mean([r["seconds"] for r in ok])), 3) if ok else None
    return out


def group_key(record: Mapping[str, Any]) -> str:
    """Return the report row of a record: its dataset, or ``<dataset> (unlabelled)``."""
    return record["dataset"] if record["labelled"] else f"{record['dataset']} (unlabelled)"


def summarise(
    records: Sequence[Mapping[str, Any]], methods: Sequence[str], baseline: str | None
) -> list[dict[str, Any]]:
    """Summarise every group (dataset, labelled or not) per method, with the targets."""
    groups: dict[str, list] = {}
    for r in records:
        groups.setdefault(group_key(r), []).append(r)
    rows = []
    for name, members in groups.items():
        per_method = {m: summarise_group([r for r in members if r["method"] == m]) for m in methods}
        labelled = bool(members[0]["labelled"])
        row = {
            "group": name,
            "dataset": members[0]["dataset"],
            "labelled": labelled,
            "pairs": len({r["pair"] for r in members}),
            "methods": per_method,
        }
        if labelled:
            row["targets"] = {
                m: targets(per_method[m], per_method.get(baseline) if baseline else None)
                for m in methods
                if m != baseline
            }
        rows.append(row)
    return sorted(rows, key=lambda row: not row["labelled"])


def targets(summary: Mapping[str, Any], baseline: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check one method's pooled figures against the issue's targets.

    Returns
    -------
    dict
        ``f1_ratio`` (method F1 / baseline F1), ``f1_met``, ``object_recall_met``,
        ``registration_met`` (``None`` where it cannot be decided) and ``met`` (all three).
    """
    f1 = (summary.get("pixel") or {}).get("f1")
    base = ((baseline or {}).get("pixel") or {}).get("f1")
    ratio = None if f1 is None or not base else f1 / base
    f1_met = None
    if f1 is not None and base is not None:
        f1_met = f1 >= TARGET_F1_RATIO * base
    recall = (summary.get("objects") or {}).get("recall")
    recall_met = None if recall is None else recall >= TARGET_OBJECT_RECALL
    reg_met = summary.get("registration", {}).get("target_met")
    decided = [v for v in (f1_met, recall_met, reg_met) if v is not None]
    return {
        "f1_ratio": _round(ratio, 3),
        "f1_met": f1_met,
        "object_recall_met": recall_met,
        "registration_met": reg_met,
        "met": bool(decided) and all(decided) and f1_met is not None and recall_met is not None,
    }


# -- report -----------------------------------------------------------------------------------


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def _f(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _yes(value: bool | None) -> str:
    return "n/a" if value is None else ("met" if value else "not met")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def registered_methods(rows: Sequence[Mapping[str, Any]], methods: Sequence[str]) -> list[str]:
    """Methods whose registration was measured on at least one pair."""
    return [
        m for m in methods if any(row["methods"][m]["registration"]["measured"] for row in rows)
    ]


def markdown_report(
    rows: Sequence[Mapping[str, Any]],
    methods: Sequence[str],
    baseline: str | None,
    *,
    records: Sequence[Mapping[str, Any]] = (),
    per_pair: bool = False,
) -> str:
    """Render the summary (and optionally every pair) as Markdown tables and target lines."""
    candidates = [m for m in methods if m != baseline]
    reg_methods = registered_methods(rows, methods)
    header = ["dataset", "pairs"]
    for m in methods:
        header += [f"{m} pixel P / R / F1 (mean F1)", f"{m} object P / R"]
    if baseline in methods:
        header += [f"F1 {m}/{baseline}" for m in candidates]
        header += [f"targets {m}" for m in candidates]
    for m in reg_methods:
        header += [f"registration {m}: applied / fallback", f"{m} max shift px"]
    header += [f"{m} regions / MP, / km²" for m in methods]
    header += ["s / pair (" + ", ".join(methods) + ")"]
    body = []
    for row in rows:
        errors = max(row["methods"][m]["errors"] for m in methods)
        cells = [row["group"], f"{row['pairs']}" + (f" ({errors} error)" if errors else "")]
        for m in methods:
            s = row["methods"][m]
            if "pixel" in s:
                p = s["pixel"]
                cells.append(
                    f"{_f(p['precision'])} / {_f(p['recall'])} / {_f(p['f1'])} ({_f(s['f1_mean'])})"
                )
                o = s["objects"]
                cells.append(f"{_f(o['precision'])} / {_f(o['recall'])}")
            else:
                cells += ["–", "–"]
        if baseline in methods:
            for m in candidates:
                t = row.get("targets", {}).get(m)
                cells.append("–" if t is None else _f(t["f1_ratio"]))
            for m in candidates:
                t = row.get("targets", {}).get(m)
                cells.append(
                    "–"
                    if t is None
                    else f"F1 {_yes(t['f1_met'])}, recall {_yes(t['object_recall_met'])}, "
                    f"reg {_yes(t['registration_met'])}"
                )
        for m in reg_methods:
            reg = row["methods"][m]["registration"]
            cells.append(f"{reg['applied']} / {reg['fallback']}")
            cells.append(_f(reg["max_shift_px_applied"]))
        for m in methods:
            s = row["methods"][m]
            star = "*" if s["km2_assumed"] else ""
            cells.append(f"{_f(s['regions_per_mp'], 1)}, {_f(s['regions_per_km2'], 1)}{star}")
        cells.append(", ".join(_f(row["methods"][m]["seconds_mean"]) for m in methods))
        body.append(cells)
    lines = _table(header, body)
    lines += [""] + [f"- {note}" for note in NOTES]
    if any(
        row["methods"][m]["registration"]["status_derived"] for row in rows for m in reg_methods
    ):
        lines.append(
            "- Registration status derived (the tool reports no `Registration.status`): "
            "measured = applied."
        )
    lines += ["", *target_lines(rows, candidates, baseline, reg_methods)]
    truth_rows = [r for r in records if r.get("truth_boxes")]
    if truth_rows:
        lines += ["", "Hand truth boxes (parked: must not be flagged; moving: real change):", ""]
        lines += _table(
            ["dataset", "pair", "method", "parked flagged", "moving found", "regions"],
            [
                [
                    r["dataset"],
                    r["pair"],
                    r["method"],
                    f"{r['truth_boxes']['parked_flagged']} / {r['truth_boxes']['parked']}",
                    f"{r['truth_boxes']['moving_found']} / {r['truth_boxes']['moving']}",
                    r["regions"],
                ]
                for r in truth_rows
            ],
        )
    if per_pair:
        lines += ["", *pair_table(records)]
    return "\n".join(lines)


def target_lines(
    rows: Sequence[Mapping[str, Any]],
    candidates: Sequence[str],
    baseline: str | None,
    reg_methods: Sequence[str],
) -> list[str]:
    """One line per labelled dataset and method: each target with its figures, met or not."""
    lines = []
    for row in rows:
        if not row["labelled"]:
            continue
        for m in candidates:
            s = row["methods"][m]
            t = row["targets"][m]
            f1 = (s.get("pixel") or {}).get("f1")
            parts = []
            if baseline in row["methods"]:
                base = (row["methods"][baseline].get("pixel") or {}).get("f1")
                need = None if base is None else TARGET_F1_RATIO * base
                parts.append(
                    f"pixel F1 {_f(f1)} >= {TARGET_F1_RATIO} x {baseline} {_f(base)} = "
                    f"{_f(need)}: {_yes(t['f1_met'])}"
                )
            recall = (s.get("objects") or {}).get("recall")
            parts.append(
                f"object recall {_f(recall)} >= {TARGET_OBJECT_RECALL}: "
                f"{_yes(t['object_recall_met'])}"
            )
            if m in reg_methods:
                reg = s["registration"]
                worst = reg["max_shift_px_applied"]
                shift = "none applied" if worst is None else f"max {_f(worst)} px"
                parts.append(
                    f"registration {reg['applied']} applied, {reg['fallback']} fell back, "
                    f"{shift} <= {TARGET_MAX_SHIFT_PX:g} px: {_yes(t['registration_met'])}"
                )
            lines.append(f"{row['group']} [{m}]: " + "; ".join(parts))
    return lines


def pair_table(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every pair and method as a Markdown table (errors with their message)."""
    rows = []
    for r in records:
        if r.get("error"):
            rows.append([r["dataset"], r["pair"], r["method"], *["–"] * 7, f"error: {r['error']}"])
            continue
        p, o, reg = r.get("pixel"), r.get("objects"), r["registration"]
        note = r.get("note", "")
        if r.get("truth_boxes"):
            tb = r["truth_boxes"]
            note = f"parked flagged {tb['parked_flagged']}/{tb['parked']}, moving found " + (
                f"{tb['moving_found']}/{tb['moving']}"
            )
        rows.append(
            [
                r["dataset"],
                r["pair"],
                r["method"],
                "–" if p is None else f"{_f(p['precision'])} / {_f(p['recall'])} / {_f(p['f1'])}",
                "–" if o is None else f"{o['found']}/{o['components']}",
                "–" if o is None else f"{o['regions_ok']}/{o['regions']}",
                r["regions"],
                reg["status"],
                _f(reg["max_shift_px"]),
                _f(r["seconds"]),
                note,
            ]
        )
    return _table(
        [
            "dataset",
            "pair",
            "method",
            "pixel P / R / F1",
            "objects found",
            "regions right",
            "regions",
            "registration",
            "max shift px",
            "s",
            "note",
        ],
        rows,
    )


# -- looking at failures ----------------------------------------------------------------------


def save_views(
    folder: Path,
    pair: Pair,
    method: str,
    detection: Detection,
    truth: np.ndarray | None,
    truth_boxes: dict | None,
) -> None:
    """Write the predicted mask and a side-by-side PNG (A | B | truth | prediction).

    Files: ``<folder>/<dataset>/<pair>.<method>.mask.png`` (255 = changed, A's grid) and
    ``<pair>.<method>.png``. B is shown on its own grid scaled to A's size; the truth panel
    shows the label, or A with the hand truth boxes (parked green, moving magenta), or
    "no label".
    """
    from imagery_tool.atomic import atomic_path
    from imagery_tool.display import composite
    from imagery_tool.tile import open_tile

    out = folder / pair.dataset
    out.mkdir(parents=True, exist_ok=True)
    _write_png(out / f"{pair.stem}.{method}.mask.png", detection.mask.astype(np.uint8) * 255)
    h, w = detection.mask.shape
    scale = min(1.0, PANEL_SIDE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # OpenCV (width, height)

    def view(path: Path) -> np.ndarray:
        rgba = composite(open_tile(path), out_shape=(size[1], size[0]))
        return cv2.cvtColor(rgba[..., :3], cv2.COLOR_RGB2BGR)

    a, b = view(pair.before), view(pair.after)
    small = cv2.resize(detection.mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    if truth is not None:
        t = cv2.resize(truth.astype(np.uint8) * 255, size, interpolation=cv2.INTER_NEAREST)
        truth_panel = cv2.cvtColor(t, cv2.COLOR_GRAY2BGR)
    elif truth_boxes is not None:
        truth_panel = a.copy()
        for obj in truth_boxes["objects"]:
            colour = (0, 255, 0) if obj["state"] == "parked" else (255, 0, 255)
            for box in [obj["box"], obj.get("box_after")]:
                if box:
                    p0 = (int(box[0] * scale), int(box[1] * scale))
                    p1 = (int(box[2] * scale), int(box[3] * scale))
                    cv2.rectangle(truth_panel, p0, p1, colour, 1)
    else:
        truth_panel = np.full_like(a, 60)
        _caption(truth_panel, "no label", (size[1] // 2))
    prediction = (a * 0.5).astype(np.uint8)
    prediction[small > 0] = (0, 0, 255)
    for region in detection.regions:
        c0, r0, c1, r1 = region.bbox_px
        p0 = (int(c0 * scale), int(r0 * scale))
        p1 = (int(c1 * scale), int(r1 * scale))
        cv2.rectangle(prediction, p0, p1, (0, 255, 255), 1)
    panels = []
    for image, text in ((a, "A"), (b, "B"), (truth_panel, "truth"), (prediction, method)):
        image = image.copy()
        _caption(image, text, 14)
        panels += [image, np.full((size[1], 4, 3), 255, np.uint8)]
    sheet = np.hstack(panels[:-1])
    with atomic_path(out / f"{pair.stem}.{method}.png") as tmp:
        _encode_png(tmp, sheet)


def _caption(image: np.ndarray, text: str, row: int) -> None:
    cv2.putText(image, text, (4, row), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3)
    cv2.putText(image, text, (4, row), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)


def _write_png(path: Path, image: np.ndarray) -> None:
    from imagery_tool.atomic import atomic_path

    with atomic_path(path) as tmp:
        _encode_png(tmp, image)


def _encode_png(tmp: Path, image: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"{tmp}: PNG encoding failed")
    Path(tmp).write_bytes(data.tobytes())


# -- provenance -------------------------------------------------------------------------------


def _md5(path: Path) -> str:
    return hashlib.md5(Path(path).read_bytes(), usedforsecurity=False).hexdigest()


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def code_info() -> dict[str, Any]:
    """Version, git commit and whether the working tree differs from it (the code measured)."""
    import imagery_tool

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    tracked = git("status", "--porcelain", "--untracked-files=no")
    code = git("status", "--porcelain", "--", "imagery_tool")
    return {
        "version": getattr(imagery_tool, "__version__", None),
        "commit": commit.strip() if commit else None,
        "dirty": None if tracked is None else bool(tracked.strip()),
        "dirty_code": None if code is None else [ln[3:] for ln in code.splitlines() if ln],
        "python": sys.version.split()[0],
    }


# -- command line -----------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Change detection on real pairs: accuracy against labels, registration, "
        "false alarms; robust vs the textbook baseline.",
    )
    parser.add_argument("--data", required=True, type=Path, help="corpus: <dataset>/{A,B,label}")
    parser.add_argument(
        "--methods", default=",".join(DEFAULT_METHODS), help="comma-separated METHODS keys"
    )
    parser.add_argument(
        "--baseline", default=DEFAULT_BASELINE, help="method the targets compare against"
    )
    parser.add_argument("--datasets", help="comma-separated dataset folder names (default all)")
    parser.add_argument("--pairs", help="comma-separated pair names without suffix (default all)")
    parser.add_argument(
        "--cli", action="store_true", help="run the real `imagery-tool detect` in a subprocess"
    )
    parser.add_argument(
        "--pixel-size-m", type=float, help="pixel size for every pair (default: none passed)"
    )
    parser.add_argument(
        "--min-score",
        type=float,
        help="robust's operating point for every pair (default: the command's)",
    )
    parser.add_argument("--per-pair", action="store_true", help="also print every pair")
    parser.add_argument("--json", type=Path, help="write the machine-readable record here")
    parser.add_argument("--save-masks", type=Path, help="folder for masks and A|B|truth|pred PNGs")
    parser.add_argument(
        "--truth-boxes",
        type=Path,
        action="append",
        help=f"hand truth box file (repeatable; default {DEFAULT_TRUTH_BOXES.relative_to(ROOT)})",
    )
    parser.add_argument("--no-truth-boxes", action="store_true", help="score no truth boxes")
    return parser.parse_args(argv)


def _usage_error(message: str) -> SystemExit:
    print(f"eval_real_pairs: {message}", file=sys.stderr)
    return SystemExit(2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation; print the report; exit 0 (2 on bad usage)."""
    args = _parse_args(argv)
    from imagery_tool.change.methods import METHODS

    if not args.data.is_dir():
        raise _usage_error(f"{args.data}: no such folder; pass the corpus folder with --data")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise _usage_error(
            f"--methods {args.methods}: unknown {', '.join(unknown) or 'none given'}; "
            f"choose from {', '.join(METHODS)}"
        )
    baseline = args.baseline if args.baseline in methods else None
    if args.pixel_size_m is not None and not args.pixel_size_m > 0:
        raise _usage_error(f"--pixel-size-m {args.pixel_size_m}: must be above 0")
    datasets = discover(args.data)
    if args.datasets:
        wanted = {d.strip() for d in args.datasets.split(",") if d.strip()}
        missing = wanted - {d.name for d in datasets}
        if missing:
            raise _usage_error(
                f"--datasets: no {', '.join(sorted(missing))} under {args.data}; found "
                f"{', '.join(d.name for d in datasets) or 'none'}"
            )
        datasets = [d for d in datasets if d.name in wanted]
    pairs = [p for d in datasets for p in d.pairs]
    if args.pairs:
        names = {n.strip() for n in args.pairs.split(",") if n.strip()}
        pairs = [p for p in pairs if p.stem in names]
    if not pairs:
        raise _usage_error(f"{args.data}: no pairs found (expected <dataset>/A/, <dataset>/B/)")
    if args.no_truth_boxes:
        truth_files = []
    elif args.truth_boxes:
        truth_files = list(args.truth_boxes)
    else:
        truth_files = [DEFAULT_TRUTH_BOXES] if DEFAULT_TRUTH_BOXES.is_file() else []
    try:
        truth_pairs = load_truth_boxes(truth_files)
    except ValueError as exc:
        raise _usage_error(str(exc)) from None
    detector = detect_with_cli if args.cli else detect_in_process

    records = []
    started = time.perf_counter()
    total = len(pairs) * len(methods)
    for i, pair in enumerate(pairs):
        boxes = truth_for_pair(pair, truth_pairs) if pair.after else None
        for j, method in enumerate(methods):
            record, detection, truth = evaluate_pair(
                pair,
                method,
                detector=detector,
                pixel_size_m=args.pixel_size_m,
                min_score=args.min_score,
                truth_boxes=boxes,
            )
            records.append(record)
            n = i * len(methods) + j + 1
            status = record["error"] or f"{record['regions']} regions, {record['seconds']:.1f} s"
            print(f"[{n}/{total}] {pair.dataset}/{pair.stem} {method}: {status}", file=sys.stderr)
            if args.save_masks and detection is not None:
                try:
                    save_views(args.save_masks, pair, method, detection, truth, boxes)
                except Exception as exc:
                    record["save_error"] = _one_line(exc)
    elapsed = time.perf_counter() - started

    rows = summarise(records, methods, baseline)
    code = code_info()
    mode = "imagery-tool detect (subprocess)" if args.cli else "in-process, as imagery-tool detect"
    print(
        f"Change detection on real pairs: {args.data} ({len(pairs)} pairs, "
        f"{', '.join(methods)}; {mode}; {elapsed:.0f} s)\n"
        f"code: imagery-tool {code['version']} at {(code['commit'] or 'unknown')[:12]}"
        f"{' (working tree differs)' if code['dirty'] else ''}\n"
    )
    print(markdown_report(rows, methods, baseline, records=records, per_pair=args.per_pair))
    if args.json:
        _write_json(args, methods, baseline, rows, records, code, elapsed, truth_files)
    return 0


def _write_json(args, methods, baseline, rows, records, code, elapsed, truth_files) -> None:
    from imagery_tool.atomic import atomic_write_text

    ref = {k: code[k] for k in ("version", "commit", "dirty")}
    document = {
        "benchmark": "eval_real_pairs",
        "argv": [sys.executable, *sys.argv],
        "code": code,
        "data": str(args.data),
        "mode": "cli" if args.cli else "in-process",
        "methods": methods,
        "baseline": baseline,
        "settings": {
            "pixel_size_m": args.pixel_size_m,
            "min_score": args.min_score,
            "cli_defaults": {k: v for k, v in cli_defaults().items() if _jsonable(v)},
            "min_component_px": MIN_COMPONENT_PX,
            "found_iou": FOUND_IOU,
            "cover_share": COVER_SHARE,
            "box_iou": BOX_IOU,
            "target_f1_ratio": TARGET_F1_RATIO,
            "target_object_recall": TARGET_OBJECT_RECALL,
            "target_max_shift_px": TARGET_MAX_SHIFT_PX,
            "truth_boxes": [str(p) for p in truth_files],
        },
        "notes": list(NOTES),
        "seconds": round(elapsed, 1),
        "datasets": [{**row, "code": ref} for row in rows],
        "pairs": [{**r, "code": ref} for r in records],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.json, json.dumps(document, indent=1, default=_json_default) + "\n")
    print(f"\nwrote {args.json}", file=sys.stderr)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except TypeError:
        return False
    return True


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


if __name__ == "__main__":
    sys.exit(main())
