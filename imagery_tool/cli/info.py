"""``imagery-tool info``: describe tiles (size, bands, CRS, bounds, GSD, date, overviews)."""

from __future__ import annotations

import json
from typing import Any

import click


@click.command()
@click.argument("tiles", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one record per tile.")
def info(tiles: tuple[str, ...], as_json: bool) -> None:
    """Describe each TILE: size, bands, CRS, bounds, GSD, acquisition date and its source.

    Exits 2 when any tile cannot be read, after describing the others; the reason is one line
    on standard error naming the file.
    """
    from imagery_tool.errors import ImageryToolError
    from imagery_tool.summary import describe_tile
    from imagery_tool.tile import open_tile

    records: list[dict[str, Any]] = []
    failed = False
    for path in tiles:
        try:
            record = describe_tile(open_tile(path))
        except ImageryToolError as exc:
            failed = True
            click.echo(f"imagery-tool: {exc}", err=True)
            record = {"path": path, "error": str(exc)}
        records.append(record)
        if not as_json and "error" not in record:
            click.echo(format_record(record))
    if as_json:
        click.echo(json.dumps(records, indent=2))
    if failed:
        raise SystemExit(2)


def format_record(record: dict[str, Any]) -> str:
    """Format one `describe_tile` record as indented text."""
    bands = ", ".join(b["colorinterp"] for b in record["bands"])
    lines = [
        record["path"],
        f"  size        {record['width']} x {record['height']} px, "
        f"{record['count']} band(s) {record['dtype']} ({bands})",
        f"  colour      {_colour(record)}",
        f"  values      {_values(record)}",
    ]
    if record["georeferenced"]:
        b = record["bounds"]
        lines.append(f"  crs         {record['crs']} ({record['crs_name']})")
        lines.append(
            f"  bounds      {b['left']:.3f}, {b['bottom']:.3f}, {b['right']:.3f}, {b['top']:.3f}"
            " (left, bottom, right, top)"
        )
        if record["lonlat_bounds"]:
            ll = record["lonlat_bounds"]
            lon, lat = record["center_lonlat"]
            lines.append(
                f"  lon/lat     {ll['west']:.6f}, {ll['south']:.6f}, {ll['east']:.6f}, "
                f"{ll['north']:.6f} (W, S, E, N); centre {lat:.6f} N, {lon:.6f} E"
            )
        else:
            lines.append(
                "  lon/lat     unavailable: no known conversion from this CRS, over this grid, to "
                "longitude/latitude (map coordinates only)"
            )
        if record["gsd_m"]:
            gx, gy = record["gsd_m"]
            lines.append(f"  gsd         {gx:.3f} m x {gy:.3f} m")
        else:
            lines.append("  gsd         unknown (the CRS gives no length unit)")
        if record["rotated"] or record["south_up"]:
            lines.append(f"  transform   {'rotated' if record['rotated'] else 'south-up'}")
    elif record["gcp_count"]:
        lines.append(
            f"  crs         none: georeferenced by {record['gcp_count']} GCPs only "
            "(not used; warp the file to a grid with gdalwarp first)"
        )
    else:
        lines.append("  crs         none (not georeferenced: pixel coordinates only)")
    if record["date"]:
        lines.append(f"  date        {record['date']} (from {record['date_source']})")
    else:
        lines.append("  date        unknown")
    overviews = ", ".join(map(str, record["overviews"])) or "none"
    lines.append(f"  overviews   {overviews}")
    nodata = "none" if record["nodata"] is None else record["nodata"]
    lines.append(f"  nodata      {nodata}; mask: {record['mask']}")
    rows, cols = record["block_shape"]
    lines.append(f"  storage     {record['compression'] or 'uncompressed'}, blocks {cols} x {rows}")
    return "\n".join(lines)


_RGB_SOURCES = {
    "colorinterp": "from the colour interpretation",
    "description": "from the band descriptions",
    "band order": "assumed from the band order",
}


def _colour(record: dict[str, Any]) -> str:
    """Say which bands make the natural-colour view, and how that was decided."""
    bands = record["rgb_bands"]
    if len(bands) < 3:
        return f"grey: band {bands[0]}"
    red, green, blue = bands
    text = f"red = band {red}, green = band {green}, blue = band {blue}"
    text += f" ({_RGB_SOURCES[record['rgb_source']]})"
    if record["rgb_source"] == "band order":
        example = ["blue", "green", "red", "nir"] + ["undefined"] * max(0, record["count"] - 4)
        text += (
            "\n              the file does not say which band is which; if wrong, set it, e.g. "
            f"rio edit-info --colorinterp {','.join(example[: record['count']])} {record['path']}"
        )
    return text


def _values(record: dict[str, Any]) -> str:
    """Say the sampled value range and the bits per sample."""
    if record["value_range"] is None:
        text = "no valid pixel in the sample"
    else:
        low, high = record["value_range"]
        text = f"{low:g} to {high:g} in a sample"
    if record["bits"] is None:
        return text
    if record["bits_source"] == "sampled values":
        return f"{text}; they fit in {record['bits']} bits"
    source = "" if record["bits_source"] == "dtype" else f" ({record['bits_source']})"
    return f"{text}; {record['bits']}-bit{source}"
