"""``imagery-tool inventory``: aircraft per date by size class and type -> CSV, GeoJSON, chart."""

from __future__ import annotations

import json

import click

from imagery_tool.aircraft.inventory import CLASSES, TYPE_SOURCES
from imagery_tool.cli.flags import with_flags
from imagery_tool.cli.options import quiet_option
from imagery_tool.cli.types import Number, pixel_size
from imagery_tool.series.inputs import DUPLICATE_POLICIES


@click.command()
@click.argument("tiles", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "-o", "--outdir", required=True, type=click.Path(file_okay=False, path_type=str),
    help="Output folder: inventory.csv, inventory.geojson, inventory.png.",
)  # fmt: skip
@click.option(
    "--store", type=click.Path(dir_okay=False, path_type=str),
    help="Annotation store (.gpkg): its accepted aircraft boxes are counted for the tiles it "
    "knows; the other tiles get single-date proposals.",
)  # fmt: skip
@click.option(
    "--pixel-size-m", type=pixel_size(), default=None,
    help="Pixel size for images without georeference (default 0.5, recorded as assumed).",
)  # fmt: skip
@click.option(
    "--min-score", type=Number(0, 1), default=None,
    help="Smallest proposal score counted (default: the proposer's).",
)  # fmt: skip
@click.option(
    "--types", "types", type=click.Choice(list(TYPE_SOURCES)), default="schema",
    show_default=True,
    help="Types a size may suggest: the label schema's classes (the project's fleet), or the "
    "whole catalogue.",
)  # fmt: skip
@click.option(
    "--duplicates", type=click.Choice(list(DUPLICATE_POLICIES)), default="error",
    show_default=True,
    help="Tiles of a site with the same acquisition time: refuse, or keep the first by name.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the per-date counts as JSON.")
@quiet_option
def inventory(
    tiles: tuple[str, ...],
    outdir: str,
    store: str | None,
    pixel_size_m: float | None,
    min_score: float | None,
    types: str,
    duplicates: str,
    as_json: bool,
    quiet: bool,
) -> None:
    """Count the aircraft on each date of TILES by size class and suggested type.

    TILES are files or folders of tiles. Tiles are dated and grouped by site as ``series``
    does. Accepted boxes of --store are
    counted for the tiles the store knows, single-date proposals elsewhere. Writes
    inventory.csv (a row per date), inventory.geojson (a feature per aircraft) and
    inventory.png (a bar per date), all three or none, and prints the per-date table.
    """
    from pathlib import Path

    from imagery_tool.aircraft.inventory import take_inventory, write_inventory
    from imagery_tool.atomic import check_output
    from imagery_tool.cli.progress import progress_bar
    from imagery_tool.errors import StoreError

    out = check_output(outdir, inputs=[*tiles, store], option="-o/--outdir", folder=True)
    if store is not None and not Path(store).is_file():
        raise StoreError(f"--store {store}: no such file; give an existing annotation store")
    with progress_bar("tiles", quiet=quiet) as progress:
        result = take_inventory(
            tiles, store=store, pixel_size_m=pixel_size_m, min_score=min_score, types=types,
            duplicates=duplicates, progress=progress,
        )  # fmt: skip
    paths = write_inventory(result, out)
    if as_json:
        summary = result.to_dict()
        summary["outputs"] = [str(p) for p in paths.values()]
        click.echo(json.dumps(summary, indent=2))
        return
    if quiet:
        return
    click.echo(format_table(result))
    for line in result.notes():
        click.echo(f"note: {with_flags(line)}")
    for path in paths.values():
        click.echo(f"wrote {path}")


def format_table(result) -> str:
    """Return the per-date count table the command prints."""
    short = {"helicopter": "heli", "unknown": "unkn"}
    head = ["site", "date", "from", "total", *(short.get(c, c) for c in CLASSES), "types"]
    rows = []
    for d in result.dates:
        counts = d.counts()
        top = ", ".join(f"{t} x{n}" for t, n in d.types()[:4])
        more = len(d.types()) - 4
        rows.append(
            [d.site, d.date, d.origin, str(len(d.aircraft)), *(str(counts[c]) for c in CLASSES),
             top + (f", +{more} more" if more > 0 else "")]
        )  # fmt: skip
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    lines = []
    for r in [head, *rows]:
        cells = [
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r[:-1], widths, strict=True))
        ]
        lines.append("  ".join([*cells, r[-1]]))
    return "\n".join(lines)
