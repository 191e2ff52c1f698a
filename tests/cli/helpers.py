"""Run the real command line in a subprocess, as a user or a script would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """Run ``imagery-tool ARGS`` and return the completed process (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "imagery_tool", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit 2 with a single stderr line that contains every fragment, and no traceback."""
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def write_catalog_with_a_broken_item_link(folder: Path) -> Path:
    """Write a STAC catalog whose one item link points to a file that does not exist."""
    catalog = folder / "catalog.json"
    links = [
        {"rel": "root", "href": "./catalog.json", "type": "application/json"},
        {"rel": "item", "href": "./gone/gone.json", "type": "application/json"},
    ]
    catalog.write_text(
        json.dumps(
            {"type": "Catalog", "id": "site", "stac_version": "1.0.0", "description": "two dates",
             "links": links}
        )
    )  # fmt: skip
    return catalog
