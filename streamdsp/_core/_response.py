"""Frequency responses in scipy.signal.freqz's conventions."""
import numpy as np
from scipy import signal


def fir_response(taps, n=512, fs=None, whole=False):
    """``freqz`` of each column of ``taps``: (freqs, h) with h (n,) or (n, channels)."""
    taps = np.asarray(taps, dtype=np.float64)
    kw = {"worN": int(n), "whole": bool(whole)}
    if fs is not None:
        kw["fs"] = float(fs)
    if taps.ndim == 1:
        return signal.freqz(taps, 1.0, **kw)
    cols = [signal.freqz(taps[:, c], 1.0, **kw) for c in range(taps.shape[1])]
    return cols[0][0], np.stack([h for _, h in cols], axis=1)
