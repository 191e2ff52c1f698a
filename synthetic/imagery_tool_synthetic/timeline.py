"""A synthetic 12-date Hmeimim series with known arrival and departure dates per aircraft."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np

from imagery_tool_synthetic import (
    HMEIMIM_LONLAT,
    Acquisition,
    Series,
    build_site,
    make_aircraft,
    sun_position,
)

__all__ = ["SCHEDULE", "hmeimim_timeline_series", "truth_timeline"]

# (id, type, stand, first date index, last date index): the aircraft that come and go, and two
# that stay all along (never a change, so never a track). Stands are those of the central apron,
# present from a 512 px scene upwards.
SCHEDULE: tuple[tuple[str, str, str, int, int], ...] = (
    ("il76-1", "Il-76", "H3", 0, 3),
    ("an124-1", "An-124", "H3", 6, 9),
    ("an124-2", "An-124", "H4", 2, 11),
    ("tu154-1", "Tu-154", "H5", 5, 7),
    ("su24-1", "Su-24", "F12", 0, 7),
    ("su34-1", "Su-34", "F13", 3, 5),
    ("su35-1", "Su-35", "F13", 9, 11),
    ("su35-2", "Su-35", "F14", 0, 11),
)


def hmeimim_timeline_series(
    *, size: int = 512, n_dates: int = 12, seed: int = 7, start: datetime | None = None
) -> Series:
    """Build a series of `n_dates` acquisitions three days apart with the aircraft of `SCHEDULE`.

    Each date has its own sun, radiometry, haze and misregistration (up to 6 px and 0.3
    degree), as real acquisitions do; the first date is the nominal reference.

    Parameters
    ----------
    size : int, optional
        Scene width and height in pixels at 0.5 m (at least 512).
    n_dates : int, optional
        Number of dates (12 by default; `SCHEDULE` spans 12).
    seed : int, optional
        Seeds the layout and the acquisition conditions.
    start : datetime, optional
        First acquisition time (UTC); 2024-11-01 08:30Z by default.

    Returns
    -------
    Series
        Site ``"hmeimim"``; tiles named ``hmeimim_YYYY-MM-DD``.
    """
    if size < 512:
        raise ValueError(f"size={size}: the scenario's stands need a scene of at least 512 px")
    rng = np.random.default_rng(seed)
    site = build_site(seed=seed, width=size, height=size, name="hmeimim")
    lon, lat = HMEIMIM_LONLAT
    start = start or datetime(2024, 11, 1, 8, 30, tzinfo=UTC)
    acquisitions = []
    for d in range(n_dates):
        when = start + timedelta(days=3 * d, minutes=int(rng.integers(-40, 40)))
        az, el = sun_position(when, lon=lon, lat=lat)
        g = float(rng.uniform(-0.06, 0.06)) if d else 0.0
        shift = (0.0, 0.0) if d == 0 else tuple(round(float(v), 2) for v in rng.uniform(-6, 6, 2))
        acquisitions.append(
            Acquisition(
                when=when,
                sun_azimuth_deg=round(az, 2),
                sun_elevation_deg=round(el, 2),
                shift_px=shift,
                rotation_deg=0.0 if d == 0 else round(float(rng.uniform(-0.3, 0.3)), 3),
                gain=1 + g,
                offset=-g / 4,
                gamma=1 + g / 2,
                haze=float(rng.uniform(0.02, 0.15)),
                noise_sigma=1.8,
                seed=seed * 100 + d,
            )
        )
    objects = []
    for d in range(n_dates):
        bodies = []
        for oid, typ, stand_id, first, last in SCHEDULE:
            if first <= d <= last:
                stand = site.stand(stand_id)
                bodies.append(
                    make_aircraft(typ, id=oid, center=stand.center, heading_deg=stand.heading_deg)
                )
        objects.append(tuple(bodies))
    return Series(site, tuple(acquisitions), tuple(objects))


def truth_timeline(series: Series) -> dict[str, dict]:
    """Arrival and departure dates of every object of a series, from its scenario.

    Parameters
    ----------
    series : Series
        Any synthetic series (objects are identified by id and place).

    Returns
    -------
    dict
        ``{id: {"class", "first_seen", "last_seen", "arrived", "departed", "center_lonlat"}}``
        with dates ``YYYY-MM-DD``; ``arrived`` is ``None`` for an object present on the first
        date and ``departed`` is ``None`` for one still present on the last date (``departed``
        is the first date on which it is gone).
    """
    dates = series.dates
    out: dict[str, dict] = {}
    for d, bodies in enumerate(series.objects):
        for body in bodies:
            rec = out.setdefault(body.id, {"class": body.cls, "present": []})
            rec["present"].append(d)
            rec["center"] = body.center
    for rec in out.values():
        present = rec.pop("present")
        first, last = min(present), max(present)
        centre = np.asarray([rec.pop("center")], dtype=np.float64)
        lonlat = series.site.ground_to_lonlat(centre)[0]
        rec.update(
            first_seen=dates[first],
            last_seen=dates[last],
            arrived=None if first == 0 else dates[first],
            departed=None if last == len(dates) - 1 else dates[last + 1],
            center_lonlat=[round(float(lonlat[0]), 7), round(float(lonlat[1]), 7)],
        )
        if len(present) != last - first + 1 or not math.isfinite(lonlat[0]):
            rec["gaps"] = True
    return out
