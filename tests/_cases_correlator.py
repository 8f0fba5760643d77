"""Correlator cases for the shared block contract (tests/test_contract.py).

Raw correlation against ``scipy.signal.correlate(x, template, mode="full")[:len(x)]``
for every engine, and the normalised score against a slow direct Pearson
reference.  The contract's signal has a DC step and an impulse, so the
normalised cases see well-conditioned windows; the DelayEstimator takes
exactly two channels and has its own contract tests in tests/test_delayest.py.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal

import streamdsp as sd
from _support import Case

_rng = np.random.default_rng(77)
TEMPLATE_SHORT = _rng.standard_normal(19)
TEMPLATE_LONG = _rng.standard_normal(300) * np.hanning(300)   # >= 256: the hybrid "auto"


def correlate_ref(template):
    """scipy.signal.correlate per channel (per column for a 2-D template)."""
    template = np.asarray(template, dtype=np.float64)

    def oracle(x):
        if x.ndim == 1:
            h = template if template.ndim == 1 else template[:, 0]
            return signal.correlate(x, h, mode="full")[:len(x)]
        cols = []
        for c in range(x.shape[1]):
            h = template if template.ndim == 1 else template[:, c]
            cols.append(signal.correlate(x[:, c], h, mode="full")[:len(x)])
        return np.stack(cols, axis=1)
    return oracle


def pearson_ref_1d(x, h):
    """Direct Pearson coefficient of every length-m window ending at t (0 before, 0 if constant)."""
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    m = len(h)
    y = np.zeros(len(x))
    if len(x) < m:
        return y
    w = sliding_window_view(x, m)
    wc = w - w.mean(axis=1, keepdims=True)
    hc = h - h.mean()
    den = np.sqrt(np.sum(wc * wc, axis=1)) * np.sqrt(np.sum(hc * hc))
    constant = np.ptp(w, axis=1) == 0
    safe = np.where(constant | (den == 0), 1.0, den)
    r = np.where(constant | (den == 0), 0.0, (wc @ hc) / safe)
    y[m - 1:] = r
    return y


def pearson_ref(template):
    template = np.asarray(template, dtype=np.float64)

    def oracle(x):
        if x.ndim == 1:
            return pearson_ref_1d(x, template if template.ndim == 1 else template[:, 0])
        return np.stack([pearson_ref_1d(x[:, c], template if template.ndim == 1 else template[:, c])
                         for c in range(x.shape[1])], axis=1)
    return oracle


def _per_channel(base, ch):
    return np.stack([base * (c + 1) + 0.1 * c * np.arange(len(base)) for c in range(ch)], axis=1)


CASES = [
    Case("Correlator-direct", lambda ch: sd.Correlator(TEMPLATE_SHORT, method="direct"),
         correlate_ref(TEMPLATE_SHORT)),
    Case("Correlator-auto-short", lambda ch: sd.Correlator(TEMPLATE_SHORT), correlate_ref(TEMPLATE_SHORT),
         fft=True),
    Case("Correlator-fft", lambda ch: sd.Correlator(TEMPLATE_LONG, method="fft"),
         correlate_ref(TEMPLATE_LONG), fft=True),
    Case("Correlator-auto-hybrid", lambda ch: sd.Correlator(TEMPLATE_LONG), correlate_ref(TEMPLATE_LONG),
         fft=True),
    Case("Correlator-partitioned", lambda ch: sd.Correlator(TEMPLATE_LONG, block_size=32),
         correlate_ref(TEMPLATE_LONG), fft=True),
    Case("Correlator-1tap", lambda ch: sd.Correlator([2.5]), lambda x: 2.5 * x),
    Case("Correlator-perchannel-fft",
         lambda ch: sd.Correlator(_per_channel(TEMPLATE_LONG[:90], ch), method="fft"),
         lambda x: correlate_ref(_per_channel(TEMPLATE_LONG[:90], 1 if x.ndim == 1 else x.shape[1]))(x),
         fft=True, per_channel=True),
    Case("Correlator-perchannel-normalized-partitioned",
         lambda ch: sd.Correlator(_per_channel(TEMPLATE_LONG[:40], ch), normalize=True, block_size=16),
         lambda x: pearson_ref(_per_channel(TEMPLATE_LONG[:40], 1 if x.ndim == 1 else x.shape[1]))(x),
         fft=True, per_channel=True, tol=2e-5),
    Case("Correlator-normalized-direct",
         lambda ch: sd.Correlator(TEMPLATE_SHORT, normalize=True, method="direct"),
         pearson_ref(TEMPLATE_SHORT), fft=True, tol=2e-5),
    Case("Correlator-normalized-auto",
         lambda ch: sd.Correlator(TEMPLATE_LONG, normalize=True), pearson_ref(TEMPLATE_LONG),
         fft=True, tol=2e-5),
    Case("Correlator-normalized-partitioned",
         lambda ch: sd.Correlator(TEMPLATE_LONG, normalize=True, method="partitioned", block_size=64),
         pearson_ref(TEMPLATE_LONG), fft=True, tol=2e-5),
]
