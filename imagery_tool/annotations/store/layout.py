"""The store's GeoPackage layout: tables, the attribute columns a label schema gives, checks."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Mapping

from imagery_tool.annotations.model import utc_now
from imagery_tool.annotations.schema import LabelSchema

__all__ = [
    "ANNOTATION_COLUMNS",
    "FORMAT_VERSION",
    "HISTORY_COLUMNS",
    "LEGACY_ATTRIBUTE_COLUMNS",
    "READ_COLUMNS",
    "SQL_TYPES",
    "SRS_LONLAT",
    "TILE_COLUMNS",
    "attribute_columns",
    "create_layout",
    "integrity_problem",
    "quote",
    "stored_attribute_columns",
    "structure_problems",
]

# Version of the table layout; a store with a higher version is refused, never rewritten.
FORMAT_VERSION = 1
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10300  # GeoPackage 1.3
SRS_LONLAT = 4326

# The column type that mirrors each attribute type of the label schema.
SQL_TYPES = {"bool": "BOOLEAN", "enum": "TEXT", "text": "TEXT", "number": "REAL"}
# Stores made before the label schema named their attribute columns have these, and no
# ``attribute_columns`` entry in ``store_meta``.
LEGACY_ATTRIBUTE_COLUMNS = ("nose_open", "engines_covered", "confidence", "note")

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

_TABLES_SQL = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE annotations (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POLYGON,
  uuid TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  {attribute_columns}attributes TEXT NOT NULL DEFAULT '{{}}',
  corners_px TEXT NOT NULL,
  angle_deg REAL,
  length_m REAL,
  width_m REAL,
  review TEXT NOT NULL,
  reviewer TEXT,
  review_note TEXT,
  author TEXT,
  created DATETIME NOT NULL,
  modified DATETIME NOT NULL,
  tile TEXT,
  acquired TEXT,
  source TEXT NOT NULL,
  score REAL,
  revision INTEGER NOT NULL);
CREATE INDEX annotations_tile ON annotations(tile);
CREATE TABLE tiles (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name TEXT NOT NULL UNIQUE, path TEXT,
  acquired TEXT, height INTEGER NOT NULL, width INTEGER NOT NULL, transform TEXT NOT NULL,
  crs_wkt TEXT);
CREATE TABLE history (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, at DATETIME NOT NULL, who TEXT,
  action TEXT NOT NULL, annotation TEXT NOT NULL, before TEXT, after TEXT,
  batch TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'done',
  undone_at DATETIME, undone_by TEXT, undo_seq INTEGER);
CREATE INDEX history_annotation ON history(annotation);
CREATE INDEX history_state ON history(state, who);
CREATE TABLE store_meta (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, key TEXT NOT NULL UNIQUE, value TEXT);
"""

# The columns of ``annotations`` every store has, in the order they are written (``fid`` is
# SQLite's); the attribute columns follow.
ANNOTATION_COLUMNS = (
    "geom", "uuid", "label", "attributes", "corners_px", "angle_deg", "length_m", "width_m",
    "review", "reviewer", "review_note", "author", "created", "modified", "tile", "acquired",
    "source", "score", "revision",
)  # fmt: skip
READ_COLUMNS = (
    "uuid, label, attributes, corners_px, review, reviewer, review_note, author, created, "
    "modified, tile, acquired, source, score, revision"
)
TILE_COLUMNS = "name, height, width, transform, crs_wkt, path, acquired"
HISTORY_COLUMNS = (
    "id, at, who, action, annotation, before, after, batch, state, undone_at, undone_by, undo_seq"
)


def quote(name: str) -> str:
    """Return a column name as an SQL identifier, always double-quoted.

    A schema's attribute may be named like an SQL keyword (``order``, ``group``, ``check``):
    quoted, it is a column name like any other.

    Examples
    --------
    >>> quote("group")
    '"group"'
    """
    return '"' + name.replace('"', '""') + '"'


def attribute_columns(schema: LabelSchema) -> dict[str, str]:
    """Return the ``annotations`` columns that mirror a schema's attributes, name -> SQL type.

    Each attribute of the schema gets a column of its own, so that QGIS users can filter on it
    (``"nose_open" = 1``); the box's ``attributes`` JSON stays the full record. An attribute
    whose name is already a column of the table (``label``, ``source``...) is left in the JSON
    only.

    Parameters
    ----------
    schema : LabelSchema
        The project's label schema.

    Returns
    -------
    dict of str to str
        In schema order; ``{"nose_open": "BOOLEAN", ..., "note": "TEXT"}`` for the default.
    """
    taken = {c.lower() for c in ("fid", *ANNOTATION_COLUMNS)}
    out: dict[str, str] = {}
    for name, definition in schema.attributes.items():
        if name.lower() not in taken:
            taken.add(name.lower())
            out[name] = SQL_TYPES[definition.type]
    return out


def stored_attribute_columns(con: sqlite3.Connection) -> tuple[str, ...]:
    """Return the attribute columns an existing store's ``annotations`` table has.

    The names recorded in ``store_meta`` when the store was made; for a store made before they
    were recorded, those of `LEGACY_ATTRIBUTE_COLUMNS` its table has. Columns someone added
    afterwards (in QGIS, say) are never written by imagery-tool.
    """
    present = {r[1] for r in con.execute('PRAGMA table_info("annotations")')}
    row = con.execute("SELECT value FROM store_meta WHERE key = 'attribute_columns'").fetchone()
    try:
        names = LEGACY_ATTRIBUTE_COLUMNS if row is None else tuple(json.loads(row[0]))
    except (TypeError, ValueError):
        names = ()
    return tuple(n for n in names if isinstance(n, str) and n in present)


def create_layout(
    con: sqlite3.Connection, *, project: str, columns: Mapping[str, str], generator: str
) -> None:
    """Create the tables of an empty store, inside the caller's transaction.

    Parameters
    ----------
    con : sqlite3.Connection
        The new file, in a transaction.
    project : str
        The project name recorded in ``store_meta``.
    columns : mapping of str to str
        The attribute columns (`attribute_columns`).
    generator : str
        The program that made the store (``"imagery-tool 1.2.0"``).
    """
    con.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
    con.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
    for statement in _tables_sql(columns).split(";"):
        if statement.strip():
            con.execute(statement)
    con.executemany(
        "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined",
             "undefined cartesian coordinate reference system"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined",
             "undefined geographic coordinate reference system"),
            ("WGS 84 geodetic", SRS_LONLAT, "EPSG", SRS_LONLAT, _WGS84_WKT,
             "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
        ],
    )  # fmt: skip
    contents = [
        ("annotations", "features", "annotations", "Boxes (lon/lat polygons)", SRS_LONLAT),
        ("tiles", "attributes", "tiles", "Tiles: size, transform, CRS", None),
        ("history", "attributes", "history", "Edit history (who changed what)", None),
        ("store_meta", "attributes", "store_meta", "imagery-tool store metadata", None),
    ]
    con.executemany(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
        "srs_id) VALUES (?, ?, ?, ?, ?)",
        contents,
    )
    con.execute(
        "INSERT INTO gpkg_geometry_columns VALUES ('annotations', 'geom', 'POLYGON', ?, 0, 0)",
        (SRS_LONLAT,),
    )
    con.executemany(
        "INSERT INTO store_meta (key, value) VALUES (?, ?)",
        [
            ("format_version", str(FORMAT_VERSION)),
            ("project", project),
            ("created", utc_now()),
            ("generator", generator),
            ("attribute_columns", json.dumps(list(columns))),
        ],
    )


def structure_problems(con: sqlite3.Connection) -> list[str]:
    """List what a store's layout lacks: tables, columns, a usable ``format_version``.

    Parameters
    ----------
    con : sqlite3.Connection
        A connection to a file that has a ``store_meta`` table.

    Returns
    -------
    list of str
        One phrase per problem (``"table history is missing"``); empty for a sound layout.
    """
    problems = []
    for table, columns in _expected_columns().items():
        present = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        if not present:
            problems.append(f"table {table} is missing")
            continue
        lacking = [c for c in columns if c not in present]
        if lacking:
            problems.append(f"table {table} lacks column(s) {', '.join(lacking)}")
    if not any(p.startswith("table store_meta") for p in problems):
        rows = con.execute("SELECT value FROM store_meta WHERE key = 'format_version'").fetchall()
        if not rows or rows[0][0] is None:
            problems.append("its format_version (in store_meta) is missing")
        else:
            try:
                int(rows[0][0])
            except (TypeError, ValueError):
                problems.append(f"its format_version (in store_meta) {rows[0][0]!r} is no number")
    return problems


def integrity_problem(con: sqlite3.Connection, *, quick: bool = False) -> str | None:
    """Run SQLite's integrity check (or its faster quick check) and summarise it in one line.

    Parameters
    ----------
    con : sqlite3.Connection
        The store.
    quick : bool
        ``PRAGMA quick_check`` (pages and records, not indexes against tables): linear in the
        file size, fast enough to run before every write session.

    Returns
    -------
    str or None
        ``None`` when SQLite finds nothing wrong, else the first few findings in one line.
    """
    pragma = "quick_check" if quick else "integrity_check"
    try:
        report = [str(r[0]) for r in con.execute(f"PRAGMA {pragma}(10)")]
    except sqlite3.DatabaseError as exc:
        report = [str(exc)]
    if report == ["ok"]:
        return None
    lines = [line.strip() for text in report for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("***")]
    return f"SQLite's {pragma.replace('_', ' ')}: {'; '.join(lines[:3])}"


def _tables_sql(columns: Mapping[str, str]) -> str:
    """Return the layout's DDL with the given attribute columns in ``annotations``."""
    declared = "".join(f"{quote(name)} {kind},\n  " for name, kind in columns.items())
    return _TABLES_SQL.format(attribute_columns=declared)


@functools.cache
def _expected_columns() -> dict[str, tuple[str, ...]]:
    """Each table of the layout with the columns every store has, from the DDL itself."""
    con = sqlite3.connect(":memory:")
    try:
        for statement in _tables_sql({}).split(";"):
            if statement.strip():
                con.execute(statement)
        names = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name <> 'sqlite_sequence'"
            )
        ]
        return {n: tuple(r[1] for r in con.execute(f'PRAGMA table_info("{n}")')) for n in names}
    finally:
        con.close()
