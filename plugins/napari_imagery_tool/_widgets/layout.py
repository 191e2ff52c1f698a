"""The body of a dock widget in a vertical scroll area: a short dock scrolls, never squeezes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qtpy.QtCore import QSize, Qt
from qtpy.QtWidgets import QFrame, QHBoxLayout, QPushButton, QScrollArea, QVBoxLayout, QWidget

__all__ = ["button_row", "scrolled_layout"]


class _VerticalScrollArea(QScrollArea):
    """A scroll area as wide as its body needs and as short as a few rows."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def _margin(self) -> int:
        return self.verticalScrollBar().sizeHint().width()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Return the body's minimum width (a scroll bar beside it) and a small height."""
        body = self.widget()
        width = body.minimumSizeHint().width() if body is not None else 0
        return QSize(width + self._margin(), super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Return the body's own size hint, a scroll bar beside it."""
        body = self.widget()
        if body is None:
            return super().sizeHint()
        hint = body.sizeHint()
        return QSize(hint.width() + self._margin(), hint.height())


def scrolled_layout(widget: QWidget) -> QVBoxLayout:
    """Give ``widget`` a vertical scroll area and return the layout of the body inside it.

    Without it a dock shares the window's height with the other docks and Qt squeezes the
    rows below what their text needs (word-wrapped labels lose their last lines), or the
    docks together force a window taller than the screen. With it the dock keeps its width
    and a small minimum height, and its body scrolls.

    Parameters
    ----------
    widget : QWidget
        The dock widget; it gets a layout holding only the scroll area.

    Returns
    -------
    QVBoxLayout
        The layout to fill with the widget's rows.
    """
    outer = QVBoxLayout(widget)
    outer.setContentsMargins(0, 0, 0, 0)
    area = _VerticalScrollArea(widget)
    body = QWidget(area)
    area.setWidget(body)
    outer.addWidget(area)
    return QVBoxLayout(body)


def button_row(layout: QVBoxLayout, buttons: Sequence[tuple[str, Callable[[], object]]]) -> None:
    """Add a row of push buttons to ``layout``, each ``(text, slot)``; the slot takes no argument.

    Qt's ``clicked`` passes a ``checked`` flag; it is dropped, so a slot with optional
    parameters of its own is called as ``slot()``.
    """
    row = QHBoxLayout()
    for text, slot in buttons:
        button = QPushButton(text)
        button.clicked.connect(lambda _checked=False, slot=slot: slot())
        row.addWidget(button)
    layout.addLayout(row)
