"""Messages for the analyst: napari's notifications, by level (logged without napari)."""

from __future__ import annotations

import logging

__all__ = ["notify"]

log = logging.getLogger(__name__)


def notify(message: str, level: str = "info") -> None:
    """Show ``message`` as a napari notification of ``level`` {"info", "warning", "error"}.

    Where napari's notifications cannot be imported (the reader used from a script without
    Qt), the message is logged at the same level instead.
    """
    try:
        from napari.utils.notifications import show_error, show_info, show_warning
    except ImportError:  # pragma: no cover - napari without its GUI parts
        log.log(logging.getLevelName(level.upper()), message)
        return
    {"info": show_info, "warning": show_warning, "error": show_error}[level](message)
