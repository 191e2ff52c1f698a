"""Outputs of ``detect`` and ``series``: never an input, all or none, checked before the work."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from imagery_tool.cli import main
from tests.conftest import HMEIMIM_UTM, UTM36N, write_raster

_TRANSFORM = Affine(0.5, 0, HMEIMIM_UTM[0], 0, -0.5, HMEIMIM_UTM[1])


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    """Two dated 3-band tiles, 160 px, with a 16 x 30 px object that appears on the second."""
    folder = tmp_path_factory.mktemp("pair")
    rng = np.random.default_rng(5)
    before = (rng.normal(100, 3, (3, 160, 160))).clip(0, 255).astype(np.uint8)
    after = before.copy()
    after[:, 60:76, 50:80] = 220
    paths = []
    for name, pixels in (("site_2024-12-06.tif", before), ("site_2024-12-13.tif", after)):
        paths.append(
            write_raster(folder / name, pixels, transform=_TRANSFORM, crs=UTM36N, photometric="RGB")
        )
    return paths[0], paths[1]


def run(argv: list, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def one_line(err: str, *fragments: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- 1. an output is never one of the inputs -----------------------------------------------------


@pytest.mark.parametrize("how", ["same path", "symbolic link", "hard link"])
def test_detect_refuses_a_mask_that_is_the_after_tile(tmp_path, pair, capsys, how) -> None:
    before, after = pair
    links = {"symbolic link": tmp_path / "m.tif", "hard link": tmp_path / "h.tif"}
    mask = links.get(how, after)
    if how == "symbolic link":
        mask.symlink_to(after)
    elif how == "hard link":
        os.link(after, mask)
    kept = after.read_bytes()
    code, _, err = run(["detect", before, after, "-o", tmp_path / "c.json", "--mask", mask], capsys)
    assert code == 2
    one_line(err, "--mask", str(mask), "is the input", "choose another output name")
    assert after.read_bytes() == kept
    assert "c.json" not in listing(tmp_path)


def test_detect_refuses_the_same_file_for_two_outputs(tmp_path, pair, capsys) -> None:
    before, after = pair
    png = tmp_path / "q.png"
    code, _, err = run(
        ["detect", before, after, "-o", tmp_path / "c.json", "--mask", png, "--png", png], capsys
    )
    assert code == 2
    one_line(err, "--png", str(png))
    assert listing(tmp_path) == []


# -- 2. the outputs of one run are committed together, or not at all ----------------------------


def _previous_outputs(folder: Path) -> dict[Path, bytes]:
    files = {folder / "changes.geojson": b"previous regions\n", folder / "m.tif": b"previous mask"}
    for path, data in files.items():
        path.write_bytes(data)
    return files


def test_a_mask_that_is_a_folder_is_refused_before_the_work_and_keeps_old_outputs(
    tmp_path, pair, capsys, monkeypatch
) -> None:
    before, after = pair
    old = _previous_outputs(tmp_path)
    (tmp_path / "masks.tif").mkdir()

    def no_work(*args, **kwargs):
        raise AssertionError("detection ran although an output cannot be written")

    monkeypatch.setattr("imagery_tool.change.detect_changes", no_work)
    code, _, err = run(
        ["detect", before, after, "-o", tmp_path / "changes.geojson", "--mask",
         tmp_path / "masks.tif"], capsys)  # fmt: skip
    assert code == 2
    one_line(err, "--mask", "masks.tif", "is a folder")
    assert {p: p.read_bytes() for p in old} == old
    assert listing(tmp_path) == ["changes.geojson", "m.tif", "masks.tif"]


@pytest.mark.parametrize(
    ("output", "fragment"),
    [("out.geojson/", "is a folder"), ("missing/c.geojson", "does not exist")],
)
def test_detect_output_folder_problems_are_one_line(
    tmp_path, pair, capsys, output, fragment
) -> None:
    before, after = pair
    (tmp_path / "out.geojson").mkdir()
    code, _, err = run(["detect", before, after, "-o", tmp_path / output], capsys)
    assert code == 2
    one_line(err, "-o/--output", fragment)
    assert listing(tmp_path) == ["out.geojson"]
    assert listing(tmp_path / "out.geojson") == []


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError])
def test_a_run_that_fails_while_writing_keeps_every_previous_output(
    tmp_path, pair, capsys, monkeypatch, failure
) -> None:
    # the quick look is written last: the regions and the mask are complete by then
    before, after = pair
    old = _previous_outputs(tmp_path)

    def broken(*args, **kwargs):
        raise failure("stopped while drawing the quick look")

    monkeypatch.setattr("imagery_tool.change.quicklook.render_quicklook", broken)
    code, _, err = run(
        ["detect", before, after, "-o", tmp_path / "changes.geojson", "--mask",
         tmp_path / "m.tif", "--png", tmp_path / "q.png"], capsys)  # fmt: skip
    assert code == (130 if failure is KeyboardInterrupt else 1)
    assert err.strip().splitlines()[-1].startswith("imagery-tool: ")
    assert {p: p.read_bytes() for p in old} == old
    assert listing(tmp_path) == ["changes.geojson", "m.tif"]


def test_a_successful_run_replaces_all_outputs(tmp_path, pair, capsys) -> None:
    before, after = pair
    old = _previous_outputs(tmp_path)
    code, out, err = run(
        ["detect", before, after, "-o", tmp_path / "changes.geojson", "--mask",
         tmp_path / "m.tif", "--png", tmp_path / "q.png"], capsys)  # fmt: skip
    assert code == 0, err
    assert err == ""  # no progress bar when standard error is not a terminal
    assert all(p.read_bytes() != data for p, data in old.items())
    assert listing(tmp_path) == ["changes.geojson", "m.tif", "q.png"]
    assert "1 change(s): 1 appeared" in out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX rlimits")
def test_detect_under_a_file_size_limit_is_one_line_and_keeps_old_outputs(tmp_path, pair) -> None:
    # 8 kB: the regions and the mask fit, the quick look does not; none of the three is kept
    before, after = pair
    old = _previous_outputs(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "imagery_tool", "detect", str(before), str(after), "-o",
         str(tmp_path / "changes.geojson"), "--mask", str(tmp_path / "m.tif"), "--png",
         str(tmp_path / "q.png")],
        capture_output=True, text=True, timeout=120, preexec_fn=_limited(8_000),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    one_line(result.stderr, "cannot write", "q.png", "no space left")
    assert {p: p.read_bytes() for p in old} == old
    assert listing(tmp_path) == ["changes.geojson", "m.tif"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX rlimits")
def test_a_geotiff_mask_gdal_cannot_write_names_the_mask(tmp_path, pair) -> None:
    # GDAL does not raise when the limit stops it while closing the file: no truncated mask
    before, after = pair
    old = _previous_outputs(tmp_path)
    script = (
        "import resource, sys\n"
        "from imagery_tool.change import detect_changes\n"
        f"result = detect_changes({str(before)!r}, {str(after)!r})\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))\n"
        f"result.write_mask({str(tmp_path / 'm.tif')!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("imagery_tool.errors.OutputWriteError: cannot write"), done.stderr
    assert "m.tif: no space left on the device or file too large" in last
    assert {p: p.read_bytes() for p in old} == old
    assert listing(tmp_path) == ["changes.geojson", "m.tif"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_while_writing_the_mask_leaves_old_outputs_and_no_temporary(tmp_path, pair) -> None:
    before, after = pair
    old = _previous_outputs(tmp_path)
    script = (
        "import time\n"
        "from imagery_tool.change.result import ChangeResult\n"
        "from imagery_tool.cli import main\n"
        "write = ChangeResult._write_mask\n"
        "def slow(self, path, **kw):\n"
        "    write(self, path, **kw)\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
        "ChangeResult._write_mask = slow\n"
        f"main(['detect', {str(before)!r}, {str(after)!r}, '-o', "
        f"{str(tmp_path / 'changes.geojson')!r}, '--mask', {str(tmp_path / 'm.tif')!r}])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert err.strip() == "imagery-tool: terminated"
    assert {p: p.read_bytes() for p in old} == old
    assert listing(tmp_path) == ["changes.geojson", "m.tif"]


def test_render_refuses_to_write_over_its_tile(tmp_path, capsys) -> None:
    from PIL import Image

    tile = tmp_path / "tile.png"
    Image.fromarray(np.full((80, 80, 3), 90, np.uint8)).save(tile)
    link = tmp_path / "picture.png"
    link.symlink_to(tile)
    kept = tile.read_bytes()
    code, _, err = run(["render", tile, "-o", link], capsys)
    assert code == 2
    one_line(err, str(link), "is the input", str(tile))
    assert tile.read_bytes() == kept


def test_annotations_convert_and_export_refuse_to_write_over_their_input(tmp_path, capsys) -> None:
    boxes = tmp_path / "boxes.geojson"
    boxes.write_text('{"type": "FeatureCollection", "features": []}\n')
    kept = boxes.read_text()
    code, _, err = run(["annotations", "convert", boxes, boxes], capsys)
    assert code == 2
    one_line(err, "OUT", str(boxes), "is the input")
    assert boxes.read_text() == kept
    store = tmp_path / "boxes.gpkg"
    code, _, err = run(["annotations", "convert", boxes, store], capsys)
    assert code == 0, err
    kept = store.read_bytes()
    code, _, err = run(["annotations", "export", store, tmp_path / "." / "boxes.gpkg"], capsys)
    assert code == 2
    one_line(err, "OUT", "is the input")
    assert store.read_bytes() == kept


# -- series: its output folder, a full disk, Ctrl-C ---------------------------------------------


@pytest.fixture
def series_tiles(tmp_path, pair) -> Path:
    """A folder of three dated tiles (the pair and a third date): two pairs to detect."""
    import shutil

    tiles = tmp_path / "tiles"
    tiles.mkdir()
    for path in pair:
        shutil.copy(path, tiles / path.name)
    third = tiles / "site_2024-12-20.tif"
    shutil.copy(pair[1], third)
    import rasterio

    with rasterio.open(third, "r+") as ds:
        pixels = ds.read()
        pixels[:, 100:116, 90:120] = 30
        ds.write(pixels)
    return tiles


def hidden_files(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob(".*")]


def test_series_output_that_is_a_file_or_under_a_file_is_one_line(
    tmp_path, series_tiles, capsys
) -> None:
    tile = series_tiles / "site_2024-12-06.tif"
    code, _, err = run(["series", series_tiles, "-o", tile], capsys)
    assert code == 2
    one_line(err, "--outdir", str(tile), "is a file")
    code, _, err = run(["series", series_tiles, "-o", tile / "out"], capsys)
    assert code == 2
    one_line(err, str(tile / "out"), "is a file, not a folder")
    code, _, err = run(["series", series_tiles, "-o", series_tiles], capsys)
    assert code == 2
    one_line(err, str(series_tiles), "is the input")
    assert listing(series_tiles) == [
        "site_2024-12-06.tif", "site_2024-12-13.tif", "site_2024-12-20.tif"
    ]  # fmt: skip


@pytest.fixture
def unwritable_folder(tmp_path) -> Path:
    """A folder this process cannot create files in (root ignores permissions: sysfs's root)."""
    import tempfile

    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        yield locked
        locked.chmod(0o755)
        return
    try:
        fd, name = tempfile.mkstemp(dir="/sys")
    except OSError:
        yield Path("/sys")
    else:  # pragma: no cover - a writable /sys
        os.close(fd)
        os.unlink(name)
        pytest.skip("no folder that root cannot write to")


@pytest.mark.parametrize("command", ["series", "detect"])
def test_unwritable_output_folder_is_one_line_before_the_work(
    tmp_path, series_tiles, pair, unwritable_folder, capsys, command
) -> None:
    if command == "series":
        argv = ["series", series_tiles, "-o", unwritable_folder / "imagery-tool-out"]
    else:
        argv = ["detect", *pair, "-o", unwritable_folder / "imagery-tool-changes.json"]
    code, _, err = run(argv, capsys)
    assert code == 2
    one_line(err, str(unwritable_folder), "is not writable")


def _limited(limit: int):
    import resource

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _series(tiles: Path, out: Path, *extra: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "imagery_tool", "series", str(tiles), "-o", str(out), *extra],
        capture_output=True, text=True, timeout=120, **kwargs,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX rlimits")
def test_series_disk_full_is_one_line_and_a_rerun_finishes(tmp_path, series_tiles) -> None:
    # 20 kB: the pair files and state.json fit, the timeline PNG does not
    out = tmp_path / "out"
    full = _series(series_tiles, out, "--scheduler", "sync", preexec_fn=_limited(20_000))
    assert full.returncode == 2, full.stderr
    one_line(full.stderr, "cannot write", "timeline.png", "no space left")
    assert hidden_files(out) == []
    assert not (out / "timeline.json").exists()  # the timeline's three files: all or none
    assert len(list((out / "pairs").iterdir())) == 2
    rerun = _series(series_tiles, out, "--scheduler", "sync", "--json")
    assert rerun.returncode == 0, rerun.stderr
    import json

    site = json.loads(rerun.stdout)["sites"][0]
    assert len(site["reused"]) == 2 and site["computed"] == []
    assert {"timeline.json", "timeline.csv", "timeline.png"} <= set(listing(out))


def _running_in_group(group: int) -> list[str]:
    """Processes of a process group that still run (exited ones not yet reaped excluded)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):
            found.append(stat.parent.name)
    return found


_SLOW_PAIR = """
import pathlib, time
from imagery_tool.series import tasks

def detect_pair(before, after, **kwargs):
    if after.endswith("2024-12-20.tif"):  # the second pair never ends; the first one does
        pathlib.Path({marker!r}).touch()
        time.sleep(120)
    return tasks.detect_pair(before, after, **kwargs)
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_series_ctrl_c_is_one_line_stops_the_workers_and_keeps_finished_pairs(
    tmp_path, series_tiles
) -> None:
    import time

    marker = tmp_path / "second-pair-started"
    (tmp_path / "slowpair.py").write_text(_SLOW_PAIR.format(marker=str(marker)))
    out = tmp_path / "out"
    script = (
        "import slowpair, imagery_tool.series.run as run\n"
        "run.detect_pair = slowpair.detect_pair\n"
        "from imagery_tool.cli import main\n"
        f"main(['series', {str(series_tiles)!r}, '-o', {str(out)!r}, '--workers', '2'])\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, start_new_session=True,
    )  # fmt: skip
    first = out / "pairs" / "site_2024-12-06_to_site_2024-12-13.geojson"
    deadline = time.monotonic() + 90
    while not (marker.exists() and first.exists()) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C at a terminal: every process of the group
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert err.strip() == "imagery-tool: interrupted"
    time.sleep(0.5)
    assert _running_in_group(proc.pid) == []  # no worker left computing
    assert hidden_files(out) == []
    rerun = _series(series_tiles, out, "--scheduler", "sync", "--json")
    assert rerun.returncode == 0, rerun.stderr
    import json

    site = json.loads(rerun.stdout)["sites"][0]
    assert site["reused"] == ["site_2024-12-06_to_site_2024-12-13"]
    assert site["computed"] == ["site_2024-12-13_to_site_2024-12-20"]


# -- progress: a bar with a rate on a terminal, nothing in logs or with --quiet -------------------


def _detect_stderr_on_a_terminal(pair, out: Path, *extra: str) -> tuple[int, str]:
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "imagery_tool", "detect", str(pair[0]), str(pair[1]), "-o",
             str(out), *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, timeout=120,
        )  # fmt: skip
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the terminal's other end is closed and everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals")
def test_detect_draws_a_progress_bar_with_a_rate_on_a_terminal_only(tmp_path, pair) -> None:
    code, err = _detect_stderr_on_a_terminal(pair, tmp_path / "c.json")
    assert code == 0, err
    assert "\r[" in err and "1/1 blocks" in err and "blocks/s" in err, repr(err)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_with_quiet_or_without_a_terminal() -> None:
    from imagery_tool.cli.progress import progress_bar

    with progress_bar("blocks", stream=_Terminal()) as bar:
        assert bar is not None
    for quiet, stream in ((True, _Terminal()), (False, io.StringIO())):
        with progress_bar("blocks", quiet=quiet, stream=stream) as bar:
            assert bar is None
        assert stream.getvalue() == ""


def test_the_bar_shows_rate_and_time_left_and_ends_its_line() -> None:
    from imagery_tool.cli.progress import ProgressBar

    bar = ProgressBar("tasks", io.StringIO())
    assert bar.line(0, 8, "starting", 0.0).startswith("[" + "." * 24 + "] 0/8 tasks")
    half = bar.line(4, 8, "a_to_b", 10.0)
    assert "[" + "#" * 12 + "." * 12 + "] 4/8 tasks" in half
    assert "0.4 tasks/s" in half and "0:10 left" in half and "a_to_b" in half
    assert "done" in bar.line(8, 8, "", 20.0)
    stream = io.StringIO()
    bar = ProgressBar("blocks", stream)
    bar(0, 3)
    bar(3, 3)
    bar.close()
    assert stream.getvalue().startswith("\r[") and stream.getvalue().endswith("\n")


def test_ctrl_c_during_detection_stops_the_block_workers(pair) -> None:
    # Before, the other worker threads went on through every remaining block after Ctrl-C.
    import time

    from imagery_tool.change import detect_changes

    seen: list[tuple[int, int]] = []

    def interrupt(done: int, total: int, label: str) -> None:
        seen.append((done, total))
        if done == 1:  # Ctrl-C: the signal reaches the main thread, not this worker
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.3)  # counts are reported one at a time: the other worker waits too

    with pytest.raises(KeyboardInterrupt):
        detect_changes(*pair, block_px=64, workers=2, progress=interrupt)
    total = seen[0][1]
    assert seen[0] == (0, total) and total == 9
    assert max(done for done, _ in seen) <= 3  # the block that raised, and one per worker


def test_importing_boxes_reports_progress_per_box(tmp_path) -> None:
    from imagery_tool.annotations.model import BoxAnnotation
    from imagery_tool.annotations.store import open_store

    boxes = [
        BoxAnnotation.from_center(20.0 + i, 30.0, 10.0, 6.0, 0.0, label="Su-24", tile="t.tif")
        for i in range(5)
    ]
    seen: list[tuple[int, int, str]] = []
    with open_store(tmp_path / "s.gpkg", project="p", author="a") as store:
        store.add_many(boxes, progress=lambda *report: seen.append(report))
    assert seen == [(i, 5, "boxes") for i in range(6)]
