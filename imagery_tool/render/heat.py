"""Change heat overlay: where AFTER differs from BEFORE, as a translucent warm colour ramp."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["HEAT_RAMP", "change_heat", "overlay_heat"]

# Anchor colours of the ramp at heat 0.4, 0.55, 0.75 and 1.0: one magenta hue growing more
# opaque and saturated, which stays readable over white aircraft and dark shadows alike (a
# multi-hue ramp blends into muddy olive over dark paint) and is not confused with the class
# or change colours.
HEAT_RAMP = np.array(
    [[0.4, 215, 60, 160], [0.55, 225, 30, 150], [0.75, 235, 0, 140], [1.0, 245, 0, 130]]
)


def _grey(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def change_heat(
    before: np.ndarray, after: np.ndarray, valid: np.ndarray, *, blur_px: float = 2.0
) -> np.ndarray:
    """How much AFTER differs from BEFORE at each pixel, 0..1.

    Both brightness images are normalised to zero mean and unit spread over the common valid
    pixels (so that a uniformly brighter date is no change), their absolute difference is
    smoothed, and scaled so that 1 is a difference of 4 spreads.

    Parameters
    ----------
    before, after : (H, W, 3) uint8 ndarray
        The two panels on the same grid.
    valid : (H, W) bool ndarray
        Where both have data.
    blur_px : float
        Gaussian smoothing sigma in output pixels.

    Returns
    -------
    (H, W) float32 ndarray
        In [0, 1]; 0 outside ``valid``.
    """
    a, b = _grey(before), _grey(after)
    if valid.sum() < 16:
        return np.zeros(valid.shape, dtype=np.float32)
    za = (a - a[valid].mean()) / max(float(a[valid].std()), 1e-3)
    zb = (b - b[valid].mean()) / max(float(b[valid].std()), 1e-3)
    diff = np.abs(zb - za).astype(np.float32)
    diff[~valid] = 0
    if blur_px > 0:
        diff = cv2.GaussianBlur(diff, (0, 0), blur_px)
    heat = np.clip(diff / 4.0, 0.0, 1.0)
    heat[~valid] = 0
    return heat


def overlay_heat(rgb: np.ndarray, heat: np.ndarray, *, opacity: float = 0.7) -> np.ndarray:
    """Blend the heat ramp over a picture; weak heat (< 0.4: texture, misregistration) stays clear.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 ndarray
        The picture (not modified).
    heat : (H, W) float ndarray
        0..1, from `change_heat`.
    opacity : float
        Opacity at full heat.

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    h = np.clip(heat, 0, 1).astype(np.float32)
    xs = HEAT_RAMP[:, 0]
    colour = np.stack([np.interp(h, xs, HEAT_RAMP[:, k]) for k in (1, 2, 3)], axis=-1)
    alpha = (np.where(h >= 0.4, 0.35 + 0.65 * np.clip((h - 0.4) / 0.35, 0, 1), 0) * opacity)[
        ..., None
    ]
    out = rgb.astype(np.float32) * (1 - alpha) + colour.astype(np.float32) * alpha
    return np.round(out).astype(np.uint8)
