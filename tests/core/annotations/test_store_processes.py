"""Real processes: two editors lose no edit; a process killed by SIGKILL loses no committed one."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pyogrio
import pytest
from pyogrio.raw import read as ogr_read

from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.store import StoreConflictError, open_store

EDITOR = textwrap.dedent(
    """
    import sys
    from imagery_tool.annotations.model import BoxAnnotation
    from imagery_tool.annotations.store import StoreConflictError, open_store

    path, who, n, shared_id = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    store = open_store(path, author=who)
    conflicts = 0
    for i in range(n):
        store.add(BoxAnnotation.from_xyxy(i, i, i + 10, i + 10, label="tug",
                                          attributes={"note": f"{who}-{i}"}))
        while True:  # read-modify-write of one shared box: a counter
            shared = store.get(shared_id)
            count = int(shared.attributes["note"]) + 1
            try:
                store.update(shared.replace(attributes={"note": str(count)}))
                break
            except StoreConflictError:
                conflicts += 1
    print(conflicts)
    """
)

WRITER = textwrap.dedent(
    """
    import sys
    from imagery_tool.annotations.model import BoxAnnotation
    from imagery_tool.annotations.store import open_store

    store = open_store(sys.argv[1], author="victim")
    i = 0
    while True:
        a = store.add(BoxAnnotation.from_center(100 + i % 50, 100, 40, 20, i % 360,
                                                label="An-124", tile="t.tif",
                                                attributes={"nose_open": True}))
        print(a.id, flush=True)  # printed only after the commit returned
        if i % 3 == 0:
            store.update(a.replace(attributes={"nose_open": False}))
        i += 1
    """
)


@pytest.mark.slow
def test_two_processes_editing_the_same_store_lose_no_edit(tmp_path):
    path = tmp_path / "shared.gpkg"
    with open_store(path, project="p", author="setup") as s:
        shared = s.add(BoxAnnotation.from_xyxy(0, 0, 5, 5, label="tug", attributes={"note": "0"}))
    n = 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", EDITOR, str(path), who, str(n), shared.id],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("ann", "bob")
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    with open_store(path) as s:
        assert len(s) == 1 + 2 * n
        assert s.get(shared.id).attributes["note"] == str(2 * n)  # no lost update
        notes = {a.attributes["note"] for a in s.annotations() if a.id != shared.id}
        assert notes == {f"{w}-{i}" for w in ("ann", "bob") for i in range(n)}
        history = s.history()
        assert sum(e.action == "update" for e in history) == 2 * n
        assert {e.who for e in history} == {"setup", "ann", "bob"}


@pytest.mark.slow
def test_kill_9_mid_session_loses_no_committed_edit(tmp_path, tile_record):
    path = tmp_path / "victim.gpkg"
    with open_store(path, project="p") as s:
        s.add_tile(dataclasses.replace(tile_record, name="t.tif"))
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    reported = []
    deadline = time.monotonic() + 60
    while len(reported) < 60 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        reported.append(line.strip())
    os.kill(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    reported += [x for x in rest.split() if x]
    assert proc.returncode == -signal.SIGKILL
    assert len(reported) >= 60

    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    info = pyogrio.read_info(path, layer="annotations")
    assert info["features"] >= len(reported)
    meta, _, geometry, fields = ogr_read(path, layer="annotations")
    stored = set(fields[list(meta["fields"]).index("uuid")])
    assert set(reported) <= stored
    with open_store(path) as s:  # the store still works: edits, undo
        assert all(x in s for x in reported)
        s.add(BoxAnnotation.from_xyxy(0, 0, 1, 1, label="tug"))
        assert s.undo()


def test_undo_refuses_to_overwrite_another_processes_edit(tmp_path):
    path = tmp_path / "p.gpkg"
    with open_store(path, author="ann") as s:
        a = s.add(BoxAnnotation.from_xyxy(0, 0, 5, 5, label="An-124"))
        s.update(a.replace(attributes={"nose_open": True}))
        other = textwrap.dedent(
            f"""
            from imagery_tool.annotations.store import open_store
            with open_store({str(path)!r}, author="bob") as s:
                b = s.get({a.id!r})
                s.update(b.replace(attributes={{"nose_open": False, "note": "closed at 09:10"}}))
            """
        )
        subprocess.run([sys.executable, "-c", other], check=True, timeout=60)
        with pytest.raises(StoreConflictError, match="update by bob"):
            s.undo()
        assert s.get(a.id).attributes == {"nose_open": False, "note": "closed at 09:10"}
