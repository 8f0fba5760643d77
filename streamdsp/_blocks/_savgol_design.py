"""SavitzkyGolay's design math: edge-fit matrices and the engine plan (plain Python).

Runs once, when a block is built or prepared.
"""

import numpy as np

from streamdsp._core._costmodel import direct_cost, fft_cost


# Longest window designed: scipy's savgol_coeffs crashes the process (SIGSEGV
# inside LAPACK, scipy 1.17) for windows of 4194305 and more; 2**21 + 1
# (44 s at 48 kHz) was measured to design fine for polyorder 0..20.
MAX_WINDOW = 2 ** 21 + 1


def designed(name, K, po, design, *args, **kwargs):
    """design(*args, **kwargs), a MemoryError naming the block and the window."""
    try:
        return design(*args, **kwargs)
    except MemoryError as e:
        raise MemoryError(f"{name}: cannot design the coefficients of window_length={K}, "
                          f"polyorder={po}: {e}") from None


def edge_fit_matrices(window_length, polyorder, deriv, delta):
    """Linear maps from the first/last window to scipy's edge outputs (interp mode).

    ``savgol_filter(mode="interp")`` fits a degree-``polyorder`` polynomial
    to the first (last) ``window_length`` samples and evaluates its
    ``deriv``-th derivative at the first (last) ``window_length // 2``
    positions.  That is linear in the window and factors into a fit and an
    evaluation: ``lead @ (fit @ x[:K])`` and ``trail @ (fit @ x[-K:])``,
    which keeps ``(polyorder + 1) * (K + K // 2)`` numbers instead of the
    ``K * K`` of the products (8 MB for a 1001-sample window).  The fit runs
    on the abscissa centred and scaled to [-1, 1], which keeps the
    Vandermonde matrix well conditioned for long windows (scipy fits on
    0..K-1 with column scaling; the polynomial is the same).

    Returns
    -------
    fit : ndarray, float64, shape (polyorder + 1, window_length)
    lead, trail : ndarray, float64, shape (window_length // 2, polyorder + 1)
    """
    from math import factorial
    K, half = window_length, window_length // 2
    t = np.arange(K, dtype=np.float64)
    c = (K - 1) / 2.0
    s = max(c, 1.0)
    V = ((t - c) / s)[:, None] ** np.arange(polyorder + 1)
    fit = np.ascontiguousarray(np.linalg.pinv(V))   # polynomial coefficients = fit @ window

    def evaluate(points):
        u = (points - c) / s
        W = np.zeros((len(points), polyorder + 1))
        for p in range(deriv, polyorder + 1):
            W[:, p] = factorial(p) // factorial(p - deriv) * u ** (p - deriv)
        return np.ascontiguousarray(W / (s ** deriv * delta ** deriv))

    return fit, evaluate(t[:half]), evaluate(t[K - half:])


# Smallest FFT block the planner considers unless nothing larger fits: the cost
# model leaves out the engine's per-block overhead, and below 64 frames that
# dominates (measured 4-10x the model's estimate at P = 8..32 for a 1001-tap
# window; see the note on issue 4).
MIN_BLOCK = 64


def plan_engine(ntaps, delay, method):
    """How to run ``ntaps`` taps delayed by ``delay`` frames without exceeding that delay.

    The FFT engine (uniformly partitioned overlap-save, block P) lags by P
    frames, so it can only take taps from P - delay on: the first
    ``Kd = P - delay`` taps run in the direct kernel (delayed by ``delay``)
    and the rest in the FFT engine, whose lag then lines up exactly.  The
    split is chosen with the FIR cost model (``_costmodel.direct_cost`` and
    ``fft_cost``, the same numbers ``fir_method`` ranks FIR's methods by).

    Returns
    -------
    (method, Kd, P) : ("direct", ntaps, 0) or ("fft", Kd, P)
    """
    if method == "direct":
        return ("direct", ntaps, 0)
    best = None if method == "fft" else ("direct", ntaps, 0)
    best_cost = float("inf") if method == "fft" else direct_cost(ntaps)
    for smallest in ((MIN_BLOCK, 8) if method == "fft" else (MIN_BLOCK,)):
        P = smallest
        while P <= 8192:
            kd = max(P - delay, 0)
            if kd >= ntaps:
                break
            nfft = ntaps - kd + max(delay - P, 0)
            cost = (direct_cost(kd) if kd else 0.0) + fft_cost(nfft, P)
            if cost < best_cost:
                best, best_cost = ("fft", kd, P), cost
            P *= 2
        if best is not None:
            break
    return best or ("direct", ntaps, 0)
