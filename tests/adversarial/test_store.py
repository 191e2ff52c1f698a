"""The annotation store under hostile conditions: damage, read-only files and folders, full disks.

Each case ends in one line naming the store and what to do (exit 2), and the store stays as it
was: a damaged store is never written to by a command that merely reads it, a refused write
changes nothing, and ``annotations check --repair`` salvages into a fresh store while keeping
the damaged file as a backup.
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.store import TileRecord, open_store, sqlite_uri
from imagery_tool.cli import main
from imagery_tool.errors import StoreError
from tests.cli.helpers import assert_one_line_error
from tests.core.annotations.conftest import TILE_NAME, an124_boxes, make_georef

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and rlimits")

DAMAGED = "is damaged"
REPAIR_HINT = "check --repair"


# -- helpers -------------------------------------------------------------------------------------


def _make_store(path: Path, boxes: list[BoxAnnotation] | None = None) -> Path:
    with open_store(path, project="hmeimim", author="ann") as s:
        s.add_tile(TileRecord.from_georef(TILE_NAME, make_georef()))
        s.add_many(an124_boxes() if boxes is None else boxes)
    return path


def _many_boxes(n: int) -> list[BoxAnnotation]:
    rng = np.random.default_rng(16)
    return [
        BoxAnnotation.from_center(
            *rng.uniform(50, 350, 2),
            40.0,
            30.0,
            float(rng.uniform(0, 360)),
            label="Su-24",
            tile=TILE_NAME,
            attributes={"note": "x" * 200},
        )  # fmt: skip
        for _ in range(n)
    ]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return _make_store(tmp_path / "project.gpkg")


@pytest.fixture
def geojson(tmp_path: Path) -> Path:
    """A GeoJSON file of two new boxes to import."""
    from imagery_tool.annotations.formats import write_annotations

    out = tmp_path / "new.geojson"
    boxes = [b.replace(id=str(uuid.uuid4())) for b in an124_boxes()[:2]]
    tiles = {TILE_NAME: TileRecord.from_georef(TILE_NAME, make_georef())}
    write_annotations(boxes, out, format="geojson", tiles=tiles)
    return out


class Result:
    """What ``main`` did: the shape of a `subprocess.CompletedProcess` for the shared asserts."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run(capsys, *args) -> Result:
    """Run ``imagery-tool annotations ARGS`` in this process (fast) and capture its output."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["annotations", *map(str, args)])
    out, err = capsys.readouterr()
    return Result(exit_.value.code, out, err)


def run_subprocess(*args, preexec_fn=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.run(
        [sys.executable, "-m", "imagery_tool", "annotations", *map(str, args)],
        capture_output=True, text=True, timeout=120, preexec_fn=preexec_fn, env=env,
        cwd="/",
    )  # fmt: skip


def _tamper(path: Path, sql: str) -> None:
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.close()


def snapshot(path: Path) -> dict[str, list]:
    """Every row of every table, read without touching the file (to compare before/after)."""
    con = sqlite3.connect(sqlite_uri(path, readonly=True), uri=True)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(map(repr, con.execute(f'SELECT * FROM "{n}"'))) for n in names}
    finally:
        con.close()


def _leaf_page_of(path: Path, table: str) -> int:
    """The number of a leaf page of ``table`` that is not its root (the table spans pages)."""
    con = sqlite3.connect(path)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (table,)).fetchone()[0]
    con.close()
    data = path.read_bytes()[(root - 1) * page_size : root * page_size]
    header = 100 if root == 1 else 0
    assert data[header] == 0x05, "the table must span several pages (interior root)"
    first_cell = int.from_bytes(data[header + 12 : header + 14], "big")
    return int.from_bytes(data[first_cell : first_cell + 4], "big")


# -- 1. damaged stores ---------------------------------------------------------------------------

DAMAGE = {
    "null format_version": (
        "UPDATE store_meta SET value = NULL WHERE key = 'format_version'",
        "format_version",
    ),
    "history dropped": ("DROP TABLE history", "table history is missing"),
    "annotations dropped": ("DROP TABLE annotations", "table annotations is missing"),
    "tiles dropped": ("DROP TABLE tiles", "table tiles is missing"),
    "attribute JSON": (
        "UPDATE annotations SET attributes = '{\"nose_open\": tru' WHERE fid = 2",
        "attributes",
    ),
    "3-point corners": (
        "UPDATE annotations SET corners_px = '[[0, 0], [10, 0], [10, 10]]' WHERE fid = 3",
        "4 corners",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_store_is_named_with_the_damage_and_the_way_out(capsys, tmp_path, store_path, case):
    sql, what = DAMAGE[case]
    _tamper(store_path, sql)
    before = snapshot(store_path)
    for args in (
        ["list", store_path],
        ["export", store_path, tmp_path / "out.geojson"],
        ["history", store_path],
    ):
        result = run(capsys, *args)
        if result.returncode == 0:  # only a command that never reads the damaged part may work
            assert args[0] == "history" and case in ("attribute JSON", "3-point corners",
                                                              "tiles dropped"), args  # fmt: skip
            continue
        assert_one_line_error(result, f"the store {store_path} {DAMAGED}", what, REPAIR_HINT)
    assert not (tmp_path / "out.geojson").exists()
    result = run(capsys, "check", store_path)
    assert_one_line_error(result, f"the store {store_path} {DAMAGED}", REPAIR_HINT)
    assert what in result.stdout  # the report names the damage precisely
    assert snapshot(store_path) == before  # reading never wrote to it


def test_import_into_a_damaged_store_changes_nothing(capsys, store_path, geojson):
    _tamper(store_path, "DROP TABLE history")
    before = snapshot(store_path)
    result = run(capsys, "import", store_path, geojson)
    assert_one_line_error(result, f"the store {store_path} {DAMAGED}", "history", REPAIR_HINT)
    assert snapshot(store_path) == before


def _garble(path: Path, page: int, page_size: int = 4096) -> None:
    with open(path, "r+b") as f:
        f.seek((page - 1) * page_size)
        f.write(np.random.default_rng(4).integers(0, 256, page_size, dtype=np.uint8).tobytes())


def test_garbage_inside_the_file_is_reported_as_damage(capsys, tmp_path, geojson):
    path = _make_store(tmp_path / "project.gpkg", _many_boxes(60))
    _garble(path, _leaf_page_of(path, "annotations"))
    for args in (
        ["list", path],
        ["export", path, tmp_path / "o.geojson"],
        ["import", path, geojson],
    ):
        result = run(capsys, *args)
        assert_one_line_error(result, f"the store {path} {DAMAGED}", "malformed", REPAIR_HINT)
    result = run(capsys, "check", path)
    assert_one_line_error(result, f"the store {path} {DAMAGED}", REPAIR_HINT)
    assert "malformed" in result.stdout or "integrity" in result.stdout


def test_repair_salvages_what_can_be_read_and_keeps_the_damaged_file(capsys, tmp_path):
    path = _make_store(tmp_path / "project.gpkg", _many_boxes(60))
    with open_store(path) as s:
        ids = [a.id for a in s.annotations()]
    _garble(path, _leaf_page_of(path, "annotations"))
    damaged = path.read_bytes()
    result = run(capsys, "check", "--repair", path)
    assert result.returncode == 0, result.stderr
    backups = sorted(tmp_path.glob("project.damaged-*.gpkg"))
    assert len(backups) == 1 and backups[0].read_bytes() == damaged  # kept, byte for byte
    assert str(backups[0]) in result.stdout
    with open_store(path, readonly=True) as s:  # the fresh store opens and reads cleanly
        kept = [a.id for a in s.annotations()]
        assert s.project == "hmeimim" and [t.name for t in s.tiles()] == [TILE_NAME]
        assert len(s.history()) >= 1
    # the boxes of the garbled page are rebuilt from their edit history: none is lost
    assert sorted(kept) == sorted(ids)
    assert "rebuilt from its edit history" in result.stdout
    assert f"{len(ids)} box(es)" in result.stdout
    assert run(capsys, "check", path).returncode == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize("case", ["attribute JSON", "3-point corners", "annotations dropped",
                                  "history dropped", "null format_version"])  # fmt: skip
def test_repair_of_damaged_rows_and_tables(capsys, store_path, case):
    sql, what = DAMAGE[case]
    with open_store(store_path) as s:
        before = {b.id: b for b in s.annotations()}
    _tamper(store_path, sql)
    result = run(capsys, "check", "--repair", store_path)
    assert result.returncode == 0, result.stderr
    assert what in result.stdout
    with open_store(store_path, author="ann") as s:
        # every box is back, the damaged ones as their history knew them
        assert {b.id: b for b in s.annotations()} == before
        s.add(an124_boxes()[0])  # the repaired store takes edits again
        assert s.can_undo()
    assert len(list(store_path.parent.glob("project.damaged-*.gpkg"))) == 1
    assert run(capsys, "check", store_path).returncode == 0


def test_repair_of_a_healthy_store_changes_nothing(capsys, store_path):
    before = store_path.read_bytes()
    result = run(capsys, "check", "--repair", store_path)
    assert result.returncode == 0, result.stderr
    assert "nothing to repair" in result.stdout
    assert store_path.read_bytes() == before
    assert [p.name for p in store_path.parent.iterdir() if p.suffix == ".gpkg"] == ["project.gpkg"]


# -- 2. read-only stores -------------------------------------------------------------------------


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


_BATCH = """
import contextlib, io, json, sys
from imagery_tool.cli import main
results = []
for args in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["annotations", *args])
        except SystemExit as exc:
            code = exc.code
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def run_read_only(read_only: list[Path], *commands: list) -> list[Result]:
    """Run ``imagery-tool annotations`` commands in one child with ``read_only`` unwritable.

    Root ignores permissions, so for root each path is bind-mounted read-only in a private
    mount namespace of the child (nothing outside it changes); another user gets the
    permissions (a file 0444, a folder 0555), which it cannot bypass.
    """
    batch = json.dumps([[str(a) for a in args] for args in commands])
    command = [sys.executable, "-c", _BATCH, batch]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    if os.geteuid() == 0:
        if not _unshare_works():
            pytest.skip("root, and no private mount namespace to make a path read-only")
        mounts = " && ".join(
            f"mount --bind {shlex.quote(str(p))} {shlex.quote(str(p))} && "
            f"mount -o remount,ro,bind {shlex.quote(str(p))}"
            for p in read_only
        )
        command = ["unshare", "-m", "sh", "-c", f'{mounts} && exec "$@"', "sh", *command]
    else:
        for p in read_only:
            p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    finally:
        if os.geteuid() != 0:
            for p in read_only:
                p.chmod(0o755 if p.is_dir() else 0o644)
    assert done.returncode == 0, done.stderr
    return [Result(*r) for r in json.loads(done.stdout)]


@pytest.mark.parametrize("case", ["file", "folder"])
def test_read_only_stores_can_be_read_and_refuse_writes(tmp_path, geojson, case) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    path = _make_store(folder / "project.gpkg")
    before_files = sorted(p.name for p in folder.iterdir())
    before = snapshot(path)
    out = tmp_path / "out.geojson"
    listed, checked, exported, imported, undone, repaired = run_read_only(
        [path if case == "file" else folder],
        ["list", path],
        ["check", path],
        ["export", path, out],
        ["import", path, geojson, "--author", "eve"],
        ["undo", path, "--author", "ann"],
        ["check", "--repair", path],
    )
    assert listed.returncode == 0 and "4 box(es)" in listed.stdout, listed.stderr
    assert checked.returncode == 0, checked.stderr
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads(out.read_text())["features"]) == 4
    assert_one_line_error(imported, f"{path} is read-only")
    assert_one_line_error(undone, f"{path} is read-only")
    assert repaired.returncode == 0 and "nothing to repair" in repaired.stdout  # sound store
    assert snapshot(path) == before
    # no -wal/-shm left beside the store (another user's store would be blocked by ours)
    assert sorted(p.name for p in folder.iterdir()) == before_files


def test_damaged_read_only_store_is_reported_and_repair_refused(tmp_path) -> None:
    path = _make_store(tmp_path / "project.gpkg")
    _tamper(path, "DROP TABLE history")
    (result,) = run_read_only([path], ["check", "--repair", path])
    assert_one_line_error(result, f"{path} is read-only")
    assert "history" not in snapshot(path)


def test_new_store_in_a_read_only_folder(tmp_path, geojson) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (result,) = run_read_only([folder], ["import", folder / "p.gpkg", geojson])
    assert_one_line_error(result, f"{folder / 'p.gpkg'}", "read-only")
    assert list(folder.iterdir()) == []


# -- 3. disk full during an import ---------------------------------------------------------------


def test_file_size_limit_during_import_leaves_the_store_as_it_was(tmp_path, store_path):
    from imagery_tool.annotations.formats import write_annotations

    source = tmp_path / "many.geojson"
    tiles = {TILE_NAME: TileRecord.from_georef(TILE_NAME, make_georef())}
    write_annotations(_many_boxes(150), source, format="geojson", tiles=tiles)
    before = snapshot(store_path)
    limit = store_path.stat().st_size + 32 * 1024

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = run_subprocess("import", store_path, source, preexec_fn=apply)
    assert_one_line_error(result, str(store_path), "no space left", "file too large")
    assert "rollback" not in result.stderr
    assert snapshot(store_path) == before  # no partial import
    with open_store(store_path) as s:  # and it opens for writing again
        assert len(s) == 4


# -- 4. other raw errors -------------------------------------------------------------------------


def test_store_locked_by_another_writer(store_path):
    from imagery_tool.errors import StoreLockedError

    other = sqlite3.connect(store_path, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO store_meta (key, value) VALUES ('x', 'y')")
    try:
        for readonly in (True, False):
            refused = pytest.raises(StoreLockedError, match="locked by another process for 0.2 s")
            with (
                refused as caught,
                open_store(store_path, readonly=readonly, lock_timeout=0.2) as s,
            ):
                s.add(an124_boxes()[0])
            assert isinstance(caught.value, StoreError)
            assert str(store_path) in str(caught.value) and "\n" not in str(caught.value)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_store_path_is_a_directory(capsys, tmp_path, geojson):
    folder = tmp_path / "dir.gpkg"
    folder.mkdir()
    result = run(capsys, "convert", geojson, folder)
    assert_one_line_error(result, str(folder), "folder")


def test_zero_byte_and_foreign_files(capsys, tmp_path, geojson):
    empty = tmp_path / "empty.gpkg"
    empty.touch()
    assert_one_line_error(run(capsys, "list", empty), str(empty), "not an imagery-tool store")
    text = tmp_path / "text.gpkg"
    text.write_text("just some text, not SQLite\n" * 10)
    for args in (["list", text], ["import", text, geojson], ["check", text]):
        assert_one_line_error(run(capsys, *args), str(text), "not an imagery-tool store")
    assert text.read_text() == "just some text, not SQLite\n" * 10
    other = tmp_path / "other.gpkg"
    con = sqlite3.connect(other)
    con.executescript("CREATE TABLE gpkg_contents (table_name TEXT); CREATE TABLE roads (id INT);")
    con.close()
    before = other.read_bytes()
    for args in (["list", other], ["import", other, geojson], ["check", other]):
        assert_one_line_error(run(capsys, *args), str(other), "not an imagery-tool store")
    assert other.read_bytes() == before


def test_unreadable_store_file(tmp_path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = _make_store(tmp_path / "private.gpkg")
    path.chmod(0o000)
    try:
        result = run_subprocess("list", path)
    finally:
        path.chmod(0o644)
    assert_one_line_error(result, str(path), "ermission")


def test_repair_refuses_while_another_program_has_the_store_open(capsys, store_path):
    _tamper(store_path, "UPDATE annotations SET corners_px = '[[0, 0]]' WHERE fid = 1")
    holder = sqlite3.connect(store_path, isolation_level=None)  # another program, still open
    holder.execute("INSERT INTO store_meta (key, value) VALUES ('note', 'kept')")  # in its -wal
    other = open_store(store_path, readonly=True)  # and a viewer reading through that -wal
    try:
        result = run(capsys, "check", "--repair", store_path)
        assert_one_line_error(result, str(store_path), "another program has the store open")
        assert not list(store_path.parent.glob("project.damaged-*"))
    finally:
        holder.close()
        other.close()
    result = run(capsys, "check", "--repair", store_path)  # alone now: repaired, nothing lost
    assert result.returncode == 0, result.stderr
    (backup,) = store_path.parent.glob("project.damaged-*.gpkg")
    assert snapshot(backup)["store_meta"] and "'kept'" in " ".join(snapshot(backup)["store_meta"])


def test_repair_after_a_crash_keeps_the_commits_still_in_the_write_ahead_log(capsys, tmp_path):
    source = _make_store(tmp_path / "project.gpkg")
    holder = sqlite3.connect(source, isolation_level=None)
    holder.execute("UPDATE annotations SET corners_px = '[[0, 0]]' WHERE fid = 1")
    holder.execute("INSERT INTO store_meta (key, value) VALUES ('note', 'kept')")
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for name in ("project.gpkg", "project.gpkg-wal"):  # the files as a killed writer left them
        shutil.copy(tmp_path / name, crashed / name)
    holder.close()
    path = crashed / "project.gpkg"
    result = run(capsys, "check", "--repair", path)
    assert result.returncode == 0, result.stderr
    assert "rebuilt from its edit history" in result.stdout
    (backup,) = crashed.glob("project.damaged-*.gpkg")
    assert "'kept'" in " ".join(snapshot(backup)["store_meta"])  # folded in before the backup
    assert sorted(p.name for p in crashed.iterdir()) == sorted(["project.gpkg", backup.name])
    with open_store(path, readonly=True) as s:
        assert len(s) == 4
