"""sd.batch over many files: threads (default) vs a plain loop, and a Dask cluster of 2 vs 1 workers.

    pytest benchmarks/bench_batch.py --benchmark-enable

The issue's workload is 40 files of 30 s stereo at 48 kHz; that is 460 MB of
input, so the default here is smaller (STREAMDSP_BENCH_FILES, _SECONDS).
Each round writes into a new folder (a second run into the same one would
skip every file).
"""

import itertools
import os
import shutil
import tempfile

import numpy as np
import pytest
import soundfile

import streamdsp as sd

FILES = int(os.environ.get("STREAMDSP_BENCH_FILES", 12))
SECONDS = float(os.environ.get("STREAMDSP_BENCH_SECONDS", 10))
RATE = 48000
ROUNDS = 3
GROUP = f"batch {FILES} files x {SECONDS:g} s stereo: FIR(511) >> SavitzkyGolay(31, 3) >> Gain"


def make_chain():
    return sd.FIR(np.hanning(511) / 256) >> sd.SavitzkyGolay(31, 3) >> sd.Gain(0.5)


@pytest.fixture(scope="module")
def inputs():
    d = tempfile.mkdtemp(prefix="bench-batch-")
    rng = np.random.default_rng(0)
    paths = []
    for k in range(FILES):
        p = os.path.join(d, f"take{k:03d}.wav")
        soundfile.write(p, (0.2 * rng.standard_normal((int(SECONDS * RATE), 2))).astype(np.float32),
                        RATE, subtype="FLOAT")
        paths.append(p)
    return paths


_fresh = itertools.count()
_last = []


def _out():
    """A new output folder per round; the previous round's is removed (40 x 30 s is 460 MB)."""
    while _last:
        shutil.rmtree(_last.pop(), ignore_errors=True)
    d = os.path.join(tempfile.gettempdir(), f"bench-batch-out-{os.getpid()}-{next(_fresh)}")
    _last.append(d)
    return d


def _run(benchmark, impl, fn):
    benchmark.group = GROUP
    benchmark.extra_info.update(impl=impl, frames=int(FILES * SECONDS * RATE))
    benchmark.pedantic(fn, setup=lambda: ((_out(),), {}), rounds=ROUNDS, iterations=1)


def bench_batch_threads(benchmark, inputs):
    _run(benchmark, "streamdsp", lambda out: sd.batch(make_chain(), inputs, out, progress=False))


def bench_plain_loop(benchmark, inputs):
    def loop(out):
        os.makedirs(out)
        for p in inputs:
            sd.run(sd.FileSource(p, chunk_size=65536) >> make_chain()
                   >> sd.FileSink(os.path.join(out, os.path.basename(p)), RATE, flush_every=None))
    _run(benchmark, "plain loop, sd.run per file", loop)


@pytest.fixture(scope="module", params=[1, 2], ids=["1 worker", "2 workers"])
def cluster(request):
    distributed = pytest.importorskip("distributed")
    c = distributed.LocalCluster(n_workers=request.param, threads_per_worker=1, processes=True,
                                 dashboard_address=None)
    client = distributed.Client(c)
    yield request.param, client
    client.close()
    c.close()


def bench_batch_dask(benchmark, inputs, cluster):
    n, client = cluster
    _run(benchmark, f"dask LocalCluster, {n} worker{'s' if n > 1 else ''}",
         lambda out: sd.batch(make_chain(), inputs, out, client=client, progress=False))
