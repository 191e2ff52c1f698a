"""``imagery-tool series``: timeline of what arrived and left over many dates, on Dask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from imagery_tool.change.options import DetectionOptions
from imagery_tool.cli.options import detection_options
from imagery_tool.cli.types import Number
from imagery_tool.series.engine import (
    DEFAULT_CONNECT_TIMEOUT_S,
    LOCAL_SCHEDULERS,
    is_cluster_address,
    normalise_address,
)
from imagery_tool.series.inputs import DUPLICATE_POLICIES


@click.command()
@click.argument("source", metavar="INPUT", type=click.Path(path_type=str))
@click.option(
    "-o",
    "--outdir",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Output folder: pairs/*.geojson, timeline.json/.csv/.png, series.json.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS|NAME",
    help="tcp://HOST:PORT of a dask.distributed scheduler, or a local scheduler: "
    f"{', '.join(LOCAL_SCHEDULERS)} (default processes; how many: --workers).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Local workers (default: the usable cores, at most one per GiB of memory); the "
    "cluster's own with --scheduler.",
)
@click.option("--force", is_flag=True, help="Recompute pairs already done.")
@detection_options
@click.option(
    "--duplicates",
    type=click.Choice(list(DUPLICATE_POLICIES)),
    default="error",
    show_default=True,
    help="Tiles of a site with the same acquisition time: refuse, or keep the first by name.",
)
@click.option(
    "--connect-timeout",
    type=Number(min=0.1),
    default=DEFAULT_CONNECT_TIMEOUT_S,
    show_default=True,
    help="Seconds to wait for the --scheduler address.",
)
@click.option(
    "--inventory", is_flag=True,
    help="Also count the aircraft on every date (store boxes or proposals; see the inventory "
    "command), add the counts to the timeline and track the aircraft no change explains.",
)  # fmt: skip
@click.option(
    "--store", type=click.Path(dir_okay=False, path_type=str),
    help="With --inventory: annotation store whose accepted boxes are counted for its tiles.",
)  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's report as JSON.")
def series(
    source: str,
    outdir: str,
    scheduler: str | None,
    workers: int | None,
    force: bool,
    options: DetectionOptions,
    duplicates: str,
    connect_timeout: float,
    inventory: bool,
    store: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Track what arrived and left over the dates of INPUT (a folder of tiles or a STAC catalog).

    Tiles are grouped by site and put in date order; each date is co-registered to the first
    one, changes are detected for every consecutive pair, and the changed objects are chained
    into tracks. Pairs run in parallel on Dask: on this machine by default, on an existing
    cluster with --scheduler tcp://HOST:PORT (workers must see INPUT at the same path).
    A rerun skips pairs already done with the same detection options (--force recomputes
    them); files are written atomically. The detection options are the detect command's;
    --pixel-size-m also sizes the --inventory's aircraft on tiles without georeference.

    Exits 2 on bad input, an unreachable scheduler or failed pairs (finished pairs are kept).
    """
    from imagery_tool.cli.progress import progress_bar
    from imagery_tool.series.run import run_series

    if scheduler is not None and is_cluster_address(scheduler):
        try:
            scheduler = normalise_address(scheduler)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--scheduler") from exc
        if workers is not None:
            raise click.BadParameter(
                "sets local workers; a cluster at --scheduler uses its own workers "
                "(start it with more workers instead)",
                param_hint="--workers",
            )
    if store is not None and not inventory:
        raise click.BadParameter(
            "is used by --inventory only; add --inventory", param_hint="--store"
        )
    if store is not None and not Path(store).is_file():
        from imagery_tool.errors import StoreError

        raise StoreError(f"--store {store}: no such file; give an existing annotation store")
    with progress_bar("tasks", quiet=quiet) as progress:
        report = run_series(
            source,
            outdir,
            options,
            scheduler=scheduler,
            workers=workers,
            force=force,
            duplicates=duplicates,
            connect_timeout=connect_timeout,
            inventory=inventory,
            store=store,
            progress=progress,
        )
    record = report.to_dict()
    if as_json:
        click.echo(json.dumps(record, indent=2))
    elif not quiet:
        click.echo(format_report(record))


def format_report(record: dict[str, Any]) -> str:
    """Format a `SeriesReport.to_dict` record as text: per site, its objects and files."""
    lines = []
    for site in record["sites"]:
        dates = site["dates"]
        lines.append(
            f"{site['site']}: {len(dates)} dates {dates[0][:10]} .. {dates[-1][:10]}, "
            f"{len(site['pairs'])} pairs ({len(site['computed'])} computed, "
            f"{len(site['reused'])} reused), {site['objects']} objects tracked"
        )
        for stem, placed in site.get("registrations", {}).items():
            if placed["status"] == "fallback":  # reported, not a failure
                lines.append(f"  {stem}: placed by georeference only — {placed['reason']}")
        timeline = site["timeline"].get("json")
        if timeline:
            with open(timeline, encoding="utf-8") as f:
                objects = json.load(f)["objects"]
            big = [o for o in objects if (o["length_m"] or 0) >= 12]
            for o in big:
                stay = f"{o['first_seen']} .. {o['last_seen']}"
                came = f"arrived {o['arrived']}" if o["arrived"] else "there on the first date"
                went = f"left by {o['departed']}" if o["departed"] else "still there"
                size = f"{o['length_m']:.0f} x {o['width_m']:.0f} m"
                what = f"  {o['class']}" if o.get("class") else ""
                lines.append(f"  {o['object']}  {size:>11}  {stay}  {came}, {went}{what}")
            if len(objects) > len(big):
                lines.append(f"  (+{len(objects) - len(big)} vehicle-sized, in timeline.csv)")
        extra = ", inventory.csv, .geojson, .png" if "inventory_csv" in site["timeline"] else ""
        lines.append(f"  files in {site['outdir']}: timeline.json, .csv, .png{extra}, pairs/")
    if record["skipped"]:
        lines.append(f"skipped {len(record['skipped'])} file(s):")
        lines.extend(f"  {s['path']}: {s['reason']}" for s in record["skipped"])
    mps = record["throughput_mp_s"]
    speed = f", {record['megapixels']:.1f} MP at {mps:.2f} MP/s" if mps else ""
    lines.append(f"{record['engine']}: {record['seconds']:.1f} s{speed}")
    return "\n".join(lines)
