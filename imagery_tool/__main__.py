"""Run the command line as ``python -m imagery_tool``."""

from imagery_tool.cli import main

main()
