"""Radiometric normalisation of AFTER to BEFORE: gain, offset, gamma, tint and thin haze."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from imagery_tool.registration.warp import index_matrix

__all__ = ["Radiometry", "fit_radiometry"]

_KNOTS = 101  # quantiles of the global tone mapping


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
    q = np.linspace(0.0, 100.0, _KNOTS)
    stride = max(1, int(valid.sum()) // 200_000)  # quantiles from a sample: enough and fast
    b_valid = before[:, valid][:, ::stride].astype(np.float32)
    a_valid = after[:, valid][:, ::stride].astype(np.float32)
    knots_a = np.empty((bands, _KNOTS), np.float32)
    knots_b = np.empty((bands, _KNOTS), np.float32)
    for k in range(bands):
        ka = np.percentile(a_valid[k], q)
        kb = np.percentile(b_valid[k], q)
        ka, idx = np.unique(ka, return_index=True)  # strictly increasing for interpolation
        kb = kb[idx]
        if len(ka) > 1 and ka[0] >= 0 and ka[1] > 0 and kb[1] > 0:
            # below the first percentile lie the shadows, too few to match and unlike in both
            # dates: they scale with the light (a shadow keeps its depth and its tint)
            ka[0], kb[0] = 0.0, 0.0
        ka = np.pad(ka, (0, _KNOTS - len(ka)), mode="edge")
        kb = np.pad(kb, (0, _KNOTS - len(kb)), mode="edge")
        knots_a[k], knots_b[k] = ka, kb
    h, w = valid.shape
    sigma = max(1.0, sigma_px / max(step))  # in reduced-level pixels
    cell = max(1.0, sigma / 4.0)  # the fields live on a grid of sigma / 4
    fh, fw = max(1, round(h / cell)), max(1, round(w / cell))
    gain = np.ones((bands, fh, fw), np.float32)
    offset = np.zeros((bands, fh, fw), np.float32)
    if local:
        mapped = np.stack(
            [np.interp(after[k].astype(np.float32), knots_a[k], knots_b[k]) for k in range(bands)]
        ).astype(np.float32)
        ref = before.astype(np.float32)
        span = float(np.percentile(b_valid, 98) - np.percentile(b_valid, 2)) or 1.0
        lam = (0.05 * span) ** 2
        weight = valid.astype(np.float32)
        for _ in range(3):
            full_gain = np.empty_like(mapped)
            full_offset = np.empty_like(mapped)
            for k in range(bands):
                gain[k], offset[k] = _local_fit(
                    mapped[k], ref[k], weight, (fh, fw), sigma / cell, lam
                )
                full_gain[k] = cv2.resize(gain[k], (w, h), interpolation=cv2.INTER_LINEAR)
                full_offset[k] = cv2.resize(offset[k], (w, h), interpolation=cv2.INTER_LINEAR)
            residual = ref - (mapped * full_gain + full_offset)
            spread = np.abs(residual[:, valid][:, ::stride])
            scale = 1.4826 * np.median(spread, axis=1) + 1e-3
            ok = np.all(np.abs(residual) < 3 * scale[:, None, None], axis=0)
            weight = (valid & ok).astype(np.float32)
    field_step = (step[0] * w / fw, step[1] * h / fh)
    return Radiometry(knots_a, knots_b, gain, offset, origin, field_step)


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
