"""pytest configuration: hypothesis profiles and the `case` fixture over every block in the contract."""

import os

# The tests pin the choices the cost model makes with the reference constants,
# on every machine and whatever `streamdsp calibrate` stored in this user's
# cache; set before streamdsp is imported, which reads them once.
os.environ["STREAMDSP_COSTMODEL"] = "x86-64-v4"

import pytest  # noqa: E402

from _support import CASES  # noqa: E402


@pytest.fixture(params=CASES, ids=str)
def case(request):
    return request.param


@pytest.fixture(scope="session")
def dask_client():
    """A real Dask cluster of two worker processes, shared by the session; none is left behind."""
    import psutil
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    workers = [psutil.Process(w.pid) for w in cluster.workers.values() if getattr(w, "pid", None)]
    assert len(workers) == 2
    yield client
    client.close()
    cluster.close()
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"Dask worker processes left behind: {alive}"
