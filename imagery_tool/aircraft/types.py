"""Rank catalogue aircraft types by a measured length and span.

A measured box is not the published figure: blur and the dark tips of wings and tails shorten
it by a few per cent (`SHRINK`), the fit itself is uncertain by a few per cent (`REL_SIGMA`)
plus about a pixel at each end (`PX_SIGMA`, when the ground sample distance is known), and for
aircraft whose span is close to their length the two may be read the wrong way round
(`SWAP_PENALTY`). Swing-wing and folding-wing types may be parked with their wings swept
(``span_folded_m``), and a helicopter's thin rotor blades may not show at all. The score of a
type is ``exp(-d**2 / 2)``, where ``d`` is the misfit in these standard deviations: 1.0 for a
perfect fit, about 0.6 at one standard deviation.

The constants describe the measurement, not one data set: they are not fitted to the
benchmark aircraft.

Examples
--------
>>> from imagery_tool.aircraft.types import rank_types
>>> rank_types(67.5, 71.0, top=1)[0].name
'An-124'
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imagery_tool import aircraft_catalogue
from imagery_tool.aircraft_catalogue import AircraftType

if TYPE_CHECKING:
    from imagery_tool.annotations.schema import LabelSchema

__all__ = [
    "AIRCRAFT_SIZE_RANGE_M",
    "MIN_SUGGESTED_SCORE",
    "PX_SIGMA",
    "REL_SIGMA",
    "ROTOR_MIN_EXTENT",
    "SHRINK",
    "SWAP_PENALTY",
    "TypeMatch",
    "rank_types",
    "schema_types",
    "size_misfit",
    "suggest_label",
    "unknown_label",
]

# Plausible overall size of any aircraft (the larger of length and span), metres: what the
# proposals and click-to-box look for when not told a type.
AIRCRAFT_SIZE_RANGE_M = (8.0, 90.0)

# Below this rank score a type no longer explains a measured size: the box gets the schema's
# "unknown" class rather than a type that does not fit.
MIN_SUGGESTED_SCORE = 0.1

# A measured size is on average this fraction of the published one (blur, tapered tips).
SHRINK = 0.97
# Relative uncertainty of one measured dimension (fit, pose, published-figure variants).
REL_SIGMA = 0.06
# Absolute uncertainty of one measured dimension, in pixels (both ends of a blurred edge).
PX_SIGMA = 1.0
# Extra misfit (in standard deviations, squared) for reading length as span and span as length:
# small, since a box whose nose end is unknown may come either way round.
SWAP_PENALTY = 0.5
# Parked rotor blades (three or more, evenly spaced) reach at least this fraction of the rotor
# diameter in every direction (five blades: cos 18 deg; four: cos 45 deg).
ROTOR_MIN_EXTENT = 0.7
# Helicopter rotor blades are thin and often folded or invisible: the measured width may be as
# narrow as the fuselage and stub wings, about this fraction of the rotor diameter.
_ROTOR_HIDDEN_WIDTH = 0.3


@dataclass(frozen=True)
class TypeMatch:
    """One catalogue type and how well a measured size fits it.

    Attributes
    ----------
    name : str
        Catalogue type name (``"An-124"``).
    score : float
        Fit in [0, 1]: 1.0 for the expected measurement of this type.
    length_m, span_m : float
        The type's published length and span (rotor diameter for helicopters).
    kind : {"fixed-wing", "helicopter"}
        Airframe kind.
    """

    name: str
    score: float
    length_m: float
    span_m: float
    kind: str = "fixed-wing"

    def to_dict(self) -> dict:
        """Return the match as JSON-compatible values."""
        return {
            "name": self.name,
            "score": round(self.score, 3),
            "length_m": self.length_m,
            "span_m": self.span_m,
        }


def rank_types(
    length_m: float,
    span_m: float,
    *,
    kind: str | None = None,
    candidates: Iterable[str] | None = None,
    top: int = 5,
    gsd_m: float | None = None,
) -> list[TypeMatch]:
    """Rank catalogue aircraft types by how well they explain a measured length and span.

    Parameters
    ----------
    length_m, span_m : float
        Measured size in metres, along and across the heading (the two may be swapped: a
        rotated box often cannot tell them apart).
    kind : {"fixed-wing", "helicopter"}, optional
        Only types of this kind; all kinds when omitted.
    candidates : iterable of str, optional
        Only these types (names, aliases or ICAO codes, as `aircraft_catalogue.lookup` takes
        them); names the catalogue does not know are ignored.
    top : int
        How many matches to return.
    gsd_m : float, optional
        Ground sample distance of the measurement, metres per pixel: adds `PX_SIGMA` pixels of
        uncertainty to each dimension, which matters for small aircraft.

    Returns
    -------
    list of TypeMatch
        Best first; at most ``top``.

    Raises
    ------
    ValueError
        If a size is not a positive finite number, or ``kind`` is not a known kind.
    """
    for what, value in (("length_m", length_m), ("span_m", span_m)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{what} must be a positive number of metres; got {value!r}")
    if kind is not None and kind not in ("fixed-wing", "helicopter"):
        raise ValueError(f"kind must be 'fixed-wing' or 'helicopter'; got {kind!r}")
    if gsd_m is not None and not (math.isfinite(gsd_m) and gsd_m > 0):
        raise ValueError(f"gsd_m must be a positive number of metres; got {gsd_m!r}")
    types = _candidate_types(candidates)
    if kind is not None:
        types = [t for t in types if t.kind == kind]
    matches = [
        TypeMatch(
            t.name, math.exp(-size_misfit(length_m, span_m, t, gsd_m=gsd_m) / 2), t.length_m,
            t.span_m, t.kind,
        )
        for t in types
    ]  # fmt: skip
    matches.sort(key=lambda m: (-m.score, m.name))
    return matches[: max(int(top), 0)]


def _candidate_types(candidates: Iterable[str] | None) -> list[AircraftType]:
    if candidates is None:
        return list(aircraft_catalogue.AIRCRAFT.values())
    found: dict[str, AircraftType] = {}
    for name in candidates:
        try:
            t = aircraft_catalogue.lookup(name)
        except KeyError:
            continue
        found[t.name] = t
    return list(found.values())


def size_misfit(
    length_m: float,
    width_m: float,
    aircraft: AircraftType,
    *,
    ratio: float = SHRINK,
    any_angle: bool = False,
    gsd_m: float | None = None,
) -> float:
    """Return how far a measured size is from what a type would give, in squared std deviations.

    The one size model of the project: `rank_types` scores with it, and the annotation size
    check (`imagery_tool.annotations.sizecheck`) ranks a drawn box's candidates with it.

    Parameters
    ----------
    length_m, width_m : float
        Measured size along and across the heading (either way round).
    aircraft : AircraftType
        The catalogue type.
    ratio : float
        Expected measured / published size: `SHRINK` for a fitted box, a little over 1 for a
        box an analyst drew with a margin.
    any_angle : bool
        The box is axis-aligned around an aircraft at an unknown angle (a cross at any angle
        inside it), not along its heading.
    gsd_m : float, optional
        Pixel size of the measurement, for the `PX_SIGMA` term.

    Returns
    -------
    float
        0.0 for the expected measurement; 1.0 at one standard deviation.
    """
    best = math.inf
    for along, across, extra in _readings(aircraft, any_angle):
        straight = _misfit2(length_m, *along, ratio, gsd_m) + _misfit2(
            width_m, *across, ratio, gsd_m
        )
        swapped = _misfit2(length_m, *across, ratio, gsd_m) + _misfit2(
            width_m, *along, ratio, gsd_m
        )
        swap = 0.0 if any_angle else SWAP_PENALTY
        best = min(best, extra + min(straight, swapped + swap))
    return best


def _misfit2(measured: float, lo: float, hi: float, ratio: float, gsd_m: float | None) -> float:
    """Return the squared misfit of one dimension to its published range, in std deviations.

    Zero inside ``[lo, hi]`` (published metres) times the expected ``ratio``.
    """
    expected = min(max(measured, ratio * lo), ratio * hi)
    sigma2 = REL_SIGMA**2 + ((PX_SIGMA * gsd_m / expected) ** 2 if gsd_m else 0.0)
    return math.log(measured / expected) ** 2 / sigma2


_ANGLES = [(math.cos(a), math.sin(a)) for a in (math.radians(d) for d in range(0, 91, 3))]


def _readings(
    t: AircraftType, any_angle: bool = False
) -> list[tuple[tuple[float, float], tuple[float, float], float]]:
    """Return the ways a type may look from above: (along range, across range, extra misfit)."""
    L, S = t.length_m, t.span_m
    if t.kind == "helicopter":
        # Parked blades of three or more cover at least ROTOR_MIN_EXTENT of the disc both ways;
        # with the blades invisible, the fuselage and stub wings remain.
        d_lo = ROTOR_MIN_EXTENT * S
        return [
            ((max(L, d_lo), max(L, S)), (d_lo, S), 0.0),
            ((L, L), (_ROTOR_HIDDEN_WIDTH * S, _ROTOR_HIDDEN_WIDTH * S), SWAP_PENALTY),
        ]
    spans = [S] + ([t.span_folded_m] if t.span_folded_m else [])
    if not any_angle:
        return [((L, L), (w, w), 0.0) for w in spans]
    # a cross (fuselage L, wing w) at angle a inside an axis-aligned box
    out = []
    for w in spans:
        for c, s in _ANGLES:
            along, across = max(L * c, w * s), max(L * s, w * c)
            out.append(((along, along), (across, across), 0.0))
    return out


def schema_types(schema: LabelSchema) -> list[str]:
    """Return the catalogue types that the schema's aircraft classes name (its fleet)."""
    return [c.catalogue for c in schema.classes if c.is_aircraft and c.catalogue]


def suggest_label(
    length_m: float,
    span_m: float,
    schema: LabelSchema | None = None,
    *,
    gsd_m: float | None = None,
) -> str:
    """Return the label-schema class a measured size suggests, so that the box can be stored.

    The schema's aircraft types are ranked by size (`rank_types`); the best one that still fits
    (score at least `MIN_SUGGESTED_SCORE`) gives its class, else the schema's ``"unknown
    helicopter"`` or ``"unknown fixed-wing"`` class after the kind of the best. One rule for
    click-to-box, the proposals and napari.

    Parameters
    ----------
    length_m, span_m : float
        Measured size in metres.
    schema : LabelSchema, optional
        The project's classes; the shipped default schema when omitted.
    gsd_m : float, optional
        Metres per pixel of the measurement (see `rank_types`).

    Returns
    -------
    str
        A class name of ``schema``.
    """
    if schema is None:
        from imagery_tool.annotations.schema import default_schema

        schema = default_schema()
    fleet = schema_types(schema)
    ranked = rank_types(length_m, span_m, candidates=fleet, top=1, gsd_m=gsd_m) if fleet else []
    if ranked and ranked[0].score >= MIN_SUGGESTED_SCORE:
        name = schema.resolve(ranked[0].name)
        if name is not None:
            return name
    return unknown_label(schema, ranked[0].kind if ranked else "fixed-wing")


def unknown_label(schema: LabelSchema, kind: str = "fixed-wing") -> str:
    """Return the schema's class for an aircraft of ``kind`` whose type cannot be told."""
    unknown = "unknown helicopter" if kind == "helicopter" else "unknown fixed-wing"
    return schema.resolve(unknown) or schema.class_names[0]
