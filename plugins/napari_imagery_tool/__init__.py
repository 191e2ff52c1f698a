"""napari plugin of imagery-tool: dated tiles, boxes with attributes, date comparison, export."""

__version__ = "0.1.0"
