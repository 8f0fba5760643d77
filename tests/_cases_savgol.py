"""SavitzkyGolay cases for the shared block contract (tests/test_contract.py).

Only the padding modes are here: the contract's random splits draw streams
of 0..600 frames, and ``mode="interp"`` refuses streams shorter than the
window (as scipy does), so the interp cases run the same contract in
tests/test_savgol.py with streams of at least one window.
"""

from scipy.signal import savgol_filter

import streamdsp as sd
from _support import Case


def _savgol(window_length, polyorder, deriv=0, delta=1.0, mode="mirror", cval=0.0):
    def oracle(x):
        return savgol_filter(x, window_length, polyorder, deriv, delta, axis=0, mode=mode, cval=cval)
    return oracle


CASES = [
    Case("SavitzkyGolay-mirror-31-3",
         lambda ch: sd.SavitzkyGolay(31, 3, mode="mirror"), _savgol(31, 3, mode="mirror")),
    # even window, first derivative, sample spacing
    Case("SavitzkyGolay-nearest-12-2-deriv1",
         lambda ch: sd.SavitzkyGolay(12, 2, deriv=1, delta=0.5, mode="nearest"),
         _savgol(12, 2, 1, 0.5, mode="nearest")),
    Case("SavitzkyGolay-constant-7-2",
         lambda ch: sd.SavitzkyGolay(7, 2, mode="constant"), _savgol(7, 2, mode="constant")),
    # the smallest even window: no leading padding, latency 1
    Case("SavitzkyGolay-mirror-2-1",
         lambda ch: sd.SavitzkyGolay(2, 1, mode="mirror"), _savgol(2, 1, mode="mirror")),
    # direct head + partitioned FFT tail, forced on a mid-size window
    Case("SavitzkyGolay-nearest-101-4-fft",
         lambda ch: sd.SavitzkyGolay(101, 4, mode="nearest", method="fft"),
         _savgol(101, 4, mode="nearest"), fft=True),
    # long window: "auto" picks the FFT path; most random streams are shorter
    # than the window, so mirror reflects more than once
    Case("SavitzkyGolay-mirror-1001-3-auto",
         lambda ch: sd.SavitzkyGolay(1001, 3, mode="mirror"), _savgol(1001, 3, mode="mirror"), fft=True),
]
