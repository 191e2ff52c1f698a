"""The compare widget's detection options: the core's defaults, help lines and refusals."""

from __future__ import annotations

import pytest
from napari_imagery_tool._widgets.compare import CompareWidget

from imagery_tool.change.model import default_model
from imagery_tool.change.options import DetectionOptions, option_help
from imagery_tool.errors import DetectionOptionError


def test_controls_start_at_the_core_defaults_with_its_help(make_napari_viewer):
    compare = CompareWidget(make_napari_viewer())
    assert compare.options() == DetectionOptions()
    assert compare.min_size_spin.toolTip() == option_help("min_size_m")
    assert compare.threshold_spin.toolTip() == option_help("threshold").replace("`", "")
    model = default_model()
    tip = compare.min_score_spin.toolTip()  # the shipped model's two operating points
    assert f"{model.operating_point(0.0):g} for dates that differ by sensor noise" in tip
    assert f"{model.operating_point(1.0):g} for dates months apart" in tip


def test_controls_build_the_options_and_a_refusal_names_the_option(make_napari_viewer):
    compare = CompareWidget(make_napari_viewer())
    compare.method_combo.setCurrentText("cva")
    compare.threshold_spin.setValue(12)
    compare.min_score_spin.setValue(0.5)
    compare.min_size_spin.setValue(8)
    compare.max_size_spin.setValue(60)
    assert compare.options() == DetectionOptions(
        method="cva", threshold=12, min_score=0.5, min_size_m=8, max_size_m=60
    )
    compare.max_size_spin.setValue(5)
    with pytest.raises(DetectionOptionError) as refused:
        compare.options()
    assert refused.value.parameter == "min_size_m"


def test_the_stack_registration_is_reused_only_where_detection_would_measure_the_same():
    from types import SimpleNamespace

    from napari_imagery_tool._widgets.compare import stack_registration

    measured = object()
    info = SimpleNamespace(registrations=[None, measured, measured])
    assert stack_registration(info, 0, 1) is measured
    assert stack_registration(info, 0, 1, DetectionOptions(method="robust")) is measured
    # cva places dates by georeference only, as on the command line
    assert stack_registration(info, 0, 1, DetectionOptions(method="cva")) is None
    assert stack_registration(info, 0, 1, DetectionOptions(registration_model="affine")) is None
    assert stack_registration(info, 1, 2) is None  # not measured on the first date


def test_spin_boxes_offer_only_values_the_options_take(make_napari_viewer):
    from imagery_tool.change.options import option_range

    compare = CompareWidget(make_napari_viewer())
    for name, spin, unset in (
        ("threshold", compare.threshold_spin, True),
        ("min_score", compare.min_score_spin, True),
        ("min_size_m", compare.min_size_spin, False),
        ("max_size_m", compare.max_size_spin, True),
    ):
        values = option_range(name)
        assert spin.maximum() <= values.high
        if unset:  # the minimum stands for None
            assert spin.minimum() == values.low and spin.specialValueText()
        else:
            assert spin.minimum() > values.low or values.low_included
    assert compare.min_score_spin.maximum() == option_range("min_score").high
