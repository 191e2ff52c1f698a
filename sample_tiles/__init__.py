"""The Hmeimim sample tiles, shipped as `napari_imagery_tool.sample_tiles` package data."""
