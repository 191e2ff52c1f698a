"""Georeference of a raster grid: pixel <-> map <-> lon/lat conversion and ground sample distance.

Pixel coordinates are continuous ``(col, row)`` with ``(0, 0)`` at the top-left corner of the
top-left pixel, as in GDAL and rasterio; the centre of pixel ``[r, c]`` is ``(c + 0.5, r + 0.5)``.
Map points are ``(x, y)`` in the CRS's units and geographic points are ``(lon, lat)`` in degrees
(WGS 84).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from affine import Affine
from pyproj import CRS as ProjCRS
from pyproj import Geod, Transformer
from pyproj.exceptions import CRSError, ProjError
from rasterio.crs import CRS

from imagery_tool.errors import NotGeoreferencedError, UnsupportedCRSError

__all__ = [
    "ASSUMED_PIXEL_SIZE_M",
    "MAX_PIXEL_SIZE_M",
    "GeoRef",
    "REPROJECT_HINT",
    "crs_label",
    "crs_transformer",
    "lonlat_transformer",
    "unrelated_crs_message",
]

# How to give a raster a CRS the others can be related to, in every message that asks for it.
REPROJECT_HINT = "gdalwarp -t_srs EPSG:..."

# Pixel size assumed (and recorded as assumed) for a tile without GSD when none is given: the
# sample tiles' 0.5 m. Detection, proposals and click-to-box all use it.
ASSUMED_PIXEL_SIZE_M = 0.5
# The coarsest ground sample distance taken, m/pixel: MODIS-class products are 250-1000 m. A
# larger value is a typo (or 1e308, which overflows the size checks), not a sensor.
MAX_PIXEL_SIZE_M = 1000.0

_WGS84 = ProjCRS.from_epsg(4326)
_GEOD = Geod(ellps="WGS84")


def lonlat_transformer(crs: CRS, *, inverse: bool = False) -> Transformer:
    """Return a transformer from ``crs`` to lon/lat (WGS 84), or back when ``inverse``.

    Parameters
    ----------
    crs : rasterio.crs.CRS
        The source (or, when ``inverse``, the target) coordinate reference system.
    inverse : bool
        Transform lon/lat to ``crs`` instead.

    Returns
    -------
    pyproj.Transformer
        A transformer with ``always_xy=True``: points are ``(x, y)`` and ``(lon, lat)``.

    Raises
    ------
    UnsupportedCRSError
        When PROJ knows no way between ``crs`` and WGS 84 (a local or engineering CRS, an
        unusable datum or projection).
    """
    try:
        proj = ProjCRS.from_user_input(crs.to_wkt())
        if inverse:
            return Transformer.from_crs(_WGS84, proj, always_xy=True)
        return Transformer.from_crs(proj, _WGS84, always_xy=True)
    except (CRSError, ProjError) as exc:
        raise UnsupportedCRSError(
            f"the CRS {crs_label(crs)!r} has no known relation to longitude/latitude "
            f"({_first_line(exc)}); geographic coordinates are unavailable: reproject the "
            f"file to a known CRS ({REPROJECT_HINT})"
        ) from exc


def crs_transformer(source: CRS, target: CRS) -> Transformer:
    """Return a transformer from ``source`` to ``target`` map coordinates (``always_xy``).

    Raises
    ------
    UnsupportedCRSError
        When PROJ knows no way between them (a local or engineering CRS, an unusable datum);
        the callers, who know the files, say which.
    """
    try:
        return Transformer.from_crs(
            ProjCRS.from_user_input(source.to_wkt()),
            ProjCRS.from_user_input(target.to_wkt()),
            always_xy=True,
        )
    except (CRSError, ProjError) as exc:
        raise UnsupportedCRSError(
            f"no known conversion from {crs_label(source)!r} to {crs_label(target)!r} "
            f"({_first_line(exc)})"
        ) from exc


def unrelated_crs_message(subject: str, where: str, cause: UnsupportedCRSError) -> str:
    """Return the one-line message for a raster that cannot be put on another's grid.

    Every place that brings one raster onto another (registration, the reviewer sheet, its
    frames) says it the same way.

    Parameters
    ----------
    subject : str
        The raster moved (its path).
    where : str
        Where it cannot go, e.g. ``"placed on before.tif"``.
    cause : UnsupportedCRSError
        What `crs_transformer` raised.

    Examples
    --------
    >>> message = unrelated_crs_message("a.tif", "placed on b.tif", UnsupportedCRSError("no way"))
    >>> message.removesuffix(REPROJECT_HINT + ")")
    "a.tif cannot be placed on b.tif: no way; reproject one onto the other's CRS ("
    """
    fix = f"reproject one onto the other's CRS ({REPROJECT_HINT})"
    return f"{subject} cannot be {where}: {cause}; {fix}"


def crs_label(crs: CRS) -> str:
    """Name a CRS shortly: ``"EPSG:32636"``, else its name, else its definition's start."""
    epsg = crs.to_epsg()
    if epsg:
        return f"EPSG:{epsg}"
    try:
        name = ProjCRS.from_user_input(crs.to_wkt()).name
    except CRSError:
        name = ""
    if name and name != "unknown":
        return name
    proj4 = crs.to_proj4() or crs.to_string()
    return proj4 if len(proj4) <= 80 else proj4[:77] + "..."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@dataclass(frozen=True)
class GeoRef:
    """Shape, affine transform and CRS of a raster grid.

    Parameters
    ----------
    height, width : int
        Grid size in pixels (rows, columns).
    transform : affine.Affine
        Maps pixel ``(col, row)`` to map ``(x, y)``. Rotated and south-up transforms are allowed.
    crs : rasterio.crs.CRS or None
        The map's CRS; ``None`` for a raster without georeference (pixel mode).

    Examples
    --------
    >>> from affine import Affine
    >>> from rasterio.crs import CRS
    >>> g = GeoRef(100, 200, Affine(0.5, 0, 700000, 0, -0.5, 3920000), CRS.from_epsg(32636))
    >>> g.pixel_to_map(0, 0)
    (700000.0, 3920000.0)
    >>> g.gsd_m
    (0.5, 0.5)
    """

    height: int
    width: int
    transform: Affine = Affine.identity()
    crs: CRS | None = None

    def __post_init__(self) -> None:
        if self.height < 0 or self.width < 0:
            raise ValueError(f"grid size must not be negative, got {self.height} x {self.width}")
        determinant = self.transform.determinant
        if not (math.isfinite(determinant) and determinant != 0) or not all(
            map(math.isfinite, tuple(self.transform)[:6])
        ):
            raise ValueError(f"transform is not invertible: {tuple(self.transform)[:6]}")

    # -- basic properties ------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` in pixels."""
        return (self.height, self.width)

    @property
    def is_georeferenced(self) -> bool:
        """Whether the grid has a CRS (and so map and lon/lat coordinates)."""
        return self.crs is not None

    @property
    def is_rotated(self) -> bool:
        """Whether the transform has rotation or shear terms."""
        return self.transform.b != 0 or self.transform.d != 0

    @property
    def is_south_up(self) -> bool:
        """Whether rows run northwards (positive y pixel size, no rotation)."""
        return not self.is_rotated and self.transform.e > 0

    @cached_property
    def has_lonlat(self) -> bool:
        """Whether map coordinates convert to lon/lat.

        False without a CRS, and for a CRS that PROJ relates to no geographic one (a local or
        engineering CRS, an unusable datum or projection) or whose projection is not defined
        over the grid; `map_to_lonlat` and the others then raise `UnsupportedCRSError`.
        """
        if self.crs is None:
            return False
        try:
            self.lonlat_bounds(densify=3)
        except UnsupportedCRSError:
            return False
        return True

    @property
    def epsg(self) -> int | None:
        """EPSG code of the CRS, or ``None`` when there is none or it has no code."""
        return None if self.crs is None else self.crs.to_epsg()

    @property
    def pixel_size(self) -> tuple[float, float]:
        """Length of one pixel step along columns and along rows, in map units."""
        t = self.transform
        return (math.hypot(t.a, t.d), math.hypot(t.b, t.e))

    # -- conversions -----------------------------------------------------------------------

    def pixel_to_map(self, col, row):
        """Convert pixel ``(col, row)`` to map ``(x, y)``.

        Parameters
        ----------
        col, row : float or array_like
            Continuous pixel coordinates.

        Returns
        -------
        x, y : float or ndarray
            Map coordinates, scalars for scalar input.
        """
        t = self.transform
        col, row = _as_float(col), _as_float(row)
        return (t.a * col + t.b * row + t.c, t.d * col + t.e * row + t.f)

    def map_to_pixel(self, x, y):
        """Convert map ``(x, y)`` to continuous pixel ``(col, row)``."""
        inv = ~self.transform
        x, y = _as_float(x), _as_float(y)
        return (inv.a * x + inv.b * y + inv.c, inv.d * x + inv.e * y + inv.f)

    def map_to_lonlat(self, x, y):
        """Convert map ``(x, y)`` to ``(lon, lat)`` in degrees (WGS 84)."""
        return self._to_lonlat.transform(_as_float(x), _as_float(y))

    def lonlat_to_map(self, lon, lat):
        """Convert ``(lon, lat)`` in degrees (WGS 84) to map ``(x, y)``."""
        return self._from_lonlat.transform(_as_float(lon), _as_float(lat))

    def pixel_to_lonlat(self, col, row):
        """Convert pixel ``(col, row)`` to ``(lon, lat)`` in degrees (WGS 84)."""
        return self.map_to_lonlat(*self.pixel_to_map(col, row))

    def lonlat_to_pixel(self, lon, lat):
        """Convert ``(lon, lat)`` in degrees (WGS 84) to continuous pixel ``(col, row)``."""
        return self.map_to_pixel(*self.lonlat_to_map(lon, lat))

    @cached_property
    def _to_lonlat(self) -> Transformer:
        return lonlat_transformer(self._require_crs())

    @cached_property
    def _from_lonlat(self) -> Transformer:
        return lonlat_transformer(self._require_crs(), inverse=True)

    def _require_crs(self) -> CRS:
        if self.crs is None:
            raise NotGeoreferencedError(
                "the raster has no georeference (CRS); geographic coordinates are unavailable"
            )
        return self.crs

    # -- footprint ---------------------------------------------------------------------------

    def corners_px(self) -> np.ndarray:
        """Return the grid's four corners in pixels, clockwise from the top-left.

        Returns
        -------
        (4, 2) float64 ndarray
            ``(col, row)`` of the top-left, top-right, bottom-right and bottom-left corners.
        """
        w, h = float(self.width), float(self.height)
        return np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])

    def corners_map(self) -> np.ndarray:
        """Return the grid's four corners in map ``(x, y)``, in the order of `corners_px`."""
        c = self.corners_px()
        return np.column_stack(self.pixel_to_map(c[:, 0], c[:, 1]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` of the footprint in map units (or pixels)."""
        c = self.corners_map()
        return (c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max())

    def lonlat_bounds(self, *, densify: int = 21) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of the footprint in degrees.

        The edges are densified so that curved edges in lon/lat are bounded correctly.
        """
        t = np.linspace(0.0, 1.0, densify)
        w, h = float(self.width), float(self.height)
        cols = np.concatenate([t * w, np.full_like(t, w), (1 - t) * w, np.zeros_like(t)])
        rows = np.concatenate([np.zeros_like(t), t * h, np.full_like(t, h), (1 - t) * h])
        lon, lat = self.pixel_to_lonlat(cols, rows)
        if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            raise UnsupportedCRSError(
                f"part of the grid lies outside where its CRS {crs_label(self.crs)!r} is "
                "defined; geographic coordinates are unavailable: check the file's CRS"
            )
        return (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))

    @property
    def center_lonlat(self) -> tuple[float, float]:
        """``(lon, lat)`` of the grid's centre."""
        lon, lat = self.pixel_to_lonlat(self.width / 2, self.height / 2)
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise UnsupportedCRSError(
                f"the grid's centre lies outside where its CRS {crs_label(self.crs)!r} is "
                "defined; geographic coordinates are unavailable: check the file's CRS"
            )
        return (float(lon), float(lat))

    # -- ground sample distance --------------------------------------------------------------

    @cached_property
    def gsd_m(self) -> tuple[float, float] | None:
        """Ground size of one pixel along columns and along rows, in metres, at the centre.

        For projected (and local, engineering) CRSs the pixel size is scaled by the CRS's linear
        unit; for geographic CRSs it is measured geodesically at the grid's centre. ``None``
        without a CRS, or for a geographic CRS without lon/lat (`has_lonlat`) or a CRS whose
        axes have no length unit.
        """
        if self.crs is None:
            return None
        if not self.crs.is_geographic:
            factor = _linear_unit_factor(self.crs)
            if factor is None:
                return None
            sx, sy = self.pixel_size
            return (sx * factor, sy * factor)
        if not self.has_lonlat:
            return None
        c0, r0 = self.width / 2, self.height / 2
        lon0, lat0 = self.pixel_to_lonlat(c0, r0)
        lon1, lat1 = self.pixel_to_lonlat(c0 + 1, r0)
        lon2, lat2 = self.pixel_to_lonlat(c0, r0 + 1)
        dx = _GEOD.inv(lon0, lat0, lon1, lat1)[2]
        dy = _GEOD.inv(lon0, lat0, lon2, lat2)[2]
        return (float(dx), float(dy))

    @property
    def mean_gsd_m(self) -> float | None:
        """The mean of the two `gsd_m` components, or ``None`` without a CRS."""
        gsd = self.gsd_m
        return None if gsd is None else (gsd[0] + gsd[1]) / 2

    # -- derived grids -----------------------------------------------------------------------

    def window(self, col_off: int, row_off: int, width: int, height: int) -> GeoRef:
        """Return the georeference of a window of this grid (same CRS, shifted origin)."""
        return GeoRef(
            height, width, self.transform @ Affine.translation(col_off, row_off), self.crs
        )

    def scaled(self, factor: float) -> GeoRef:
        """Return the grid reduced by ``factor`` (e.g. 4 for an overview of a quarter size).

        The new shape is ``ceil(shape / factor)``, as GDAL sizes overviews.
        """
        height = max(1, math.ceil(self.height / factor))
        width = max(1, math.ceil(self.width / factor))
        sx, sy = self.width / width, self.height / height
        return GeoRef(height, width, self.transform @ Affine.scale(sx, sy), self.crs)


def _as_float(value):
    """Return ``value`` as float64 (scalar stays a Python float, sequences become arrays)."""
    if np.isscalar(value):
        return float(value)
    return np.asarray(value, dtype=np.float64)


def _linear_unit_factor(crs: CRS) -> float | None:
    """Metres per unit of a projected or local CRS's first axis (None: its axes say no unit)."""
    try:
        proj = ProjCRS.from_user_input(crs.to_wkt())
    except CRSError:
        return None
    for axis in proj.axis_info:
        if axis.unit_conversion_factor:
            return float(axis.unit_conversion_factor)
    return 1.0 if crs.is_projected else None
