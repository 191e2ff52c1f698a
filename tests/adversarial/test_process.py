"""The process-level contract: full disks, file-size limits and SIGTERM end in one clean line."""

from __future__ import annotations

import errno
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imagery_tool.atomic import atomic_path, atomic_write_text
from imagery_tool.errors import OutputWriteError
from tests.cli.helpers import assert_one_line_error

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and rlimits")


def test_full_disk_names_the_output_and_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "changes.geojson"
    target.write_text("previous run")
    refused = pytest.raises(OutputWriteError, match=r"cannot write .*changes\.geojson: no space")
    with refused, atomic_path(target):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["changes.geojson"]


def _limited(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_file_size_limit_is_a_one_line_refusal_not_a_kill(tmp_path: Path) -> None:
    # ``ulimit -f``: the write fails with EFBIG (Python ignores SIGXFSZ), said as one line.
    target = tmp_path / "big.txt"
    script = (
        "import click; from imagery_tool.cli import COMMANDS, main\n"
        "from imagery_tool.atomic import atomic_write_text\n"
        "COMMANDS['write-big'] = '__main__:write_big'\n"
        "@click.command('write-big')\n"
        "def write_big():\n"
        f"    atomic_write_text({str(target)!r}, 'x' * 100_000)\n"
        "main(['write-big'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        preexec_fn=_limited(10_000),
        timeout=60,
    )
    assert_one_line_error(result, "big.txt", "no space left on the device or file too large")
    assert list(tmp_path.iterdir()) == []


def test_sigterm_unwinds_and_removes_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("previous run")
    script = (
        "import click, time; from imagery_tool.cli import COMMANDS, main\n"
        "from imagery_tool.atomic import atomic_path\n"
        "COMMANDS['slow'] = '__main__:slow'\n"
        "@click.command('slow')\n"
        "def slow():\n"
        f"    with atomic_path({str(target)!r}) as tmp:\n"
        "        tmp.write_text('half')\n"
        "        print('ready', flush=True)\n"
        "        time.sleep(60)\n"
        "main(['slow'])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert err.strip() == "imagery-tool: terminated"
    assert target.read_text() == "previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_write_still_writes(tmp_path: Path) -> None:
    start = time.monotonic()
    assert atomic_write_text(tmp_path / "a.txt", "done").read_text() == "done"
    assert time.monotonic() - start < 5
