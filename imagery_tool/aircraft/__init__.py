"""Assisted aircraft annotation: type by size, click-to-box, single-date proposals, inventory."""
