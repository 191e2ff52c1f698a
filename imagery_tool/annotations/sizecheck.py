"""Aircraft size check: a box's size in metres, the catalogue types that fit, and misfit warnings.

A box drawn around an aircraft is at least as big as the aircraft's footprint and usually a
little bigger. The footprint of a fixed-wing aircraft is modelled as a cross (fuselage of the
published length, wing of the published span, crossing near the middle); a helicopter's as its
fuselage under the rotor disc or, with the blades invisible or folded, its fuselage and stub
wings. For an oriented box the aircraft lies along the box (either way
round, since a box's head edge may be unknown); for an axis-aligned box the aircraft may sit at
any angle inside it, and the best angle is searched. A type fits when the box is between
`MIN_RATIO` and `MAX_RATIO` times the footprint in both directions; the aircraft that fit are
ranked by the project's one size model (`imagery_tool.aircraft.types.size_misfit`, which
`rank_types` also uses) with the typical drawn margin. The candidates are the
catalogue types the label schema's classes name, since a box can only be labelled with those;
`imagery_tool.aircraft.types.rank_types` ranks a measured size over the whole catalogue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from imagery_tool import aircraft_catalogue
from imagery_tool.aircraft.types import size_misfit
from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.schema import LabelSchema, default_schema
from imagery_tool.georef import GeoRef

__all__ = [
    "MAX_RATIO",
    "MIN_RATIO",
    "SizeCandidate",
    "SizeReport",
    "box_size_m",
    "check_size",
    "check_sizes",
    "footprint_fit",
]

# A box may be drawn up to 15 % tight (blurred wing tips, GSD error) and up to 35 % loose.
MIN_RATIO = 0.85
MAX_RATIO = 1.35
# The typical margin analysts leave around an aircraft: the centre of the ranking.
TYPICAL_RATIO = 1.05
# Helicopter rotor blades are thin and often folded or invisible: the box across the heading
# may be as narrow as the fuselage and stub wings, about this fraction of the rotor diameter.
FUSELAGE_WIDTH = 0.3


@dataclass(frozen=True)
class SizeCandidate:
    """How well one reference type fits a box.

    Attributes
    ----------
    name : str
        Catalogue type name (``"An-124"``).
    kind : str
        ``"fixed-wing"``, ``"helicopter"`` or ``"vehicle"``.
    length_m, span_m : float
        The type's published length and span (or rotor diameter, or vehicle width).
    error : float
        Root-mean-square log misfit of the box to the footprint after the typical margin
        (0.0 is a perfect fit, 0.1 about 10 %).
    fits : bool
        Whether the box lies within [`MIN_RATIO`, `MAX_RATIO`] of the footprint both ways.
    """

    name: str
    kind: str
    length_m: float
    span_m: float
    error: float
    fits: bool


@dataclass(frozen=True)
class SizeReport:
    """The size check of one box.

    Attributes
    ----------
    annotation_id : str
        The box.
    label : str
        Its class.
    length_m, width_m : float
        Box size along and across its heading, metres.
    candidates : tuple of SizeCandidate
        The best-fitting reference types, best first.
    label_fits : bool or None
        Whether the labelled class fits; ``None`` when it has no reference size.
    warning : str or None
        One line when the labelled class cannot fit the box.
    """

    annotation_id: str
    label: str
    length_m: float
    width_m: float
    candidates: tuple[SizeCandidate, ...]
    label_fits: bool | None
    warning: str | None = None

    def to_dict(self) -> dict:
        """Return the report as JSON-compatible values."""
        return {
            "id": self.annotation_id,
            "label": self.label,
            "length_m": round(self.length_m, 2),
            "width_m": round(self.width_m, 2),
            "label_fits": self.label_fits,
            "warning": self.warning,
            "candidates": [
                {"name": c.name, "error": round(c.error, 3), "fits": c.fits}
                for c in self.candidates
            ],
        }


def box_size_m(annotation: BoxAnnotation, gsd: GeoRef | tuple[float, float] | float) -> tuple:
    """Return ``(length_m, width_m)`` of a box: along and across its heading.

    Parameters
    ----------
    annotation : BoxAnnotation
        The box.
    gsd : GeoRef or (float, float) or float
        The tile's georeference, or its ground sample distance in metres along columns and
        rows (or one value for both).

    Returns
    -------
    length_m, width_m : float
    """
    gx, gy = _gsd_pair(gsd)
    xy = annotation.xy
    edges = (np.roll(xy, -1, axis=0) - xy) * np.array([gx, gy])
    sides = np.hypot(edges[:, 0], edges[:, 1])
    # Edges 0 (head) and 2 (tail) run across; edges 1 and 3 run along the heading.
    return float((sides[1] + sides[3]) / 2), float((sides[0] + sides[2]) / 2)


def footprint_fit(
    length_m: float,
    width_m: float,
    ref_length_m: float,
    ref_span_m: float,
    *,
    kind: str = "fixed-wing",
    any_angle: bool = False,
) -> tuple[float, bool]:
    """Return ``(error, fits)`` of a box of ``length_m`` x ``width_m`` around a reference type.

    Parameters
    ----------
    length_m, width_m : float
        Box size along and across its heading.
    ref_length_m, ref_span_m : float
        The type's length and span (rotor diameter for helicopters; width for vehicles).
    kind : {"fixed-wing", "helicopter", "vehicle"}
        Footprint model: a cross, a fuselage under a rotor disc, or a rectangle.
    any_angle : bool
        The type may lie at any angle inside the box (axis-aligned boxes); otherwise along
        the box, either way round.
    """
    angles = np.radians(np.arange(0.0, 90.5, 1.0)) if any_angle else np.radians([0.0, 90.0])
    c, s = np.abs(np.cos(angles)), np.abs(np.sin(angles))
    L, S = ref_length_m, ref_span_m
    lo_across = MIN_RATIO
    if kind == "helicopter":
        # Two readings: the box includes the rotor disc, or only the fuselage and stub wings
        # (whose width, FUSELAGE_WIDTH of the rotor diameter, is then allowed a wide margin).
        w = FUSELAGE_WIDTH * S
        along = np.concatenate([np.maximum(L * c, S), np.maximum(L * c, w * s)])
        across = np.concatenate([np.maximum(L * s, S), np.maximum(L * s, w * c)])
        lo_across = np.concatenate([np.full_like(c, MIN_RATIO), np.full_like(c, 0.5)])
    elif kind == "vehicle":
        along, across = L * c + S * s, L * s + S * c
    else:
        along = np.maximum(L * c, S * s)
        across = np.maximum(L * s, S * c)
    r_along, r_across = length_m / along, width_m / across
    error = np.sqrt(
        (np.log(r_along / TYPICAL_RATIO) ** 2 + np.log(r_across / TYPICAL_RATIO) ** 2) / 2
    )
    fits = (
        (r_along >= MIN_RATIO)
        & (r_along <= MAX_RATIO)
        & (r_across >= lo_across)
        & (r_across <= MAX_RATIO * np.where(lo_across < MIN_RATIO, 1.5, 1.0))
    )
    # The best angle among those that fit; the least bad one when none does.
    i = int(np.argmin(np.where(fits, error, np.inf) if fits.any() else error))
    return float(error[i]), bool(fits[i])


def check_size(
    annotation: BoxAnnotation,
    *,
    gsd: GeoRef | tuple[float, float] | float,
    schema: LabelSchema | None = None,
    top: int = 3,
) -> SizeReport:
    """Measure a box in metres, rank the reference types that fit, and check its label.

    Parameters
    ----------
    annotation : BoxAnnotation
        The box.
    gsd : GeoRef or (float, float) or float
        The tile's georeference or ground sample distance in metres.
    schema : LabelSchema, optional
        Maps the class to its catalogue entry and group; the default schema when omitted.
    top : int
        How many candidates to keep.

    Returns
    -------
    SizeReport

    Examples
    --------
    >>> box = BoxAnnotation.from_center(500, 500, 50, 48, 30, label="An-124")
    >>> report = check_size(box, gsd=0.5)
    >>> report.label_fits, report.candidates[0].name
    (False, 'Mi-8')
    """
    schema = schema or default_schema()
    length_m, width_m = box_size_m(annotation, gsd)
    any_angle = annotation.is_axis_aligned
    cls = schema.get(annotation.label)
    vehicle_like = cls is not None and cls.group in ("vehicle", "air-defence")
    references = _vehicle_refs() if vehicle_like else _aircraft_refs(schema)
    if cls is not None and cls.group == "helicopter":
        references = [r for r in references if r[1] == "helicopter"] or references
    elif cls is not None and cls.group == "fixed-wing" and cls.catalogue is None:
        references = [r for r in references if r[1] == "fixed-wing"] or references

    ranked, order = [], {}
    for name, kind, ref_len, ref_span in references:
        error, fits = footprint_fit(
            length_m, width_m, ref_len, ref_span, kind=kind, any_angle=any_angle
        )
        ranked.append(SizeCandidate(name, kind, ref_len, ref_span, error, fits))
        # aircraft are ranked by the project's one size model (as `rank_types` does), with
        # the margin analysts leave around a drawn box; vehicles by their footprint error
        order[name] = (
            error
            if kind == "vehicle"
            else size_misfit(
                length_m, width_m, aircraft_catalogue.lookup(name), ratio=TYPICAL_RATIO,
                any_angle=any_angle,
            )
        )  # fmt: skip
    ranked.sort(key=lambda c: (not c.fits, order[c.name]))

    label_fits: bool | None = None
    warning = None
    own = _own_reference(cls)
    size = f"{length_m:.1f} m x {width_m:.1f} m"
    if own is not None:
        name, kind, ref_len, ref_span = own
        _, label_fits = footprint_fit(
            length_m, width_m, ref_len, ref_span, kind=kind, any_angle=any_angle
        )
        if not label_fits:
            best = ", ".join(c.name for c in ranked[:top] if c.fits) or "no catalogue type"
            what = "width" if kind == "vehicle" else "rotor" if kind == "helicopter" else "span"
            warning = (
                f"box {annotation.id[:8]} labelled {annotation.label!r} is {size}; "
                f"the {name} is {ref_len:g} m long, {ref_span:g} m {what}: it cannot fit "
                f"(fits: {best})"
            )
    elif cls is not None and cls.is_aircraft:
        label_fits = any(c.fits for c in ranked)
        if not label_fits:
            warning = (
                f"box {annotation.id[:8]} labelled {annotation.label!r} is {size}; "
                f"no {cls.group} type in the catalogue fits it"
            )
    return SizeReport(
        annotation.id, annotation.label, length_m, width_m, tuple(ranked[:top]), label_fits, warning
    )


def check_sizes(
    annotations: Iterable[BoxAnnotation],
    *,
    gsd: Mapping[str | None, GeoRef | tuple[float, float] | float | None],
    schema: LabelSchema | None = None,
    top: int = 3,
) -> tuple[list[SizeReport], list[str]]:
    """Run `check_size` on many boxes, each with its tile's ground sample distance.

    Parameters
    ----------
    annotations : iterable of BoxAnnotation
        The boxes.
    gsd : mapping
        Tile name -> the tile's `GeoRef` or ground sample distance in metres.
    schema : LabelSchema, optional
        The label schema; the default schema when omitted.
    top : int
        Candidates kept per box.

    Returns
    -------
    reports : list of SizeReport
        One per box whose tile has a ground sample distance.
    skipped : list of str
        One line per box that could not be measured (tile unknown or not georeferenced).
    """
    reports, skipped = [], []
    for a in annotations:
        value = gsd.get(a.tile)
        if isinstance(value, GeoRef) and value.gsd_m is None:
            value = None
        if value is None:
            skipped.append(
                f"box {a.id[:8]} ({a.label}) on tile {a.tile!r}: no ground sample distance "
                "(tile not registered or not georeferenced); give one in `gsd`"
            )
            continue
        reports.append(check_size(a, gsd=value, schema=schema, top=top))
    return reports, skipped


def _gsd_pair(gsd: GeoRef | tuple[float, float] | float) -> tuple[float, float]:
    if isinstance(gsd, GeoRef):
        pair = gsd.gsd_m
        if pair is None:
            from imagery_tool.errors import NotGeoreferencedError

            raise NotGeoreferencedError(
                "the tile has no georeference, so box sizes in metres are unknown; "
                "give the ground sample distance instead"
            )
        return pair
    if isinstance(gsd, int | float):
        pair = (float(gsd), float(gsd))
    else:
        pair = (float(gsd[0]), float(gsd[1]))
    if not all(math.isfinite(g) and g > 0 for g in pair):
        raise ValueError(f"the ground sample distance must be positive metres; got {gsd!r}")
    return pair


def _aircraft_refs(schema: LabelSchema) -> list[tuple[str, str, float, float]]:
    """Return the catalogue types the schema's classes name, or all when it names none.

    A box can only be labelled with the schema's classes; `imagery_tool.aircraft.types.
    rank_types` ranks measured sizes over the whole catalogue.
    """
    types = []
    for cls in schema.classes:
        if cls.catalogue is None or cls.group in ("vehicle", "air-defence"):
            continue
        try:
            types.append(aircraft_catalogue.lookup(cls.catalogue))
        except KeyError:
            continue
    types = types or list(aircraft_catalogue.AIRCRAFT.values())
    return [(t.name, t.kind, t.length_m, t.span_m) for t in dict.fromkeys(types)]


def _vehicle_refs() -> list[tuple[str, str, float, float]]:
    return [
        (v.name, "vehicle", v.length_m, v.width_m) for v in aircraft_catalogue.VEHICLES.values()
    ]


def _own_reference(cls) -> tuple[str, str, float, float] | None:
    if cls is None or cls.catalogue is None:
        return None
    if cls.group in ("vehicle", "air-defence"):
        try:
            v = aircraft_catalogue.lookup_vehicle(cls.catalogue)
        except KeyError:
            return None
        return (v.name, "vehicle", v.length_m, v.width_m)
    try:
        t = aircraft_catalogue.lookup(cls.catalogue)
    except KeyError:
        return None
    return (t.name, t.kind, t.length_m, t.span_m)
