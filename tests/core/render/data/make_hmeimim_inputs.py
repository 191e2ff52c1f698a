"""Write the render inputs derived from the sample tiles' truth (run from the repo root).

- ``sample_tiles/annotations/hmeimim_2024-12-13_an124.geojson``: the two An-124 of 2024-12-13
  (``nose_open``), as an analyst's annotation file (imagery-tool GeoJSON, pixel corners, lon/lat).
- ``hmeimim_2024-12-06_2024-12-13_truth_changes.geojson``: what ``imagery-tool detect`` writes
  (RFC 7946, ``change``, ``score``, ``area_m2``, ``bbox_px`` on BEFORE's grid, dates), made from
  the pair truth: one feature per object that appeared or disappeared, its oriented outline.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[3] / "sample_tiles"
BEFORE, AFTER = "2024-12-06", "2024-12-13"


def annotations(samples: Path = SAMPLES) -> list:
    """The two An-124 of 2024-12-13 as `BoxAnnotation` objects (fixed ids and times)."""
    from imagery_tool.annotations import BoxAnnotation

    truth = json.loads((samples / "truth" / f"hmeimim_{AFTER}.json").read_text())
    return [
        BoxAnnotation(
            tuple(map(tuple, o["corners_px"])), o["class"], attributes=o["attributes"],
            id=f"00000000-0000-4000-8000-00000000000{i}", author="analyst",
            created="2024-12-14T09:00:00.000Z", tile=truth["tile"],
            acquired=truth["datetime"],
        )
        for i, o in enumerate(o for o in truth["objects"] if o["class"] == "An-124")
    ]  # fmt: skip


def changes(samples: Path = SAMPLES) -> dict:
    """The pair truth of 2024-12-06 -> 2024-12-13 as a detect-style FeatureCollection."""
    pair = json.loads((samples / "truth" / "pairs" / f"hmeimim_{BEFORE}_{AFTER}.json").read_text())
    features = []
    for kind in ("appeared", "disappeared"):
        for o in pair[kind]:
            ring = [list(p) for p in o["corners_lonlat"]]
            features.append({
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                "properties": {
                    "change": kind, "score": 1.0,
                    "area_m2": round(o["length_m"] * o["width_m"], 1),
                    "bbox_px": [round(v, 3) for v in o["bbox_px_before"]],
                    "before_date": BEFORE, "after_date": AFTER, "truth_id": o["id"],
                },
            })  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def main() -> None:
    """Write both files beside this script."""
    from imagery_tool.annotations.formats import write_annotations
    from imagery_tool.annotations.store import TileRecord
    from imagery_tool.tile import open_tile

    tile = open_tile(SAMPLES / f"hmeimim_{AFTER}.tif")
    write_annotations(
        annotations(),
        SAMPLES / "annotations" / f"hmeimim_{AFTER}_an124.geojson",
        tiles=[TileRecord.from_tile(tile)],
    )
    out = HERE / f"hmeimim_{BEFORE}_{AFTER}_truth_changes.geojson"
    out.write_text(json.dumps(changes(), indent=1) + "\n")


if __name__ == "__main__":
    main()
