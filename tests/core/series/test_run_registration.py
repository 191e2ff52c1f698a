"""A series reports how each date was placed on the first; a refused shift is no failure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio

from imagery_tool.registration import Registration
from imagery_tool.series import run_series
from imagery_tool.series.state import (
    STATE_FILE,
    STATE_VERSION,
    load_state,
    registration_from_record,
)

OLD_RECORD = {  # a state.json record written before the trust gate
    "matrix": [1.0, 0.0, 2.5, 0.0, 1.0, -1.25],
    "model": "similarity",
    "windows_used": 30,
    "windows_measured": 41,
    "rmse_px": 0.12,
    "resampled": False,
    "overlap": [0, 0, 512, 512],
    "dx": 2.5,
    "dy": -1.25,
    "rotation_deg": 0.0,
    "scale": 1.0,
}


def test_records_without_the_gate_fields_are_measured_again(tmp_path):
    # napari measures every registration through the trust gate: a series must not use one
    # recorded before the gate existed, so the state forgets it and the run measures it anew
    gated = Registration(overlap=(0, 0, 512, 512), status="fallback", reason="refused")
    state = {
        "version": STATE_VERSION,
        "pairs": {},
        "registrations": {
            "old": {"reference": {}, "tile": {}, "registration": OLD_RECORD},
            "new": {"reference": {}, "tile": {}, "registration": gated.to_dict()},
        },
    }
    path = tmp_path / STATE_FILE
    path.write_text(json.dumps(state))
    assert list(load_state(path)["registrations"]) == ["new"]


def test_records_with_the_gate_fields_come_back_whole():
    reg = Registration(
        overlap=(0, 0, 512, 512),
        windows_used=3,
        windows_measured=38,
        rmse_px=0.2,
        status="fallback",
        reason="content estimate refused (3 of 38 windows agree on dx +41.2, dy -12.0 px)",
        confidence=0.08,
        measured_matrix=(1.0, 0.0, 41.2, 0.0, 1.0, -12.0),
    )
    assert registration_from_record(json.loads(json.dumps(reg.to_dict()))) == reg


@pytest.mark.slow
def test_a_date_that_cannot_be_registered_is_reported_not_failed(series12, tmp_path):
    _, folder = series12
    tiles = []
    for tif in sorted(folder.glob("*.tif"))[:3]:
        tiles.append(Path(shutil.copy2(tif, tmp_path / tif.name)))
    # the last date shows other ground (turned upside down): no shift can be trusted
    with rasterio.open(tiles[2], "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:
        ds.write(np.ascontiguousarray(ds.read()[:, ::-1, ::-1]))
    out = tmp_path / "out"
    report = run_series(tmp_path, out, method="cva", scheduler="threads")
    site = report.sites[0]
    assert site.failures == [] and report.ok
    placed = site.registrations
    assert placed[tiles[1].stem]["status"] == "applied"
    assert placed[tiles[2].stem]["status"] == "fallback"
    assert placed[tiles[2].stem]["reason"].startswith("content estimate refused (")
    assert (placed[tiles[2].stem]["dx"], placed[tiles[2].stem]["dy"]) == (0.0, 0.0)
    summary = json.loads((out / "series.json").read_text())
    assert summary["sites"][0]["registrations"] == placed
    state = json.loads((out / STATE_FILE).read_text())
    assert state["registrations"][tiles[2].stem]["registration"]["status"] == "fallback"
    # a rerun reads the records back and reports the same
    again = run_series(tmp_path, out, method="cva", scheduler="threads")
    assert again.sites[0].registrations == placed
