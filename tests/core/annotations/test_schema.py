"""Label schema: the default file, validation issues, coercion and load errors."""

from __future__ import annotations

import pytest

from imagery_tool import aircraft_catalogue
from imagery_tool.annotations.schema import default_schema, load_schema, parse_schema
from imagery_tool.errors import AnnotationFormatError

ISSUE_CLASSES = [
    "An-124", "An-26", "Il-76", "Il-20", "Tu-154", "Su-24", "Su-25", "Su-34", "Su-35",
    "MiG-29", "Ka-52", "Mi-8", "Mi-24/35", "unknown fixed-wing", "unknown helicopter",
]  # fmt: skip


def test_default_schema_lists_the_issue_classes_and_attributes():
    schema = default_schema()
    for name in ISSUE_CLASSES:
        assert schema.resolve(name) == name
    groups = {c.group for c in schema.classes}
    assert {"fixed-wing", "helicopter", "vehicle", "air-defence"} <= groups
    attrs = schema.attributes
    assert attrs["nose_open"].type == "bool" and attrs["engines_covered"].type == "bool"
    assert attrs["confidence"].values == ("low", "medium", "high")
    assert attrs["note"].type == "text"


def test_every_catalogue_reference_exists():
    for cls in default_schema().classes:
        if cls.catalogue is None:
            continue
        if cls.group in ("vehicle", "air-defence"):
            aircraft_catalogue.lookup_vehicle(cls.catalogue)
        else:
            aircraft_catalogue.lookup(cls.catalogue)


def test_aliases_resolve_ignoring_case_and_punctuation():
    schema = default_schema()
    assert schema.resolve("an124") == "An-124"
    assert schema.resolve("AN 124") == "An-124"
    assert schema.resolve("Mi-35") == "Mi-24/35"
    assert schema.resolve("unknown_fixed-wing") == "unknown fixed-wing"
    assert schema.resolve("Boeing 747") is None
    assert schema.index("An-124") == 0


def test_check_reports_unknown_class_attribute_and_bad_values():
    schema = default_schema()
    assert schema.check("An-124", {"nose_open": True, "confidence": "high"}) == []
    kinds = [i.kind for i in schema.check("B-52", {"wings": 2})]
    assert kinds == ["unknown-class", "unknown-attribute"]
    issues = schema.check("Su-24", {"nose_open": True, "confidence": "sure", "note": "x"})
    assert [i.kind for i in issues] == ["not-applicable", "bad-value"]
    assert "only to An-124" in issues[0].message


def test_normalise_coerces_and_keeps_unknowns():
    label, attrs, issues = default_schema().normalise(
        "an124", {"nose_open": "true", "confidence": "HIGH", "mystery": 1}
    )
    assert label == "An-124"
    assert attrs == {"nose_open": True, "confidence": "high", "mystery": 1}
    assert [i.kind for i in issues] == ["unknown-attribute"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("classes: [{name: a, group: boats}]", "group 'boats'"),
        ("classes: [{name: a, colour: red}]", "unknown key"),
        ("classes: []", "no classes"),
        ("classes: [a]\nattributes: {x: {type: enum}}", "needs 'values'"),
        ("classes: [a]\nattributes: {x: {type: bool, applies_to: [b]}}", "unknown classes"),
        ("classes: [a, A]", "used by two classes"),
        ("classes: [a\n  b: [", r"schema.yaml:\d+"),
    ],
)
def test_bad_schema_files_name_the_problem(tmp_path, text, match):
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    with pytest.raises(AnnotationFormatError, match=match):
        load_schema(path)


def test_json_schema_loads():
    schema = parse_schema('{"classes": [{"name": "tank", "group": "vehicle"}]}')
    assert schema.class_names == ["tank"]
