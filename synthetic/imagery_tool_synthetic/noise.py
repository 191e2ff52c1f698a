"""Seamless value noise and per-pixel hashes evaluated at global coordinates.

Every function here is a pure function of its coordinates and seed, so a window of a huge scene
renders exactly as the same region of a full render: there are no seams between blocks.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["fbm", "hash_normal", "hash_uniform", "value_noise"]

_TABLE = 1024  # lattice period in cells; at the coarsest scale used (200 m) that is 200 km


@lru_cache(maxsize=64)
def _lattice(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed & 0xFFFFFFFF)
    table = rng.random((_TABLE + 1, _TABLE + 1), dtype=np.float32)
    table[-1, :] = table[0, :]
    table[:, -1] = table[:, 0]
    return table


def value_noise(x: np.ndarray, y: np.ndarray, *, scale: float, seed: int) -> np.ndarray:
    """Smooth value noise in [0, 1] at points (x, y).

    Parameters
    ----------
    x, y : ndarray of float
        Coordinates (same shape), any unit; computed in float32, so keep them within
        about 10**5 lattice cells of the origin.
    scale : float
        Lattice spacing in the units of `x` and `y` (feature size).
    seed : int
        Selects the random lattice.

    Returns
    -------
    noise : ndarray of float32
        Same shape as `x`, values in [0, 1].
    """
    table = _lattice(seed)
    inv = np.float32(1.0 / scale)
    u = np.asarray(x, dtype=np.float32) * inv
    v = np.asarray(y, dtype=np.float32) * inv
    iu = np.floor(u)
    iv = np.floor(v)
    fu = u - iu
    fv = v - iv
    i0 = iu.astype(np.int32) % _TABLE
    j0 = iv.astype(np.int32) % _TABLE
    fu = fu * fu * (3 - 2 * fu)
    fv = fv * fv * (3 - 2 * fv)
    flat = table.ravel()
    k = j0 * (_TABLE + 1) + i0
    a = flat[k]
    b = flat[k + 1]
    c = flat[k + (_TABLE + 1)]
    d = flat[k + (_TABLE + 2)]
    top = a + (b - a) * fu
    bottom = c + (d - c) * fu
    return top + (bottom - top) * fv


def fbm(
    x: np.ndarray,
    y: np.ndarray,
    *,
    scale: float,
    seed: int,
    octaves: int = 4,
    persistence: float = 0.5,
) -> np.ndarray:
    """Fractal (multi-octave) value noise, roughly in [0, 1] with mean 0.5.

    Parameters
    ----------
    x, y : ndarray of float
        Coordinates (same shape).
    scale : float
        Feature size of the coarsest octave, in the units of `x` and `y`.
    seed : int
        Base seed; each octave uses its own lattice.
    octaves : int, optional
        Number of octaves, each half the size of the previous one.
    persistence : float, optional
        Amplitude ratio between consecutive octaves.

    Returns
    -------
    noise : ndarray of float32
        Same shape as `x`.
    """
    total = np.zeros(np.shape(x), dtype=np.float32)
    amp = 1.0
    norm = 0.0
    for k in range(octaves):
        total += amp * value_noise(x, y, scale=scale / 2**k, seed=seed * 31 + k)
        norm += amp
        amp *= persistence
    return total / np.float32(norm)


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x7FEB352D)
    h = h ^ (h >> np.uint32(15))
    h = h * np.uint32(0x846CA68B)
    return h ^ (h >> np.uint32(16))


def hash_uniform(cols: np.ndarray, rows: np.ndarray, *, seed: int) -> np.ndarray:
    """Uniform [0, 1) values hashed from integer pixel coordinates.

    Parameters
    ----------
    cols, rows : ndarray of int
        Global pixel coordinates (broadcastable).
    seed : int
        Selects the sequence.

    Returns
    -------
    values : ndarray of float32
        Broadcast shape of `cols` and `rows`.
    """
    c = np.asarray(cols).astype(np.int64).astype(np.uint32)
    r = np.asarray(rows).astype(np.int64).astype(np.uint32)
    with np.errstate(over="ignore"):
        h = _mix(c * np.uint32(0x9E3779B1) ^ _mix(r + np.uint32(seed & 0xFFFFFFFF)))
    return (h >> np.uint32(8)).astype(np.float32) / np.float32(1 << 24)


def hash_normal(cols: np.ndarray, rows: np.ndarray, *, seed: int) -> np.ndarray:
    """Approximately standard-normal values hashed from integer pixel coordinates.

    Sum of three hashed uniforms, rescaled to unit variance (Irwin-Hall).

    Parameters
    ----------
    cols, rows : ndarray of int
        Global pixel coordinates (broadcastable).
    seed : int
        Selects the sequence.

    Returns
    -------
    values : ndarray of float32
        Broadcast shape of `cols` and `rows`.
    """
    s = sum(hash_uniform(cols, rows, seed=seed * 7 + k) for k in range(3))
    return (s - np.float32(1.5)) * np.float32(2.0)
