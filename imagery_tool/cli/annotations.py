"""``imagery-tool annotations``: convert, list, check, import and export boxes; undo and redo."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from imagery_tool.annotations.formats import FORMATS
from imagery_tool.atomic import check_not_input
from imagery_tool.cli.flags import with_flags
from imagery_tool.cli.types import pixel_size

STORE_SUFFIX = ".gpkg"


def _parse_map(ctx, param, values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for value in values:
        foreign, sep, ours = value.partition("=")
        if not sep or not foreign.strip() or not ours.strip():
            raise click.BadParameter(
                f"{value!r} is not FOREIGN=CLASS (e.g. Airplane='unknown fixed-wing')",
                param_hint="--map",
            )
        mapping[foreign.strip()] = ours.strip()
    return mapping


def _default_author() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


_format_choice = click.Choice(list(FORMATS))
_tile_option = click.option(
    "--tile",
    "tile_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tile (GeoTIFF...) the boxes are on: gives image size and georeference. Repeatable.",
)
_map_option = click.option(
    "--map",
    "class_map",
    multiple=True,
    callback=_parse_map,
    metavar="FOREIGN=CLASS",
    help="Map a foreign class name to a schema class, e.g. Airplane='unknown fixed-wing'.",
)
_schema_option = click.option(
    "--schema",
    "schema_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Label schema YAML/JSON (default: the shipped schema).",
)


@click.group()
def annotations() -> None:
    """Convert, list, check, import and export box annotations (stores are .gpkg files)."""


@annotations.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--from", "from_format", type=_format_choice, help="Input format (else guessed).")
@click.option("--to", "to_format", type=_format_choice, help="Output format (else from OUT).")
@_tile_option
@_map_option
@_schema_option
def convert(source, out, from_format, to_format, tile_paths, class_map, schema_path) -> None:
    """Convert SOURCE to OUT: a file/folder in any format, or a .gpkg store, either side.

    Prints one line per issue (unknown classes, boxes outside their tile) and one line naming
    what OUT's format cannot carry.
    """
    check_not_input(out, inputs=[source, *tile_paths], option="OUT")
    schema = _schema(schema_path)
    tiles = _tiles(tile_paths)
    with _reported():
        boxes, known = _read_any(source, from_format, tiles, class_map, schema)
        if out.suffix.lower() == STORE_SUFFIX:
            added, skipped = _import_into(
                out, boxes, known, author=_default_author(), schema=schema
            )
            click.echo(f"{out}: {added} box(es) added" + _skipped(skipped))
            return
        result = _write(boxes, out, to_format, known, schema)
    click.echo(f"{out}: {len(boxes)} box(es) written to {len(result.paths)} file(s)")


@annotations.command(name="import")
@click.argument("store", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--from", "from_format", type=_format_choice, help="Input format (else guessed).")
@_tile_option
@_map_option
@_schema_option
@click.option("--author", default=None, help="Who imports (default: the login name).")
@click.option("--project", default=None, help="Project name (checked against the store).")
def import_(store, source, from_format, tile_paths, class_map, schema_path, author, project):
    """Add the boxes of SOURCE to STORE (created when missing) in one undoable transaction."""
    schema = _schema(schema_path)
    tiles = _tiles(tile_paths)
    with _reported():
        boxes, known = _read_any(source, from_format, tiles, class_map, schema)
        added, skipped = _import_into(
            store, boxes, known, author=author or _default_author(), project=project,
            schema=schema,
        )  # fmt: skip
    click.echo(f"{store}: {added} box(es) imported from {source}" + _skipped(skipped))


@annotations.command()
@click.argument("store", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--to", "to_format", type=_format_choice, help="Output format (else from OUT).")
@click.option("--tile-name", default=None, help="Export only the boxes of this tile (its name).")
@click.option("--label", default=None, help="Export only boxes of this class.")
@_schema_option
def export(store, out, to_format, tile_name, label, schema_path) -> None:
    """Write the boxes of STORE to OUT in a file format."""
    from imagery_tool.annotations.store import open_store

    check_not_input(out, inputs=[store], option="OUT")
    schema = _schema(schema_path)
    with open_store(store, readonly=True) as s:
        boxes = s.annotations(tile=tile_name, label=label)
        known = {t.name: t for t in s.tiles()}
    with _reported():
        result = _write(boxes, out, to_format, known, schema)
    click.echo(f"{out}: {len(boxes)} box(es) written to {len(result.paths)} file(s)")


@annotations.command(name="list")
@click.argument("store", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--tile-name", default=None, help="Only boxes of this tile (its file name).")
@click.option("--label", default=None, help="Only boxes of this class.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of boxes.")
def list_(store, tile_name, label, as_json) -> None:
    """List the boxes of STORE: id, tile, class, heading, size, review, attributes."""
    from imagery_tool.annotations.sizecheck import box_size_m
    from imagery_tool.annotations.store import open_store

    with open_store(store, readonly=True) as s:
        boxes = s.annotations(tile=tile_name, label=label)
        tiles = {t.name: t for t in s.tiles()}
        project = s.project
    if as_json:
        click.echo(json.dumps([b.to_dict() for b in boxes], indent=1))
        return
    click.echo(f"{store}: project {project!r}, {len(boxes)} box(es) on {len(tiles)} tile(s)")
    for b in boxes:
        tile = tiles.get(b.tile)
        if tile is not None and tile.crs_wkt:
            length, width = box_size_m(b, tile.georef)
            size = f"{length:5.1f} x {width:5.1f} m"
        else:
            size = f"{b.length_px:5.1f} x {b.width_px:5.1f} px"
        attrs = " ".join(f"{k}={json.dumps(v)}" for k, v in b.attributes.items())
        review = b.review + (f" by {b.reviewer}" if b.reviewer else "")
        click.echo(
            f"  {b.id[:8]}  {b.tile or '-'}  {b.label:<18} {b.angle_deg:6.1f} deg  {size}  "
            f"{review:<18} {b.author or '-':<8} {attrs}".rstrip()
        )


@annotations.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--from", "from_format", type=_format_choice, help="Input format (else guessed).")
@_tile_option
@click.option(
    "--gsd", type=pixel_size(), default=None,
    help="Ground sample distance, m/pixel.",
)  # fmt: skip
@_map_option
@_schema_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of reports.")
@click.option(
    "--repair",
    is_flag=True,
    help="For a damaged store: salvage what can be read into a fresh store in its place; the "
    "damaged file is kept beside it as NAME.damaged-TIMESTAMP.gpkg.",
)
def check(source, from_format, tile_paths, gsd, class_map, schema_path, as_json, repair) -> None:
    """Size check: each box's length and width in metres, the types that fit, misfit warnings.

    Also warns about classes and attributes the label schema does not allow. SOURCE is a store
    or an annotation file. The ground sample distance comes from --gsd, the
    tile's georeference (store or --tile), or the file itself (DOTA's gsd: line). A store is
    first checked for damage (missing tables, unreadable pages or rows); --repair salvages it.
    """
    from imagery_tool.annotations.sizecheck import check_sizes

    if _store_damage(source, from_format, repair=repair):
        return

    schema = _schema(schema_path)
    tiles = _tiles(tile_paths)
    with _reported():
        boxes, known, gsds = _read_any(source, from_format, tiles, class_map, schema, with_gsd=True)
    per_tile: dict[Any, Any] = {**gsds, **{n: t.georef for n, t in known.items() if t.crs_wkt}}
    if gsd is not None:
        per_tile = {a.tile: gsd for a in boxes}
    reports, skipped = check_sizes(boxes, gsd=per_tile, schema=schema)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=1))
    else:
        for r in reports:
            best = ", ".join(f"{c.name} ({c.error:.2f})" for c in r.candidates)
            verdict = {True: "fits", False: "MISFIT", None: "-"}[r.label_fits]
            click.echo(
                f"{r.annotation_id[:8]}  {r.label:<18} {r.length_m:6.1f} m x {r.width_m:5.1f} m  "
                f"{verdict:<6}  best: {best}"
            )
    for r in reports:
        if r.warning:
            click.echo(f"imagery-tool: warning: {with_flags(r.warning)}", err=True)
    for a in boxes:  # the schema check rides along: unknown classes, misplaced attributes
        for issue in schema.check(a.label, a.attributes):
            message = with_flags(issue.message)
            click.echo(f"imagery-tool: warning: box {a.id[:8]}: {message}", err=True)
    for line in skipped:
        click.echo(f"imagery-tool: warning: {with_flags(line)}", err=True)


@annotations.command()
@click.argument("store", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--box", "annotation_id", default=None, help="Only edits of this box id.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of edits.")
def history(store, limit, annotation_id, as_json) -> None:
    """Show who changed what in STORE, newest first."""
    from imagery_tool.annotations.store import open_store

    with open_store(store, readonly=True) as s:
        if annotation_id is not None:
            matches = [a.id for a in s.annotations() if a.id.startswith(annotation_id)]
            annotation_id = matches[0] if len(matches) == 1 else annotation_id
        entries = s.history(annotation_id=annotation_id, limit=limit)
    if as_json:
        click.echo(json.dumps([e.__dict__ for e in entries], indent=1))
        return
    for e in entries:
        click.echo(e.describe())


@annotations.command()
@click.argument("store", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--author", default=None, help="Whose last edit (default: the login name).")
def undo(store, author) -> None:
    """Undo the author's last edit (or import) in STORE; refused if someone changed it since."""
    _undo_redo(store, author, "undo")


@annotations.command()
@click.argument("store", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--author", default=None, help="Whose undone edit (default: the login name).")
def redo(store, author) -> None:
    """Redo the author's last undone edit in STORE."""
    _undo_redo(store, author, "redo")


# -- helpers -------------------------------------------------------------------------------------


def _undo_redo(store: Path, author: str | None, action: str) -> None:
    from imagery_tool.annotations.store import open_store

    with open_store(store, author=author or _default_author(), create=False) as s:
        entries = getattr(s, action)()
    if not entries:
        click.echo(f"{store}: nothing to {action}")
        return
    click.echo(f"{store}: {action} of {len(entries)} edit(s):")
    for e in entries:
        click.echo(f"  {e.describe()}")


def _store_damage(source: Path, from_format: str | None, *, repair: bool) -> bool:
    """Report a store's damage (exit 2) or repair it; return True when the command is done."""
    from imagery_tool.annotations.store import StoreDamagedError
    from imagery_tool.annotations.store_health import check_store, repair_store

    if source.suffix.lower() != STORE_SUFFIX or from_format is not None:
        if repair:
            raise click.BadParameter(f"{source} is not a .gpkg store", param_hint="--repair")
        return False
    if repair:
        for line in repair_store(source).lines():
            click.echo(line)
        return True
    problems = check_store(source)
    for problem in problems:
        click.echo(f"{source}: damaged: {problem}")
    if problems:
        raise StoreDamagedError(source, f"{len(problems)} problem(s), listed above")
    return False


def _schema(path: Path | None):
    from imagery_tool.annotations.schema import default_schema, load_schema

    return default_schema() if path is None else load_schema(path)


def _tiles(paths: tuple[Path, ...]) -> dict:
    from imagery_tool.annotations.store import TileRecord
    from imagery_tool.tile import open_tile

    records = [TileRecord.from_tile(open_tile(p)) for p in paths]
    return {r.name: r for r in records}


def _read_any(source, from_format, tiles, class_map, schema, *, with_gsd: bool = False):
    """Read boxes from a store or a file; return boxes, known tiles (and GSDs)."""
    from imagery_tool.annotations.formats import read_annotations
    from imagery_tool.annotations.store import open_store

    if source.suffix.lower() == STORE_SUFFIX and from_format is None:
        with open_store(source, readonly=True) as s:
            boxes = s.annotations()
            known = {t.name: t for t in s.tiles()}
        known.update(tiles)
        return (boxes, known, {}) if with_gsd else (boxes, known)
    result = read_annotations(
        source, format=from_format, tiles=tiles, schema=schema, class_map=class_map
    )
    for issue in result.issues:
        click.echo(f"imagery-tool: warning: {with_flags(issue)}", err=True)
    known = {**result.tiles, **tiles}
    if with_gsd:
        return result.annotations, known, result.gsd
    return result.annotations, known


def _write(boxes, out: Path, to_format: str | None, tiles: dict, schema):
    from imagery_tool.annotations.formats import write_annotations

    result = write_annotations(boxes, out, format=to_format, tiles=tiles, schema=schema)
    for issue in result.issues:
        click.echo(f"imagery-tool: warning: {with_flags(issue)}", err=True)
    return result


def _import_into(store_path: Path, boxes, tiles: dict, *, author, schema, project=None):
    from imagery_tool.annotations.store import open_store
    from imagery_tool.cli.progress import progress_bar

    with open_store(store_path, project=project, author=author, schema=schema) as s:
        for record in tiles.values():
            existing = s.tile(record.name)
            if existing is None or (record.crs_wkt and existing != record):
                s.add_tile(record)
        new = [b for b in boxes if b.id not in s]
        if new:
            with progress_bar("boxes") as progress:
                s.add_many(new, progress=progress)
    return len(new), len(boxes) - len(new)


def _skipped(n: int) -> str:
    return f"; {n} already in the store (same id) skipped" if n else ""


@contextmanager
def _reported() -> Iterator[None]:
    """Print each of imagery-tool's warnings once, in one line, on standard error.

    Other warnings (numpy, GDAL...) are handed back to Python's warning machinery unchanged,
    but only after the recording block has ended: re-emitting them inside it would append to
    the very list being read, a loop that never ends.
    """
    from imagery_tool.errors import ImageryToolWarning

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ImageryToolWarning)
            yield
    finally:
        seen = set()
        for w in caught:
            if issubclass(w.category, ImageryToolWarning):
                text = str(w.message)
                if text not in seen:
                    seen.add(text)
                    click.echo(f"imagery-tool: warning: {with_flags(text)}", err=True)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
