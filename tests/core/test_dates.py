import json
from datetime import UTC, datetime

import pytest

from imagery_tool.dates import (
    date_from_filename,
    date_from_metadata,
    date_from_stac,
    parse_datetime,
    resolve_acquisition_date,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024:12:13 08:21:00", datetime(2024, 12, 13, 8, 21, tzinfo=UTC)),
        ("2024-12-13T08:21:00Z", datetime(2024, 12, 13, 8, 21, tzinfo=UTC)),
        ("2024-12-13T10:21:00+02:00", datetime(2024, 12, 13, 8, 21, tzinfo=UTC)),
        ("2024-12-13T08:21:00.123456Z", datetime(2024, 12, 13, 8, 21, 0, 123456, tzinfo=UTC)),
        ("2024-12-13", datetime(2024, 12, 13, tzinfo=UTC)),
        ("20241213", datetime(2024, 12, 13, tzinfo=UTC)),
        ("20241213T082100", datetime(2024, 12, 13, 8, 21, tzinfo=UTC)),
        ('"2024-12-13T08:21:00.000000Z";', datetime(2024, 12, 13, 8, 21, tzinfo=UTC)),
        ("0000:00:00 00:00:00", None),
        ("2024-13-40", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_datetime(text, expected):
    assert parse_datetime(text) == expected


def test_metadata_keys_in_order_of_preference():
    tags = {
        "": {"TIFFTAG_DATETIME": "2025:01:05 10:00:00", "ACQUISITIONDATETIME": "2024-12-13"},
    }
    found = date_from_metadata(tags)
    assert found.value == datetime(2024, 12, 13, tzinfo=UTC)
    assert found.source == "metadata:ACQUISITIONDATETIME"


def test_imd_domain_with_group_prefix():
    tags = {"": {}, "IMD": {"IMAGE_1.firstLineTime": "2024-12-13T08:21:04.500000Z"}}
    found = date_from_metadata(tags)
    assert found.value.date().isoformat() == "2024-12-13"
    assert found.source == "metadata:IMD:IMAGE_1.firstLineTime"


def test_invalid_metadata_value_falls_through():
    assert date_from_metadata({"": {"TIFFTAG_DATETIME": "0000:00:00 00:00:00"}}) is None


@pytest.mark.parametrize(
    ("name", "iso"),
    [
        ("hmeimim_2024-12-13.tif", "2024-12-13T00:00:00+00:00"),
        ("S2A_MSIL2A_20241213T082100_N0511.tif", "2024-12-13T08:21:00+00:00"),
        ("site-20241206.tif", "2024-12-06T00:00:00+00:00"),
        ("scene_2024-12-13T08-21-00.tif", "2024-12-13T08:21:00+00:00"),
    ],
)
def test_date_from_filename(name, iso):
    assert date_from_filename(name).value.isoformat() == iso


@pytest.mark.parametrize("name", ["tile_12345678.tif", "photo.png", "v20241399.tif", "a.tif"])
def test_no_date_in_filename(name):
    assert date_from_filename(name) is None


def test_filename_date_ignores_folders(tmp_path):
    assert date_from_filename(tmp_path / "2024-12-13" / "tile.tif") is None


def stac_item(href: str, when: str | None, **extra) -> dict:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "x",
        "geometry": None,
        "properties": {"datetime": when, **extra},
        "assets": {"image": {"href": href}},
        "links": [],
    }


def test_stac_item_beside_the_file(tmp_path):
    tile = tmp_path / "tile.tif"
    tile.write_bytes(b"")
    (tmp_path / "tile.json").write_text(json.dumps(stac_item("tile.tif", "2024-12-20T08:00:00Z")))
    found = date_from_stac(tile)
    assert found.value == datetime(2024, 12, 20, 8, tzinfo=UTC)
    assert found.source == "stac:tile.json"


def test_stac_item_found_by_asset_href(tmp_path):
    tile = tmp_path / "tile.tif"
    tile.write_bytes(b"")
    (tmp_path / "other.json").write_text(json.dumps(stac_item("elsewhere.tif", "2020-01-01")))
    (tmp_path / "item-7.json").write_text(
        json.dumps(stac_item("./tile.tif", None, start_datetime="2024-12-06T00:00:00Z"))
    )
    (tmp_path / "broken.json").write_text("{ not json")
    assert date_from_stac(tile).value == datetime(2024, 12, 6, tzinfo=UTC)


def test_unknown_date_is_never_guessed(tmp_path):
    tile = tmp_path / "tile.tif"
    tile.write_bytes(b"")
    found = resolve_acquisition_date(tile, {"": {}})
    assert not found.known
    assert found.source == "unknown"
    assert str(found) == "unknown"


def test_metadata_wins_over_filename(tmp_path):
    found = resolve_acquisition_date(
        tmp_path / "x_2020-01-01.tif", {"": {"ACQUISITION_DATE": "2024-12-13"}}
    )
    assert found.value.year == 2024
