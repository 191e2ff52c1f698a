"""``imagery-tool detect``: changed objects between two dates -> GeoJSON, mask, quick look."""

from __future__ import annotations

import json
from pathlib import Path

import click

from imagery_tool.change.methods import METHODS
from imagery_tool.change.options import DetectionOptions
from imagery_tool.cli.options import detection_options, quiet_option

_VECTOR = (".geojson", ".json")


def _dates_kind(dissimilarity: float) -> str:
    """How the two dates differ, in words (see `imagery_tool.change.level.change_level`)."""
    from imagery_tool.change.level import dissimilarity_weight

    w = dissimilarity_weight(dissimilarity)
    if w == 0.0:
        return "differ by sensor noise"
    if w == 1.0:
        return "differ by more than noise (season, sun, sensor)"
    return "between the two"


_MASK = (".tif", ".tiff", ".png")


def _suffix_check(value: str | None, allowed: tuple[str, ...], hint: str) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() not in allowed:
        raise click.BadParameter(
            f"{value}: use a {' or '.join(allowed)} file name", param_hint=hint
        )
    return path


@click.command()
@click.argument("before", type=click.Path(path_type=str))
@click.argument("after", type=click.Path(path_type=str))
@click.option(
    "-o", "--output", required=True, help="Regions: .geojson (lon/lat) or .json (pixel mode)."
)
@click.option("--mask", "mask_path", help="Binary change mask on BEFORE's grid: .tif or .png.")
@click.option("--png", "png_path", help="Quick look PNG: both dates side by side with boxes.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@quiet_option
@detection_options
def detect(
    before: str,
    after: str,
    output: str,
    mask_path: str | None,
    png_path: str | None,
    as_json: bool,
    quiet: bool,
    options: DetectionOptions,
) -> None:
    """Find objects that appeared, disappeared or changed between BEFORE and AFTER.

    AFTER is resampled onto BEFORE's grid by georeference, its residual misregistration is
    measured from content, its radiometry normalised, and changed objects are written with
    their kind, score, size and box. Exits 2 with a one-line reason on bad input; no partial
    output is left: the files of a run replace earlier ones together, and only on success.
    """
    from imagery_tool.atomic import check_output
    from imagery_tool.change import detect_changes
    from imagery_tool.change.result import check_lonlat_output
    from imagery_tool.cli.progress import progress_bar
    from imagery_tool.registration import coregister
    from imagery_tool.tile import open_tile

    out = _suffix_check(output, _VECTOR, "-o/--output")
    mask_out = _suffix_check(mask_path, _MASK, "--mask")
    png_out = _suffix_check(png_path, (".png",), "--png")
    outputs = {"-o/--output": out, "--mask": mask_out, "--png": png_out}
    checked: list[Path] = []
    for option, path in outputs.items():  # before the long work: a typo costs nothing
        if path is not None:
            check_output(path, inputs=[before, after, *checked], option=option)
            checked.append(path)
    tile_b = open_tile(before)
    tile_a = open_tile(after)
    if out.suffix.lower() == ".geojson":
        check_lonlat_output(tile_b, out)  # before the work, not after it

    method = options.method
    registration = coregister(
        tile_b, tile_a, model=options.registration_model, measure=METHODS[method].register
    )
    with progress_bar("blocks", quiet=quiet) as progress:
        result = detect_changes(
            tile_b, tile_a, options, registration=registration, progress=progress
        )
    written = result.write_outputs(out, mask=mask_out, quicklook=png_out)
    summary = result.summary()
    summary["outputs"] = [str(p) for p in written]
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    counts = result.counts()
    reg = result.registration
    rmse = "n/a" if reg.rmse_px is None else f"{reg.rmse_px:.3f} px"
    click.echo(
        f"{len(result.regions)} change(s): {counts['appeared']} appeared, "
        f"{counts['disappeared']} disappeared, {counts['changed']} changed"
    )
    resampled = ", resampled by georeference" if reg.resampled else ""
    if reg.status == "applied":
        click.echo(
            f"registration: dx {reg.dx:+.2f} px, dy {reg.dy:+.2f} px, rotation "
            f"{reg.rotation_deg:+.3f} deg, {reg.windows_used}/{reg.windows_measured} windows, "
            f"RMSE {rmse}, confidence {reg.confidence:.2f}{resampled}"
        )
    elif reg.status == "fallback":
        click.echo(
            f"registration: georeference only — {reg.reason}; confidence "
            f"{reg.confidence:.2f}{resampled}"
        )
    else:
        click.echo(f"registration: georeference only (not measured by --method {method})")
    params = result.parameters
    if method == "robust":
        kind = _dates_kind(params["dissimilarity"])
        click.echo(
            f"dates: {kind} (differences spread over {100 * params['dissimilarity']:.1f} % of "
            f"the range); change level {params['threshold_level']:g}, min score "
            f"{params['min_score']:.2f}"
        )
    for path in written:
        click.echo(f"wrote {path}")
