import os
import stat

import pytest

from imagery_tool.atomic import atomic_path, atomic_write_bytes, atomic_write_text


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.geojson"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.geojson"]


def test_success_replaces_and_honours_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "a.txt", "x\n")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    finally:
        os.umask(old)
    assert atomic_write_bytes(tmp_path / "a.txt", b"y").read_bytes() == b"y"


def test_temporary_keeps_the_suffix(tmp_path):
    with atomic_path(tmp_path / "mask.tif") as tmp:
        assert tmp.suffix == ".tif" and tmp.parent == tmp_path
        tmp.write_bytes(b"")


def test_ctrl_c_waits_until_the_outputs_are_all_renamed(tmp_path) -> None:
    import signal

    from imagery_tool.atomic import _signals_held

    renamed = []
    with pytest.raises(KeyboardInterrupt), _signals_held():
        signal.raise_signal(signal.SIGINT)  # arrives between two renames
        renamed.append("a")
        renamed.append("b")
    assert renamed == ["a", "b"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
