"""Label placement: never overlapping, never off the image, never on reserved areas."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from imagery_tool.render.labels import place_labels, rects_overlap


def _check(placed, shape, reserved):
    rects = [p.rect for p in placed if p is not None]
    h, w = shape
    for r in rects:
        assert 0 <= r[0] < r[2] <= w and 0 <= r[1] < r[3] <= h, r
        assert not any(rects_overlap(r, q) for q in reserved)
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not rects_overlap(a, b), (a, b)


def test_label_goes_above_its_box_when_there_is_room():
    (p,) = place_labels([(60, 14)], np.array([[100, 100, 150, 140]]), (400, 400), gap=2)
    assert p.rect == (100, 84, 160, 98)
    assert not p.leader


def test_label_at_top_edge_goes_below_and_stays_inside():
    (p,) = place_labels([(60, 14)], np.array([[0, 0, 40, 30]]), (400, 400), gap=2)
    assert p.rect[1] >= 0
    assert p.rect == (0, 32, 60, 46)


def test_two_hundred_crowded_boxes():
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 1000, (200, 2))
    boxes = np.column_stack([xy, xy + rng.uniform(10, 40, (200, 2))])
    sizes = [(int(s), 16) for s in rng.integers(40, 140, 200)]
    reserved = [(0, 0, 200, 40), (900, 960, 1024, 1024)]
    placed = place_labels(sizes, boxes, (1024, 1024), reserved=reserved)
    _check(placed, (1024, 1024), reserved)
    assert sum(p is not None for p in placed) > 100


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-50, 300), st.integers(-50, 300), st.integers(2, 80),
                  st.integers(2, 80), st.integers(5, 120), st.integers(5, 30)),
        min_size=1, max_size=40,
    )
)  # fmt: skip
def test_placed_labels_are_disjoint_and_inside(items):
    boxes = np.array([[x, y, x + bw, y + bh] for x, y, bw, bh, _, _ in items], dtype=float)
    sizes = [(lw, lh) for *_, lw, lh in items]
    shape = (256, 320)
    reserved = [(250, 0, 320, 60)]
    placed = place_labels(sizes, boxes, shape, reserved=reserved)
    assert len(placed) == len(items)
    _check(placed, shape, reserved)
