"""Map BEFORE's pixel grid onto AFTER's through their georeferences, and find their overlap."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import Transformer
from rasterio.windows import Window

from imagery_tool.errors import IncompatibleTilesError, NoOverlapError, UnsupportedCRSError
from imagery_tool.georef import crs_transformer, unrelated_crs_message
from imagery_tool.tile import Tile

__all__ = ["GridMapping", "affine_to_matrix", "matrix_to_affine"]


def affine_to_matrix(terms) -> np.ndarray:
    """Return 6 affine terms ``(a, b, c, d, e, f)`` as a (3, 3) float64 matrix."""
    a, b, c, d, e, f = (float(t) for t in terms[:6])
    return np.array([[a, b, c], [d, e, f], [0.0, 0.0, 1.0]])


def matrix_to_affine(matrix: np.ndarray) -> tuple[float, ...]:
    """Return the 6 affine terms ``(a, b, c, d, e, f)`` of a (3, 3) or (2, 3) matrix."""
    m = np.asarray(matrix, dtype=np.float64)
    return tuple(float(v) for v in m[:2].ravel())


@dataclass(frozen=True)
class GridMapping:
    """Where each pixel of BEFORE's grid falls in AFTER's grid, by georeference alone.

    Coordinates are continuous pixels ``(col, row)`` (GDAL convention: ``(0, 0)`` is the
    top-left corner of the top-left pixel). With the same CRS the mapping is one affine; across
    CRSs it is evaluated point by point and approximated by a local affine per block, as GDAL's
    approximate transformer does (the error over a 1024 px block is far below 0.01 px at
    satellite scales).

    Parameters
    ----------
    before, after : Tile
        The two tiles; both georeferenced or both not (pixel mode: identity mapping).
    """

    before: Tile
    after: Tile

    @classmethod
    def between(cls, before: Tile, after: Tile) -> GridMapping:
        """Check that two tiles can be compared and return their mapping.

        Raises
        ------
        IncompatibleTilesError
            Different band counts, one tile georeferenced and the other not, or CRSs that
            PROJ cannot convert between.
        """
        nb, na = len(before.data_bands), len(after.data_bands)
        if nb != na:
            raise IncompatibleTilesError(
                f"{before.path} has {nb} band(s) but {after.path} has {na}; compare tiles of "
                "the same product (e.g. both RGB), or convert one with gdal_translate -b"
            )
        gb, ga = before.georef.is_georeferenced, after.georef.is_georeferenced
        if gb != ga:
            plain = after.path if gb else before.path
            raise IncompatibleTilesError(
                f"{plain} has no georeference but the other tile has one; georeference it "
                "(e.g. gdal_translate -a_srs -a_ullr) or compare two plain images"
            )
        mapping = cls(before, after)
        try:
            mapping._transformer()
        except UnsupportedCRSError as exc:
            raise IncompatibleTilesError(
                unrelated_crs_message(str(after.path), f"placed on {before.path}", exc)
            ) from exc
        return mapping

    @property
    def georeferenced(self) -> bool:
        """Whether the mapping goes through map coordinates (else pixel mode, identity)."""
        return self.before.georef.is_georeferenced

    @property
    def same_grid(self) -> bool:
        """Whether AFTER's grid is BEFORE's grid (no resampling needed by georeference)."""
        gb, ga = self.before.georef, self.after.georef
        if not self.georeferenced:
            return True
        # to a millionth of a pixel, whatever the size of the coordinates (a 1 m origin shift
        # at 500 km easting is not within numpy's default relative tolerance's 5 m)
        step = max(abs(gb.transform.a), abs(gb.transform.e), 1e-300)
        return (
            gb.crs == ga.crs
            and (gb.height, gb.width) == (ga.height, ga.width)
            and np.allclose(
                tuple(gb.transform)[:6], tuple(ga.transform)[:6], rtol=0.0, atol=1e-6 * step
            )
        )

    def _transformer(self) -> Transformer | None:
        gb, ga = self.before.georef, self.after.georef
        if not self.georeferenced or gb.crs == ga.crs:
            return None
        return crs_transformer(gb.crs, ga.crs)

    def to_after(self, col, row) -> tuple[np.ndarray, np.ndarray]:
        """Map BEFORE pixel ``(col, row)`` (arrays) to AFTER pixel ``(col, row)``."""
        col = np.asarray(col, dtype=np.float64)
        row = np.asarray(row, dtype=np.float64)
        if not self.georeferenced:
            return col, row
        x, y = self.before.georef.pixel_to_map(col, row)
        transformer = self._transformer()
        if transformer is not None:
            x, y = transformer.transform(x, y)
        return self.after.georef.map_to_pixel(x, y)

    def to_before(self, col, row) -> tuple[np.ndarray, np.ndarray]:
        """Map AFTER pixel ``(col, row)`` (arrays) to BEFORE pixel ``(col, row)``."""
        col = np.asarray(col, dtype=np.float64)
        row = np.asarray(row, dtype=np.float64)
        if not self.georeferenced:
            return col, row
        x, y = self.after.georef.pixel_to_map(col, row)
        transformer = self._transformer()
        if transformer is not None:
            x, y = transformer.transform(x, y, direction="INVERSE")
        return self.before.georef.map_to_pixel(x, y)

    def local_matrix(self, col0: float, row0: float, width: float, height: float) -> np.ndarray:
        """(3, 3) affine mapping BEFORE pixels to AFTER pixels, exact or fitted on a region."""
        if not self.georeferenced:
            return np.eye(3)
        gb, ga = self.before.georef, self.after.georef
        if gb.crs == ga.crs:
            return affine_to_matrix(tuple(~ga.transform * gb.transform))
        u = np.linspace(col0, col0 + width, 3)
        v = np.linspace(row0, row0 + height, 3)
        cc, rr = np.meshgrid(u, v)
        ac, ar = self.to_after(cc.ravel(), rr.ravel())
        design = np.column_stack([cc.ravel(), rr.ravel(), np.ones(cc.size)])
        coef_c = np.linalg.lstsq(design, ac, rcond=None)[0]
        coef_r = np.linalg.lstsq(design, ar, rcond=None)[0]
        return np.array([coef_c, coef_r, [0.0, 0.0, 1.0]])

    def overlap(self) -> Window:
        """Return the part of BEFORE's grid that AFTER covers, as an integer window.

        Raises
        ------
        NoOverlapError
            When the two footprints do not intersect.
        """
        ga = self.after.georef
        t = np.linspace(0.0, 1.0, 33)
        w, h = float(ga.width), float(ga.height)
        cols = np.concatenate([t * w, np.full_like(t, w), (1 - t) * w, np.zeros_like(t)])
        rows = np.concatenate([np.zeros_like(t), t * h, np.full_like(t, h), (1 - t) * h])
        bc, br = self.to_before(cols, rows)
        ok = np.isfinite(bc) & np.isfinite(br)
        if ok.any():
            c0 = max(0, math.floor(bc[ok].min()))
            r0 = max(0, math.floor(br[ok].min()))
            c1 = min(self.before.width, math.ceil(bc[ok].max()))
            r1 = min(self.before.height, math.ceil(br[ok].max()))
        else:
            c0 = r0 = c1 = r1 = 0
        if c1 - c0 < 16 or r1 - r0 < 16:
            raise NoOverlapError(
                f"{self.before.path} (extent {_extent(self.before)}) and {self.after.path} "
                f"(extent {_extent(self.after)}) do not overlap; compare two tiles of the same site"
            )
        return Window(c0, r0, c1 - c0, r1 - r0)


def _extent(tile: Tile) -> str:
    g = tile.georef
    if g.is_georeferenced:
        try:
            w, s, e, n = g.lonlat_bounds()
            return f"lon {w:.5f}..{e:.5f}, lat {s:.5f}..{n:.5f}"
        except Exception:  # noqa: BLE001 - an exotic CRS: fall back to map units
            left, bottom, right, top = g.bounds
            return f"x {left:.1f}..{right:.1f}, y {bottom:.1f}..{top:.1f}"
    return f"{g.width} x {g.height} px"
