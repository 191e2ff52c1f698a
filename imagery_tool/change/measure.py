"""Per-pixel change measures: robust (illumination-, shadow- and haze-aware) and plain CVA."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["ChangeMaps", "cva_magnitude", "erode_valid", "robust_change", "smoothing_ksize"]


@dataclass
class ChangeMaps:
    """What a measure found in one block.

    Attributes
    ----------
    mask : (H, W) bool ndarray
        Pixels of changed objects (not yet cleaned nor merged).
    shadow : (H, W) bool ndarray or None
        Changed pixels that look like a cast shadow coming or going: they join an object
        but never make one alone.
    strength : (H, W) float32 ndarray
        Change magnitude in units of the threshold (1.0 = at the threshold).
    before_grey, after_grey : (H, W) float32 ndarray
        Smoothed grey images of both dates (for region tests).
    before, after : (B, H, W) float32 ndarray
        Smoothed bands of both dates.
    """

    mask: np.ndarray
    shadow: np.ndarray | None
    strength: np.ndarray
    before_grey: np.ndarray
    after_grey: np.ndarray
    before: np.ndarray
    after: np.ndarray


_FILTER_DTYPES = (np.uint8, np.uint16, np.int16, np.float32)  # cv2 filters these to float32


def erode_valid(valid: np.ndarray, px: int) -> np.ndarray:
    """Shrink a validity mask by ``px`` pixels, the window's own edges included.

    Pixels that near nodata or the edge of what was read are left out of the measures: their
    filters would see past it.

    Parameters
    ----------
    valid : (H, W) bool ndarray
        True = data.
    px : int
        Pixels removed on every side.

    Returns
    -------
    (H, W) bool ndarray
    """
    if valid.all():
        out = np.zeros_like(valid)
        out[px:-px, px:-px] = True
        return out
    return cv2.erode(valid.view(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)).astype(bool)


def smoothing_ksize(sigma: float) -> int:
    """Side of the Gaussian kernel of the change measure: 3 sigma each side (7 for 1 px).

    Pass it to ``cv2.GaussianBlur`` to smooth as the measure does (OpenCV would size a float
    image's kernel at 4 sigma each side, 2 more taps for 0.03 % of the weight).
    """
    return 2 * round(3 * sigma) + 1


def _smooth(bands: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of each band to float32, straight from any input dtype.

    The kernel reaches 3 sigma each side (99.7 % of the weight), as ``cv2.GaussianBlur`` sizes
    it for 8-bit images (`smoothing_ksize`); from uint8 it saves converting the bands first.
    Other dtypes are converted to float32.
    """
    if bands.dtype not in _FILTER_DTYPES:
        bands = bands.astype(np.float32)
    ksize = smoothing_ksize(sigma)
    kernel = cv2.getGaussianKernel(ksize, sigma, cv2.CV_32F)
    out = np.empty(bands.shape, np.float32)
    for band, dst in zip(bands, out, strict=True):
        cv2.sepFilter2D(band, cv2.CV_32F, kernel, kernel, dst=dst)
    return out


def cva_magnitude(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Change-vector magnitude: Euclidean norm of the band differences.

    Parameters
    ----------
    before, after : (B, H, W) float32 ndarray

    Returns
    -------
    (H, W) float32 ndarray
    """
    # in place, and the first band's square written straight into the sum: fresh block-sized
    # arrays cost page faults, and 0 + x is x
    total = np.empty(before.shape[1:], np.float32)
    d = np.empty_like(total)
    for k, (b, a) in enumerate(zip(before, after, strict=True)):
        square = total if k == 0 else d
        cv2.subtract(a, b, dst=square)
        cv2.multiply(square, square, dst=square)
        if k:
            cv2.add(total, d, dst=total)
    return cv2.sqrt(total, dst=total)


def robust_change(
    before: np.ndarray,
    after: np.ndarray,
    valid: np.ndarray,
    *,
    threshold: float,
    noise: float,
    ncc_max: float = 0.55,
    scale_tol: float = 0.5,
    shadow_depth: float = 0.3,
    shadow_blue: float = 0.08,
    sigma: float = 1.0,
    grow: float = 0.8,
) -> ChangeMaps:
    """Change that is neither noise, nor a tone change of the same structure, nor a shadow.

    A pixel changes when (1) the change vector of the smoothed, normalised bands exceeds
    ``threshold``, or ``grow`` times it where it joins such pixels; (2) the local structure is
    not preserved: the normalised cross-correlation of 7 x 7 neighbourhoods of both dates is
    below ``ncc_max``, or their contrast does not follow their brightness: the log ratio of the
    local standard deviations departs from the log ratio of the local means by ``scale_tol`` or
    more (a shadow or a new sun angle over textured ground scales the texture with the light, it
    does not replace it; a dark vehicle parked over a faint panel joint correlates with it but
    is far more contrasted); and (3) it is not a cast shadow coming or going: a darkening deeper
    than ``shadow_depth`` (natural log) in which the blue band darkens less than the red one
    (shadows are lit by the blue sky), by at least ``shadow_blue`` of the depth.

    Parameters
    ----------
    before, after : (B, H, W) uint8 or float32 ndarray
        BEFORE and normalised AFTER on one grid, in BEFORE's units.
    valid : (H, W) bool ndarray
    threshold : float
        Change-vector magnitude that counts as change, in BEFORE's units.
    noise : float
        Sensor noise standard deviation (regularises the correlation on flat ground).
    grow : float
        Pixels joined to change above ``threshold`` belong to it down to this share of it
        (hysteresis).

    Returns
    -------
    ChangeMaps
    """
    sb = _smooth(before, sigma)
    sa = _smooth(after, sigma)
    strength = cva_magnitude(sb, sa)
    strength *= np.float32(1.0 / threshold)  # in place: the magnitude itself is not kept
    gb = _grey(sb)
    ga = _grey(sa)
    candidate = (strength > grow) & valid
    mask = np.zeros(valid.shape, dtype=bool)
    shadow_mask = np.zeros(valid.shape, dtype=bool)
    if candidate.any():
        candidate &= ~_structure_kept(
            gb, ga, candidate, eps=(2.0 * noise) ** 2, ncc_max=ncc_max, scale_tol=scale_tol
        )
        if before.shape[0] >= 3 and candidate.any():
            # flat indexes, in the same (row-major) order: np.nonzero of a 2-D mask is several
            # times slower than np.flatnonzero
            at = np.flatnonzero(candidate)
            h, w = candidate.shape
            flat_a, flat_b = sa[:3].reshape(3, h * w), sb[:3].reshape(3, h * w)
            offset = np.float32(max(2.0 * noise, 1.0))
            logs = np.log((flat_a[:, at] + offset) / (flat_b[:, at] + offset))
            depth = -logs.mean(axis=0)
            blue_excess = (logs[2] - logs[0]) * np.sign(depth)
            shadow = (np.abs(depth) > shadow_depth) & (blue_excess > shadow_blue * np.abs(depth))
            np.put(candidate, at[shadow], False)
            np.put(shadow_mask, at[shadow], True)
        mask, shadow_mask = _seeded(candidate, shadow_mask, strength > 1.0)
    return ChangeMaps(mask, shadow_mask, strength, gb, ga, sb, sa)


def _seeded(mask: np.ndarray, shadow: np.ndarray, seeds: np.ndarray):
    """Keep the connected parts of change (and shadow) that hold a pixel above the level.

    Hysteresis, as Canny's edges: an object's pixels are those joined to clearly changed
    ones, down to the weaker growing level, so that a new roof is found to its true extent
    where parts of it change less; weak change that joins nothing clear is not kept.
    """
    joined = mask | shadow
    if not joined.any():
        return mask, shadow
    try:  # 16-bit labels when they fit: OpenCV labels a block three times faster so
        count, labels = cv2.connectedComponents(
            joined.view(np.uint8), connectivity=8, ltype=cv2.CV_16U
        )
    except cv2.error:
        count, labels = cv2.connectedComponents(joined.view(np.uint8), connectivity=8)
    seeded = np.zeros(count, bool)
    seeded[labels[seeds & joined]] = True
    if seeded[1:].all():
        return mask, shadow  # every part holds clear change
    seeded[0] = False
    keep = seeded[labels]
    return mask & keep, shadow & keep


def _grey(bands: np.ndarray) -> np.ndarray:
    total = bands[0].copy() if len(bands) == 1 else cv2.add(bands[0], bands[1])
    for band in bands[2:]:
        cv2.add(total, band, dst=total)
    total *= np.float32(1.0 / len(bands))
    return total


_CELL = 16  # px: the structure test's filters run on the boxes of groups of such cells


def _structure_kept(gb, ga, candidate, *, eps: float, ncc_max: float, scale_tol: float):
    """Mark candidates that keep their local structure (NCC >= ncc_max, contrast ~ light)."""
    at, ncc, scale = _candidate_ncc(gb, ga, candidate, eps=eps)
    kept = np.zeros_like(candidate)
    np.put(kept, at[(ncc >= ncc_max) & (np.abs(scale) < scale_tol)], True)
    return kept


def _candidate_ncc(gb, ga, candidate, *, eps: float):
    """`_local_ncc` at the candidates: ``(flat indexes, ncc, scale)``, box by box.

    The neighbourhood sums are box filters (OpenCV, without the interpreter lock: two workers
    run them side by side), run only on the boxes around groups of 16 px cells that hold
    candidates, a quarter of a block, plus the filter's reach; the ratios are taken only at
    the candidates, a few per cent of the pixels. The values are those of the whole block:
    the filter's running sums are kept in double precision, where sums of float32 values are
    exact whatever pixel they start from. A candidate in two boxes comes twice, alike.
    """
    h, w = candidate.shape
    reach = 3  # half the 7 px neighbourhood
    parts = [(np.zeros(0, np.intp), np.zeros(0, np.float32), np.zeros(0, np.float32))]
    for r0, r1, c0, c1 in _candidate_boxes(candidate, _CELL):
        a0, a1 = max(0, r0 - reach), min(h, r1 + reach)
        b0, b1 = max(0, c0 - reach), min(w, c1 + reach)
        # the candidates of the box itself: the reach around it holds their neighbourhoods
        inner = np.zeros((a1 - a0, b1 - b0), bool)
        inner[r0 - a0 : r1 - a0, c0 - b0 : c1 - b0] = candidate[r0:r1, c0:c1]
        local = np.flatnonzero(inner)
        ncc, scale = _local_ncc(gb[a0:a1, b0:b1], ga[a0:a1, b0:b1], local, eps=eps)
        rows, cols = np.divmod(local, b1 - b0)
        parts.append(((rows + a0) * w + cols + b0, ncc, scale))
    at, ncc, scale = (np.concatenate(values) for values in zip(*parts, strict=True))
    return at, ncc, scale


def _candidate_boxes(candidate: np.ndarray, cell: int):
    """``(r0, r1, c0, c1)`` of the boxes around 8-connected groups of cells holding candidates."""
    h, w = candidate.shape
    gh, gw = -(-h // cell), -(-w // cell)
    padded = np.zeros((gh * cell, gw * cell), np.uint8)
    padded[:h, :w] = candidate
    held = padded.reshape(gh, cell, gw * cell).max(axis=1).reshape(gh, gw, cell).max(axis=2)
    count, _, stats, _ = cv2.connectedComponentsWithStats(held, connectivity=8)
    for x, y, bw, bh, _ in stats[1:count]:
        yield y * cell, min(h, (y + bh) * cell), x * cell, min(w, (x + bw) * cell)


def _local_ncc(
    x: np.ndarray, y: np.ndarray, at: np.ndarray, *, eps: float, size: int = 7
) -> tuple[np.ndarray, np.ndarray]:
    """Local correlation and contrast-versus-light mismatch of ``size`` x ``size`` neighbourhoods.

    Returns, at the flat indexes ``at``, the normalised cross-correlation (regularised by
    ``eps``) and ``log(sd_y / sd_x) - log(mean_y / mean_x)`` (0 when the contrast scales with
    the light).
    """
    k = (size, size)

    def local_mean(image: np.ndarray) -> np.ndarray:
        return cv2.blur(image, k).ravel().take(at)

    mx, my = local_mean(x), local_mean(y)
    vx = local_mean(cv2.multiply(x, x)) - mx * mx
    vy = local_mean(cv2.multiply(y, y)) - my * my
    cxy = local_mean(cv2.multiply(x, y)) - mx * my
    vx = np.maximum(vx, 0) + eps
    vy = np.maximum(vy, 0) + eps
    ncc = cxy / np.sqrt(vx * vy)
    # a change of light scales the texture with the brightness: log(sd ratio / mean ratio) ~ 0
    scale = 0.5 * np.log(vy / vx) - np.log(np.maximum(my + 8.0, 1.0) / np.maximum(mx + 8.0, 1.0))
    return ncc, scale
