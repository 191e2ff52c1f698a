"""Top-down silhouettes of aircraft types, drawn to the catalogue's length and span."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from imagery_tool.aircraft_catalogue import AIRCRAFT, lookup
from imagery_tool_synthetic.shapes import (
    Body,
    Part,
    ellipse,
    place,
    rect,
    rounded_rect,
    trapezoid_wing,
)

__all__ = ["AIRCRAFT_BUILDERS", "make_aircraft"]

RGB = tuple[float, float, float]

_DARK: RGB = (0.16, 0.17, 0.18)
_GLASS: RGB = (0.10, 0.12, 0.15)
_NOZZLE: RGB = (0.22, 0.21, 0.20)


def _fuselage(
    *,
    nose_x: float,
    tail_x: float,
    width: float,
    nose_len: float,
    tail_len: float,
    tail_width: float,
    n: int = 10,
) -> np.ndarray:
    """Convex top-view fuselage outline: elliptic nose, straight body, linear tail cone."""
    r = width / 2
    a = np.linspace(0, np.pi / 2, n)
    nose_r = np.stack([nose_x - nose_len + nose_len * np.cos(a), r * np.sin(a)], axis=1)
    right = np.concatenate([nose_r, [[tail_x + tail_len, r], [tail_x, tail_width / 2]]])
    left = right[::-1] * [1, -1]
    return np.concatenate([right, left])


def _mirror(poly: np.ndarray) -> np.ndarray:
    return poly * [1, -1]


def _both(parts: list[Part]) -> list[Part]:
    """Each part plus its mirror image across the body axis."""
    out = []
    for p in parts:
        out.append(p)
        out.append(
            Part(
                _mirror(p.outline)[::-1],
                p.colour,
                p.z0,
                p.z1,
                p.shade,
                p.radius,
                -p.axis_y,
                None if p.normal is None else (p.normal[0], -p.normal[1], p.normal[2]),
                p.camo,
                None if p.shadow3d is None else p.shadow3d * [1, -1, 1],
                p.casts_shadow,
            )
        )
    return out


def _fin(
    *, root_le: float, root_chord: float, tip_chord: float, z0: float, z1: float,
    sweep_deg: float, colour: RGB, thick: float = 0.6, y: float = 0.0,
) -> Part:  # fmt: skip
    """Make a vertical fin: thin from above, with a long swept shadow."""
    tip_le = root_le - (z1 - z0) * math.tan(math.radians(sweep_deg))
    x_front = max(root_le, tip_le)
    x_back = min(root_le - root_chord, tip_le - tip_chord)
    shadow = np.array(
        [
            [root_le, y, z0],
            [tip_le, y, z1],
            [tip_le - tip_chord, y, z1],
            [root_le - root_chord, y, z0],
        ]
    )
    return Part(
        rounded_rect(x_back, x_front, y - thick / 2, y + thick / 2, n=4),
        colour, z0, z1, shadow3d=shadow,
    )  # fmt: skip


def _engine(x_front: float, length: float, dia: float, y: float, z: float, colour: RGB) -> list:
    """Make an engine pod (tube-shaded) with a dark intake lip."""
    body = Part(
        rounded_rect(x_front - length, x_front, y - dia / 2, y + dia / 2),
        colour, z - dia / 2, z + dia / 2, "tube", dia / 2, y,
    )  # fmt: skip
    intake = Part(rect(x_front - 0.35, x_front, y - dia * 0.42, y + dia * 0.42), _DARK, z, z + 0.1)
    return [body, intake]


def _transport(
    L: float, S: float, *, width: float, nose_len: float, tail_len: float, wing_le: float,
    root_chord: float, tip_chord: float, sweep: float, high: bool, z_wing: float,
    engines: list[tuple[float, float, float, float]], tp_le: float, tp_root: float,
    tp_tip: float, tp_span: float, tp_sweep: float, fin_le: float, fin_root: float,
    fin_tip: float, fin_z: tuple[float, float], fin_sweep: float, t_tail: bool,
    colour: RGB, wing_colour: RGB, engine_colour: RGB, turboprop: bool = False,
    nose_open: bool = False, glazed_nose: bool = False,
) -> list[Part]:  # fmt: skip
    """Build a generic transport-aircraft planform; the body frame origin is the box centre."""
    nose_x, tail_x = L / 2, -L / 2
    fus_top = z_wing + (0.6 if high else 1.5)
    r = width / 2
    fus_x0 = nose_x - 6.5 if nose_open else nose_x
    fus = Part(
        _fuselage(
            nose_x=fus_x0 + (1.2 if nose_open else 0), tail_x=tail_x, width=width,
            nose_len=1.2 if nose_open else nose_len, tail_len=tail_len,
            tail_width=width * 0.22,
        ),
        colour, 0.8, fus_top, "tube", r, 0.0,
    )  # fmt: skip
    wings = _both(
        [
            Part(
                trapezoid_wing(
                    root_x=wing_le, root_chord=root_chord, tip_chord=tip_chord,
                    semispan=S / 2, sweep_le_deg=sweep, root_y=0.0 if high else r * 0.8,
                ),
                wing_colour, z_wing, z_wing + 0.8, "normal", normal=(0.0, 0.06, 1.0),
            )
        ]
    )  # fmt: skip
    eng: list[Part] = []
    le_tan = math.tan(math.radians(sweep))
    for y, ahead, length, dia in engines:
        xf = wing_le - y * le_tan + ahead
        if turboprop:
            eng += _engine(xf, length, dia, y, z_wing - 0.3, engine_colour)
            eng.append(Part(ellipse(xf + 0.25, y, 0.25, 2.2, n=12), _DARK, z_wing, z_wing + 0.1))
        else:
            eng += _engine(xf, length, dia, y, z_wing - dia, engine_colour)
    eng = _both(eng)
    tz = fin_z[1] if t_tail else fin_z[0] + 0.5
    tail = _both(
        [
            Part(
                trapezoid_wing(
                    root_x=tp_le, root_chord=tp_root, tip_chord=tp_tip, semispan=tp_span / 2,
                    sweep_le_deg=tp_sweep, root_y=0.0,
                ),
                wing_colour, tz, tz + 0.5, "normal", normal=(0.0, 0.0, 1.0),
            )
        ]
    )  # fmt: skip
    fin = _fin(
        root_le=fin_le, root_chord=fin_root, tip_chord=fin_tip, z0=fin_z[0], z1=fin_z[1],
        sweep_deg=fin_sweep, colour=colour, thick=0.9,
    )  # fmt: skip
    cockpit_x = (fus_x0 if nose_open else nose_x - nose_len * 0.55) - 0.4
    glass = Part(
        np.array(
            [[cockpit_x + 0.6, -r * 0.35], [cockpit_x + 0.6, r * 0.35],
             [cockpit_x - 0.5, r * 0.55], [cockpit_x - 0.5, -r * 0.55]]
        ),
        _GLASS, fus_top, fus_top + 0.1, casts_shadow=False,
    )  # fmt: skip
    parts: list[Part] = []
    if high:
        parts += eng + [fus] + wings
    else:
        parts += wings + eng + [fus]
    parts += tail if not t_tail else []
    parts += [fin]
    parts += tail if t_tail else []
    if glazed_nose and not nose_open:
        parts.append(Part(ellipse(nose_x - 1.0, 0, 1.0, r * 0.45, n=12), _GLASS, 2, 2.1))
    parts.append(glass)
    if nose_open:
        parts += _open_visor(fus_x0, width, fus_top, colour)
    return parts


def _open_visor(cut_x: float, width: float, top: float, colour: RGB) -> list[Part]:
    """Draw a raised nose visor from above: ramp, dark hold mouth, short bright visor."""
    r = width / 2
    ramp = Part(rect(cut_x, cut_x + 6.0, -2.4, 2.4), (0.40, 0.40, 0.39), 0.0, 0.6)
    mouth = Part(rect(cut_x - 0.3, cut_x + 1.4, -r * 0.92, r * 0.92), _DARK, 0.5, 1.0)
    visor_len, angle = 7.0, math.radians(72)
    hinge_z = top - 0.3
    reach = visor_len * math.cos(angle)
    visor = Part(
        np.concatenate(
            [
                ellipse(cut_x + 0.6, 0, reach + 0.2, r * 0.78, n=20)[
                    np.abs(np.linspace(0, 2 * np.pi, 20, endpoint=False) - np.pi) > np.pi / 2
                ]
            ]
        ),
        tuple(min(1.0, c * 1.12) for c in colour), hinge_z, hinge_z + 0.3,
        shadow3d=np.array(
            [[cut_x, -r * 0.8, hinge_z], [cut_x, r * 0.8, hinge_z],
             [cut_x + reach, r * 0.6, hinge_z + visor_len * math.sin(angle)],
             [cut_x + reach, -r * 0.6, hinge_z + visor_len * math.sin(angle)]]
        ),
    )  # fmt: skip
    return [ramp, mouth, visor]


def _an124(nose_open: bool) -> list[Part]:
    c: RGB = (0.86, 0.87, 0.87)
    return _transport(
        69.1, 73.3, width=7.3, nose_len=7.5, tail_len=20.0, wing_le=8.0, root_chord=14.0,
        tip_chord=3.6, sweep=33.0, high=True, z_wing=7.6,
        engines=[(11.5, 5.2, 9.0, 2.9), (21.0, 5.2, 9.0, 2.9)],
        tp_le=-22.0, tp_root=7.5, tp_tip=2.6, tp_span=27.0, tp_sweep=33.0,
        fin_le=-18.5, fin_root=12.5, fin_tip=5.2, fin_z=(9.0, 20.8), fin_sweep=40.0,
        t_tail=False, colour=c, wing_colour=(0.80, 0.81, 0.82), engine_colour=(0.74, 0.75, 0.76),
        nose_open=nose_open,
    )  # fmt: skip


def _il76(nose_open: bool) -> list[Part]:
    c: RGB = (0.76, 0.78, 0.80)
    return _transport(
        46.6, 50.5, width=4.9, nose_len=5.5, tail_len=12.0, wing_le=4.5, root_chord=9.5,
        tip_chord=3.2, sweep=27.0, high=True, z_wing=5.2,
        engines=[(8.2, 4.2, 5.8, 1.9), (14.3, 4.2, 5.8, 1.9)],
        tp_le=-18.0, tp_root=4.4, tp_tip=2.0, tp_span=17.4, tp_sweep=18.0,
        fin_le=-12.0, fin_root=9.0, fin_tip=3.9, fin_z=(6.0, 14.7), fin_sweep=40.0,
        t_tail=True, colour=c, wing_colour=(0.70, 0.72, 0.74), engine_colour=(0.64, 0.65, 0.66),
        glazed_nose=True,
    )  # fmt: skip


def _an26(nose_open: bool) -> list[Part]:
    return _transport(
        23.8, 29.2, width=2.9, nose_len=3.0, tail_len=8.0, wing_le=3.2, root_chord=3.6,
        tip_chord=1.5, sweep=6.0, high=True, z_wing=4.3,
        engines=[(3.9, 2.6, 6.5, 1.3)],
        tp_le=-7.6, tp_root=2.6, tp_tip=1.2, tp_span=9.9, tp_sweep=12.0,
        fin_le=-6.5, fin_root=4.5, fin_tip=2.0, fin_z=(4.8, 8.6), fin_sweep=35.0,
        t_tail=False, colour=(0.72, 0.74, 0.72), wing_colour=(0.66, 0.68, 0.66),
        engine_colour=(0.60, 0.62, 0.60), turboprop=True,
    )  # fmt: skip


def _il20(nose_open: bool) -> list[Part]:
    parts = _transport(
        35.9, 37.4, width=3.5, nose_len=3.5, tail_len=8.5, wing_le=5.0, root_chord=5.6,
        tip_chord=2.0, sweep=4.0, high=False, z_wing=2.4,
        engines=[(5.6, 3.6, 6.5, 1.3), (11.2, 3.2, 6.0, 1.2)],
        tp_le=-12.5, tp_root=3.6, tp_tip=1.6, tp_span=11.8, tp_sweep=10.0,
        fin_le=-10.5, fin_root=5.5, fin_tip=2.5, fin_z=(3.5, 10.2), fin_sweep=30.0,
        t_tail=False, colour=(0.86, 0.87, 0.88), wing_colour=(0.70, 0.72, 0.74),
        engine_colour=(0.66, 0.67, 0.68), turboprop=True,
    )  # fmt: skip
    # The long ventral SLAR pod shows beside the fuselage as a thin dark line on each side.
    pods = _both([Part(rect(2.5, 12.5, 1.75, 2.15), (0.55, 0.56, 0.56), 0.4, 1.4)])
    return pods + parts


def _tu154(nose_open: bool) -> list[Part]:
    parts = _transport(
        48.0, 37.6, width=3.8, nose_len=4.5, tail_len=9.0, wing_le=2.0, root_chord=9.5,
        tip_chord=2.2, sweep=38.0, high=False, z_wing=2.6,
        engines=[(2.9, -13.7, 7.5, 1.7)],
        tp_le=-17.8, tp_root=3.8, tp_tip=1.4, tp_span=13.4, tp_sweep=35.0,
        fin_le=-12.0, fin_root=7.5, fin_tip=3.6, fin_z=(4.5, 11.4), fin_sweep=40.0,
        t_tail=True, colour=(0.90, 0.90, 0.91), wing_colour=(0.72, 0.74, 0.76),
        engine_colour=(0.80, 0.80, 0.81),
    )  # fmt: skip
    # The centre engine's S-duct intake shows as a dark oval ahead of the fin.
    return [*parts, Part(ellipse(-11.6, 0.0, 0.9, 0.75, n=12), _DARK, 5.0, 5.1)]


def _flanker(L: float, S: float, *, canards: bool, wide_nose: bool, colour: RGB,
             camo: RGB) -> list[Part]:  # fmt: skip
    """Su-27 family planform (Su-34, Su-35): lifting body, twin fins, tail sting."""
    nose, tail = L / 2, -L / 2
    nw = 2.3 if wide_nose else 1.5
    front = Part(
        _fuselage(nose_x=nose, tail_x=nose - 9.0, width=nw, nose_len=4.5 if wide_nose else 5.5,
                  tail_len=0.1, tail_width=nw),
        colour, 1.6, 3.6, "tube", nw / 2, 0.0, camo=camo,
    )  # fmt: skip
    body = Part(
        np.array(
            [[nose - 7.0, 0.0], [nose - 7.0, 0.9], [-0.5, 2.7], [tail + 5.5, 2.5],
             [tail + 4.0, 1.9], [tail + 4.0, -1.9], [tail + 5.5, -2.5], [-0.5, -2.7],
             [nose - 7.0, -0.9]]
        ),
        colour, 1.4, 3.2, "tube", 2.7, 0.0, camo=camo,
    )  # fmt: skip
    wing = _both(
        [
            Part(
                trapezoid_wing(root_x=0.5, root_chord=6.8, tip_chord=1.6, semispan=S / 2,
                               sweep_le_deg=42.0, root_y=2.4),
                colour, 2.0, 2.4, camo=camo,
            )
        ]
    )  # fmt: skip
    tp = _both(
        [
            Part(
                trapezoid_wing(root_x=tail + 5.6, root_chord=3.4, tip_chord=1.2,
                               semispan=S * 0.33, sweep_le_deg=45.0, root_y=2.2),
                colour, 2.0, 2.3, camo=camo,
            )
        ]
    )  # fmt: skip
    nozzles = _both([Part(rect(tail + 3.0, tail + 4.2, 0.5, 1.8), _NOZZLE, 1.5, 2.5)])
    sting = Part(rounded_rect(tail, tail + 4.5, -0.45, 0.45), colour, 2.0, 2.8, camo=camo)
    fins = [
        _fin(root_le=tail + 8.0, root_chord=3.8, tip_chord=1.6, z0=3.0, z1=6.0,
             sweep_deg=40.0, colour=colour, y=side * 2.1, thick=0.5)
        for side in (1, -1)
    ]  # fmt: skip
    glass = Part(ellipse(nose - 5.5, 0, 1.4, nw * 0.38, n=14), _GLASS, 3.6, 3.7, casts_shadow=False)
    parts = wing + tp + [body, sting] + nozzles + [front, glass] + fins
    if canards:
        parts += _both(
            [
                Part(
                    trapezoid_wing(root_x=nose - 7.3, root_chord=2.4, tip_chord=0.6,
                                   semispan=3.2, sweep_le_deg=50.0, root_y=1.0),
                    colour, 2.4, 2.6, camo=camo,
                )
            ]
        )  # fmt: skip
    return parts


def _su34(nose_open: bool) -> list[Part]:
    return _flanker(23.3, 14.7, canards=True, wide_nose=True,
                    colour=(0.52, 0.58, 0.64), camo=(0.38, 0.45, 0.54))  # fmt: skip


def _su35(nose_open: bool) -> list[Part]:
    return _flanker(21.9, 15.3, canards=False, wide_nose=False,
                    colour=(0.58, 0.63, 0.68), camo=(0.40, 0.46, 0.54))  # fmt: skip


def _mig29(nose_open: bool) -> list[Part]:
    return _flanker(17.3, 11.4, canards=False, wide_nose=False,
                    colour=(0.60, 0.63, 0.66), camo=(0.48, 0.52, 0.56))  # fmt: skip


def _su24(nose_open: bool) -> list[Part]:
    L, S = 22.7, 17.6
    nose, tail = L / 2, -L / 2
    c: RGB = (0.64, 0.67, 0.70)
    camo: RGB = (0.50, 0.55, 0.60)
    front = Part(
        _fuselage(nose_x=nose, tail_x=nose - 8.0, width=2.2, nose_len=4.2, tail_len=0.1,
                  tail_width=2.2),
        c, 1.8, 3.6, "tube", 1.1, 0.0, camo=camo,
    )  # fmt: skip
    body = Part(
        np.array(
            [[nose - 6.0, 1.1], [nose - 7.0, 2.0], [tail + 2.2, 2.0], [tail + 1.2, 1.3],
             [tail + 1.2, -1.3], [tail + 2.2, -2.0], [nose - 7.0, -2.0], [nose - 6.0, -1.1]]
        ),
        c, 1.6, 3.3, "tube", 2.0, 0.0, camo=camo,
    )  # fmt: skip
    glove = _both(
        [Part(np.array([[2.5, 1.9], [-1.0, 4.6], [-3.2, 4.6], [-3.6, 1.9]]), c, 2.4, 2.8,
              camo=camo)]
    )  # fmt: skip
    outer = _both(
        [
            Part(
                trapezoid_wing(root_x=-0.6, root_chord=3.3, tip_chord=1.6, semispan=S / 2,
                               sweep_le_deg=16.0, root_y=4.3),
                c, 2.5, 2.7, camo=camo,
            )
        ]
    )  # fmt: skip
    tp = _both(
        [
            Part(
                trapezoid_wing(root_x=tail + 5.6, root_chord=3.8, tip_chord=1.0, semispan=4.1,
                               sweep_le_deg=55.0, root_y=1.3),
                c, 2.0, 2.2, camo=camo,
            )
        ]
    )  # fmt: skip
    nozzles = _both([Part(rect(tail + 0.0, tail + 1.4, 0.2, 1.2), _NOZZLE, 1.5, 2.5)])
    fin = _fin(root_le=tail + 7.0, root_chord=5.0, tip_chord=1.8, z0=3.3, z1=6.2,
               sweep_deg=55.0, colour=c, thick=0.5)  # fmt: skip
    glass = Part(ellipse(nose - 5.0, 0, 1.3, 0.9, n=14), _GLASS, 3.6, 3.7, casts_shadow=False)
    return tp + glove + outer + [body] + nozzles + [front, glass, fin]


def _su25(nose_open: bool) -> list[Part]:
    L, S = 15.5, 14.4
    nose, tail = L / 2, -L / 2
    c: RGB = (0.55, 0.56, 0.48)
    camo: RGB = (0.47, 0.42, 0.33)
    fus = Part(
        _fuselage(nose_x=nose, tail_x=tail + 1.0, width=1.5, nose_len=3.0, tail_len=3.0,
                  tail_width=0.5),
        c, 1.3, 2.9, "tube", 0.75, 0.0, camo=camo,
    )  # fmt: skip
    wing = _both(
        [Part(trapezoid_wing(root_x=0.8, root_chord=3.6, tip_chord=1.5, semispan=S / 2,
                             sweep_le_deg=20.0, root_y=0.5), c, 1.8, 2.1, camo=camo)]
    )  # fmt: skip
    nac = _both(_engine(1.5, 7.5, 1.1, 1.25, 1.9, c))
    tp = _both(
        [Part(trapezoid_wing(root_x=tail + 2.8, root_chord=2.0, tip_chord=1.0, semispan=2.8,
                             sweep_le_deg=25.0, root_y=0.0), c, 3.2, 3.4, camo=camo)]
    )  # fmt: skip
    fin = _fin(root_le=tail + 3.8, root_chord=2.8, tip_chord=1.2, z0=2.5, z1=4.8,
               sweep_deg=40.0, colour=c, thick=0.4)  # fmt: skip
    sting = Part(rect(tail, tail + 1.2, -0.3, 0.3), c, 2.0, 2.5)
    glass = Part(ellipse(nose - 3.2, 0, 0.9, 0.5, n=12), _GLASS, 2.9, 3.0, casts_shadow=False)
    return wing + nac + [fus, sting, glass] + tp + [fin]


def _blades(n: int, dia: float, chord: float, z: float, phase: float, colour: RGB,
            cx: float = 0.0) -> list[Part]:  # fmt: skip
    r = dia / 2
    out = []
    for k in range(n):
        a = math.radians(phase + k * 360 / n)
        ca, sa = math.cos(a), math.sin(a)
        pts = np.array([[0.3, -chord / 2], [r, -chord / 2], [r, chord / 2], [0.3, chord / 2]])
        rot = np.stack([pts[:, 0] * ca - pts[:, 1] * sa + cx, pts[:, 0] * sa + pts[:, 1] * ca], 1)
        out.append(Part(rot, colour, z, z + 0.2))
    return out


def _helicopter(*, fus_len: float, nose_x: float, width: float, boom_w: float, rotor: float,
                n_blades: int, chord: float, mast_x: float, wings: float, coaxial: bool,
                colour: RGB, camo: RGB | None, tail_rotor: float, z_rotor: float,
                tandem: bool) -> list[Part]:  # fmt: skip
    tail_x = nose_x - fus_len
    cabin_len = fus_len * 0.55
    cabin = Part(
        _fuselage(nose_x=nose_x, tail_x=nose_x - cabin_len, width=width, nose_len=2.0,
                  tail_len=1.5, tail_width=width * 0.6),
        colour, 0.5, z_rotor - 1.2, "tube", width / 2, 0.0, camo=camo,
    )  # fmt: skip
    boom = Part(
        np.array([[nose_x - cabin_len + 1.0, boom_w], [tail_x, boom_w * 0.45],
                  [tail_x, -boom_w * 0.45], [nose_x - cabin_len + 1.0, -boom_w]]),
        colour, 1.5, 2.6, "tube", boom_w, 0.0, camo=camo,
    )  # fmt: skip
    parts = [boom, cabin]
    if wings:
        parts += _both([Part(rect(mast_x - 1.6, mast_x - 0.2, width / 2, wings / 2),
                             colour, 1.6, 1.9, camo=camo)])  # fmt: skip
    tp = Part(rect(tail_x + 1.4, tail_x + 2.4, -1.8, 1.8), colour, 2.0, 2.3, camo=camo)
    parts.append(tp)
    if coaxial:
        parts += [Part(rect(tail_x + 1.3, tail_x + 2.5, s * 1.9, s * 1.9 + 0.3 * s)
                       if s > 0 else rect(tail_x + 1.3, tail_x + 2.5, -2.2, -1.9),
                       colour, 2.0, 3.6) for s in (1, -1)]  # fmt: skip
    else:
        parts.append(_fin(root_le=tail_x + 2.5, root_chord=2.0, tip_chord=1.2, z0=2.5,
                          z1=4.8, sweep_deg=35.0, colour=colour, thick=0.4))  # fmt: skip
    if tandem:
        parts.append(Part(ellipse(nose_x - 1.5, 0, 1.0, width * 0.3, n=12), _GLASS, 2.5, 2.6))
        parts.append(Part(ellipse(nose_x - 3.6, 0, 1.1, width * 0.34, n=12), _GLASS, 3.0, 3.1))
    else:
        parts.append(Part(ellipse(nose_x - 1.4, 0, 1.3, width * 0.42, n=12), _GLASS, 2.5, 2.6))
    hub = Part(ellipse(mast_x, 0, 0.7, 0.7, n=10), _DARK, z_rotor - 0.6, z_rotor + 0.2)
    bc: RGB = (0.24, 0.25, 0.25)
    if coaxial:
        parts += _blades(3, rotor, chord, z_rotor - 0.9, 30.0, bc, mast_x)
        parts += _blades(3, rotor, chord, z_rotor, 90.0, bc, mast_x)
    else:
        parts += _blades(n_blades, rotor, chord, z_rotor, 45.0, bc, mast_x)
    if tail_rotor:
        tr = Part(rect(tail_x + 1.2 - tail_rotor / 2, tail_x + 1.2 + tail_rotor / 2,
                       -1.0, -0.8), bc, 2.0, 2.0 + tail_rotor)  # fmt: skip
        parts.append(tr)
    parts.append(hub)
    return parts


def _ka52(nose_open: bool) -> list[Part]:
    return _helicopter(fus_len=13.5, nose_x=7.0, width=1.9, boom_w=0.8, rotor=14.5,
                       n_blades=3, chord=0.45, mast_x=1.0, wings=7.3, coaxial=True,
                       colour=(0.36, 0.39, 0.38), camo=None, tail_rotor=0.0, z_rotor=5.3,
                       tandem=False)  # fmt: skip


def _mi8(nose_open: bool) -> list[Part]:
    return _helicopter(fus_len=18.2, nose_x=9.5, width=2.6, boom_w=0.9, rotor=21.3,
                       n_blades=5, chord=0.52, mast_x=1.8, wings=4.6, coaxial=False,
                       colour=(0.46, 0.49, 0.38), camo=(0.55, 0.50, 0.39), tail_rotor=3.9,
                       z_rotor=4.7, tandem=False)  # fmt: skip


def _mi24(nose_open: bool) -> list[Part]:
    return _helicopter(fus_len=17.5, nose_x=9.0, width=1.9, boom_w=0.75, rotor=17.3,
                       n_blades=5, chord=0.58, mast_x=1.2, wings=6.6, coaxial=False,
                       colour=(0.47, 0.49, 0.39), camo=(0.57, 0.52, 0.40), tail_rotor=3.9,
                       z_rotor=4.8, tandem=True)  # fmt: skip


AIRCRAFT_BUILDERS: dict[str, Callable[[bool], list[Part]]] = {
    "An-124": _an124,
    "An-26": _an26,
    "Il-76": _il76,
    "Il-20": _il20,
    "Tu-154": _tu154,
    "Su-24": _su24,
    "Su-25": _su25,
    "Su-34": _su34,
    "Su-35": _su35,
    "MiG-29": _mig29,
    "Ka-52": _ka52,
    "Mi-8": _mi8,
    "Mi-24": _mi24,
}
# The generator draws these catalogue types; the catalogue lists many more.
assert set(AIRCRAFT_BUILDERS) <= set(AIRCRAFT)


def make_aircraft(
    type_name: str,
    *,
    id: str,
    center: tuple[float, float],
    heading_deg: float,
    nose_open: bool = False,
) -> Body:
    """Place an aircraft of a catalogue type.

    Parameters
    ----------
    type_name : str
        Catalogue type name (any spelling :func:`~imagery_tool.aircraft_catalogue.lookup`
        accepts).
    id : str
        Object id, e.g. ``"an124-1"``.
    center : tuple of float
        Ground (x, y) in metres of the box centre.
    heading_deg : float
        Nose direction, degrees clockwise from north.
    nose_open : bool, optional
        Draw the nose visor raised (An-124 only; ignored for other types).

    Returns
    -------
    Body
        For fixed-wing types the box is exactly length x span from the catalogue; for
        helicopters it is the extent of the fuselage and the parked rotor blades.
    """
    t = lookup(type_name)
    if t.name not in AIRCRAFT_BUILDERS:
        raise KeyError(
            f"the scene generator cannot draw a {t.name}; it draws {', '.join(AIRCRAFT_BUILDERS)}"
        )
    nose_open = bool(nose_open and t.name == "An-124")
    parts = AIRCRAFT_BUILDERS[t.name](nose_open)
    box = None
    if t.kind == "fixed-wing":
        box = rect(-t.length_m / 2, t.length_m / 2, -t.span_m / 2, t.span_m / 2)
    attrs = {"nose_open": nose_open} if t.name == "An-124" else {}
    return place(
        parts, id=id, cls=t.name, kind="aircraft", center=center, heading_deg=heading_deg,
        attributes=attrs, box=box,
    )  # fmt: skip
