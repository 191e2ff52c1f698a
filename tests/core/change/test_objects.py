"""Objects: which block measures one cut by a seam, how far it reaches, what the mask holds."""

from __future__ import annotations

import numpy as np

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


def test_pieces_of_shadow_alone_are_not_measured_again():

    from rasterio.windows import Window

    from imagery_tool.change.blocks import strips
    from imagery_tool.change.seams import SeamTracker

    overlap = Window(0, 0, 2048, 1024)
    blocks = [block for run in strips(overlap, 1024, 1) for block in run]
    measured = []
    tracker = SeamTracker(
        overlap,
        blocks,
        block_px=1024,
        max_side=300,
        measure_window=lambda window, edges, datasets, within: measured.append(within) or [],
        open_datasets=None,
    )
    shadow, aircraft = (1000, 100, 1040, 130), (1010, 600, 1050, 700)
    ready = tracker.block_done(0, [shadow, aircraft], evident=[aircraft])
    ready += tracker.block_done(1, [], evident=[])
    tracker.measure(ready, datasets=None)
    assert measured == [aircraft]  # the aircraft's pieces are measured whole, the shadow's not
    assert tracker.found[shadow] == []


def test_weak_change_joined_to_clear_change_is_kept_alone_it_is_not():
    from imagery_tool.change.measure import _seeded

    mask = np.zeros((40, 60), bool)
    mask[5:25, 5:25] = True  # a roof: weak change ...
    mask[30:35, 40:50] = True  # ... and weak change elsewhere, joined to nothing clear
    seeds = np.zeros_like(mask)
    seeds[10:12, 10:12] = True  # clear change on the roof only
    shadow = np.zeros_like(mask)
    shadow[25:28, 5:25] = True  # its shadow, joined to it
    kept, kept_shadow = _seeded(mask, shadow, seeds)
    assert kept[5:25, 5:25].all() and not kept[30:35, 40:50].any()
    assert kept_shadow[25:28, 5:25].all()


def test_weakly_changed_holes_are_filled_unchanged_or_large_ones_not():
    from imagery_tool.change.objects import _solid

    ring = np.zeros((60, 60), np.uint8)
    ring[10:30, 10:30] = 1
    ring[14:26, 14:26] = 0  # a hole of 144 px in a ring of 256
    weak = np.full((60, 60), 0.6, np.float32)  # the roof changed, less than the level
    assert _solid(ring, weak)[14:26, 14:26].all()
    still = np.zeros((60, 60), np.float32)  # a courtyard that did not change
    assert not _solid(ring, still)[14:26, 14:26].any()
    thin = np.zeros((60, 60), np.uint8)
    thin[5:55, 5:55] = 1
    thin[7:53, 7:53] = 0  # a thin ring around a larger unchanged block
    assert not _solid(thin, weak)[7:53, 7:53].any()
    open_hole = ring.copy()
    open_hole[14:26, 0:14] = 0  # the hole reaches the crop's edge: not enclosed
    assert not _solid(open_hole, weak)[14:26, 14:26].any()


def test_the_mask_holds_an_objects_footprint_beyond_its_box():
    from types import SimpleNamespace

    from imagery_tool.change.region import ChangeRegion
    from imagery_tool.change.result import ChangeResult

    footprint = np.zeros((20, 30), bool)
    footprint[2:18, 3:27] = True
    region = ChangeRegion(
        change="appeared", score=0.9, bbox_px=(12, 12, 20, 20),
        polygon_px=np.array([[12.0, 12], [20, 12], [20, 20], [12, 20]]), area_px=64,
        length_px=8.0, width_px=8.0, mask=footprint, mask_box=(10, 10, 40, 30),
    )  # fmt: skip
    assert region.mask_bbox == (10, 10, 40, 30)
    result = ChangeResult.__new__(ChangeResult)  # only what mask() reads
    result.regions = [region]
    result.before = SimpleNamespace(width=50, height=40)
    mask = result.mask()
    assert (mask > 0).sum() == footprint.sum()
    assert mask[12, 13] == 255 and mask[27, 36] == 255 and mask[11, 11] == 0
