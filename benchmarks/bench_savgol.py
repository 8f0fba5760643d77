"""SavitzkyGolay: streamdsp against np.convolve over carried history, a numba direct loop and offline savgol_filter.

    pytest benchmarks/bench_savgol.py --benchmark-enable

Targets (issue 4): ``SavitzkyGolay(31, 3)`` at chunk 256 >= 3x np.convolve
with carried history (must) and >= 1.1x the numba direct loop (goal); at
chunk 4096 >= 4x the offline ``savgol_filter`` on the whole signal.

Float32 mono.  One group per chunk size.  So that the offline peer (one call
on the whole signal) compares with the streaming ones, every round of every
benchmark covers the same 2**18-sample signal: the streaming ones as a loop
of one call per chunk (``out=`` preallocated; the ~50 ns of the Python loop
per chunk is counted against every streaming implementation alike), the
offline one as a single call.  ``frames`` is that whole length, so the
printed Msamples/s is throughput.  The streaming peers carry their state
between chunks as streamdsp does; the numba loop and np.convolve compute the
steady-state FIR only (no edges), the offline peer computes everything.
A last group shows the 1001-sample window, where ``auto`` takes the FFT path.
"""

import numpy as np
import pytest
from scipy.signal import savgol_coeffs, savgol_filter

import streamdsp as sd
from _peers import NumbaFIR

SIGNAL_FRAMES = 1 << 18
CHUNKS = [256, 4096]


@pytest.fixture(scope="module")
def whole():
    return np.random.default_rng(0).standard_normal(SIGNAL_FRAMES).astype(np.float32)


def _chunks(x, n):
    return [x[i:i + n] for i in range(0, len(x), n)]


def _run(benchmark, group, impl, fn):
    benchmark.group = group
    benchmark.extra_info.update(impl=impl, frames=SIGNAL_FRAMES)
    for _ in range(2):  # warm up state, caches and JIT
        fn()
    benchmark(fn)


def _streaming(block_or_peer, x, chunk):
    ins = _chunks(x, chunk)
    outs = [np.empty_like(c) for c in ins]
    process = block_or_peer.process

    if isinstance(block_or_peer, sd.Block):
        def loop():
            for c, o in zip(ins, outs):
                process(c, out=o)
    else:
        def loop():
            for c, o in zip(ins, outs):
                process(c, o)
    return loop


class ConvolveWithHistory:
    """np.convolve over the last window_length - 1 samples and the new chunk."""

    def __init__(self, taps):
        self.h = np.asarray(taps, dtype=np.float32)
        self.hist = np.zeros(len(taps) - 1, dtype=np.float32)

    def process(self, x, out):
        buf = np.concatenate((self.hist, x))
        out[:] = np.convolve(buf, self.h, mode="valid")
        self.hist = buf[len(buf) - len(self.hist):]
        return out


def _group(wl, po, chunk):
    return f"SavitzkyGolay({wl},{po}) chunk={chunk}"


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("mode", ["interp", "mirror"])
def bench_streamdsp(benchmark, whole, chunk, mode):
    sg = sd.SavitzkyGolay(31, 3, mode=mode)
    impl = "streamdsp" if mode == "interp" else f"streamdsp mode={mode}"
    _run(benchmark, _group(31, 3, chunk), impl, _streaming(sg, whole, chunk))


@pytest.mark.parametrize("chunk", CHUNKS)
def bench_np_convolve_history(benchmark, whole, chunk):
    peer = ConvolveWithHistory(savgol_coeffs(31, 3))
    _run(benchmark, _group(31, 3, chunk), "np.convolve+history", _streaming(peer, whole, chunk))


@pytest.mark.parametrize("chunk", CHUNKS)
def bench_numba_direct(benchmark, whole, chunk):
    peer = NumbaFIR(savgol_coeffs(31, 3), chunk)
    _run(benchmark, _group(31, 3, chunk), "numba direct", _streaming(peer, whole, chunk))


@pytest.mark.parametrize("chunk", CHUNKS)
def bench_savgol_filter_offline(benchmark, whole, chunk):
    _run(benchmark, _group(31, 3, chunk), "savgol_filter offline (whole)",
         lambda: savgol_filter(whole, 31, 3))


# -- long window: the FFT path -----------------------------------------

@pytest.mark.parametrize("method", ["auto", "direct"])
def bench_streamdsp_long(benchmark, whole, method):
    sg = sd.SavitzkyGolay(1001, 3, mode="mirror", method=method)
    impl = "streamdsp" if method == "auto" else "streamdsp direct"
    benchmark.extra_info["chosen"] = sg.method
    _run(benchmark, _group(1001, 3, 256), impl, _streaming(sg, whole, 256))


def bench_numba_direct_long(benchmark, whole):
    peer = NumbaFIR(savgol_coeffs(1001, 3), 256)
    _run(benchmark, _group(1001, 3, 256), "numba direct", _streaming(peer, whole, 256))


def bench_savgol_filter_offline_long(benchmark, whole):
    _run(benchmark, _group(1001, 3, 256), "savgol_filter offline (whole)",
         lambda: savgol_filter(whole, 1001, 3, mode="mirror"))
