"""A quick look of both dates side by side with the change boxes (OpenCV drawing)."""

from __future__ import annotations

import cv2
import numpy as np

from imagery_tool.display import stretch_limits

__all__ = ["KIND_COLOURS", "render_quicklook"]

# BGR colours for OpenCV: appeared red, disappeared cyan, changed yellow.
KIND_COLOURS = {"appeared": (40, 40, 230), "disappeared": (230, 200, 40), "changed": (40, 220, 240)}


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
        limits = stretch_limits(rgb, valid)
        low, span = limits[:, :1, None], (limits[:, 1] - limits[:, 0])[:, None, None]
        scaled = np.nan_to_num((rgb.astype(np.float32) - low) * (255.0 / span))
        img = np.clip(scaled, 0, 255).astype(np.uint8)
        img[:, ~valid] = 0
        panels.append(np.ascontiguousarray(img[::-1].transpose(1, 2, 0)))  # RGB -> BGR, HWC
    for panel, label in zip(panels, ("before", "after"), strict=True):
        for region in result.regions:
            pts = np.round((region.polygon_px * scale) * 16).astype(np.int32)
            cv2.polylines(panel, [pts], True, KIND_COLOURS[region.change], 2, cv2.LINE_AA, 4)
        cv2.putText(panel, label, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    gap = np.full((shape[0], 8, 3), 255, np.uint8)
    return np.hstack([panels[0], gap, panels[1]])
