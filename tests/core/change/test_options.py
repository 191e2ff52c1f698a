"""Detection options: one record, defaults written once, refusals that name the option."""

from __future__ import annotations

import math
import pickle

import pytest

from imagery_tool.change import DEFAULT_MIN_SIZE_M, DetectionOptions, detect_changes
from imagery_tool.change.options import option_help, with_settings
from imagery_tool.errors import DetectionOptionError, ImageryToolError


def test_defaults_are_the_documented_ones():
    options = DetectionOptions()
    assert options.to_dict() == {
        "method": "robust",
        "min_size_m": DEFAULT_MIN_SIZE_M,
        "max_size_m": None,
        "threshold": None,
        "min_score": None,
        "registration_model": "similarity",
        "pixel_size_m": None,
    }


def test_record_round_trips_and_pickles():
    options = DetectionOptions(method="cva", min_size_m=5, max_size_m=80, pixel_size_m=0.3)
    assert DetectionOptions.from_dict(options.to_dict()) == options
    assert DetectionOptions.from_dict({"method": "cva"}) == DetectionOptions(method="cva")
    assert pickle.loads(pickle.dumps(options)) == options  # it travels to Dask workers


@pytest.mark.parametrize(
    ("settings", "parameter"),
    [
        ({"method": "pca"}, "method"),
        ({"min_size_m": math.nan}, "min_size_m"),
        ({"min_size_m": 0}, "min_size_m"),
        ({"max_size_m": math.inf}, "max_size_m"),
        ({"min_size_m": 10, "max_size_m": 10}, "min_size_m"),
        ({"threshold": -1}, "threshold"),
        ({"min_score": 1.5}, "min_score"),
        ({"min_score": "0.5"}, "min_score"),
        ({"registration_model": "homography"}, "registration_model"),
        ({"pixel_size_m": 0}, "pixel_size_m"),
        ({"pixel_size_m": 1001}, "pixel_size_m"),
    ],
)
def test_refused_values_name_the_parameter_not_a_flag(settings, parameter):
    with pytest.raises(DetectionOptionError) as refused:
        DetectionOptions(**settings)
    assert refused.value.parameter == parameter
    assert isinstance(refused.value, ImageryToolError) and isinstance(refused.value, ValueError)
    message = str(refused.value)
    assert f"`{parameter}`" in message and "--" not in message


def test_edges_of_the_ranges_are_taken():
    DetectionOptions(min_score=0.0)
    DetectionOptions(min_score=1.0)
    DetectionOptions(pixel_size_m=1000.0)


def test_an_unknown_record_key_is_refused():
    with pytest.raises(DetectionOptionError, match="`min_size` is not a detection option"):
        DetectionOptions.from_dict({"min_size": 3})


def test_settings_replace_fields_and_an_unknown_keyword_is_a_type_error():
    base = DetectionOptions(method="cva")
    assert with_settings(base, {"min_size_m": 5}, caller="f") == DetectionOptions(
        method="cva", min_size_m=5
    )
    assert with_settings(None, {}, caller="f") == DetectionOptions()
    with pytest.raises(TypeError, match="'min_size'"):
        detect_changes("before.tif", "after.tif", min_size=5)  # refused before any file is read


def test_every_option_has_a_help_line():
    for name in DetectionOptions().to_dict():
        assert option_help(name).endswith(".")
    with pytest.raises(KeyError):
        option_help("block_px")


def test_the_result_records_the_options_used(change_pair):
    before, after, _ = change_pair
    options = DetectionOptions(method="cva", min_size_m=4.0)
    result = detect_changes(before, after, options, max_size_m=100.0)
    recorded = result.parameters["options"]
    assert recorded == DetectionOptions(method="cva", min_size_m=4.0, max_size_m=100.0).to_dict()
    assert result.method == "cva" and recorded["max_size_m"] == 100.0


def test_ground_pixel_size_is_the_tiles_then_the_given_then_the_assumed():
    assert DetectionOptions(pixel_size_m=0.3).ground_pixel_size(1.2) == 1.2
    assert DetectionOptions(pixel_size_m=0.3).ground_pixel_size(None) == 0.3
    assert DetectionOptions().ground_pixel_size(None) == 0.5
