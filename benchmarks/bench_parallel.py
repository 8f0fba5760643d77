"""sd.parallel.apply on a long multichannel array vs one stream in one process; pickle costs.

    pytest benchmarks/bench_parallel.py --benchmark-enable

The issue's workload is 10**8 x 4 float32 samples; the default here is
STREAMDSP_BENCH_FRAMES = 2 * 10**7 frames x 4 channels (320 MB), chunks of
2**21 frames.
"""

import os
import pickle
import time

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd

FRAMES = int(os.environ.get("STREAMDSP_BENCH_FRAMES", 2 * 10**7))
CHUNK = 2**21
ROUNDS = 3


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).standard_normal((FRAMES, 4), dtype=np.float32)


def fir():
    return sd.FIR(signal.firwin(511, 0.2))


def lti():
    return sd.LTISystem.from_sos(signal.butter(8, 0.1, output="sos"))


def _one_stream(make, x):
    chain = make()
    return np.concatenate([chain.process(x), chain.flush()])[chain.latency:]


@pytest.mark.parametrize("name,make,chunks", [("FIR 511 taps, time chunks", fir, (CHUNK, 4)),
                                              ("LTISystem 8th-order SOS, channel groups", lti, (FRAMES, 1)),
                                              ("LTISystem 8th-order SOS, state scan", lti, (CHUNK, 4))])
def bench_parallel(benchmark, x, name, make, chunks):
    da = pytest.importorskip("dask.array")
    import dask
    benchmark.group = f"parallel.apply {FRAMES} x 4 float32: {name}"
    xd = da.from_array(x, chunks=chunks)
    ref = _one_stream(make, x)
    y = sd.parallel.apply(make(), xd).compute(scheduler="threads", num_workers=2)
    if "scan" in name:      # exact up to rounding (float32 stream)
        assert np.max(np.abs(y - ref)) <= 5e-6 * np.max(np.abs(ref))
    else:                   # bit for bit, or the speed means nothing
        assert np.array_equal(y, ref)
    benchmark.extra_info.update(impl="streamdsp", frames=FRAMES)
    with dask.config.set(scheduler="threads", num_workers=2):
        benchmark.pedantic(lambda: sd.parallel.apply(make(), xd).compute(), rounds=ROUNDS, iterations=1)


@pytest.mark.parametrize("name,make", [("FIR 511 taps, time chunks", fir),
                                       ("LTISystem 8th-order SOS, channel groups", lti),
                                       ("LTISystem 8th-order SOS, state scan", lti)])
def bench_one_stream(benchmark, x, name, make):
    benchmark.group = f"parallel.apply {FRAMES} x 4 float32: {name}"
    benchmark.extra_info.update(impl="one stream, one process", frames=FRAMES)
    benchmark.pedantic(lambda: _one_stream(make, x), rounds=ROUNDS, iterations=1)


def _graph_with_one_second_of_state():
    g = sd.Graph()
    a = g.input()
    wet = a >> sd.Delay(48000) >> sd.FIR(np.hanning(255))
    g.output(g.add(sd.Mix([0.5, 0.5]), a >> sd.Gain(1.0), wet))
    return g


@pytest.mark.parametrize("what", ["Convolver 96000 taps", "graph with 1 s of state"])
def bench_pickle(benchmark, what):
    if what.startswith("Convolver"):
        ir = np.random.default_rng(1).standard_normal(96000) * np.exp(-np.arange(96000) / 20000)
        block = sd.Convolver(ir, block_size=256)
    else:
        block = _graph_with_one_second_of_state()
    block.process(np.zeros((4096, 2), np.float32))
    data = pickle.dumps(block, protocol=5)
    benchmark.group = f"pickle.loads, {what}, stereo float32 mid-stream"
    benchmark.extra_info.update(impl="streamdsp", pickle_bytes=len(data))
    t0 = time.perf_counter()
    pickle.dumps(block, protocol=5)
    benchmark.extra_info.update(dumps_s=time.perf_counter() - t0)
    benchmark(pickle.loads, data)
