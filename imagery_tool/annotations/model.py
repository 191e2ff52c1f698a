"""The box annotation: four corners on a tile's pixel grid plus class, attributes and review."""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from imagery_tool.geometry import signed_area
from imagery_tool.georef import GeoRef

__all__ = ["MAX_COORD_PX", "REVIEW_STATUSES", "SOURCES", "BoxAnnotation", "new_id", "utc_now"]

REVIEW_STATUSES = ("unreviewed", "accepted", "rejected")
SOURCES = ("manual", "detected", "assisted", "proposed")

# Bound on any corner coordinate, pixels. The longest satellite strips are about 1e5 px and GDAL
# tiles top out near 1e6 px a side, so 1e7 leaves ten times that for boxes reaching outside
# their tile. Beyond it a value is an error in the file, not a box: at 1e15 px the area
# (1e30) and the float32 of OpenCV lose every pixel of precision, and at 1e154 it overflows.
MAX_COORD_PX = 1e7

# Edges within this many degrees of the pixel axes count as axis-aligned.
_AXIS_TOLERANCE_DEG = 1e-6


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 with milliseconds (``2026-11-27T16:20:00.123Z``).

    This is the GeoPackage ``DATETIME`` format, so the same text goes to every file.
    """
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id() -> str:
    """Return a new annotation id: a random UUID as a 36-character string."""
    return str(uuid.uuid4())


@dataclass(frozen=True, eq=True)
class BoxAnnotation:
    """One box on a tile: axis-aligned or oriented, with class, attributes and review.

    Geometry is four corners ``(x, y)`` = ``(col, row)`` in continuous pixel coordinates of the
    tile (``(0, 0)`` is the top-left corner of the top-left pixel). Corners run clockwise as seen
    on screen, starting at the front-left corner, so that the first edge (corner 0 -> 1) is the
    head (an aircraft's nose): the heading survives every format that keeps corner order.
    Corners given counter-clockwise are reordered, keeping the first edge as the head.

    Parameters
    ----------
    corners : (4, 2) array_like of float
        ``(x, y)`` of the four corners.
    label : str
        Class name from the label schema (e.g. ``"An-124"``).
    attributes : mapping
        Attribute values by name (e.g. ``{"nose_open": True}``); JSON types only.
    id : str
        A UUID string; a new one by default.
    review : {"unreviewed", "accepted", "rejected"}
        Review status.
    reviewer, review_note : str or None
        Who reviewed the box and why.
    author : str or None
        Who drew (or which detector produced) the box.
    created, modified : str
        UTC times, ISO 8601 (`utc_now`).
    tile : str or None
        Name of the tile the corners refer to (its file name, e.g. ``"hmeimim_2024-12-13.tif"``).
    acquired : str or None
        Acquisition date/time of the tile, ISO 8601.
    source : {"manual", "detected", "assisted", "proposed"}
        Drawn by an analyst, produced by the change detector, fitted from an analyst's click
        (click-to-box), or proposed by the single-date aircraft finder.
    score : float or None
        Detection or fit score in [0, 1] for the machine-made sources.
    revision : int
        Row version in a store (0 for a box not stored yet). Not compared by ``==``.

    Examples
    --------
    >>> box = BoxAnnotation.from_center(100, 80, 40, 20, 90, label="An-124")
    >>> box.corners[0], round(box.angle_deg), box.length_px, box.is_axis_aligned
    ((120.0, 70.0), 90, 40.0, True)
    """

    corners: tuple[tuple[float, float], ...]
    label: str
    _: KW_ONLY
    attributes: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_id)
    review: str = "unreviewed"
    reviewer: str | None = None
    review_note: str | None = None
    author: str | None = None
    created: str = field(default_factory=utc_now)
    modified: str = ""
    tile: str | None = None
    acquired: str | None = None
    source: str = "manual"
    score: float | None = None
    revision: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        xy = np.asarray(self.corners, dtype=np.float64)
        if xy.shape != (4, 2):
            raise ValueError(f"a box needs 4 corners (x, y); got an array of shape {xy.shape}")
        if not np.isfinite(xy).all():
            raise ValueError(f"box corners must be finite numbers; got {xy.tolist()}")
        if np.abs(xy).max() > MAX_COORD_PX:
            raise ValueError(
                f"box corners must lie within +-{MAX_COORD_PX:g} px; got {xy.tolist()}"
            )
        area = signed_area(xy)  # positive for corners clockwise on screen (x right, y down)
        if abs(area) < 1e-9:
            raise ValueError(f"box corners enclose no area: {xy.tolist()}")
        if area < 0:  # counter-clockwise on screen: reverse, keeping edge 0-1 the head edge
            xy = xy[[1, 0, 3, 2]]
        object.__setattr__(self, "corners", tuple((float(x), float(y)) for x, y in xy))
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError(f"a box needs a class label; got {self.label!r}")
        if self.review not in REVIEW_STATUSES:
            raise ValueError(f"review must be one of {REVIEW_STATUSES}; got {self.review!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}; got {self.source!r}")
        if self.score is not None:
            score = float(self.score)
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"score must be in [0, 1]; got {self.score!r}")
            object.__setattr__(self, "score", score)
        if not isinstance(self.attributes, Mapping):
            raise ValueError(f"attributes must be a mapping; got {type(self.attributes).__name__}")
        object.__setattr__(self, "attributes", dict(self.attributes))
        if not self.modified:
            object.__setattr__(self, "modified", self.created)

    def __hash__(self) -> int:
        return hash(self.id)

    # -- constructors --------------------------------------------------------------------------

    @classmethod
    def from_xyxy(
        cls, x_min: float, y_min: float, x_max: float, y_max: float, *, label: str, **fields
    ) -> BoxAnnotation:
        """Make an axis-aligned box from its pixel bounds; the head is the top edge.

        Parameters
        ----------
        x_min, y_min, x_max, y_max : float
            Left, top, right and bottom edges in continuous pixel coordinates.
        label : str
            Class name.
        **fields
            Any other `BoxAnnotation` field (``attributes``, ``author``, ...).
        """
        if not (x_max > x_min and y_max > y_min):
            raise ValueError(
                f"box bounds must have x_max > x_min and y_max > y_min; "
                f"got {(x_min, y_min, x_max, y_max)}"
            )
        corners = ((x_min, y_min), (x_max, y_min), (x_max, y_max), (x_min, y_max))
        return cls(corners, label, **fields)

    @classmethod
    def from_center(
        cls,
        cx: float,
        cy: float,
        length: float,
        width: float,
        angle_deg: float,
        *,
        label: str,
        **fields,
    ) -> BoxAnnotation:
        """Make an oriented box from its centre, size and heading.

        Parameters
        ----------
        cx, cy : float
            Centre in pixels.
        length : float
            Size along the heading (nose to tail), pixels.
        width : float
            Size across the heading (wingspan), pixels.
        angle_deg : float
            Heading in degrees clockwise from image up: 0 points the head at row 0, 90 at the
            right edge (on a north-up tile: the bearing from grid north).
        label : str
            Class name.
        **fields
            Any other `BoxAnnotation` field.
        """
        if not (length > 0 and width > 0):
            raise ValueError(f"length and width must be positive; got {length}, {width}")
        a = math.radians(angle_deg)
        hx, hy = math.sin(a), -math.cos(a)  # unit vector towards the head
        rx, ry = math.cos(a), math.sin(a)  # unit vector to the right of the heading
        fl, fw = length / 2, width / 2
        corners = (
            (cx + hx * fl - rx * fw, cy + hy * fl - ry * fw),
            (cx + hx * fl + rx * fw, cy + hy * fl + ry * fw),
            (cx - hx * fl + rx * fw, cy - hy * fl + ry * fw),
            (cx - hx * fl - rx * fw, cy - hy * fl - ry * fw),
        )
        return cls(_snap(corners), label, **fields)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BoxAnnotation:
        """Rebuild a box from `to_dict` output."""
        names = {f.name for f in dataclasses.fields(cls)} - {"_"}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown annotation fields: {sorted(unknown)}")
        values = dict(data)
        return cls(values.pop("corners"), values.pop("label"), **values)

    # -- geometry ------------------------------------------------------------------------------

    @property
    def xy(self) -> np.ndarray:
        """The corners as a new ``(4, 2)`` float64 array of ``(x, y)``."""
        return np.array(self.corners, dtype=np.float64)

    @property
    def center(self) -> tuple[float, float]:
        """``(x, y)`` of the mean of the corners."""
        c = self.xy.mean(axis=0)
        return (float(c[0]), float(c[1]))

    @property
    def angle_deg(self) -> float:
        """Heading in degrees clockwise from image up, in ``[0, 360)`` (see `from_center`)."""
        xy = self.xy
        v = (xy[0] + xy[1]) / 2 - xy.mean(axis=0)
        return math.degrees(math.atan2(v[0], -v[1])) % 360.0

    @property
    def length_px(self) -> float:
        """Mean length of the two sides along the heading, pixels."""
        xy = self.xy
        return float((_dist(xy[1], xy[2]) + _dist(xy[3], xy[0])) / 2)

    @property
    def width_px(self) -> float:
        """Mean length of the head and tail edges, pixels."""
        xy = self.xy
        return float((_dist(xy[0], xy[1]) + _dist(xy[2], xy[3])) / 2)

    @property
    def is_axis_aligned(self) -> bool:
        """Whether every edge is parallel to a pixel axis."""
        xy = self.xy
        edges = np.roll(xy, -1, axis=0) - xy
        angles = np.degrees(np.arctan2(edges[:, 1], edges[:, 0])) % 90.0
        off = np.minimum(angles, 90.0 - angles)
        return bool((off <= _AXIS_TOLERANCE_DEG).all())

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(x_min, y_min, x_max, y_max)`` of the corners in pixels."""
        xy = self.xy
        return (
            float(xy[:, 0].min()),
            float(xy[:, 1].min()),
            float(xy[:, 0].max()),
            float(xy[:, 1].max()),
        )

    @property
    def area_px(self) -> float:
        """Area enclosed by the corners, square pixels."""
        return abs(signed_area(self.xy))

    def lonlat(self, georef: GeoRef) -> np.ndarray:
        """Return the corners in ``(lon, lat)`` degrees (WGS 84).

        Parameters
        ----------
        georef : GeoRef
            The georeference of the tile the corners are on.

        Returns
        -------
        (4, 2) float64 ndarray
            ``(lon, lat)`` of the corners, in corner order.

        Raises
        ------
        NotGeoreferencedError
            When the tile has no CRS.
        """
        xy = self.xy
        lon, lat = georef.pixel_to_lonlat(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    def outside(self, height: int, width: int, *, tolerance: float = 1e-6) -> bool:
        """Whether any corner lies outside a ``height`` x ``width`` pixel grid."""
        x0, y0, x1, y1 = self.bounds
        return (
            x0 < -tolerance or y0 < -tolerance or x1 > width + tolerance or y1 > height + tolerance
        )

    # -- edits ---------------------------------------------------------------------------------

    def replace(self, **changes: Any) -> BoxAnnotation:
        """Return a copy with ``changes`` applied and ``modified`` set to now (unless given)."""
        changes.setdefault("modified", utc_now())
        return dataclasses.replace(self, **changes)

    def reviewed(self, status: str, *, reviewer: str, note: str | None = None) -> BoxAnnotation:
        """Return a copy with review ``status`` {"unreviewed", "accepted", "rejected"} set."""
        return self.replace(review=status, reviewer=reviewer, review_note=note)

    def to_dict(self) -> dict[str, Any]:
        """Return every field as JSON-compatible values (corners as lists)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "_"}
        out["corners"] = [list(c) for c in self.corners]
        out["attributes"] = dict(self.attributes)
        return out

    def same_as(self, other: BoxAnnotation, *, tolerance_px: float = 1e-6) -> bool:
        """Whether ``other`` has the same fields and corners within ``tolerance_px``."""
        a, b = self.to_dict(), other.to_dict()
        ca, cb = np.array(a.pop("corners")), np.array(b.pop("corners"))
        return a == b and bool(np.abs(ca - cb).max() <= tolerance_px)


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(math.hypot(*(a - b)))


def _snap(corners: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Round away trigonometric noise (1e-12 px) so right angles give exact integers."""
    return tuple((round(x, 9) + 0.0, round(y, 9) + 0.0) for x, y in corners)
