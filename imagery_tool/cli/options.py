"""Options shared by several commands, declared once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import click

from imagery_tool.change.methods import METHODS
from imagery_tool.change.options import DetectionOptions, option_help
from imagery_tool.cli.flags import flag, with_flags
from imagery_tool.cli.types import Number, pixel_size
from imagery_tool.errors import DetectionOptionError
from imagery_tool.registration.coregister import REGISTRATION_MODELS

__all__ = ["detection_options", "quiet_option"]

# The click type of each `DetectionOptions` field; default and help come from the field.
_DETECTION_TYPES: dict[str, click.ParamType] = {
    "method": click.Choice(list(METHODS)),
    "min_size_m": Number(min=0, min_open=True),
    "max_size_m": Number(min=0, min_open=True),
    "threshold": Number(min=0, min_open=True),
    "min_score": Number(0, 1),
    "registration_model": click.Choice(list(REGISTRATION_MODELS)),
    "pixel_size_m": pixel_size(),
}


def detection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the detection flags to a command, which receives them as one ``options``.

    Every field of `DetectionOptions` becomes a flag (`imagery_tool.cli.flags.FLAGS`) with the
    field's default and help line; the command is called with ``options=DetectionOptions(...)``
    instead of the separate values. A combination the options refuse (``--min-size-m`` not
    below ``--max-size-m``) is a usage error naming the flag.
    """
    names = [f.name for f in fields(DetectionOptions)]

    @functools.wraps(command)
    def with_options(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in names}
        try:
            kwargs["options"] = DetectionOptions(**given)
        except DetectionOptionError as exc:
            raise click.BadParameter(with_flags(str(exc)), param_hint=flag(exc.parameter)) from exc
        return command(*args, **kwargs)

    for f in reversed(fields(DetectionOptions)):
        shown = f.default is not None
        with_options = click.option(
            flag(f.name),
            f.name,
            type=_DETECTION_TYPES[f.name],
            default=f.default,
            show_default=shown,
            help=with_flags(option_help(f.name)),
        )(with_options)
    return with_options


quiet_option = click.option(
    "-q", "--quiet", is_flag=True,
    help="No progress bar (there is none either when standard error is not a terminal).",
)  # fmt: skip
