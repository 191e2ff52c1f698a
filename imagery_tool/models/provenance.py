"""How a model was made: the code that measures its features, the commit, decoder and libraries."""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
import platform
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["feature_code_hash", "git_commit", "jpeg_decoder", "library_versions", "training_record"]

ROOT = Path(__file__).resolve().parents[2]
_LIBRARIES = ("numpy", "scikit-learn", "opencv-python-headless", "rasterio", "scipy")


def feature_code_hash(names: Sequence[str], modules: Iterable[str]) -> str | None:
    """Return a hash of the feature names and of the code of the modules that measure them.

    The code is hashed as its syntax tree without docstrings, written out field by field
    without empty ones (so that Python versions that add fields to the tree agree): comments,
    docstrings and formatting do not count; any other edit of the modules does.

    Parameters
    ----------
    names : sequence of str
        The feature names, in column order.
    modules : iterable of str
        Dotted names of the modules that compute the features.

    Returns
    -------
    str or None
        ``"sha256:"`` and 16 hex digits; None when a module's source cannot be read (an
        installation without ``.py`` files).
    """
    digest = hashlib.sha256("\n".join(names).encode())
    for name in modules:
        spec = importlib.util.find_spec(name)
        source = spec.loader.get_source(name) if spec and spec.loader else None
        if source is None:
            return None
        digest.update(name.encode())
        digest.update(_canonical(_without_docstrings(ast.parse(source))).encode())
    return "sha256:" + digest.hexdigest()[:16]


def _canonical(node: object) -> str:
    """Write a syntax tree out as text: node types and their non-empty fields, no positions."""
    if isinstance(node, ast.AST):
        fields = (
            f"{name}={_canonical(value)}"
            for name in node._fields
            if (value := getattr(node, name, None)) is not None and value != []
        )
        return f"{type(node).__name__}({','.join(fields)})"
    if isinstance(node, list):
        return "[" + ",".join(_canonical(item) for item in node) + "]"
    return repr(node)


def _without_docstrings(tree: ast.Module) -> ast.Module:
    """Drop the docstring of the module and of each class and function."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            value = first.value if isinstance(first, ast.Expr) else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return tree


def git_commit(root: Path = ROOT) -> str:
    """Return the commit of the code in ``root``, ``-dirty`` when the package's files differ.

    Returns ``"unknown"`` outside a git checkout.
    """
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "imagery_tool"], cwd=root, capture_output=True,
            text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def jpeg_decoder() -> str:
    """Name the path JPEG tiles are decoded through now (`imagery_tool.runtime.current`).

    Returns
    -------
    str
        ``"libjpeg-turbo (OpenCV <version>)"`` or ``"GDAL"``, as results record it.
    """
    from imagery_tool.runtime import current

    return current().to_dict()["jpeg_decoder"]


def library_versions(names: Iterable[str] = _LIBRARIES) -> dict[str, str | None]:
    """Return the installed versions of the libraries that shape a model, None when absent."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def training_record(*, script: str, estimator: str, data: dict, root: Path = ROOT) -> dict:
    """Return the provenance of a model trained now, in this process.

    Parameters
    ----------
    script : str
        The trainer, as a path in the repository (``"tools/train_region_model.py"``).
    estimator : str
        The learner and its settings.
    data : dict
        The training data sets and their counts.
    root : Path, optional
        The repository whose commit is recorded.

    Returns
    -------
    dict
        ``script``, ``commit``, ``trained`` (UTC date), ``jpeg_decoder``, ``libraries``,
        ``estimator``, ``data``. (The hash of the feature code is the model file's own
        ``feature_code``, which loading checks.)
    """
    return {
        "script": script,
        "commit": git_commit(root),
        "trained": dt.datetime.now(dt.UTC).date().isoformat(),
        "jpeg_decoder": jpeg_decoder(),
        "libraries": library_versions(),
        "estimator": estimator,
        "data": data,
    }
