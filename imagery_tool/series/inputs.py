"""Turn a folder of tiles or a STAC catalog into dated series, one per site, in time order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from imagery_tool.errors import ImageryToolError, SeriesInputError
from imagery_tool.sitestack import (
    RASTER_SUFFIXES,
    DatedTile,
    Skipped,
    date_order,
    footprint,
    group_by_site,
    read_stac,
    site_name,
)
from imagery_tool.tile import Tile, open_tile

__all__ = [
    "DUPLICATE_POLICIES",
    "SeriesInputs",
    "SiteSeries",
    "collect_inputs",
    "collect_tiles",
]

# What to do with two tiles of one site acquired at the same time -> description.
DUPLICATE_POLICIES = {
    "error": "refuse the input and name both tiles (default)",
    "first": "keep the first by file name, skip the others and list them",
}

# Raster files this command writes into its output folder (never inputs).
_OUTPUTS = frozenset({"timeline.png"})


@dataclass(frozen=True)
class SiteSeries:
    """The dated tiles of one site, in time order (at least two for a series).

    Attributes
    ----------
    name : str
        Site name from the file names (``hmeimim`` for ``hmeimim_2024-12-13.tif``) or
        ``site-N``; unique within an input.
    tiles : tuple of DatedTile
        Strictly increasing acquisition times; the first is the reference every date is
        co-registered to.
    """

    name: str
    tiles: tuple[DatedTile, ...]

    @property
    def crs(self) -> list[str]:
        """The distinct CRSs of the tiles (``"none"`` without georeference)."""
        names = []
        for t in self.tiles:
            crs = t.tile.georef.crs
            name = crs.to_string() if crs is not None else "none"
            if name not in names:
                names.append(name)
        return names


@dataclass(frozen=True)
class SeriesInputs:
    """Everything found in an input: series per site and the files left out."""

    source: Path
    sites: tuple[SiteSeries, ...]
    skipped: tuple[Skipped, ...]


def collect_inputs(
    source: str | Path,
    *,
    duplicates: str = "error",
    exclude: str | Path | None = None,
) -> SeriesInputs:
    """Find the dated tiles of a folder or a STAC catalog and group them by site.

    A folder is scanned for raster files (not recursively); each tile's date comes from its
    metadata, then its file name, then a STAC item beside it (`imagery_tool.dates`). A STAC
    catalog, collection or item collection (JSON file, read with pystac) gives each item's
    ``datetime`` and its data asset. Tiles whose footprints overlap by half or more are one
    site; a site may mix CRSs (dates are resampled onto the reference grid).

    Parameters
    ----------
    source : str or Path
        A folder of tiles or a STAC JSON file.
    duplicates : {"error", "first"}
        What to do with two tiles of one site acquired at the same time (see
        `DUPLICATE_POLICIES`).
    exclude : str or Path, optional
        The output folder: the files the run writes there are never inputs.

    Returns
    -------
    SeriesInputs
        Sites with at least two dated tiles; everything else is in ``skipped`` with a reason.

    Raises
    ------
    SeriesInputError
        No site with two dated tiles, duplicate acquisition times under ``"error"``, a
        missing input or an unreadable catalog.
    """
    if duplicates not in DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {sorted(DUPLICATE_POLICIES)}")
    source = Path(source)
    if not source.exists():
        raise SeriesInputError(
            f"{source}: no such file or folder; give a folder of tiles or a STAC catalog"
        )
    if source.is_dir():
        dated, skipped = _scan_folder(source, exclude)
    else:
        dated, skipped = _scan_stac(source)
    sites = _sites(dated, skipped, source, duplicates, min_dates=2)
    if not sites:
        found = len(dated)
        detail = f"; first skipped: {skipped[0].path}: {skipped[0].reason}" if skipped else ""
        raise SeriesInputError(
            f"{source}: no site has two dated tiles ({found} dated tile(s) found){detail}"
        )
    return SeriesInputs(source, tuple(sites), tuple(skipped))


def collect_tiles(paths: Iterable[str | Path], *, duplicates: str = "error") -> SeriesInputs:
    """Date the given tiles and group them by site, one date or more per site.

    The same dating and site grouping as `collect_inputs`, for a list of files (``inventory
    TILES...``): a site with a single date is kept.

    Parameters
    ----------
    paths : iterable of str or Path
        Tile files, or folders whose tiles are all taken (as `collect_inputs` scans one).
    duplicates : {"error", "first"}
        What to do with two tiles of one site acquired at the same time.

    Returns
    -------
    SeriesInputs
        ``source`` is the current folder; undated or unreadable files are in ``skipped``.

    Raises
    ------
    SeriesInputError
        A missing file, duplicate acquisition times under ``"error"``, or no dated tile.
    """
    if duplicates not in DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {sorted(DUPLICATE_POLICIES)}")
    dated, skipped = [], []
    for path in map(Path, paths):
        if path.is_dir():  # a folder of dated tiles, read as `series` reads one
            found, unusable = _scan_folder(path, None)
            dated += found
            skipped += unusable
            continue
        if not path.is_file():
            raise SeriesInputError(f"{path}: no such file or folder; give tile files or a folder")
        item, reason = _dated(path)
        if item is None:
            skipped.append(Skipped(str(path), reason))
        else:
            dated.append(item)
    if not dated:
        detail = f"; first skipped: {skipped[0].path}: {skipped[0].reason}" if skipped else ""
        raise SeriesInputError(f"no dated tile among the {len(skipped)} given{detail}")
    sites = _sites(dated, skipped, Path("."), duplicates, min_dates=1)
    return SeriesInputs(Path("."), tuple(sites), tuple(skipped))


def _sites(
    dated: list[DatedTile], skipped: list[Skipped], source: Path, duplicates: str, *, min_dates: int
) -> list[SiteSeries]:
    """Group dated tiles by site in time order; sites with fewer than `min_dates` are skipped."""
    groups = _group_by_site(dated)
    sites: list[SiteSeries] = []
    names: Counter[str] = Counter()
    for number, group in enumerate(groups, start=1):
        group = sorted(group, key=lambda d: date_order(d.when, d.path))
        group, dropped = _handle_duplicates(group, duplicates, source)
        skipped.extend(dropped)
        name = site_name(d.path for d in group) or f"site-{number}"
        names[name] += 1
        if names[name] > 1:
            name = f"{name}-{names[name]}"
        if len(group) < min_dates:
            for d in group:
                skipped.append(
                    Skipped(
                        str(d.path),
                        f"the only dated tile of site {name!r} ({_where(d.tile)}); "
                        "a series needs two dates of a site",
                    )
                )
            continue
        sites.append(SiteSeries(name, tuple(group)))
    sites.sort(key=lambda s: s.name)
    return sites


def _open(path: Path) -> tuple[Tile | None, str | None]:
    try:
        return open_tile(path), None
    except ImageryToolError as exc:
        return None, _strip_path(str(exc), path)


def _strip_path(message: str, path: Path) -> str:
    prefix = f"{path}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _scan_folder(folder: Path, exclude) -> tuple[list[DatedTile], list[Skipped]]:
    excluded = Path(exclude).resolve() if exclude is not None else None
    dated, skipped = [], []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in RASTER_SUFFIXES:
            continue
        if not path.is_file():
            continue
        if excluded is not None and path.name in _OUTPUTS and path.resolve().parent == excluded:
            continue
        item, reason = _dated(path)
        if item is None:
            skipped.append(Skipped(str(path), reason))
        else:
            dated.append(item)
    return dated, skipped


def _dated(path: Path) -> tuple[DatedTile | None, str]:
    """Open a tile and read its date, or say why it cannot be part of a series."""
    tile, error = _open(path)
    if tile is None:
        return None, f"unreadable: {error}"
    if tile.acquired.value is None:
        return None, (
            "no acquisition date (no date tag in the metadata, no date in the file "
            "name, no STAC item beside it); add one, e.g. name it SITE_YYYY-MM-DD.tif"
        )
    return DatedTile(tile, tile.acquired.value.astimezone(UTC), tile.acquired.source), ""


def _scan_stac(path: Path) -> tuple[list[DatedTile], list[Skipped]]:
    listed, skipped = read_stac(path)
    dated = []
    for found in listed:
        if found.when is None:
            reason = f"no acquisition date (item {found.item} has no datetime)"
            skipped.append(Skipped(str(found.tile.path), reason))
        else:
            dated.append(DatedTile(found.tile, found.when, found.source))
    return dated, skipped


def _group_by_site(dated: list[DatedTile]) -> list[list[DatedTile]]:
    """Group dated tiles by site (`imagery_tool.sitestack.group_by_site`), by first file name."""
    groups = [[dated[i] for i in group] for group in group_by_site([d.tile for d in dated])]
    return sorted(groups, key=lambda g: min(d.path.name for d in g))


def _handle_duplicates(group, policy: str, source: Path):
    kept: list[DatedTile] = []
    dropped: list[Skipped] = []
    for d in group:
        twin = next((k for k in kept if k.when == d.when), None)
        if twin is None:
            kept.append(d)
            continue
        if policy == "error":
            raise SeriesInputError(
                f"{source}: {twin.path.name} and {d.path.name} have the same acquisition time "
                f"{d.iso}; remove one, or pass `duplicates`=first to keep {twin.path.name}",
                parameter="duplicates",
            )
        dropped.append(
            Skipped(
                str(d.path), f"same acquisition time {d.iso} as {twin.path.name}, kept that one"
            )
        )
    return kept, dropped


def _where(tile: Tile) -> str:
    foot = footprint(tile)
    if foot is None:
        return f"{tile.width} x {tile.height} px, no georeference"
    lon, lat = (foot[0] + foot[2]) / 2, (foot[1] + foot[3]) / 2
    return f"centre {lat:.5f} N, {lon:.5f} E"
