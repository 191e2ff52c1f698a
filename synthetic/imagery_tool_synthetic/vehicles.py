"""Top-down shapes of ground vehicles and static structures (hangars, shelters, buildings)."""

from __future__ import annotations

import numpy as np

from imagery_tool.aircraft_catalogue import lookup_vehicle
from imagery_tool_synthetic.shapes import Body, Part, ellipse, place, rect, rounded_rect

__all__ = ["make_building", "make_hangar", "make_shelter", "make_tank", "make_vehicle"]

_OLIVE = (0.33, 0.35, 0.27)
_CAB = (0.28, 0.30, 0.24)
_DARK = (0.15, 0.16, 0.16)


def make_vehicle(name: str, *, id: str, center: tuple[float, float], heading_deg: float) -> Body:
    """Place a ground vehicle from the footprint catalogue.

    Parameters
    ----------
    name : str
        Vehicle name from :data:`imagery_tool.aircraft_catalogue.VEHICLES`.
    id : str
        Object id.
    center : tuple of float
        Ground (x, y) in metres.
    heading_deg : float
        Front direction, degrees clockwise from north.

    Returns
    -------
    Body
        Kind ``"vehicle"``; the box is the catalogue footprint.
    """
    v = lookup_vehicle(name)
    L, W, H = v.length_m, v.width_m, v.height_m
    x0, x1, y0, y1 = -L / 2, L / 2, -W / 2, W / 2
    cab_len = min(2.4, L * 0.3)
    parts: list[Part]
    if v.name == "fuel truck":
        parts = [
            Part(rect(x0, x1 - cab_len - 0.3, y0 + 0.1, y1 - 0.1), (0.36, 0.38, 0.30), 0.9, H,
                 "tube", W / 2 - 0.1),
            Part(rect(x1 - cab_len, x1, y0, y1), _CAB, 0.8, H - 0.4),
        ]  # fmt: skip
    elif v.name == "Pantsir":
        parts = [
            Part(rect(x0, x1, y0, y1), _OLIVE, 0.8, 2.6),
            Part(rect(x1 - cab_len, x1, y0, y1), _CAB, 0.8, 2.9),
            Part(rect(-2.6, 0.4, -1.3, 1.3), (0.38, 0.40, 0.31), 2.6, H),
            Part(rect(-0.6, 0.2, -1.45, -1.05), _DARK, 3.0, H),
            Part(rect(-0.6, 0.2, 1.05, 1.45), _DARK, 3.0, H),
        ]  # fmt: skip
    elif v.name == "S-400 launcher":
        parts = [
            Part(rect(x1 - 3.0, x1, y0 + 0.1, y1 - 0.1), _CAB, 0.8, 3.0),
            Part(rect(x0, x1 - 3.4, y0, y1), (0.31, 0.33, 0.26), 0.9, 1.8),
            *[
                Part(rect(x0 + 0.3, x1 - 4.0, -1.3 + k * 0.66, -0.7 + k * 0.66),
                     (0.40, 0.42, 0.33), 1.8, H, "tube", 0.33, -1.0 + k * 0.66)
                for k in range(4)
            ],
        ]  # fmt: skip
    elif v.name == "tug":
        parts = [Part(rounded_rect(x0, x1, y0, y1, n=4), (0.72, 0.62, 0.26), 0.4, H)]
    elif v.name == "loader":
        parts = [
            Part(rect(x0, x1, y0, y1), (0.74, 0.66, 0.30), 0.6, 1.6),
            Part(rect(x1 - 1.8, x1, y0, y1 - 0.9), _DARK, 1.6, H),
        ]
    elif v.name == "light vehicle":
        parts = [
            Part(rounded_rect(x0, x1, y0, y1, n=4), (0.40, 0.42, 0.34), 0.5, H),
            Part(rect(0.2, 1.1, y0 + 0.3, y1 - 0.3), _DARK, H, H + 0.05, casts_shadow=False),
        ]
    else:  # cargo truck
        parts = [
            Part(rect(x0, x1 - cab_len - 0.3, y0, y1), (0.42, 0.43, 0.35), 1.0, H),
            Part(rect(x1 - cab_len, x1, y0 + 0.05, y1 - 0.05), _CAB, 0.8, H - 0.3),
        ]
    box = rect(x0, x1, y0, y1)
    return place(parts, id=id, cls=v.name, kind="vehicle", center=center,
                 heading_deg=heading_deg, box=box)  # fmt: skip


def make_shelter(*, id: str, center: tuple[float, float], heading_deg: float,
                 length: float = 34.0, width: float = 24.0,
                 height: float = 8.5) -> Body:  # fmt: skip
    """Place a hardened aircraft shelter (arched roof, berm), door facing `heading_deg`."""
    parts = [
        Part(rect(-length / 2 - 4, length / 2 - 2, -width / 2 - 5, width / 2 + 5),
             (0.52, 0.45, 0.36), 0.0, 1.5, "tube", width / 2 + 5),
        Part(rect(-length / 2, length / 2, -width / 2, width / 2), (0.64, 0.62, 0.57), 0.0,
             height, "tube", width / 2),
        Part(rect(length / 2 - 1.2, length / 2, -width / 2 + 1, width / 2 - 1),
             (0.30, 0.31, 0.31), 0.0, height - 1.5),
    ]  # fmt: skip
    return place(parts, id=id, cls="shelter", kind="structure", center=center,
                 heading_deg=heading_deg)  # fmt: skip


def make_hangar(*, id: str, center: tuple[float, float], heading_deg: float, length: float,
                width: float, height: float, colour=(0.70, 0.72, 0.74)) -> Body:  # fmt: skip
    """Place a gable-roofed hangar; the ridge runs along the body's x axis."""
    parts = [
        Part(rect(-length / 2, length / 2, 0, width / 2), colour, 0.0, height, "normal",
             normal=(0.0, 0.3, 1.0)),
        Part(rect(-length / 2, length / 2, -width / 2, 0), colour, 0.0, height, "normal",
             normal=(0.0, -0.3, 1.0)),
        Part(rect(-length / 2, length / 2, -0.3, 0.3), tuple(c * 0.85 for c in colour),
             height, height + 0.2, casts_shadow=False),
    ]  # fmt: skip
    return place(parts, id=id, cls="hangar", kind="structure", center=center,
                 heading_deg=heading_deg)  # fmt: skip


def make_building(*, id: str, center: tuple[float, float], heading_deg: float, length: float,
                  width: float, height: float, colour: tuple[float, float, float],
                  rng: np.random.Generator) -> Body:  # fmt: skip
    """Place a flat-roofed building with a parapet and a few roof units."""
    parts = [
        Part(rect(-length / 2, length / 2, -width / 2, width / 2),
             tuple(c * 0.82 for c in colour), 0.0, height),
        Part(rect(-length / 2 + 0.6, length / 2 - 0.6, -width / 2 + 0.6, width / 2 - 0.6),
             colour, height, height + 0.05, casts_shadow=False),
    ]  # fmt: skip
    for _ in range(int(rng.integers(0, 4))):
        ux = float(rng.uniform(-length / 2 + 2, length / 2 - 4))
        uy = float(rng.uniform(-width / 2 + 2, width / 2 - 3))
        parts.append(Part(rect(ux, ux + 2.0, uy, uy + 1.5), (0.80, 0.80, 0.79), height,
                          height + 1.2))  # fmt: skip
    return place(parts, id=id, cls="building", kind="structure", center=center,
                 heading_deg=heading_deg)  # fmt: skip


def make_tank(*, id: str, center: tuple[float, float], diameter: float, height: float) -> Body:
    """Place a cylindrical fuel tank (light roof, round shadow)."""
    r = diameter / 2
    parts = [
        Part(ellipse(0, 0, r, r, n=32), (0.78, 0.78, 0.76), 0.0, height),
        Part(ellipse(0, 0, r * 0.25, r * 0.25, n=12), (0.66, 0.66, 0.64), height, height + 0.3),
    ]
    return place(parts, id=id, cls="tank", kind="structure", center=center, heading_deg=0.0)
