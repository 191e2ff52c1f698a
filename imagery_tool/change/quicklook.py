"""A quick look of both dates side by side with the change boxes (OpenCV drawing)."""

from __future__ import annotations

import cv2
import numpy as np

from imagery_tool.display import display_rgb, stretch_limits
from imagery_tool.style import change_bgr

__all__ = ["render_quicklook"]


def render_quicklook(result, *, max_side: int = 1600) -> np.ndarray:
    """Draw BEFORE and AFTER (on BEFORE's grid) side by side with the regions' oriented boxes.

    Parameters
    ----------
    result : ChangeResult
    max_side : int
        Longer side of the two panels together, in pixels.

    Returns
    -------
    (H, W, 3) uint8 ndarray
        BGR image, for ``cv2.imencode``.
    """
    from imagery_tool.registration import AlignedPair

    # red, green, blue whatever the bands' order in the files (`Tile.rgb_bands`)
    pair = AlignedPair.of(
        result.before, result.after, result.registration, bands=result.before.rgb_bands
    )
    g = result.before.georef
    scale = min(1.0, max_side / (2 * max(g.width, g.height)))
    shape = (max(1, round(g.height * scale)), max(1, round(g.width * scale)))
    from rasterio.windows import Window

    whole = Window(0, 0, g.width, g.height)
    with pair.open() as datasets:
        b, a, valid = pair.read(whole, out_shape=shape, datasets=datasets)
    panels = []
    for pixels in (b, a):
        rgb = pixels if pixels.shape[0] == 3 else np.repeat(pixels[:1], 3, axis=0)
        img = display_rgb(rgb, stretch_limits(rgb, valid), valid)
        panels.append(np.ascontiguousarray(img[..., ::-1]))  # RGB -> BGR for OpenCV
    for panel, label in zip(panels, ("before", "after"), strict=True):
        for region in result.regions:
            pts = np.round((region.polygon_px * scale) * 16).astype(np.int32)
            cv2.polylines(panel, [pts], True, change_bgr(region.change), 2, cv2.LINE_AA, 4)
        cv2.putText(panel, label, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    gap = np.full((shape[0], 8, 3), 255, np.uint8)
    return np.hstack([panels[0], gap, panels[1]])
