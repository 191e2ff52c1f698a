"""The static layout of a synthetic air base: pavements, markings, structures and stands."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import Transformer

from imagery_tool_synthetic.shapes import Body, heading_vectors
from imagery_tool_synthetic.vehicles import make_building, make_hangar, make_shelter, make_tank

__all__ = [
    "HMEIMIM_LONLAT",
    "Marking",
    "Site",
    "Stand",
    "Surface",
    "build_site",
]

HMEIMIM_LONLAT = (35.949, 35.401)
"""(lon, lat) of the apron at Hmeimim air base, the sample site's centre."""

YELLOW = (0.86, 0.73, 0.26)
WHITE = (0.93, 0.93, 0.91)

_MODULE_PERIOD = 1150.0  # metres along the runway between repeated apron complexes


@dataclass(frozen=True)
class Surface:
    """A ground surface polygon.

    Attributes
    ----------
    polygon : (N, 2) float ndarray
        Ground (x, y) metres; may be non-convex.
    material : {"concrete", "asphalt", "soil", "gravel"}
        Surface material (concrete shows 7.5 m panel joints aligned with the runway).
    """

    polygon: np.ndarray
    material: str


@dataclass(frozen=True)
class Marking:
    """A painted marking polygon (ground metres) with its colour and opacity."""

    polygon: np.ndarray
    colour: tuple[float, float, float]
    opacity: float = 0.85


@dataclass(frozen=True)
class Stand:
    """A parking position.

    Attributes
    ----------
    id : str
        Stand id, e.g. ``"H3"`` (heavy), ``"F12"`` (fighter), ``"R2"`` (rotary).
    center : tuple of float
        Ground (x, y) metres where the aircraft's box centre goes.
    heading_deg : float
        Nose direction, degrees clockwise from north.
    size : {"heavy", "fighter", "heli", "ad"}
        Largest kind that fits (``"ad"`` is an air-defence vehicle position).
    """

    id: str
    center: tuple[float, float]
    heading_deg: float
    size: str


@dataclass(frozen=True)
class Site:
    """A synthetic air base on a georeferenced pixel grid.

    Attributes
    ----------
    name : str
        Site name used in file names.
    width, height : int
        Scene size in pixels.
    gsd_m : float
        Pixel size in metres.
    crs : str
        Projected CRS of the nominal grid, e.g. ``"EPSG:32636"``.
    origin : tuple of float
        Map (x, y) of the scene's upper-left corner in `crs`.
    runway_heading_deg : float
        Runway direction; concrete panel joints follow it.
    seed : int
        Seeds textures.
    surfaces, markings : tuple
        Ground polygons, drawn in order.
    structures : tuple of Body
        Hangars, shelters, buildings, tanks.
    stands : tuple of Stand
        Parking positions for aircraft and air-defence vehicles.
    """

    name: str
    width: int
    height: int
    gsd_m: float
    crs: str
    origin: tuple[float, float]
    runway_heading_deg: float
    seed: int
    surfaces: tuple[Surface, ...]
    markings: tuple[Marking, ...]
    structures: tuple[Body, ...]
    stands: tuple[Stand, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """Scene (height, width) in pixels."""
        return self.height, self.width

    @property
    def transform(self):
        """Nominal rasterio/affine transform of the scene grid."""
        from rasterio.transform import from_origin

        return from_origin(self.origin[0], self.origin[1], self.gsd_m, self.gsd_m)

    def ground_to_map(self, pts: np.ndarray) -> np.ndarray:
        """Map (N, 2) ground (x east, y south, metres from the upper-left) to map (x, y)."""
        pts = np.asarray(pts, dtype=np.float64)
        return np.stack([self.origin[0] + pts[:, 0], self.origin[1] - pts[:, 1]], axis=1)

    def ground_to_lonlat(self, pts: np.ndarray) -> np.ndarray:
        """Map (N, 2) ground points to (N, 2) (lon, lat) degrees (WGS 84)."""
        xy = self.ground_to_map(pts)
        tr = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(xy[:, 0], xy[:, 1])
        return np.stack([lon, lat], axis=1)

    def stand(self, stand_id: str) -> Stand:
        """Return the stand with this id (KeyError naming the known prefixes otherwise)."""
        for s in self.stands:
            if s.id == stand_id:
                return s
        raise KeyError(f"site {self.name!r} has no stand {stand_id!r}")


class _Frame:
    """Local site frame: u along the runway, v to its right, origin at the apron centre."""

    def __init__(self, center: tuple[float, float], heading_deg: float) -> None:
        self.c = np.asarray(center, dtype=np.float64)
        self.f, self.r = heading_vectors(heading_deg)
        self.heading = heading_deg

    def pt(self, u: float, v: float) -> tuple[float, float]:
        g = self.c + u * self.f + v * self.r
        return float(g[0]), float(g[1])

    def rect(self, u0: float, u1: float, v0: float, v1: float) -> np.ndarray:
        return np.array([self.pt(u0, v0), self.pt(u1, v0), self.pt(u1, v1), self.pt(u0, v1)])

    def seg(self, u0: float, v0: float, u1: float, v1: float, width: float) -> np.ndarray:
        d = np.array([u1 - u0, v1 - v0])
        n = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1e-9) * width / 2
        return np.array(
            [
                self.pt(u0 + n[0], v0 + n[1]),
                self.pt(u1 + n[0], v1 + n[1]),
                self.pt(u1 - n[0], v1 - n[1]),
                self.pt(u0 - n[0], v0 - n[1]),
            ]
        )

    def ring(self, u: float, v: float, r: float, width: float, n: int = 24) -> list[np.ndarray]:
        a = np.linspace(0, 2 * np.pi, n + 1)
        return [
            self.seg(u + r * math.cos(a[k]), v + r * math.sin(a[k]),
                     u + r * math.cos(a[k + 1]), v + r * math.sin(a[k + 1]), width)
            for k in range(n)
        ]  # fmt: skip


def build_site(
    *,
    seed: int,
    width: int,
    height: int,
    gsd_m: float = 0.5,
    center_lonlat: tuple[float, float] = HMEIMIM_LONLAT,
    crs: str = "EPSG:32636",
    runway_heading_deg: float = 356.0,
    name: str = "site",
) -> Site:
    """Lay out an air base that fills a scene of the given size, deterministically.

    The apron complex (heavy apron, fighter line, shelters, helipads, hangars, tank farm,
    barracks) sits at the scene centre with the runway and parallel taxiway to its west; larger
    scenes repeat the complex along the runway and fill the rest with buildings and land.

    Parameters
    ----------
    seed : int
        Seeds the layout variations and textures.
    width, height : int
        Scene size in pixels.
    gsd_m : float, optional
        Pixel size in metres.
    center_lonlat : tuple of float, optional
        (lon, lat) of the scene centre; the default is Hmeimim's apron.
    crs : str, optional
        Projected CRS of the grid.
    runway_heading_deg : float, optional
        Runway direction, degrees clockwise from north.
    name : str, optional
        Site name.

    Returns
    -------
    Site
    """
    if width < 64 or height < 64:
        raise ValueError(f"scene size {width}x{height} is too small; use at least 64x64 px")
    rng = np.random.default_rng(seed)
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    cx, cy = tr.transform(*center_lonlat)
    ext_x, ext_y = width * gsd_m, height * gsd_m
    origin = (float(cx) - ext_x / 2, float(cy) + ext_y / 2)
    frame = _Frame((ext_x / 2, ext_y / 2), runway_heading_deg)
    half = math.hypot(ext_x, ext_y) / 2 + 50

    surfaces: list[Surface] = []
    markings: list[Marking] = []
    structures: list[Body] = []
    stands: list[Stand] = []

    def conc(poly):
        surfaces.append(Surface(poly, "concrete"))

    # Runway, shoulders, parallel taxiway: continuous along u.
    surfaces.append(Surface(frame.rect(-half, half, -336.0, -269.0), "asphalt"))
    conc(frame.rect(-half, half, -325.0, -280.0))
    conc(frame.rect(-half, half, -210.0, -187.0))
    markings += [
        Marking(frame.seg(-half, -324.0, half, -324.0, 0.9), WHITE),
        Marking(frame.seg(-half, -281.0, half, -281.0, 0.9), WHITE),
        Marking(frame.seg(-half, -198.5, half, -198.5, 0.35), YELLOW),
    ]
    u = -half - (-half % 50.0)
    while u < half:
        markings.append(Marking(frame.seg(u, -302.5, u + 30.0, -302.5, 0.9), WHITE, 0.8))
        u += 50.0
    # Perimeter road to the west.
    surfaces.append(Surface(frame.rect(-half, half, -428.0, -421.0), "asphalt"))

    n_mod = int(math.ceil((half + 600) / _MODULE_PERIOD))
    for m in range(-n_mod, n_mod + 1):
        um = m * _MODULE_PERIOD
        if abs(um) > half + 600:
            continue
        full = m == 0 or rng.random() < 0.75
        _module(frame, um, m, full, rng, surfaces, markings, structures, stands)

    # Road along the east side and the built-up area beyond it.
    surfaces.append(Surface(frame.rect(-half, half, 160.0, 168.0), "asphalt"))
    v = 560.0
    while v < half:
        surfaces.append(Surface(frame.rect(-half, half, v, v + 8.0), "asphalt"))
        _town_strip(frame, v + 8.0, v + 150.0, -half, half, rng, structures, f"t{int(v)}")
        v += 160.0
    inside = [
        st for st in stands
        if 20 <= st.center[0] <= ext_x - 20 and 20 <= st.center[1] <= ext_y - 20
    ]  # fmt: skip
    return Site(
        name=name,
        width=int(width),
        height=int(height),
        gsd_m=float(gsd_m),
        crs=crs,
        origin=origin,
        runway_heading_deg=float(runway_heading_deg),
        seed=int(seed),
        surfaces=tuple(surfaces),
        markings=tuple(markings),
        structures=tuple(structures),
        stands=tuple(inside),
    )


def _module(frame, um, m, full, rng, surfaces, markings, structures, stands) -> None:
    """One apron complex centred at u = um along the runway."""
    tag = "" if m == 0 else f"m{m}"
    hdg_east = (frame.heading + 90.0) % 360
    hdg_west = (frame.heading + 270.0) % 360
    conc = lambda p: surfaces.append(Surface(p, "concrete"))  # noqa: E731

    # Runway <-> taxiway connectors.
    for du in (-430.0, -140.0, 150.0, 440.0):
        conc(frame.rect(um + du - 11.5, um + du + 11.5, -280.0, -210.0))
        markings.append(Marking(frame.seg(um + du, -300.0, um + du, -198.5, 0.35), YELLOW))
    # Heavy apron with lead-in lines and stop bars.
    conc(frame.rect(um - 340.0, um + 475.0, -187.0, 30.0))
    for k in range(7):
        u = um - 270.0 + 90.0 * k
        stands.append(Stand(f"{tag}H{k + 1}", frame.pt(u, -60.0), hdg_east, "heavy"))
        markings.append(Marking(frame.seg(u, -198.5, u, -18.0, 0.35), YELLOW))
        markings.append(Marking(frame.seg(u - 4.0, -18.0, u + 4.0, -18.0, 0.5), YELLOW))
    markings.append(Marking(frame.seg(um - 335.0, 52.0, um + 335.0, 52.0, 0.35), YELLOW))
    # Fighter line: apron and stands facing west, with painted stand boxes.
    conc(frame.rect(um - 340.0, um + 340.0, 30.0, 150.0))
    for k in range(21):
        u = um - 300.0 + 30.0 * k
        stands.append(Stand(f"{tag}F{k + 1}", frame.pt(u, 110.0), hdg_west, "fighter"))
        markings.append(Marking(frame.seg(u, 52.0, u, 95.0, 0.3), YELLOW))
        for a, b in (((u - 12, 96), (u + 12, 96)), ((u - 12, 96), (u - 12, 126)),
                     ((u + 12, 96), (u + 12, 126))):  # fmt: skip
            markings.append(Marking(frame.seg(*a, *b, 0.3), WHITE, 0.6))
    # Hangars on the north end of the heavy apron.
    structures.append(make_hangar(id=f"{tag}hangar-1", center=frame.pt(um + 415.0, -135.0),
                                  heading_deg=frame.heading, length=80.0, width=70.0,
                                  height=18.0))  # fmt: skip
    structures.append(make_hangar(id=f"{tag}hangar-2", center=frame.pt(um + 410.0, -45.0),
                                  heading_deg=frame.heading, length=70.0, width=58.0,
                                  height=15.0, colour=(0.62, 0.66, 0.70)))  # fmt: skip
    if not full:
        return
    # Hardened shelters east of the road, doors facing west onto concrete pads.
    n_has = 5 if m == 0 else int(rng.integers(3, 8))
    for k in range(n_has):
        u = um - 320.0 + 46.0 * k
        conc(frame.rect(u - 14.0, u + 14.0, 168.0, 182.0))
        structures.append(make_shelter(id=f"{tag}has-{k + 1}", center=frame.pt(u, 199.0),
                                       heading_deg=hdg_west))  # fmt: skip
    # Helicopter pads.
    conc(frame.rect(um - 80.0, um + 330.0, 172.0, 258.0))
    for k in range(8):
        u = um - 40.0 + 45.0 * k
        stands.append(Stand(f"{tag}R{k + 1}", frame.pt(u, 215.0), hdg_west, "heli"))
        markings += [Marking(p, YELLOW, 0.75) for p in frame.ring(u, 215.0, 11.0, 0.5)]
    markings.append(Marking(frame.seg(um - 78.0, 172.5, um + 328.0, 172.5, 0.35), YELLOW))
    # Air-defence position on a bare soil pad.
    surfaces.append(Surface(frame.rect(um + 370.0, um + 495.0, 190.0, 270.0), "soil"))
    for k in range(4):
        stands.append(Stand(f"{tag}A{k + 1}", frame.pt(um + 390.0 + 30.0 * k, 230.0),
                            hdg_west, "ad"))  # fmt: skip
    # Tank farm with an earth berm.
    surfaces.append(Surface(frame.rect(um - 500.0, um - 380.0, 285.0, 370.0), "soil"))
    for k, (du, dv) in enumerate(((-470, 310), (-430, 310), (-470, 345), (-430, 345))):
        structures.append(make_tank(id=f"{tag}tank-{k + 1}", center=frame.pt(um + du, dv),
                                    diameter=18.0, height=10.0))  # fmt: skip
    # Barracks and offices.
    _town_strip(frame, 290.0, 540.0, um - 360.0, um + 500.0, rng, structures, f"{tag}b")
    surfaces.append(Surface(frame.rect(um - 360.0, um + 500.0, 275.0, 283.0), "asphalt"))
    for du in (-360.0, -100.0, 160.0, 420.0):
        surfaces.append(Surface(frame.rect(um + du, um + du + 7.0, 168.0, 545.0), "asphalt"))


_ROOFS = (
    (0.78, 0.77, 0.74),
    (0.70, 0.66, 0.58),
    (0.62, 0.40, 0.33),
    (0.85, 0.85, 0.83),
    (0.55, 0.56, 0.55),
)


def _town_strip(frame, v0, v1, u0, u1, rng, structures, tag) -> None:
    """Fill a band with rows of buildings (randomised sizes, deterministic from `rng`)."""
    u = u0 + float(rng.uniform(5, 30))
    k = 0
    while u < u1 - 20:
        length = float(rng.uniform(14, 60))
        width = float(rng.uniform(10, min(24.0, (v1 - v0) / 2 - 6)))
        if rng.random() < 0.8:
            for vc in (v0 + 6 + width / 2, v1 - 6 - width / 2):
                if rng.random() < 0.85:
                    k += 1
                    structures.append(
                        make_building(
                            id=f"{tag}-{k}", center=frame.pt(u + length / 2, vc),
                            heading_deg=frame.heading, length=length, width=width,
                            height=float(rng.uniform(4, 13)),
                            colour=_ROOFS[int(rng.integers(len(_ROOFS)))], rng=rng,
                        )
                    )  # fmt: skip
        u += length + float(rng.uniform(8, 30))
