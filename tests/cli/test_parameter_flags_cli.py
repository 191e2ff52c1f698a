"""Core errors name API parameters; the command line shows the same errors with its flags."""

from __future__ import annotations

import pytest

from imagery_tool.cli import main
from imagery_tool.errors import RenderError, SeriesInputError
from imagery_tool.series import collect_inputs
from tests.core.series.test_inputs import _tile


def test_a_duplicate_date_names_the_parameter_in_the_api_and_the_flag_on_the_cli(tmp_path, capsys):
    _tile(tmp_path, "base_2024-12-01.tif")
    _tile(tmp_path, "base_2024-12-01_reprocessed.tif")
    _tile(tmp_path, "base_2024-12-08.tif")
    with pytest.raises(SeriesInputError, match="pass `duplicates`=first") as refused:
        collect_inputs(tmp_path)
    assert refused.value.parameter == "duplicates" and "--" not in str(refused.value)
    with pytest.raises(SystemExit) as exc:
        main(["series", str(tmp_path), "-o", str(tmp_path / "out"), "--scheduler", "sync"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and len(err.splitlines()) == 1
    assert "pass --duplicates=first to keep base_2024-12-01" in err and "`" not in err


def test_render_options_are_parameters_in_the_api(tmp_path):
    from imagery_tool.render.layout import Region

    with pytest.raises(RenderError, match="give `size_m` in metres") as refused:
        Region.from_center(0.0, 0.0, -5.0)
    assert refused.value.parameter == "size_m"


def test_errors_keep_their_parameter_through_pickling():
    import pickle

    error = SeriesInputError("`duplicates` ...", parameter="duplicates")
    assert pickle.loads(pickle.dumps(error)).parameter == "duplicates"  # from Dask workers


def test_warnings_printed_by_the_cli_name_flags(tmp_path, capsys):
    from pathlib import Path

    data = Path(__file__).parents[1] / "data" / "annotations" / "coco_cvat.json"
    source = tmp_path / "b52.json"
    source.write_text(data.read_text().replace('"Airplane"', '"B-52"'))
    with pytest.raises(SystemExit) as exc:
        main(["annotations", "convert", str(source), str(tmp_path / "out.csv")])
    err = capsys.readouterr().err
    assert exc.value.code == 0, err
    assert "class 'B-52' (2 boxes)" in err and "(map it with --map 'B-52=<class>')" in err


def test_a_box_without_ground_sample_distance_names_gsd():
    from imagery_tool.annotations.model import BoxAnnotation
    from imagery_tool.annotations.sizecheck import check_sizes
    from imagery_tool.cli.flags import with_flags

    box = BoxAnnotation.from_xyxy(10, 20, 50, 60, label="Su-24", tile="img.png")
    reports, (skipped,) = check_sizes([box], gsd={})
    assert reports == [] and skipped.endswith("give one in `gsd`")
    assert with_flags(skipped).endswith("give one in --tile or --gsd")
