"""``imagery-tool series``: exit codes, one-line errors, JSON report, progress and quiet mode."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from imagery_tool.cli import cli
from tests.cli.helpers import (
    assert_one_line_error,
    run_cli,
    write_catalog_with_a_broken_item_link,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_tiles"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_exits_2_fast_with_the_address_and_a_hint(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.perf_counter()
    result = run_cli(
        "series", SAMPLE, "-o", tmp_path / "out", "--scheduler", address, "--connect-timeout", "1"
    )
    assert time.perf_counter() - t0 < 20
    assert_one_line_error(result, address, "dask scheduler", "leave out --scheduler")
    assert not (tmp_path / "out").exists()  # nothing written


def test_workers_with_a_cluster_address_is_bad_usage(tmp_path):
    result = CliRunner().invoke(
        cli, ["series", str(SAMPLE), "-o", str(tmp_path), "--scheduler", "h:8786", "--workers", "2"]
    )
    assert result.exit_code == 2 and "--workers" in result.output


def test_malformed_address_is_bad_usage(tmp_path):
    result = CliRunner().invoke(
        cli, ["series", str(SAMPLE), "-o", str(tmp_path), "--scheduler", "tcp://nohost"]
    )
    assert result.exit_code == 2
    assert "--scheduler" in result.output and "tcp://HOST:PORT" in result.output


def test_folder_without_dated_tiles_is_one_line(tmp_path):
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "photo.png")
    result = run_cli("series", tmp_path, "-o", tmp_path / "out")
    assert_one_line_error(result, "no site has two dated tiles", "photo.png", "no acquisition date")


def test_a_catalog_with_a_broken_item_link_is_one_line_naming_the_file(tmp_path):
    catalog = write_catalog_with_a_broken_item_link(tmp_path)
    result = run_cli("series", catalog, "-o", tmp_path / "out")
    assert_one_line_error(result, str(catalog), "gone.json", "not a readable STAC catalog")


@pytest.mark.slow
def test_json_report_progress_and_quiet_rerun(tmp_path):
    from imagery_tool_synthetic import write_series
    from imagery_tool_synthetic.timeline import hmeimim_timeline_series

    tiles = tmp_path / "tiles"
    write_series(hmeimim_timeline_series(size=512, n_dates=2), tiles, block=512, catalog=False)
    out = tmp_path / "out"
    args = ["series", str(tiles), "-o", str(out), "--method", "cva", "--scheduler", "threads"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["status"] == "ok" and record["sites"][0]["computed"]
    assert len(record["sites"][0]["pairs"]) == 1
    assert "task" not in result.stderr  # the progress bar is for terminals only
    for name in ("timeline.json", "timeline.csv", "timeline.png", "series.json"):
        assert (out / name).exists()
    quiet = CliRunner().invoke(cli, [*args, "--quiet"])
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    summary = json.loads((out / "series.json").read_text())
    assert len(summary["sites"][0]["reused"]) == 1
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == 0
    assert (
        "hmeimim: 2 dates 2024-11-01 .. 2024-11-04, 1 pairs (0 computed, 1 reused)" in text.stdout
    )


def test_min_score_reaches_the_detector_and_a_new_value_recomputes(tmp_path):
    from imagery_tool_synthetic import write_series
    from imagery_tool_synthetic.timeline import hmeimim_timeline_series

    from imagery_tool.change.model import default_model

    tiles = tmp_path / "tiles"
    write_series(hmeimim_timeline_series(size=512, n_dates=3), tiles, block=512, catalog=False)
    out = tmp_path / "out"
    args = ["series", str(tiles), "-o", str(out), "--scheduler", "threads", "--json"]

    def scores() -> list[float]:
        pairs = sorted((out / "pairs").glob("*.geojson"))
        assert len(pairs) == 2
        return [
            f["properties"]["score"] for p in pairs for f in json.loads(p.read_text())["features"]
        ]

    strict = CliRunner().invoke(cli, [*args, "--min-score", "1"])
    assert strict.exit_code == 0, strict.output
    assert scores() == []  # no probability reaches 1
    default = CliRunner().invoke(cli, args)
    assert default.exit_code == 0, default.output
    site = json.loads(default.stdout)["sites"][0]
    assert list(site["recomputed"].values()) == ["made from other inputs or settings"] * 2
    found = scores()
    assert found and min(found) >= default_model().min_score
