"""``detect`` and ``series`` take the same detection flags, built from `DetectionOptions`."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
from click.testing import CliRunner

from imagery_tool.change import DetectionOptions
from imagery_tool.cli import cli, main
from imagery_tool.cli.detect import detect
from imagery_tool.cli.flags import FLAGS, with_flags
from imagery_tool.cli.series import series


def _detection_params(command) -> dict[str, tuple]:
    names = {f.name for f in fields(DetectionOptions)}
    return {p.name: (tuple(p.opts), p.default, p.help) for p in command.params if p.name in names}


def test_both_commands_have_every_option_with_the_core_default_and_help():
    on_detect, on_series = _detection_params(detect), _detection_params(series)
    assert on_detect == on_series
    defaults = DetectionOptions().to_dict()
    assert {name: default for name, (_, default, _) in on_detect.items()} == defaults
    assert {name: opts for name, (opts, _, _) in on_detect.items()} == {
        name: (FLAGS[name],) for name in defaults
    }
    assert "`" not in "".join(help_ for _, _, help_ in on_detect.values())


def test_flag_types_take_the_choices_and_ranges_of_the_options():
    from imagery_tool.change.options import option_choices, option_range
    from imagery_tool.errors import DetectionOptionError

    types = {p.name: p.type for p in detect.params}
    for f in fields(DetectionOptions):
        choices = option_choices(f.name)
        if choices is not None:
            assert list(types[f.name].choices) == list(choices)
            continue
        values = option_range(f.name)
        low = values.low
        types[f.name].convert(str(low + 0.5 * min(1.0, values.high - low)), None, None)
        just_outside = low if not values.low_included else low - 1e-9
        outside = [just_outside]
        if values.high != float("inf"):
            outside.append(values.high + 1e-6)  # the upper bound is always allowed
        for value in outside:
            with pytest.raises(Exception, match="is not in the range"):
                types[f.name].convert(str(value), None, None)
            with pytest.raises(DetectionOptionError):
                DetectionOptions(**{f.name: value})


def test_core_messages_name_flags_on_the_command_line():
    message = "`min_size_m` 5 must be below `max_size_m` 4; `method` stays"
    assert with_flags(message) == "--min-size-m 5 must be below --max-size-m 4; --method stays"
    assert with_flags("run `dask worker`, see `nothing_known`") == (
        "run `dask worker`, see `nothing_known`"
    )


@pytest.mark.parametrize(
    "command", [["detect", "b.tif", "a.tif", "-o", "c.json"], ["series", "t", "-o", "o"]]
)
def test_sizes_out_of_order_are_one_line_naming_both_flags(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*command, "--min-size-m", "5", "--max-size-m", "4"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--min-size-m 5" in lines[0] and "--max-size-m 4" in lines[0]
    assert "`" not in lines[0] and lines[0].count("--min-size-m") == 1  # named once


def test_series_passes_every_detection_option_to_its_pairs(tmp_path):
    from imagery_tool_synthetic import write_series
    from imagery_tool_synthetic.timeline import hmeimim_timeline_series

    tiles = tmp_path / "tiles"
    write_series(hmeimim_timeline_series(size=512, n_dates=2), tiles, block=512, catalog=False)
    out = tmp_path / "out"
    args = ["series", str(tiles), "-o", str(out), "--scheduler", "threads", "--quiet"]
    flags = ["--method", "cva", "--min-size-m", "7", "--threshold", "40", "--registration",
             "shift", "--pixel-size-m", "0.4"]  # fmt: skip
    result = CliRunner().invoke(cli, [*args, *flags])  # --pixel-size-m without --inventory
    assert result.exit_code == 0, result.output
    expected = DetectionOptions(
        method="cva", min_size_m=7, threshold=40, registration_model="shift", pixel_size_m=0.4
    ).to_dict()
    (record,) = json.loads((out / "state.json").read_text())["pairs"].values()
    # the tiles have their own ground sample distance: the state leaves the pixel size out
    assert record["options"] == {**expected, "pixel_size_m": None}
    (pair,) = (out / "pairs").glob("*.geojson")
    assert json.loads(pair.read_text())["parameters"]["options"] == expected
