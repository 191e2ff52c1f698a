"""Messages for the analyst: napari's notifications, by level."""

from __future__ import annotations

__all__ = ["notify"]


def notify(message: str, level: str = "info") -> None:
    """Show ``message`` as a napari notification of ``level`` {"info", "warning", "error"}."""
    from napari.utils.notifications import show_error, show_info, show_warning

    {"info": show_info, "warning": show_warning, "error": show_error}[level](message)
