"""Reference dimensions of aircraft types and ground-vehicle footprints seen at air bases.

The catalogue is plain data: one frozen :class:`AircraftType` per type, keyed by its display
name, and :func:`lookup` to find a type from a loosely typed name (``"an124"``, ``"AN 124"``).
Figures are the published overall length and wingspan (or main-rotor diameter for helicopters);
the ``source`` field says where each comes from. Classes such as "unknown fixed-wing" are label
classes, not types, and are deliberately absent.

Examples
--------
>>> from imagery_tool.aircraft_catalogue import lookup
>>> lookup("an124").span_m
73.3
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AIRCRAFT",
    "VEHICLES",
    "AircraftType",
    "VehicleType",
    "lookup",
    "lookup_vehicle",
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
    """

    name: str
    kind: Kind
    length_m: float
    span_m: float
    role: str
    source: str
    aliases: tuple[str, ...] = ()


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


_WIKI = "Wikipedia: "

AIRCRAFT: dict[str, AircraftType] = {
    t.name: t
    for t in (
        AircraftType(
            "An-124", "fixed-wing", 69.1, 73.3, "strategic airlifter",
            _WIKI + "Antonov An-124 Ruslan", ("Ruslan", "Condor"),
        ),
        AircraftType(
            "An-26", "fixed-wing", 23.8, 29.2, "tactical transport",
            _WIKI + "Antonov An-26", ("Curl",),
        ),
        AircraftType(
            "Il-76", "fixed-wing", 46.6, 50.5, "strategic airlifter",
            _WIKI + "Ilyushin Il-76", ("Candid", "Il-76MD"),
        ),
        AircraftType(
            "Il-20", "fixed-wing", 35.9, 37.4, "electronic/signals intelligence",
            _WIKI + "Ilyushin Il-20M", ("Coot", "Il-20M"),
        ),
        AircraftType(
            "Tu-154", "fixed-wing", 48.0, 37.6, "VIP / personnel transport",
            _WIKI + "Tupolev Tu-154", ("Careless", "Tu-154M"),
        ),
        AircraftType(
            "Su-24", "fixed-wing", 22.7, 17.6, "strike (wings spread 16 deg)",
            _WIKI + "Sukhoi Su-24", ("Fencer", "Su-24M"),
        ),
        AircraftType(
            "Su-25", "fixed-wing", 15.5, 14.4, "close air support",
            _WIKI + "Sukhoi Su-25", ("Frogfoot", "Su-25SM"),
        ),
        AircraftType(
            "Su-34", "fixed-wing", 23.3, 14.7, "strike fighter",
            _WIKI + "Sukhoi Su-34", ("Fullback",),
        ),
        AircraftType(
            "Su-35", "fixed-wing", 21.9, 15.3, "air superiority fighter",
            _WIKI + "Sukhoi Su-35", ("Flanker-E", "Su-35S"),
        ),
        AircraftType(
            "MiG-29", "fixed-wing", 17.3, 11.4, "fighter",
            _WIKI + "Mikoyan MiG-29", ("Fulcrum",),
        ),
        AircraftType(
            "Ka-52", "helicopter", 13.5, 14.5, "attack helicopter (coaxial rotors)",
            _WIKI + "Kamov Ka-50 (Ka-52 variant)", ("Alligator", "Hokum-B"),
        ),
        AircraftType(
            "Mi-8", "helicopter", 18.2, 21.3, "transport helicopter",
            _WIKI + "Mil Mi-8", ("Hip", "Mi-8AMTSh", "Mi-17"),
        ),
        AircraftType(
            "Mi-24", "helicopter", 17.5, 17.3, "attack helicopter",
            _WIKI + "Mil Mi-24", ("Hind", "Mi-35", "Mi-35M"),
        ),
    )
}  # fmt: skip

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
        for n in (t.name, *t.aliases):
            index[_key(n)] = t
    return index


_INDEX = _index()


def lookup(name: str) -> AircraftType:
    """Return the catalogue entry for an aircraft type name.

    Parameters
    ----------
    name : str
        Type name, matched without regard to case, spaces, dashes, dots or underscores; NATO
        reporting names and listed variants also match (``"Condor"``, ``"Mi-35"``).

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
