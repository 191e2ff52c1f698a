"""imagery-tool: annotate and compare dated satellite tiles, headless or in napari."""

from imagery_tool.dates import AcquisitionDate
from imagery_tool.errors import ImageryToolError
from imagery_tool.georef import GeoRef
from imagery_tool.tile import Tile, open_tile

__all__ = ["AcquisitionDate", "GeoRef", "ImageryToolError", "Tile", "open_tile"]
__version__ = "0.1.0"
