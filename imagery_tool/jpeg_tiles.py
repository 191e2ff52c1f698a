"""Decode the JPEG blocks of a GeoTIFF with libjpeg-turbo (through OpenCV), not GDAL's libjpeg.

rasterio's wheels bundle libjpeg 9, without SIMD, which also upsamples the chroma of YCbCr
JPEG through a 16 x 16 inverse DCT: reading a 10000 px JPEG COG takes it about 1.2 s,
against 0.5 s through OpenCV's libjpeg-turbo (``benchmarks/bench_detect_speed.py``). Its
chroma upsampling is a triangle filter, so colour pixels differ from GDAL's by a grey level
or two (luminance is the same inverse DCT). `Tile.read` (band planes) and `Tile.read_rgba`
(bands interleaved, for OpenCV's 4-channel paths) take this path for full-resolution windows
of the GeoTIFFs it covers (`JpegLayout.probe`, `JpegLayout.covers`) and GDAL for everything
else. Whether this decoder is used at all is a setting of `imagery_tool.runtime`
(``jpeg_decoder``; ``IMAGERY_TOOL_GDAL_JPEG=1`` makes GDAL the default), recorded in results.

Decoded blocks are kept as decoded in one cache shared by all files and threads, bounded by
the runtime's ``jpeg_cache_mb``, as GDAL keeps its own, so that the windows of neighbouring
blocks of a job decode each block once.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import rasterio
from rasterio.windows import Window

from imagery_tool.runtime import DEFAULT_JPEG_CACHE_MB, current

__all__ = ["BlockDecodeError", "JpegLayout", "bound_cache", "cache_bound"]


class BlockDecodeError(ValueError):
    """A block of the file is cut short or is not valid JPEG data."""


_BANDS = {"YCbCr JPEG": 3, "JPEG": 1}  # by GDAL's name of the compression


@dataclass(frozen=True)
class JpegLayout:
    """Where a GeoTIFF keeps its full-resolution JPEG blocks, and how to decode them.

    Attributes
    ----------
    path : Path
        The file.
    shape : (int, int)
        ``(rows, cols)`` of the full-resolution grid.
    block_shape : (int, int)
        ``(rows, cols)`` of a block (tile or strip).
    bands : int
        3 for YCbCr JPEG (decoded to red, green, blue), 1 for greyscale JPEG.
    tables : bytes
        The abbreviated JPEG stream of tables shared by all blocks (TIFF tag JPEGTables), or
        empty when every block carries its own.
    version : (int, int)
        The file's size and modification time when probed: the cache's key, so that a
        rewritten file is decoded anew.
    """

    path: Path
    shape: tuple[int, int]
    block_shape: tuple[int, int]
    bands: int
    tables: bytes
    version: tuple[int, int]

    @classmethod
    def probe(cls, path: Path, ds: rasterio.io.DatasetReader) -> JpegLayout | None:
        """Return the layout of an open dataset when this module can decode it, else None.

        Covered: 8-bit GeoTIFFs compressed as YCbCr JPEG (3 bands, what GDAL writes with
        ``PHOTOMETRIC=YCBCR``) or greyscale JPEG (1 band), pixel-interleaved. RGB-coded JPEG,
        12-bit JPEG and other drivers are left to GDAL.
        """
        structure = ds.tags(ns="IMAGE_STRUCTURE")
        if (
            ds.driver != "GTiff"
            or _BANDS.get(structure.get("COMPRESSION", "")) != ds.count
            or set(ds.dtypes) != {"uint8"}
            or (ds.count > 1 and structure.get("INTERLEAVE", "PIXEL") != "PIXEL")
            or ds.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1) is None
        ):
            return None
        tables = ds.get_tag_item("JPEGTABLES", "TIFF", bidx=1) or ""
        stat = Path(path).stat()
        return cls(
            path=Path(path),
            shape=(ds.height, ds.width),
            block_shape=tuple(ds.block_shapes[0]),
            bands=ds.count,
            tables=bytes.fromhex(tables),
            version=(stat.st_size, stat.st_mtime_ns),
        )

    def covers(self, window: Window) -> bool:
        """Whether ``window`` is read here, not by GDAL.

        True for a whole-pixel window inside the grid while the runtime's ``jpeg_decoder``
        is on (`imagery_tool.runtime.current`).
        """
        if not current().jpeg_decoder:
            return False
        values = (window.col_off, window.row_off, window.width, window.height)
        if any(v != int(v) for v in values):
            return False
        c0, r0, w, h = (int(v) for v in values)
        rows, cols = self.shape
        return 0 <= c0 < c0 + w <= cols and 0 <= r0 < r0 + h <= rows

    def read(
        self, ds: rasterio.io.DatasetReader, window: Window, bands: Sequence[int]
    ) -> np.ndarray:
        """Read a window covered by `covers`.

        Parameters
        ----------
        ds : rasterio.io.DatasetReader
            The file open (it tells where each block lies).
        window : rasterio.windows.Window
            Whole pixels, inside the grid.
        bands : sequence of int
            1-based bands.

        Returns
        -------
        (B, h, w) uint8 ndarray
            Read by GDAL instead when the window meets a sparse block (one not written, which
            GDAL fills with the nodata value).

        Raises
        ------
        BlockDecodeError
            When a block cannot be decoded (truncated or corrupt file).
        """
        parts = self._parts(ds, window)
        if parts is None:
            return ds.read(list(bands), window=window)
        out = np.empty((len(bands), int(window.height), int(window.width)), dtype=np.uint8)
        # a colour block is decoded blue, green, red: band b is its channel 3 - b
        pairs = [v for k, band in enumerate(bands) for v in (3 - band, k)]
        for image, inside, place in parts:
            if image.ndim == 2:
                for plane in out:
                    plane[place] = image[inside]
            else:  # straight into each band's part of the window
                cv2.mixChannels([image[inside]], [plane[place] for plane in out], pairs)
        return out

    def read_rgba(self, ds: rasterio.io.DatasetReader, window: Window) -> np.ndarray:
        """Read a window covered by `covers` of a 3-band file, interleaved with a spare channel.

        Returns
        -------
        (h, w, 4) uint8 ndarray
            Red, green, blue and 255: the layout of OpenCV's fast 4-channel paths, built
            straight from the decoded blocks.

        Raises
        ------
        BlockDecodeError
            As `read`.
        """
        if self.bands != 3:
            raise ValueError(f"{self.path}: RGBA reads need a 3-band file")
        parts = self._parts(ds, window)
        if parts is None:  # a sparse block: GDAL fills it
            planes = ds.read([1, 2, 3], window=window)
            return cv2.merge([*planes, np.full(planes.shape[1:], 255, np.uint8)])
        out = np.empty((int(window.height), int(window.width), 4), dtype=np.uint8)
        for image, inside, place in parts:
            cv2.cvtColor(image[inside], cv2.COLOR_BGR2RGBA, dst=out[place])
        return out

    def _parts(self, ds: rasterio.io.DatasetReader, window: Window) -> list | None:
        """Return the decoded blocks under a window: ``(image, part of it, place in window)``.

        None when a block is sparse (to be read by GDAL).
        """
        c0, r0 = int(window.col_off), int(window.row_off)
        w, h = int(window.width), int(window.height)
        bh, bw = self.block_shape
        parts = []
        for by in range(r0 // bh, (r0 + h - 1) // bh + 1):
            for bx in range(c0 // bw, (c0 + w - 1) // bw + 1):
                image = self._block(ds, bx, by)
                if image is None:
                    return None
                # the part of the window in this block, in window and in block pixels
                y0, y1 = max(r0, by * bh), min(r0 + h, (by + 1) * bh)
                x0, x1 = max(c0, bx * bw), min(c0 + w, (bx + 1) * bw)
                if image.shape[0] < y1 - by * bh or image.shape[1] < x1 - bx * bw:
                    raise BlockDecodeError(f"block {bx}, {by} decodes smaller than its place")
                inside = np.s_[y0 - by * bh : y1 - by * bh, x0 - bx * bw : x1 - bx * bw]
                parts.append((image, inside, np.s_[y0 - r0 : y1 - r0, x0 - c0 : x1 - c0]))
        return parts

    def _block(self, ds: rasterio.io.DatasetReader, bx: int, by: int) -> np.ndarray | None:
        """Return one block as decoded (cached), or None for a sparse block.

        ``(rows, cols, 3)`` blue, green, red for a colour file; ``(rows, cols)`` for grey.
        """
        key = (str(self.path), self.version, bx, by)
        image = _CACHE.get(key)
        if image is None:
            image = self._decode(ds, bx, by)
            if image is not None:
                _CACHE.put(key, image, image.nbytes)
        return image

    def _decode(self, ds: rasterio.io.DatasetReader, bx: int, by: int) -> np.ndarray | None:
        offset = ds.get_tag_item(f"BLOCK_OFFSET_{bx}_{by}", "TIFF", bidx=1)
        size = ds.get_tag_item(f"BLOCK_SIZE_{bx}_{by}", "TIFF", bidx=1)
        if not offset or int(offset) == 0:  # GDAL reports no offset for a sparse block
            return None
        if not size or int(size) <= 2:
            raise BlockDecodeError(f"block {bx}, {by} is empty")
        with open(self.path, "rb") as f:  # its own: no other thread moves its position
            f.seek(int(offset))
            data = f.read(int(size))
        if len(data) < int(size):
            raise BlockDecodeError(f"block {bx}, {by} is cut short")
        # the shared tables without their end marker, then the block without its start marker
        stream = self.tables[:-2] + data[2:] if self.tables else data
        flags = cv2.IMREAD_COLOR if self.bands == 3 else cv2.IMREAD_GRAYSCALE
        image = cv2.imdecode(np.frombuffer(stream, np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
        if image is None:
            raise BlockDecodeError(f"block {bx}, {by} is not valid JPEG data")
        return image


class _BlockCache:
    """Least-recently-used decoded blocks, bounded in bytes, safe to share between threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: collections.OrderedDict = collections.OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        """Return the value under ``key`` (now the most recent), or None."""
        with self.lock:
            item = self.items.get(key)
            if item is None:
                return None
            self.items.move_to_end(key)
            return item[0]

    def bound(self, max_bytes: int) -> None:
        """Set the bound to ``max_bytes``, dropping the least recent blocks beyond it."""
        with self.lock:
            self.max_bytes = max_bytes
            self._drop_beyond_bound()

    def put(self, key, value, nbytes: int) -> None:
        """Keep ``value`` (``nbytes`` large), dropping the least recent beyond the bound."""
        with self.lock:
            if key in self.items:
                return
            self.items[key] = (value, nbytes)
            self.bytes += nbytes
            self._drop_beyond_bound()

    def _drop_beyond_bound(self) -> None:
        while self.bytes > self.max_bytes and len(self.items) > 1:
            _, (_, dropped) = self.items.popitem(last=False)
            self.bytes -= dropped


_CACHE = _BlockCache(DEFAULT_JPEG_CACHE_MB * 2**20)


def cache_bound() -> int:
    """Return the bound of the decoded-block cache, in bytes."""
    return _CACHE.max_bytes


def bound_cache(max_bytes: int) -> None:
    """Set the bound of the decoded-block cache (`imagery_tool.runtime` does, per context)."""
    _CACHE.bound(max_bytes)
