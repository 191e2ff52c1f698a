"""Reference dimensions of aircraft types and ground-vehicle footprints seen at air bases.

The catalogue is plain data: one frozen :class:`AircraftType` per type, keyed by its display
name, and :func:`lookup` to find a type from a loosely typed name (``"an124"``, ``"AN 124"``)
or an ICAO type designator (``"K35R"``). Figures are the published overall length and wingspan
(or main-rotor diameter for helicopters); the ``source`` field says where each comes from. The
aircraft are read from ``data/aircraft_types.csv``, which ``tools/build_aircraft_catalogue.py``
writes from a hand list and AllPlanes (Apache-2.0, github.com/mrciolino/AllPlanes). Classes
such as "unknown fixed-wing" are label classes, not types, and are deliberately absent.

Examples
--------
>>> from imagery_tool.aircraft_catalogue import lookup
>>> lookup("an124").span_m
73.3
"""

from __future__ import annotations

import csv
import re
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "AIRCRAFT",
    "HEAVY_M",
    "MEDIUM_M",
    "SIZE_CLASSES",
    "VEHICLES",
    "AircraftType",
    "VehicleType",
    "lookup",
    "lookup_vehicle",
    "size_class_of",
]

Kind = Literal["fixed-wing", "helicopter"]


@dataclass(frozen=True)
class AircraftType:
    """Published dimensions of one aircraft type.

    Attributes
    ----------
    name : str
        Display name, e.g. ``"An-124"``.
    kind : {"fixed-wing", "helicopter"}
        Airframe kind.
    length_m : float
        Overall length in metres (fuselage length for helicopters, rotors excluded).
    span_m : float
        Wingspan in metres, or main-rotor diameter for helicopters.
    role : str
        Short role description (``"strategic airlifter"``, ``"attack helicopter"``, ...).
    source : str
        Short citation for the figures.
    aliases : tuple of str
        Other names the type is known by (NATO reporting name, variants).
    icao : tuple of str
        ICAO type designators (``"A124"``, ``"K35R"``); `lookup` takes them too.
    size_class : {"heavy", "medium", "light", "fighter", "helicopter"}
        Inventory class: helicopters, combat jets and jet trainers, else by the larger of
        length and span (heavy >= 45 m, medium >= 30 m).
    span_folded_m : float or None
        Span with the wings fully swept or folded, for types whose wings move.
    """

    name: str
    kind: Kind
    length_m: float
    span_m: float
    role: str
    source: str
    aliases: tuple[str, ...] = ()
    _: KW_ONLY
    icao: tuple[str, ...] = ()
    size_class: str = ""
    span_folded_m: float | None = None


@dataclass(frozen=True)
class VehicleType:
    """Approximate top-down footprint of a ground vehicle or air-defence system.

    Attributes
    ----------
    name : str
        Display name, e.g. ``"fuel truck"``.
    length_m, width_m, height_m : float
        Approximate footprint and height in metres (height casts the shadow).
    role : str
        Short role description.
    """

    name: str
    length_m: float
    width_m: float
    height_m: float
    role: str


_DATA = Path(__file__).with_name("data") / "aircraft_types.csv"
SIZE_CLASSES = ("heavy", "medium", "light", "fighter", "helicopter")
# Size classes of transports, airliners and bombers by the larger of length and span, metres
# (helicopters, combat jets and jet trainers have their own classes).
HEAVY_M = 45.0
MEDIUM_M = 30.0


def size_class_of(length_m: float, span_m: float) -> str | None:
    """Return "heavy" or "medium" for an aircraft this big, or ``None`` when it is smaller.

    A smaller aircraft may be light, a fighter or a helicopter: its size alone does not say.
    """
    big = max(length_m, span_m)
    return "heavy" if big >= HEAVY_M else "medium" if big >= MEDIUM_M else None


def _read_catalogue(path: Path) -> dict[str, AircraftType]:
    """Read the shipped catalogue CSV (written by ``tools/build_aircraft_catalogue.py``)."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        types = [
            AircraftType(
                r["name"], r["kind"], float(r["length_m"]), float(r["span_m"]), r["role"],
                r["source"], tuple(a for a in r["aliases"].split("|") if a),
                icao=tuple(r["icao"].split()), size_class=r["size_class"],
                span_folded_m=float(r["span_folded_m"]) if r["span_folded_m"] else None,
            )
            for r in rows
        ]  # fmt: skip
    return {t.name: t for t in types}


AIRCRAFT: dict[str, AircraftType] = _read_catalogue(_DATA)

VEHICLES: dict[str, VehicleType] = {
    v.name: v
    for v in (
        VehicleType("fuel truck", 10.0, 2.5, 3.2, "aircraft refueller (ATZ)"),
        VehicleType("cargo truck", 8.0, 2.5, 3.0, "KamAZ-type truck"),
        VehicleType("light vehicle", 4.5, 2.0, 2.0, "UAZ/Tigr-type car"),
        VehicleType("tug", 4.0, 2.2, 1.8, "aircraft tractor"),
        VehicleType("loader", 6.0, 2.4, 2.6, "forklift / K-loader"),
        VehicleType("Pantsir", 7.0, 3.0, 3.8, "Pantsir-S1 air-defence vehicle (footprint approx.)"),
        VehicleType("S-400 launcher", 13.0, 3.0, 4.0, "S-400 TEL (footprint approx.)"),
    )
}


def _key(name: str) -> str:
    """Normalise a type name: lower case, no spaces, dashes, dots or underscores."""
    return re.sub(r"[\s\-_.]", "", name).lower()


def _index() -> dict[str, AircraftType]:
    index: dict[str, AircraftType] = {}
    for t in AIRCRAFT.values():
        for n in (t.name, *t.aliases, *t.icao):
            other = index.setdefault(_key(n), t)
            if other is not t:
                raise RuntimeError(
                    f"aircraft catalogue: {n!r} names both {other.name} and {t.name}"
                )
    return index


_INDEX = _index()


def lookup(name: str) -> AircraftType:
    """Return the catalogue entry for an aircraft type name.

    Parameters
    ----------
    name : str
        Type name, matched without regard to case, spaces, dashes, dots or underscores; NATO
        reporting names, listed variants and ICAO designators also match (``"Condor"``,
        ``"Mi-35"``, ``"K35R"``).

    Returns
    -------
    AircraftType
        The matching entry.

    Raises
    ------
    KeyError
        If no type matches; the message lists the known types.

    Examples
    --------
    >>> lookup("IL 76").length_m
    46.6
    """
    try:
        return _INDEX[_key(name)]
    except KeyError:
        known = ", ".join(AIRCRAFT)
        raise KeyError(f"unknown aircraft type {name!r}; known types: {known}") from None


def lookup_vehicle(name: str) -> VehicleType:
    """Return the footprint of a ground vehicle by name (case/spacing-insensitive).

    Parameters
    ----------
    name : str
        Vehicle name such as ``"fuel truck"`` or ``"pantsir"``.

    Returns
    -------
    VehicleType
        The matching entry.

    Raises
    ------
    KeyError
        If no vehicle matches; the message lists the known vehicles.
    """
    for v in VEHICLES.values():
        if _key(v.name) == _key(name):
            return v
    raise KeyError(f"unknown vehicle {name!r}; known vehicles: {', '.join(VEHICLES)}")
