"""Which aircraft and vehicles stand where on which date: the Hmeimim script and random series."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from imagery_tool_synthetic.acquisition import Acquisition, sun_position
from imagery_tool_synthetic.aircraft import make_aircraft
from imagery_tool_synthetic.shapes import Body, heading_vectors
from imagery_tool_synthetic.site import HMEIMIM_LONLAT, Site, Stand, build_site
from imagery_tool_synthetic.vehicles import make_vehicle

__all__ = ["Series", "hmeimim_series", "random_series"]


@dataclass(frozen=True)
class Series:
    """A site imaged on several dates, with the objects present on each.

    Attributes
    ----------
    site : Site
        The static layout (and the nominal georeference shared by all dates).
    acquisitions : tuple of Acquisition
        One per date, in time order.
    objects : tuple of tuple of Body
        ``objects[i]`` are the aircraft and vehicles present on date ``i``. An id that keeps
        its place is the same object; an id at a new place has moved.
    """

    site: Site
    acquisitions: tuple[Acquisition, ...]
    objects: tuple[tuple[Body, ...], ...]

    def __post_init__(self) -> None:
        if len(self.acquisitions) != len(self.objects):
            raise ValueError("Series needs one object list per acquisition")
        times = [a.when for a in self.acquisitions]
        if times != sorted(times):
            raise ValueError("Series acquisitions must be in time order")

    @property
    def dates(self) -> list[str]:
        """Acquisition dates as ``YYYY-MM-DD``."""
        return [a.date for a in self.acquisitions]

    @property
    def tile_names(self) -> list[str]:
        """File stems, ``<site>_<YYYY-MM-DD>``."""
        return [f"{self.site.name}_{d}" for d in self.dates]

    def __len__(self) -> int:
        return len(self.acquisitions)


def _at(stand: Stand, du: float = 0.0, dv: float = 0.0, dh: float = 0.0):
    """Ground position and heading offset in a stand's frame (du forward, dv right)."""
    f, r = heading_vectors(stand.heading_deg)
    c = np.asarray(stand.center) + du * f + dv * r
    return (float(c[0]), float(c[1])), (stand.heading_deg + dh) % 360


# (id, type, {date index: stand id}, nose_open on date index)
_HMEIMIM_AIRCRAFT: list[tuple[str, str, dict[int, str]]] = [
    ("an124-1", "An-124", {2: "H3"}),
    ("an124-2", "An-124", {2: "H5"}),
    ("il76-1", "Il-76", {0: "H3", 1: "H3"}),
    ("il76-2", "Il-76", {0: "H6"}),
    ("il76-3", "Il-76", {3: "H4"}),
    ("il20-1", "Il-20", {0: "H1", 1: "H1", 2: "H1", 3: "H1"}),
    ("tu154-1", "Tu-154", {1: "H7"}),
    ("an26-1", "An-26", {0: "H2", 1: "H2", 2: "H2"}),
    ("su24-1", "Su-24", {0: "F3", 1: "F3", 2: "F3", 3: "F3"}),
    ("su24-2", "Su-24", {0: "F4", 1: "F4", 2: "F4", 3: "F4"}),
    ("su24-3", "Su-24", {0: "F6", 1: "F10", 2: "F10", 3: "F10"}),
    ("su24-4", "Su-24", {0: "F7", 1: "F7"}),
    ("su34-1", "Su-34", {0: "F12", 1: "F12", 2: "F12", 3: "F14"}),
    ("su34-2", "Su-34", {0: "F13", 1: "F13", 2: "F13", 3: "F13"}),
    ("su34-3", "Su-34", {1: "F15", 2: "F15", 3: "F15"}),
    ("su35-1", "Su-35", {0: "F17", 1: "F17", 2: "F17", 3: "F17"}),
    ("su35-2", "Su-35", {0: "F18", 1: "F18", 2: "F18", 3: "F18"}),
    ("ka52-1", "Ka-52", {0: "R2", 1: "R2", 2: "R5", 3: "R5"}),
    ("ka52-2", "Ka-52", {0: "R3", 1: "R3", 2: "R3", 3: "R3"}),
    ("mi8-1", "Mi-8", {0: "R1", 1: "R1", 2: "R1", 3: "R1"}),
    ("mi8-2", "Mi-8", {0: "R7", 1: "R7", 2: "R7"}),
    ("mi24-1", "Mi-24", {1: "R8", 2: "R8", 3: "R8"}),
]

# (id, vehicle, {date index: (stand id, du, dv, dheading)})
_HMEIMIM_VEHICLES: list[tuple[str, str, dict[int, tuple[str, float, float, float]]]] = [
    ("s400-1", "S-400 launcher", dict.fromkeys(range(4), ("A1", 0, 0, 0))),
    ("s400-2", "S-400 launcher", dict.fromkeys(range(4), ("A2", 0, 0, 0))),
    ("pantsir-1", "Pantsir", dict.fromkeys(range(4), ("A3", 0, 0, 0))),
    ("fuel-1", "fuel truck", {0: ("H6", 10, 30, 90), 1: ("H7", 12, -30, 90), 3: ("H4", 8, 32, 90)}),
    ("fuel-2", "fuel truck", {0: ("F6", 4, 14, 180), 2: ("F12", 2, -14, 180)}),
    ("truck-1", "cargo truck", {2: ("H3", 50, 2, 180)}),
    ("truck-2", "cargo truck", {2: ("H5", 49, -1, 178)}),
    ("truck-3", "cargo truck", {2: ("H5", 58, 12, 200)}),
    ("loader-1", "loader", {2: ("H3", 45, 9, 200)}),
    ("loader-2", "loader", {2: ("H5", 44, -9, 160)}),
    ("tug-1", "tug", {1: ("H7", 30, 0, 180), 3: ("H4", -30, 0, 0)}),
    ("car-1", "light vehicle", {0: ("F9", 0, 0, 0), 1: ("F5", 6, 13, 90), 2: ("F9", 3, 12, 90)}),
    ("car-2", "light vehicle", {1: ("R4", 0, 0, 30), 3: ("R6", 0, 0, 0)}),
]

_HMEIMIM_TIMES = (
    datetime(2024, 11, 29, 7, 44, tzinfo=UTC),
    datetime(2024, 12, 6, 8, 36, tzinfo=UTC),
    datetime(2024, 12, 13, 8, 21, tzinfo=UTC),
    datetime(2024, 12, 20, 9, 2, tzinfo=UTC),
)

# Per-date radiometry and misregistration: the first date is the nominal reference.
_HMEIMIM_CONDITIONS = (
    {"shift_px": (0.0, 0.0), "rotation_deg": 0.0, "gain": 1.0, "offset": 0.0, "gamma": 1.0,
     "tint": (1.0, 1.0, 1.0), "haze": 0.04, "noise_sigma": 1.6},
    {"shift_px": (4.3, -2.6), "rotation_deg": 0.12, "gain": 0.93, "offset": 0.02, "gamma": 1.06,
     "tint": (1.02, 1.0, 0.96), "haze": 0.16, "noise_sigma": 2.0},
    {"shift_px": (-3.1, 5.4), "rotation_deg": -0.21, "gain": 1.06, "offset": -0.01,
     "gamma": 0.95, "tint": (0.98, 1.0, 1.03), "haze": 0.08, "noise_sigma": 1.8},
    {"shift_px": (5.8, 3.7), "rotation_deg": 0.27, "gain": 0.97, "offset": 0.03, "gamma": 1.1,
     "tint": (1.03, 1.01, 0.97), "haze": 0.24, "noise_sigma": 2.4},
)  # fmt: skip


def hmeimim_series(*, size: int = 2048) -> Series:
    """Build the fixed Hmeimim scenario: four December 2024 dates, two An-124s with visors up.

    Parameters
    ----------
    size : int, optional
        Scene width and height in pixels (0.5 m GSD); the scenario's stands fit from 2048 px.

    Returns
    -------
    Series
        Dates 2024-11-29, 2024-12-06, 2024-12-13 and 2024-12-20 (the third has the two
        An-124s with ``nose_open=True``).
    """
    site = build_site(seed=20241213, width=size, height=size, name="hmeimim")
    lon, lat = HMEIMIM_LONLAT
    acqs = []
    for k, (when, cond) in enumerate(zip(_HMEIMIM_TIMES, _HMEIMIM_CONDITIONS, strict=True)):
        az, el = sun_position(when, lon=lon, lat=lat)
        acqs.append(
            Acquisition(when=when, sun_azimuth_deg=round(az, 2), sun_elevation_deg=round(el, 2),
                        seed=101 + k, **cond)
        )  # fmt: skip
    per_date: list[list[Body]] = [[] for _ in acqs]
    for oid, typ, where in _HMEIMIM_AIRCRAFT:
        for d, stand_id in where.items():
            (c, h) = _at(site.stand(stand_id))
            per_date[d].append(
                make_aircraft(typ, id=oid, center=c, heading_deg=h, nose_open=(typ == "An-124"))
            )
    for oid, typ, where in _HMEIMIM_VEHICLES:
        for d, (stand_id, du, dv, dh) in where.items():
            c, h = _at(site.stand(stand_id), du, dv, dh)
            per_date[d].append(make_vehicle(typ, id=oid, center=c, heading_deg=h))
    return Series(site, tuple(acqs), tuple(tuple(p) for p in per_date))


_TYPES_BY_SIZE = {
    "heavy": ("An-124", "Il-76", "Il-76", "Il-20", "Tu-154", "An-26"),
    "fighter": ("Su-24", "Su-34", "Su-35", "Su-25", "MiG-29"),
    "heli": ("Ka-52", "Mi-8", "Mi-24"),
}


def random_series(
    seed: int,
    *,
    size: int = 1024,
    n_dates: int = 2,
    n_aircraft: int = 12,
    change_fraction: float = 0.3,
    n_vehicles: int = 6,
    shift_px: float | tuple[float, float] = 6.0,
    rotation_deg: float = 0.3,
    sun_change_deg: float = 20.0,
    haze: float = 0.15,
    noise_sigma: float = 2.0,
    gain: float = 0.08,
    start: datetime | None = None,
) -> Series:
    """Build a random scenario for evaluation and benchmarks, deterministic from `seed`.

    Parameters
    ----------
    seed : int
        Seeds the layout, the scenario and the acquisition conditions.
    size : int, optional
        Scene width and height in pixels (0.5 m GSD).
    n_dates : int, optional
        Number of dates (at least 1), seven days apart.
    n_aircraft : int, optional
        Aircraft on the first date (fewer if the scene has fewer stands).
    change_fraction : float, optional
        Fraction of aircraft and vehicles that leave, move or arrive between consecutive dates.
    n_vehicles : int, optional
        Vehicles on each date.
    shift_px : float or tuple of float, optional
        Misregistration of the later dates: a float is the largest |dx|, |dy| drawn at random
        (up to 20); a tuple ``(dx, dy)`` is used as is for every later date.
    rotation_deg : float, optional
        Largest misregistration rotation of the later dates (drawn in +/- this; up to 1).
    sun_change_deg : float, optional
        Largest change of sun azimuth between dates (elevation changes by a third of it).
    haze : float, optional
        Largest haze strength on a date, in [0, 1].
    noise_sigma : float, optional
        Sensor noise sigma in digital numbers.
    gain : float, optional
        Largest relative gain change (0.08 = +/-8 %); gamma and offset vary in proportion.
    start : datetime, optional
        First acquisition time (UTC); defaults to 2024-12-06 08:30Z.

    Returns
    -------
    Series
    """
    if n_dates < 1:
        raise ValueError(f"n_dates={n_dates}; a series needs at least one date")
    if not 0 <= change_fraction <= 1:
        raise ValueError(f"change_fraction={change_fraction} must be in [0, 1]")
    rng = np.random.default_rng(seed)
    site = build_site(seed=seed, width=size, height=size, name=f"synthetic{seed}")
    start = start or datetime(2024, 12, 6, 8, 30, tzinfo=UTC)
    az0 = float(rng.uniform(130, 210))
    el0 = float(rng.uniform(25, 45))
    acqs = []
    for d in range(n_dates):
        if d == 0:
            shift, rot = (0.0, 0.0), 0.0
        elif isinstance(shift_px, tuple):
            shift, rot = (float(shift_px[0]), float(shift_px[1])), 0.0
        else:
            shift = (round(float(rng.uniform(-shift_px, shift_px)), 2),
                     round(float(rng.uniform(-shift_px, shift_px)), 2))  # fmt: skip
            rot = 0.0
        if d > 0:
            rot = round(float(rng.uniform(-rotation_deg, rotation_deg)), 3)
        dz = float(rng.uniform(-sun_change_deg, sun_change_deg)) if d else 0.0
        g = float(rng.uniform(-gain, gain)) if d else 0.0
        acqs.append(
            Acquisition(
                when=start + timedelta(days=7 * d, minutes=int(dz)),
                sun_azimuth_deg=(az0 + dz) % 360,
                sun_elevation_deg=float(np.clip(el0 + dz / 3, 5, 80)),
                shift_px=shift, rotation_deg=rot, gain=1 + g, offset=-g / 4,
                gamma=1 + g / 2, haze=float(rng.uniform(0, haze)), noise_sigma=noise_sigma,
                seed=seed * 100 + d,
            )
        )  # fmt: skip
    stands = [s for s in site.stands if s.size in _TYPES_BY_SIZE and _fits(site, s)]
    vspots = _vehicle_spots(site, rng)
    occupied: dict[str, tuple[str, str]] = {}  # stand -> (id, type)
    order = list(rng.permutation(len(stands)))
    counter = 0

    def new_aircraft(stand: Stand) -> None:
        nonlocal counter
        counter += 1
        typ = str(rng.choice(_TYPES_BY_SIZE[stand.size]))
        occupied[stand.id] = (f"{typ.lower().replace('-', '')}-{counter}", typ)

    for i in order[: min(n_aircraft, len(stands))]:
        new_aircraft(stands[i])
    vehicles: dict[int, tuple[str, str]] = {}
    vorder = list(rng.permutation(len(vspots)))
    for k, i in enumerate(vorder[:n_vehicles]):
        vehicles[int(i)] = (f"veh-{k + 1}", str(rng.choice(["fuel truck", "cargo truck",
                                                            "light vehicle", "tug"])))  # fmt: skip
    per_date = []
    for d in range(n_dates):
        if d > 0:
            _evolve(occupied, stands, rng, change_fraction, new_aircraft)
            _evolve_vehicles(vehicles, len(vspots), rng, change_fraction)
        bodies = []
        for s in stands:
            if s.id in occupied:
                oid, typ = occupied[s.id]
                bodies.append(make_aircraft(typ, id=oid, center=s.center,
                                            heading_deg=s.heading_deg,
                                            nose_open=bool(typ == "An-124" and d % 2)))  # fmt: skip
        for i, (vid, typ) in sorted(vehicles.items()):
            c, h = vspots[i]
            bodies.append(make_vehicle(typ, id=vid, center=c, heading_deg=h))
        per_date.append(tuple(bodies))
    return Series(site, tuple(acqs), tuple(per_date))


def _fits(site: Site, stand: Stand) -> bool:
    half = {"heavy": 40.0, "fighter": 14.0, "heli": 13.0}[stand.size]
    ext_x, ext_y = site.width * site.gsd_m, site.height * site.gsd_m
    x, y = stand.center
    return half <= x <= ext_x - half and half <= y <= ext_y - half


def _vehicle_spots(site: Site, rng: np.random.Generator) -> list:
    """Candidate vehicle positions beside fighter and heavy stands (inside the scene)."""
    spots = []
    for s in site.stands:
        if s.size == "fighter":
            spots.append(_at(s, 2.0, 15.0, 90.0))
        elif s.size == "heavy":
            spots.append(_at(s, 45.0, 0.0, 180.0))
            spots.append(_at(s, 10.0, 32.0, 90.0))
    ext_x, ext_y = site.width * site.gsd_m, site.height * site.gsd_m
    return [(c, h) for c, h in spots if 8 <= c[0] <= ext_x - 8 and 8 <= c[1] <= ext_y - 8]


def _evolve(occupied, stands, rng, fraction, new_aircraft) -> None:
    """Let some aircraft leave, some move to a free stand of the same size, some arrive."""
    by_id = {s.id: s for s in stands}
    current = sorted(occupied)
    n_change = int(math.ceil(fraction * len(current))) if current else 0
    changing = [current[i] for i in rng.permutation(len(current))[:n_change]]
    for sid in changing:
        oid, typ = occupied.pop(sid)
        if rng.random() < 0.4:  # move to another free stand of the same size
            free = [s.id for s in stands if s.id not in occupied and s.id != sid
                    and s.size == by_id[sid].size]  # fmt: skip
            if free:
                occupied[free[int(rng.integers(len(free)))]] = (oid, typ)
    free = [s for s in stands if s.id not in occupied]
    n_new = min(len(free), int(rng.binomial(max(n_change, 1), 0.7)))
    for i in rng.permutation(len(free))[:n_new]:
        new_aircraft(free[int(i)])


def _evolve_vehicles(vehicles, n_spots, rng, fraction) -> None:
    ids = sorted(vehicles)
    for i in ids:
        if rng.random() < fraction:
            vid, typ = vehicles.pop(i)
            free = [k for k in range(n_spots) if k not in vehicles]
            if free and rng.random() < 0.7:
                vehicles[free[int(rng.integers(len(free)))]] = (vid, typ)
