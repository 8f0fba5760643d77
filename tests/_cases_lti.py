"""LTISystem under the block contract: every way to build one, against scipy's own simulators.

Oracles: ``sosfilt`` for sections, ``lfilter`` for transfer functions,
``sosfilt(zpk2sos(...))`` for ``from_zpk``, and ``dlsim`` for state space and
for ``dlti`` objects (whose conventions differ from lfilter's: a numerator
shorter than the denominator is a delay).  Continuous systems are checked
against ``dlsim`` of scipy's own ``to_discrete(1/fs, method="bilinear")``
(or ``lfilter`` of ``bilinear``).
"""

import numpy as np
from scipy import signal

import streamdsp as sd
from _support import Case

FS = 8000.0

SOS_BUTTER8 = signal.butter(8, 0.2, output="sos")
SOS_CHEBY2_22 = signal.cheby2(22, 60, 0.3, output="sos")          # 11 sections: several passes
BA_ELLIP4 = signal.ellip(4, 1, 40, 0.3)
BA_DELAYED = ([0.0, 0.0, 0.5, 0.2, -0.1], [1.0, -0.6, 0.25])     # 2-sample delay, len(b) > len(a)
ZPK_BANDPASS = signal.butter(3, [0.1, 0.4], btype="bandpass", output="zpk")

_rng = np.random.default_rng(7)
_Q, _ = np.linalg.qr(_rng.standard_normal((5, 5)))
SS5 = (_Q @ np.diag([0.9, -0.7, 0.5, 0.3, 0.1]) @ _Q.T + 0.05 * _rng.standard_normal((5, 5)),
       _rng.standard_normal((5, 1)), _rng.standard_normal((1, 5)), np.array([[0.3]]))

DLTI_TF = signal.dlti([0.3, 0.1], [1.0, -1.2, 0.5, -0.1], dt=1 / FS)  # num shorter: 1-sample delay
DLTI_ZPK = signal.dlti([-0.5], [0.9, 0.5 + 0.3j, 0.5 - 0.3j], 0.2, dt=1 / FS)
DLTI_SS = signal.dlti(*signal.tf2ss([1.0, 0.4], [1.0, -0.5, 0.2, 0.1]), dt=1 / FS)

LTI_TF = signal.lti(*signal.butter(4, 2 * np.pi * 1000, analog=True))
LTI_ZPK = signal.lti(*signal.cheby1(3, 1, 2 * np.pi * 700, analog=True, output="zpk"))
LTI_SS = signal.lti(*signal.tf2ss([2000.0, 0.0], [1.0, 300.0, 4e6]))    # a resonance at ~318 Hz


def _sosfilt(sos):
    return lambda x: signal.sosfilt(sos, x, axis=0)


def _lfilter(b, a):
    return lambda x: signal.lfilter(b, a, x, axis=0)


def _dlsim(system):
    """dlsim of a SISO system on every channel of x."""
    def run(x):
        x2 = x.reshape(len(x), -1)
        cols = [signal.dlsim(system, x2[:, c])[1][:, 0] for c in range(x2.shape[1])]
        return np.stack(cols, axis=1).reshape(x.shape)
    return run


CASES = [
    Case("LTI-sos-butter8", lambda ch: sd.LTISystem.from_sos(SOS_BUTTER8), _sosfilt(SOS_BUTTER8)),
    Case("LTI-sos-cheby2-22", lambda ch: sd.LTISystem.from_sos(SOS_CHEBY2_22), _sosfilt(SOS_CHEBY2_22)),
    Case("LTI-tf-ellip4", lambda ch: sd.LTISystem.from_tf(*BA_ELLIP4), _lfilter(*BA_ELLIP4)),
    Case("LTI-tf-delayed", lambda ch: sd.LTISystem.from_tf(*BA_DELAYED), _lfilter(*BA_DELAYED)),
    Case("LTI-zpk-bandpass", lambda ch: sd.LTISystem.from_zpk(*ZPK_BANDPASS),
         _sosfilt(signal.zpk2sos(*ZPK_BANDPASS))),
    Case("LTI-ss-order5", lambda ch: sd.LTISystem.from_ss(*SS5), _dlsim((*SS5, 1))),
    Case("LTI-dlti-tf", lambda ch: sd.LTISystem(DLTI_TF), _dlsim(DLTI_TF)),
    Case("LTI-dlti-zpk", lambda ch: sd.LTISystem(DLTI_ZPK), _dlsim(DLTI_ZPK)),
    Case("LTI-dlti-ss", lambda ch: sd.LTISystem(DLTI_SS), _dlsim(DLTI_SS)),
    # (scipy's to_discrete of this transfer function goes through a badly scaled
    # state space; bilinear() on the polynomials is the well-conditioned reference)
    Case("LTI-lti-tf", lambda ch: sd.LTISystem(LTI_TF, fs=FS),
         _lfilter(*signal.bilinear(LTI_TF.num, LTI_TF.den, FS))),
    Case("LTI-lti-zpk", lambda ch: sd.LTISystem(LTI_ZPK, fs=FS),
         _dlsim(LTI_ZPK.to_discrete(1 / FS, method="bilinear"))),
    Case("LTI-lti-ss", lambda ch: sd.LTISystem(LTI_SS, fs=FS),
         _dlsim(LTI_SS.to_discrete(1 / FS, method="bilinear"))),
    Case("LTI-gain", lambda ch: sd.LTISystem.from_tf([2.5], [1.0]), lambda x: 2.5 * x),
]
