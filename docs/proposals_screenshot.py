"""Take the proposals screenshot of docs/proposals.md and docs/napari.md: the two An-124s accepted.

Run under Xvfb from the checkout (the napari extra installed)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/proposals_screenshot.py OUTDIR

It copies the sample tile of 2024-12-13 to OUTDIR (accepted proposals go to a store beside the
tile), runs "Propose aircraft" in the proposals widget, accepts the two best proposals (the
An-124s) and writes ``napari_proposals.png``.
"""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from napari_screenshots import SAMPLES, WINDOW, look_at, settle, shot  # noqa: E402


def main(out: Path) -> None:
    """Propose aircraft on the sample date, accept the first two and save the window."""
    import napari
    from napari_imagery_tool._axes import xy_to_rowcol
    from napari_imagery_tool._widgets.proposals import ProposalsWidget
    from qtpy.QtWidgets import QApplication

    out.mkdir(parents=True, exist_ok=True)
    site = out / "proposals_site"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir()
    tile = shutil.copy(SAMPLES / "hmeimim_2024-12-13.tif", site)
    viewer = napari.Viewer()
    viewer.open(str(tile), plugin="imagery-tool")
    viewer.window._qt_window.resize(*WINDOW)
    widget = ProposalsWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Aircraft proposals", area="right")
    worker = widget.propose()
    finished = []
    worker.finished.connect(lambda: finished.append(True))
    while not finished:
        QApplication.processEvents()
        settle(100)
    for row in (0, 1):
        widget.list.setCurrentRow(row)
        widget.accept_current()
    centres = [np.mean(widget.proposals[row].corners_px, axis=0) for row in (0, 1)]
    look_at(viewer, xy_to_rowcol(np.mean(centres, axis=0)[None])[0], 0.9)
    shot(viewer, out / "napari_proposals.png")
    viewer.close()


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/screenshots"))
