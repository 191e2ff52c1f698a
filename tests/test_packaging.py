"""What the installed tool is made of: no scene generator, every package of the tree shipped."""

import ast
import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SOURCES = (ROOT / "imagery_tool", ROOT / "plugins" / "napari_imagery_tool")
#: The folders the wheel is built from and the package each becomes.
SHIPPED_FOLDERS = {
    "imagery_tool": ROOT / "imagery_tool",
    "napari_imagery_tool": ROOT / "plugins" / "napari_imagery_tool",
    "napari_imagery_tool.sample_tiles": ROOT / "sample_tiles",
}
GENERATOR = "imagery_tool_synthetic"
#: What a working tree holds beside its tracked files (caches, stores made by trying the plugin).
UNTRACKED = ("__pycache__", "*.gpkg", "*.gpkg-*", "*.unsaved.json")


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
    """Dotted names of every folder Python can import under the shipped folders.

    Regular packages and the data folders in them alike (namespace packages): setuptools warns
    that a data folder missing from ``packages`` "would be ignored".
    """
    names = set()
    for package, folder in SHIPPED_FOLDERS.items():
        names.add(package)
        for sub in folder.rglob("*"):
            parts = sub.relative_to(folder).parts
            if sub.is_dir() and "__pycache__" not in parts and all(p.isidentifier() for p in parts):
                names.add(".".join((package, *parts)))
    return names


def test_every_package_of_the_tree_is_in_the_wheel_and_the_generator_is_not():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    # A package or data folder added to the tree must be listed too (see pyproject).
    assert listed == tree_packages()
    assert setuptools["package-dir"]["napari_imagery_tool.sample_tiles"] == "sample_tiles"
    assert not any(name.split(".")[0] == GENERATOR for name in listed)
    assert not (ROOT / "imagery_tool" / "synthetic").exists()


def _can_build_here() -> bool:
    """Whether this environment has the build-system's requirements (the test extra has)."""
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return False
    return major >= 68 and importlib.util.find_spec("wheel") is not None


@pytest.mark.skipif(not _can_build_here(), reason="needs setuptools>=68 and wheel (the test extra)")
def test_the_wheel_ships_the_models_fonts_and_samples_and_no_generator(tmp_path):
    source = tmp_path / "source"  # a copy: the build leaves build/ and egg-info behind
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("imagery_tool", "plugins", "sample_tiles"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns(*UNTRACKED))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
         "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = built.stdout + built.stderr
    assert built.returncode == 0, output[-3000:]
    assert "would be ignored" not in output  # every data folder is a listed package
    (wheel,) = (tmp_path / "dist").glob("imagery_tool-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    samples = "napari_imagery_tool/sample_tiles/"
    assert {
        "imagery_tool/change/data/region_model.json.gz",
        "imagery_tool/aircraft/data/proposal_scorer.json.gz",
        "imagery_tool/data/fonts/DejaVuSans.ttf",
        f"{samples}catalog.json",
        f"{samples}README.md",
        f"{samples}hmeimim_2024-12-13/hmeimim_2024-12-13.json",
        f"{samples}truth/pairs/hmeimim_2024-12-06_2024-12-13.json",
        f"{samples}annotations/hmeimim_2024-12-13_an124.geojson",
        *(
            f"{samples}hmeimim_{date}.tif"
            for date in ("2024-11-29", "2024-12-06", "2024-12-13", "2024-12-20")
        ),
    } <= names
    assert not any(n.startswith((f"{GENERATOR}/", "imagery_tool/synthetic/")) for n in names)
