"""``imagery-tool inventory``: the per-date table, the three files, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import assert_one_line_error, run_cli
from tests.core.aircraft.test_inventory import TILES, _store_of_truth


def test_inventory_prints_a_row_per_date_and_writes_three_files(tmp_path):
    store = _store_of_truth(tmp_path / "s.gpkg", TILES)
    out = tmp_path / "inventory"
    result = run_cli("inventory", *TILES, "-o", out, "--store", store)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["site", "date", "from", "total"]
    assert lines[3].split()[:4] == ["hmeimim", "2024-12-13", "store", "17"]
    assert "An-124 x2" in lines[3]
    assert sorted(p.name for p in out.iterdir()) == [
        "inventory.csv", "inventory.geojson", "inventory.png"
    ]  # fmt: skip
    as_json = run_cli("inventory", *TILES, "-o", out, "--store", store, "--json")
    summary = json.loads(as_json.stdout)
    assert [d["aircraft"] for d in summary["dates"]] == [16, 18, 17, 14]


def test_bad_inputs_exit_2_with_one_line(tmp_path):
    missing = tmp_path / "nothing_2024-01-01.tif"
    assert_one_line_error(
        run_cli("inventory", missing, "-o", tmp_path / "o"), str(missing), "no such file"
    )
    assert_one_line_error(
        run_cli("inventory", TILES[0], "-o", tmp_path / "o", "--store", tmp_path / "x.gpkg"),
        "--store", "no such file",
    )  # fmt: skip
    assert_one_line_error(
        run_cli("inventory", TILES[0], "-o", tmp_path / "o", "--pixel-size-m", "-1"),
        "--pixel-size-m",
    )
    assert not Path(tmp_path / "o").exists()


def test_series_store_options_need_inventory(tmp_path):
    result = run_cli("series", tmp_path, "-o", tmp_path / "o", "--store", tmp_path / "s.gpkg")
    assert_one_line_error(result, "--store", "--inventory")
    result = run_cli(
        "series", tmp_path, "-o", tmp_path / "o", "--inventory", "--store", tmp_path / "s.gpkg"
    )
    assert_one_line_error(result, "--store", "no such file")
