"""Change detection on real sensors' data types: 11/12-bit 4-band counts and float reflectance.

The scene (`tests.sensor_pairs`): a Su-34 leaves, a Su-35 arrives, an Il-76 and a Su-24 stay
under another sun, gain, gamma and haze; on 8-bit RGB the detector reports exactly the two
changes. Here the same scene comes as the products users bring: the robust method compares
their red, green and blue bands (by the file's colour interpretation, whatever their order),
in units of a hundredth of the scene's range for any data type but 8-bit, so that it meets the
same numbers as on the 8-bit scenes it was trained on.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from imagery_tool_synthetic.sensor import PRODUCTS

from imagery_tool.change import detect_changes
from tests.sensor_pairs import overlaps, write_pair


@pytest.fixture(scope="module")
def clear(tmp_path_factory):
    """Every product without nodata holes, plus a blue-first BEFORE with a red-first AFTER."""
    root = tmp_path_factory.mktemp("sensor_detect")
    pairs = {name: write_pair(root / name, name, holes=False) for name in PRODUCTS}
    rgbn = dataclasses.replace(PRODUCTS["worldview-11bit"], order="RGBN")
    after = write_pair(root / "rgbn", rgbn, holes=False).after
    pairs["mixed-order"] = dataclasses.replace(pairs["worldview-11bit"], after=after)
    return pairs


@pytest.fixture(scope="module")
def results(clear):
    """Robust detection of every pair, once."""
    return {name: detect_changes(pair.before, pair.after) for name, pair in clear.items()}


def _planted(result, truth):
    """Return the kinds of the regions found on the departure and on the arrival."""
    return {
        name: sorted(r.change for r in result.regions if overlaps(r.bbox_px, box))
        for name, box in truth.items()
    }


@pytest.mark.parametrize("name", [*PRODUCTS, "mixed-order"])
def test_planted_departure_and_arrival_are_found_with_their_kind(results, clear, name):
    found = _planted(results[name], clear[name].truth)
    assert found == {"leaves": ["disappeared"], "arrives": ["appeared"]}
    for region in results[name].regions:
        if overlaps(region.bbox_px, clear[name].truth["arrives"]):
            c, r = region.centre_px
            c0, r0, c1, r1 = clear[name].truth["arrives"]
            assert c0 < c < c1 and r0 < r < r1


@pytest.mark.parametrize(
    "name",
    [
        "pleiades-12bit",
        "worldview-11bit",
        "reflectance-uint16",
        "mixed-order",
        "reflectance",
        "reflectance-9999",
    ],
)
def test_only_the_planted_changes_are_reported(results, name):
    # on 8-bit RGB the same scene gives exactly these two: moved shadows are not objects
    assert len(results[name].regions) == 2, [
        (r.change, r.bbox_px, round(r.score, 2)) for r in results[name].regions
    ]


@pytest.mark.parametrize("product", ["reflectance", "reflectance-9999", "reflectance-uint16"])
@pytest.mark.parametrize("method", ["robust", "cva"])
def test_nodata_never_changes(tmp_path, product, method):
    # BEFORE has no data around the departing aircraft, AFTER none on a patch of concrete
    pair = write_pair(tmp_path / product, product)
    result = detect_changes(pair.before, pair.after, method=method)
    mask = result.mask()
    c0, r0, c1, r1 = pair.before_hole
    assert not mask[r0:r1, c0:c1].any()
    c0, r0, c1, r1 = pair.after_hole  # on AFTER's grid, about (6, -5) px off BEFORE's
    assert not mask[r0 + 10 : r1 - 10, c0 + 10 : c1 - 10].any()
    assert not any(overlaps(r.bbox_px, pair.truth["leaves"]) for r in result.regions)
    if method == "robust":  # the arrival is still seen
        assert _planted(result, pair.truth)["arrives"] == ["appeared"]


@pytest.mark.parametrize("product", ["worldview-11bit", "reflectance"])
def test_textbook_cva_finds_the_planted_changes_on_a_clean_pair(tmp_path, product):
    # same sun and light on both dates: change-vector analysis of all bands (NIR included)
    pair = write_pair(tmp_path / product, product, holes=False, clean=True)
    result = detect_changes(pair.before, pair.after, method="cva")
    found = _planted(result, pair.truth)
    assert set(found["leaves"]) == {"disappeared"} and set(found["arrives"]) == {"appeared"}
    far = [
        r
        for r in result.regions
        if not any(overlaps(r.bbox_px, box) for box in pair.truth.values())
    ]
    assert far == []
    mask = result.mask()
    c0, r0, c1, r1 = (int(v) for v in pair.truth["arrives"])
    assert mask[r0:r1, c0:c1].mean() > 0.3
    assert np.count_nonzero(mask) < 0.01 * mask.size
