"""The 1x1 family under the shared contract: ChannelMixer, Downsample, MaxPool, Decimate.

The contract feeds every block the same channel count it takes, so the
mixers here are square (in == out); non-square mixers, biases that move
silence away from zero and every option are in tests/test_mixing.py and
tests/test_multirate.py.  The rate-reducing blocks are ``multirate``: their
oracle is everything ``process`` + ``flush`` emit.
"""

import numpy as np
from scipy import signal

import streamdsp as sd
from _support import Case


def _weights(ch, seed=7):
    return np.random.default_rng(seed + ch).standard_normal((ch, ch))


def _mix_oracle(act=None, bias=None):
    def oracle(x):
        x2 = x.reshape(len(x), -1)
        w = _weights(x2.shape[1])
        y = x2 @ w.T
        if bias is not None:
            y = y + bias(x2.shape[1])
        if act == "relu":
            y = np.maximum(y, 0.0)
        elif act == "tanh":
            y = np.tanh(y)
        return y.reshape(x.shape)
    return oracle


def _neg_bias(ch):
    # relu(0 + bias) == 0: silence still maps to silence (the contract checks it)
    return -np.linspace(0.1, 0.5, ch)


def _downmix_oracle(x):
    """The mean over channels; a 1-D signal (one channel) stays 1-D."""
    return x if x.ndim == 1 else x.mean(axis=1, keepdims=True)


def _pool_oracle(size, stride):
    """Every window that starts inside the signal, partial ones (flush) included."""
    def oracle(x):
        starts = range(0, len(x), stride)
        return np.stack([x[k:k + size].max(axis=0) for k in starts])
    return oracle


_DEC_TAPS = np.random.default_rng(11).standard_normal(13)


def _decimate_oracle(taps, factor, phase=0):
    return lambda x: signal.lfilter(taps, 1.0, x, axis=0)[phase::factor]


CASES = [
    Case("ChannelMixer", lambda ch: sd.ChannelMixer(_weights(ch)), _mix_oracle(), per_channel=True),
    Case("ChannelMixer-blas", lambda ch: sd.ChannelMixer(_weights(ch), method="blas"), _mix_oracle(),
         per_channel=True),
    Case("ChannelMixer-bias-relu",
         lambda ch: sd.ChannelMixer(_weights(ch), bias=_neg_bias(ch), activation="relu"),
         _mix_oracle("relu", _neg_bias), per_channel=True),
    Case("ChannelMixer-blas-bias-relu",
         lambda ch: sd.ChannelMixer(_weights(ch), bias=_neg_bias(ch), activation="relu", method="blas"),
         _mix_oracle("relu", _neg_bias), per_channel=True),
    Case("ChannelMixer-tanh", lambda ch: sd.ChannelMixer(_weights(ch), activation="tanh"),
         _mix_oracle("tanh"), per_channel=True),
    Case("DownMix", lambda ch: sd.DownMix(ch), _downmix_oracle, per_channel=True),
    Case("Downsample", lambda ch: sd.Downsample(3, phase=1), lambda x: x[1::3], multirate=True),
    Case("Downsample-1", lambda ch: sd.Downsample(1), lambda x: x.copy(), multirate=True),
    Case("MaxPool", lambda ch: sd.MaxPool(4), _pool_oracle(4, 4), multirate=True),
    Case("MaxPool-overlap", lambda ch: sd.MaxPool(7, stride=3), _pool_oracle(7, 3), multirate=True),
    Case("MaxPool-slide", lambda ch: sd.MaxPool(16, stride=1), _pool_oracle(16, 1), multirate=True),
    Case("MaxPool-gaps", lambda ch: sd.MaxPool(3, stride=5), _pool_oracle(3, 5), multirate=True),
    Case("Decimate", lambda ch: sd.Decimate(3),
         _decimate_oracle(signal.firwin(61, 1 / 3, window="hamming"), 3), multirate=True),
    Case("Decimate-taps-phase", lambda ch: sd.Decimate(4, taps=_DEC_TAPS, phase=2),
         _decimate_oracle(_DEC_TAPS, 4, 2), multirate=True),
]
