"""``imagery-tool render``: a reviewer PNG of a tile or a before/after sheet."""

from __future__ import annotations

import click

from imagery_tool.cli.types import Number
from imagery_tool.cli.types import numbers as _numbers


@click.command()
@click.argument("tile", type=click.Path(path_type=str))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=str),
    help="PNG file to write (written atomically).",
)
@click.option(
    "--annotations",
    type=click.Path(path_type=str),
    help="Annotation store (.gpkg) or file (GeoJSON, COCO, YOLO, DOTA, VOC, CSV).",
)
@click.option(
    "--changes",
    type=click.Path(path_type=str),
    help="Changes GeoJSON of `imagery-tool detect` (or its pixel-mode .json).",
)
@click.option(
    "--before",
    type=click.Path(path_type=str),
    help="Earlier tile: a side-by-side before/after sheet (TILE is AFTER).",
)
@click.option(
    "--bbox",
    help="Region minx,miny,maxx,maxy in the tile's map units "
    "(or in --bbox-crs; lon/lat with --lonlat).",
)
@click.option("--bbox-crs", help="CRS of --bbox and --center, e.g. EPSG:4326.")
@click.option("--lonlat", is_flag=True, help="--bbox and --center are lon/lat (EPSG:4326).")
@click.option("--center", help="Region centre x,y (map units, or lon,lat with --lonlat).")
@click.option(
    "--size", "size_m", type=Number(min=0, min_open=True),
    help="Side of the --center region in metres.",
)  # fmt: skip
@click.option("--scale", type=Number(min=0, min_open=True), help="Ground metres per output pixel.")
@click.option("--width", type=click.IntRange(min=64), help="Width of the PNG in pixels.")
@click.option("--heat", is_flag=True, help="Overlay a change heat on AFTER (needs --before).")
@click.option("--chips", is_flag=True, help="Append a contact sheet of object chips.")
@click.option("--title", help="Title line (default: site or tile, and dates).")
@click.option("--site", help="Site name for the caption, any script.")
def render(
    tile: str,
    output: str,
    annotations: str | None,
    changes: str | None,
    before: str | None,
    bbox: str | None,
    bbox_crs: str | None,
    lonlat: bool,
    center: str | None,
    size_m: float | None,
    scale: float | None,
    width: int | None,
    heat: bool,
    chips: bool,
    title: str | None,
    site: str | None,
) -> None:
    """Render TILE as a reviewer PNG: boxes, labels, legends, scale bar, north arrow, caption.

    With --before, a before/after sheet: AFTER (TILE) is resampled onto BEFORE's frame. The
    frame is read through the tiles' overviews, never whole. Exits 2 with one line on bad input
    (region off the tile, annotations of another tile, unwritable output); no partial PNG is
    left behind.
    """
    from imagery_tool.atomic import check_output
    from imagery_tool.render import Region, write_png
    from imagery_tool.render import render as render_picture
    from imagery_tool.tile import open_tile

    # before the drawing
    check_output(output, inputs=[tile, before, annotations, changes], option="-o/--output")
    if bbox and center:
        raise click.BadParameter("give either --bbox or --center, not both", param_hint="--bbox")
    if lonlat and bbox_crs:
        raise click.BadParameter("--lonlat already means EPSG:4326", param_hint="--bbox-crs")
    crs = "EPSG:4326" if lonlat else bbox_crs
    region = None
    if bbox:
        region = Region.from_bbox(
            *_numbers(bbox, 4, "--bbox", "767800,3920600,768300,3921100"), crs=crs
        )
    elif center:
        if size_m is None:
            raise click.BadParameter("--center needs --size METRES", param_hint="--size")
        x, y = _numbers(center, 2, "--center", "35.9484,35.4010 with --lonlat")
        region = Region.from_center(x, y, size_m, crs=crs)
    elif size_m is not None:
        raise click.BadParameter("--size goes with --center", param_hint="--size")
    if heat and not before:
        raise click.BadParameter(
            "--heat compares two dates; add --before TILE", param_hint="--heat"
        )
    after_tile = open_tile(tile)
    before_tile = open_tile(before) if before else None
    result = render_picture(
        after_tile,
        annotations=annotations or (),
        changes=changes,
        before=before_tile,
        region=region,
        width=width,
        scale=scale,
        heat=heat,
        chips=chips,
        title=title,
        site=site,
    )
    path = write_png(result.image, output)
    h, w = result.image.shape[:2]
    click.echo(
        f"{path}: {w} x {h} px, {len(result.outlines)} outline(s), {len(result.labels)} label(s)"
        + (f", {result.hidden_labels} left out where crowded" if result.hidden_labels else "")
    )
