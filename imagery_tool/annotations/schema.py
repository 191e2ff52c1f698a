"""Label schema: the classes and attributes a team allows, loaded from YAML/JSON and enforced."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from imagery_tool.errors import AnnotationFormatError

__all__ = [
    "ATTRIBUTE_TYPES",
    "GROUPS",
    "AttributeDef",
    "LabelClass",
    "LabelSchema",
    "SchemaIssue",
    "default_schema",
    "load_schema",
]

GROUPS = ("fixed-wing", "helicopter", "vehicle", "air-defence", "other")
ATTRIBUTE_TYPES = ("bool", "enum", "text", "number")
AIRCRAFT_GROUPS = ("fixed-wing", "helicopter")

_TRUE = {"true", "yes", "1", "y", "t", "on"}
_FALSE = {"false", "no", "0", "n", "f", "off"}


def name_key(name: str) -> str:
    """Normalise a class or attribute name: lower case without spaces, '-', '_' or '.'."""
    return re.sub(r"[\s\-_.]", "", str(name)).lower()


@dataclass(frozen=True)
class LabelClass:
    """One class of the schema.

    Attributes
    ----------
    name : str
        The class name as stored.
    group : {"fixed-wing", "helicopter", "vehicle", "air-defence", "other"}
        Family of the class.
    catalogue : str or None
        Name of the reference entry in `imagery_tool.aircraft_catalogue`.
    aliases : tuple of str
        Other names accepted on import.
    """

    name: str
    group: str
    catalogue: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def is_aircraft(self) -> bool:
        """Whether the class is a fixed-wing aircraft or a helicopter."""
        return self.group in AIRCRAFT_GROUPS


@dataclass(frozen=True)
class AttributeDef:
    """One attribute of the schema.

    Attributes
    ----------
    name : str
        Attribute name (``"nose_open"``).
    type : {"bool", "enum", "text", "number"}
        Value type.
    values : tuple of str
        Allowed values of an enum.
    applies_to : tuple of str
        Groups and/or class names the attribute is valid for; empty for all classes.
    description : str
        One-line description.
    """

    name: str
    type: str
    values: tuple[str, ...] = ()
    applies_to: tuple[str, ...] = ()
    description: str = ""

    def applies(self, cls: LabelClass) -> bool:
        """Whether the attribute is valid for class ``cls``."""
        return not self.applies_to or cls.name in self.applies_to or cls.group in self.applies_to


@dataclass(frozen=True)
class SchemaIssue:
    """Something in an annotation the schema does not allow; reported, never dropped silently.

    Attributes
    ----------
    kind : {"unknown-class", "unknown-attribute", "bad-value", "not-applicable"}
        What is wrong.
    message : str
        One line naming the class/attribute and the fix.
    annotation_id : str or None
        The box concerned.
    """

    kind: str
    message: str
    annotation_id: str | None = None


@dataclass(frozen=True)
class LabelSchema:
    """Classes and attributes allowed in a project.

    Create with `load_schema` or `default_schema`; class ids in COCO (1-based) and YOLO
    (0-based) follow the order of `classes`.
    """

    name: str
    classes: tuple[LabelClass, ...]
    attributes: Mapping[str, AttributeDef]
    path: str | None = None
    _index: dict[str, LabelClass] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, LabelClass] = {}
        for cls in self.classes:
            for n in (cls.name, *cls.aliases):
                key = name_key(n)
                if key in index and index[key] is not cls:
                    raise AnnotationFormatError(
                        f"{self.path or 'schema'}: the name {n!r} is used by two classes "
                        f"({index[key].name!r} and {cls.name!r}); make it unique"
                    )
                index[key] = cls
        object.__setattr__(self, "_index", index)

    @property
    def class_names(self) -> list[str]:
        """Class names in schema order."""
        return [c.name for c in self.classes]

    def get(self, name: str) -> LabelClass | None:
        """Return the class called ``name`` (or one of its aliases), or ``None``."""
        return self._index.get(name_key(name))

    def resolve(self, name: str) -> str | None:
        """Return the schema's spelling of class ``name`` (aliases allowed), or ``None``."""
        cls = self.get(name)
        return None if cls is None else cls.name

    def index(self, name: str) -> int:
        """Return the 0-based position of class ``name``; `KeyError` when unknown."""
        cls = self.get(name)
        if cls is None:
            raise KeyError(f"class {name!r} is not in the label schema")
        return self.classes.index(cls)

    def coerce(self, attribute: str, value: Any) -> Any:
        """Convert a value read from a file (``"true"``, ``"1"``...) to the attribute's type.

        Raises
        ------
        ValueError
            When the value does not fit the type; the message names the allowed values.
        """
        definition = self.attributes[attribute]
        if definition.type == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, int | float) and value in (0, 1):
                return bool(value)
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(f"{attribute} must be true or false; got {value!r}")
        if definition.type == "enum":
            text = str(value).strip()
            for allowed in definition.values:
                if text.lower() == allowed.lower():
                    return allowed
            raise ValueError(f"{attribute} must be one of {list(definition.values)}; got {value!r}")
        if definition.type == "number":
            if isinstance(value, bool):
                raise ValueError(f"{attribute} must be a number; got {value!r}")
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{attribute} must be a number; got {value!r}") from None
        return str(value)

    def check(
        self, label: str, attributes: Mapping[str, Any], *, annotation_id: str | None = None
    ) -> list[SchemaIssue]:
        """Return what the schema does not allow in a class and its attributes (empty when ok)."""
        issues: list[SchemaIssue] = []
        cls = self.get(label)
        if cls is None:
            issues.append(
                SchemaIssue(
                    "unknown-class",
                    f"class {label!r} is not in the label schema; map it with `class_map` "
                    f"'{label}=<class>' or add it to the schema",
                    annotation_id,
                )
            )
        elif cls.name != label:
            issues.append(
                SchemaIssue(
                    "unknown-class",
                    f"class {label!r} is an alias; store it as {cls.name!r}",
                    annotation_id,
                )
            )
        for name, value in attributes.items():
            definition = self.attributes.get(name)
            if definition is None:
                issues.append(
                    SchemaIssue(
                        "unknown-attribute",
                        f"attribute {name!r} is not in the label schema; "
                        f"known: {', '.join(self.attributes)}",
                        annotation_id,
                    )
                )
                continue
            if cls is not None and not definition.applies(cls):
                issues.append(
                    SchemaIssue(
                        "not-applicable",
                        f"attribute {name!r} does not apply to class {cls.name!r} "
                        f"(only to {', '.join(definition.applies_to)})",
                        annotation_id,
                    )
                )
            try:
                coerced = self.coerce(name, value)
            except ValueError as exc:
                issues.append(SchemaIssue("bad-value", str(exc), annotation_id))
                continue
            if coerced != value or type(coerced) is not type(value):
                issues.append(
                    SchemaIssue(
                        "bad-value",
                        f"{name} is {value!r} ({type(value).__name__}); the schema wants "
                        f"{definition.type} ({coerced!r})",
                        annotation_id,
                    )
                )
        return issues

    def normalise(
        self, label: str, attributes: Mapping[str, Any], *, annotation_id: str | None = None
    ) -> tuple[str, dict[str, Any], list[SchemaIssue]]:
        """Resolve aliases and coerce attribute values, keeping whatever cannot be fixed.

        Used on import: an unknown class or attribute is kept as it is (and reported), so that
        nothing is dropped silently.

        Returns
        -------
        label : str
            The schema's spelling when known, else ``label`` unchanged.
        attributes : dict
            Coerced values where the schema knows the attribute, others unchanged.
        issues : list of SchemaIssue
            What remains wrong (`check` of the result).
        """
        resolved = self.resolve(label) or label
        out: dict[str, Any] = {}
        for name, value in attributes.items():
            if name in self.attributes:
                with contextlib.suppress(ValueError):
                    value = self.coerce(name, value)
            out[name] = value
        return resolved, out, self.check(resolved, out, annotation_id=annotation_id)


def load_schema(path: str | Path) -> LabelSchema:
    """Load a label schema from a YAML or JSON file.

    Parameters
    ----------
    path : str or Path
        The schema file (see ``imagery_tool/data/label_schema.yaml`` for the layout).

    Returns
    -------
    LabelSchema

    Raises
    ------
    AnnotationFormatError
        When the file is missing, malformed, or uses unknown keys, groups or types.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AnnotationFormatError(
            f"{path}: cannot read the label schema ({exc.strerror})"
        ) from exc
    return parse_schema(text, source=str(path))


def parse_schema(text: str, *, source: str = "schema") -> LabelSchema:
    """Parse schema text (YAML or JSON); see `load_schema`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise AnnotationFormatError(f"{source}{where}: {problem}; fix the schema file") from None
    except RecursionError:
        raise AnnotationFormatError(
            f"{source}: YAML nested too deeply to read; fix the schema file"
        ) from None
    if not isinstance(data, dict):
        raise AnnotationFormatError(f"{source}: a label schema is a mapping with 'classes'")
    _only(data, {"version", "name", "classes", "attributes"}, source, "the schema")
    classes = tuple(_parse_class(c, source) for c in _list(data.get("classes"), source, "classes"))
    if not classes:
        raise AnnotationFormatError(f"{source}: the schema lists no classes; add some")
    raw_attrs = data.get("attributes") or {}
    if not isinstance(raw_attrs, dict):
        raise AnnotationFormatError(f"{source}: 'attributes' must be a mapping of name -> spec")
    names = {c.name for c in classes} | set(GROUPS)
    attributes = {n: _parse_attribute(n, spec, source, names) for n, spec in raw_attrs.items()}
    return LabelSchema(str(data.get("name") or source), classes, attributes, path=source)


@lru_cache(maxsize=1)
def default_schema() -> LabelSchema:
    """Return the default schema shipped in ``imagery_tool/data/label_schema.yaml``."""
    text = resources.files("imagery_tool").joinpath("data/label_schema.yaml").read_text("utf-8")
    return parse_schema(text, source="imagery_tool/data/label_schema.yaml")


def _parse_class(raw: Any, source: str) -> LabelClass:
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict) or not raw.get("name"):
        raise AnnotationFormatError(f"{source}: each class needs a 'name'; got {raw!r}")
    _only(raw, {"name", "group", "catalogue", "aliases", "description"}, source, raw["name"])
    group = raw.get("group", "other")
    if group not in GROUPS:
        raise AnnotationFormatError(
            f"{source}: class {raw['name']!r} has group {group!r}; use one of {', '.join(GROUPS)}"
        )
    aliases = tuple(str(a) for a in _list(raw.get("aliases"), source, "aliases"))
    catalogue = raw.get("catalogue")
    return LabelClass(
        str(raw["name"]), group, None if catalogue is None else str(catalogue), aliases
    )


def _parse_attribute(name: str, spec: Any, source: str, names: set[str]) -> AttributeDef:
    if not isinstance(spec, dict):
        raise AnnotationFormatError(f"{source}: attribute {name!r} needs a mapping with 'type'")
    _only(spec, {"type", "values", "applies_to", "description"}, source, f"attribute {name!r}")
    kind = spec.get("type")
    if kind not in ATTRIBUTE_TYPES:
        raise AnnotationFormatError(
            f"{source}: attribute {name!r} has type {kind!r}; "
            f"use one of {', '.join(ATTRIBUTE_TYPES)}"
        )
    values = tuple(str(v) for v in _list(spec.get("values"), source, "values"))
    if kind == "enum" and not values:
        raise AnnotationFormatError(f"{source}: enum attribute {name!r} needs 'values'")
    applies = tuple(str(a) for a in _list(spec.get("applies_to"), source, "applies_to"))
    unknown = [a for a in applies if a not in names]
    if unknown:
        raise AnnotationFormatError(
            f"{source}: attribute {name!r} applies_to unknown classes/groups {unknown}"
        )
    return AttributeDef(name, kind, values, applies, str(spec.get("description", "")))


def _list(value: Any, source: str, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise AnnotationFormatError(f"{source}: '{what}' must be a list; got {value!r}")
    return value


def _only(mapping: Mapping, allowed: Iterable[str], source: str, where: str) -> None:
    extra = sorted(set(mapping) - set(allowed))
    if extra:
        raise AnnotationFormatError(
            f"{source}: unknown key(s) {extra} in {where}; allowed: {', '.join(sorted(allowed))}"
        )
