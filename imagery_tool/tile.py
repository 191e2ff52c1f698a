"""Open dated raster tiles and read them lazily, by window or through their overviews."""

from __future__ import annotations

import logging
import math
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import rasterio
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.errors import NotGeoreferencedWarning as RioNotGeoreferencedWarning
from rasterio.errors import RasterioError
from rasterio.windows import Window

from imagery_tool.dates import AcquisitionDate, resolve_acquisition_date
from imagery_tool.errors import TileReadError
from imagery_tool.georef import GeoRef
from imagery_tool.jpeg_tiles import BlockDecodeError, JpegLayout

__all__ = ["MAX_READ_PIXELS", "SAMPLE_SIDE", "Tile", "open_tile", "role_from_description"]

# A read larger than this many pixels per band is refused: ask for a window or a reduced shape.
# 16384 x 16384 is about 800 MB for three uint8 bands in memory.
MAX_READ_PIXELS = 16384 * 16384

# Side of the full-resolution windows of `Tile.sample_windows`, and the most pixels per band one
# of them may make GDAL decode (a window of a strip layout decodes whole rows).
SAMPLE_SIDE = 256
_SAMPLE_WINDOW_PIXELS = 1024 * 1024

# Metadata domains searched for an acquisition date (IMD: Maxar-style metadata files).
_DATE_DOMAINS = ("", "IMD", "IMAGE_STRUCTURE")

# GDAL reports many oddities of real-world files (unknown tags, ...) as warnings; imagery-tool
# reports what matters itself, so they are kept out of the user's terminal.
logging.getLogger("rasterio").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class Tile:
    """One raster file, usually one dated image of a site.

    A `Tile` holds only the file's description; pixels are read on demand by `read` and
    `read_valid`, by window and/or at a reduced size through the file's overviews. Create one
    with `open_tile`.

    Attributes
    ----------
    path : Path
        The file.
    driver : str
        GDAL driver name (``"GTiff"``, ``"PNG"``, ...).
    georef : GeoRef
        Grid, transform and CRS (``crs`` is ``None`` without georeference).
    count : int
        Number of bands in the file, alpha bands included.
    dtype : str
        NumPy name of the pixel type (``"uint8"``, ``"float32"``, ...).
    nodata : float or None
        The declared nodata value (may be NaN).
    colorinterp : tuple of str
        Colour interpretation per band (``"red"``, ``"alpha"``, ``"gray"``, ...).
    descriptions : tuple of str
        Band descriptions ('' where there is none).
    overview_factors : tuple of int
        Decimation factors of the internal/external overviews of band 1 (e.g. ``(2, 4, 8)``).
    mask_kind : str
        How invalid pixels are marked: ``"none"``, ``"nodata"``, ``"alpha"``,
        ``"internal mask"``; float rasters also treat NaN as invalid.
    gcp_count : int
        Number of ground control points when the file is georeferenced only by GCPs.
    acquired : AcquisitionDate
        The acquisition date and where it was read.
    compression : str or None
        Compression named by the file (``"JPEG"``, ``"DEFLATE"``, ...).
    block_shape : tuple of int
        ``(rows, cols)`` of the file's internal blocks (tiles or strips).
    nbits : int or None
        Bits per sample the file declares (its ``NBITS`` tag: 11 or 12 for many 16-bit
        multispectral products); None when it declares none.
    jpeg : JpegLayout or None
        For JPEG GeoTIFFs that `imagery_tool.jpeg_tiles` decodes (faster than GDAL): where
        their blocks lie. None for other files.
    palette : tuple of (int, int, int) or None
        For a one-band 8-bit palette (colour map) file: the RGB colour of each of the 256
        values, which views show as they are (no stretch). None for other files.
    """

    path: Path
    driver: str
    georef: GeoRef
    count: int
    dtype: str
    nodata: float | None
    colorinterp: tuple[str, ...]
    descriptions: tuple[str, ...]
    overview_factors: tuple[int, ...]
    mask_kind: str
    gcp_count: int
    acquired: AcquisitionDate
    compression: str | None = None
    block_shape: tuple[int, int] = (0, 0)
    tags: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    nbits: int | None = None
    jpeg: JpegLayout | None = field(default=None, repr=False, compare=False)
    palette: tuple[tuple[int, int, int], ...] | None = field(
        default=None, repr=False, compare=False
    )

    # -- description ---------------------------------------------------------------------------

    @property
    def height(self) -> int:
        """Rows of the full-resolution grid."""
        return self.georef.height

    @property
    def width(self) -> int:
        """Columns of the full-resolution grid."""
        return self.georef.width

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of the full-resolution grid."""
        return self.georef.shape

    @property
    def data_bands(self) -> tuple[int, ...]:
        """1-based indexes of the bands that hold data (all but alpha bands)."""
        return tuple(i + 1 for i, ci in enumerate(self.colorinterp) if ci != "alpha")

    @property
    def band_roles(self) -> tuple[str, ...]:
        """What each band holds, one name per band: ``"red"``, ``"nir"``, ``"alpha"``, ...

        The GDAL colour interpretation when it says something (not ``"gray"`` nor
        ``"undefined"`` on a multi-band file, GDAL's defaults for "not said"); else a role
        named by the band's description (``"Red"``, ``"NIR"``, ``"B04"``, ...; see
        `role_from_description`); else ``"undefined"``. A single band is ``"gray"``.
        """
        if len(self.colorinterp) == 1 and self.colorinterp[0] in _UNSAID:
            return ("gray",)
        roles = []
        for ci, text in zip(self.colorinterp, self.descriptions, strict=True):
            if ci not in _UNSAID:
                roles.append(ci)
            else:
                roles.append(role_from_description(text) or "undefined")
        return tuple(roles)

    @property
    def band_roles_source(self) -> str:
        """Where `rgb_bands` comes from.

        ``"colorinterp"`` (the file's colour interpretation names red, green and blue),
        ``"description"`` (the band descriptions do), ``"band order"`` (nothing does: the first
        three data bands are taken as red, green, blue) or ``"grey"`` (fewer than three data
        bands).
        """
        return self._rgb()[1]

    @property
    def rgb_bands(self) -> tuple[int, ...]:
        """1-based red, green and blue bands, in that order, for a natural-colour view.

        Taken from the band roles (`band_roles`: colour interpretation, else band descriptions)
        whatever the bands' order in the file (blue first in many WorldView, Planet or
        Sentinel-2 stacks). When the file says nothing, the first three data bands in file
        order (GDAL's and QGIS's convention); with fewer than three data bands, the first one
        (grey). `band_roles_source` says which.
        """
        return self._rgb()[0]

    def _rgb(self) -> tuple[tuple[int, ...], str]:
        data = self.data_bands
        said = {ci: i + 1 for i, ci in enumerate(self.colorinterp) if i + 1 in data}
        if all(c in said for c in _RGB):
            return tuple(said[c] for c in _RGB), "colorinterp"
        named: dict[str, int] = {}
        for i, role in enumerate(self.band_roles):
            if i + 1 in data:
                named.setdefault(role, i + 1)
        if all(c in named for c in _RGB):
            return tuple(named[c] for c in _RGB), "description"
        if len(data) >= 3:
            return data[:3], "band order"
        return data[:1], "grey"

    @property
    def is_float(self) -> bool:
        """Whether pixels are floating point (NaN then marks invalid pixels too)."""
        return np.dtype(self.dtype).kind == "f"

    @property
    def name(self) -> str:
        """The file name."""
        return self.path.name

    # -- reading -------------------------------------------------------------------------------

    @contextmanager
    def open(self) -> Iterator[rasterio.io.DatasetReader]:
        """Open the file with rasterio for a batch of reads.

        Yields
        ------
        rasterio.io.DatasetReader
            The open dataset; closed when the block ends.

        Raises
        ------
        TileReadError
            When the file can no longer be opened.
        """
        try:
            dataset = _open_quietly(self.path)
        except (RasterioError, OSError) as exc:
            raise TileReadError(f"{self.path}: cannot open ({_first_line(exc)})") from exc
        with dataset:
            yield dataset

    def read(
        self,
        *,
        window: Window | None = None,
        bands: Sequence[int] | None = None,
        out_shape: tuple[int, int] | None = None,
        resampling: Resampling = Resampling.average,
        dataset: rasterio.io.DatasetReader | None = None,
    ) -> np.ndarray:
        """Read pixels, by window and/or reduced to ``out_shape`` through the overviews.

        Parameters
        ----------
        window : rasterio.windows.Window, optional
            The region on the full-resolution grid; the whole grid when omitted. Parts outside
            the grid read as 0 (see `read_valid` for the validity mask).
        bands : sequence of int, optional
            1-based band indexes; all data bands (alpha excluded) by default.
        out_shape : (int, int), optional
            ``(rows, cols)`` to read the window at; GDAL uses the nearest finer overview.
        resampling : rasterio.enums.Resampling
            Resampling when ``out_shape`` differs from the window's size.
        dataset : rasterio.io.DatasetReader, optional
            An already open dataset of this tile (from `open`), to save reopening the file.

        Returns
        -------
        (B, H, W) ndarray
            Pixels in the file's own dtype; values are not scaled. Full-resolution windows of
            JPEG GeoTIFFs are decoded by `imagery_tool.jpeg_tiles` (libjpeg-turbo), others by
            GDAL.

        Raises
        ------
        ValueError
            When the read would exceed `MAX_READ_PIXELS` pixels per band.
        TileReadError
            When the file cannot be read there (corrupt or truncated data).
        """
        window = window or Window(0, 0, self.width, self.height)
        shape = out_shape or (int(round(window.height)), int(round(window.width)))
        if shape[0] * shape[1] > MAX_READ_PIXELS:
            raise ValueError(
                f"{self.path}: reading {shape[1]} x {shape[0]} px at once is refused; "
                "read a window or a reduced out_shape"
            )
        band_list = list(bands or self.data_bands)
        with self._dataset(dataset) as ds:
            try:
                if (
                    self.jpeg
                    and shape == (window.height, window.width)
                    and self.jpeg.covers(window)
                ):
                    return self.jpeg.read(ds, window, band_list)
                return ds.read(
                    band_list,
                    window=window,
                    out_shape=(len(band_list), *shape),
                    resampling=resampling,
                    boundless=_outside(window, self.shape),
                    fill_value=0,
                )
            except (RasterioError, BlockDecodeError) as exc:
                raise self._unreadable(exc) from exc

    def read_rgba(
        self, *, window: Window, dataset: rasterio.io.DatasetReader | None = None
    ) -> np.ndarray:
        """Read a full-resolution window of a 3-band 8-bit tile, bands interleaved.

        The layout of OpenCV's fast 4-channel paths (the bilinear warp of
        `imagery_tool.registration.warp`): for JPEG GeoTIFFs it is built straight from the
        decoded blocks, without band planes in between.

        Parameters
        ----------
        window : rasterio.windows.Window
            Whole pixels, inside the grid.
        dataset : rasterio.io.DatasetReader, optional
            As for `read`.

        Returns
        -------
        (H, W, 4) uint8 ndarray
            Bands 1, 2 and 3, then 255.

        Raises
        ------
        ValueError
            When the tile does not have exactly three 8-bit data bands.
        TileReadError
            As `read`.
        """
        if self.data_bands != (1, 2, 3) or self.dtype != "uint8":
            raise ValueError(f"{self.path}: RGBA reads need three 8-bit data bands")
        with self._dataset(dataset) as ds:
            if self.jpeg and self.jpeg.covers(window):
                try:
                    return self.jpeg.read_rgba(ds, window)
                except (RasterioError, BlockDecodeError) as exc:  # GDAL reads sparse blocks
                    raise self._unreadable(exc) from exc
            planes = self.read(window=window, dataset=ds)
        return cv2.merge([*planes, np.full(planes.shape[1:], 255, np.uint8)])

    def _unreadable(self, exc: Exception) -> TileReadError:
        return TileReadError(
            f"{self.path}: pixel data is unreadable ({_first_line(exc)}); "
            "the file may be truncated or corrupt"
        )

    def read_valid(
        self,
        *,
        window: Window | None = None,
        out_shape: tuple[int, int] | None = None,
        pixels: np.ndarray | None = None,
        dataset: rasterio.io.DatasetReader | None = None,
    ) -> np.ndarray:
        """Read where pixels hold data: not nodata, not transparent, not masked, not NaN.

        Parameters
        ----------
        window, out_shape, dataset
            As for `read`.
        pixels : (B, H, W) ndarray, optional
            The pixels already read for this window (NaN is checked on them).

        Returns
        -------
        (H, W) bool ndarray
            True where every data band is valid. Outside the grid is invalid.
        """
        window = window or Window(0, 0, self.width, self.height)
        shape = out_shape or (int(round(window.height)), int(round(window.width)))
        with self._dataset(dataset) as ds:
            if self.mask_kind == "none":
                valid = np.ones(shape, dtype=bool)
                if _outside(window, self.shape):
                    valid &= _inside_grid(window, shape, self.shape)
            else:
                try:
                    masks = ds.read_masks(
                        list(self.data_bands),
                        window=window,
                        out_shape=(len(self.data_bands), *shape),
                        resampling=Resampling.nearest,
                        boundless=_outside(window, self.shape),
                    )
                except RasterioError as exc:
                    raise TileReadError(
                        f"{self.path}: mask is unreadable ({_first_line(exc)}); "
                        "the file may be truncated or corrupt"
                    ) from exc
                valid = np.all(masks > 0, axis=0)
        if self.is_float:
            if pixels is None:
                pixels = self.read(window=window, out_shape=shape, dataset=dataset)
            valid &= np.all(np.isfinite(pixels), axis=0)
        return valid

    def read_masked(
        self,
        *,
        window: Window | None = None,
        bands: Sequence[int] | None = None,
        out_shape: tuple[int, int] | None = None,
        dataset: rasterio.io.DatasetReader | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Read pixels and where they hold data, with no NaN left for filters to spread.

        What computations (registration, radiometry, detection) read: `read` and `read_valid`
        in one, and the non-finite values of float tiles (NaN holes, infinities) set to 0. They
        are invalid already; left as they are, one NaN spreads through every blur, warp or fit
        that touches it.

        Parameters
        ----------
        window, bands, out_shape, dataset
            As for `read`.

        Returns
        -------
        pixels : (B, H, W) ndarray
            In the file's dtype; 0 where a float pixel is not finite.
        valid : (H, W) bool ndarray
            As for `read_valid`.
        """
        with self._dataset(dataset) as ds:
            pixels = self.read(window=window, bands=bands, out_shape=out_shape, dataset=ds)
            valid = self.read_valid(
                window=window, out_shape=pixels.shape[1:], pixels=pixels, dataset=ds
            )
        if self.is_float:
            pixels[~np.isfinite(pixels)] = 0
        return pixels, valid

    def overview_shape(self, max_side: int) -> tuple[int, int]:
        """``(rows, cols)`` of a whole-tile view whose longer side is at most ``max_side``."""
        factor = max(1.0, max(self.height, self.width) / max_side)
        return (max(1, math.ceil(self.height / factor)), max(1, math.ceil(self.width / factor)))

    def read_cost(
        self, *, window: Window | None = None, out_shape: tuple[int, int] | None = None
    ) -> int:
        """Pixels per band that GDAL decodes to read ``window`` at ``out_shape``.

        GDAL reads a reduced window through the coarsest overview that is still at least as
        fine as the output; without such an overview it decodes every full-resolution pixel of
        the window. The cost of a view of a huge raster without overviews is therefore that of
        the whole raster, whatever the output's size.

        Parameters
        ----------
        window, out_shape
            As for `read`.

        Returns
        -------
        int
            Pixels per band, of the level that GDAL reads.
        """
        window = window or Window(0, 0, self.width, self.height)
        shape = out_shape or (int(round(window.height)), int(round(window.width)))
        reduction = min(window.height / max(1, shape[0]), window.width / max(1, shape[1]))
        factor = max((f for f in self.overview_factors if f <= reduction), default=1)
        return math.ceil(window.height / factor) * math.ceil(window.width / factor)

    def sample_windows(self, per_axis: int = 3) -> list[Window]:
        """Full-resolution windows spread over the grid, for statistics at a bounded cost.

        ``per_axis`` x ``per_axis`` windows of at most `SAMPLE_SIDE` px, aligned on the file's
        blocks so that each decodes as few blocks as it can; in a strip layout (blocks as wide
        as the raster) a window is cut to as many rows as keep its strips within about 1 Mpx.

        Returns
        -------
        list of rasterio.windows.Window
            Inside the grid; the whole grid when it is smaller than one window.
        """
        rows, cols = (max(1, v) for v in self.block_shape)
        width = min(SAMPLE_SIDE, self.width)
        height = min(SAMPLE_SIDE, self.height)
        if cols > SAMPLE_SIDE:  # every row read decodes a whole block row: fewer rows
            height = max(1, min(height, max(rows, _SAMPLE_WINDOW_PIXELS // cols)))
        windows = []
        for row in np.unique(np.linspace(0, self.height - height, per_axis).round()):
            for col in np.unique(np.linspace(0, self.width - width, per_axis).round()):
                # Start where the block that holds the point starts (still inside the grid), so
                # as not to straddle small blocks; a large block holds several windows.
                r = int(row) // rows * rows if rows <= 2 * SAMPLE_SIDE else int(row)
                c = int(col) // cols * cols if cols <= 2 * SAMPLE_SIDE else int(col)
                windows.append(Window(c, r, width, height))
        return list(dict.fromkeys(windows))

    def read_overview(
        self, max_side: int = 1024, *, bands: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray, GeoRef]:
        """Read the whole tile reduced so that its longer side is at most ``max_side``.

        Returns
        -------
        pixels : (B, h, w) ndarray
            In the file's dtype; 0 where a float pixel is not finite (as `read_masked`).
        valid : (h, w) bool ndarray
            Validity as in `read_valid`.
        georef : GeoRef
            The reduced grid's georeference.
        """
        shape = self.overview_shape(max_side)
        pixels, valid = self.read_masked(bands=bands, out_shape=shape)
        factor = self.height / shape[0]
        return pixels, valid, self.georef.scaled(factor)

    def check_readable(self) -> None:
        """Decode the first and last blocks and the coarsest overview's first: truncation shows.

        Raises
        ------
        TileReadError
            When any of those blocks cannot be decoded.
        """
        rows, cols = self.block_shape
        rows, cols = max(1, rows), max(1, cols)
        # A corner of each block is enough to make GDAL decode it; reading the whole block could
        # exceed `MAX_READ_PIXELS` (one block can hold the whole raster).
        side = SAMPLE_SIDE
        last_row, last_col = (self.height - 1) // rows * rows, (self.width - 1) // cols * cols
        last = Window(
            last_col,
            last_row,
            min(side, cols, self.width - last_col),
            min(side, rows, self.height - last_row),
        )
        first = Window(0, 0, min(side, cols, self.width), min(side, rows, self.height))
        with self.open() as ds:
            for window in (first, last):
                self.read(window=window, bands=[1], dataset=ds)
                if self.count > 1:
                    self.read(window=window, bands=[self.count], dataset=ds)
            if self.overview_factors:
                # The first block of the coarsest overview; a whole-tile read through it would
                # decode the whole of a fine level when the file's overviews stop early.
                f = max(self.overview_factors)
                corner = Window(0, 0, min(self.width, side * f), min(self.height, side * f))
                shape = (max(1, int(corner.height) // f), max(1, int(corner.width) // f))
                self.read(window=corner, bands=[1], out_shape=shape, dataset=ds)

    @contextmanager
    def _dataset(
        self, dataset: rasterio.io.DatasetReader | None
    ) -> Iterator[rasterio.io.DatasetReader]:
        if dataset is not None:
            yield dataset
        else:
            with self.open() as ds:
                yield ds


# `warnings.catch_warnings` swaps the process's filters: two threads opening files at once (the
# registration's and the detection's workers do) could restore each other's, and rasterio's
# warning for a file without georeference would reach the user. One lock for all the swaps.
_QUIET = threading.Lock()


def _open_quietly(path: Path) -> rasterio.io.DatasetReader:
    """Open a raster without rasterio's `NotGeoreferencedWarning` (pixel mode is ours to say)."""
    with _QUIET, warnings.catch_warnings():
        warnings.simplefilter("ignore", RioNotGeoreferencedWarning)
        return rasterio.open(path)


def open_tile(path: str | Path, *, check: bool = True) -> Tile:
    """Open a raster file as a `Tile`: read its description, georeference and date.

    Parameters
    ----------
    path : str or Path
        A GeoTIFF / Cloud-Optimized GeoTIFF or any raster GDAL reads (PNG, JPEG, ...).
    check : bool
        Also decode the first and last blocks, so that truncated files fail here rather than
        halfway through a job.

    Returns
    -------
    Tile

    Raises
    ------
    TileReadError
        When the file is missing, is a folder, is not a raster, or is corrupt or truncated.

    Examples
    --------
    >>> tile = open_tile("sample_tiles/hmeimim_2024-12-13.tif")  # doctest: +SKIP
    >>> tile.acquired.isoformat(), tile.georef.epsg  # doctest: +SKIP
    ('2024-12-13T08:21:00Z', 32636)
    """
    path = Path(path)
    if not path.exists():
        raise TileReadError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise TileReadError(f"{path}: is a folder, not a raster file; name a tile inside it")
    try:
        with _open_quietly(path) as ds:
            tile = _describe(path, ds)
    except RasterioError as exc:
        raise TileReadError(
            f"{path}: cannot be read as a raster ({_first_line(exc)}); it may be truncated, "
            "corrupt or not an image: check it is a complete GeoTIFF, PNG or JPEG"
        ) from exc
    if tile.height == 0 or tile.width == 0:
        raise TileReadError(f"{path}: the raster is empty (0 pixels)")
    if check:
        tile.check_readable()
    return tile


def _describe(path: Path, ds: rasterio.io.DatasetReader) -> Tile:
    _check_usable(path, ds)
    gcps, _ = ds.gcps
    crs = ds.crs or None
    georef = GeoRef(ds.height, ds.width, ds.transform, crs)
    colorinterp = tuple(_colorinterp_name(ci) for ci in ds.colorinterp)
    tags = {"": ds.tags()}
    for domain in _DATE_DOMAINS[1:]:
        try:
            tags[domain] = ds.tags(ns=domain)
        except RasterioError:  # pragma: no cover - domain absent on some drivers
            tags[domain] = {}
    image_structure = tags.get("IMAGE_STRUCTURE", {})
    nodata = ds.nodata
    return Tile(
        path=path,
        driver=ds.driver,
        georef=georef,
        count=ds.count,
        dtype=ds.dtypes[0],
        nodata=None if nodata is None else float(nodata),
        colorinterp=colorinterp,
        descriptions=tuple(d or "" for d in ds.descriptions),
        overview_factors=tuple(ds.overviews(1)),
        mask_kind=_mask_kind(ds),
        gcp_count=len(gcps) if crs is None else 0,
        acquired=resolve_acquisition_date(path, tags),
        compression=image_structure.get("COMPRESSION") or (ds.compression and ds.compression.name),
        block_shape=tuple(ds.block_shapes[0]) if ds.block_shapes else (ds.height, ds.width),
        tags=dict(tags[""]),
        nbits=_nbits(ds),
        jpeg=JpegLayout.probe(path, ds),
        palette=_palette(ds),
    )


def _palette(ds: rasterio.io.DatasetReader) -> tuple[tuple[int, int, int], ...] | None:
    """RGB of each value of a one-band 8-bit palette file (black where the map says nothing)."""
    if ds.count != 1 or ds.dtypes[0] != "uint8" or ds.colorinterp[0] != ColorInterp.palette:
        return None
    try:
        colormap = ds.colormap(1)
    except ValueError:  # rasterio: "NULL color table" (a palette interpretation, no map)
        return None
    return tuple(tuple(colormap.get(v, (0, 0, 0, 255))[:3]) for v in range(256))


def _check_usable(path: Path, ds: rasterio.io.DatasetReader) -> None:
    """Refuse what no view or computation can use.

    No band, complex pixels, bands of different types (a VRT), a zero or non-finite transform.

    Raises
    ------
    TileReadError
        Naming the file, what is wrong and how to make a usable file.
    """
    if ds.count == 0:
        raise TileReadError(f"{path}: the raster has no band; check the file holds imagery")
    if any("complex" in dtype for dtype in ds.dtypes):
        raise TileReadError(
            f"{path}: complex ({ds.dtypes[0]}) pixels, as in SAR single-look products, are not "
            "imagery imagery-tool can show or compare; make an amplitude or intensity image "
            "of it first"
        )
    if len(set(ds.dtypes)) > 1:
        raise TileReadError(
            f"{path}: its bands have different pixel types ({', '.join(dict.fromkeys(ds.dtypes))});"
            " give them one (e.g. gdal_translate -ot Float32)"
        )
    coefficients = tuple(ds.transform)[:6]
    determinant = ds.transform.determinant
    if not (all(map(math.isfinite, coefficients)) and math.isfinite(determinant)) or not (
        determinant
    ):
        raise TileReadError(
            f"{path}: its geotransform {coefficients} is unusable (a zero, infinite or NaN "
            "pixel size); fix it (gdal_edit.py -a_ullr ULX ULY LRX LRY) or remove it "
            "(gdal_edit.py -unsetgt)"
        )


_RGB = ("red", "green", "blue")
# GDAL's colour interpretations of bands a file says nothing about (MINISBLACK TIFFs).
_UNSAID = ("gray", "undefined")
# Words of band descriptions that name a role. Sentinel-2's zero-padded band names are taken
# (B02 blue, B03 green, B04 red, B08 and B8A near infrared); bare B2/B3/B4 are not, as they
# name other bands on Landsat 4-7.
_DESCRIPTION_WORDS = {
    "red": "red",
    "green": "green",
    "blue": "blue",
    "nir": "nir",
    "nir1": "nir",
    "nir2": "nir",
    "b02": "blue",
    "b03": "green",
    "b04": "red",
    "b08": "nir",
    "b8a": "nir",
    "coastal": "coastal",
    "yellow": "yellow",
    "pan": "pan",
    "panchromatic": "pan",
    "swir": "swir",
}


def role_from_description(text: str) -> str | None:
    """Name the role a band description gives, or None when it names none (or several).

    Parameters
    ----------
    text : str
        A band description, e.g. ``"Red"``, ``"NIR (near infrared)"``, ``"B04"``,
        ``"Red edge 1"``.

    Returns
    -------
    str or None
        ``"red"``, ``"green"``, ``"blue"``, ``"nir"``, ``"rededge"``, ``"coastal"``, ...

    Examples
    --------
    >>> role_from_description("B04 - Red"), role_from_description("Red Edge 1")
    ('red', 'rededge')
    >>> role_from_description("near infrared"), role_from_description("Band 1") is None
    ('nir', True)
    """
    words = re.findall(r"[a-z0-9]+", text.lower())
    if "edge" in words or "rededge" in words:
        return "rededge"
    if "infrared" in words:
        return "nir" if "near" in words else None
    roles = {_DESCRIPTION_WORDS[w] for w in words if w in _DESCRIPTION_WORDS}
    if "coastal" in roles:  # "coastal blue"
        return "coastal"
    return roles.pop() if len(roles) == 1 else None


def _nbits(ds: rasterio.io.DatasetReader) -> int | None:
    """Return the ``NBITS`` the file declares for its first band (None when it declares none)."""
    try:
        value = ds.tags(1, ns="IMAGE_STRUCTURE").get("NBITS")
    except RasterioError:  # pragma: no cover - domain absent on some drivers
        return None
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _colorinterp_name(ci: ColorInterp) -> str:
    name = ci.name.lower()
    return {"grey": "gray", "undefined": "undefined"}.get(name, name)


def _mask_kind(ds: rasterio.io.DatasetReader) -> str:
    """Name how the file marks invalid pixels, from GDAL's mask flags of its first data band."""
    data_band = next((i for i, ci in enumerate(ds.colorinterp) if ci != ColorInterp.alpha), 0)
    flags = set(ds.mask_flag_enums[data_band])
    if MaskFlags.all_valid in flags:
        return "none"
    if MaskFlags.alpha in flags:
        return "alpha"
    if MaskFlags.nodata in flags:
        return "nodata"
    return "internal mask"


def _outside(window: Window, shape: tuple[int, int]) -> bool:
    """Whether ``window`` reaches outside a grid of ``shape``."""
    return (
        window.col_off < 0
        or window.row_off < 0
        or window.col_off + window.width > shape[1]
        or window.row_off + window.height > shape[0]
    )


def _inside_grid(window: Window, out_shape: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: which output pixels of a window read fall inside the grid."""
    rows = window.row_off + (np.arange(out_shape[0]) + 0.5) * window.height / out_shape[0]
    cols = window.col_off + (np.arange(out_shape[1]) + 0.5) * window.width / out_shape[1]
    inside_rows = (rows >= 0) & (rows < shape[0])
    inside_cols = (cols >= 0) & (cols < shape[1])
    return inside_rows[:, None] & inside_cols[None, :]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
