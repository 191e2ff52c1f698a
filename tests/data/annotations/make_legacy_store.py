"""Write ``legacy_store.gpkg``: a store as imagery-tool wrote it before the label schema named
its attribute columns (commit 3e9409b). Run from this folder with that commit's package first
on the path: ``PYTHONPATH=<checkout at 3e9409b> python make_legacy_store.py``.
"""

from affine import Affine
from rasterio.crs import CRS

from imagery_tool.annotations.model import BoxAnnotation
from imagery_tool.annotations.store import TileRecord, open_store
from imagery_tool.georef import GeoRef

TILE = "hmeimim_2024-12-13.tif"

georef = GeoRef(400, 400, Affine(0.5, 0, 766000, 0, -0.5, 3921000), CRS.from_epsg(32636))
with open_store("legacy_store.gpkg", project="legacy", author="ann") as s:
    s.add_tile(TileRecord.from_georef(TILE, georef, acquired="2024-12-13T08:21:00Z"))
    a = BoxAnnotation.from_center(
        200, 200, 138, 147, 30, label="An-124", tile=TILE,
        attributes={"nose_open": True, "confidence": "high"},
        id="00000000-0000-4000-8000-000000000001",
        created="2024-12-14T10:00:00Z", modified="2024-12-14T10:00:00Z",
    )  # fmt: skip
    b = BoxAnnotation.from_center(
        100, 300, 40, 40, 0, label="fuel truck", tile=TILE, attributes={"note": "by the apron"},
        id="00000000-0000-4000-8000-000000000002",
        created="2024-12-14T10:01:00Z", modified="2024-12-14T10:01:00Z",
    )  # fmt: skip
    a, b = s.add_many([a, b])
    s.update(a.replace(attributes={**a.attributes, "engines_covered": True}))
    s._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the code of that commit had no public way
