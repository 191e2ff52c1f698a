"""Numeric options of every command: NaN, infinities and out-of-range values are one-line refusals.

``float("nan")`` passes every range check (all its comparisons are false): accepted, it made
``detect`` crash or silently find nothing. The values are refused while the command line is
parsed, before any file is opened, so the files named need not exist.
"""

from __future__ import annotations

import pytest

from imagery_tool.cli import main

_DETECT = ["detect", "b.tif", "a.tif", "-o", "c.json"]
_SERIES = ["series", "tiles", "-o", "out"]
_RENDER = ["render", "t.tif", "-o", "r.png"]
_CHECK = ["annotations", "check", __file__]

CASES = [
    (_DETECT, "--min-size-m", "nan"),
    (_DETECT, "--max-size-m", "inf"),
    (_DETECT, "--min-score", "nan"),
    (_DETECT, "--threshold", "nan"),
    (_DETECT, "--pixel-size-m", "inf"),
    (_DETECT, "--min-size-m", "-inf"),
    (_DETECT, "--min-score", "1.5"),
    (_SERIES, "--min-score", "nan"),
    (_SERIES, "--connect-timeout", "inf"),
    (_RENDER, "--center", "nan,nan"),
    (_RENDER, "--center", "1,inf"),
    (_RENDER, "--bbox", "0,0,inf,1"),
    (_RENDER, "--size", "nan"),
    (_RENDER, "--scale", "inf"),
    (_RENDER, "--scale", "-2"),
    (_CHECK, "--gsd", "nan"),
    (_CHECK, "--gsd", "99999"),  # finite, but 1e308 overflowed the size check
    (_DETECT, "--pixel-size-m", "5000"),
]


@pytest.mark.parametrize(("command", "option", "value"), CASES)
def test_non_finite_or_out_of_range_numbers_are_refused_naming_the_option(
    command, option, value, capsys
) -> None:
    extra = ["--size", "50"] if option == "--center" else []
    with pytest.raises(SystemExit) as exc:
        main([*command, option, value, *extra])
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("imagery-tool: ")
    assert option in lines[0] and value in lines[0], lines[0]
    assert "Traceback" not in err


def test_a_finite_number_in_range_is_taken(capsys) -> None:
    from imagery_tool.cli.options import Number

    assert Number(min=0, min_open=True).convert("2.5", None, None) == 2.5
    assert Number(0, 1).convert(1, None, None) == 1


def test_usage_errors_are_one_line_and_a_bare_group_still_shows_its_help(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["detect", "b.tif"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.strip() == (
        "imagery-tool: Missing argument 'AFTER' (see imagery-tool detect --help)"
    )
    with pytest.raises(SystemExit):
        main(["annotations"])
    shown = capsys.readouterr()
    assert "Commands:" in shown.out + shown.err
