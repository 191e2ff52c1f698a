"""Ring orientation: one helper for every GeoJSON and GeoPackage ring."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from imagery_tool.geometry import counter_clockwise, signed_area

SQUARE_CW = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]])  # x right, y up


def test_a_clockwise_ring_is_reversed_and_a_counter_clockwise_one_kept():
    ccw = counter_clockwise(SQUARE_CW)
    assert signed_area(SQUARE_CW) == -1.0 and signed_area(ccw) == 1.0
    np.testing.assert_array_equal(ccw, SQUARE_CW[::-1])
    np.testing.assert_array_equal(counter_clockwise(ccw), ccw)


def test_closed_repeats_the_first_vertex_and_the_input_is_not_modified():
    before = SQUARE_CW.copy()
    ring = counter_clockwise(SQUARE_CW, closed=True)
    assert ring.shape == (5, 2) and (ring[0] == ring[-1]).all()
    np.testing.assert_array_equal(SQUARE_CW, before)


@given(
    st.floats(-180, 180), st.floats(-80, 80), st.floats(1e-4, 10), st.floats(1e-4, 10),
    st.floats(0, 2 * np.pi), st.booleans(),
)  # fmt: skip
def test_any_rotated_rectangle_comes_out_counter_clockwise(x, y, w, h, angle, flip):
    c, s = np.cos(angle), np.sin(angle)
    corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) @ np.array([[c, s], [-s, c]])
    corners = corners + [x, y]
    if flip:
        corners = corners[::-1]
    assert signed_area(counter_clockwise(corners)) > 0
