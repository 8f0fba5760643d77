"""Per-call overhead: Gain.process on small chunks against np.multiply(out=) and pedalboard.Gain.

    pytest benchmarks/bench_gain.py --benchmark-enable
"""

import numpy as np
import pytest

import streamdsp as sd

CHUNKS = [64, 256, 4096]


@pytest.mark.parametrize("n", CHUNKS)
def bench_gain_streamdsp(benchmark, n):
    x = np.ones(n, dtype=np.float32)
    out = np.empty_like(x)
    g = sd.Gain(0.5)
    g.process(x, out=out)
    benchmark.group = f"Gain chunk={n}"
    benchmark.extra_info.update(impl="streamdsp", frames=n)
    benchmark(g.process, x, out)


@pytest.mark.parametrize("n", CHUNKS)
def bench_gain_numpy(benchmark, n):
    x = np.ones(n, dtype=np.float32)
    out = np.empty_like(x)
    g = np.float32(0.5)
    benchmark.group = f"Gain chunk={n}"
    benchmark.extra_info.update(impl="np.multiply(out=)", frames=n)
    benchmark(np.multiply, x, g, out)


@pytest.mark.parametrize("n", CHUNKS)
def bench_gain_pedalboard(benchmark, n):
    pedalboard = pytest.importorskip("pedalboard")
    x = np.ones((1, n), dtype=np.float32)
    g = pedalboard.Gain(gain_db=-6.0)
    benchmark.group = f"Gain chunk={n}"
    benchmark.extra_info.update(impl="pedalboard.Gain", frames=n)
    benchmark(g.process, x, 48000, n, False)
