"""Denormals: the cost of silence after a signal, against the cost of the signal.

A recursive filter fed silence decays into subnormal numbers, which x86
cores compute up to ~100x slower unless flush-to-zero / denormals-are-zero
is on.  For every block, float32 and float64, this times one 256-frame call
on a full-scale signal and one on the silence after it (once the output has
decayed below the smallest normal number), and prints the ratio.

    pytest benchmarks/bench_denormals.py --benchmark-enable     (pytest-benchmark)
    python benchmarks/bench_denormals.py                        (the table only)
"""

import sys
import time

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd

CHUNK = 256
_rng = np.random.default_rng(7)
_TAPS = _rng.standard_normal(64) * np.exp(-np.arange(64) / 16)
_IR = _rng.standard_normal(2048) * np.exp(-np.arange(2048) / 300)
_W = np.array([[0.5, 0.5], [0.5, -0.5], [1.0, 0.0], [0.0, 1.0]])
_SOS = signal.butter(8, 0.01, output="sos")
_TF = signal.butter(2, 0.001)
_SS = signal.tf2ss(*signal.butter(4, 0.01))

# name -> (factory, input channels)
BLOCKS = {
    "Gain": (lambda: sd.Gain(0.5), 1),
    "Delay": (lambda: sd.Delay(100), 1),
    "FIR direct": (lambda: sd.FIR(_TAPS, method="direct"), 1),
    "FIR fft": (lambda: sd.FIR(_TAPS, method="fft"), 1),
    "Convolver": (lambda: sd.Convolver(_IR, block_size=256), 1),
    "Correlator": (lambda: sd.Correlator(_TAPS), 1),
    "SavitzkyGolay": (lambda: sd.SavitzkyGolay(21, 2), 1),
    "LTI sos butter(8,.01)": (lambda: sd.LTISystem.from_sos(_SOS), 1),
    "LTI tf butter(2,.001)": (lambda: sd.LTISystem.from_tf(*_TF), 1),
    "LTI ss butter(4,.01)": (lambda: sd.LTISystem.from_ss(*_SS), 1),
    "ChannelMixer": (lambda: sd.ChannelMixer(_W), 2),
    "Decimate": (lambda: sd.Decimate(4), 1),
    "MaxPool": (lambda: sd.MaxPool(4), 1),
    "Downsample": (lambda: sd.Downsample(4), 1),
}
DTYPES = ("float32", "float64")


def _chunk(kind, channels, dtype):
    shape = (CHUNK, channels)
    if kind == "signal":
        return _rng.uniform(-1.0, 1.0, shape).astype(dtype)
    return np.zeros(shape, dtype)


def settle(block, channels, dtype, max_calls=4000):
    """Feed signal, then silence until the output has left the normal range; return the silence chunk."""
    x = _chunk("signal", channels, dtype)
    for _ in range(8):
        block.process(x)
    z = _chunk("silence", channels, dtype)
    tiny = np.finfo(dtype).tiny
    for _ in range(max_calls):
        y = block.process(z)
        if y.size and np.max(np.abs(y)) < tiny:
            break
    return z


def per_call(block, x, calls):
    """Median seconds of one ``process(x, out=...)`` call over ``calls`` calls."""
    out = block.process(x)
    times = np.empty(calls)
    for i in range(calls):
        t = time.perf_counter_ns()
        block.process(x, out=out)
        times[i] = time.perf_counter_ns() - t
    return float(np.median(times)) * 1e-9


def silence_ratio(name, dtype, calls=300):
    """(signal seconds per call, silence seconds per call) for block ``name``."""
    make, ch = BLOCKS[name]
    loud = make()
    t_signal = per_call(loud, _chunk("signal", ch, dtype), calls)
    quiet = make()
    z = settle(quiet, ch, dtype)
    t_silence = per_call(quiet, z, calls)
    return t_signal, t_silence


CASES = [(n, d) for n in BLOCKS for d in DTYPES]


@pytest.mark.parametrize("kind", ["signal", "silence"])
@pytest.mark.parametrize("name,dtype", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def bench_denormals(benchmark, name, dtype, kind):
    make, ch = BLOCKS[name]
    block = make()
    x = settle(block, ch, dtype) if kind == "silence" else _chunk("signal", ch, dtype)
    out = block.process(x)
    benchmark.group = f"denormals {name} {dtype}"
    benchmark.extra_info.update(impl="streamdsp" if kind == "signal" else "silence after signal",
                                frames=CHUNK)
    benchmark(block.process, x, out)


def table(calls=300, file=sys.stdout):
    """Print signal and silence time per call and their ratio for every block and dtype."""
    worst = 0.0
    print(f"{'block':<24s} {'dtype':<8s} {'signal us':>10s} {'silence us':>11s} {'ratio':>7s}", file=file)
    for name, dtype in CASES:
        ts, tz = silence_ratio(name, dtype, calls)
        worst = max(worst, tz / ts)
        print(f"{name:<24s} {dtype:<8s} {ts * 1e6:10.2f} {tz * 1e6:11.2f} {tz / ts:7.2f}x", file=file)
    print(f"worst silence/signal ratio: {worst:.2f}x (target <= 1.5x)", file=file)
    return worst


if __name__ == "__main__":
    table()
