"""Take the click-to-box screenshot of docs/click_to_box.md: one click on each An-124.

Run under Xvfb from the checkout (the napari extra installed)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/click_to_box_screenshot.py OUTDIR

It opens the sample tile of 2024-12-13, turns on the annotate widget's click mode, clicks the
two An-124s at their centres (as the tests do) and writes ``napari_click_to_box.png``.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from napari_screenshots import SAMPLES, WINDOW, look_at, shot  # noqa: E402


def main(out: Path) -> None:
    """Box both An-124s with one click each and save the window."""
    import napari
    from napari_imagery_tool._axes import xy_to_rowcol
    from napari_imagery_tool._widgets.annotation import AnnotationWidget

    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("click.gpkg*"):
        old.unlink()
    viewer = napari.Viewer()
    viewer.open(str(SAMPLES / "hmeimim_2024-12-13.tif"), plugin="imagery-tool")
    viewer.window._qt_window.resize(*WINDOW)
    widget = AnnotationWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Annotate boxes", area="right")
    widget.start(store_path=str(out / "click.gpkg"))
    widget.click_button.setChecked(True)
    truth = json.loads((SAMPLES / "truth" / "hmeimim_2024-12-13.json").read_text())
    centres = [o["center_px"] for o in truth["objects"] if o["class"] == "An-124"]
    for xy in centres:
        widget.box_at(xy_to_rowcol([xy])[0])
    widget.session.refresh_labels()
    widget.session.layer.selected_data = {1}
    widget._show_selection()
    look_at(viewer, xy_to_rowcol(np.mean(centres, axis=0)[None])[0], 1.1)
    shot(viewer, out / "napari_click_to_box.png")
    widget.session.close()
    viewer.close()


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/screenshots"))
