"""ChannelMixer 64 -> 16 channels: streamdsp against np.matmul(x, W.T, out=) (+ bias/activation by numpy).

    OPENBLAS_NUM_THREADS=1 pytest benchmarks/bench_mixing.py --benchmark-enable

Grid: chunk 64, 256, 1024, 4096 frames x {plain, bias+relu, bias+tanh},
float32, one call per round.  In each group: streamdsp (``method="auto"``,
which takes the register-blocked kernel at this size), streamdsp's BLAS
path (``method="blas"``, scipy's sgemm) and numpy (``np.matmul`` into a
preallocated output, then ``np.add``/``np.maximum``/``np.tanh`` in place).

Set ``OPENBLAS_NUM_THREADS=1`` in the environment: numpy's and scipy's
OpenBLAS read it when they load, before the conftest fixture can set it,
and with two threads np.matmul is slower, not faster, on a shared 2-core
machine at these sizes.
"""

import numpy as np
import pytest

import streamdsp as sd

CHUNKS = [64, 256, 1024, 4096]
MODES = ["plain", "bias+relu", "bias+tanh"]
NIN, NOUT = 64, 16


@pytest.fixture(scope="module")
def params():
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((NOUT, NIN)) / 8).astype(np.float32)
    b = rng.standard_normal(NOUT).astype(np.float32)
    return w, b


def _chunk(n):
    return np.random.default_rng(n).standard_normal((n, NIN)).astype(np.float32)


def _run(benchmark, impl, mode, n, fn):
    benchmark.group = f"ChannelMixer {NIN}->{NOUT} {mode} chunk={n}"
    benchmark.extra_info.update(impl=impl, frames=n)
    for _ in range(3):
        fn()
    benchmark(fn)


def _mixer(params, mode, method):
    w, b = params
    if mode == "plain":
        return sd.ChannelMixer(w, method=method)
    return sd.ChannelMixer(w, bias=b, activation=mode.split("+")[1], method=method)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n", CHUNKS)
@pytest.mark.parametrize("method", ["auto", "blas"])
def bench_streamdsp(benchmark, params, n, mode, method):
    x = _chunk(n)
    out = np.empty((n, NOUT), dtype=np.float32)
    mixer = _mixer(params, mode, method)
    impl = "streamdsp" if method == "auto" else "streamdsp blas"
    if method == "auto":
        benchmark.extra_info["chosen"] = mixer.method
    _run(benchmark, impl, mode, n, lambda: mixer.process(x, out=out))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n", CHUNKS)
def bench_numpy_matmul(benchmark, params, n, mode):
    w, b = params
    wt = w.T
    x = _chunk(n)
    out = np.empty((n, NOUT), dtype=np.float32)
    if mode == "plain":
        def step():
            return np.matmul(x, wt, out=out)
    elif mode == "bias+relu":
        def step():
            np.matmul(x, wt, out=out)
            np.add(out, b, out=out)
            return np.maximum(out, 0.0, out=out)
    else:
        def step():
            np.matmul(x, wt, out=out)
            np.add(out, b, out=out)
            return np.tanh(out, out=out)
    _run(benchmark, "np.matmul(out=)" + ("" if mode == "plain" else " +numpy"), mode, n, step)
