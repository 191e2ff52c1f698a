"""The change level of a pair: how far apart its dates are, and what magnitude counts as change."""

from __future__ import annotations

import math

import cv2
import numpy as np
from rasterio.windows import Window

from imagery_tool.change.measure import cva_magnitude, erode_valid, smoothing_ksize
from imagery_tool.change.methods import Method
from imagery_tool.radiometry import Radiometry
from imagery_tool.registration import AlignedPair
from imagery_tool.runtime import current, thread_pool

__all__ = [
    "VALID_MARGIN_PX",
    "change_level",
    "dissimilarity",
    "dissimilarity_weight",
    "sample_levels",
]

VALID_MARGIN_PX = 3  # pixels this close to nodata or a read window's edge are not measured
_SAMPLE_WINDOWS = 9  # full-resolution windows `sample_levels` reads, on a square grid
_MIN_SAMPLE_PX = 64  # a sample window with fewer valid pixels says nothing
# every n-th value kept from a window: the statistics need thousands, not all, of the pixels
_VALUE_STRIDE, _DIFFERENCE_STRIDE, _MAGNITUDE_STRIDE = 7, 5, 3
_MIN_SPREAD = 1e-12  # guards the share of a span against a constant scene
_MAD_TO_SIGMA = 1.4826  # median absolute deviation -> standard deviation of a normal law
_MIN_LEVEL_SHARE = 0.03  # the change level is at least this share of the scene's range

# How far apart the two dates are overall: the spread of their differences (`sample_levels`)
# as a share of the scene's range. Below the first, the dates differ by sensor noise (frames
# seconds apart, the sample site's generated dates: 0.006 to 0.024 measured); beyond the
# second, by season, sun, sensor or processing (real pairs months apart: 0.08 to 0.5).
_CLEAN_PAIR, _DISSIMILAR_PAIR = 0.03, 0.06


def dissimilarity(noise: float, span: float) -> float:
    """How far apart a pair's dates are overall: the noise level over the scene's range.

    Parameters
    ----------
    noise, span : float
        As `sample_levels` returns them.

    Returns
    -------
    float
        0.006 to 0.024 for dates that differ by sensor noise, 0.08 to 0.5 for real pairs
        months apart (see `dissimilarity_weight`).
    """
    return noise / max(span, _MIN_SPREAD)


def dissimilarity_weight(dissimilarity: float) -> float:
    """How much a pair is of the kind whose dates differ by more than noise, 0..1.

    0 for dates that differ by sensor noise (``dissimilarity`` at most 0.03), 1 for dates
    months apart (0.06 and more), linear between. It blends the two regimes of the change
    level (`change_level`) and of the region model's operating point.

    Parameters
    ----------
    dissimilarity : float
        The spread of the differences between the dates over the scene's range.

    Returns
    -------
    float
    """
    share = (dissimilarity - _CLEAN_PAIR) / (_DISSIMILAR_PAIR - _CLEAN_PAIR)
    return float(np.clip(share, 0.0, 1.0))


def change_level(noise: float, otsu: float, span: float, *, bands: int, k: float) -> float:
    """Return the change-vector magnitude that counts as change in a pair.

    Two dates that differ by sensor noise alone (a pair like the sample site's, or frames
    seconds apart) are compared against that noise: ``k`` standard deviations per band, a
    level nuisance rarely reaches. Two dates months apart differ everywhere by more than
    noise (season, sun and shadows, sensor, processing, a pixel of parallax): their spread
    of differences is the nuisance itself and no pixel stands ``k`` of them out. There, the
    pair's own histogram of magnitudes says where the most different pixels begin (Otsu's
    split, never above the noise rule); what they hold is left to the region model. Between
    the two kinds of pair (`dissimilarity_weight`), the levels blend geometrically.

    Parameters
    ----------
    noise : float
        Robust spread of one band's differences between the dates (BEFORE's units).
    otsu : float
        Otsu's threshold of the change-vector magnitudes of a sample of the pair.
    span : float
        The scene's range of values (2nd to 98th percentile of BEFORE).
    bands : int
    k : float
        The noise rule's multiple of the noise.

    Returns
    -------
    float
        In BEFORE's units; at least 3 % of ``span``.
    """
    noise_rule = k * noise * math.sqrt(bands)
    split = min(noise_rule, otsu)
    w = dissimilarity_weight(dissimilarity(noise, span))
    level = noise_rule ** (1.0 - w) * split**w
    return max(level, _MIN_LEVEL_SHARE * span)


def sample_levels(
    pair: AlignedPair, radiometry: Radiometry, spec: Method
) -> tuple[float, float, float]:
    """Measure a pair's sensor-noise level, Otsu threshold and value span on a sample.

    Nine full-resolution windows spread over the overlap are read, AFTER normalised to BEFORE
    (``radiometry``) and, for the robust measure, both smoothed as it smooths.

    Parameters
    ----------
    pair : AlignedPair
    radiometry : Radiometry
        AFTER's normalisation to BEFORE.
    spec : Method
        The detection method (its measure decides the smoothing).

    Returns
    -------
    noise, otsu, span : float
        Robust spread of one band's differences, Otsu's threshold of the change-vector
        magnitudes (both in BEFORE's units) and the scene's range of values (2nd to 98th
        percentile of BEFORE).
    """
    ov = pair.overlap
    size = int(min(256, ov.width, ov.height))
    n = int(math.sqrt(_SAMPLE_WINDOWS))
    xs = np.linspace(ov.col_off, ov.col_off + ov.width - size, n).round().astype(int)
    ys = np.linspace(ov.row_off, ov.row_off + ov.height - size, n).round().astype(int)
    places = [(int(x), int(y)) for y in np.unique(ys) for x in np.unique(xs)]
    workers = max(1, min(current().workers, len(places)))  # no idle thread opens the files

    def sample(part: list[tuple[int, int]]) -> list:
        with pair.open() as datasets:
            return [_sample_window(pair, radiometry, spec, x, y, size, datasets) for x, y in part]

    # every other window per thread, each thread with its own open files
    with thread_pool(workers) as pool:
        parts = list(pool.map(sample, [places[k::workers] for k in range(workers)]))
    samples = [s for part in parts for s in part if s is not None]
    if not samples:
        return 1.0, 1.0, 255.0
    spreads, magnitudes, values = zip(*samples, strict=True)
    noise = float(np.median(np.concatenate(spreads))) * _MAD_TO_SIGMA
    allv = np.concatenate(values)
    span = float(np.percentile(allv, 98) - np.percentile(allv, 2)) or 1.0
    return max(noise, 1e-3 * span), _otsu(np.concatenate(magnitudes)), span


def _sample_window(pair, radiometry, spec, x, y, size, datasets):
    """Band spreads, change magnitudes and BEFORE values of one window (None: too few valid)."""
    b, a, valid = pair.read(Window(x, y, size, size), datasets=datasets)
    valid = erode_valid(valid, VALID_MARGIN_PX)
    if valid.sum() < _MIN_SAMPLE_PX:
        return None
    bf = b.astype(np.float32)
    af = radiometry.apply(a, col_off=x, row_off=y)
    values = bf[:, valid].ravel()[::_VALUE_STRIDE]
    if spec.measure == "robust":
        k = (smoothing_ksize(1.0),) * 2  # as the measure smooths
        bf = np.stack([cv2.GaussianBlur(v, k, 1.0) for v in bf])
        af = np.stack([cv2.GaussianBlur(v, k, 1.0) for v in af])
    d = (af - bf)[:, valid][:, ::_DIFFERENCE_STRIDE]
    spread = np.median(np.abs(d - np.median(d, axis=1)[:, None]), axis=1)
    return spread, cva_magnitude(bf, af)[valid][::_MAGNITUDE_STRIDE], values


def _otsu(values: np.ndarray) -> float:
    top = float(np.percentile(values, 99.9)) or 1.0
    hist, edges = np.histogram(np.clip(values, 0, top), bins=256, range=(0, top))
    p = hist / max(1, hist.sum())
    omega = np.cumsum(p)
    mu = np.cumsum(p * (edges[:-1] + edges[1:]) / 2)
    between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega) + 1e-12)
    return float(edges[int(np.argmax(between)) + 1])
