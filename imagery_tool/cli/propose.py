"""``imagery-tool propose``: aircraft-like objects in one tile -> GeoJSON / JSON proposals."""

from __future__ import annotations

import json
from pathlib import Path

import click

from imagery_tool.cli.options import quiet_option
from imagery_tool.cli.types import Number, pixel_size

_VECTOR = (".geojson", ".json")


@click.command()
@click.argument("tile", type=click.Path(path_type=str))
@click.option(
    "-o", "--output", required=True,
    help="Proposals: .geojson (lon/lat, RFC 7946) or .json (pixel coordinates for images "
    "without georeference).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@quiet_option
@click.option(
    "--min-score", type=Number(0, 1), default=None,
    help="Keep proposals scoring at least this (default: the operating point in the scorer's "
    "model file; the score is the predicted overlap with a real aircraft box; lower = more "
    "found, more false alarms).",
)  # fmt: skip
@click.option(
    "--pixel-size-m", type=pixel_size(), default=None,
    help="Pixel size for images without GSD (default 0.5, recorded as assumed).",
)  # fmt: skip
def propose(
    tile: str,
    output: str,
    as_json: bool,
    quiet: bool,
    min_score: float | None,
    pixel_size_m: float | None,
) -> None:
    """Propose aircraft in TILE: rotated boxes with a score, length and span, and likely types.

    Exits 2 with a one-line reason on bad input; the output is written only on success.
    """
    from imagery_tool.aircraft.output import proposals_collection, write_proposals
    from imagery_tool.aircraft.propose import proposal_gsd, propose_aircraft
    from imagery_tool.aircraft.scorer import load_model
    from imagery_tool.atomic import check_output
    from imagery_tool.cli.progress import progress_bar
    from imagery_tool.errors import NotGeoreferencedError
    from imagery_tool.tile import open_tile

    out = Path(output)
    if out.suffix.lower() not in _VECTOR:
        raise click.BadParameter(
            f"{output}: use a .geojson or .json file name", param_hint="-o/--output"
        )
    check_output(out, inputs=[tile], option="-o/--output")
    source = open_tile(tile)
    geojson = out.suffix.lower() == ".geojson"
    if geojson and not source.georef.has_lonlat:
        raise NotGeoreferencedError(
            f"{source.path} has no usable georeference, so lon/lat GeoJSON cannot be written; "
            f"use -o {out.with_suffix('.json').name} for pixel coordinates"
        )
    gsd, assumed = proposal_gsd(source, pixel_size_m)
    if assumed and not as_json:  # stated wherever it is used; --json records it instead
        given = "given by --pixel-size-m" if pixel_size_m else "assumed; set --pixel-size-m"
        click.echo(f"{source.path.name}: no pixel size in the file; {gsd:g} m per pixel ({given})")
    score = load_model().min_score if min_score is None else min_score
    with progress_bar("blocks", quiet=quiet) as progress:
        proposals = propose_aircraft(source, pixel_size_m=gsd, min_score=score, progress=progress)
    collection = proposals_collection(
        proposals, source, pixel_size_m=gsd, pixel_size_assumed=assumed,
        lonlat=geojson,
        parameters={"min_score": score},
    )  # fmt: skip
    write_proposals(out, collection)
    summary = {
        "tile": str(source.path),
        "output": str(out),
        "proposals": len(proposals),
        "pixel_size_m": gsd,
        "pixel_size_assumed": assumed,
        "min_score": score,
        "aircraft": [
            {"label": p.label(), "score": round(p.score, 3), "bbox_px": collection["features"][i][
                "properties"]["bbox_px"], "length_m": round(p.length_m, 1),
             "width_m": round(p.width_m, 1)}
            for i, p in enumerate(proposals)
        ],
    }  # fmt: skip
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{len(proposals)} aircraft proposal(s), score >= {score:g}")
    for p in proposals[:20]:
        x0, y0, x1, y1 = p.bbox_px
        click.echo(
            f"  {p.score:.2f}  {p.length_m:5.1f} x {p.width_m:5.1f} m  {p.label():<20} "
            f"at ({(x0 + x1) / 2:.0f}, {(y0 + y1) / 2:.0f}) px"
        )
    if len(proposals) > 20:
        click.echo(f"  ... and {len(proposals) - 20} more")
    click.echo(f"wrote {out}")
