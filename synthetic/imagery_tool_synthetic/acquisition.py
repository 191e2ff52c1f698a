"""Per-date acquisition conditions: sun, radiometry, haze, noise and misregistration."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

__all__ = [
    "MAX_ROTATION_DEG",
    "MAX_SHIFT_PX",
    "Acquisition",
    "ground_to_pixel",
    "pixel_to_ground",
    "sun_position",
]

MAX_SHIFT_PX = 20.0
MAX_ROTATION_DEG = 1.0


@dataclass(frozen=True)
class Acquisition:
    """How one date was imaged.

    Attributes
    ----------
    when : datetime
        Acquisition time, timezone-aware UTC.
    sun_azimuth_deg, sun_elevation_deg : float
        Sun position, degrees clockwise from north and above the horizon.
    shift_px : tuple of float
        Misregistration (dx, dy) in pixels: how far ground content moves on this date's pixel
        grid relative to its nominal position (|dx|, |dy| <= 20).
    rotation_deg : float
        Misregistration rotation about the scene centre, degrees clockwise on screen
        (|rotation| <= 1).
    gain, offset, gamma : float
        Radiometric response: ``out = gain * in**gamma + offset`` on [0, 1] reflectance-like
        values before quantisation.
    tint : tuple of float
        Per-band multiplier (white balance).
    haze : float
        Strength in [0, 1] of an additive low-frequency bright veil.
    noise_sigma : float
        Sensor noise standard deviation in 8-bit digital numbers.
    blur_sigma : float
        Gaussian point-spread function sigma in pixels.
    seed : int
        Seeds the haze pattern and the sensor noise.
    """

    when: datetime
    sun_azimuth_deg: float = 160.0
    sun_elevation_deg: float = 30.0
    shift_px: tuple[float, float] = (0.0, 0.0)
    rotation_deg: float = 0.0
    gain: float = 1.0
    offset: float = 0.0
    gamma: float = 1.0
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    haze: float = 0.0
    noise_sigma: float = 1.5
    blur_sigma: float = 0.55
    seed: int = 0

    def __post_init__(self) -> None:
        if self.when.tzinfo is None:
            raise ValueError(f"Acquisition.when {self.when!r} must be timezone-aware (UTC)")
        if max(abs(self.shift_px[0]), abs(self.shift_px[1])) > MAX_SHIFT_PX:
            raise ValueError(
                f"shift_px {self.shift_px} exceeds +/-{MAX_SHIFT_PX} px; use a smaller shift"
            )
        if abs(self.rotation_deg) > MAX_ROTATION_DEG:
            raise ValueError(
                f"rotation_deg {self.rotation_deg} exceeds +/-{MAX_ROTATION_DEG}; use less"
            )
        if not 0.5 <= self.sun_elevation_deg <= 90:
            raise ValueError(f"sun_elevation_deg {self.sun_elevation_deg} must be in [0.5, 90]")

    @property
    def iso(self) -> str:
        """Acquisition time as ISO 8601 UTC with a ``Z`` suffix."""
        return self.when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def date(self) -> str:
        """Acquisition date as ``YYYY-MM-DD``."""
        return self.when.astimezone(UTC).strftime("%Y-%m-%d")

    def sun_vector(self) -> np.ndarray:
        """Return the unit vector towards the sun in the ground frame (x east, y south, z up)."""
        a = math.radians(self.sun_azimuth_deg)
        e = math.radians(self.sun_elevation_deg)
        return np.array([math.sin(a) * math.cos(e), -math.cos(a) * math.cos(e), math.sin(e)])

    def shadow_offset(self) -> np.ndarray:
        """Ground (x, y) offset in metres of the shadow of a point 1 m above the ground."""
        s = self.sun_vector()
        return -s[:2] / s[2]


def ground_to_pixel(
    acquisition: Acquisition, *, gsd_m: float, shape: tuple[int, int]
) -> np.ndarray:
    """Affine matrix mapping ground (x, y) metres to this date's (col, row) pixel coordinates.

    Pixel coordinates put pixel corners on integers (centre of the top-left pixel at 0.5, 0.5),
    as rasterio does. The nominal grid is ``col = x / gsd_m, row = y / gsd_m``; the date's
    misregistration rotates it about the scene centre and then shifts it.

    Parameters
    ----------
    acquisition : Acquisition
        Supplies ``shift_px`` and ``rotation_deg``.
    gsd_m : float
        Ground sample distance in metres.
    shape : tuple of int
        Scene (height, width) in pixels.

    Returns
    -------
    (2, 3) float64 ndarray
        ``[col, row] = M @ [x, y, 1]``.
    """
    h, w = shape
    cx, cy = w / 2, h / 2
    t = math.radians(acquisition.rotation_deg)
    c, s = math.cos(t), math.sin(t)
    rot = np.array([[c, -s], [s, c]])
    lin = rot / gsd_m
    off = np.array([cx, cy]) - rot @ np.array([cx, cy]) + np.asarray(acquisition.shift_px)
    return np.concatenate([lin, off[:, None]], axis=1)


def pixel_to_ground(
    acquisition: Acquisition, *, gsd_m: float, shape: tuple[int, int]
) -> np.ndarray:
    """Inverse of :func:`ground_to_pixel`: (2, 3) matrix from (col, row) to ground (x, y)."""
    m = ground_to_pixel(acquisition, gsd_m=gsd_m, shape=shape)
    inv = np.linalg.inv(m[:, :2])
    return np.concatenate([inv, (-inv @ m[:, 2])[:, None]], axis=1)


def sun_position(when: datetime, *, lon: float, lat: float) -> tuple[float, float]:
    """Solar azimuth and elevation (NOAA approximation, about 0.5 degree accuracy).

    Parameters
    ----------
    when : datetime
        Timezone-aware time.
    lon, lat : float
        Degrees.

    Returns
    -------
    azimuth_deg, elevation_deg : float
        Azimuth clockwise from north; elevation above the horizon.
    """
    t = when.astimezone(UTC)
    day = t.timetuple().tm_yday
    hour = t.hour + t.minute / 60 + t.second / 3600
    g = 2 * math.pi / 365 * (day - 1 + (hour - 12) / 24)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(g)
        - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(g)
        + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g)
        + 0.00148 * math.sin(3 * g)
    )
    tst = hour * 60 + eqtime + 4 * lon
    ha = math.radians(tst / 4 - 180)
    phi = math.radians(lat)
    cos_zen = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(ha)
    zen = math.acos(max(-1.0, min(1.0, cos_zen)))
    az = math.degrees(
        math.atan2(math.sin(ha), math.cos(ha) * math.sin(phi) - math.tan(decl) * math.cos(phi))
    )
    return (az + 180) % 360, 90 - math.degrees(zen)
