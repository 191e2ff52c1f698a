"""A generated 12-date Hmeimim series, its local run, and a real two-worker LocalCluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagery_tool_synthetic import write_series
from imagery_tool_synthetic.timeline import hmeimim_timeline_series

from imagery_tool.series import run_series


@pytest.fixture(scope="session")
def series12(tmp_path_factory) -> tuple[object, Path]:
    """The 12-date scenario (512 px, 8 aircraft) written as COGs with a STAC catalog."""
    series = hmeimim_timeline_series(size=512)
    folder = tmp_path_factory.mktemp("series12")
    write_series(series, folder, block=512)
    return series, folder


@pytest.fixture(scope="session")
def local_run12(series12, tmp_path_factory):
    """The series run on the default local scheduler: (report, outdir)."""
    _, folder = series12
    outdir = tmp_path_factory.mktemp("local12")
    return run_series(folder, outdir), outdir


def make_cluster(n_workers: int = 2, **config):
    """A real LocalCluster of worker processes on the loopback interface."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(config):
        return LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # loopback, any free port (None binds :8787)
        )


@pytest.fixture(scope="session")
def cluster():
    """Two worker processes, shared by the tests that do not break workers."""
    pytest.importorskip("distributed")
    c = make_cluster(2)
    yield c
    c.close()
