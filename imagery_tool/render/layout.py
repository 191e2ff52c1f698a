"""The rendered frame: which part of a tile is shown, at what output size and scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS as ProjCRS
from pyproj import Transformer
from pyproj.exceptions import CRSError, ProjError
from rasterio.windows import Window

from imagery_tool.errors import RenderError
from imagery_tool.georef import GeoRef, crs_label

__all__ = ["DEFAULT_MAX_WIDTH", "Frame", "Region", "make_frame"]

# Without `width` or `scale` a frame is shown at full resolution up to this many pixels wide.
DEFAULT_MAX_WIDTH = 2048
# Never render wider or taller than this (a reviewer PNG, not a mosaic).
MAX_OUTPUT_SIDE = 12000


@dataclass(frozen=True)
class Region:
    """A part of a tile to render, in one of three forms.

    Make one with `from_bbox`, `from_center` or `from_pixels`; `window` turns it into a
    pixel window of a given grid.

    Attributes
    ----------
    kind : {"bbox", "center", "pixels"}
        Which form.
    values : tuple of float
        ``(minx, miny, maxx, maxy)``, ``(x, y, size_m)`` or ``(col_off, row_off, width,
        height)``.
    crs : str or None
        CRS of the coordinates (``"EPSG:4326"`` for lon/lat); ``None`` means the tile's own.
    """

    kind: str
    values: tuple[float, ...]
    crs: str | None = None

    @classmethod
    def from_bbox(
        cls, minx: float, miny: float, maxx: float, maxy: float, *, crs: str | None = None
    ) -> Region:
        """Region between map (or lon/lat with ``crs="EPSG:4326"``) bounds."""
        _finite("bbox", (minx, miny, maxx, maxy), "minx,miny,maxx,maxy")
        if not (maxx > minx and maxy > miny):
            raise RenderError(
                f"bbox {minx},{miny},{maxx},{maxy} is empty; give minx,miny,maxx,maxy with "
                "maxx > minx and maxy > miny"
            )
        return cls("bbox", (float(minx), float(miny), float(maxx), float(maxy)), crs)

    @classmethod
    def from_center(cls, x: float, y: float, size_m: float, *, crs: str | None = None) -> Region:
        """Square region of ``size_m`` metres on a side around a map (or lon/lat) point."""
        _finite("centre", (x, y), "x,y")
        _finite("size", (size_m,), "metres")
        if not size_m > 0:
            raise RenderError(
                f"size {size_m} m is not positive; give `size_m` in metres, e.g. 300",
                parameter="size_m",
            )
        return cls("center", (float(x), float(y), float(size_m)), crs)

    @classmethod
    def from_pixels(cls, col_off: float, row_off: float, width: float, height: float) -> Region:
        """Region given directly in pixels of the tile's grid."""
        _finite("pixel region", (col_off, row_off, width, height), "col,row,width,height")
        if not (width > 0 and height > 0):
            raise RenderError(f"pixel region {width} x {height} is empty")
        return cls("pixels", (float(col_off), float(row_off), float(width), float(height)))

    def window(self, georef: GeoRef, *, name: str = "the tile") -> Window:
        """Return the region as a pixel window of ``georef``, cut to the grid.

        Parameters
        ----------
        georef : GeoRef
            The grid the frame is drawn on.
        name : str
            The tile's name, for error messages.

        Returns
        -------
        rasterio.windows.Window
            Integer offsets and sizes, inside the grid.

        Raises
        ------
        RenderError
            When the region does not overlap the grid, or needs a georeference it lacks.
        """
        if self.kind == "pixels":
            c0, r0, w, h = self.values
            cols, rows = np.array([c0, c0 + w]), np.array([r0, r0 + h])
        else:
            if not georef.is_georeferenced and self.crs is not None:
                raise RenderError(
                    f"{name} has no georeference, so a region in {self.crs} cannot be placed; "
                    "give the region in pixels"
                )
            if self.kind == "bbox":
                minx, miny, maxx, maxy = self.values
                t = np.linspace(0.0, 1.0, 11)
                xs = np.concatenate([minx + t * (maxx - minx), np.full_like(t, maxx)])
                xs = np.concatenate([xs, maxx - t * (maxx - minx), np.full_like(t, minx)])
                ys = np.concatenate([np.full_like(t, miny), miny + t * (maxy - miny)])
                ys = np.concatenate([ys, np.full_like(t, maxy), maxy - t * (maxy - miny)])
                xs, ys = _to_grid_crs(xs, ys, self.crs, georef, name)
            else:
                x, y, size_m = self.values
                cx, cy = _to_grid_crs(np.array([x]), np.array([y]), self.crs, georef, name)
                half = size_m / 2 / _metres_per_unit(georef)
                xs = cx[0] + np.array([-half, half, half, -half])
                ys = cy[0] + np.array([-half, -half, half, half])
            cols, rows = georef.map_to_pixel(xs, ys)
        if self.kind == "center":
            # Keep the asked size exactly: round the centred window to whole pixels.
            cx, cy = (np.min(cols) + np.max(cols)) / 2, (np.min(rows) + np.max(rows)) / 2
            w_px = round(float(np.max(cols) - np.min(cols)))
            h_px = round(float(np.max(rows) - np.min(rows)))
            c0, r0 = round(float(cx) - w_px / 2), round(float(cy) - h_px / 2)
            c1, r1 = c0 + w_px, r0 + h_px
        else:  # the pixel bounding box of the region, outward
            c0, c1 = math.floor(float(np.min(cols))), math.ceil(float(np.max(cols)))
            r0, r1 = math.floor(float(np.min(rows))), math.ceil(float(np.max(rows)))
        c0, r0 = max(c0, 0), max(r0, 0)
        c1, r1 = min(c1, georef.width), min(r1, georef.height)
        if c1 - c0 < 1 or r1 - r0 < 1:
            raise RenderError(
                f"the region {self.describe()} lies outside {name} "
                f"({georef.width} x {georef.height} px); pick a region on the tile"
            )
        return Window(c0, r0, c1 - c0, r1 - r0)

    def describe(self) -> str:
        """Say the region in words, for messages."""
        values = ",".join(f"{v:g}" for v in self.values)
        crs = f" ({self.crs})" if self.crs else ""
        return {"bbox": "bbox ", "center": "centre,size ", "pixels": "pixels "}[self.kind] + (
            values + crs
        )


def _finite(what: str, values: tuple[float, ...], form: str) -> None:
    """Refuse NaN or infinite coordinates of a region: they place nothing."""
    if not all(math.isfinite(float(v)) for v in values):
        text = ",".join(f"{float(v):g}" for v in values)
        raise RenderError(f"{what} {text} is not finite; give {form} as ordinary numbers")


def _to_grid_crs(xs: np.ndarray, ys: np.ndarray, crs: str | None, georef: GeoRef, name: str):
    """Transform points from ``crs`` (None: the grid's own) to the grid's CRS (of tile ``name``).

    Raises
    ------
    RenderError
        When ``crs`` is unknown, or PROJ knows no way from it to the grid's CRS (a local or
        engineering CRS, an unusable datum), or the points do not land on that CRS's domain.
    """
    if crs is None or georef.crs is None:
        return xs, ys
    try:
        source = ProjCRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises its own CRSError
        raise RenderError(f"unknown CRS {crs!r}; give an EPSG code such as EPSG:4326") from exc
    try:
        target = ProjCRS.from_user_input(georef.crs.to_wkt())
        if source == target:
            return xs, ys
        transformer = Transformer.from_crs(source, target, always_xy=True)
        x, y = transformer.transform(xs, ys)
    except (CRSError, ProjError) as exc:
        x = y = None
        reason = str(exc).strip().splitlines()[0]
    else:
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        reason = "the points fall outside where that CRS is defined"
    if x is None or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise RenderError(
            f"{name}: a region in {crs} cannot be placed in its CRS {crs_label(georef.crs)!r} "
            f"({reason}); give the region in the tile's own map units (`region` without "
            "`crs`)",
            parameter="crs",
        )
    return x, y


def _metres_per_unit(georef: GeoRef) -> float:
    """Metres per map unit (per pixel step's unit) near the grid's centre."""
    if georef.gsd_m is None:
        return 1.0
    return georef.mean_gsd_m / (sum(georef.pixel_size) / 2)


@dataclass(frozen=True)
class Frame:
    """A window of a tile's grid drawn at an output size.

    Attributes
    ----------
    georef : GeoRef
        The tile's full-resolution grid.
    window : rasterio.windows.Window
        The part of the grid shown (integer offsets and size).
    out_shape : (int, int)
        ``(rows, cols)`` of the drawn picture.
    """

    georef: GeoRef
    window: Window
    out_shape: tuple[int, int]

    @property
    def zoom(self) -> float:
        """Output pixels per tile pixel (1 = full resolution, 0.5 = halved)."""
        return self.out_shape[1] / self.window.width

    @property
    def out_georef(self) -> GeoRef:
        """Georeference of the drawn picture's grid."""
        w = self.window
        transform = (
            self.georef.transform
            @ Affine.translation(w.col_off, w.row_off)
            @ Affine.scale(w.width / self.out_shape[1], w.height / self.out_shape[0])
        )
        return GeoRef(self.out_shape[0], self.out_shape[1], transform, self.georef.crs)

    @property
    def metres_per_px(self) -> float | None:
        """Ground metres per output pixel along the rows, or ``None`` without georeference."""
        gsd = self.georef.gsd_m
        if gsd is None:
            return None
        return gsd[0] * self.window.width / self.out_shape[1]

    def to_out(self, xy: np.ndarray) -> np.ndarray:
        """Map tile pixel ``(x, y)`` points, any shape ``(..., 2)``, to output pixels."""
        xy = np.asarray(xy, dtype=np.float64)
        w = self.window
        sx, sy = self.out_shape[1] / w.width, self.out_shape[0] / w.height
        return np.stack([(xy[..., 0] - w.col_off) * sx, (xy[..., 1] - w.row_off) * sy], axis=-1)


def make_frame(
    georef: GeoRef,
    window: Window | None = None,
    *,
    width: int | None = None,
    scale: float | None = None,
    max_width: int = DEFAULT_MAX_WIDTH,
) -> Frame:
    """Choose the output size of a window: a given width, a given scale, or full resolution.

    Parameters
    ----------
    georef : GeoRef
        The tile's grid.
    window : rasterio.windows.Window, optional
        The part shown; the whole grid by default.
    width : int, optional
        Output width in pixels (the height follows the window's aspect).
    scale : float, optional
        Ground metres per output pixel (needs a georeference). Ignored when ``width`` is given.
    max_width : int
        Without ``width`` or ``scale``: full resolution, but no wider than this.

    Returns
    -------
    Frame

    Raises
    ------
    RenderError
        When the output would be empty or larger than `MAX_OUTPUT_SIDE`.
    """
    window = window or Window(0, 0, georef.width, georef.height)
    if width is not None:
        out_w = int(width)
    elif scale is not None:
        if georef.gsd_m is None:
            raise RenderError(
                "`scale` needs a georeferenced tile; use `width` for tiles without a CRS",
                parameter="scale",
            )
        if not scale > 0:
            raise RenderError(
                f"scale {scale} m/px is not positive; give e.g. `scale` 0.5", parameter="scale"
            )
        out_w = int(round(window.width * georef.gsd_m[0] / scale))
    else:
        out_w = int(min(window.width, max_width))
    out_h = int(round(out_w * window.height / window.width))
    if out_w < 16 or out_h < 16:
        raise RenderError(
            f"the output would be {out_w} x {out_h} px, too small to read; ask for a larger "
            "`width` or a smaller `scale`",
            parameter="width",
        )
    if max(out_w, out_h) > MAX_OUTPUT_SIDE:
        raise RenderError(
            f"the output would be {out_w} x {out_h} px, larger than {MAX_OUTPUT_SIDE} px; ask "
            "for a smaller `width`, a coarser `scale` or a smaller region",
            parameter="width",
        )
    return Frame(georef, window, (out_h, out_w))
