"""Primitive parts (3-D extruded polygons in metres) and the placed bodies made of them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = [
    "Body",
    "Part",
    "ellipse",
    "heading_vectors",
    "place",
    "rect",
    "rounded_rect",
    "trapezoid_wing",
]

Shade = Literal["flat", "tube", "normal"]


@dataclass(frozen=True)
class Part:
    """One convex piece of an object, in the object's body frame.

    The body frame has x forward (towards the nose / front) and y to the right, in metres;
    z is height above the ground.

    Attributes
    ----------
    outline : (N, 2) float ndarray
        Convex top-view polygon (x, y) in metres.
    colour : tuple of float
        RGB in [0, 1].
    z0, z1 : float
        Bottom and top heights in metres; the shadow is the outline swept from z0 to z1.
    shade : {"flat", "tube", "normal"}
        ``"tube"`` shades a cylinder along x of radius `radius` centred at ``y = axis_y``;
        ``"normal"`` shades a plane with the given `normal`; ``"flat"`` does not shade.
    radius, axis_y : float
        Tube radius and lateral position (``"tube"`` only).
    normal : tuple of float or None
        Plane normal (x, y, z) in the body frame (``"normal"`` only).
    camo : tuple of float or None
        Second RGB colour laid in noise blotches (camouflage), or None.
    shadow3d : (M, 3) float ndarray or None
        Explicit 3-D points whose projected hull is the shadow (vertical plates such as fins).
    casts_shadow : bool
        False for paint and flat markings.
    """

    outline: np.ndarray
    colour: tuple[float, float, float]
    z0: float = 0.0
    z1: float = 0.0
    shade: Shade = "flat"
    radius: float = 1.0
    axis_y: float = 0.0
    normal: tuple[float, float, float] | None = None
    camo: tuple[float, float, float] | None = None
    shadow3d: np.ndarray | None = None
    casts_shadow: bool = True


@dataclass(frozen=True)
class Body:
    """An object placed on the ground: aircraft, vehicle or structure.

    Attributes
    ----------
    id : str
        Unique id within a scene, e.g. ``"an124-1"``.
    cls : str
        Class name: an aircraft type (``"An-124"``), a vehicle name or a structure kind.
    kind : {"aircraft", "vehicle", "structure"}
        Object kind.
    center : tuple of float
        (x, y) ground position in metres (x east, y south, from the scene's upper-left corner).
    heading_deg : float
        Direction of the body's x axis, degrees clockwise from north.
    parts : tuple of Part
        Drawn in order (later parts on top).
    box : (4, 2) float ndarray
        Oriented box in the body frame, clockwise from front-left:
        front-left, front-right, rear-right, rear-left.
    attributes : dict
        Free attributes (``{"nose_open": True}``).
    """

    id: str
    cls: str
    kind: str
    center: tuple[float, float]
    heading_deg: float
    parts: tuple[Part, ...]
    box: np.ndarray
    attributes: dict = field(default_factory=dict)

    @property
    def length_m(self) -> float:
        """Length of the oriented box (along the body's x axis) in metres."""
        return float(self.box[0, 0] - self.box[3, 0])

    @property
    def width_m(self) -> float:
        """Width of the oriented box (across the body) in metres."""
        return float(self.box[1, 1] - self.box[0, 1])

    def to_ground(self, pts: np.ndarray) -> np.ndarray:
        """Map (N, 2) body-frame points to (N, 2) ground (x, y) in metres."""
        f, r = heading_vectors(self.heading_deg)
        pts = np.asarray(pts, dtype=np.float64)
        return np.asarray(self.center) + pts[:, :1] * f + pts[:, 1:2] * r

    def box_ground(self) -> np.ndarray:
        """Oriented box corners as (4, 2) ground (x, y) in metres."""
        return self.to_ground(self.box)


def heading_vectors(heading_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Forward and right unit vectors in the ground frame (x east, y south) for a heading.

    Parameters
    ----------
    heading_deg : float
        Degrees clockwise from north.

    Returns
    -------
    forward, right : (2,) float ndarray
    """
    h = math.radians(heading_deg)
    return np.array([math.sin(h), -math.cos(h)]), np.array([math.cos(h), math.sin(h)])


def place(
    parts: list[Part] | tuple[Part, ...],
    *,
    id: str,
    cls: str,
    kind: str,
    center: tuple[float, float],
    heading_deg: float,
    attributes: dict | None = None,
    box: np.ndarray | None = None,
) -> Body:
    """Make a :class:`Body` from parts; the box defaults to the parts' extent.

    Parameters
    ----------
    parts : sequence of Part
        Parts in the body frame.
    id, cls, kind : str
        See :class:`Body`.
    center : tuple of float
        Ground (x, y) in metres.
    heading_deg : float
        Degrees clockwise from north.
    attributes : dict, optional
        Object attributes.
    box : (4, 2) ndarray, optional
        Explicit oriented box in the body frame.

    Returns
    -------
    Body
    """
    if box is None:
        pts = np.concatenate([p.outline for p in parts])
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        box = np.array([[x1, y0], [x1, y1], [x0, y1], [x0, y0]], dtype=np.float64)
    return Body(
        id=id,
        cls=cls,
        kind=kind,
        center=(float(center[0]), float(center[1])),
        heading_deg=float(heading_deg),
        parts=tuple(parts),
        box=box,
        attributes=dict(attributes or {}),
    )


def rect(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Axis-aligned rectangle as a (4, 2) polygon in body coordinates."""
    return np.array([[x1, y0], [x1, y1], [x0, y1], [x0, y0]], dtype=np.float64)


def ellipse(cx: float, cy: float, rx: float, ry: float, *, n: int = 24) -> np.ndarray:
    """Ellipse as an (n, 2) polygon."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def rounded_rect(x0: float, x1: float, y0: float, y1: float, *, n: int = 6) -> np.ndarray:
    """Rectangle with semicircular ends along x (a capsule), e.g. an engine nacelle."""
    r = (y1 - y0) / 2
    cy = (y0 + y1) / 2
    a = np.linspace(-np.pi / 2, np.pi / 2, n)
    front = np.stack([x1 - r + r * np.cos(a), cy + r * np.sin(a)], axis=1)
    back = np.stack([x0 + r - r * np.cos(a), cy - r * np.sin(a)], axis=1)
    return np.concatenate([front, back])


def trapezoid_wing(
    *,
    root_x: float,
    root_chord: float,
    tip_chord: float,
    semispan: float,
    sweep_le_deg: float,
    root_y: float = 0.0,
    side: int = 1,
) -> np.ndarray:
    """One wing half as a (4, 2) polygon.

    Parameters
    ----------
    root_x : float
        x of the root leading edge (body frame, forward positive).
    root_chord, tip_chord : float
        Chords in metres.
    semispan : float
        Lateral distance from the body axis to the tip, in metres.
    sweep_le_deg : float
        Leading-edge sweep angle, degrees (positive = swept back).
    root_y : float, optional
        Lateral position of the root (usually the fuselage side or 0).
    side : {1, -1}
        Right (+1) or left (-1) wing.

    Returns
    -------
    (4, 2) float ndarray
    """
    dy = semispan - root_y
    tip_x = root_x - dy * math.tan(math.radians(sweep_le_deg))
    return np.array(
        [
            [root_x, side * root_y],
            [tip_x, side * semispan],
            [tip_x - tip_chord, side * semispan],
            [root_x - root_chord, side * root_y],
        ],
        dtype=np.float64,
    )
