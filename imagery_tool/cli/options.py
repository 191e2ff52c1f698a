"""Options shared by several commands, declared once."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import click

from imagery_tool.change.options import (
    DetectionOptions,
    option_choices,
    option_help,
    option_range,
)
from imagery_tool.cli.flags import flag, with_flags
from imagery_tool.cli.types import Number
from imagery_tool.errors import DetectionOptionError

__all__ = ["detection_options", "quiet_option"]


def option_type(name: str) -> click.ParamType:
    """Return the click type of the `DetectionOptions` field ``name``: its choices or range.

    Raises
    ------
    KeyError
        ``name`` is not a field.
    """
    choices = option_choices(name)
    if choices is not None:
        return click.Choice(list(choices))
    values = option_range(name)
    high = None if math.isinf(values.high) else values.high
    return Number(min=values.low, max=high, min_open=not values.low_included)


def detection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the detection flags to a command, which receives them as one ``options``.

    Every field of `DetectionOptions` becomes a flag (`imagery_tool.cli.flags.FLAGS`) with the
    field's default and help line; the command is called with ``options=DetectionOptions(...)``
    instead of the separate values. Each flag's type (choices or range) comes from the field
    too. A combination the options refuse (``--min-size-m`` not below ``--max-size-m``) is a
    usage error naming the flags.
    """
    names = [f.name for f in fields(DetectionOptions)]

    @functools.wraps(command)
    def with_options(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in names}
        try:
            kwargs["options"] = DetectionOptions(**given)
        except DetectionOptionError as exc:
            raise click.UsageError(with_flags(str(exc))) from exc
        return command(*args, **kwargs)

    for f in reversed(fields(DetectionOptions)):
        shown = f.default is not None
        with_options = click.option(
            flag(f.name),
            f.name,
            type=option_type(f.name),
            default=f.default,
            show_default=shown,
            help=with_flags(option_help(f.name)),
        )(with_options)
    return with_options


quiet_option = click.option(
    "-q", "--quiet", is_flag=True,
    help="No progress bar (there is none either when standard error is not a terminal).",
)  # fmt: skip
