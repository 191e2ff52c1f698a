"""What the installed tool is made of: no scene generator, every package of the tree shipped."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SOURCES = (ROOT / "imagery_tool", ROOT / "plugins" / "napari_imagery_tool")
GENERATOR = "imagery_tool_synthetic"


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module a source file imports, at any depth (lazy imports too)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_tool_and_its_plugin_never_import_the_generator():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in SHIPPED_SOURCES
        for path in sorted(folder.rglob("*.py"))
        if GENERATOR in imported_roots(path)
    ]
    assert offenders == []


def tree_packages() -> set[str]:
    """Dotted names of the regular packages under the tool's and the plugin's folders."""
    names = set()
    for folder in SHIPPED_SOURCES:
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder.parent).parts
            names.add(".".join(parts))
    return names


def test_every_package_of_the_tree_is_in_the_wheel_and_the_generator_is_not():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    # A package added to the tree must be listed too (the list is explicit; see pyproject).
    assert listed == tree_packages() | {"napari_imagery_tool.sample_tiles"}
    assert setuptools["package-dir"]["napari_imagery_tool.sample_tiles"] == "sample_tiles"
    assert not any(name.split(".")[0] == GENERATOR for name in listed)
    assert not (ROOT / "imagery_tool" / "synthetic").exists()
