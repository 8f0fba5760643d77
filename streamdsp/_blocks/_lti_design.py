"""LTISystem's design math: argument checks and conversions to sections (plain Python).

Runs once, when a system is built; scipy.signal is imported then, not when
streamdsp is.
"""

import numpy as np

from streamdsp._core._lazy import LazyModule
from streamdsp._core._validate import coefficients, finite_float

signal = LazyModule("scipy.signal")

NAME = "LTISystem"



def fs_arg(fs):
    if fs is None:
        return None
    v = finite_float(NAME, "fs", fs)
    if v <= 0:
        raise ValueError(f"{NAME}: expected fs > 0 (a sample rate in Hz), got {fs!r}")
    return v


def real_vector(name, value):
    """A real, finite, non-empty 1-D float64 array (a scalar counts as one element)."""
    if not isinstance(value, (str, bytes)):
        try:
            if np.ndim(value) == 0:
                value = [value]
        except (TypeError, ValueError):
            pass
    return coefficients(NAME, name, value, max_ndim=1)


def roots_arg(name, value):
    """Zeros or poles: a finite 1-D complex array, possibly empty."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{NAME}: expected {name} to be an array of numbers, got {value!r:.40}")
    try:
        a = np.atleast_1d(np.asarray(value))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{NAME}: expected {name} to be an array of numbers: {e}") from None
    if a.size == 0:
        return np.zeros(0, dtype=complex)
    if a.dtype.kind not in "fiubc":
        raise TypeError(f"{NAME}: expected {name} to be numbers, got dtype {a.dtype}")
    if a.ndim != 1:
        raise ValueError(f"{NAME}: expected {name} of shape (n,), got shape {a.shape}")
    a = a.astype(complex)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{NAME}: expected finite {name}, got NaN or infinity")
    return a


def real_matrix(name, value):
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{NAME}: expected {name} to be an array of numbers, got {value!r:.40}")
    try:
        a = np.asarray(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{NAME}: expected {name} to be an array of numbers: {e}") from None
    if a.dtype.kind == "c":
        raise TypeError(f"{NAME}: complex {name} is not supported; got dtype {a.dtype}")
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{NAME}: expected {name} to be real numbers, got dtype {a.dtype}")
    a = np.array(a, dtype=np.float64, order="C", ndmin=0)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{NAME}: expected finite {name}, got NaN or infinity")
    return a


def ss_arrays(A, B, C, D):
    """(A (N, N), B (N,), C (N,), D float) of a single-input single-output system."""
    A = real_matrix("A", A)
    if A.size == 0:
        A = A.reshape(0, 0)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{NAME}: expected A to be a square matrix (N, N), got shape {A.shape}")
    N = A.shape[0]
    B = real_matrix("B", B)
    if B.shape not in ((N,), (N, 1)) and not (N == 0 and B.size == 0):
        raise ValueError(f"{NAME}: expected B of shape ({N}, 1): one input (a single-input, "
                         f"single-output system), got shape {B.shape}")
    C = real_matrix("C", C)
    if C.shape not in ((N,), (1, N)) and not (N == 0 and C.size == 0):
        raise ValueError(f"{NAME}: expected C of shape (1, {N}): one output (a single-input, "
                         f"single-output system), got shape {C.shape}")
    D = real_matrix("D", D)
    if D.size != 1:
        raise ValueError(f"{NAME}: expected D to be one number (shape (1, 1)), got shape {D.shape}")
    return A, B.reshape(N).copy(), C.reshape(N).copy(), float(D.reshape(()))


def delay_sections(d):
    """Sections that delay by d samples: z^-2 per section, then z^-1."""
    rows = [[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]] * (d // 2)
    if d % 2:
        rows.append([0.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    return np.array(rows, dtype=np.float64).reshape(-1, 6)


def zpk_to_sos(z, p, k):
    """scipy.signal.zpk2sos, its errors restated as this block's."""
    try:
        return np.asarray(signal.zpk2sos(z, p, k), dtype=np.float64)
    except ValueError as e:
        raise ValueError(f"{NAME}: cannot pair these zeros and poles into real sections "
                         f"(complex ones must come in conjugate pairs): {e}") from None


def tf_to_sos(b, a):
    """Sections of lfilter(b, a): b and a are coefficients of z^-0, z^-1, ...

    A run of leading zeros in b is a pure delay and becomes delay sections
    (scipy.signal.tf2sos drops it; its normalize() also strips numerator
    coefficients below 1e-14, which very low-cutoff designs have).  What is
    left is one section as given if it is of order <= 2 (no rounding at
    all), else the roots of b and a, made the same length so that roots at
    the origin are kept, paired by zpk2sos.
    """
    if a[0] == 0:
        raise ValueError(f"{NAME}: expected a[0] != 0 (the coefficient of y[n], as lfilter "
                         f"takes it), got a = {np.array2string(a, threshold=8)}")
    b = b / a[0]
    a = a / a[0]
    nz = np.flatnonzero(b)
    if nz.size == 0:
        return np.array([[0.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
    d = int(nz[0])
    b = np.trim_zeros(b[d:], "b")
    a = np.trim_zeros(a, "b")
    n = max(len(b), len(a))
    b = np.pad(b, (0, n - len(b)))
    a = np.pad(a, (0, n - len(a)))
    if n <= 3:
        sos = np.zeros((1, 6))
        sos[0, :n] = b
        sos[0, 3:3 + n] = a
    else:
        sos = zpk_to_sos(np.roots(b), np.roots(a), b[0])
    return np.vstack([sos, delay_sections(d)])


def normalized_sos(sos):
    s = coefficients(NAME, "sos", sos)
    if s.ndim != 2 or s.shape[1] != 6:
        raise ValueError(f"{NAME}: expected sos of shape (n_sections, 6), got shape {s.shape}")
    a0 = s[:, 3].copy()
    if np.any(a0 == 0):
        raise ValueError(f"{NAME}: expected a0 = sos[:, 3] != 0 in every section, got "
                         f"{np.array2string(a0, threshold=8)}")
    return s / a0[:, None]


# tail_frames of an IIR system: where its impulse response has decayed for
# good below -120 dB of its peak (below float32 resolution of a full-scale
# signal), capped so that a ring of minutes cannot turn into a runaway job.
TAIL_LEVEL = 1e-6
TAIL_CAP = 1 << 20


def decay_frames(poles, impulse):
    """Index of the last impulse-response sample at or above -120 dB of the peak.

    ``poles`` of the system, ``impulse(n)`` its first n response samples.
    """
    r = float(np.max(np.abs(poles))) if len(poles) else 0.0
    if r >= 1.0:
        return TAIL_CAP
    # the slowest pole loses -20 log10(r) dB a frame: simulate well past the
    # frame where that envelope reaches -120 dB, and longer while the
    # response is still above the level in the second half of what was
    # simulated (repeated or clustered poles rise before they decay)
    n = 256 if r == 0.0 else int(min(TAIL_CAP, 2 * np.log(TAIL_LEVEL) / np.log(r))) + 256
    while True:
        n = min(n, TAIL_CAP + 1)
        a = np.abs(impulse(n))
        peak = a.max()
        if not peak > 0:
            return 0
        last = int(np.flatnonzero(a >= TAIL_LEVEL * peak)[-1])
        if last < n // 2 or n > TAIL_CAP:
            return min(last, TAIL_CAP)
        n *= 4


def section_poles(sos):
    """Poles of a cascade, as (b0 z^2 + b1 z + b2) / (z^2 + a1 z + a2) per section.

    zpk2sos pads odd orders with a pole and a zero at the origin, in two
    different sections; origin poles are cancelled against origin zeros, so
    that butter(7) has 7 poles, and a delay section keeps its poles at 0.
    """
    poles = []
    origin_zeros = 0
    for b0, b1, b2, _, a1, a2 in sos:
        poles.extend(np.roots([1.0, a1, a2]).astype(complex))
        num = np.trim_zeros(np.array([b0, b1, b2]), "f")
        if len(num) > 1:
            origin_zeros += int(np.count_nonzero(np.roots(num) == 0))
    poles = np.array(poles, dtype=complex)
    at_origin = np.flatnonzero(poles == 0)
    return np.delete(poles, at_origin[:origin_zeros])


def siso_tf(system):
    num = np.asarray(system.num, dtype=np.float64)
    den = np.asarray(system.den, dtype=np.float64)
    if num.ndim > 1:
        if num.shape[0] != 1:
            raise ValueError(f"{NAME}: expected a single-input single-output system, got a "
                             f"numerator of shape {num.shape}")
        num = num[0]
    num = np.trim_zeros(num, "f")
    den = np.trim_zeros(den, "f")
    if num.size == 0:
        num = np.zeros(1)
    if len(num) > len(den):
        raise ValueError(f"{NAME}: the transfer function has more zeros than poles "
                         f"(numerator degree {len(num) - 1} > denominator degree {len(den) - 1}): "
                         f"it is not causal and cannot stream")
    return num, den


def describe(system, fs):
    """(form, data, fs) for a scipy.signal dlti or lti system."""
    if isinstance(system, signal.dlti):
        dt = system.dt
        if dt is not True and dt is not None:
            rate = 1.0 / float(dt)
            if fs is None:
                fs = rate
            elif abs(fs - rate) > 1e-9 * rate:
                raise ValueError(
                    f"{NAME}: expected fs to equal the discrete system's sample rate "
                    f"1/dt = {rate:g} Hz, got fs={fs:g}; a discrete system's coefficients "
                    f"belong to one sample rate (re-design it, or pass the continuous system)")
        if isinstance(system, signal.StateSpace):
            return "ss", ss_arrays(system.A, system.B, system.C, system.D), fs
        if isinstance(system, signal.ZerosPolesGain):
            z, p = roots_arg("zeros", system.zeros), roots_arg("poles", system.poles)
            if len(z) > len(p):
                raise ValueError(f"{NAME}: the system has more zeros ({len(z)}) than poles "
                                 f"({len(p)}): it is not causal and cannot stream")
            sos = zpk_to_sos(z, p, float(np.real(system.gain)))
            return "sos", np.vstack([sos, delay_sections(len(p) - len(z))]), fs
        num, den = siso_tf(system)
        # descending powers of z: a shorter numerator is a delay
        b = np.concatenate([np.zeros(len(den) - len(num)), num])
        return "sos", tf_to_sos(b, den), fs
    if isinstance(system, signal.lti):
        if fs is None:
            raise ValueError(f"{NAME}: a continuous-time (lti) system needs fs, the sample rate "
                             f"to discretise it at (bilinear transform); got fs=None")
        if isinstance(system, signal.StateSpace):
            A, B, C, D = ss_arrays(system.A, system.B, system.C, system.D)
            if A.shape[0] == 0:
                return "ss", (A, B, C, D), fs
            Ad, Bd, Cd, Dd, _ = signal.cont2discrete((A, B[:, None], C[None, :], [[D]]), 1.0 / fs,
                                                     method="bilinear")
            return "ss", ss_arrays(Ad, Bd, Cd, Dd), fs
        if isinstance(system, signal.ZerosPolesGain):
            z, p = roots_arg("zeros", system.zeros), roots_arg("poles", system.poles)
            if len(z) > len(p):
                raise ValueError(f"{NAME}: the continuous system has more zeros ({len(z)}) than "
                                 f"poles ({len(p)}): it is improper and has no bilinear transform")
            zd, pd, kd = signal.bilinear_zpk(z, p, float(np.real(system.gain)), fs)
            return "sos", zpk_to_sos(zd, pd, kd), fs
        num, den = siso_tf(system)
        b, a = signal.bilinear(num, den, fs)
        return "sos", tf_to_sos(np.atleast_1d(b), np.atleast_1d(a)), fs
    raise TypeError(f"{NAME}: expected a scipy.signal dlti or lti system (or use "
                    f"LTISystem.from_tf/from_zpk/from_sos/from_ss), got {type(system).__name__}")
