"""MaxPool, Decimate and Downsample against numpy/scipy peers called chunk by chunk.

    pytest benchmarks/bench_multirate.py --benchmark-enable

- ``MaxPool(256, stride=1)`` (a streaming sliding maximum), mono float32,
  chunks 256 and 4096: numpy ``sliding_window_view(...).max(-1)`` over the
  chunk with 255 frames of carried history (O(size) per frame), and a numba
  monotonic deque (Lemire's streaming max, O(1) amortised, branchy).
- ``Decimate(4)`` (81-tap anti-aliasing FIR), mono float32, chunks 256 and
  4096: ``scipy.signal.lfilter`` with carried ``zi`` then ``[::4]`` (filters
  every frame), and ``scipy.signal.upfirdn(h, history + chunk, down=4)``
  (polyphase, history re-fed every call).
- ``Downsample(4)``, chunk 256: ``np.copyto(out, x[::4])``: per-call overhead.
"""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal

import streamdsp as sd

try:
    import numba
except ImportError:
    numba = None

CHUNKS = [256, 4096]
POOL = 256
FACTOR = 4


def _chunk(n):
    return np.random.default_rng(n).standard_normal(n).astype(np.float32)


def _run(benchmark, group, impl, n, fn):
    benchmark.group = group
    benchmark.extra_info.update(impl=impl, frames=n)
    for _ in range(3):
        fn()
    benchmark(fn)


# ---------------------------------------------------------------------------------------------
# MaxPool(256, stride=1)

class NumpySlidingMax:
    """sliding_window_view max over carried history + chunk: one output per input frame."""

    def __init__(self, size):
        self.size = size
        self.hist = np.full(size - 1, -np.inf, dtype=np.float32)

    def process(self, x, out):
        buf = np.concatenate([self.hist, x])
        np.max(sliding_window_view(buf, self.size), axis=-1, out=out)
        self.hist = buf[len(buf) - (self.size - 1):]
        return out


if numba is not None:
    @numba.njit(cache=True, fastmath=False, boundscheck=False)
    def _deque_max(x, out, size, vals, idx, state):
        mask = vals.shape[0] - 1
        head, tail, t = state[0], state[1], state[2]
        for i in range(x.shape[0]):
            v = x[i]
            while tail > head and vals[(tail - 1) & mask] <= v:
                tail -= 1
            vals[tail & mask] = v
            idx[tail & mask] = t
            tail += 1
            if idx[head & mask] <= t - size:
                head += 1
            out[i] = vals[head & mask]
            t += 1
        state[0], state[1], state[2] = head, tail, t


class NumbaDequeMax:
    """Monotonic deque sliding max (ring buffer of a power of two >= size)."""

    def __init__(self, size):
        if numba is None:
            raise ImportError("numba is not installed (pip install '.[bench]')")
        cap = 1 << int(np.ceil(np.log2(size + 1)))
        self.size = size
        self.vals = np.zeros(cap, dtype=np.float32)
        self.idx = np.zeros(cap, dtype=np.int64)
        self.state = np.zeros(3, dtype=np.int64)

    def process(self, x, out):
        _deque_max(x, out, self.size, self.vals, self.idx, self.state)
        return out


@pytest.mark.parametrize("n", CHUNKS)
def bench_maxpool_streamdsp(benchmark, n):
    x = _chunk(n)
    mp = sd.MaxPool(POOL, stride=1)
    mp.process(np.zeros(POOL - 1, dtype=np.float32))    # steady state: one output per frame
    out = np.empty(n, dtype=np.float32)
    _run(benchmark, f"MaxPool size={POOL} stride=1 chunk={n}", "streamdsp", n,
         lambda: mp.process(x, out=out))


@pytest.mark.parametrize("n", CHUNKS)
def bench_maxpool_numpy_sliding_window(benchmark, n):
    x = _chunk(n)
    peer = NumpySlidingMax(POOL)
    out = np.empty(n, dtype=np.float32)
    _run(benchmark, f"MaxPool size={POOL} stride=1 chunk={n}", "numpy sliding_window_view", n,
         lambda: peer.process(x, out))


@pytest.mark.parametrize("n", CHUNKS)
def bench_maxpool_numba_deque(benchmark, n):
    x = _chunk(n)
    peer = NumbaDequeMax(POOL)
    out = np.empty(n, dtype=np.float32)
    _run(benchmark, f"MaxPool size={POOL} stride=1 chunk={n}", "numba monotonic deque", n,
         lambda: peer.process(x, out))


# ---------------------------------------------------------------------------------------------
# Decimate(4)

@pytest.mark.parametrize("n", CHUNKS)
def bench_decimate_streamdsp(benchmark, n):
    x = _chunk(n)
    dec = sd.Decimate(FACTOR)
    out = np.empty(n // FACTOR, dtype=np.float32)
    benchmark.extra_info["ntaps"] = dec.ntaps
    _run(benchmark, f"Decimate factor={FACTOR} chunk={n}", "streamdsp", n,
         lambda: dec.process(x, out=out))


@pytest.mark.parametrize("n", CHUNKS)
def bench_decimate_lfilter_zi(benchmark, n):
    x = _chunk(n)
    h = sd.Decimate(FACTOR).taps.astype(np.float32)
    a = np.ones(1, dtype=np.float32)
    zi = [np.zeros(len(h) - 1, dtype=np.float32)]

    def step():
        y, zi[0] = signal.lfilter(h, a, x, zi=zi[0])
        return y[::FACTOR]
    _run(benchmark, f"Decimate factor={FACTOR} chunk={n}", "scipy lfilter+zi [::4]", n, step)


@pytest.mark.parametrize("n", CHUNKS)
def bench_decimate_upfirdn_history(benchmark, n):
    x = _chunk(n)
    h = sd.Decimate(FACTOR).taps.astype(np.float32)
    hlen = -(-(len(h) - 1) // FACTOR) * FACTOR       # history, a whole number of output periods
    hist = [np.zeros(hlen, dtype=np.float32)]
    first = hlen // FACTOR

    def step():
        buf = np.concatenate([hist[0], x])
        y = signal.upfirdn(h, buf, down=FACTOR)[first:first + n // FACTOR]
        hist[0] = buf[len(buf) - hlen:]
        return y
    _run(benchmark, f"Decimate factor={FACTOR} chunk={n}", "scipy upfirdn+history", n, step)


# ---------------------------------------------------------------------------------------------
# Downsample(4): per-call overhead

def bench_downsample_streamdsp(benchmark):
    x = _chunk(256)
    ds = sd.Downsample(FACTOR)
    out = np.empty(256 // FACTOR, dtype=np.float32)
    _run(benchmark, "Downsample stride=4 chunk=256", "streamdsp", 256, lambda: ds.process(x, out=out))


def bench_downsample_numpy(benchmark):
    x = _chunk(256)
    out = np.empty(256 // FACTOR, dtype=np.float32)
    _run(benchmark, "Downsample stride=4 chunk=256", "np.copyto(out, x[::4])", 256,
         lambda: np.copyto(out, x[::FACTOR]))
