"""The outcome of change detection and its files: GeoJSON / JSON, change mask, quick look."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from rasterio.io import MemoryFile
from rasterio.windows import Window

from imagery_tool.atomic import atomic_outputs, atomic_path
from imagery_tool.change.options import DEFAULT_METHOD
from imagery_tool.change.region import ChangeRegion
from imagery_tool.errors import NotGeoreferencedError, UnsupportedCRSError
from imagery_tool.geometry import counter_clockwise
from imagery_tool.georef import REPROJECT_HINT, crs_label
from imagery_tool.registration import Registration
from imagery_tool.style import CHANGE_KINDS
from imagery_tool.tile import MAX_READ_PIXELS, Tile

__all__ = ["ChangeResult"]

_MASK_SUFFIXES = (".tif", ".tiff", ".png")
_DECIMALS = 7  # RFC 7946 recommends no more than needed: 1e-7 degree is about 1 cm


@dataclass
class ChangeResult:
    """Changed objects between two dates, with how the dates were aligned.

    Attributes
    ----------
    regions : list of ChangeRegion
        One per object, on BEFORE's grid, top to bottom.
    registration : Registration
        What was applied to bring AFTER onto BEFORE's grid.
    before, after : Tile
    method : str
        The `METHODS` key used.
    parameters : dict
        The options (``"options"``), the values they led to for the pair and the runtime
        settings (see `detect_changes`).
    """

    regions: list[ChangeRegion]
    registration: Registration
    before: Tile
    after: Tile
    method: str = DEFAULT_METHOD
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def georeferenced(self) -> bool:
        """Whether the regions have map and lon/lat coordinates (else pixel mode).

        False for tiles without georeference, and for a CRS with no known relation to lon/lat
        (a local or engineering CRS: `GeoRef.has_lonlat`).
        """
        return self.before.georef.has_lonlat

    @property
    def before_date(self) -> str | None:
        """BEFORE's acquisition time, ISO 8601, or ``None``."""
        return self.before.acquired.isoformat()

    @property
    def after_date(self) -> str | None:
        """AFTER's acquisition time, ISO 8601, or ``None``."""
        return self.after.acquired.isoformat()

    def counts(self) -> dict[str, int]:
        """Return the number of regions per kind (every kind of `CHANGE_KINDS`, in its order)."""
        out = dict.fromkeys(CHANGE_KINDS, 0)
        for r in self.regions:
            out[r.change] += 1
        return out

    # -- mask ------------------------------------------------------------------------------

    def mask(self, window: Window | None = None) -> np.ndarray:
        """Return the binary change mask on BEFORE's grid (or a window of it).

        Returns
        -------
        (H, W) uint8 ndarray
            255 on changed objects, 0 elsewhere.
        """
        window = window or Window(0, 0, self.before.width, self.before.height)
        h, w = int(window.height), int(window.width)
        if h * w > MAX_READ_PIXELS:
            raise ValueError(f"a {w} x {h} px mask is refused in memory; use write_mask")
        out = np.zeros((h, w), np.uint8)
        c0, r0 = int(window.col_off), int(window.row_off)
        for region in self.regions:
            bc0, br0, bc1, br1 = region.mask_bbox
            x0, y0 = max(bc0, c0), max(br0, r0)
            x1, y1 = min(bc1, c0 + w), min(br1, r0 + h)
            if x1 <= x0 or y1 <= y0 or region.mask is None:
                continue
            crop = region.mask[y0 - br0 : y1 - br0, x0 - bc0 : x1 - bc0]
            out[y0 - r0 : y1 - r0, x0 - c0 : x1 - c0][crop] = 255
        return out

    def write_mask(self, path: str | Path, *, block_px: int = 2048) -> Path:
        """Write the change mask atomically: GeoTIFF (BEFORE's georeference, block by block) or PNG.

        Parameters
        ----------
        path : str or Path
            ``.tif``/``.tiff`` or ``.png``.

        Returns
        -------
        Path
        """
        path = Path(path)
        _check_suffix(path, _MASK_SUFFIXES, "the mask")
        with atomic_path(path) as tmp:
            self._write_mask(tmp, block_px=block_px)
        return path

    def _write_mask(self, path: Path, *, block_px: int = 2048) -> None:
        if path.suffix.lower() == ".png":
            _write_png(path, self.mask())
            return
        g = self.before.georef
        profile = {
            "driver": "GTiff",
            "width": g.width,
            "height": g.height,
            "count": 1,
            "dtype": "uint8",
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
            "compress": "deflate",
        }
        if g.is_georeferenced:
            profile.update(crs=g.crs, transform=g.transform)
        # Encoded in memory (deflate keeps even a 20000 px mask small), then written by Python:
        # GDAL does not raise when a full disk or ``ulimit -f`` stops it while closing the file,
        # which would leave a truncated mask behind as if it were complete.
        with MemoryFile() as memory:
            with memory.open(**profile) as ds:
                for r in range(0, g.height, block_px):
                    for c in range(0, g.width, block_px):
                        win = Window(c, r, min(block_px, g.width - c), min(block_px, g.height - r))
                        ds.write(self.mask(win)[None], window=win)
            data = memory.read()
        with open(path, "wb") as f:
            f.write(data)

    # -- vector output -----------------------------------------------------------------------

    def to_geojson(self) -> dict[str, Any]:
        """RFC 7946 FeatureCollection in lon/lat (closed counter-clockwise rings, 7 decimals).

        Raises
        ------
        NotGeoreferencedError
            In pixel mode; use `to_json`.
        UnsupportedCRSError
            When BEFORE's CRS has no known relation to lon/lat (a local or engineering CRS).
        """
        check_lonlat_output(self.before)
        g = self.before.georef
        features = []
        for r in self.regions:
            lon, lat = g.pixel_to_lonlat(r.polygon_px[:, 0], r.polygon_px[:, 1])
            ring = counter_clockwise(np.column_stack([lon, lat]), closed=True)
            features.append(_feature(r, ring, self))
        return self._collection(features, "lonlat")

    def to_json(self) -> dict[str, Any]:
        """Return the same structure with ``(col, row)`` polygons on BEFORE's grid (pixel mode)."""
        features = [
            _feature(r, counter_clockwise(r.polygon_px, closed=True), self) for r in self.regions
        ]
        return self._collection(features, "pixel")

    def _collection(self, features: list, coordinates: str) -> dict[str, Any]:
        collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
        collection.update(
            coordinates="lon/lat (WGS 84)" if coordinates == "lonlat" else "pixel (col, row)",
            before=self.before.path.name,
            after=self.after.path.name,
            before_date=self.before_date,
            after_date=self.after_date,
            method=self.method,
            parameters=self.parameters,
            registration=self.registration.to_dict(),
        )
        return collection

    def write(self, path: str | Path) -> Path:
        """Write regions to ``.geojson`` (lon/lat) or ``.json`` (lon/lat or pixel mode).

        Raises
        ------
        NotGeoreferencedError
            ``.geojson`` asked for tiles without georeference.
        """
        path = Path(path)
        with atomic_path(path) as tmp:
            self._write_vector(tmp, geojson=path.suffix.lower() == ".geojson")
        return path

    def _write_vector(self, path: Path, *, geojson: bool) -> None:
        data = self.to_geojson() if geojson or self.georeferenced else self.to_json()
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(json.dumps(data, indent=1) + "\n")

    def write_outputs(
        self,
        output: str | Path,
        *,
        mask: str | Path | None = None,
        quicklook: str | Path | None = None,
    ) -> list[Path]:
        """Write the regions and, if asked, the mask and the quick look, all or none.

        Every file is written to a temporary file first; they replace the outputs together
        once all are complete (`atomic_outputs`), so a run that fails or is interrupted leaves
        the previous outputs as they were and no temporary file.

        Parameters
        ----------
        output : str or Path
            Regions, as `write`.
        mask : str or Path, optional
            Change mask, as `write_mask`.
        quicklook : str or Path, optional
            Quick look PNG, as `quicklook`.

        Returns
        -------
        list of Path
            The files written, in the order of the parameters.

        Raises
        ------
        NotGeoreferencedError
            ``.geojson`` asked for tiles without georeference.
        OutputWriteError
            No space left or file too large, naming the output.
        """
        from imagery_tool.change.quicklook import render_quicklook

        paths = [Path(output)] + [Path(p) for p in (mask, quicklook) if p is not None]
        if mask is not None:
            _check_suffix(Path(mask), _MASK_SUFFIXES, "the mask")
        with atomic_outputs(paths) as temps:
            tmp = iter(temps)
            self._write_vector(next(tmp), geojson=Path(output).suffix.lower() == ".geojson")
            if mask is not None:
                self._write_mask(next(tmp))
            if quicklook is not None:
                _write_png(next(tmp), render_quicklook(self))
        return paths

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: files, dates, counts, registration and regions."""
        return {
            "before": str(self.before.path),
            "after": str(self.after.path),
            "before_date": self.before_date,
            "after_date": self.after_date,
            "method": self.method,
            "regions": len(self.regions),
            "counts": self.counts(),
            "registration": self.registration.to_dict(),
            "parameters": self.parameters,
            "changes": [
                {"change": r.change, "score": r.score, "bbox_px": list(r.bbox_px)}
                for r in self.regions
            ],
        }

    def quicklook(self, path: str | Path, *, max_side: int = 1600) -> Path:
        """Write a PNG of both dates side by side with the regions' boxes."""
        from imagery_tool.change.quicklook import render_quicklook

        image = render_quicklook(self, max_side=max_side)
        with atomic_path(path) as tmp:
            _write_png(tmp, image)
        return Path(path)


def check_lonlat_output(before: Tile, output: Path | None = None) -> None:
    """Refuse lon/lat output (GeoJSON) for tiles whose pixels have no lon/lat.

    Called by `ChangeResult.to_geojson`, and by the command line before the detection runs
    with the ``output`` asked for, whose ``.json`` sibling the message then suggests.

    Raises
    ------
    NotGeoreferencedError
        ``before`` has no georeference.
    UnsupportedCRSError
        ``before``'s CRS has no known relation to lon/lat (a local or engineering CRS).
    """
    g = before.georef
    instead = f"write {output.with_suffix('.json').name}" if output else "write a .json output"
    if not g.is_georeferenced:
        raise NotGeoreferencedError(
            f"{before.path} has no georeference, so lon/lat GeoJSON cannot be written; "
            f"{instead} (pixel coordinates) instead"
        )
    if not g.has_lonlat:
        raise UnsupportedCRSError(
            f"{before.path}: its CRS {crs_label(g.crs)!r} has no known relation to "
            f"longitude/latitude, so lon/lat GeoJSON cannot be written; {instead} (pixel "
            f"coordinates) instead, or reproject the tiles ({REPROJECT_HINT})"
        )


def _check_suffix(path: Path, allowed: tuple[str, ...], what: str) -> None:
    if path.suffix.lower() not in allowed:
        raise ValueError(f"{path}: {what} is written as {' or '.join(allowed)}; rename the file")


def _write_png(tmp: Path, image: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - OpenCV failure
        raise OSError(f"{tmp}: PNG encoding failed")
    tmp.write_bytes(data.tobytes())


def _feature(region: ChangeRegion, ring: np.ndarray, result: ChangeResult) -> dict[str, Any]:
    def rounded(v, n=2):
        return None if v is None else round(float(v), n)

    return {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[round(float(x), _DECIMALS), round(float(y), _DECIMALS)] for x, y in ring]
            ],
        },
        "properties": {
            "change": region.change,
            "score": region.score,
            "area_m2": rounded(region.area_m2, 1),
            "length_m": rounded(region.length_m),
            "width_m": rounded(region.width_m),
            "bbox_px": list(region.bbox_px),
            "before_date": result.before_date,
            "after_date": result.after_date,
        },
    }
