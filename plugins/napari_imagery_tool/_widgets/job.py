"""The run / Cancel / progress rows of a widget that runs core work in a worker."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from imagery_tool.errors import ImageryToolError
from napari_imagery_tool._notify import notify

__all__ = ["JobControls"]


class JobControls:
    """A run button beside Cancel, a progress bar and a stage line, added to ``layout``.

    Parameters
    ----------
    layout : QVBoxLayout
        The widget's body.
    run_text : str
        The run button's text (``"Detect changes"``).
    run, cancel : callable
        What the two buttons do.
    """

    def __init__(self, layout: QVBoxLayout, run_text: str, run: Callable, cancel: Callable) -> None:
        row = QHBoxLayout()
        self.run_button = QPushButton(run_text)
        self.run_button.clicked.connect(lambda _checked=False: run())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda _checked=False: cancel())
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.stage_label = QLabel("")
        self.stage_label.setWordWrap(True)
        layout.addWidget(self.stage_label)

    def started(self, text: str) -> None:
        """Show that the work started: a busy bar until the first report, Cancel on."""
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.stage_label.setText(text)

    def report(self, done: int, total: int, text: str) -> None:
        """Show ``done`` of ``total`` (a busy bar when ``total`` is 0) and a stage line."""
        self.progress.setRange(0, max(int(total), 0))
        self.progress.setValue(int(done))
        self.stage_label.setText(text)

    def cancelled(self) -> None:
        """Show that the user stopped the work."""
        self.stage_label.setText("cancelled")
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.finished()

    def failed(self, what: str, exc: BaseException) -> None:
        """Say that ``what`` failed: a napari warning and the stage line."""
        message = str(exc) if isinstance(exc, ImageryToolError | ValueError) else repr(exc)
        notify(f"{what} failed: {message}", "warning")
        self.stage_label.setText(f"failed: {message}")

    def finished(self) -> None:
        """Re-enable the run button once the worker ended, whichever way; Cancel off."""
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 100)
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def succeeded(self) -> None:
        """Show a full bar: the result arrived."""
        self.progress.setRange(0, 100)
        self.progress.setValue(100)
