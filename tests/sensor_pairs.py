"""Generated pairs of real sensors' data types: 11/12-bit 4-band counts and float reflectance.

One small scene (640 px at 0.5 m) is rendered once per session and written as any product of
`imagery_tool_synthetic.sensor.PRODUCTS`: an Il-76 and a Su-24 stay, a Su-34 leaves, a Su-35
arrives, and a red roof (a flat 30 m square, the same on both dates) tells red from blue.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from imagery_tool_synthetic import Acquisition, Site, build_site, make_aircraft, render
from imagery_tool_synthetic.acquisition import ground_to_pixel, pixel_to_ground
from imagery_tool_synthetic.sensor import PRODUCTS, Product, write_product
from imagery_tool_synthetic.truth import object_record

SIZE = 640
ROOF_PX = (60, 420, 120, 480)  # (col0, row0, col1, row1) of the red roof on BEFORE's grid
ROOF_RGB = (200, 40, 40)
HOLE_MARGIN = 40  # px of nodata around the departing aircraft in BEFORE
AFTER_HOLE = (200, 40, 330, 140)  # nodata in AFTER, on plain concrete (on AFTER's grid)
DATES = ("2024-12-06", "2024-12-13")


@dataclasses.dataclass(frozen=True)
class SensorPair:
    """A written pair and what is known about it.

    Attributes
    ----------
    before, after : Path
    product : Product
    truth : dict of str to tuple of float
        ``"leaves"`` (a Su-34, gone in AFTER) and ``"arrives"`` (a Su-35, new in AFTER):
        ``(col0, row0, col1, row1)`` on BEFORE's grid.
    before_hole, after_hole : tuple of int or None
        ``(col0, row0, col1, row1)`` of the nodata areas, each on its own date's grid (AFTER's
        is off BEFORE's by about (6, -5) px unless the pair is clean); None: no hole.
    """

    before: Path
    after: Path
    product: Product
    truth: dict
    before_hole: tuple[int, int, int, int] | None
    after_hole: tuple[int, int, int, int] | None


@lru_cache(maxsize=2)
def scene(clean: bool = False) -> tuple[np.ndarray, np.ndarray, dict, Site]:
    """Render BEFORE and AFTER as 8-bit RGB once: ``(before, after, truth boxes, site)``.

    ``clean``: AFTER under BEFORE's sun and light, on the same grid (only noise differs), the
    pair a textbook change-vector analysis handles; else another sun, gain, gamma, haze and a
    misregistration of (6.3, -4.8) px and 0.4 degree.
    """
    site = build_site(seed=7, width=SIZE, height=SIZE)
    t0 = datetime(2024, 12, 6, 8, 30, tzinfo=UTC)
    before = Acquisition(t0, sun_azimuth_deg=150, sun_elevation_deg=32, noise_sigma=2.0, seed=1)
    if clean:
        after = dataclasses.replace(before, when=datetime(2024, 12, 13, 8, 30, tzinfo=UTC), seed=2)
    else:
        after = Acquisition(
            datetime(2024, 12, 13, 8, 45, tzinfo=UTC), sun_azimuth_deg=195,
            sun_elevation_deg=40, shift_px=(6.3, -4.8), rotation_deg=0.4, gain=1.12,
            offset=-0.02, gamma=1.06, haze=0.2, noise_sigma=2.5, seed=2,
        )  # fmt: skip
    stands = {s.id: s for s in site.stands}

    def plane(kind, stand, oid):
        s = stands[stand]
        return make_aircraft(kind, id=oid, center=s.center, heading_deg=s.heading_deg)

    stays = [plane("Il-76", "H4", "il76-1"), plane("Su-24", "F7", "su24-1")]
    leaves, arrives = plane("Su-34", "F12", "su34-1"), plane("Su-35", "F9", "su35-1")
    rgb_b = render(site, before, objects=[*stays, leaves])
    rgb_a = render(site, after, objects=[*stays, arrives])
    # the red roof: one ground square, drawn on each date's own grid
    to_ground = pixel_to_ground(before, gsd_m=site.gsd_m, shape=site.shape)
    c0, r0, c1, r1 = ROOF_PX
    corners = np.array([[c0, r0, 1], [c1, r0, 1], [c1, r1, 1], [c0, r1, 1]], float)
    ground = corners @ to_ground.T
    for image, acq in ((rgb_b, before), (rgb_a, after)):
        m = ground_to_pixel(acq, gsd_m=site.gsd_m, shape=site.shape)
        px = ground @ m[:, :2].T + m[:, 2]
        mask = np.zeros(image.shape[1:], np.uint8)
        cv2.fillConvexPoly(mask, np.round(px * 16).astype(np.int32), 1, cv2.LINE_8, 4)
        for band, value in zip(image, ROOF_RGB, strict=True):
            band[mask > 0] = value
    truth = {
        "leaves": tuple(object_record(site, before, leaves)["bbox_px"]),
        "arrives": tuple(object_record(site, before, arrives)["bbox_px"]),
    }
    return rgb_b, rgb_a, truth, site


def write_pair(
    folder: Path, product: str | Product, *, holes: bool = True, clean: bool = False
) -> SensorPair:
    """Write the scene's two dates as ``product`` in ``folder``.

    Parameters
    ----------
    folder : Path
        Created if missing; the files are ``site_2024-12-06.tif`` and ``site_2024-12-13.tif``.
    product : str or Product
        A key of `PRODUCTS` or a `Product`.
    holes : bool
        For products with nodata: BEFORE has none `HOLE_MARGIN` px around the departing
        aircraft (so that its departure cannot be seen), AFTER none on `AFTER_HOLE`.
    clean : bool
        See `scene`.

    Returns
    -------
    SensorPair
    """
    product = PRODUCTS[product] if isinstance(product, str) else product
    rgb_b, rgb_a, truth, site = scene(clean)
    folder.mkdir(parents=True, exist_ok=True)
    before_hole = after_hole = None
    hole_b = hole_a = None
    if holes and product.nodata is not None:
        before_hole, after_hole = _around(truth["leaves"]), AFTER_HOLE
        hole_b, hole_a = _mask(before_hole), _mask(after_hole)
    paths = []
    for date, rgb, hole, seed in ((DATES[0], rgb_b, hole_b, 1), (DATES[1], rgb_a, hole_a, 2)):
        paths.append(
            write_product(
                folder / f"site_{date}.tif", rgb, product, transform=site.transform,
                crs=site.crs, holes=hole, tags={"ACQUISITIONDATETIME": f"{date}T08:30:00Z"},
                seed=seed,
            )
        )  # fmt: skip
    return SensorPair(paths[0], paths[1], product, truth, before_hole, after_hole)


def _around(box) -> tuple[int, int, int, int]:
    c0, r0, c1, r1 = (int(v) for v in box)
    m = HOLE_MARGIN
    return (max(0, c0 - m), max(0, r0 - m), min(SIZE, c1 + m), min(SIZE, r1 + m))


def _mask(box: tuple[int, int, int, int]) -> np.ndarray:
    c0, r0, c1, r1 = box
    mask = np.zeros((SIZE, SIZE), bool)
    mask[r0:r1, c0:c1] = True
    return mask


def roof_centre() -> tuple[int, int]:
    """``(col, row)`` of the red roof's centre on BEFORE's grid."""
    c0, r0, c1, r1 = ROOF_PX
    return (c0 + c1) // 2, (r0 + r1) // 2


def is_red(rgb) -> bool:
    """Whether an (r, g, b) pixel is clearly red (the roof), not blue nor grey."""
    r, g, b = (int(v) for v in rgb[:3])
    return r > 120 and r > 2 * b and r > 2 * g


def overlaps(a, b) -> bool:
    """Whether two ``(col0, row0, col1, row1)`` boxes overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
