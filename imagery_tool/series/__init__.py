"""Time series of dated tiles: order, co-register, detect per pair, track objects, on Dask."""

from imagery_tool.series.engine import LOCAL_SCHEDULERS, open_engine
from imagery_tool.series.inputs import DUPLICATE_POLICIES, SeriesInputs, SiteSeries, collect_inputs
from imagery_tool.series.run import SeriesReport, SiteReport, run_series
from imagery_tool.series.timeline import SIZE_CLASSES, Timeline
from imagery_tool.series.tracking import Event, Track, track_objects

__all__ = [
    "DUPLICATE_POLICIES",
    "LOCAL_SCHEDULERS",
    "SIZE_CLASSES",
    "Event",
    "SeriesInputs",
    "SeriesReport",
    "SiteReport",
    "SiteSeries",
    "Timeline",
    "Track",
    "collect_inputs",
    "open_engine",
    "run_series",
    "track_objects",
]
