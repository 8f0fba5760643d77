"""LTISystem: 8th-order Butterworth (4 sections) against scipy.signal.sosfilt/lfilter with carried zi and a numba DF2T loop.

    pytest benchmarks/bench_lti.py --benchmark-enable

Grid: chunk 1, 16, 64, 256, 4096 x mono and 8 channels, float32 stream, one
call per round, one group per (chunk, channels).  Every implementation keeps
its state between calls and computes in float64, as LTISystem does (scipy
promotes to float64 because the sections are float64; the numba peer widens
each sample): the same work, the same accuracy.

Targets (issue 4): <= 1.5 us per call at chunk 16 (goal 1.0 us); mono chunk
4096 >= 1x sosfilt; 8 channels chunk 4096 >= 2.5x sosfilt.
"""

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd

try:
    import numba
except ImportError:  # the bench extra is not installed
    numba = None

SOS = signal.butter(8, 0.2, output="sos")
BA = signal.butter(8, 0.2)
CHUNKS = [1, 16, 64, 256, 4096]
CHANNELS = [1, 8]
GRID = [(n, c) for c in CHANNELS for n in CHUNKS]


if numba is not None:
    @numba.njit(cache=True, fastmath=False, boundscheck=False)
    def _numba_sos_mono(sos, zi, x, y):
        nsec = sos.shape[0]
        for i in range(x.shape[0]):
            v = np.float64(x[i])
            for s in range(nsec):
                yk = sos[s, 0] * v + zi[s, 0]
                zi[s, 0] = sos[s, 1] * v - sos[s, 4] * yk + zi[s, 1]
                zi[s, 1] = sos[s, 2] * v - sos[s, 5] * yk
                v = yk
            y[i] = v

    @numba.njit(cache=True, fastmath=False, boundscheck=False)
    def _numba_sos_channels(sos, zi, buf, x, y):
        # channels innermost: contiguous in the interleaved layout, so the
        # section update vectorises across channels
        nsec = sos.shape[0]
        ch = x.shape[1]
        for i in range(x.shape[0]):
            for c in range(ch):
                buf[c] = x[i, c]
            for s in range(nsec):
                b0, b1, b2, a1, a2 = sos[s, 0], sos[s, 1], sos[s, 2], sos[s, 4], sos[s, 5]
                for c in range(ch):
                    v = buf[c]
                    yk = b0 * v + zi[s, 0, c]
                    zi[s, 0, c] = b1 * v - a1 * yk + zi[s, 1, c]
                    zi[s, 1, c] = b2 * v - a2 * yk
                    buf[c] = yk
            for c in range(ch):
                y[i, c] = buf[c]


class NumbaSOS:
    """Cascaded sections in transposed direct form II, float64 state, fastmath off."""

    def __init__(self, sos, channels):
        if numba is None:
            raise ImportError("numba is not installed (pip install '.[bench]')")
        self.sos = np.ascontiguousarray(sos, dtype=np.float64)
        self.zi = np.zeros((len(sos), 2) if channels == 1 else (len(sos), 2, channels))
        self.buf = np.zeros(channels)

    def process(self, x, out):
        if x.ndim == 1:
            _numba_sos_mono(self.sos, self.zi, x, out)
        else:
            _numba_sos_channels(self.sos, self.zi, self.buf, x, out)
        return out


@pytest.fixture
def chunk(request):
    n, channels = request.param
    shape = (n,) if channels == 1 else (n, channels)
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def _run(benchmark, impl, chunk, fn):
    channels = 1 if chunk.ndim == 1 else chunk.shape[1]
    benchmark.group = f"LTISystem butter8 chunk={len(chunk)} channels={channels}"
    benchmark.extra_info.update(impl=impl, frames=len(chunk))
    for _ in range(3):  # warm up state, caches and JIT
        fn()
    benchmark(fn)


def _zi_shape(per_section, chunk):
    return per_section + chunk.shape[1:]


@pytest.mark.parametrize("chunk", GRID, indirect=True, ids=lambda p: f"{p[0]}x{p[1]}")
def bench_streamdsp(benchmark, chunk):
    lti = sd.LTISystem.from_sos(SOS)
    out = np.empty_like(chunk)
    _run(benchmark, "streamdsp", chunk, lambda: lti.process(chunk, out=out))


@pytest.mark.parametrize("chunk", GRID, indirect=True, ids=lambda p: f"{p[0]}x{p[1]}")
def bench_streamdsp_new_array(benchmark, chunk):
    lti = sd.LTISystem.from_sos(SOS)
    _run(benchmark, "streamdsp (no out=)", chunk, lambda: lti.process(chunk))


@pytest.mark.parametrize("chunk", GRID, indirect=True, ids=lambda p: f"{p[0]}x{p[1]}")
def bench_sosfilt_zi(benchmark, chunk):
    zi = [np.zeros(_zi_shape((len(SOS), 2), chunk))]

    def step():
        y, zi[0] = signal.sosfilt(SOS, chunk, axis=0, zi=zi[0])
        return y
    _run(benchmark, "scipy sosfilt+zi", chunk, step)


@pytest.mark.parametrize("chunk", GRID, indirect=True, ids=lambda p: f"{p[0]}x{p[1]}")
def bench_lfilter_zi(benchmark, chunk):
    b, a = BA
    zi = [np.zeros(_zi_shape((len(a) - 1,), chunk))]

    def step():
        y, zi[0] = signal.lfilter(b, a, chunk, axis=0, zi=zi[0])
        return y
    _run(benchmark, "scipy lfilter(b,a)+zi", chunk, step)


@pytest.mark.parametrize("chunk", GRID, indirect=True, ids=lambda p: f"{p[0]}x{p[1]}")
def bench_numba_df2t(benchmark, chunk):
    peer = NumbaSOS(SOS, 1 if chunk.ndim == 1 else chunk.shape[1])
    out = np.empty_like(chunk)
    _run(benchmark, "numba DF2T", chunk, lambda: peer.process(chunk, out))
