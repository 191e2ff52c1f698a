"""Fixtures of the napari plugin tests: small dated tiles of one site, GUI tests gated on napari."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from tests.conftest import HMEIMIM_UTM, UTM36N, write_raster

# napari's own imports warn (pydantic): import it once with those silenced.
# Without the napari extra (or Qt) the plugin tests are not collected at all.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import napari
        import npe2  # noqa: F401
        import pytestqt  # noqa: F401
    except ImportError:
        napari = None
        collect_ignore_glob = ["test_*.py"]

# napari and Qt speak through warnings that are not ours; pytest runs with warnings as errors.
GUI_WARNINGS = (
    "ignore::DeprecationWarning:napari",
    "ignore::DeprecationWarning:vispy",
    "ignore::DeprecationWarning:magicgui",
    "ignore::PendingDeprecationWarning:napari",
    "ignore::pydantic.warnings.PydanticDeprecatedSince20",
)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    # Decided at collection: Qt aborts the process when it starts without a display, and the
    # session-wide QApplication is made before any function-scoped fixture could skip.
    headless = not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
    no_display = pytest.mark.skip(reason="needs a display: run under Xvfb (xvfb-run -a pytest)")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gui)
            for spec in GUI_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))
            if headless:
                item.add_marker(no_display)


@pytest.fixture
def make_napari_viewer(qtbot):
    """Make napari viewers (hidden) that are closed after the test.

    A lean stand-in for napari's own fixture: napari's and npe2's pytest plugins import pydantic
    models that warn at import time, which fails every test under ``filterwarnings = error``,
    so they are not loaded (``-p no:napari -p no:npe2``).
    """
    viewers = []

    def make(**kwargs):
        kwargs.setdefault("show", False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            viewer = napari.Viewer(**kwargs)
        viewers.append(viewer)
        return viewer

    yield make
    for viewer in viewers:
        viewer.close()


def scene(seed: int, shape=(512, 640), shift=(0, 0)) -> np.ndarray:
    """A textured (3, H, W) uint8 apron with a few bright blocks, shifted by ``(dx, dy)`` px."""
    rng = np.random.default_rng(42)
    h, w = shape
    pad = 32
    base = rng.normal(110, 12, (h + 2 * pad, w + 2 * pad))
    from scipy.ndimage import gaussian_filter

    base = gaussian_filter(base, 2.0) * 1.0
    for r, c in ((100, 120), (300, 400), (420, 200), (200, 520)):
        base[r : r + 30, c : c + 50] = 220
    dx, dy = shift
    view = base[pad - dy : pad - dy + h, pad - dx : pad - dx + w]
    rgb = np.stack([view, view * 0.95, view * 0.9])
    return np.clip(rgb + np.random.default_rng(seed).normal(0, 2, rgb.shape), 0, 255).astype(
        np.uint8
    )


def dated_tile(
    folder: Path, date: str, *, shift=(0, 0), pixels=None, origin=HMEIMIM_UTM, crs=UTM36N
):
    """Write ``folder/site_<date>.tif``: 0.5 m UTM 36N, 2 overview levels, dated by metadata."""
    return write_raster(
        folder / f"site_{date}.tif",
        scene(len(date), shift=shift) if pixels is None else pixels,
        transform=Affine(0.5, 0, origin[0], 0, -0.5, origin[1]),
        crs=UTM36N,
        tags={"ACQUISITIONDATETIME": f"{date}T08:21:00Z"},
        overviews=(2, 4),
        tiled=True,
        blockxsize=256,
        blockysize=256,
        photometric="RGB",
    )


@pytest.fixture
def site_folder(tmp_path: Path) -> Path:
    """Two dates of one site; the later one misregistered by (+3, -2) px."""
    folder = tmp_path / "site"
    folder.mkdir()
    dated_tile(folder, "2024-12-13")
    dated_tile(folder, "2025-01-10", shift=(3, -2))
    return folder
