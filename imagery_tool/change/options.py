"""The options of change detection: their defaults, bounds and help lines, in one record."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import Field, asdict, dataclass, field, fields, replace
from typing import Any

from imagery_tool.change.methods import METHODS
from imagery_tool.errors import DetectionOptionError
from imagery_tool.georef import ASSUMED_PIXEL_SIZE_M, MAX_PIXEL_SIZE_M
from imagery_tool.registration.coregister import DEFAULT_REGISTRATION_MODEL, REGISTRATION_MODELS

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_MIN_SIZE_M",
    "DEFAULT_REGISTRATION_MODEL",
    "DEFAULT_THRESHOLD",
    "DetectionOptions",
    "OptionRange",
    "option_choices",
    "option_help",
    "option_range",
    "with_settings",
]

DEFAULT_METHOD = "robust"
DEFAULT_MIN_SIZE_M = 3.0  # a small vehicle
DEFAULT_THRESHOLD = 6.0  # change-vector threshold in sensor-noise standard deviations


@dataclass(frozen=True)
class OptionRange:
    """The values a numeric detection option takes: ``(low, high]``, or ``[low, high]``.

    Attributes
    ----------
    low, high : float
        Bounds; ``high`` may be infinite (the value must still be finite).
    low_included : bool
        Whether ``low`` itself is allowed.
    """

    low: float
    high: float = math.inf
    low_included: bool = False

    def check(self, parameter: str, value: float | None) -> None:
        """Refuse a value that is not a finite number in the range (None passes).

        Raises
        ------
        DetectionOptionError
            Naming ``parameter``.
        """
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            _refuse(parameter, f"must be a number, got {value!r}")
        if not math.isfinite(value):
            _refuse(parameter, f"must be a finite number, got {value!r}")
        above = value >= self.low if self.low_included else value > self.low
        if not (above and value <= self.high):
            left = "[" if self.low_included else "("
            _refuse(parameter, f"must be in {left}{self.low:g}, {self.high:g}], got {value!r}")


def _option(
    text: str,
    *,
    choices: Mapping[str, Any] | None = None,
    values: OptionRange | None = None,
) -> dict[str, Any]:
    """Field metadata of an option: its help line, and its choices or its range."""
    return {"help": text, "choices": choices, "range": values}


@dataclass(frozen=True)
class DetectionOptions:
    """Every setting of change detection a user chooses, checked when made.

    The one place that knows the options, their defaults and their help lines: the command
    line's flags (`imagery_tool.cli.options.detection_options`) and the napari compare widget
    are built from it, and each result records it (`to_dict`).

    Attributes
    ----------
    method : str
        A key of `METHODS`.
    min_size_m : float
        Smallest long side of an object, in metres.
    max_size_m : float or None
        Largest long side of an object, in metres; None: no upper bound.
    threshold : float or None
        Change threshold (see `option_help`); None: the method's own.
    min_score : float or None
        For ``"robust"``: lowest score of a reported object, 0 to 1; None: the region model's
        operating point for the pair.
    registration_model : str
        A key of `REGISTRATION_MODELS`: the residual misregistration fitted from content.
    pixel_size_m : float or None
        Ground size of a pixel for tiles without georeference, in (0, 1000] m; None: 0.5,
        recorded as assumed.

    Raises
    ------
    DetectionOptionError
        A value is not finite, out of its range, or not a known choice; ``parameter`` names
        the field.

    Examples
    --------
    >>> DetectionOptions(min_size_m=5).min_size_m
    5
    >>> DetectionOptions.from_dict(DetectionOptions().to_dict()) == DetectionOptions()
    True
    """

    method: str = field(
        default=DEFAULT_METHOD,
        metadata=_option("Change-detection method.", choices=METHODS),
    )
    min_size_m: float = field(
        default=DEFAULT_MIN_SIZE_M,
        metadata=_option("Smallest object (long side) in metres.", values=OptionRange(0.0)),
    )
    max_size_m: float | None = field(
        default=None,
        metadata=_option(
            "Largest object (long side) in metres (default: no upper bound).",
            values=OptionRange(0.0),
        ),
    )
    threshold: float | None = field(
        default=None,
        metadata=_option(
            "Change threshold in sensor-noise standard deviations for dates that differ by "
            f"sensor noise (default {DEFAULT_THRESHOLD:g}; lower = more sensitive; dates months "
            "apart use the pair's own split); for `method` cva an absolute magnitude replacing "
            "Otsu's.",
            values=OptionRange(0.0),
        ),
    )
    min_score: float | None = field(
        default=None,
        metadata=_option(
            "For `method` robust: report objects whose score (the region model's probability) "
            "reaches this (default: the model's operating point for the pair: chosen for "
            "precision 0.95 on dates that differ by sensor noise, on real pairs for dates "
            "months apart; lower = more found, more false alarms).",
            values=OptionRange(0.0, 1.0, low_included=True),
        ),
    )
    registration_model: str = field(
        default=DEFAULT_REGISTRATION_MODEL,
        metadata=_option(
            "Residual misregistration model fitted from content.", choices=REGISTRATION_MODELS
        ),
    )
    pixel_size_m: float | None = field(
        default=None,
        metadata=_option(
            "Pixel size for images without georeference (default "
            f"{ASSUMED_PIXEL_SIZE_M:g}, recorded as assumed).",
            values=OptionRange(0.0, MAX_PIXEL_SIZE_M),
        ),
    )

    def __post_init__(self) -> None:
        """Refuse values detection cannot use, naming the field."""
        for f in fields(self):
            value = getattr(self, f.name)
            choices, values = f.metadata["choices"], f.metadata["range"]
            if choices is not None and value not in choices:
                _refuse(f.name, f"must be one of {sorted(choices)}, got {value!r}")
            if values is not None:
                values.check(f.name, value)
        if self.max_size_m is not None and self.min_size_m >= self.max_size_m:
            _refuse(
                "min_size_m",
                f"{self.min_size_m:g} must be below `max_size_m` {self.max_size_m:g}",
            )

    def ground_pixel_size(self, gsd_m: float | None) -> float:
        """Return the ground size of a pixel detection uses for a tile, in metres.

        Parameters
        ----------
        gsd_m : float or None
            The tile's own ground sample distance (None without georeference).

        Returns
        -------
        float
            ``gsd_m``, else `pixel_size_m`, else the assumed 0.5 m.
        """
        return gsd_m or self.pixel_size_m or ASSUMED_PIXEL_SIZE_M

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of every option (None where the default rule applies)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> DetectionOptions:
        """Read a `to_dict` record; a missing option takes its default.

        Raises
        ------
        DetectionOptionError
            An option this version does not know, or a value it refuses.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(record) - known)
        if unknown:
            _refuse(unknown[0], f"is not a detection option (known: {', '.join(sorted(known))})")
        return cls(**record)


def option_help(name: str) -> str:
    """Return the help line of the `DetectionOptions` field ``name``.

    Other options are named in backquotes (```method```), for each front end to show its way.

    Raises
    ------
    KeyError
        ``name`` is not a field.
    """
    return _field(name).metadata["help"]


def option_range(name: str) -> OptionRange | None:
    """Return the values the numeric `DetectionOptions` field ``name`` takes (None: a choice).

    Raises
    ------
    KeyError
        ``name`` is not a field.
    """
    return _field(name).metadata["range"]


def option_choices(name: str) -> Mapping[str, Any] | None:
    """Return the choices of the `DetectionOptions` field ``name`` (None: a number).

    Raises
    ------
    KeyError
        ``name`` is not a field.
    """
    return _field(name).metadata["choices"]


def _field(name: str) -> Field:
    for f in fields(DetectionOptions):
        if f.name == name:
            return f
    raise KeyError(name)


def with_settings(
    options: DetectionOptions | None, settings: Mapping[str, object], *, caller: str
) -> DetectionOptions:
    """Return ``options`` (default: `DetectionOptions()`) with the named fields replaced.

    What ``detect_changes(b, a, method="cva")`` and ``run_series(..., min_score=0.5)`` do
    with their keywords.

    Parameters
    ----------
    options : DetectionOptions, optional
    settings : mapping of str to object
        Field names and their values (checked again, as in `DetectionOptions`).
    caller : str
        The function that took ``settings``, named in a `TypeError`.

    Raises
    ------
    TypeError
        A name that is not a `DetectionOptions` field.
    DetectionOptionError
        A value the options refuse.
    """
    options = options or DetectionOptions()
    known = {f.name for f in fields(DetectionOptions)}
    for name in settings:
        if name not in known:
            raise TypeError(
                f"{caller}() got an unexpected keyword argument {name!r} (detection options: "
                f"{', '.join(sorted(known))})"
            )
    return replace(options, **settings) if settings else options


def _refuse(parameter: str, what: str) -> None:
    raise DetectionOptionError(f"`{parameter}` {what}", parameter=parameter)
