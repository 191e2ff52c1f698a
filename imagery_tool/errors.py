"""Exceptions and warnings raised by imagery-tool.

Every error names the file or value at fault and says what to do about it, in one line, so that
the command line can print ``str(error)`` as is.
"""

from __future__ import annotations

from pathlib import Path


class ImageryToolError(Exception):
    """Root of every error imagery-tool raises on purpose.

    Parameters
    ----------
    *args
        The message (one line), as for any exception.
    parameter : str, optional
        The API parameter at fault, when there is one (``"tiles"``, ``"scheduler"``). Messages
        name parameters in backquotes (```tiles```); a front end shows them its own way (the
        command line as its flags: `imagery_tool.cli.flags.with_flags`).

    Attributes
    ----------
    parameter : str or None
    """

    def __init__(self, *args: object, parameter: str | None = None) -> None:
        super().__init__(*args)
        self.parameter = parameter


class TileReadError(ImageryToolError, OSError):
    """A file cannot be opened or read as a raster (missing, corrupt, truncated, not a raster)."""


class NotGeoreferencedError(ImageryToolError, ValueError):
    """An operation needs map coordinates but the raster has no georeference."""


class UnsupportedCRSError(NotGeoreferencedError):
    """A raster's CRS has no known relation to longitude/latitude.

    A local or engineering CRS, a datum or projection PROJ cannot use, or a grid outside its
    projection's domain.
    """


class DetectionOptionError(ImageryToolError, ValueError):
    """A change-detection option is out of range or not a known choice (names the option)."""


class NoOverlapError(ImageryToolError, ValueError):
    """Two rasters do not cover any common ground."""


class IncompatibleTilesError(ImageryToolError, ValueError):
    """Two rasters cannot be compared (band count, georeference, or content)."""


class AnnotationFormatError(ImageryToolError, ValueError):
    """An annotation file is malformed or uses something imagery-tool cannot read."""


class StoreError(ImageryToolError, OSError):
    """An annotation store cannot be opened, is locked, or was written by a newer version."""


class StoreLockedError(StoreError):
    """Another program held an annotation store's write lock longer than the lock timeout.

    Nothing of the refused edit was written; retrying once the other program has finished
    succeeds.
    """


class StoreConflictError(StoreError):
    """An edit or undo would overwrite a change another edit made to the same box."""


class StoreDamagedError(StoreError):
    """A store's tables, values or pages cannot be read as imagery-tool wrote them.

    The message says which store, what is damaged and how to salvage the rest
    (``imagery-tool annotations check --repair STORE``, `repair_store`).

    Parameters
    ----------
    path : str or Path
        The store.
    what : str
        What is damaged, one phrase.

    Attributes
    ----------
    path : Path
    what : str
    """

    def __init__(self, path: str | Path, what: str) -> None:
        self.path = Path(path)
        self.what = what
        super().__init__(
            f"the store {path} is damaged: {what}; run 'imagery-tool annotations check --repair "
            f"{path}' to salvage what can be read into a fresh store (the damaged file is kept "
            "as a backup)"
        )


class StoreReadOnlyError(StoreError):
    """A store cannot be written: the file, its folder or its disk is read-only."""


class OutputWriteError(ImageryToolError, OSError):
    """An output cannot be written (no space left, file too large, not writable)."""


class ModelFileError(ImageryToolError, ValueError):
    """A learned model's file cannot be used (unreadable, other format, other features)."""


class ImageryToolWarning(UserWarning):
    """Root of imagery-tool's warnings."""


class NotGeoreferencedWarning(ImageryToolWarning):
    """A raster has no georeference; geographic features are unavailable for it."""


class DataLossWarning(ImageryToolWarning):
    """An export format cannot carry some of the data (rotation, attributes, ...)."""


class FeatureCodeWarning(ImageryToolWarning):
    """The code that measures a learned model's features changed since it was trained."""


class RenderError(ImageryToolError, ValueError):
    """A picture cannot be drawn as asked (region off the tile, boxes for another tile, ...)."""


class FontError(ImageryToolError, OSError):
    """A font needed to draw text is missing or unreadable."""


class SeriesInputError(ImageryToolError, ValueError):
    """A time-series input cannot be used (no site with two dated tiles, duplicate dates, ...)."""


class StacReadError(SeriesInputError):
    """A file given as a STAC catalog, collection or item collection cannot be read as one."""


class SchedulerError(ImageryToolError, ConnectionError):
    """A Dask scheduler cannot be reached, or the cluster lost the work."""


class SeriesRunError(ImageryToolError, RuntimeError):
    """Some pairs of a time series failed; the finished ones are kept for a rerun."""
