"""The compare dock widget: change detection between two dates in a worker, results to review."""

from __future__ import annotations

import math

import numpy as np
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QSlider,
    QWidget,
)

from imagery_tool.runtime import current
from imagery_tool.style import change_hex
from napari_imagery_tool._axes import xy_to_rowcol
from napari_imagery_tool._hooks import active_info, camera, install, unwrap
from napari_imagery_tool._notify import notify
from napari_imagery_tool._widgets.job import JobControls
from napari_imagery_tool._widgets.layout import button_row, scrolled_layout

__all__ = ["CompareWidget", "run_detection", "stack_registration"]

BLINK_MS = 600
SQUARE_RATIO = 1.2  # regions closer to square than this are accepted as axis-aligned boxes
# The largest value a spin box offers for options without an upper bound of their own.
SPIN_CAPS = {"threshold": 50.0, "min_size_m": 1000.0, "max_size_m": 10000.0}
_HEAT_SIDE = 4096  # the heat map is drawn at most this many pixels on its longer side


def run_detection(
    info, before: int, after: int, options=None, *, jobs: list | None = None, settings=None
):
    """Generate ``(stage, seconds)`` progress, then return the `ChangeResult`.

    A generator for napari's ``thread_worker``. Detection runs in a child process: when napari
    stops the generator at a yield (Cancel), the child is terminated and no CPU is left busy.
    The stack's measured registration of ``after`` is reused when it is what detection with
    ``options`` would measure (`stack_registration`).
    The child process is appended to ``jobs`` so that the caller can stop it directly.

    Parameters
    ----------
    info : StackInfo
        The time stack shown.
    before, after : int
        The dates compared, as indexes of the stack.
    options : DetectionOptions, optional
        As `imagery_tool.change.detect_changes` (default: `DetectionOptions()`).
    jobs : list, optional
        Receives the child process.
    settings : Runtime, optional
        The runtime settings the child detects with; default: those in force in the thread
        running this generator (napari's worker thread: the defaults). The widget passes those
        of napari's main thread, where a user's `imagery_tool.runtime.runtime` applies.
    """
    import time

    from napari_imagery_tool._detect_job import DetectionProcess

    tile_b, tile_a = info.tiles[before], info.tiles[after]
    registration = stack_registration(info, before, after, options)
    start = time.perf_counter()
    job = DetectionProcess(
        tile_b.path, tile_a.path, options, registration=registration, settings=settings
    )
    if jobs is not None:
        jobs.append(job)
    try:
        stage = "co-registering and detecting" if registration is None else "detecting"
        while not job.done(timeout=0.2):
            yield (stage, time.perf_counter() - start)
    finally:
        if not job.done():
            job.cancel()  # the generator was closed early: stop the child
    if job.cancelled:
        return None
    result = job.result()
    yield ("done", time.perf_counter() - start)
    return result


def _option_spin(name: str, *, unset: str | None = None, suffix: str = "") -> QDoubleSpinBox:
    """Return a spin box for the numeric detection option ``name``, within its range.

    The range is the option's (`imagery_tool.change.options.option_range`), capped for the
    box where it has no upper bound. With ``unset``, the box's minimum is shown as that text
    and stands for None (the option's default rule); otherwise an excluded lower bound is
    replaced by the box's smallest step above it.
    """
    from imagery_tool.change.options import option_range

    values = option_range(name)
    spin = QDoubleSpinBox()
    low = values.low
    if unset is None and not values.low_included:
        low += 10.0 ** -spin.decimals()
    spin.setRange(low, min(values.high, SPIN_CAPS.get(name, math.inf)))
    if unset is not None:
        spin.setSpecialValueText(unset)
    spin.setSuffix(suffix)
    return spin


def stack_registration(info, before: int, after: int, options=None):
    """Return the stack's registration of ``after`` when detection would measure the same.

    The stack measured each date on the first with the default registration model. That is
    what detection measures when ``before`` is the first date, ``options.method`` registers
    by content (not ``cva``) and ``options.registration_model`` is the default; otherwise
    detection measures (or skips) the registration itself, as on the command line.

    Parameters
    ----------
    info : StackInfo
        The time stack shown.
    before, after : int
        The dates compared, as indexes of the stack.
    options : DetectionOptions, optional
        Default: `DetectionOptions()`.

    Returns
    -------
    Registration or None
        None: let detection decide.
    """
    from imagery_tool.change.methods import METHODS
    from imagery_tool.change.options import DEFAULT_REGISTRATION_MODEL, DetectionOptions

    options = options or DetectionOptions()
    if (
        before != 0
        or not METHODS[options.method].register
        or options.registration_model != DEFAULT_REGISTRATION_MODEL
    ):
        return None
    return info.registrations[after]


class CompareWidget(QWidget):
    """Choose two dates, detect changes, step through them, accept them as annotations."""

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = unwrap(napari_viewer)
        install(self.viewer)
        self.info = None
        self.image_layer = None
        self.result = None
        self.accepted: dict = {}  # list row -> the annotation it became
        self.dates = (0, 0)
        self.worker = None
        self.jobs: list = []  # child processes of running detections
        self.changes_layer = None
        self.heat_layer = None
        self.setMaximumWidth(400)
        layout = scrolled_layout(self)

        pick = QGroupBox("Dates")
        form = QFormLayout(pick)
        self.before_combo = QComboBox()
        self.after_combo = QComboBox()
        form.addRow("before", self.before_combo)
        form.addRow("after", self.after_combo)
        self._add_option_controls(form)
        layout.addWidget(pick)

        self.job = JobControls(layout, "Detect changes", self.detect, self.cancel)
        self.detect_button, self.cancel_button = self.job.run_button, self.job.cancel_button
        self.progress, self.stage_label = self.job.progress, self.job.stage_label

        self.list = QListWidget()
        self.list.currentRowChanged.connect(self.show_region)
        layout.addWidget(self.list)
        button_row(
            layout,
            [
                ("◀", lambda: self._step(-1)),
                ("▶", lambda: self._step(1)),
                ("Accept → annotation", self.accept_current),
                ("Accept all", self.accept_all),
            ],
        )

        view = QHBoxLayout()
        self.blink_button = QPushButton("Blink dates")
        self.blink_button.setCheckable(True)
        self.blink_button.toggled.connect(self.blink)
        view.addWidget(self.blink_button)
        self.flip_button = QPushButton("Before / after")
        self.flip_button.clicked.connect(self.flip)
        view.addWidget(self.flip_button)
        layout.addLayout(view)
        swipe = QHBoxLayout()
        self.swipe_button = QPushButton("Swipe")
        self.swipe_button.setCheckable(True)
        self.swipe_button.setToolTip("AFTER on the left of the line, BEFORE on the right")
        self.swipe_button.toggled.connect(self.swipe)
        self.swipe_slider = QSlider(Qt.Orientation.Horizontal)
        self.swipe_slider.setRange(0, 1000)
        self.swipe_slider.setValue(500)
        self.swipe_slider.valueChanged.connect(lambda _v: self._update_swipe())
        swipe.addWidget(self.swipe_button)
        swipe.addWidget(self.swipe_slider)
        layout.addLayout(swipe)
        self.swipe_layer = None
        layout.addStretch(1)

        self._blink_timer = QTimer(self)
        self._blink_timer.setInterval(BLINK_MS)
        self._blink_timer.timeout.connect(self.flip)
        self.viewer.layers.events.inserted.connect(self.refresh_dates)
        self._fill_methods()
        self.refresh_dates()

    # -- set-up ----------------------------------------------------------------------------

    def _add_option_controls(self, form: QFormLayout) -> None:
        """Add the detection options' controls, defaults and tooltips from `DetectionOptions`.

        A spin box at its minimum shows "default" and leaves the option to its default rule.
        """
        from imagery_tool.change.model import default_model
        from imagery_tool.change.options import DetectionOptions, option_help

        defaults = DetectionOptions()

        def tip(name: str) -> str:
            return option_help(name).replace("`", "")

        self.method_combo = QComboBox()
        self.method_combo.setToolTip(tip("method"))
        self.threshold_spin = _option_spin("threshold", unset="default")
        self.threshold_spin.setToolTip(tip("threshold"))
        self.min_score_spin = _option_spin("min_score", unset="default")
        self.min_score_spin.setSingleStep(0.05)
        model = default_model()
        near, far = model.operating_point(0.0), model.operating_point(1.0)
        self.min_score_spin.setToolTip(
            f"{tip('min_score')} The shipped model's: {near:g} for dates that differ by sensor "
            f"noise, {far:g} for dates months apart."
        )
        self.min_size_spin = _option_spin("min_size_m", suffix=" m")
        self.min_size_spin.setValue(defaults.min_size_m)
        self.min_size_spin.setToolTip(tip("min_size_m"))
        self.max_size_spin = _option_spin("max_size_m", unset="no bound", suffix=" m")
        self.max_size_spin.setToolTip(tip("max_size_m"))
        form.addRow("method", self.method_combo)
        form.addRow("threshold", self.threshold_spin)
        form.addRow("min score", self.min_score_spin)
        form.addRow("min size", self.min_size_spin)
        form.addRow("max size", self.max_size_spin)

    def options(self):
        """Return the `DetectionOptions` the controls show.

        Raises
        ------
        DetectionOptionError
            A combination the options refuse (a min size not below the max size); it names
            the option.
        """
        from imagery_tool.change.options import DetectionOptions

        return DetectionOptions(
            method=self.method_combo.currentText(),
            threshold=self.threshold_spin.value() or None,
            min_score=self.min_score_spin.value() or None,
            min_size_m=self.min_size_spin.value(),
            max_size_m=self.max_size_spin.value() or None,
        )

    def _fill_methods(self) -> None:
        try:
            from imagery_tool.change import METHODS
        except ImportError:  # pragma: no cover - the change package is missing
            self.method_combo.addItem("robust")
            return
        self.method_combo.addItems(list(METHODS))
        self.method_combo.setCurrentText("robust")

    def refresh_dates(self, _event=None) -> None:
        """Fill the date choices from the topmost time stack."""
        layer, info = active_info(self.viewer)
        if info is None or info is self.info:
            return
        self.image_layer, self.info = layer, info
        for combo in (self.before_combo, self.after_combo):
            combo.clear()
            combo.addItems(info.dates)
        self.before_combo.setCurrentIndex(0)
        self.after_combo.setCurrentIndex(len(info.dates) - 1)
        ok = info.is_stack
        self.detect_button.setEnabled(ok)
        self.stage_label.setText("" if ok else "open at least two dates of a site to compare")

    # -- detection -------------------------------------------------------------------------

    def detect(self):
        """Start detection in a worker thread; results arrive in `_done`."""
        from napari.qt.threading import create_worker

        if self.info is None or not self.info.is_stack:
            notify(
                "open at least two dates of a site (a folder or a STAC catalog) first", "warning"
            )
            return None
        before, after = self.before_combo.currentIndex(), self.after_combo.currentIndex()
        if before == after:
            notify("choose two different dates", "warning")
            return None
        from imagery_tool.errors import DetectionOptionError

        try:
            options = self.options()
        except DetectionOptionError as exc:
            notify(str(exc).replace("`", ""), "warning")
            return None
        self.dates = (before, after)
        self.worker = create_worker(
            run_detection,
            self.info,
            before,
            after,
            options,
            jobs=self.jobs,
            settings=current(),  # napari's main thread: where a user sets them
            _progress={"desc": "imagery-tool: detecting changes"},
        )
        self.worker.yielded.connect(self._progress)
        self.worker.returned.connect(self._done)
        self.worker.errored.connect(self._failed)
        self.worker.finished.connect(self._finished)
        self.job.started(f"{self.info.dates[before]} → {self.info.dates[after]}: starting")
        self.worker.start()
        return self.worker

    def cancel(self) -> None:
        """Stop the worker at its next step; a result that still arrives is discarded."""
        if self.worker is not None:
            self.worker.quit()
            self.worker = None
        while self.jobs:
            self.jobs.pop().cancel()  # terminate the child process now
        self.job.cancelled()

    def _progress(self, value) -> None:
        stage, seconds = value
        finished = stage == "done"  # else a busy bar: the stages report no fraction done
        self.job.report(int(finished), int(finished), f"{stage}… {seconds:.0f} s")

    def _failed(self, exc) -> None:
        self.job.failed("change detection", exc)

    def _finished(self) -> None:
        self.job.finished()

    def _done(self, result) -> None:
        if self.worker is None or result is None:  # cancelled meanwhile
            return
        self.worker = None
        self.jobs.clear()
        self.job.succeeded()
        self.show_result(result)

    # -- results ---------------------------------------------------------------------------

    def show_result(self, result) -> None:
        """Show a `ChangeResult` as layers and in the list."""
        self.result = result
        self.accepted = {}
        before, after = self.dates
        counts = result.counts()
        self.stage_label.setText(
            f"{len(result.regions)} change(s) {self.info.dates[before]} → "
            f"{self.info.dates[after]}: " + ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        )
        self.list.clear()
        polygons, colours, texts = [], [], []
        for i, region in enumerate(result.regions, start=1):
            size = (
                f"{region.length_m:.0f} x {region.width_m:.0f} m"
                if region.length_m is not None
                else f"{region.length_px:.0f} x {region.width_px:.0f} px"
            )
            self.list.addItem(f"#{i} {region.change}  score {region.score:.2f}  {size}")
            polygons.append(self._polygon(region))
            colours.append(change_hex(region.change))
            texts.append(f"#{i}")
        name = f"changes {self.info.dates[before]} → {self.info.dates[after]}"
        for layer in (self.changes_layer, self.heat_layer):
            if layer is not None and layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
        self.heat_layer = self._add_heat(result, name)
        self.changes_layer = self.viewer.add_shapes(
            polygons,
            shape_type="polygon",
            ndim=2,
            name=name,
            edge_color=colours or "white",
            face_color="transparent",
            edge_width=3,
            features={"text": texts},
            text={"string": "{text}", "size": 8, "color": "white", "anchor": "upper_left"},
            metadata={
                "imagery_tool_georef": self.info.georef,
                "imagery_tool_tile": self.info.tiles[0].name,  # polygons on the stack grid
                "imagery_tool_changes": result,
            },
        )
        self.viewer.layers.selection.active = self.image_layer
        self.viewer.dims.set_current_step(0, after)
        if result.regions:
            self.list.setCurrentRow(0)

    def _polygon(self, region) -> np.ndarray:
        before = self.dates[0]
        xy = self.info.from_tile(before, np.asarray(region.polygon_px, dtype=float))
        return xy_to_rowcol(xy)

    def _add_heat(self, result, name: str):
        h, w = self.info.georef.shape
        factor = max(1, math.ceil(max(h, w) / _HEAT_SIDE))
        heat = np.zeros((math.ceil(h / factor), math.ceil(w / factor)), np.float32)
        for region in result.regions:
            if region.mask is None:
                continue
            c0, r0, _c1, _r1 = region.mask_bbox
            sub = region.mask[(-r0) % factor :: factor, (-c0) % factor :: factor]
            rr, cc = math.ceil(r0 / factor), math.ceil(c0 / factor)
            rr1, cc1 = min(heat.shape[0], rr + sub.shape[0]), min(heat.shape[1], cc + sub.shape[1])
            block = heat[rr:rr1, cc:cc1]
            np.maximum(block, sub[: rr1 - rr, : cc1 - cc] * region.score, out=block)
        if self.dates[0] != 0:  # regions are on BEFORE's grid: shown only where it is the stack's
            return None
        return self.viewer.add_image(
            heat,
            name=f"heat {name[8:]}",
            colormap="inferno",
            blending="additive",
            opacity=0.6,
            contrast_limits=(0, 1),
            scale=(factor, factor),
            translate=((factor - 1) / 2, (factor - 1) / 2),
        )

    def show_region(self, row: int) -> None:
        """Centre the view on change ``row`` and show the AFTER date (BEFORE if it vanished)."""
        if self.result is None or not 0 <= row < len(self.result.regions):
            return
        region = self.result.regions[row]
        before, after = self.dates
        self.viewer.dims.set_current_step(0, before if region.change == "disappeared" else after)
        centre = self._polygon(region).mean(axis=0)
        camera(self.viewer).center = tuple(centre)
        if self.changes_layer is not None:
            self.changes_layer.selected_data = {row}

    def _step(self, step: int) -> None:
        if self.list.count():
            self.list.setCurrentRow((self.list.currentRow() + step) % self.list.count())

    # -- accept ----------------------------------------------------------------------------

    def _session(self):
        from napari_imagery_tool._widgets.annotation import session_for

        return session_for(self.viewer, self.info, self.image_layer, accepted="detections")

    def accept(self, row: int):
        """Turn change ``row`` into an annotation (source "detected", its score) in the store."""
        from imagery_tool.annotations import check_size

        if row in self.accepted:  # accepting twice would store the box twice
            return self.accepted[row]
        region = self.result.regions[row]
        session = self._session()
        before, after = self.dates
        t = before if region.change == "disappeared" else after
        polygon = np.asarray(region.polygon_px, dtype=float)
        if region.length_px < SQUARE_RATIO * region.width_px:
            # a near-square region has no reliable orientation: keep its axis-aligned box
            c0, r0, c1, r1 = region.bbox_px
            polygon = np.array([[c0, r0], [c1, r0], [c1, r1], [c0, r1]], dtype=float)
        xy = self.info.from_tile(before, polygon)
        corners = self.info.to_tile(t, xy)
        box = session._new_box(corners, t, source="detected", score=float(region.score),
                               label=session.label, attributes={})  # fmt: skip
        georef = self.info.tiles[t].georef
        if georef.is_georeferenced:
            report = check_size(box, gsd=georef, schema=session.schema)
            best = next((c.name for c in report.candidates if c.fits), None)
            label = session.schema.resolve(best) if best else None
            if label is None:
                label = "unknown fixed-wing" if session.schema.get("unknown fixed-wing") else None
            if label:
                box = box.replace(label=label)
        provenance = f"{region.change} {self.info.dates[before]} → {self.info.dates[after]}"
        attributes = {"note": provenance} if "note" in session.schema.attributes else {}
        box = box.replace(
            author=f"imagery-tool detect ({self.result.method})", attributes=attributes
        )
        stored = session.add_box(box)
        self.accepted[row] = stored
        item = self.list.item(row)
        if item is not None and not item.text().startswith("✓"):
            item.setText("✓ " + item.text())
        return stored

    def accept_current(self):
        """Accept the change selected in the list."""
        if self.result is not None and self.list.currentRow() >= 0:
            return self.accept(self.list.currentRow())
        return None

    def accept_all(self) -> list:
        """Accept every change of the list."""
        if self.result is None:
            return []
        return [self.accept(i) for i in range(len(self.result.regions))]

    # -- blink -----------------------------------------------------------------------------

    def flip(self) -> None:
        """Show the other date of the pair."""
        if self.info is None or not self.info.is_stack:
            return
        before, after = self._pair()
        now = self.viewer.dims.current_step[0]
        self.viewer.dims.set_current_step(0, before if now == after else after)

    def swipe(self, on: bool) -> None:
        """Show AFTER left of a movable line over BEFORE (the stack at the BEFORE date)."""
        if self.swipe_layer is not None and self.swipe_layer in self.viewer.layers:
            self.viewer.layers.remove(self.swipe_layer)
        self.swipe_layer = None
        if not on or self.info is None or not self.info.is_stack:
            return
        before, after = self._pair()
        self.viewer.dims.set_current_step(0, before)
        self.swipe_layer = self.viewer.add_image(
            self._swipe_levels(after),
            name=f"swipe: {self.info.dates[after]}",
            rgb=True,
            multiscale=self.image_layer.multiscale,
            contrast_limits=(0, 255),
        )
        self.viewer.layers.selection.active = self.image_layer

    def _pair(self) -> tuple[int, int]:
        if self.result is not None:
            return self.dates
        return self.before_combo.currentIndex(), self.after_combo.currentIndex()

    def _swipe_levels(self, after: int):
        levels = self.image_layer.data if self.image_layer.multiscale else [self.image_layer.data]
        width = levels[0].shape[2]
        col = max(1, round(width * self.swipe_slider.value() / 1000))
        out = []
        for level in levels:
            factor = width / level.shape[2]
            out.append(level[after, :, : max(1, math.ceil(col / factor))])
        return out if self.image_layer.multiscale else out[0]

    def _update_swipe(self) -> None:
        if self.swipe_layer is not None and self.swipe_layer in self.viewer.layers:
            self.swipe_layer.data = self._swipe_levels(self._pair()[1])

    def blink(self, on: bool) -> None:
        """Alternate the two dates every `BLINK_MS` milliseconds while ``on``."""
        if on:
            self._blink_timer.start()
        else:
            self._blink_timer.stop()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Stop blinking and any running detection."""
        self._blink_timer.stop()
        if self.worker is not None:
            self.worker.quit()
        while self.jobs:
            self.jobs.pop().cancel()
        super().closeEvent(event)
