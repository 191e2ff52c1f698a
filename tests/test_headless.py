"""The core and the CLI never load napari, Qt or (for the core) click."""

import subprocess
import sys

GUI_MODULES = ("napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "vispy")


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_core_imports_no_gui_and_no_click():
    modules = loaded_after("import imagery_tool, imagery_tool.display, imagery_tool.summary")
    roots = {name.split(".")[0] for name in modules}
    assert not roots & set(GUI_MODULES)
    # rasterio itself may import click (for its own `rio` CLI); the core adds no CLI code.
    assert not {name for name in modules if name.startswith("imagery_tool.cli")}


def test_cli_imports_no_gui():
    modules = loaded_after(
        "import imagery_tool.cli as c\nfor name in c.COMMANDS: c.cli.get_command(None, name)"
    )
    assert not {name.split(".")[0] for name in modules} & set(GUI_MODULES)
