"""The model file: one format for every learned model, read with its checks, written gzipped.

A model file is JSON, gzipped when its name ends in ``.gz`` (the shipped ones are: trees are
long lists of numbers); ``zcat`` shows it indented, each node array on one line::

    {
     "format": "imagery-tool model",
     "format_version": 1,
     "model": "region model",
     "features": ["log_length_m", ...],
     "feature_code": "sha256:…",
     "operating_points": {"min_score": 0.25, ...},
     "provenance": {"script": …, "commit": …, "trained": …, "jpeg_decoder": …, …},
     "predictors": {"changed_object": {"kind": "boosted trees", "link": "logistic", …}}
    }

A predictor is ``{"kind": "boosted trees", ...}`` (`imagery_tool.models.trees.BoostedTrees`)
or ``{"kind": "logistic regression", ...}`` (its own reader in the model that uses it).

Each kind of model says what its files hold once, as a `ModelKind`, and is loaded through
`load_model_file` (its shipped file found by `shipped_model_file`, through importlib.resources).
"""

from __future__ import annotations

import gzip
import json
import re
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

from imagery_tool.atomic import atomic_write_bytes
from imagery_tool.errors import FeatureCodeWarning, ModelFileError
from imagery_tool.models.provenance import feature_code_hash

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelKind",
    "dumps_model",
    "load_model_file",
    "read_model",
    "shipped_model_file",
    "write_model",
]

FORMAT = "imagery-tool model"
FORMAT_VERSION = 1
_NUMBER_LIST = re.compile(r"\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]")
#: What building a model from a well-formed record raises when a field is missing or malformed.
_MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError)
Model = TypeVar("Model")


@dataclass(frozen=True)
class ModelKind:
    """One kind of learned model: what its files must hold and how to make one.

    Attributes
    ----------
    name : str
        The file's ``model`` field (``"region model"``, ``"aircraft proposal scorer"``).
    features : tuple of str
        The feature names the code measures today, in column order.
    feature_modules : tuple of str
        Dotted names of the modules whose code measures `features`.
    retrain : str
        The command that makes a model of this kind, for the messages.
    """

    name: str
    features: tuple[str, ...]
    feature_modules: tuple[str, ...]
    retrain: str

    def feature_code(self) -> str | None:
        """Return the hash of `features` and of the code measuring them (`feature_code_hash`)."""
        return _feature_code(self.features, self.feature_modules)

    def record(self, *, operating_points: dict, provenance: dict, predictors: dict) -> dict:
        """Return a model-file record of this kind, with today's feature code (`write_model`)."""
        return {
            "model": self.name,
            "features": list(self.features),
            "feature_code": self.feature_code(),
            "operating_points": operating_points,
            "provenance": provenance,
            "predictors": predictors,
        }


@cache
def _feature_code(features: tuple[str, ...], modules: tuple[str, ...]) -> str | None:
    return feature_code_hash(features, modules)


def load_model_file(
    path: str | Path,
    *,
    kind: ModelKind,
    build: Callable[[dict], Model],
    content: bytes | None = None,
) -> Model:
    """Read a model file of `kind` (`read_model`) and build the model from its record.

    Parameters
    ----------
    path : str or Path
        The file; named in every message.
    kind : ModelKind
        What the file must hold.
    build : callable
        ``build(record) -> model``; a missing or malformed field may raise KeyError,
        IndexError, TypeError, ValueError or AttributeError.
    content : bytes, optional
        The file's bytes when already read (`shipped_model_file`).

    Returns
    -------
    The model `build` returned.

    Raises
    ------
    ModelFileError
        As `read_model`, and when `build` finds the record malformed: one line naming the
        file and the command that retrains it.

    Warns
    -----
    FeatureCodeWarning
        When the code that measures the features changed since the model was trained.
    """
    record = read_model(
        path, model=kind.name, features=kind.features, feature_code=kind.feature_code(),
        retrain=kind.retrain, content=content,
    )  # fmt: skip
    try:
        _check_operating_points(record.get("operating_points", {}))
        return build(record)
    except _MALFORMED as exc:
        raise ModelFileError(
            f"{path}: a malformed {kind.name} file ({type(exc).__name__}: {exc}); "
            f"retrain it with {kind.retrain}"
        ) from None


def shipped_model_file(package: str, name: str) -> tuple[str, bytes]:
    """Find a model file shipped inside a package, through importlib.resources.

    Parameters
    ----------
    package : str
        The package holding it (``"imagery_tool.change"``).
    name : str
        Its path in the package (``"data/region_model.json.gz"``).

    Returns
    -------
    label : str
        Its path in the source tree, for messages (``"imagery_tool/change/data/..."``).
    content : bytes
        The file's bytes, for `load_model_file`.
    """
    content = resources.files(package).joinpath(name).read_bytes()
    return f"{package.replace('.', '/')}/{name}", content


def read_model(
    path: str | Path,
    *,
    model: str,
    features: Sequence[str],
    feature_code: str | None,
    retrain: str,
    content: bytes | None = None,
) -> dict:
    """Read a model file and check it against the code that will use it.

    Parameters
    ----------
    path : str or Path
        The file (plain or gzipped JSON); named in every message.
    model : str
        The kind of model expected (``"region model"``, ``"aircraft proposal scorer"``).
    features : sequence of str
        The feature names the code measures today, in column order.
    feature_code : str or None
        `imagery_tool.models.provenance.feature_code_hash` of that code (None: its source
        cannot be read, nothing to compare).
    retrain : str
        The command that makes a model of this kind, for the messages.
    content : bytes, optional
        The file's bytes when already read (a packaged resource).

    Returns
    -------
    dict
        The record as written; its predictors still plain JSON.

    Raises
    ------
    ModelFileError
        When the file cannot be read, is no model file, has a newer format, is another kind
        of model or was trained on other features than `features`.

    Warns
    -----
    FeatureCodeWarning
        When the code that measures the features changed since the model was trained.
    """
    try:
        data = Path(path).read_bytes() if content is None else content
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        record = json.loads(data)
    except (OSError, EOFError, zlib.error, ValueError) as exc:  # BadGzipFile is an OSError
        raise ModelFileError(f"{path}: cannot read the model file ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ModelFileError(
            f"{path}: not an {FORMAT} file (format {FORMAT_VERSION}); make one with {retrain}"
        )
    version = record.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format {version!r} is newer than this imagery-tool reads "
            f"({FORMAT_VERSION}); upgrade imagery-tool or retrain with {retrain}"
        )
    if record.get("model") != model:
        raise ModelFileError(f"{path}: a {record.get('model')!r} file, not a {model}")
    if list(record.get("features", ())) != list(features):
        raise ModelFileError(
            f"{path}: trained on other features than this imagery-tool measures "
            f"({_feature_difference(record.get('features', ()), features)}); "
            f"retrain it with {retrain}"
        )
    recorded = record.get("feature_code")
    if feature_code is not None and recorded != feature_code:
        warnings.warn(
            f"{path}: the code measuring the features changed since this model was trained "
            f"({recorded} then, {feature_code} now); check its scores or retrain with {retrain}",
            FeatureCodeWarning,
            stacklevel=4,  # the caller of the model's load, through load_model_file
        )
    return record


def _feature_difference(found: Sequence[str], expected: Sequence[str]) -> str:
    """Say in a few words how two feature lists differ."""
    found, expected = list(found), list(expected)
    missing = [f for f in expected if f not in found]
    extra = [f for f in found if f not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append("lacks " + ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else ""))
        if extra:
            parts.append("has " + ", ".join(extra[:3]) + (" ..." if len(extra) > 3 else ""))
        return "; ".join(parts)
    return "same features in another order"


def dumps_model(record: dict) -> str:
    """Return a model record as indented JSON, each list of numbers on one line."""
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, **record}
    text = json.dumps(full, indent=1, allow_nan=False)
    return _NUMBER_LIST.sub(lambda m: "[" + re.sub(r",\s+", ",", m.group(1)) + "]", text) + "\n"


def write_model(path: str | Path, record: dict) -> Path:
    """Write a model record as a model file, gzipped when ``path`` ends in ``.gz``.

    Parameters
    ----------
    path : str or Path
    record : dict
        ``model``, ``features``, ``feature_code``, ``operating_points``, ``provenance``,
        ``predictors`` (plain JSON types); the format and its version are added.

    Returns
    -------
    Path
        The file written (atomically; gzip without a time stamp, so equal models give equal
        bytes).
    """
    data = dumps_model(record).encode()
    if str(path).endswith(".gz"):
        data = gzip.compress(data, compresslevel=9, mtime=0)
    return atomic_write_bytes(path, data)


def _check_operating_points(points: dict) -> None:
    """Refuse an operating point that is not a score: a number in 0..1 (or None: not set).

    Raises
    ------
    TypeError, ValueError
        Naming the point.
    """
    for name, value in dict(points).items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"operating point {name} is {value!r}, not a number")
        if not 0.0 <= value <= 1.0:  # NaN fails too
            raise ValueError(f"operating point {name} is {value}, not a score in 0..1")
