"""Graphs under the block contract: fan-out, joins aligned by latency, nesting."""

import numpy as np
from scipy import signal

import streamdsp as sd
from _support import Case

H1 = np.random.default_rng(11).standard_normal(90)
H2 = np.random.default_rng(12).standard_normal(15)


def _lf(h, x):
    return signal.lfilter(h, 1.0, x, axis=0)


def dry_wet(ch):
    """in -> (Gain 0.3) and (FIR fft, latency 32) -> Mix: the dry path is delayed 32 automatically."""
    g = sd.Graph()
    x = g.input()
    dry = x >> sd.Gain(0.3)
    wet = x >> sd.FIR(H1, method="fft", block_size=32)
    g.output(g.add(sd.Mix([1.0, 0.5]), dry, wet))
    return g


def diamond(ch):
    """Fan-out to three branches of latency 0, 16 and 16+8, joined by Add, then a tail FIR."""
    g = sd.Graph()
    x = g.input()
    a = x >> sd.FIR(H2, method="direct")
    b = x >> sd.FIR(H1, method="fft", block_size=16)
    c = b >> sd.FIR(H2, method="fft", block_size=8)
    s = g.add(sd.Add(), a, b, c)
    g.output(s >> sd.Gain(2.0))
    return g


def nested(ch):
    inner = sd.Parallel(sd.FIR(H1, method="fft", block_size=64), sd.Delay(3))
    return sd.Gain(0.5) >> inner >> sd.FIR(H2)


CASES = [
    Case("Graph-drywet", dry_wet, lambda x: 0.3 * x + 0.5 * _lf(H1, x), fft=True),
    Case("Graph-diamond", diamond,
         lambda x: 2.0 * (_lf(H2, x) + _lf(H1, x) + _lf(H2, _lf(H1, x))), fft=True),
    Case("Parallel-nested", nested,
         lambda x: _lf(H2, _lf(H1, 0.5 * x) + np.concatenate([np.zeros((3,) + x.shape[1:]), 0.5 * x])[:len(x)]),
         fft=True),
    Case("Parallel-concat", lambda ch: sd.Parallel(sd.Gain(2.0), sd.FIR(H1, method="fft", block_size=16),
                                                   combine="concat") >> sd.Gain(1.0),
         None),
]


def _concat_oracle(x):
    x2 = x.reshape(len(x), -1)
    return np.concatenate([2.0 * x2, _lf(H1, x2)], axis=1)


CASES[-1].oracle = _concat_oracle
CASES[-1].fft = True
