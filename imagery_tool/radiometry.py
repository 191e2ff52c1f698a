"""Radiometric normalisation of AFTER to BEFORE: gain, offset, gamma, tint and thin haze."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np

from imagery_tool.registration.warp import index_matrix
from imagery_tool.runtime import current, thread_pool

__all__ = ["Radiometry", "fit_radiometry"]

_KNOTS = 101  # quantiles of the global tone mapping


@dataclass(frozen=True)
class Radiometry:
    """A per-band tone mapping followed by smooth local gain/offset fields (haze).

    ``after_normalised = lut(after) * gain(x, y) + offset(x, y)``, in BEFORE's units.

    Attributes
    ----------
    knots_after, knots_before : (B, K) float64 ndarray
        Matching quantiles of AFTER and BEFORE: the monotone global mapping per band,
        linear beyond its first and last knots.
    gain, offset : (B, h, w) float32 ndarray
        Local correction on a reduced grid of BEFORE.
    origin : (float, float)
        BEFORE pixel ``(col, row)`` of the reduced grid's top-left corner.
    step : (float, float)
        BEFORE pixels per reduced-grid pixel.
    """

    knots_after: np.ndarray
    knots_before: np.ndarray
    gain: np.ndarray
    offset: np.ndarray
    origin: tuple[float, float]
    step: tuple[float, float]

    @classmethod
    def identity(cls, bands: int) -> Radiometry:
        """Return the mapping that changes nothing."""
        knots = np.tile(np.array([-_REACH, _REACH]), (bands, 1))
        ones = np.ones((bands, 1, 1), np.float32)
        return cls(knots, knots, ones, ones * 0, (0.0, 0.0), (1e9, 1e9))

    def apply(
        self, after: np.ndarray, *, col_off: float = 0, row_off: float = 0, step: float = 1.0
    ) -> np.ndarray:
        """Normalise a block of AFTER (already on BEFORE's grid).

        Parameters
        ----------
        after : (B, H, W) ndarray
            Any numeric dtype. Not modified.
        col_off, row_off : float
            BEFORE pixel of the block's top-left corner.
        step : float
            BEFORE pixels per block pixel (2 for a block read at half resolution).

        Returns
        -------
        (B, H, W) float32 ndarray
            In BEFORE's units; never negative when AFTER's dtype is unsigned (a straight tone
            curve may reach below zero, light does not).
        """
        bands, h, w = after.shape
        m = index_matrix(
            np.eye(3),
            dst_origin=(float(col_off), float(row_off)),
            dst_step=(float(step), float(step)),
            src_origin=self.origin,
            src_step=self.step,
        )
        out = np.empty((bands, h, w), dtype=np.float32)
        for b in range(bands):
            ka, kb = self.knots_after[b], self.knots_before[b]
            if after.dtype == np.uint8:
                lut = np.interp(np.arange(256), ka, kb).astype(np.float32)
                cv2.LUT(after[b], lut.reshape(1, 256), dst=out[b])
            else:
                out[b] = np.interp(after[b].astype(np.float32), ka, kb)
            cv2.multiply(out[b], _field(self.gain[b], m, (h, w)), dst=out[b])
            cv2.add(out[b], _field(self.offset[b], m, (h, w)), dst=out[b])
            if after.dtype.kind == "u":
                cv2.max(out[b], 0.0, dst=out[b])
        return out


_FIELD_STEP = 4  # block pixels between the samples of a local field before upsampling


def _field(field: np.ndarray, m: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Sample a smooth field on a block of ``shape`` through the index mapping ``m``.

    The fields vary over hundreds of pixels: they are sampled every `_FIELD_STEP` pixels and
    upsampled bilinearly, 20 times faster than warping every pixel and within a few hundredths
    of a grey level of it.
    """
    if field.shape == (1, 1):
        return np.full(shape, field[0, 0], dtype=np.float32)
    s = _FIELD_STEP
    h, w = -(-shape[0] // s) + 2, -(-shape[1] // s) + 2
    # coarse sample j sits where cv2.resize then puts it, at block pixel s * (j - 1) + (s - 1) / 2;
    # one sample beyond each edge so that the edges are interpolated, not clamped
    start = (s - 1) / 2 - s
    to_block = np.array([[s, 0.0, start], [0.0, s, start], [0.0, 0.0, 1.0]])
    coarse = cv2.warpAffine(
        field,
        (np.vstack([m, [0.0, 0.0, 1.0]]) @ to_block)[:2],
        (w, h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    full = cv2.resize(coarse, (w * s, h * s), interpolation=cv2.INTER_LINEAR)
    return full[s : s + shape[0], s : s + shape[1]]


def fit_radiometry(
    before: np.ndarray,
    after: np.ndarray,
    valid: np.ndarray,
    *,
    origin: tuple[float, float],
    step: tuple[float, float],
    sigma_px: float = 150.0,
    local: bool = True,
) -> Radiometry:
    """Fit the normalisation of AFTER to BEFORE on a reduced level of both (same grid).

    Only pixels whose local structure is the same in both dates (`invariant_pixels`) are
    matched: a field that turned brown, a new roof or a flooded meadow would otherwise pull
    the whole scene's colours towards them, and hide themselves. On those pixels a
    quantile-matching tone curve per band absorbs gain, offset, gamma and tint (extended
    linearly beyond the range they cover), and local gain and offset fields, fitted by
    Gaussian-weighted regression on the ones that agree (iterated), absorb haze that varies
    across the scene; where few invariant pixels lie, the fields fade to the global curve.
    With too few invariant pixels in all (a pair that changed nearly everywhere, or two
    dates too unlike to compare structure), nothing is normalised: the pair's own
    radiometry is then the better guess.

    Parameters
    ----------
    before, after : (B, h, w) ndarray
        The reduced level, AFTER already on BEFORE's grid. Not modified.
    valid : (h, w) bool ndarray
        Valid in both.
    origin, step : (float, float)
        Place of the reduced grid on BEFORE's full grid (see `Radiometry`).
    sigma_px : float
        Scale of the local fields, in full-resolution pixels.
    local : bool
        Fit the local fields (else the tone curve only).

    Returns
    -------
    Radiometry
    """
    bands = before.shape[0]
    invariant = invariant_pixels(before, after, valid)
    count = int(invariant.sum())
    if count < max(_MIN_INVARIANT, _MIN_INVARIANT_SHARE * int(valid.sum())):
        return Radiometry.identity(bands)
    stride = max(1, count // 200_000)  # quantiles from a sample: enough and fast
    b_inv = before[:, invariant][:, ::stride].astype(np.float32)
    a_inv = after[:, invariant][:, ::stride].astype(np.float32)
    h, w = valid.shape
    sigma = max(1.0, sigma_px / max(step))  # in reduced-level pixels
    cell = max(1.0, sigma / 4.0)  # the fields live on a grid of sigma / 4
    fh, fw = max(1, round(h / cell)), max(1, round(w / cell))
    gain = np.ones((bands, fh, fw), np.float32)
    offset = np.zeros((bands, fh, fw), np.float32)
    # bands one per thread (NumPy and OpenCV release the interpreter lock): this fit is part
    # of detection's serial start
    with thread_pool(min(bands, current().workers)) as pool:
        knots = list(pool.map(_tone_knots, a_inv, b_inv))
        knots_a = np.stack([ka for ka, _ in knots])
        knots_b = np.stack([kb for _, kb in knots])
        if local:
            mapped = list(pool.map(_tone_map, after, knots_a, knots_b))
            ref = before.astype(np.float32)
            span = float(np.percentile(b_inv, 98) - np.percentile(b_inv, 2)) or 1.0
            lam = (0.05 * span) ** 2
            weight = invariant.astype(np.float32)
            for _ in range(3):
                fit = partial(
                    _fit_band, weight=weight, valid=invariant, stride=stride,
                    shape=(fh, fw), sigma=sigma / cell, lam=lam,
                )  # fmt: skip
                fits = list(pool.map(fit, mapped, ref))
                gain = np.stack([band_gain for band_gain, _, _ in fits])
                offset = np.stack([band_offset for _, band_offset, _ in fits])
                agree = np.logical_and.reduce([ok for _, _, ok in fits])
                weight = (invariant & agree).astype(np.float32)
    field_step = (step[0] * w / fw, step[1] * h / fh)
    return Radiometry(knots_a, knots_b, gain, offset, origin, field_step)


_MIN_INVARIANT = 200  # pixels of the reduced level: fewer, and the pair is not normalised
_MIN_INVARIANT_SHARE = 0.002  # likewise, as a share of the valid pixels
_INVARIANT_NCC = 0.7  # local correlation of both dates' structure that marks a pixel invariant


def invariant_pixels(before: np.ndarray, after: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Pixels whose neighbourhood shows the same structure in both dates.

    The normalised cross-correlation of 15 x 15 neighbourhoods of the grey images is at least
    0.7: the same texture, whatever the gain, offset or haze. Selected by structure, not by
    colour, so that a surface that changed colour (a new roof, a field turned brown) is not
    taken for unchanged however close its new colour happens to be, and a surface that kept
    its structure under another light is.

    Parameters
    ----------
    before, after : (B, h, w) ndarray
        Both dates on one grid.
    valid : (h, w) bool ndarray

    Returns
    -------
    (h, w) bool ndarray
    """
    gb = before.astype(np.float32).mean(axis=0)
    ga = after.astype(np.float32).mean(axis=0)
    k = (15, 15)
    mb, ma = cv2.blur(gb, k), cv2.blur(ga, k)
    vb = cv2.blur(gb * gb, k) - mb * mb
    va = cv2.blur(ga * ga, k) - ma * ma
    cov = cv2.blur(gb * ga, k) - mb * ma
    # flat ground (a variance near the quantisation noise's) has no structure to compare
    span = float(np.percentile(gb[valid], 98) - np.percentile(gb[valid], 2)) if valid.any() else 1.0
    eps = (0.01 * (span or 1.0)) ** 2
    ncc = cov / np.sqrt((np.maximum(vb, 0) + eps) * (np.maximum(va, 0) + eps))
    eroded = cv2.erode(valid.view(np.uint8), np.ones(k, np.uint8)).astype(bool)
    return (ncc >= _INVARIANT_NCC) & eroded


def _tone_knots(after: np.ndarray, before: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit a straight tone curve to one band's spread and median: ``(knots_a, knots_b)``.

    The gain matches the 10th-90th percentile spreads (between 0.5 and 2), the offset the
    medians: two robust figures, where a curve through every quantile of a few thousand
    invariant pixels (often edges and shadows, not a fair sample of the scene) bends with
    their quirks and darkens or brightens half the scene.
    """
    qa = np.percentile(_dequantised(after), (10.0, 50.0, 90.0))
    qb = np.percentile(_dequantised(before), (10.0, 50.0, 90.0))
    gain = float(np.clip((qb[2] - qb[0]) / max(qa[2] - qa[0], 1e-9), 0.5, 2.0))
    offset = float(qb[1] - gain * qa[1])
    ka = np.array([-_REACH, _REACH])
    return ka, gain * ka + offset


def _dequantised(values: np.ndarray) -> np.ndarray:
    """Integer-valued samples spread uniformly over their quantisation step.

    Percentiles of integers are integers: on a 20-level spread the ratio of two of them is
    off by up to 5 %. Deterministic (a fixed generator), so that a fit is reproducible.
    """
    if not np.array_equal(values[:1000], np.round(values[:1000])):
        return values
    jitter = np.random.default_rng(0).uniform(-0.5, 0.5, values.shape).astype(np.float32)
    return values + jitter


_REACH = 1e9  # the straight ends of a tone curve reach this far beyond its matched range


def _tone_map(band: np.ndarray, knots_a: np.ndarray, knots_b: np.ndarray) -> np.ndarray:
    """One band through the tone mapping, as float32 (a lookup table for 8-bit bands)."""
    if band.dtype == np.uint8:
        lut = np.interp(np.arange(256), knots_a, knots_b).astype(np.float32)
        return cv2.LUT(band, lut.reshape(1, 256))
    return np.interp(band.astype(np.float32), knots_a, knots_b).astype(np.float32)


def _fit_band(mapped, ref, *, weight, valid, stride, shape, sigma, lam):
    """Fit one band's local fields; return ``(gain, offset, where the band agrees)``."""
    gain, offset = _local_fit(mapped, ref, weight, shape, sigma, lam)
    h, w = mapped.shape
    full_gain = cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR)
    full_offset = cv2.resize(offset, (w, h), interpolation=cv2.INTER_LINEAR)
    residual = ref - (mapped * full_gain + full_offset)
    scale = 1.4826 * np.median(np.abs(residual[valid][::stride])) + 1e-3
    return gain, offset, np.abs(residual) < 3 * scale


def _local_fit(x, y, weight, shape, sigma, lam):
    """Gaussian-weighted linear fit y ~ gain * x + offset on a reduced grid of ``shape``."""

    def blur(v):
        small = cv2.resize(v, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)

    sw = blur(weight) + 1e-6
    mx = blur(weight * x) / sw
    my = blur(weight * y) / sw
    vxx = blur(weight * x * x) / sw - mx * mx
    vxy = blur(weight * x * y) / sw - mx * my
    gain = np.clip((vxy + lam) / (vxx + lam), 0.5, 2.0)
    offset = my - gain * mx
    # where few invariant pixels lie, the fit fades to the global curve (gain 1, offset 0)
    trust = sw / (sw + _FIELD_SUPPORT)
    gain = trust * gain + (1.0 - trust)
    offset = trust * offset
    return gain.astype(np.float32), offset.astype(np.float32)


_FIELD_SUPPORT = 0.2  # share of invariant pixels around a place at which its field is half trusted
