"""Change detection with known answers: what arrived and left, and what must not be reported."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from conftest import write_tif
from imagery_tool_synthetic import render

from imagery_tool.change import METHODS, detect_changes
from imagery_tool.change.blocks import BlockQueue
from imagery_tool.errors import IncompatibleTilesError, NotGeoreferencedError
from imagery_tool.registration import coregister


@pytest.fixture(scope="module")
def result(change_pair):
    before, after, _ = change_pair
    return detect_changes(before, after)


def test_arrived_and_left_aircraft_are_found_at_their_place(result, change_pair, box_iou):
    _, _, truth = change_pair
    kinds = {r.change for r in result.regions}
    assert kinds <= {"appeared", "disappeared"}
    assert len(result.regions) == 2
    by_kind = {r.change: r for r in result.regions}
    for kind, name in (("appeared", "arrives"), ("disappeared", "leaves")):
        box = truth[name]
        assert box_iou(by_kind[kind].bbox_px, box) > 0.4
        c, r = by_kind[kind].centre_px
        assert box[0] < c < box[2] and box[1] < r < box[3]
    for r in result.regions:
        assert 0 < r.score <= 1
        assert 10 < r.length_m < 30 and 5 < r.width_m < r.length_m + 1  # fighters
        assert r.area_m2 == pytest.approx(r.area_px * 0.25)


def test_registration_and_dates_are_reported(result):
    reg = result.registration
    assert reg.dx == pytest.approx(6.3, abs=0.1) and reg.dy == pytest.approx(-4.8, abs=0.1)
    assert reg.rotation_deg == pytest.approx(0.4, abs=0.02)
    assert result.before_date.startswith("2024-12-06")
    assert result.after_date.startswith("2024-12-13")


def test_moved_shadows_gain_gamma_and_haze_alone_give_nothing(same_pair):
    before, after = same_pair
    assert detect_changes(before, after).regions == []


def test_textbook_baseline_drowns_in_false_alarms(same_pair):
    before, after = same_pair
    assert len(detect_changes(before, after, method="cva").regions) > 20
    assert set(METHODS) >= {"robust", "cva"}


@pytest.mark.slow
def test_objects_on_block_seams_are_found_once_whole(change_pair, box_iou):
    before, after, truth = change_pair
    reg = coregister(before, after)
    whole = detect_changes(before, after, registration=reg, block_px=1024)
    # 96 px blocks cut both fighters (30-45 px) several ways
    cut = detect_changes(before, after, registration=reg, block_px=96)
    assert len(cut.regions) == len(whole.regions) == 2
    for a, b in zip(whole.regions, cut.regions, strict=True):
        assert a.change == b.change
        assert box_iou(a.bbox_px, b.bbox_px) > 0.9


def test_nodata_produces_no_change(tmp_path, change_pair, site, acquisitions, bodies):
    before, after, truth = change_pair
    with rasterio.open(after) as ds:
        image = ds.read()
    c0, r0, c1, r1 = (int(v) for v in truth["arrives"])
    image[:, r0 - 40 : r1 + 40, c0 - 40 : c1 + 40] = 0  # a hole of nodata over the arrival
    holed = write_tif(tmp_path / "holed_2024-12-13.tif", image, site, nodata=0)
    result = detect_changes(before, holed)
    assert [r.change for r in result.regions] == ["disappeared"]
    mask = result.mask()
    assert not mask[r0 - 40 : r1 + 40, c0 - 40 : c1 + 40].any()


def test_all_nodata_is_refused(tmp_path, change_pair, site):
    before, _, _ = change_pair
    empty = write_tif(tmp_path / "e.tif", np.zeros((3, 640, 640), np.uint8), site, nodata=0)
    with pytest.raises(IncompatibleTilesError, match=r"e\.tif: no valid pixels"):
        detect_changes(before, empty)


def test_geojson_is_rfc7946(tmp_path, result):
    path = result.write(tmp_path / "c.geojson")
    data = json.loads(path.read_text())
    assert data["type"] == "FeatureCollection"
    assert data["registration"]["windows_used"] > 0
    assert data["before"].endswith("2024-12-06.tif")
    for feature in data["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) == 5
        x, y = np.array(ring).T
        assert np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]) > 0  # counter-clockwise
        for lon, lat in ring:
            assert 35 < lon < 37 and 35 < lat < 36
            assert len(repr(lon).split(".")[1]) <= 7 and len(repr(lat).split(".")[1]) <= 7
        props = feature["properties"]
        assert set(props) >= {"change", "score", "area_m2", "length_m", "width_m", "bbox_px",
                              "before_date", "after_date"}  # fmt: skip


def test_mask_is_written_on_before_grid(tmp_path, result):
    path = result.write_mask(tmp_path / "m.tif")
    with rasterio.open(path) as ds:
        mask = ds.read(1)
        assert ds.crs == result.before.georef.crs
        assert ds.transform == result.before.georef.transform
    assert set(np.unique(mask)) == {0, 255}
    for r in result.regions:
        c0, r0, c1, r1 = r.bbox_px
        assert mask[r0:r1, c0:c1].any()
    assert list(tmp_path.iterdir()) == [path]


def test_pixel_mode_json_and_refused_geojson(tmp_path, site, acquisitions, bodies):
    import cv2

    b_acq, a_acq = acquisitions
    window = (300, 200, 340, 340)  # the fighter line, without the georeference
    objs_b = [bodies["stays_fighter"], bodies["leaves"]]
    objs_a = [bodies["stays_fighter"], bodies["arrives"]]
    paths = []
    for name, acq, objs in (("b.png", b_acq, objs_b), ("a.png", a_acq, objs_a)):
        image = render(site, acq, objects=objs, window=window)
        cv2.imwrite(str(tmp_path / name), image[::-1].transpose(1, 2, 0))
        paths.append(tmp_path / name)
    result = detect_changes(*paths)
    assert not result.georeferenced
    assert result.parameters["pixel_size_assumed"]
    assert sorted(r.change for r in result.regions) == ["appeared", "disappeared"]
    data = json.loads(result.write(tmp_path / "c.json").read_text())
    assert data["coordinates"] == "pixel (col, row)"
    with pytest.raises(NotGeoreferencedError, match=r"b\.png has no georeference"):
        result.write(tmp_path / "c.geojson")
    assert not (tmp_path / "c.geojson").exists()


def test_one_two_or_three_workers_find_the_same_regions(change_pair):
    before, after, _ = change_pair
    reg = coregister(before, after)
    # 160 px blocks: 4 x 4 blocks, a strip per worker, objects cut on the seams
    runs = [
        detect_changes(before, after, registration=reg, block_px=160, workers=workers)
        for workers in (1, 2, 3)
    ]
    one, two, three = ([(r.bbox_px, r.change, r.score) for r in run.regions] for run in runs)
    assert one == two == three
    assert len(one) == 2


def test_an_idle_worker_finishes_a_strip_from_its_bottom():
    queue = BlockQueue([[0, 1, 2, 3, 4, 5], [6, 7]])
    a, first = queue.take(None)  # worker A starts strip 0 at its top
    b, second = queue.take(None)  # worker B starts strip 1
    b, third = queue.take(b)
    b, fourth = queue.take(b)  # strip 1 done, none left unstarted: strip 0's last block
    taken = [first, second, third, fourth]
    assert taken == [0, 6, 7, 5]
    for state in (a, b) * 3:
        got = queue.take(state)
        if got is not None:
            taken.append(got[1])
    assert sorted(taken) == list(range(8))
    assert queue.take(a) is None and queue.take(b) is None


# -- pairs months apart ------------------------------------------------------------------------


def test_the_level_follows_how_far_apart_the_dates_are():
    from imagery_tool.change.level import change_level, dissimilarity_weight

    assert dissimilarity_weight(0.01) == 0.0 and dissimilarity_weight(0.2) == 1.0
    assert dissimilarity_weight(0.045) == pytest.approx(0.5)
    # frames seconds apart: 6 noise standard deviations per band, whatever Otsu says
    assert change_level(2.0, 9.0, 150.0, bands=3, k=6.0) == pytest.approx(6 * 2 * np.sqrt(3))
    # months apart: the pair's own split, never above the noise rule
    assert change_level(30.0, 80.0, 150.0, bands=3, k=6.0) == pytest.approx(80.0)
    assert change_level(30.0, 900.0, 150.0, bands=3, k=6.0) == pytest.approx(6 * 30 * np.sqrt(3))
    # between: the geometric mean at half way; never below 3 % of the range
    mid = change_level(6.75, 20.0, 150.0, bands=3, k=6.0)
    assert mid == pytest.approx(np.sqrt(6 * 6.75 * np.sqrt(3) * 20.0))
    assert change_level(0.01, 0.02, 150.0, bands=3, k=6.0) == pytest.approx(4.5)


@pytest.fixture(scope="module")
def months_apart(tmp_path_factory):
    """A meadow in summer and the same meadow mown and browned in autumn, with a new warehouse.

    Two PNGs (pixel mode): the grass has another colour and another texture (mown), so that
    no tone curve makes the dates alike; everywhere they differ by far more than sensor noise.
    (A meadow that only turned brown, its texture kept, is normalised away: see
    tests/core/test_radiometry.py.)
    """
    import cv2

    rng = np.random.default_rng(21)
    size = 384

    def texture():
        t = cv2.GaussianBlur(rng.standard_normal((size, size)).astype(np.float32), (0, 0), 2.5)
        return t / t.std()

    grass, mown = texture(), texture()
    track = np.zeros((size, size), np.float32)
    track[:, 180:196] = 1.0  # a farm track through the meadow, in both dates
    summer = np.stack([70 + 12 * grass, 120 + 18 * grass, 60 + 10 * grass])
    autumn = np.stack([135 + 15 * mown, 115 + 14 * mown, 80 + 10 * mown])
    for image in (summer, autumn):
        image[:, track > 0] = 170.0
    autumn[:, 60:140, 230:350] = np.array([185.0, 188.0, 192.0])[:, None, None]  # the roof
    paths = []
    for name, image in (("before", summer), ("after", autumn)):
        noisy = image + rng.normal(0, 3.0, image.shape)
        path = tmp_path_factory.mktemp("months") / f"{name}.png"
        bgr = np.clip(noisy, 0, 255).astype(np.uint8)[::-1].transpose(1, 2, 0)
        cv2.imwrite(str(path), np.ascontiguousarray(bgr))
        paths.append(path)
    return paths, (230, 60, 350, 140)


def test_a_new_building_is_found_between_dates_months_apart(months_apart, box_iou):
    (before, after), roof = months_apart
    result = detect_changes(before, after)
    assert result.parameters["dissimilarity"] > 0.06  # the regime of dates months apart
    assert result.parameters["threshold_level"] < 6 * result.parameters["noise"] * np.sqrt(3)
    found = [r for r in result.regions if box_iou(r.bbox_px, roof) > 0.5]
    assert found and found[0].change == "appeared"
    mask = result.mask() > 0
    c0, r0, c1, r1 = roof
    assert mask[r0:r1, c0:c1].mean() > 0.9  # the roof to its extent
    assert mask.sum() < 1.6 * (c1 - c0) * (r1 - r0)  # the browned meadow is not a change
    # the noise rule of dates that differ by sensor noise lies above the roof's own change
    # vector (|(185, 188, 192) - (135, 115, 80)| = 142): it would have found nothing
    assert result.parameters["noise"] * 6 * np.sqrt(3) > 142
