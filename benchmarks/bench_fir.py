"""FIR: streamdsp (auto, direct, fft) against scipy.signal.lfilter with carried zi, a numba loop and pyFFTW UPOLS.

    pytest benchmarks/bench_fir.py --benchmark-enable

Grid: taps 16, 128, 1024 x chunk 64, 256, 4096, mono float32, one call per round.
"""

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd
from _peers import FFTWUPOLS, NumbaFIR

TAPS = [16, 128, 1024]
CHUNKS = [64, 256, 4096]


def _taps(n):
    return signal.firwin(n, 0.2) if n > 1 else np.ones(1)


@pytest.fixture
def chunk(request):
    return np.random.default_rng(0).standard_normal(request.param).astype(np.float32)


def _case(ntaps, n):
    return pytest.mark.parametrize("ntaps,chunk", [(ntaps, n)], indirect=["chunk"])


GRID = [(t, c) for t in TAPS for c in CHUNKS]


def _run(benchmark, impl, ntaps, chunk, fn):
    """Time `reps` consecutive calls per round, so that paths which transform
    once per block are charged for whole blocks (a median of single calls
    would mostly see the calls that only copy)."""
    reps = max(1, 4096 // len(chunk))
    benchmark.group = f"FIR taps={ntaps} chunk={len(chunk)} (x{reps} calls per round)"
    benchmark.extra_info.update(impl=impl, frames=len(chunk) * reps, calls=reps)

    def many():
        for _ in range(reps):
            fn()
    for _ in range(3):  # warm up state and caches
        many()
    benchmark(many)


@pytest.mark.parametrize("ntaps,chunk", GRID, indirect=["chunk"])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def bench_streamdsp(benchmark, ntaps, chunk, method):
    block_size = None
    if method == "fft":
        block_size = len(chunk)  # partition = chunk, as the UPOLS peer
    fir = sd.FIR(_taps(ntaps), method=method, block_size=block_size)
    out = np.empty_like(chunk)
    impl = "streamdsp" if method == "auto" else f"streamdsp {method}"
    if method == "auto":
        benchmark.extra_info["chosen"] = fir.method
    _run(benchmark, impl, ntaps, chunk, lambda: fir.process(chunk, out=out))


@pytest.mark.parametrize("ntaps,chunk", GRID, indirect=["chunk"])
def bench_lfilter_zi(benchmark, ntaps, chunk):
    b = _taps(ntaps).astype(np.float32)
    a = np.ones(1, dtype=np.float32)
    zi = [np.zeros(ntaps - 1, dtype=np.float32)]

    def step():
        y, zi[0] = signal.lfilter(b, a, chunk, zi=zi[0])
        return y
    _run(benchmark, "scipy lfilter+zi", ntaps, chunk, step)


@pytest.mark.parametrize("ntaps,chunk", GRID, indirect=["chunk"])
def bench_numba_direct(benchmark, ntaps, chunk):
    peer = NumbaFIR(_taps(ntaps), len(chunk))
    out = np.empty_like(chunk)
    _run(benchmark, "numba direct", ntaps, chunk, lambda: peer.process(chunk, out))


@pytest.mark.parametrize("ntaps,chunk", GRID, indirect=["chunk"])
def bench_pyfftw_upols(benchmark, ntaps, chunk):
    peer = FFTWUPOLS(_taps(ntaps), len(chunk))
    out = np.empty_like(chunk)
    _run(benchmark, "pyfftw UPOLS", ntaps, chunk, lambda: peer.process(chunk, out))
