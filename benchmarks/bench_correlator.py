"""Correlator: a 1024-sample template, mono float32, chunks of 4096 and 1024, against
scipy.signal.correlate called chunk by chunk with the history carried by hand (method
auto and fft), a planned-pyFFTW uniformly partitioned overlap-save peer fed the reversed
template, and -- for reference -- the Convolver with the same (reversed) template.

    pytest benchmarks/bench_correlator.py --benchmark-enable

Every peer is checked against scipy.signal.correlate on the same stream before it is
timed.  Targets (shared/PERFORMANCE.md): >= 6x scipy auto at 4096, >= 7x at 1024.
"""

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd
from _peers import FFTWUPOLS

M = 1024
CHUNKS = [4096, 1024]
CALLS = 8          # consecutive chunks per round (block-based peers pay per block)


def _template():
    return np.random.default_rng(1).standard_normal(M)


@pytest.fixture
def chunks(request):
    n = request.param
    return np.random.default_rng(0).standard_normal((CALLS, n)).astype(np.float32)


class ScipyCorrelate:
    """scipy.signal.correlate over the carried m - 1 samples and the new chunk ("valid")."""

    def __init__(self, template, method):
        self.h = np.asarray(template, dtype=np.float32)
        self.hist = np.zeros(len(template) - 1, dtype=np.float32)
        self.method = method

    def process(self, x, out):
        buf = np.concatenate([self.hist, x])
        out[:] = signal.correlate(buf, self.h, mode="valid", method=self.method)
        self.hist = buf[len(buf) - len(self.hist):]
        return out


class Ours:
    def __init__(self, block):
        self.block = block

    def process(self, x, out):
        return self.block.process(x, out=out)


def _check(peer, chunks, template):
    """The peer's output over a few chunks equals the offline correlation (float32 rounding)."""
    x = chunks.ravel()
    y = np.concatenate([peer.process(c, np.empty_like(c)).copy() for c in chunks])
    ref = signal.correlate(x.astype(np.float64), template, mode="full")[:len(x)]
    err = np.max(np.abs(y - ref)) / np.max(np.abs(ref))
    assert err < 1e-5, f"{type(peer).__name__}: relative error {err:.2e}"


def _run(benchmark, impl, chunks, make):
    template = _template()
    n = chunks.shape[1]
    _check(make(template), chunks, template)
    peer = make(template)
    out = np.empty_like(chunks[0])
    benchmark.group = f"Correlator m={M} chunk={n} (x{CALLS} calls per round)"
    benchmark.extra_info.update(impl=impl, frames=n * CALLS, calls=CALLS)

    def many():
        for c in chunks:
            peer.process(c, out)
    for _ in range(3):
        many()
    benchmark(many)


@pytest.mark.parametrize("chunks", CHUNKS, indirect=True)
def bench_streamdsp(benchmark, chunks):
    _run(benchmark, "streamdsp", chunks, lambda t: Ours(sd.Correlator(t)))


@pytest.mark.parametrize("chunks", CHUNKS, indirect=True)
def bench_streamdsp_partitioned(benchmark, chunks):
    _run(benchmark, "streamdsp method=partitioned", chunks,
         lambda t: Ours(sd.Correlator(t, method="partitioned")))


@pytest.mark.parametrize("chunks", CHUNKS, indirect=True)
def bench_convolver_reference(benchmark, chunks):
    _run(benchmark, "streamdsp Convolver(reversed)", chunks, lambda t: Ours(sd.Convolver(t[::-1].copy())))


@pytest.mark.parametrize("chunks", CHUNKS, indirect=True)
@pytest.mark.parametrize("method", ["auto", "fft"])
def bench_scipy_correlate(benchmark, chunks, method):
    _run(benchmark, f"scipy correlate {method}", chunks, lambda t: ScipyCorrelate(t, method))


@pytest.mark.parametrize("chunks", CHUNKS, indirect=True)
def bench_pyfftw_upols(benchmark, chunks):
    n = chunks.shape[1]
    _run(benchmark, "pyfftw UPOLS", chunks, lambda t: FFTWUPOLS(t[::-1], n))


@pytest.mark.parametrize("chunks", CHUNKS, indirect=True)
def bench_streamdsp_normalized(benchmark, chunks):
    # not a peer comparison: what the Pearson score costs on top (checked in tests/)
    template = _template()
    block = sd.Correlator(template, normalize=True)
    out = np.empty_like(chunks[0])
    n = chunks.shape[1]
    benchmark.group = f"Correlator normalize=True m={M} chunk={n} (x{CALLS} calls per round)"
    benchmark.extra_info.update(impl="streamdsp", frames=n * CALLS, calls=CALLS)

    def many():
        for c in chunks:
            block.process(c, out=out)
    for _ in range(3):
        many()
    benchmark(many)
