"""Convolver cases for the shared contract: zero-latency head, block latency, per-channel IRs."""

import numpy as np
from scipy import signal

import streamdsp as sd
from _support import Case

_rng = np.random.default_rng(21)
IR = _rng.standard_normal(3000) * np.exp(-np.arange(3000) / 600)
IR_SHORT = _rng.standard_normal(40)


def _fftconv(ir):
    def oracle(x):
        if x.ndim == 1:
            return signal.fftconvolve(x, ir[:, 0] if ir.ndim == 2 else ir)[:len(x)]
        cols = [signal.fftconvolve(x[:, c], ir[:, c] if ir.ndim == 2 else ir)[:len(x)]
                for c in range(x.shape[1])]
        return np.stack(cols, axis=1)
    return oracle


def _per_channel(ch):
    return np.stack([IR * (1 + 0.5 * c) for c in range(ch)], axis=1)


CASES = [
    Case("Convolver-zero-latency", lambda ch: sd.Convolver(IR, block_size=32), _fftconv(IR), fft=True),
    Case("Convolver-block-latency", lambda ch: sd.Convolver(IR, block_size=64, latency=None),
         _fftconv(IR), fft=True),
    Case("Convolver-short-ir", lambda ch: sd.Convolver(IR_SHORT, block_size=16), _fftconv(IR_SHORT), fft=True),
    Case("Convolver-per-channel", lambda ch: sd.Convolver(_per_channel(ch), block_size=16, max_block=256),
         None, fft=True, per_channel=True),
]


def _per_channel_oracle(x):
    ch = 1 if x.ndim == 1 else x.shape[1]
    return _fftconv(_per_channel(ch))(x)


CASES[-1].oracle = _per_channel_oracle
