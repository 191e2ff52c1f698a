"""The proposals dock widget: aircraft proposals on one date in a worker, a queue to review."""

from __future__ import annotations

import queue
import threading

import numpy as np
from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QWidget,
)

from imagery_tool.style import review_hex
from napari_imagery_tool._axes import xy_to_rowcol
from napari_imagery_tool._hooks import active_info, camera, install, unwrap
from napari_imagery_tool._notify import notify
from napari_imagery_tool._widgets.job import JobControls
from napari_imagery_tool._widgets.layout import button_row, scrolled_layout

__all__ = ["QUEUE_KEYS", "ProposalsWidget", "run_proposals"]

# One key each on the proposals layer (bound at runtime: napari ignores manifest keybindings).
QUEUE_KEYS = {"next": "N", "previous": "Shift-N", "accept": "A", "reject": "X"}
# A proposal's state in the queue -> the colour key of `imagery_tool.style.review_hex`: an open
# proposal is a detected box nobody reviewed, drawn as the boxes layer draws one.
_STATE_COLOUR_KEYS = {"open": "detected", "accepted": "accepted", "rejected": "rejected"}


def run_proposals(tile, *, min_score: float, pixel_size_m: float | None = None):
    """Generate ``(done, total, label)`` progress, then return the proposals.

    A generator for napari's ``thread_worker``. The core runs in a helper thread and asks a
    cancel flag before every block and every body fit; when napari closes the generator
    (Cancel), the flag is set and the computation stops within one step.
    """
    from imagery_tool.aircraft.propose import ProposalsCancelled, propose_aircraft

    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["proposals"] = propose_aircraft(
                tile,
                pixel_size_m=pixel_size_m,
                min_score=min_score,
                progress=lambda done, total, label: events.put((done, total, label)),
                cancel=stop.is_set,
            )
        except ProposalsCancelled:
            outcome["cancelled"] = True
        except BaseException as exc:  # noqa: BLE001 - handed back to the worker
            outcome["error"] = exc
        finally:
            events.put(None)

    thread = threading.Thread(target=work, name="imagery-tool propose", daemon=True)
    thread.start()
    try:
        while True:
            item = events.get()
            if item is None:
                break
            yield item
    finally:
        stop.set()  # closed early (Cancel): the core stops at its next step
        thread.join()  # never leave it running (a daemon thread killed at exit can abort)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("proposals")


class ProposalsWidget(QWidget):
    """Propose aircraft on one date, step through them, accept into the store or reject."""

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = unwrap(napari_viewer)
        install(self.viewer)
        self.info = None
        self.image_layer = None
        self.date = 0
        self.proposals: list = []
        self.states: list[str] = []
        self.accepted: dict = {}  # row -> stored annotation
        self.worker = None
        self.layer = None
        self.setMaximumWidth(400)
        layout = scrolled_layout(self)

        box = QGroupBox("Propose aircraft")
        form = QFormLayout(box)
        self.date_combo = QComboBox()
        form.addRow("date", self.date_combo)
        self.min_score_spin = QDoubleSpinBox()
        self.min_score_spin.setRange(0, 1)
        self.min_score_spin.setSingleStep(0.05)
        from imagery_tool.aircraft.scorer import load_model

        self.min_score_spin.setValue(load_model().min_score)  # the scorer's operating point
        self.min_score_spin.setToolTip("keep proposals scoring at least this; lower finds more")
        form.addRow("min score", self.min_score_spin)
        layout.addWidget(box)

        self.job = JobControls(layout, "Propose aircraft", self.propose, self.cancel)
        self.propose_button, self.cancel_button = self.job.run_button, self.job.cancel_button
        self.progress, self.stage_label = self.job.progress, self.job.stage_label

        self.list = QListWidget()
        self.list.currentRowChanged.connect(self.show_proposal)
        layout.addWidget(self.list)
        button_row(
            layout,
            [
                ("◀ Prev", lambda: self.step(-1)),
                ("Next ▶", lambda: self.step(1)),
                ("Accept", self.accept_current),
                ("Reject", self.reject_current),
            ],
        )
        self.help_label = QLabel(
            "With the proposals layer selected: "
            + ", ".join(f"{k} {action}" for action, k in QUEUE_KEYS.items())
        )
        self.help_label.setWordWrap(True)
        layout.addWidget(self.help_label)
        layout.addStretch(1)
        self.viewer.layers.events.inserted.connect(self.refresh_dates)
        self.viewer.layers.events.removed.connect(self.refresh_dates)
        self.refresh_dates()

    # -- inputs ----------------------------------------------------------------------------

    def refresh_dates(self, _event=None) -> None:
        """Offer the dates of the topmost imagery-tool image layer."""
        layer, info = active_info(self.viewer)
        if info is self.info:
            return
        self.image_layer, self.info = layer, info
        self.date_combo.clear()
        if info is not None:
            self.date_combo.addItems(list(info.dates))
            self.date_combo.setCurrentIndex(self._shown_date())
        ok = info is not None
        self.propose_button.setEnabled(ok)
        self.stage_label.setText("" if ok else "open a tile (or a folder of dated tiles) first")

    def _shown_date(self) -> int:
        from napari_imagery_tool._hooks import current_date_index

        try:
            return current_date_index(self.viewer, self.info)
        except Exception:  # noqa: BLE001 - no slider yet
            return 0

    # -- work ------------------------------------------------------------------------------

    def propose(self):
        """Start proposals on the chosen date in a worker; results arrive in `_done`."""
        from napari.qt.threading import create_worker

        if self.info is None:
            notify("open a tile (or a folder of dated tiles) first", "warning")
            return None
        self.date = max(self.date_combo.currentIndex(), 0)
        tile = self.info.tiles[self.date]
        self.worker = create_worker(
            run_proposals,
            tile,
            min_score=self.min_score_spin.value(),
            _progress={"desc": "imagery-tool: proposing aircraft"},
        )
        self.worker.yielded.connect(self._progress)
        self.worker.returned.connect(self._done)
        self.worker.errored.connect(self._failed)
        self.worker.finished.connect(self._finished)
        gsd = tile.georef.mean_gsd_m
        size = f"{gsd:.2f} m pixels" if gsd else "no pixel size in the file: 0.5 m assumed"
        self.job.started(f"{self.info.dates[self.date]}: starting ({size})")
        self.worker.start()
        return self.worker

    def cancel(self) -> None:
        """Stop the worker; the core stops at its next block or body fit."""
        if self.worker is not None:
            self.worker.quit()
            self.worker = None
        self.job.cancelled()

    def _progress(self, value) -> None:
        done, total, label = value
        text = f"{self.info.dates[self.date]}: {label} {done}/{total}"
        self.job.report(done, max(int(total), 1), text)

    def _failed(self, exc) -> None:
        self.job.failed("proposals", exc)

    def _finished(self) -> None:
        self.job.finished()

    def _done(self, proposals) -> None:
        if self.worker is None or proposals is None:  # cancelled meanwhile
            return
        self.worker = None
        self.job.succeeded()
        self.show_proposals(proposals)

    # -- queue -----------------------------------------------------------------------------

    def show_proposals(self, proposals: list) -> None:
        """Show proposals (on the chosen date's grid) as a layer and a queue."""
        self.proposals = list(proposals)
        self.states = ["open"] * len(self.proposals)
        self.accepted = {}
        date = self.info.dates[self.date]
        self.stage_label.setText(f"{len(self.proposals)} aircraft proposal(s) on {date}")
        self.list.clear()
        for row in range(len(self.proposals)):
            self.list.addItem(self._row_text(row))
        if self.layer is not None and self.layer in self.viewer.layers:
            self.viewer.layers.remove(self.layer)
        polygons = [self._polygon(p) for p in self.proposals]
        self.layer = self.viewer.add_shapes(
            polygons,
            shape_type="polygon",
            ndim=2,
            name=f"aircraft proposals {date}",
            edge_color=[_state_hex("open")] * len(polygons) or "white",
            face_color="transparent",
            edge_width=3,
            features={"text": [self._label_text(p) for p in self.proposals]},
            text={"string": "{text}", "size": 9, "color": "white", "anchor": "upper_left"},
            metadata={"imagery_tool_proposals": self.proposals},
        )
        self._bind_keys(self.layer)
        if self.info.is_stack:
            self.viewer.dims.set_current_step(0, self.date)
        if self.proposals:
            self.list.setCurrentRow(0)

    def _bind_keys(self, layer) -> None:
        actions = {
            "next": lambda _l: self.step(1),
            "previous": lambda _l: self.step(-1),
            "accept": lambda _l: self.accept_current(),
            "reject": lambda _l: self.reject_current(),
        }
        for action, key in QUEUE_KEYS.items():
            layer.bind_key(key, actions[action], overwrite=True)

    @staticmethod
    def _label_text(p) -> str:
        return f"{p.score:.2f} {p.label()}"

    def _row_text(self, row: int) -> str:
        p = self.proposals[row]
        mark = {"open": "", "accepted": "✓ ", "rejected": "✗ "}[self.states[row]]
        return (
            f"{mark}#{row + 1} {p.label()}  score {p.score:.2f}  "
            f"{p.length_m:.0f} x {p.width_m:.0f} m"
        )

    def _polygon(self, proposal) -> np.ndarray:
        xy = self.info.from_tile(self.date, np.asarray(proposal.corners_px, dtype=float))
        return xy_to_rowcol(xy)

    def show_proposal(self, row: int) -> None:
        """Centre the view on proposal ``row`` and select it."""
        if not 0 <= row < len(self.proposals):
            return
        centre = self._polygon(self.proposals[row]).mean(axis=0)
        camera(self.viewer).center = tuple(centre)
        if self.layer is not None:
            self.layer.selected_data = {row}

    def step(self, step: int) -> int | None:
        """Go to the next (``step`` = 1) or previous (-1) proposal, wrapping around."""
        if not self.proposals:
            return None
        row = (self.list.currentRow() + step) % len(self.proposals)
        self.list.setCurrentRow(row)
        return row

    def _mark(self, row: int, state: str) -> None:
        self.states[row] = state
        item = self.list.item(row)
        if item is not None:
            item.setText(self._row_text(row))
        if self.layer is not None:
            colours = np.asarray(self.layer.edge_color).copy()
            colours[row] = _rgba(_state_hex(state))
            self.layer.edge_color = colours

    def _session(self):
        from napari_imagery_tool._widgets.annotation import session_for

        return session_for(self.viewer, self.info, self.image_layer, accepted="proposals")

    def accept(self, row: int):
        """Store proposal ``row`` as an annotation (source "proposed", its score, best type)."""
        if row in self.accepted:  # accepting twice would store the box twice
            return self.accepted[row]
        p = self.proposals[row]
        session = self._session()
        label = p.label(session.schema)
        box = session._new_box(
            np.asarray(p.corners_px, dtype=float), self.date, source="proposed",
            score=round(float(p.score), 4), label=label, attributes={},
        )  # fmt: skip
        box = box.replace(author="imagery-tool propose")
        stored = session.add_box(box)
        self.accepted[row] = stored
        self._mark(row, "accepted")
        return stored

    def accept_current(self):
        """Accept the selected proposal and go to the next one."""
        row = self.list.currentRow()
        if not 0 <= row < len(self.proposals):
            return None
        stored = self.accept(row)
        self.step(1)
        return stored

    def reject_current(self) -> None:
        """Reject the selected proposal (nothing is stored) and go to the next one."""
        row = self.list.currentRow()
        if not 0 <= row < len(self.proposals) or row in self.accepted:
            return
        self._mark(row, "rejected")
        self.step(1)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.cancel()
        super().closeEvent(event)


def _state_hex(state: str) -> str:
    """Return the colour of a proposal's state (``"open"``, ``"accepted"``, ``"rejected"``)."""
    return review_hex(_STATE_COLOUR_KEYS[state])


def _rgba(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0])
