"""DelayEstimator: the delay between two live streams, by GCC-PHAT over a sliding window."""

from libc.math cimport NAN, sqrt
from libc.string cimport memcpy, memset

import numpy as np

from streamdsp._core._block cimport Block
from streamdsp._core._history cimport planes_push
from streamdsp._core._snapshot cimport raw, unraw
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._fft cimport (
    fft_plan,
    sd_fft_f32, sd_fft_f32_new, sd_fft_f32_free, sd_fft_f32_forward, sd_fft_f32_inverse,
    sd_fft_f64, sd_fft_f64_new, sd_fft_f64_free, sd_fft_f64_forward, sd_fft_f64_inverse,
)
from streamdsp._core._validate import choice, fft_points, frame_count

from streamdsp._core._types cimport real_t


cdef void _cross_spectrum(real_t* X0, real_t* X1, Py_ssize_t half, bint phat) noexcept nogil:
    """X1 <- X1 * conj(X0) (whitened to unit magnitude with phat), packed layout.

    Position 0 holds two real bins (DC in re, Nyquist in im); the others are
    complex.  Elementwise, so the packed order of the bins does not matter.
    """
    cdef Py_ssize_t k
    cdef real_t* r0 = X0
    cdef real_t* i0 = X0 + half
    cdef real_t* r1 = X1
    cdef real_t* i1 = X1 + half
    cdef double a, b, mag
    # DC and Nyquist: real products
    a = <double>r1[0] * r0[0]
    b = <double>i1[0] * i0[0]
    if phat:
        a = 1.0 if a > 0 else (-1.0 if a < 0 else 0.0)
        b = 1.0 if b > 0 else (-1.0 if b < 0 else 0.0)
    r1[0] = <real_t>a
    i1[0] = <real_t>b
    for k in range(1, half):
        a = <double>r1[k] * r0[k] + <double>i1[k] * i0[k]
        b = <double>i1[k] * r0[k] - <double>r1[k] * i0[k]
        if phat:
            mag = sqrt(a * a + b * b)
            if mag > 0:
                a /= mag
                b /= mag
            else:
                a = b = 0.0
        r1[k] = <real_t>a
        i1[k] = <real_t>b


cdef bint _all_finite(const real_t* v, Py_ssize_t n) noexcept nogil:
    """Whether v[0 : n] holds no NaN or Inf (v - v is 0 only for a finite v;
    an OR over comparisons vectorises, a sum would not without -ffast-math)."""
    cdef Py_ssize_t i
    cdef int bad = 0
    for i in range(n):
        bad |= (v[i] - v[i]) != 0
    return not bad


cdef double _peak_lag(const real_t* r, Py_ssize_t N, Py_ssize_t max_lag) noexcept nogil:
    """Lag in [-max_lag, max_lag] of the largest r (circular), refined by a parabola.

    Searched outward from lag 0, so that ties (a flat, silent correlation)
    give the smallest lag.
    """
    cdef Py_ssize_t k, best = 0
    cdef double v, bv = r[0], ym, y0, yp, den, d
    for k in range(1, max_lag + 1):
        v = r[k]
        if v > bv:
            bv = v
            best = k
        v = r[N - k]
        if v > bv:
            bv = v
            best = -k
    ym = r[(best - 1 + N) % N]
    y0 = bv
    yp = r[(best + 1 + N) % N]
    den = ym - 2.0 * y0 + yp
    d = 0.0
    if den < 0:
        d = 0.5 * (ym - yp) / den
        if d > 0.5:
            d = 0.5
        elif d < -0.5:
            d = -0.5
    return best + d


cdef class DelayEstimator(Block):
    """DelayEstimator(window, hop=None, max_lag=None, method='gcc-phat')
--

    Delay between two streams, estimated by GCC-PHAT over a sliding window.

    Takes a 2-channel stream (channel 1 compared with channel 0) and emits
    one value every ``hop`` frames: the lag of channel 1 behind channel 0, in
    samples (positive when channel 1 lags, i.e. ``x1[t] = x0[t - lag]``),
    refined to a fraction of a sample by a parabola through the peak.  Two
    live sources can be joined with :class:`Concatenate` in a
    :class:`Graph`, which aligns them by their latencies first.

    Parameters
    ----------
    window : int
        Frames per analysis window (>= 2; ``window + max_lag <= 2**30``,
        the largest FFT).  The block keeps about ``6 * nfft`` samples of
        working memory; more than the machine has free is a MemoryError.
    hop : int, optional
        Frames between estimates (>= 1; default ``window // 2``).
    max_lag : int, optional
        Largest lag searched, in samples (``0 <= max_lag < window``; default
        ``window // 2``).
    method : {"gcc-phat", "cc"}, optional
        ``"gcc-phat"`` (default): the cross-spectrum ``X1 conj(X0)`` is
        whitened to unit magnitude before the inverse transform, which
        sharpens the peak and resists reverberation and coloured signals.
        ``"cc"``: the plain cross-correlation.

    Notes
    -----
    A rate-reducing block (``decimation == hop``, latency 0): output k
    (k = 0, 1, ...) is computed from frames ``k * hop`` to
    ``k * hop + window - 1`` and emitted with the last of them, so ``n``
    frames give no output if ``n < window``, else
    ``(n - window) // hop + 1``; partial windows at the end are not
    reported and ``flush()`` returns nothing.  A window is zero-padded to
    ``N = 2 ** ceil(log2(window + max_lag))`` points, so every lag searched
    is a linear (not circular) correlation lag.  Offline equivalent of one
    output, with ``w0, w1`` the two channels of the window::

        X0, X1 = np.fft.rfft(w0, N), np.fft.rfft(w1, N)
        G = X1 * X0.conj();  G /= np.abs(G)           # "gcc-phat"
        r = np.fft.irfft(G, N)
        lag = argmax of r over lags -max_lag..max_lag (r[-k] is lag -k),
              plus the vertex of the parabola through the peak and its neighbours

    Silence (a flat correlation) gives 0.  A window holding a NaN or Inf
    sample (in either channel) gives NaN -- it is reported, not skipped, so
    that output k still belongs to window k; the estimates are finite again
    from the first window free of them.  The estimate comes out in the
    stream dtype, as a ``(k, 1)`` array.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> rng = np.random.default_rng(0)
    >>> s = rng.standard_normal(20000)
    >>> x = np.stack([s[100:], s[93:-7]], axis=1)    # channel 1 is 7 samples late
    >>> est = sd.DelayEstimator(1024, hop=512, max_lag=64)
    >>> lags = np.concatenate([est.process(part) for part in np.array_split(x, 5)])
    >>> lags.shape, float(np.round(np.median(lags), 2))
    ((37, 1), 7.0)
    """

    cdef readonly Py_ssize_t window
    cdef readonly Py_ssize_t hop
    cdef readonly Py_ssize_t max_lag
    cdef readonly str method
    cdef readonly Py_ssize_t nfft
    cdef bint _phat
    cdef void* _plan
    cdef bint _plan_f32
    cdef void* _ring      # 2 x window samples, oldest at _wpos
    cdef Py_ssize_t _wpos
    cdef Py_ssize_t _cnt  # input frames still to come before the next estimate
    cdef void* _buf       # 2 x nfft: time windows, then spectra in place
    cdef void* _spec      # 2 x nfft spectra (re[N/2], im[N/2]) per channel
    cdef void* _corr      # nfft: the correlation

    def __cinit__(self, *args, **kwargs):
        self._plan = NULL
        self._ring = self._buf = self._spec = self._corr = NULL

    def __init__(self, window, hop=None, max_lag=None, method="gcc-phat"):
        w = frame_count("DelayEstimator", "window", window, minimum=2)
        h = w // 2 if hop is None else frame_count("DelayEstimator", "hop", hop, minimum=1)
        L = w // 2 if max_lag is None else frame_count("DelayEstimator", "max_lag", max_lag)
        if L >= w:
            raise ValueError(f"DelayEstimator: expected max_lag < window ({w}), got {L}")
        choice("DelayEstimator", "method", method, ("gcc-phat", "cc"))
        self.window = w
        self.hop = h
        self.max_lag = L
        self.method = method
        self._phat = method == "gcc-phat"
        self.nfft = fft_points("DelayEstimator", "window + max_lag", w + L)
        self._in_ch = 2
        self._down = h
        self._latency = 0

    def __dealloc__(self):
        self._free()

    cdef void _free(self) noexcept:
        if self._plan != NULL:
            if self._plan_f32:
                sd_fft_f32_free(<sd_fft_f32*>self._plan)
            else:
                sd_fft_f64_free(<sd_fft_f64*>self._plan)
            self._plan = NULL
        aligned_free(self._ring)
        aligned_free(self._buf)
        aligned_free(self._spec)
        aligned_free(self._corr)
        self._ring = self._buf = self._spec = self._corr = NULL

    cdef int _setup(self, Py_ssize_t channels) except -1:
        cdef Py_ssize_t isz = 4 if self._f32 else 8, N = self.nfft
        self._free()
        self._out_ch = 1
        self._plan_f32 = self._f32
        self._plan = fft_plan(self, N, self._f32, 2 * self.window + 4 * N)
        self._ring = alloc_frames(self, self.window, 2, isz)
        self._buf = alloc_frames(self, N, 1, isz)
        self._spec = alloc_frames(self, N, 2, isz)
        self._corr = alloc_frames(self, N, 1, isz)
        self._reset()
        return 0

    cdef void _reset(self) noexcept nogil:
        self._wpos = 0
        self._cnt = self.window
        if self._ring != NULL:
            memset(self._ring, 0, 2 * self.window * (4 if self._f32 else 8))

    cdef Py_ssize_t _out_frames(self, Py_ssize_t frames) noexcept nogil:
        if frames < self._cnt:
            return 0
        return (frames - self._cnt) // self.hop + 1

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t done = 0, n, written = 0
        while done < frames:
            n = frames - done
            if n > self._cnt:
                n = self._cnt
            if self._f32:
                self._store(<const char*>x + done * 2 * 4, n)
            else:
                self._store(<const char*>x + done * 2 * 8, n)
            done += n
            self._cnt -= n
            if self._cnt == 0:
                if self._f32:
                    (<float*>y)[written] = <float>_estimate(<float*>self._ring, self._wpos, self.window,
                                                           <float*>self._buf, <float*>self._spec,
                                                           <float*>self._corr, self.nfft, self._plan,
                                                           self.max_lag, self._phat)
                else:
                    (<double*>y)[written] = _estimate(<double*>self._ring, self._wpos, self.window,
                                                      <double*>self._buf, <double*>self._spec,
                                                      <double*>self._corr, self.nfft, self._plan,
                                                      self.max_lag, self._phat)
                written += 1
                self._cnt = self.hop
        return written

    cdef void _store(self, const char* x, Py_ssize_t n) noexcept nogil:
        """Append n interleaved stereo frames to the two rings."""
        if self._f32:
            self._wpos = planes_push(<float*>self._ring, self.window, self._wpos, <const float*>x, n, 2)
        else:
            self._wpos = planes_push(<double*>self._ring, self.window, self._wpos, <const double*>x, n, 2)

    def _config(self):
        return type(self), (self.window,), {"hop": self.hop, "max_lag": self.max_lag,
                                            "method": self.method}

    def _get_state(self):
        return {"ring": raw(self._ring, 2 * self.window * (4 if self._f32 else 8)),
                "wpos": self._wpos, "cnt": self._cnt}

    def _set_state(self, state):
        unraw(self._ring, 2 * self.window * (4 if self._f32 else 8), state["ring"], self)
        self._wpos = state["wpos"]
        self._cnt = state["cnt"]

    def _params(self):
        return {"window": self.window, "hop": self.hop, "max_lag": self.max_lag, "method": self.method}


cdef double _estimate(real_t* ring, Py_ssize_t wpos, Py_ssize_t W, real_t* buf, real_t* spec,
                      real_t* corr, Py_ssize_t N, void* plan, Py_ssize_t max_lag,
                      bint phat) noexcept nogil:
    """The lag estimate for the window in the rings (oldest sample at wpos);
    NaN if the window holds a NaN or Inf in either channel."""
    cdef Py_ssize_t c, half = N // 2
    cdef real_t* r
    for c in range(2):
        r = ring + c * W
        memcpy(buf, r + wpos, (W - wpos) * sizeof(real_t))
        memcpy(buf + W - wpos, r, wpos * sizeof(real_t))
        if not _all_finite(buf, W):
            # the transforms would be all NaN and the peak search would
            # settle on lag 0, a plausible but made-up answer
            return NAN
        memset(buf + W, 0, (N - W) * sizeof(real_t))
        if real_t is float:
            sd_fft_f32_forward(<sd_fft_f32*>plan, buf, spec + c * N, spec + c * N + half)
        else:
            sd_fft_f64_forward(<sd_fft_f64*>plan, buf, spec + c * N, spec + c * N + half)
    _cross_spectrum(spec, spec + N, half, phat)
    if real_t is float:
        sd_fft_f32_inverse(<sd_fft_f32*>plan, spec + N, spec + N + half, corr)
    else:
        sd_fft_f64_inverse(<sd_fft_f64*>plan, spec + N, spec + N + half, corr)
    return _peak_lag(corr, N, max_lag)
