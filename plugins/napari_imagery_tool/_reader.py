"""napari reader: a GeoTIFF/COG, a folder of dated tiles or a STAC catalog as lazy image layers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from imagery_tool.errors import ImageryToolError
from imagery_tool.runtime import current, runtime, thread_pool
from imagery_tool.sitestack import (
    RASTER_SUFFIXES,
    date_order,
    fingerprint,
    group_by_site,
    placement_note,
    read_stac,
    register_to_reference,
    site_name,
)
from imagery_tool.tile import Tile, open_tile
from napari_imagery_tool._notify import notify
from napari_imagery_tool._stack import StackInfo, TileStack

__all__ = ["get_reader", "read_stack", "stack_layer_data"]

METADATA_KEY = "imagery_tool"
CHUNK_CACHE_BYTES = 256 * 2**20  # napari's cache of read chunks is capped to this

log = logging.getLogger(__name__)


def get_reader(path: str | list[str]) -> Callable | None:
    """Return a reader for ``path`` when it is a raster, a folder of rasters or a STAC catalog.

    Returns None (never raises) for anything else, so that napari tries other readers.
    """
    try:
        paths = [Path(p) for p in ([path] if isinstance(path, str | Path) else path)]
        if not paths or not all(_takes(p) for p in paths):
            return None
    except Exception:  # noqa: BLE001 - a reader probe must never raise
        return None
    return read_paths


def _takes(path: Path) -> bool:
    if path.is_dir():
        return bool(_rasters_in(path)) or (path / "catalog.json").is_file()
    if path.suffix.lower() in RASTER_SUFFIXES:
        return True
    if path.suffix.lower() == ".json" and path.is_file():
        return _is_stac(path)
    return False


def _is_stac(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = json.loads(fh.read(2_000_000))
    except (OSError, ValueError):
        return False
    return (
        isinstance(head, dict)
        and "stac_version" in head
        and head.get("type")
        in (
            "Catalog",
            "Collection",
            "FeatureCollection",
            "Feature",
        )
    )


def _rasters_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in RASTER_SUFFIXES)


def read_paths(path: str | list[str]) -> list[tuple]:
    """Read one or more paths into napari layer data (one image layer per site).

    Problems are reported as napari notifications; a path that cannot be read at all gives
    an empty list rather than an exception.
    """
    paths = [Path(p) for p in ([path] if isinstance(path, str | Path) else path)]
    tiles, dates, problems = [], {}, []
    for p in paths:
        try:
            found = _tiles_of(p)
        except (ImageryToolError, OSError, ValueError) as exc:
            problems.append(str(exc))
            continue
        for tile, stac_date in found:
            tiles.append(tile)
            if stac_date:
                dates[tile.path] = stac_date
    for message in problems:
        notify(message, "warning")
    if not tiles:
        return []
    layers = []
    for info in read_stack(tiles, stac_dates=dates):
        for note in info.notes:
            notify(
                note, "warning" if "pixel mode" in note or "not co-registered" in note else "info"
            )
        layers.append(stack_layer_data(info, TileStack(info.tiles, info.dates, info.registrations)))
    _install_viewer_hooks()
    return layers


def _bound_chunk_cache() -> None:
    """Cap napari's cache of read chunks (napari's default is a quarter of the RAM).

    Panning over a 30000 x 30000 tile fills any cache; capped, memory stays well under 1 GB.
    """
    try:
        from napari.utils import resize_dask_cache
        from napari.utils._dask_utils import _DASK_CACHE
    except ImportError:  # pragma: no cover
        return
    if _DASK_CACHE.cache.available_bytes > CHUNK_CACHE_BYTES:
        resize_dask_cache(nbytes=CHUNK_CACHE_BYTES)


def _install_viewer_hooks() -> None:
    _bound_chunk_cache()
    try:
        import napari

        from napari_imagery_tool._hooks import install

        viewer = napari.current_viewer()
    except ImportError:  # pragma: no cover
        return
    if viewer is not None:
        install(viewer)


def _tiles_of(path: Path) -> list[tuple[Tile, datetime | None]]:
    if path.is_dir():
        catalog = path / "catalog.json"
        if catalog.is_file() and not _rasters_in(path):
            return _stac_tiles(catalog)
        out, bad = [], []
        for p in _rasters_in(path):
            try:
                out.append((open_tile(p), None))
            except ImageryToolError as exc:
                bad.append(str(exc))
        for message in bad:
            notify(f"skipped: {message}", "warning")
        return out
    if path.suffix.lower() == ".json":
        return _stac_tiles(path)
    return [(open_tile(path), None)]


def _stac_tiles(catalog: Path) -> list[tuple[Tile, datetime | None]]:
    found, skipped = read_stac(catalog)
    for item in skipped:
        notify(f"skipped: {item.path}: {item.reason}", "warning")
    if not found:
        raise ImageryToolError(f"{catalog}: the STAC catalog lists no raster asset to open")
    return [(f.tile, f.when) for f in found]


def read_stack(
    tiles: list[Tile], *, stac_dates: dict | None = None, register: bool = True
) -> list[StackInfo]:
    """Group tiles by site, order each group by date and measure the residual shifts.

    Parameters
    ----------
    tiles : list of Tile
        Any number of tiles, possibly of several sites.
    stac_dates : dict, optional
        Acquisition times from a STAC catalog, by tile path; they take the place of the
        tiles' own.
    register : bool
        Measure each later date's residual shift against the first date (co-registration);
        False aligns by georeference only.

    Returns
    -------
    list of StackInfo
        One per site (`imagery_tool.sitestack.group_by_site`, as ``series`` groups them); a
        message is shown when tiles of several sites were split.
    """
    stac_dates = stac_dates or {}
    groups = [[tiles[i] for i in group] for group in group_by_site(tiles)]
    if len(groups) > 1:
        names = "; ".join(", ".join(t.name for t in g) for g in groups)
        notify(
            f"the tiles show {len(groups)} different sites (footprints do not overlap); "
            f"opened as separate layers: {names}",
            "warning",
        )
    infos = []
    for group in groups:
        when = {t.path: stac_dates.get(t.path) or t.acquired.value for t in group}
        ordered = sorted(group, key=lambda t: date_order(when[t.path], t.path))
        labels = [_slider_label(t, when[t.path]) for t in ordered]
        info = StackInfo(ordered, labels, ordered[0].georef)
        info.registrations = [None] * len(ordered)
        info.shifts = [(0.0, 0.0)] * len(ordered)
        if register and len(ordered) > 1:
            _register(info)
        if not info.georeferenced:
            info.notes.append(info.pixel_mode_reason())
        infos.append(info)
    return infos


def _slider_label(tile: Tile, when: datetime | None) -> str:
    """Label a date on the slider: its acquisition date, else the file name."""
    return when.date().isoformat() if when is not None else tile.path.stem


# Registrations measured in this process, by (reference, tile) file identity and JPEG decoder
# (as series keys them): reopening a folder (or a new viewer) does not measure again.
_REGISTRATIONS: dict[tuple, object] = {}


def _file_key(path: Path) -> tuple:
    return tuple(fingerprint(Path(path)).values())  # the version series' state records


def _register(info: StackInfo) -> None:
    reference = info.tiles[0]

    def measure(tile):
        key = (_file_key(reference.path), _file_key(tile.path), current().jpeg_decoder)
        if key not in _REGISTRATIONS:
            try:
                _REGISTRATIONS[key] = register_to_reference(reference, tile)
            except (ImageryToolError, ValueError) as exc:
                return exc
        return _REGISTRATIONS[key]

    # dates side by side, each registration with its share of the threads (as series does):
    # not a pool of workers in each of the workers' tasks
    workers = current().workers
    side_by_side = max(1, min(workers, len(info.tiles) - 1))

    def measure_with_share(tile):
        with runtime(workers=max(1, workers // side_by_side)):
            return measure(tile)

    with thread_pool(side_by_side) as pool:
        results = list(pool.map(measure_with_share, info.tiles[1:]))
    for i, (tile, reg) in enumerate(zip(info.tiles[1:], results, strict=True), start=1):
        if isinstance(reg, Exception):
            exc = reg
            info.notes.append(f"{tile.name}: not co-registered ({exc}); aligned by georeference")
            continue
        info.notes.append(placement_note(tile.name, reference.name, reg))
        if reg.applied:  # the trust gate decides, as for detect and series
            info.registrations[i] = reg
            info.shifts[i] = (reg.dx, reg.dy)


def stack_layer_data(info: StackInfo, stack: TileStack) -> tuple:
    """Return the ``(data, kwargs, "image")`` napari layer data of a stack."""
    levels = stack.levels()
    if not info.is_stack:
        levels = [level[0] for level in levels]
    name = info.tiles[0].path.stem if not info.is_stack else _stack_name(info)
    kwargs = {
        "name": name,
        "rgb": True,
        "multiscale": len(levels) > 1,
        "contrast_limits": (0, 255),
        "metadata": {METADATA_KEY: info},
    }
    if info.is_stack:
        kwargs["axis_labels"] = ("date", "y", "x")
    return (levels if len(levels) > 1 else levels[0], kwargs, "image")


def _stack_name(info: StackInfo) -> str:
    """Name a stack's layer by its site (`imagery_tool.sitestack.site_name`) and date count."""
    site = site_name(t.path for t in info.tiles) or info.tiles[0].path.stem
    return f"{site} ({len(info.tiles)} dates)"
