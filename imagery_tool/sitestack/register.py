"""Placing each date of a site on the first date's grid, as far as the trust gate allows."""

from __future__ import annotations

from pathlib import Path

from imagery_tool.registration import Registration, coregister
from imagery_tool.tile import Tile

__all__ = ["placement_note", "register_to_reference"]


def register_to_reference(reference: Tile | str | Path, tile: Tile | str | Path) -> Registration:
    """Measure how a date sits on the reference date's grid; keep it only when trusted.

    The residual after resampling by georeference is measured from image content with the
    default model (`imagery_tool.registration.coregister.DEFAULT_REGISTRATION_MODEL`: a
    shift, a small rotation and a scale, for another orbit or look angle) and goes through
    the trust gate (`imagery_tool.registration.trust.judge`): a refused estimate
    comes back with ``status="fallback"``, an identity ``matrix`` and the reason, so the date
    is placed by georeference alone. Every front end (``series``, napari) places dates this way.

    Parameters
    ----------
    reference : Tile or path
        The first date of the site: the grid every date is placed on.
    tile : Tile or path
        Another date of the same site.

    Returns
    -------
    Registration
        ``matrix`` is what to apply: the estimate when ``status`` is ``"applied"``, else identity.

    Raises
    ------
    IncompatibleTilesError, NoOverlapError
        As `imagery_tool.registration.coregister`.
    """
    return coregister(reference, tile)


def placement_note(name: str, reference: str, registration: Registration) -> str:
    """Say in one line how a date was placed on the reference.

    Parameters
    ----------
    name, reference : str
        The date's and the reference's names.
    registration : Registration
        From `register_to_reference`.

    Returns
    -------
    str
        ``"b.tif: shifted by dx=+3.00 px, dy=-2.00 px onto a.tif (36 windows, confidence
        0.91)"``, or ``"b.tif: aligned by georeference only (<reason>)"``.
    """
    if not registration.applied:
        return f"{name}: aligned by georeference only ({registration.reason})"
    confidence = registration.confidence
    return (
        f"{name}: shifted by dx={registration.dx:+.2f} px, dy={registration.dy:+.2f} px onto "
        f"{reference} ({registration.windows_used} windows, confidence {confidence:.2f})"
    )
