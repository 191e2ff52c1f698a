"""Write a rendered date as a Cloud-Optimized GeoTIFF, block by block, atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.enums import ColorInterp, Resampling
from rasterio.windows import Window

from imagery_tool_synthetic.acquisition import Acquisition
from imagery_tool_synthetic.site import Site

__all__ = ["COMPRESSIONS", "OVERVIEW_LEVELS", "write_cog"]

OVERVIEW_LEVELS = (2, 4, 8, 16)

COMPRESSIONS: dict[str, dict[str, str]] = {
    "jpeg": {"COMPRESS": "JPEG", "QUALITY": "90"},
    "deflate": {"COMPRESS": "DEFLATE", "PREDICTOR": "2"},
    "none": {"COMPRESS": "NONE"},
}


def write_cog(
    path: str | os.PathLike,
    render_window: Callable[[Window], np.ndarray],
    *,
    site: Site,
    acquisition: Acquisition,
    block: int = 2048,
    compress: str = "jpeg",
    quality: int = 90,
) -> Path:
    """Render a scene block by block and write it as a COG.

    The blocks go to a temporary tiled GeoTIFF next to `path` (so memory stays bounded by the
    block size), overviews 2/4/8/16 are built with AVERAGE, and the result is copied with
    GDAL's COG driver (512 px tiles; JPEG in YCbCr for RGB) to a second temporary file that
    is moved into place with ``os.replace``: a half-written file never has the final name.

    Parameters
    ----------
    path : path-like
        Output file.
    render_window : callable
        ``render_window(window) -> (3, h, w) uint8`` for a :class:`rasterio.windows.Window`.
    site : Site
        Supplies size, georeference (the nominal one) and CRS.
    acquisition : Acquisition
        Supplies the date tags.
    block : int, optional
        Rendering block size in pixels (memory is about ``60 * block**2`` bytes).
    compress : {"jpeg", "deflate", "none"}, optional
        Compression of the COG.
    quality : int, optional
        JPEG quality.

    Returns
    -------
    Path
        The written file.
    """
    if compress not in COMPRESSIONS:
        raise ValueError(f"compress={compress!r}; choose one of {sorted(COMPRESSIONS)}")
    if block < 256 or block % 256:
        raise ValueError(f"block={block}; use a positive multiple of 256")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tags = {
        "TIFFTAG_DATETIME": acquisition.when.strftime("%Y:%m:%d %H:%M:%S"),
        "ACQUISITIONDATETIME": acquisition.iso,
        "TIFFTAG_IMAGEDESCRIPTION": f"synthetic {site.name} {acquisition.iso} (imagery-tool)",
        "SYNTHETIC": "yes",
    }
    profile = {
        "driver": "GTiff",
        "width": site.width,
        "height": site.height,
        "count": 3,
        "dtype": "uint8",
        "crs": site.crs,
        "transform": site.transform,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "BIGTIFF": "IF_SAFER",
        "photometric": "RGB",
    }
    fd, tmp = tempfile.mkstemp(suffix=".tmp.tif", prefix=f".{path.stem}.", dir=path.parent)
    os.close(fd)
    fd, out_tmp = tempfile.mkstemp(suffix=".cog.tif", prefix=f".{path.stem}.", dir=path.parent)
    os.close(fd)
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            for row in range(0, site.height, block):
                for col in range(0, site.width, block):
                    w = Window(
                        col, row, min(block, site.width - col), min(block, site.height - row)
                    )
                    dst.write(render_window(w), window=w)
            dst.update_tags(**tags)
            dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
            for b, name in enumerate(("red", "green", "blue"), start=1):
                dst.set_band_description(b, name)
            levels = [lv for lv in OVERVIEW_LEVELS if min(site.width, site.height) // lv >= 16]
            dst.build_overviews(levels, Resampling.average)
        opts = dict(COMPRESSIONS[compress])
        if compress == "jpeg":
            opts["QUALITY"] = str(int(quality))
        rasterio.shutil.copy(
            tmp, out_tmp, driver="COG", BLOCKSIZE="512", OVERVIEWS="FORCE_USE_EXISTING",
            BIGTIFF="IF_SAFER", **opts,
        )  # fmt: skip
        os.chmod(out_tmp, 0o644)
        os.replace(out_tmp, path)
    finally:
        for p in (tmp, out_tmp):
            if os.path.exists(p):
                os.remove(p)
    return path
