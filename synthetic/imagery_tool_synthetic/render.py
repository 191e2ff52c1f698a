"""Render any window of a synthetic scene on one date's pixel grid.

The scene is rendered in fixed 512 x 512 cells aligned on the global pixel grid (each with a
small margin for the point-spread blur), so a window renders exactly as the same region of a
full render, and memory is proportional to the window.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from imagery_tool_synthetic.acquisition import Acquisition, ground_to_pixel, pixel_to_ground
from imagery_tool_synthetic.noise import fbm, hash_normal, hash_uniform
from imagery_tool_synthetic.shapes import Body, heading_vectors
from imagery_tool_synthetic.site import Site

__all__ = ["CELL", "Renderer", "render"]

CELL = 512
_MARGIN = 8
_SHIFT = 8  # fixed-point bits for cv2 polygon vertices (1/256 px)
_ONE = 1 << _SHIFT
_CLIP = 64  # polygons are clipped to the cell plus this many pixels

_AMBIENT, _DIFFUSE = 0.42, 0.58
_SHADOW_TINT = np.array([0.40, 0.43, 0.50], dtype=np.float32)
_HAZE_RGB = np.array([0.80, 0.82, 0.86], dtype=np.float32)

_MATERIALS = {
    "concrete": (0.69, 0.68, 0.65),
    "asphalt": (0.34, 0.34, 0.34),
    "soil": (0.62, 0.52, 0.42),
    "gravel": (0.58, 0.56, 0.52),
}


@dataclass
class _Poly:
    pts: np.ndarray  # (N, 2) float64 pixel coords (corner convention)
    bbox: tuple[float, float, float, float]


def _poly(pts: np.ndarray) -> _Poly:
    return _Poly(pts, (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()))


@dataclass
class _PreparedBody:
    body: Body
    parts: list[_Poly]
    shadows: list[_Poly]
    bbox: tuple[float, float, float, float]
    sun_body: np.ndarray  # sun vector in the body frame (x forward, y right, z up)


class Renderer:
    """A scene prepared for one date: geometry mapped to the date's pixel grid once.

    Parameters
    ----------
    site : Site
        Static layout.
    acquisition : Acquisition
        Date conditions (sun, radiometry, misregistration).
    objects : iterable of Body, optional
        Aircraft and vehicles present on the date.
    shadows : bool, optional
        Draw cast shadows (switch off to isolate objects in tests).
    """

    def __init__(
        self,
        site: Site,
        acquisition: Acquisition,
        *,
        objects: Iterable[Body] = (),
        shadows: bool = True,
    ) -> None:
        self.site = site
        self.acq = acquisition
        self.m = ground_to_pixel(acquisition, gsd_m=site.gsd_m, shape=site.shape)
        self.minv = pixel_to_ground(acquisition, gsd_m=site.gsd_m, shape=site.shape)
        self.sun = acquisition.sun_vector()
        self.shadow_vec = acquisition.shadow_offset()
        fr, rr = heading_vectors(site.runway_heading_deg)
        self.frame_f, self.frame_r = fr, rr
        self.surfaces = _runs((s.material, _poly(self._px(s.polygon))) for s in site.surfaces)
        self.markings = _runs(
            ((k.colour, k.opacity), _poly(self._px(k.polygon))) for k in site.markings
        )
        bodies = list(site.structures) + sorted(objects, key=lambda b: (b.kind != "vehicle", b.id))
        self.bodies = [self._prepare(b, shadows) for b in bodies]
        self._bboxes = np.array([b.bbox for b in self.bodies]).reshape(-1, 4)

    # -- geometry ---------------------------------------------------------------------------
    def _px(self, ground: np.ndarray) -> np.ndarray:
        g = np.asarray(ground, dtype=np.float64)
        return g @ self.m[:, :2].T + self.m[:, 2]

    def _prepare(self, body: Body, shadows: bool) -> _PreparedBody:
        f, r = heading_vectors(body.heading_deg)
        parts = [_poly(self._px(body.to_ground(p.outline))) for p in body.parts]
        shadow_polys = []
        if shadows:
            off = self.shadow_vec
            for p in body.parts:
                if not p.casts_shadow or max(p.z1, p.z0) <= 0.05:
                    continue
                if p.shadow3d is not None:
                    g = body.to_ground(p.shadow3d[:, :2]) + p.shadow3d[:, 2:3] * off
                else:
                    base = body.to_ground(p.outline)
                    g = np.concatenate([base + p.z0 * off, base + p.z1 * off])
                hull = cv2.convexHull(g.astype(np.float32)).reshape(-1, 2).astype(np.float64)
                shadow_polys.append(_poly(self._px(hull)))
        allp = parts + shadow_polys
        bbox = (
            min(p.bbox[0] for p in allp),
            min(p.bbox[1] for p in allp),
            max(p.bbox[2] for p in allp),
            max(p.bbox[3] for p in allp),
        )
        s = self.sun
        sun_body = np.array([s[0] * f[0] + s[1] * f[1], s[0] * r[0] + s[1] * r[1], s[2]])
        return _PreparedBody(body, parts, shadow_polys, bbox, sun_body)

    # -- public -----------------------------------------------------------------------------
    def render(self, window=None) -> np.ndarray:
        """Render a window; see :func:`render`."""
        col0, row0, w, h = _window_tuple(window, self.site)
        out = np.empty((h, w, 3), dtype=np.uint8)
        for cy in range(row0 // CELL, (row0 + h - 1) // CELL + 1):
            for cx in range(col0 // CELL, (col0 + w - 1) // CELL + 1):
                cell = self._cell(cx * CELL, cy * CELL)
                x0, y0 = max(col0, cx * CELL), max(row0, cy * CELL)
                x1 = min(col0 + w, (cx + 1) * CELL)
                y1 = min(row0 + h, (cy + 1) * CELL)
                out[y0 - row0 : y1 - row0, x0 - col0 : x1 - col0] = cell[
                    y0 - cy * CELL : y1 - cy * CELL, x0 - cx * CELL : x1 - cx * CELL
                ]
        return np.ascontiguousarray(out.transpose(2, 0, 1))

    # -- one cell ---------------------------------------------------------------------------
    def _cell(self, cx0: int, cy0: int) -> np.ndarray:
        x0, y0 = cx0 - _MARGIN, cy0 - _MARGIN
        n = CELL + 2 * _MARGIN
        cols = x0 + np.arange(n, dtype=np.float64) + 0.5
        rows = y0 + np.arange(n, dtype=np.float64) + 0.5
        cc, rr = np.meshgrid(cols, rows)
        gx = (self.minv[0, 0] * cc + self.minv[0, 1] * rr + self.minv[0, 2]).astype(np.float32)
        gy = (self.minv[1, 0] * cc + self.minv[1, 1] * rr + self.minv[1, 2]).astype(np.float32)
        seed = self.site.seed
        smooth = _Smooth(self.minv, x0, y0, n)
        img = _land(gx, gy, seed, smooth)
        clip = (x0 - _CLIP, y0 - _CLIP, x0 + n + _CLIP, y0 + n + _CLIP)
        cache: dict[str, np.ndarray] = {}
        for material, polys in self.surfaces:
            a = _coverage(polys, x0, y0, n, n, clip)
            if a is None:
                continue
            if material not in cache:
                cache[material] = self._material(material, gx, gy, seed, smooth)
            a = a[..., None]
            img = img * (1 - a) + cache[material] * a
        wear = None
        for (colour, opacity), polys in self.markings:
            a = _coverage(polys, x0, y0, n, n, clip)
            if a is None:
                continue
            if wear is None:
                wear = 0.65 + 0.35 * fbm(gx, gy, scale=3.0, seed=seed + 5, octaves=2)
            a = (a * opacity * wear)[..., None]
            img = img * (1 - a) + np.asarray(colour, dtype=np.float32) * a
        hits = self._hits(x0, y0, n)
        shadow = np.zeros((n, n), dtype=np.uint8)
        for i in hits:
            for sp in self.bodies[i].shadows:
                _fill(shadow, sp, x0, y0, clip)
        if shadow.any():
            s = (shadow.astype(np.float32) / 255)[..., None]
            img = img * (1 - s) + img * _SHADOW_TINT * s
        for i in hits:
            img = self._draw_body(img, self.bodies[i], gx, gy, x0, y0, n)
        return self._sensor(img, smooth, x0, y0)[_MARGIN:-_MARGIN, _MARGIN:-_MARGIN]

    def _hits(self, x0: int, y0: int, n: int) -> list[int]:
        b = self._bboxes
        if len(b) == 0:
            return []
        ok = (
            (b[:, 0] < x0 + n + 1)
            & (b[:, 2] > x0 - 1)
            & (b[:, 1] < y0 + n + 1)
            & (b[:, 3] > y0 - 1)
        )
        return [int(i) for i in np.nonzero(ok)[0]]

    def _material(self, material: str, gx, gy, seed, smooth) -> np.ndarray:
        base = np.asarray(_MATERIALS[material], dtype=np.float32)
        fine = fbm(gx, gy, scale=2.0, seed=seed + 11, octaves=2) - 0.5
        if material == "concrete":
            f, r = self.frame_f, self.frame_r
            u = gx * f[0] + gy * f[1]
            v = gx * r[0] + gy * r[1]
            iu = np.floor(u / 7.5)
            iv = np.floor(v / 7.5)
            panel = 0.94 + 0.1 * hash_uniform(iu, iv, seed=seed + 3)
            gsd = self.site.gsd_m
            du = np.abs(u - (iu + 0.5) * 7.5)
            dv = np.abs(v - (iv + 0.5) * 7.5)
            edge = 7.5 / 2 - np.maximum(du, dv)  # metres to the nearest joint
            joint = np.clip((0.15 + gsd / 2 - edge) / gsd, 0, 1).astype(np.float32)
            stain = fbm(gx, gy, scale=6.0, seed=seed + 17, octaves=2)
            dark = np.clip((stain - 0.68) * 1.6, 0, 0.12)
            shade = panel * (1 + 0.10 * fine) * (1 - 0.28 * joint) * (1 - dark)
            return base * shade.astype(np.float32)[..., None]
        if material == "soil":
            big = smooth(lambda x, y: fbm(x, y, scale=25.0, seed=seed + 19, octaves=3)) - 0.5
            return base * (1 + 0.25 * big + 0.15 * fine)[..., None]
        return base * (1 + 0.08 * fine)[..., None]

    def _draw_body(self, img, pb: _PreparedBody, gx, gy, x0, y0, n) -> np.ndarray:
        bx0 = max(int(math.floor(pb.bbox[0])) - 1, x0)
        by0 = max(int(math.floor(pb.bbox[1])) - 1, y0)
        bx1 = min(int(math.ceil(pb.bbox[2])) + 1, x0 + n)
        by1 = min(int(math.ceil(pb.bbox[3])) + 1, y0 + n)
        if bx1 <= bx0 or by1 <= by0:
            return img
        h, w = by1 - by0, bx1 - bx0
        sl = np.s_[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0]
        region = img[sl]
        body = pb.body
        f, r = heading_vectors(body.heading_deg)
        dx = gx[sl] - body.center[0]
        dy = gy[sl] - body.center[1]
        u = dx * f[0] + dy * f[1]
        v = dx * r[0] + dy * r[1]
        clip = (bx0 - _CLIP, by0 - _CLIP, bx1 + _CLIP, by1 + _CLIP)
        s = pb.sun_body
        flat = _AMBIENT + _DIFFUSE * s[2]
        camo_mask = None
        for part, poly in zip(body.parts, pb.parts, strict=True):
            a = _coverage([poly], bx0, by0, w, h, clip)
            if a is None:
                continue
            col = np.asarray(part.colour, dtype=np.float32)
            if part.camo is not None:
                if camo_mask is None:
                    blot = fbm(
                        u, v, scale=2.2, seed=zlib.crc32(body.id.encode()) % 100003, octaves=2
                    )
                    camo_mask = np.clip((blot - 0.5) * 8 + 0.5, 0, 1).astype(np.float32)
                c2 = np.asarray(part.camo, dtype=np.float32)
                colour = col + (c2 - col) * camo_mask[..., None]
            else:
                colour = np.broadcast_to(col, (h, w, 3))
            if part.shade == "tube":
                t = np.clip((v - part.axis_y) / part.radius, -1, 1)
                nz = np.sqrt(1 - t * t)
                lit = (_AMBIENT + _DIFFUSE * np.maximum(0, t * s[1] + nz * s[2])) / flat
                colour = colour * lit.astype(np.float32)[..., None]
            elif part.shade == "normal" and part.normal is not None:
                nv = np.asarray(part.normal, dtype=np.float64)
                nv = nv / np.linalg.norm(nv)
                lit = (_AMBIENT + _DIFFUSE * max(0.0, float(nv @ s))) / flat
                colour = colour * np.float32(lit)
            a = a[..., None]
            region = region * (1 - a) + colour * a
        img[sl] = region
        return img

    def _sensor(self, img, smooth, x0, y0) -> np.ndarray:
        acq = self.acq
        img = np.clip(img, 0, 1).astype(np.float32)
        if acq.blur_sigma > 0:
            img = cv2.GaussianBlur(img, (0, 0), acq.blur_sigma)
        if acq.haze > 0:
            veil = 0.55 + 0.9 * smooth(
                lambda x, y: fbm(x, y, scale=450.0, seed=acq.seed + 99, octaves=2)
            )
            hz = np.clip(acq.haze * veil, 0, 0.95).astype(np.float32)[..., None]
            img = img * (1 - hz) + _HAZE_RGB * hz
        if acq.gamma != 1.0:
            img = np.power(img, np.float32(acq.gamma))
        tint = np.asarray(acq.tint, dtype=np.float32)
        img = (img * np.float32(acq.gain) * tint + np.float32(acq.offset)) * 255
        n = img.shape[0]
        if acq.noise_sigma > 0:
            cols = np.arange(x0, x0 + n)[None, :]
            rows = np.arange(y0, y0 + n)[:, None]
            lum = hash_normal(cols, rows, seed=acq.seed * 5 + 1) * 0.8
            for b in range(3):
                band = hash_normal(cols, rows, seed=acq.seed * 5 + 2 + b) * 0.6
                img[..., b] += np.float32(acq.noise_sigma) * (lum + band)
        return np.clip(np.rint(img), 0, 255).astype(np.uint8)


class _Smooth:
    """Evaluate a smooth field every 8 px on the global grid and interpolate bilinearly.

    The coarse samples sit on global pixel positions (multiples of 8), so every cell gets the
    same values at the same pixels: no seams, a fraction of the cost for large features.
    """

    STEP = 8

    def __init__(self, minv: np.ndarray, x0: int, y0: int, n: int) -> None:
        s = self.STEP
        assert x0 % s == 0 and y0 % s == 0
        k = np.arange(n // s + 2, dtype=np.float64) * s + 0.5
        cc, rr = np.meshgrid(x0 + k, y0 + k)
        self.gx = (minv[0, 0] * cc + minv[0, 1] * rr + minv[0, 2]).astype(np.float32)
        self.gy = (minv[1, 0] * cc + minv[1, 1] * rr + minv[1, 2]).astype(np.float32)
        self.n = n
        self.m = np.array([[1 / s, 0, 0], [0, 1 / s, 0]], dtype=np.float64)

    def __call__(self, fn) -> np.ndarray:
        coarse = np.ascontiguousarray(fn(self.gx, self.gy), dtype=np.float32)
        return cv2.warpAffine(
            coarse, self.m, (self.n, self.n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip


def _land(gx: np.ndarray, gy: np.ndarray, seed: int, smooth: _Smooth) -> np.ndarray:
    """Grass, dry grass and red-brown soil (terra rossa) from noise at ground coordinates."""
    big = smooth(lambda x, y: fbm(x, y, scale=140.0, seed=seed + 1, octaves=3))
    mid = smooth(lambda x, y: fbm(x, y, scale=30.0, seed=seed + 2, octaves=3))
    fine = fbm(gx, gy, scale=2.5, seed=seed + 3, octaves=2)
    grass = np.array([0.40, 0.44, 0.29], dtype=np.float32)
    dry = np.array([0.58, 0.55, 0.42], dtype=np.float32)
    soil = np.array([0.60, 0.46, 0.36], dtype=np.float32)
    t_soil = np.clip((big - 0.56) * 6, 0, 1)[..., None]
    t_dry = np.clip((mid - 0.45) * 3, 0, 1)[..., None]
    col = grass + (dry - grass) * t_dry
    col = col + (soil - col) * t_soil
    return (col * (0.82 + 0.36 * fine)[..., None]).astype(np.float32)


def _clip_polygon(pts: np.ndarray, rect: tuple[float, float, float, float]) -> np.ndarray:
    """Sutherland-Hodgman clip of a polygon to an axis-aligned rectangle."""
    x0, y0, x1, y1 = rect
    out = pts
    for axis, bound, keep_greater in ((0, x0, True), (0, x1, False), (1, y0, True), (1, y1, False)):
        if len(out) == 0:
            break
        inp = out
        res = []
        prev = inp[-1]
        for cur in inp:
            cin = cur[axis] >= bound if keep_greater else cur[axis] <= bound
            pin = prev[axis] >= bound if keep_greater else prev[axis] <= bound
            if cin != pin:
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                res.append(prev + t * (cur - prev))
            if cin:
                res.append(cur)
            prev = cur
        out = np.array(res).reshape(-1, 2)
    return out


def _fill(mask: np.ndarray, poly: _Poly, x0: int, y0: int, clip) -> bool:
    h, w = mask.shape
    b = poly.bbox
    if b[0] > x0 + w or b[2] < x0 or b[1] > y0 + h or b[3] < y0:
        return False
    pts = poly.pts
    if b[0] < clip[0] or b[1] < clip[1] or b[2] > clip[2] or b[3] > clip[3]:
        pts = _clip_polygon(pts, clip)
        if len(pts) < 3:
            return False
    fixed = np.rint((pts - 0.5) * _ONE).astype(np.int64)
    fixed -= np.array([x0, y0], dtype=np.int64) * _ONE
    cv2.fillPoly(mask, [fixed.astype(np.int32)], 255, cv2.LINE_AA, _SHIFT)
    return True


def _coverage(polys: list[_Poly], x0: int, y0: int, w: int, h: int, clip) -> np.ndarray | None:
    """Anti-aliased coverage in [0, 1] of the union of polygons on a (h, w) raster at (x0, y0)."""
    mask = None
    for poly in polys:
        b = poly.bbox
        if b[0] > x0 + w or b[2] < x0 or b[1] > y0 + h or b[3] < y0:
            continue
        if mask is None:
            mask = np.zeros((h, w), dtype=np.uint8)
        _fill(mask, poly, x0, y0, clip)
    if mask is None:
        return None
    return mask.astype(np.float32) * np.float32(1 / 255)


def _runs(items) -> list[tuple[object, list[_Poly]]]:
    """Group consecutive (key, polygon) items with equal keys, keeping the drawing order."""
    out: list[tuple[object, list[_Poly]]] = []
    for key, poly in items:
        if out and out[-1][0] == key:
            out[-1][1].append(poly)
        else:
            out.append((key, [poly]))
    return out


def _window_tuple(window, site: Site) -> tuple[int, int, int, int]:
    if window is None:
        return 0, 0, site.width, site.height
    if hasattr(window, "col_off"):
        c, r, w, h = window.col_off, window.row_off, window.width, window.height
    else:
        c, r, w, h = window
    c, r, w, h = (int(round(v)) for v in (c, r, w, h))
    if w <= 0 or h <= 0:
        raise ValueError(f"window {window!r} is empty; give a positive width and height")
    return c, r, w, h


def render(
    site: Site,
    acquisition: Acquisition,
    *,
    objects: Sequence[Body] = (),
    window=None,
    shadows: bool = True,
) -> np.ndarray:
    """Render a window of a scene as seen on one date.

    Parameters
    ----------
    site : Site
        Static layout.
    acquisition : Acquisition
        Date conditions; its misregistration is part of the pixel grid, so a ground feature
        appears shifted/rotated relative to the nominal georeference.
    objects : sequence of Body, optional
        Aircraft and vehicles present on the date.
    window : rasterio.windows.Window or tuple of int, optional
        ``(col_off, row_off, width, height)`` on the date's pixel grid; the whole scene by
        default. Windows may extend beyond the scene (the ground continues).
    shadows : bool, optional
        Draw cast shadows.

    Returns
    -------
    image : (3, H, W) uint8 ndarray
        RGB. Identical to the same region of a full render.
    """
    return Renderer(site, acquisition, objects=objects, shadows=shadows).render(window)
