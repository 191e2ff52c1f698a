"""Smoke run of the model trainers, in ``make test`` and CI (the test extra brings scikit-learn):
each trains on two small generated scenes, writes a model file, and the model loads (checked
against the code) and scores.

The trainers run as they are run by hand, as scripts; the settings are the smallest that
still go through every step (a few seconds each).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from imagery_tool.aircraft.candidates import FEATURE_NAMES
from imagery_tool.aircraft.scorer import ProposalScorer, score_features
from imagery_tool.change.features import FEATURES
from imagery_tool.change.model import RegionModel

pytest.importorskip("sklearn", reason="the trainers need scikit-learn (pip install -e '.[train]')")
pytestmark = pytest.mark.smoke

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str, cwd: Path) -> str:
    """Run a tool of ``tools/`` with this interpreter; return its output."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / script), *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _load_quietly(load, path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the feature code is today's: no warning
        return load(path)


def test_the_region_trainer_writes_a_model_that_loads_and_scores(tmp_path):
    out = tmp_path / "region_model.json.gz"
    printed = _run(
        "train_region_model.py", "--scenes", "1", "--size", "512", "--large", "0",
        "--folds", "0", "--trees", "20", "--min-score", "0.5", "--workers", "1",
        "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert "2 generated scenes" in printed and f"wrote {out}" in printed
    model = _load_quietly(RegionModel.load, out)
    assert model.features == FEATURES and len(model.trees.trees) == 20
    assert model.min_score == 0.5 and model.provenance["script"] == "tools/train_region_model.py"
    assert model.provenance["libraries"]["scikit-learn"]
    scores = model.probability(np.zeros((3, len(FEATURES))))
    assert scores.shape == (3,) and np.all((scores > 0) & (scores < 1))


def test_the_aircraft_trainer_writes_a_model_that_loads_and_scores(tmp_path):
    out = tmp_path / "proposal_scorer.json.gz"
    printed = _run(
        "train_aircraft_scorer.py", "--scenes", "2", "--size", "512", "--trees", "10",
        "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert f"wrote {out}" in printed
    scorer = _load_quietly(ProposalScorer.load, out)
    assert len(scorer.final.trees) == 10 and scorer.provenance["data"]["samples_final"] > 0
    x = np.ones((2, len(FEATURE_NAMES)))
    for stage in ("seed", "final"):
        scores = score_features(x, stage=stage, model=scorer)
        assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))


def test_the_region_trainer_explains_itself():
    printed = _run("train_region_model.py", "--help", cwd=ROOT)
    assert "--real" in printed and "--min-score" in printed
