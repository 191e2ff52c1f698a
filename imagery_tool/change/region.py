"""One changed object: kind, score, boxes and size, on BEFORE's grid."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ChangeRegion"]


@dataclass(frozen=True)
class ChangeRegion:
    """A changed object.

    Attributes
    ----------
    change : {"appeared", "disappeared", "changed"}
        ``appeared``: the object is in AFTER only; ``disappeared``: in BEFORE only;
        ``changed``: both dates hold something different there.
    score : float
        Confidence in 0..1.
    bbox_px : tuple of 4 int
        ``(col_min, row_min, col_max, row_max)`` on BEFORE's grid, pixel edges: the box covers
        columns ``col_min .. col_max - 1``.
    polygon_px : (4, 2) float64 ndarray
        Oriented box ``(col, row)`` corners on BEFORE's grid (continuous pixel coordinates).
    area_px : int
        Changed pixels.
    length_px, width_px : float
        Sides of the oriented box, long then short.
    pixel_size_m : float or None
        Ground size of one pixel (``None`` in pixel mode without a stated size).
    mask : (h, w) bool ndarray
        The changed pixels attributed to the object (for the change mask), inside
        `mask_box`: its whole footprint (shadow and enclosed weak change included) for the
        object a candidate is reported as, else its pixels inside `bbox_px`.
    mask_box : tuple of 4 int or None
        ``(col_min, row_min, col_max, row_max)`` on BEFORE's grid where `mask` lies; None:
        at `bbox_px`. Use `mask_bbox`.
    features : (F,) float64 ndarray or None
        What the region model scored (`imagery_tool.change.features.FEATURES`), when one did.
    """

    change: str
    score: float
    bbox_px: tuple[int, int, int, int]
    polygon_px: np.ndarray = field(repr=False)
    area_px: int
    length_px: float
    width_px: float
    pixel_size_m: float | None = None
    mask: np.ndarray | None = field(default=None, repr=False, compare=False)
    features: np.ndarray | None = field(default=None, repr=False, compare=False)
    mask_box: tuple[int, int, int, int] | None = field(default=None, repr=False, compare=False)

    @property
    def mask_bbox(self) -> tuple[int, int, int, int]:
        """Where `mask` lies on BEFORE's grid: `mask_box`, else `bbox_px`."""
        return self.mask_box if self.mask_box is not None else self.bbox_px

    @property
    def area_m2(self) -> float | None:
        """Area of the changed pixels in square metres."""
        s = self.pixel_size_m
        return None if s is None else self.area_px * s * s

    @property
    def length_m(self) -> float | None:
        """Long side of the oriented box in metres."""
        return None if self.pixel_size_m is None else self.length_px * self.pixel_size_m

    @property
    def width_m(self) -> float | None:
        """Short side of the oriented box in metres."""
        return None if self.pixel_size_m is None else self.width_px * self.pixel_size_m

    @property
    def centre_px(self) -> tuple[float, float]:
        """``(col, row)`` of the oriented box's centre."""
        c = self.polygon_px.mean(axis=0)
        return (float(c[0]), float(c[1]))

    def iou(self, other_bbox) -> float:
        """Intersection over union of `bbox_px` with another ``(c0, r0, c1, r1)`` box."""
        a, b = self.bbox_px, other_bbox
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = iw * ih
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union if union > 0 else 0.0
