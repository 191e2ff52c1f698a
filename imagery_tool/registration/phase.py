"""Sub-pixel shifts between image windows by phase correlation of their gradient magnitude."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

__all__ = [
    "MIN_RESPONSE",
    "bounded_phase_shift",
    "gradient_magnitude",
    "grey",
    "grid_centres",
    "phase_shift",
    "windowed_spectrum",
]

MIN_RESPONSE = 0.02  # phase-correlation peak below this: the window is not trusted


def grid_centres(width: int, height: int, size: int, n: int) -> list[tuple[int, int]]:
    """Up to ``n`` x ``n`` window centres (integers) keeping whole windows inside the image."""
    half = size // 2
    xs = np.unique(np.linspace(half, width - half, n).round().astype(int))
    ys = np.unique(np.linspace(half, height - half, n).round().astype(int))
    return [(int(x), int(y)) for y in ys for x in xs]


def grey(pixels: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Mean of the bands as float32, invalid pixels filled with the valid mean.

    Parameters
    ----------
    pixels : (B, H, W) ndarray
        Any numeric dtype.
    valid : (H, W) bool ndarray, optional

    Returns
    -------
    (H, W) float32 ndarray
    """
    out = pixels.astype(np.float32).mean(axis=0)
    if valid is not None and not valid.all():
        fill = float(out[valid].mean()) if valid.any() else 0.0
        out[~valid] = fill
    return out


def gradient_magnitude(image: np.ndarray, *, sigma: float = 1.0) -> np.ndarray:
    """Gradient magnitude of a lightly smoothed image (edges survive gain and haze changes).

    Returns
    -------
    (H, W) float32 ndarray
    """
    smooth = cv2.GaussianBlur(image, (0, 0), sigma) if sigma > 0 else image
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)  # cv2.magnitude's last bits vary between calls


@lru_cache(maxsize=8)
def _hann(height: int, width: int) -> np.ndarray:
    return cv2.createHanningWindow((width, height), cv2.CV_32F)


def windowed_spectrum(image: np.ndarray) -> np.ndarray:
    """Spectrum of an image under the Hann window, as phase correlation takes its reference.

    Compute it once for a reference compared with several moving images (the
    ``reference_spectrum`` of `phase_shift` and `bounded_phase_shift`).

    Returns
    -------
    (H, W // 2 + 1) complex ndarray
    """
    h, w = image.shape
    return np.fft.rfft2(image * _hann(h, w))


def phase_shift(
    reference: np.ndarray, moving: np.ndarray, *, reference_spectrum: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Shift of ``moving`` relative to ``reference`` by phase correlation (Hann window).

    Computed with NumPy's FFT rather than ``cv2.phaseCorrelate``, whose result varies in the
    last bits from call to call; same estimator (5 x 5 weighted centroid around the peak).

    Parameters
    ----------
    reference, moving : (H, W) float32 ndarray
        Same shape; usually gradient magnitudes.
    reference_spectrum : complex ndarray, optional
        ``windowed_spectrum(reference)``, when already computed.

    Returns
    -------
    dx, dy : float
        Content at ``(x, y)`` in ``reference`` lies at ``(x + dx, y + dy)`` in ``moving``.
    response : float
        Share of the correlation in the 5 x 5 peak (about 1 for a clean match, ~0 for
        unrelated images).
    """
    h, w = reference.shape
    return bounded_phase_shift(
        reference, moving, max_shift=max(h, w), reference_spectrum=reference_spectrum
    )


def bounded_phase_shift(
    reference: np.ndarray,
    moving: np.ndarray,
    *,
    max_shift: float,
    reference_spectrum: np.ndarray | None = None,
) -> tuple[float, float, float]:
    """Phase correlation whose peak is searched only within ``max_shift`` pixels.

    Used for the first, whole-image estimate, where an unbounded search can lock onto a
    periodic pattern far away.

    Returns
    -------
    dx, dy, response : float
        As `phase_shift`.
    """
    h, w = reference.shape
    fa = windowed_spectrum(reference) if reference_spectrum is None else reference_spectrum
    fb = np.fft.rfft2(moving * _hann(h, w))
    cross = fb * np.conj(fa)
    cross /= np.abs(cross) + 1e-12
    corr = np.fft.fftshift(np.fft.irfft2(cross, s=(h, w)))
    cy, cx = h // 2, w // 2
    r = int(max(1, min(max_shift, cy - 3, cx - 3)))
    sub = corr[cy - r : cy + r + 1, cx - r : cx + r + 1]
    py, px = np.unravel_index(int(np.argmax(sub)), sub.shape)
    py, px = int(py) + cy - r, int(px) + cx - r
    patch = np.clip(corr[py - 2 : py + 3, px - 2 : px + 3], 0.0, None)
    total = float(patch.sum())
    if total <= 0:
        return float(px - cx), float(py - cy), 0.0
    ox = _parabola(corr[py, px - 1], corr[py, px], corr[py, px + 1])
    oy = _parabola(corr[py - 1, px], corr[py, px], corr[py + 1, px])
    return px - cx + ox, py - cy + oy, total


def _parabola(left: float, centre: float, right: float) -> float:
    """Sub-pixel offset of the vertex of the parabola through three samples."""
    denom = left - 2.0 * centre + right
    if denom >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))
