"""Radiometric normalisation of AFTER to BEFORE: gain, offset, gamma, tint and thin haze."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np

from imagery_tool.registration.warp import index_matrix
from imagery_tool.threads import DEFAULT_THREADS

__all__ = ["Radiometry", "fit_radiometry"]

_KNOTS = 101  # quantiles of the global tone mapping
_WORKERS = DEFAULT_THREADS  # threads over the bands of a fit


@dataclass(frozen=True)
class Radiometry:
    """A per-band tone mapping followed by smooth local gain/offset fields (haze).

    ``after_normalised = lut(after) * gain(x, y) + offset(x, y)``, in BEFORE's units.

    Attributes
    ----------
    knots_after, knots_before : (B, K) float32 ndarray
        Matching quantiles of AFTER and BEFORE: the monotone global mapping per band.
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
        knots = np.tile(np.array([-1e9, 1e9], dtype=np.float32), (bands, 1))
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
            In BEFORE's units.
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

    A quantile-matching tone curve per band absorbs gain, offset, gamma and tint; then local
    gain and offset fields, fitted by Gaussian-weighted regression on the pixels that agree
    (likely no change, iterated), absorb haze that varies across the scene.

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
    stride = max(1, int(valid.sum()) // 200_000)  # quantiles from a sample: enough and fast
    b_valid = before[:, valid][:, ::stride].astype(np.float32)
    a_valid = after[:, valid][:, ::stride].astype(np.float32)
    h, w = valid.shape
    sigma = max(1.0, sigma_px / max(step))  # in reduced-level pixels
    cell = max(1.0, sigma / 4.0)  # the fields live on a grid of sigma / 4
    fh, fw = max(1, round(h / cell)), max(1, round(w / cell))
    gain = np.ones((bands, fh, fw), np.float32)
    offset = np.zeros((bands, fh, fw), np.float32)
    # bands one per thread (NumPy and OpenCV release the interpreter lock): this fit is part
    # of detection's serial start
    with ThreadPoolExecutor(max_workers=min(bands, _WORKERS)) as pool:
        knots = list(pool.map(_tone_knots, a_valid, b_valid))
        knots_a = np.stack([ka for ka, _ in knots])
        knots_b = np.stack([kb for _, kb in knots])
        if local:
            mapped = list(pool.map(_tone_map, after, knots_a, knots_b))
            ref = before.astype(np.float32)
            span = float(np.percentile(b_valid, 98) - np.percentile(b_valid, 2)) or 1.0
            lam = (0.05 * span) ** 2
            weight = valid.astype(np.float32)
            for _ in range(3):
                fit = partial(
                    _fit_band, weight=weight, valid=valid, stride=stride,
                    shape=(fh, fw), sigma=sigma / cell, lam=lam,
                )  # fmt: skip
                fits = list(pool.map(fit, mapped, ref))
                gain = np.stack([band_gain for band_gain, _, _ in fits])
                offset = np.stack([band_offset for _, band_offset, _ in fits])
                agree = np.logical_and.reduce([ok for _, _, ok in fits])
                weight = (valid & agree).astype(np.float32)
    field_step = (step[0] * w / fw, step[1] * h / fh)
    return Radiometry(knots_a, knots_b, gain, offset, origin, field_step)


def _tone_knots(after: np.ndarray, before: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Match the quantiles of one band's AFTER and BEFORE samples: ``(knots_a, knots_b)``."""
    q = np.linspace(0.0, 100.0, _KNOTS)
    ka = np.percentile(after, q)
    kb = np.percentile(before, q)
    ka, idx = np.unique(ka, return_index=True)  # strictly increasing for interpolation
    kb = kb[idx]
    if len(ka) > 1 and ka[0] >= 0 and ka[1] > 0 and kb[1] > 0:
        # below the first percentile lie the shadows, too few to match and unlike in both
        # dates: they scale with the light (a shadow keeps its depth and its tint)
        ka[0], kb[0] = 0.0, 0.0
    ka = np.pad(ka, (0, _KNOTS - len(ka)), mode="edge")
    kb = np.pad(kb, (0, _KNOTS - len(kb)), mode="edge")
    return ka.astype(np.float32), kb.astype(np.float32)


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
    gain = np.clip((vxy + lam) / (vxx + lam), 0.5, 2.0).astype(np.float32)
    offset = (my - gain * mx).astype(np.float32)
    return gain, offset
