"""Re-express rendered 8-bit RGB scenes as other products: 11/12-bit counts, reflectance."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp

from imagery_tool.atomic import atomic_path

__all__ = ["PRODUCTS", "Product", "sensor_bands", "to_product", "write_product"]

_ROLES = {"R": "red", "G": "green", "B": "blue", "N": "nir"}


@dataclass(frozen=True)
class Product:
    """How a product stores its bands: type, scale, band order, labels and nodata.

    Attributes
    ----------
    dtype : {"uint16", "float32"}
        Pixel type of the file.
    white : float
        The value of a reflectance of 1 (4095 for 12-bit counts, 10000 for scaled
        reflectance, 1.0 for float reflectance).
    order : str
        Band order, one letter per band: ``R`` red, ``G`` green, ``B`` blue, ``N`` near infrared
        (``"BGRN"``: WorldView / Planet style; ``"RGBN"``: Pleiades style).
    labelled : bool
        Write the band roles as GDAL colour interpretation (else gray/undefined on every band,
        what many deliveries carry).
    nodata : float or None
        Value written where the scene has no data (NaN for float reflectance) and declared as
        the file's nodata.
    nbits : int or None
        ``NBITS`` tag of the file (11 or 12 bit counts in 16-bit words).
    dark : float
        Reflectance added to every band (the path radiance of raw counts).
    """

    dtype: str
    white: float
    order: str = "BGRN"
    labelled: bool = True
    nodata: float | None = None
    nbits: int | None = None
    dark: float = 0.0


# The kinds of product users bring, by name (the tests and the docs use these).
PRODUCTS: dict[str, Product] = {
    # 11-bit counts (WorldView-2/3, GeoEye): blue first, values up to 2047, mostly dark
    "worldview-11bit": Product("uint16", 2047.0, "BGRN", nbits=11, dark=0.03),
    # 12-bit counts (Pleiades): red first, no NBITS tag, values up to 4095
    "pleiades-12bit": Product("uint16", 4095.0, "RGBN", dark=0.02),
    # the same 11-bit counts with nothing saying which band is which
    "unlabelled-11bit": Product("uint16", 2047.0, "BGRN", labelled=False, dark=0.03),
    # surface reflectance 0..1, NaN where there is no data (Sentinel-2 / Landsat L2 style)
    "reflectance": Product("float32", 1.0, "BGRN", nodata=float("nan")),
    # the same with a nodata value instead of NaN
    "reflectance-9999": Product("float32", 1.0, "BGRN", nodata=-9999.0),
    # reflectance scaled to 0..10000 as uint16, 0 = nodata (Sentinel-2 L2A style)
    "reflectance-uint16": Product("uint16", 10000.0, "BGRN", nodata=0.0),
}


def sensor_bands(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Reflectance-like red, green, blue and near-infrared bands of a rendered 8-bit scene.

    The visible bands are the rendered ones scaled to 0..0.6 (a bright scene's reflectance);
    near infrared follows the brightness and is raised where green exceeds red (vegetation),
    so that a changed object changes it too.

    Parameters
    ----------
    rgb : (3, H, W) uint8 ndarray
        Red, green, blue, as `imagery_tool_synthetic.render` gives them. Not modified.

    Returns
    -------
    dict of str to (H, W) float32 ndarray
        ``"red"``, ``"green"``, ``"blue"``, ``"nir"``: reflectance 0..1.
    """
    v = rgb.astype(np.float32) * np.float32(0.6 / 255.0)
    red, green, blue = v
    nir = np.clip(0.8 * (red + green + blue) / 3.0 + 1.5 * np.maximum(green - red, 0.0), 0, 1)
    return {"red": red, "green": green, "blue": blue, "nir": nir.astype(np.float32)}


def to_product(
    rgb: np.ndarray, product: Product, *, holes: np.ndarray | None = None, seed: int = 0
) -> np.ndarray:
    """Turn a rendered 8-bit RGB scene into a product's pixels.

    Parameters
    ----------
    rgb : (3, H, W) uint8 ndarray
        The rendered scene. Not modified.
    product : Product
        What to make (see `PRODUCTS`).
    holes : (H, W) bool ndarray, optional
        Where the product has no data: ``product.nodata`` is written there (or 0 when the
        product declares none).
    seed : int
        Seeds the sub-count dither that spreads each 8-bit level over the finer scale.

    Returns
    -------
    (len(product.order), H, W) ndarray
        In ``product.dtype``: counts ``0..white`` for integer products, reflectance for float.
    """
    bands = sensor_bands(rgb)
    rng = np.random.default_rng(seed)
    step = np.float32(0.6 / 255.0)  # one 8-bit level in reflectance
    out = []
    for letter in product.order:
        band = bands[_ROLES[letter]] + np.float32(product.dark)
        if product.white > 255:  # spread the 8-bit levels over the finer scale
            band = band + rng.uniform(-0.5, 0.5, band.shape).astype(np.float32) * step
        out.append(np.clip(band, 0.0, 1.0) * np.float32(product.white))
    pixels = np.stack(out)
    if np.dtype(product.dtype).kind in "ui":
        pixels = np.clip(np.rint(pixels), 0, np.iinfo(product.dtype).max)
        if product.nodata is not None:  # keep valid pixels off the nodata value
            pixels = np.maximum(pixels, product.nodata + 1)
    pixels = pixels.astype(product.dtype)
    if holes is not None:
        fill = product.nodata if product.nodata is not None else 0
        pixels[:, holes] = np.asarray(fill, dtype=product.dtype)
    return pixels


def write_product(
    path: str | os.PathLike,
    rgb: np.ndarray,
    product: Product,
    *,
    transform: Affine,
    crs: CRS | None,
    holes: np.ndarray | None = None,
    tags: dict[str, str] | None = None,
    seed: int = 0,
) -> Path:
    """Write a rendered scene as a product's GeoTIFF (tiled, deflate), atomically.

    Parameters
    ----------
    path : path-like
        The file to write.
    rgb : (3, H, W) uint8 ndarray
        The rendered scene.
    product : Product
        Type, scale, band order, labels and nodata (see `PRODUCTS`).
    transform, crs
        Georeference of the scene's grid.
    holes : (H, W) bool ndarray, optional
        Where to write nodata (see `to_product`).
    tags : dict of str to str, optional
        Dataset metadata (e.g. ``ACQUISITIONDATETIME``).
    seed : int
        As for `to_product`.

    Returns
    -------
    Path
    """
    pixels = to_product(rgb, product, holes=holes, seed=seed)
    path = Path(path)
    profile = {
        "driver": "GTiff",
        "width": pixels.shape[2],
        "height": pixels.shape[1],
        "count": pixels.shape[0],
        "dtype": product.dtype,
        "crs": crs,
        "transform": transform,
        "nodata": product.nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    if product.nbits:
        profile["nbits"] = product.nbits
    if product.labelled and product.order.startswith("RGB"):
        profile["photometric"] = "RGB"  # a TIFF that says RGB, the NIR band an extra sample
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as ds:
        ds.write(pixels)
        if tags:
            ds.update_tags(**tags)
        if product.labelled:
            ds.colorinterp = [ColorInterp[_colorinterp(letter)] for letter in product.order]
    return path


def _colorinterp(letter: str) -> str:
    # GDAL >= 3.10 has a near-infrared colour interpretation; older ones leave it undefined
    role = _ROLES[letter]
    return role if role != "nir" or "nir" in ColorInterp.__members__ else "undefined"
