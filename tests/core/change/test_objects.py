"""Objects cut by block seams: which block measures them, and when they are pieces."""

from __future__ import annotations

from imagery_tool.change.objects import _owner, _whole_in

# a 1024 px core with 32 px margins on all sides, every side open (an inner block)
CORE = (32, 32, 1056, 1056)
SHAPE = (1088, 1088)
OPEN = (True, True, True, True)
CLEAR = 11


def test_the_block_holding_the_centre_owns_the_object():
    assert _owner((40.0, 500.0), CORE, OPEN) == (0, 0)
    assert _owner((20.0, 500.0), CORE, OPEN) == (-1, 0)  # the block on the left
    assert _owner((1070.0, 20.0), CORE, OPEN) == (1, -1)  # the one above and to the right
    assert _owner((33.0, 500.0), CORE, OPEN) is None  # too close to the seam to tell
    # a closed edge (the raster's border) has no block beyond it
    assert _owner((20.0, 500.0), CORE, (False, True, True, True)) == (0, 0)


def test_an_object_is_whole_when_clear_of_the_windows_open_sides():
    # crossing the left seam, held here, clear of this window's left side
    assert _whole_in((0, 0), (20, 500, 70, 540), CORE, SHAPE, OPEN, CLEAR)
    # too close to this window's left side: something beyond may join it
    assert not _whole_in((0, 0), (5, 500, 70, 540), CORE, SHAPE, OPEN, CLEAR)
    # held by the left block, whose window ends 32 px into this core (at 64)
    assert _whole_in((-1, 0), (5, 500, 50, 540), CORE, SHAPE, OPEN, CLEAR)
    assert not _whole_in((-1, 0), (5, 500, 60, 540), CORE, SHAPE, OPEN, CLEAR)
    # held by the block below, whose window starts 32 px above this core's bottom (at 1024)
    assert _whole_in((0, 1), (500, 1040, 540, 1080), CORE, SHAPE, OPEN, CLEAR)
    assert not _whole_in((0, 1), (500, 1030, 540, 1080), CORE, SHAPE, OPEN, CLEAR)


def test_pieces_of_shadow_alone_are_not_measured_again(monkeypatch):
    from types import SimpleNamespace

    from rasterio.windows import Window

    from imagery_tool.change import detect
    from imagery_tool.change.blocks import strips

    job = SimpleNamespace(pair=SimpleNamespace(overlap=Window(0, 0, 2048, 1024)))
    blocks = [block for run in strips(job.pair.overlap, 1024, 1) for block in run]
    tracker = detect._SeamTracker(job, blocks, block_px=1024, max_side=300)
    measured = []
    monkeypatch.setattr(
        detect, "_process", lambda *a, within, **k: measured.append(within) or ([], [], [])
    )
    shadow, aircraft = (1000, 100, 1040, 130), (1010, 600, 1050, 700)
    ready = tracker.block_done(0, [shadow, aircraft], evident=[aircraft])
    ready += tracker.block_done(1, [], evident=[])
    tracker.measure(ready, datasets=None)
    assert measured == [aircraft]  # the aircraft's pieces are measured whole, the shadow's not
    assert tracker.found[shadow] == []
