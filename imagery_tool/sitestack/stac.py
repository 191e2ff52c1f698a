"""Reading the tiles and dates a STAC catalog, collection or item collection lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from imagery_tool.dates import parse_datetime
from imagery_tool.errors import ImageryToolError, StacReadError
from imagery_tool.sitestack.dated import Skipped
from imagery_tool.sitestack.files import RASTER_SUFFIXES
from imagery_tool.tile import Tile, open_tile

__all__ = ["CatalogTile", "read_stac"]

# An asset without a media type is judged by its name (`RASTER_SUFFIXES`).
_RASTER_MEDIA = ("image/tiff", "image/jp2", "image/png", "image/jpeg", "application/x-hdf")
_NOT_DATA = ("thumbnail", "overview", "metadata")  # asset roles that are never the image


@dataclass(frozen=True)
class CatalogTile:
    """A tile listed by a STAC item.

    Attributes
    ----------
    tile : Tile
        The item's data asset, opened.
    when : datetime or None
        The item's ``datetime`` (else ``start_datetime``), else the tile's own date
        (`imagery_tool.dates`), in UTC; None when neither says.
    source : str
        Where ``when`` was read: ``"stac:<item id>"`` or the tile's own source.
    item : str
        The item's id.
    """

    tile: Tile
    when: datetime | None
    source: str
    item: str


def read_stac(path: str | Path) -> tuple[list[CatalogTile], list[Skipped]]:
    """Open the data asset of every item a STAC file lists, with its acquisition time.

    Each item gives its data asset: a raster asset with the role ``data``, else one keyed
    ``image``, ``visual`` or ``data``, else any raster asset (thumbnails, overviews and
    metadata never). Remote assets are not downloaded.

    Parameters
    ----------
    path : str or Path
        A STAC catalog, collection, item collection or item (JSON), read with pystac.

    Returns
    -------
    tiles : list of CatalogTile
        In order of item id.
    skipped : list of Skipped
        Items without a local raster data asset, and assets that cannot be opened, with why.

    Raises
    ------
    StacReadError
        The file is not readable as STAC, or a catalog's link to a child or an item is broken.
    """
    path = Path(path)
    items = _read_items(path)
    found, skipped = [], []
    for item in sorted(items, key=lambda i: i.id):
        label = f"{path.name}#{item.id}"
        asset = _data_asset(item)
        if asset is None:
            skipped.append(Skipped(label, "STAC item has no raster data asset (roles 'data')"))
            continue
        href = asset.get_absolute_href() or asset.href
        if "://" in href and not href.startswith("file://"):
            skipped.append(
                Skipped(label, f"remote asset {href}; download it and use a local catalog")
            )
            continue
        tile_path = Path(href.removeprefix("file://"))
        try:
            tile = open_tile(tile_path)
        except ImageryToolError as exc:
            reason = str(exc).removeprefix(f"{tile_path}: ")
            skipped.append(Skipped(str(tile_path), f"unreadable (item {item.id}): {reason}"))
            continue
        found.append(_dated(tile, item))
    return found, skipped


def _read_items(path: Path) -> list:
    """Return the pystac items of a STAC file, following its links.

    Raises
    ------
    StacReadError
        The file, or a child or item it links to, is missing or not STAC.
    """
    import pystac

    try:
        obj = pystac.read_file(str(path))
        if isinstance(obj, pystac.Item):
            return [obj]
        if isinstance(obj, pystac.ItemCollection):
            return list(obj.items)
        return list(obj.get_items(recursive=True))
    except Exception as exc:  # noqa: BLE001 - pystac raises many types for a bad file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StacReadError(
            f"{path}: not a readable STAC catalog, collection or item collection ({first}); "
            "give a catalog.json or a folder of tiles"
        ) from exc


def _dated(tile: Tile, item) -> CatalogTile:
    """Date a tile by its item's time, else by its own, in UTC."""
    when = item.datetime
    if when is None:
        text = item.properties.get("start_datetime")
        when = parse_datetime(text) if isinstance(text, str) else None
    source = f"stac:{item.id}"
    if when is None and tile.acquired.value is not None:
        when, source = tile.acquired.value, tile.acquired.source
    if when is not None:
        when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    return CatalogTile(tile, when, source, item.id)


def _data_asset(item):
    ranked = []
    for key, asset in sorted(item.assets.items()):
        roles = asset.roles or []
        media = (asset.media_type or "").lower()
        if any(role in roles for role in _NOT_DATA):
            continue
        if not (media.startswith(_RASTER_MEDIA) or asset.href.lower().endswith(RASTER_SUFFIXES)):
            continue
        rank = 0 if "data" in roles else 1 if key in ("image", "visual", "data") else 2
        ranked.append((rank, key, asset))
    return min(ranked, key=lambda r: r[:2])[2] if ranked else None
