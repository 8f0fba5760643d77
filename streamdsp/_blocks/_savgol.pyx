"""Savitzky-Golay smoothing and differentiation, streamed with scipy's edges."""

from libc.string cimport memcpy, memmove, memset

cimport numpy as cnp
import numpy as np

from streamdsp._core._block cimport Block
from streamdsp._core._history cimport frames_push
from streamdsp._core._snapshot cimport raw, raw_all, unraw, unraw_all
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._partconv cimport PartitionedConvolution
from streamdsp._core._validate import choice, finite_float, whole_number
from streamdsp._blocks._savgol_design import MAX_WINDOW, designed, edge_fit_matrices, plan_engine

cnp.import_array()

from streamdsp._core._firkernel cimport SD_FIR_PAD, sd_fir_f32, sd_fir_f64

ctypedef fused real_t:
    float
    double

# Frames the steady-state engine works on at a time (as in _fir.pyx).
DEF _SUB = 1024

cdef enum:
    MODE_INTERP = 0
    MODE_MIRROR = 1
    MODE_NEAREST = 2
    MODE_CONSTANT = 3

_MODES = {"interp": MODE_INTERP, "mirror": MODE_MIRROR, "nearest": MODE_NEAREST,
          "constant": MODE_CONSTANT}


cdef class SavitzkyGolay(Block):
    """SavitzkyGolay(window_length, polyorder, deriv=0, delta=1.0, mode='interp', cval=0.0, method='auto')
--

    Savitzky-Golay smoothing (or differentiation) filter, streamed chunk by chunk.

    Fits a polynomial of degree ``polyorder`` to every window of
    ``window_length`` samples by least squares and outputs its value (or its
    ``deriv``-th derivative) at the window's centre, exactly like
    ``scipy.signal.savgol_filter`` on the whole signal, edges included.

    Parameters
    ----------
    window_length : int
        Length of the window (odd or even, as scipy allows; at most
        ``2**21 + 1``, beyond which scipy's coefficient design crashes).
    polyorder : int
        Degree of the fitted polynomial, ``< window_length``.
    deriv : int, optional
        Order of the derivative (0: smoothing).  Above ``polyorder`` the
        output is zero, as in scipy.
    delta : float, optional
        Sample spacing; used when ``deriv > 0``.
    mode : {"interp", "mirror", "nearest", "constant"}, optional
        How the edges are handled, as in scipy.  ``"interp"`` (default)
        fits a polynomial to the first and last whole window; the others
        pad the signal.  ``"wrap"`` needs the end of the signal before its
        start and cannot stream: it is a ValueError.
    cval : float, optional
        Padding value of ``mode="constant"`` (scipy's ``cval``).
    method : {"auto", "direct", "fft"}, optional
        How the steady-state FIR runs.  ``"auto"`` (default) takes whichever
        the FIR cost model says is cheaper for ``window_length``: the direct
        kernel for short windows, a direct head plus a partitioned FFT tail
        for long ones (e.g. 1001).  Neither changes :attr:`latency`.

    Notes
    -----
    Latency: ``window_length // 2`` for ``mirror``, ``nearest`` and
    ``constant`` (an output needs the samples up to half a window ahead);
    ``window_length - 1`` for ``interp``, whose first outputs come from a
    fit over the first whole window.

    Offline equivalent (after dropping the first ``latency`` frames of
    ``concatenate([process(x), flush()])``)::

        scipy.signal.savgol_filter(x, window_length, polyorder, deriv, delta,
                                   axis=0, mode=mode, cval=cval)

    The steady state is the FIR of :attr:`coeffs`
    (``scipy.signal.savgol_coeffs(window_length, polyorder, deriv, delta)``)
    on the interleaved stream.  The start of the stream is held until the
    padding before it is known (the first ``window_length - window_length
    // 2`` samples: that is what the latency buys); at :meth:`flush` the
    trailing padding is made from the last samples.  For ``interp`` the edge
    fits are linear maps precomputed once in the constructor and applied
    once at the start and once at flush.

    ``flush()`` emits exactly ``latency`` frames (zeros if the stream got
    only empty chunks; nothing before the first chunk).  As in scipy,
    ``mode="interp"`` needs at least ``window_length`` samples: a shorter
    stream makes ``flush()`` raise ``ValueError`` after resetting the block
    (the held-back samples are dropped; the block is ready for a new
    stream).  The other modes accept any length, as scipy does (``mirror``
    reflects as often as needed).

    The FFT path (long windows) rounds differently from the direct sum
    (float32: about 1e-6 of the signal's peak).

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> from scipy.signal import savgol_filter
    >>> x = np.random.default_rng(0).standard_normal(1000)
    >>> sg = sd.SavitzkyGolay(31, 3, mode="mirror")
    >>> y = np.concatenate([sg.process(x[:400]), sg.process(x[400:]), sg.flush()])
    >>> np.allclose(y[sg.latency:], savgol_filter(x, 31, 3, mode="mirror"))
    True
    """

    cdef readonly Py_ssize_t window_length
    cdef readonly Py_ssize_t polyorder
    cdef readonly Py_ssize_t deriv
    cdef readonly double delta
    cdef readonly str mode
    cdef readonly double cval
    cdef readonly str method
    cdef readonly object coeffs          # savgol_coeffs(..., use="conv"), read-only
    cdef int _mode
    cdef Py_ssize_t _K                   # window_length
    cdef Py_ssize_t _half                # window_length // 2 (edge-fit length)
    cdef Py_ssize_t _A                   # padding frames before x[0] (non-interp)
    cdef Py_ssize_t _D                   # delay of the taps inside the latency
    cdef Py_ssize_t _R                   # frames kept in the ring of recent input
    # engine: direct head of _Kd taps (delayed by _D) + FFT tail of block _P
    cdef Py_ssize_t _Kd
    cdef Py_ssize_t _P
    cdef object _taps_fft
    cdef void* _hr                       # reversed head taps, stream dtype
    cdef void* _lin                      # per channel: _hist history + _SUB + pad
    cdef Py_ssize_t _hist
    cdef Py_ssize_t _lin_len
    cdef PartitionedConvolution _conv
    cdef void* _fftout                   # _SUB frames: the FFT tail's output
    cdef void* _xin                      # _SUB frames: padding / zeros fed at the edges
    cdef void* _junk                     # _SUB frames: discarded output while priming
    # edges
    cdef void* _ring                     # last _R input frames, frame t at t % _R
    cdef Py_ssize_t _n                   # frames consumed since reset
    cdef bint _primed                    # the leading padding has been fed
    cdef object _fits                    # (fit, lead, trail, scratch) arrays, interp only
    cdef const double* _fit_m            # (polyorder+1, K): window -> polynomial
    cdef const double* _lead_m           # (half, polyorder+1): polynomial -> first outputs
    cdef const double* _trail_m          # (half, polyorder+1): polynomial -> last outputs
    cdef double* _poly                   # (polyorder+1,) scratch
    cdef void* _lead                     # (half, ch) leading fit values
    cdef void* _trail                    # (half, ch) trailing fit values
    cdef bint _lead_ready
    cdef str _method_arg                 # method as given (pickling rebuilds the same plan)

    def __cinit__(self, *args, **kwargs):
        self._hr = self._lin = self._fftout = self._xin = self._junk = NULL
        self._ring = self._lead = self._trail = NULL
        self._fit_m = self._lead_m = self._trail_m = NULL
        self._poly = NULL

    def __init__(self, window_length, polyorder, deriv=0, delta=1.0, mode="interp",
                 cval=0.0, method="auto"):
        from scipy.signal import savgol_coeffs
        name = "SavitzkyGolay"
        K = whole_number(name, "window_length", window_length, minimum=1)
        if K > MAX_WINDOW:
            # before the design: scipy's savgol_coeffs crashes the process
            # (SIGSEGV in LAPACK) for windows of 4194305 and more
            raise ValueError(f"{name}: expected window_length <= {MAX_WINDOW}, got {K}")
        po = whole_number(name, "polyorder", polyorder, minimum=0)
        d = whole_number(name, "deriv", deriv, minimum=0)
        dl = finite_float(name, "delta", delta)
        cv = finite_float(name, "cval", cval)
        if po >= K:
            raise ValueError(f"{name}: expected polyorder < window_length, "
                             f"got polyorder={po}, window_length={K}")
        if dl == 0.0 and d > 0:
            raise ValueError(f"{name}: expected a nonzero delta for deriv={d}, got delta={delta!r}")
        if mode == "wrap":
            raise ValueError(f"{name}: mode='wrap' needs the whole signal and cannot stream; "
                             "use 'mirror', 'nearest', 'constant' or 'interp'")
        choice(name, "mode", mode, tuple(_MODES))
        choice(name, "method", method, ("auto", "direct", "fft"))

        h = np.ascontiguousarray(designed(name, K, po, savgol_coeffs, K, po, deriv=d, delta=dl,
                                           use="conv"), dtype=np.float64)
        h.setflags(write=False)
        self.coeffs = h
        self.window_length, self.polyorder, self.deriv = K, po, d
        self.delta, self.cval, self.mode = dl, cv, mode
        self._mode = _MODES[mode]
        self._K = K
        self._half = K // 2
        # scipy (ndimage.convolve1d) centres the taps so that
        #   y[i] = sum_k h[k] * xpad[i + K//2 - k]
        # for odd and even K alike; an output needs K//2 samples ahead.
        if self._mode == MODE_INTERP:
            self._latency = K - 1
            self._D = K - 1 - self._half
            self._A = 0
            self._R = K
            fit, lead, trail = designed(name, K, po, edge_fit_matrices, K, po, d, dl)
            self._fits = (fit, lead, trail, np.zeros(po + 1))
            self._fit_m = <const double*>cnp.PyArray_DATA(fit)
            self._lead_m = <const double*>cnp.PyArray_DATA(lead)
            self._trail_m = <const double*>cnp.PyArray_DATA(trail)
            self._poly = <double*>cnp.PyArray_DATA(self._fits[3])
        else:
            self._latency = self._half
            self._D = 0
            self._A = K - 1 - self._half
            self._R = self._latency + 1
        if method == "fft" and plan_engine(K, self._D, "fft")[0] != "fft":
            raise ValueError(f"{name}: method='fft' needs a longer window than {K} at this latency "
                             f"(the FFT block is at least 8 frames); use 'direct' or 'auto'")
        self._method_arg = method
        method, self._Kd, self._P = plan_engine(K, self._D, method)
        self.method = method
        if self._P:
            self._taps_fft = np.concatenate([np.zeros(max(self._D - self._P, 0)), h[self._Kd:]])

    def __dealloc__(self):
        self._free()

    cdef void _free(self) noexcept:
        aligned_free(self._hr)
        aligned_free(self._lin)
        aligned_free(self._fftout)
        aligned_free(self._xin)
        aligned_free(self._junk)
        aligned_free(self._ring)
        aligned_free(self._lead)
        aligned_free(self._trail)
        self._hr = self._lin = self._fftout = self._xin = self._junk = NULL
        self._ring = self._lead = self._trail = NULL

    cdef int _setup(self, Py_ssize_t channels) except -1:
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        cdef Py_ssize_t half = self._half
        cdef cnp.ndarray hr
        self._free()
        self._conv = None
        self._out_ch = channels
        dtype = np.float32 if self._f32 else np.float64
        if self._Kd:
            hr = np.ascontiguousarray(self.coeffs[:self._Kd][::-1], dtype=dtype)
            self._hr = alloc_frames(self, hr.size, 1, hr.itemsize)
            memcpy(self._hr, cnp.PyArray_DATA(hr), hr.nbytes)
            self._hist = self._Kd - 1 + self._D
            self._lin_len = self._hist + _SUB + SD_FIR_PAD
            self._lin = alloc_frames(self, self._lin_len, channels, isz)
        if self._P:
            self._conv = PartitionedConvolution(self._taps_fft, channels, self._P, self._f32, owner=self)
            self._fftout = alloc_frames(self, _SUB, channels, isz)
        self._xin = alloc_frames(self, _SUB, channels, isz)
        self._junk = alloc_frames(self, _SUB, channels, isz)
        self._ring = alloc_frames(self, self._R, channels, isz)
        if self._mode == MODE_INTERP and half:
            self._lead = alloc_frames(self, half, channels, isz)
            self._trail = alloc_frames(self, half, channels, isz)
        self._reset()
        return 0

    cdef void _reset(self) noexcept nogil:
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        if self._lin != NULL:
            memset(self._lin, 0, self._lin_len * self._in_ch * isz)
        if self._conv is not None:
            self._conv.reset()
        self._n = 0
        self._primed = self._mode == MODE_INTERP
        self._lead_ready = False

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        if self._f32:
            _run_stream(self, <const float*>x, <float*>y, frames)
        else:
            _run_stream(self, <const double*>x, <double*>y, frames)
        return frames

    cdef Py_ssize_t _flush_frames(self) noexcept nogil:
        return self._latency

    cdef Py_ssize_t _flush(self, void* y) noexcept nogil:
        if self._n == 0:
            # API.md: len(x) + latency frames in all, the first `latency` zeros
            memset(y, 0, self._latency * self._out_ch * (4 if self._f32 else 8))
            return self._latency
        if self._f32:
            _flush_stream(self, <float*>y)
        else:
            _flush_stream(self, <double*>y)
        return self._latency

    def flush(self):
        """End the stream: return the ``latency`` frames held back, then reset.

        Returns
        -------
        y : ndarray
            ``latency`` frames (nothing before the first chunk; zeros after
            empty chunks only), in the layout of the last chunk.

        Raises
        ------
        ValueError
            ``mode="interp"`` and the stream was shorter than
            ``window_length`` (scipy raises for such signals too).  The
            block is reset before raising.
        """
        cdef Py_ssize_t n = self._n
        if self._ready and self._mode == MODE_INTERP and 0 < n < self._K:
            self.reset()
            raise ValueError(
                f"SavitzkyGolay: mode='interp' needs at least window_length={self._K} samples "
                f"to fit its edges, but the stream ended after {n} (scipy.signal.savgol_filter "
                "refuses such signals too); the block has been reset. Use mode='mirror', "
                "'nearest' or 'constant' for signals shorter than the window")
        return Block.flush(self)

    @property
    def ntaps(self):
        """Number of FIR taps of the steady state (``window_length``)."""
        return self._K

    @property
    def block_size(self):
        """Block size of the FFT tail, or ``None`` when the direct kernel does it all."""
        return self._P or None

    def frequency_response(self, n=512, fs=None, whole=False):
        """Frequency response of the steady-state filter, as ``scipy.signal.freqz`` gives it.

        The response of :attr:`coeffs` as causal FIR taps:
        ``scipy.signal.freqz(savgol_coeffs(window_length, polyorder, deriv, delta))``.
        The edges (padding or fits) are not part of it.

        Parameters
        ----------
        n : int, optional
            Number of frequencies.
        fs : float, optional
            Sample rate; frequencies are in Hz when given, else rad/sample.
        whole : bool, optional
            Whole circle instead of 0..Nyquist.

        Returns
        -------
        freqs : ndarray, shape (n,)
        h : ndarray, shape (n,), complex
        """
        from streamdsp._core._response import fir_response
        return fir_response(self.coeffs, n, fs, whole)

    def _config(self):
        return type(self), (self.window_length, self.polyorder), dict(
            deriv=self.deriv, delta=self.delta, mode=self.mode, cval=self.cval, method=self._method_arg)

    def _buffers(self):
        """(address, bytes) of every buffer the stream fills (the taps are derived)."""
        cdef Py_ssize_t f = self._in_ch * (4 if self._f32 else 8)
        cdef Py_ssize_t half = self._half if self._lead != NULL else 0
        return [(<Py_ssize_t>self._lin, self._lin_len * f if self._lin != NULL else 0),
                (<Py_ssize_t>self._fftout, _SUB * f if self._fftout != NULL else 0),
                (<Py_ssize_t>self._xin, _SUB * f), (<Py_ssize_t>self._junk, _SUB * f),
                (<Py_ssize_t>self._ring, self._R * f),
                (<Py_ssize_t>self._lead, half * f), (<Py_ssize_t>self._trail, half * f)]

    def _get_state(self):
        return {"buffers": raw_all(self._buffers()), "n": self._n,
                "primed": self._primed, "lead_ready": self._lead_ready,
                "conv": self._conv.get_state() if self._conv is not None else None}

    def _set_state(self, state):
        unraw_all(self._buffers(), state["buffers"], self)
        if self._conv is not None:
            self._conv.set_state(state["conv"])
        self._n = state["n"]
        self._primed = state["primed"]
        self._lead_ready = state["lead_ready"]

    def _params(self):
        p = {"window_length": self._K, "polyorder": self.polyorder}
        if self.deriv:
            p["deriv"] = self.deriv
            p["delta"] = self.delta
        p["mode"] = self.mode
        if self._mode == MODE_CONSTANT and self.cval:
            p["cval"] = self.cval
        p["method"] = self.method
        return p


# ----------------------------------------------------------------------
# kernels (nogil, one specialisation per dtype)

cdef void _engine(SavitzkyGolay self, const real_t* x, real_t* y, Py_ssize_t frames) noexcept nogil:
    """y[t] = sum_k coeffs[k] * s[t - D - k] over everything fed since reset (s = input)."""
    cdef Py_ssize_t ch = self._in_ch, done = 0, L, c, i, hist = self._hist
    cdef real_t* lin
    cdef real_t* out
    cdef const real_t* hr = <const real_t*>self._hr
    cdef real_t* f = <real_t*>self._fftout
    while done < frames:
        L = frames - done
        if L > _SUB:
            L = _SUB
        out = y + done * ch
        if self._Kd:
            for c in range(ch):
                lin = <real_t*>self._lin + c * self._lin_len
                if ch == 1:
                    memcpy(lin + hist, x + done, L * sizeof(real_t))
                else:
                    for i in range(L):
                        lin[hist + i] = x[(done + i) * ch + c]
                if real_t is float:
                    sd_fir_f32(hr, self._Kd, lin, L, out + c, ch)
                else:
                    sd_fir_f64(hr, self._Kd, lin, L, out + c, ch)
                memmove(lin, lin + L, hist * sizeof(real_t))
        else:
            memset(out, 0, L * ch * sizeof(real_t))
        if self._conv is not None:
            self._conv.run(x + done * ch, f, L)
            for i in range(L * ch):
                out[i] += f[i]
        done += L


cdef inline void _ring_write(SavitzkyGolay self, const real_t* x, Py_ssize_t m) noexcept nogil:
    """Keep frames n .. n+m-1 (x) in the ring, frame t at slot t % R."""
    frames_push(<char*>self._ring, self._R, self._n % self._R, <const char*>x, m,
                self._in_ch * sizeof(real_t))


cdef inline Py_ssize_t _ext_index(int mode, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Index into a signal of n samples that position i of the padded signal takes, -1 for cval.

    The extensions of scipy.ndimage (which savgol_filter pads with): mirror
    reflects about the edge sample without repeating it, as often as needed.
    """
    cdef Py_ssize_t p, m
    if 0 <= i < n:
        return i
    if mode == MODE_CONSTANT:
        return -1
    if mode == MODE_NEAREST:
        return 0 if i < 0 else n - 1
    if n == 1:
        return 0
    p = 2 * (n - 1)
    m = i % p
    if m < 0:
        m += p
    if m >= n:
        m = p - m
    return m


cdef void _feed_padded(SavitzkyGolay self, Py_ssize_t start, Py_ssize_t count, real_t* y) noexcept nogil:
    """Feed positions start .. start+count-1 of the padded signal to the engine.

    The signal is the self._n frames seen so far (held in the ring: all of
    them when the stream is short, else the last R, enough for one
    reflection).  Output goes to y, or is discarded when y is NULL.
    """
    cdef Py_ssize_t ch = self._in_ch, n = self._n, R = self._R, done = 0, L, f, c, s
    cdef real_t* xin = <real_t*>self._xin
    cdef const real_t* ring = <const real_t*>self._ring
    cdef real_t cv = <real_t>self.cval
    while done < count:
        L = count - done
        if L > _SUB:
            L = _SUB
        for f in range(L):
            s = _ext_index(self._mode, start + done + f, n)
            if s < 0:
                for c in range(ch):
                    xin[f * ch + c] = cv
            else:
                s = s % R
                for c in range(ch):
                    xin[f * ch + c] = ring[s * ch + c]
        _engine(self, xin, (y + done * ch) if y != NULL else <real_t*>self._junk, L)
        done += L


cdef void _fit(SavitzkyGolay self, const double* W, Py_ssize_t first, real_t* out) noexcept nogil:
    """Edge outputs from the window x[first .. first+K-1] (all channels), summed in double.

    out[i, c] = sum_q W[i, q] * poly[q]  with  poly[q] = sum_j fit[q, j] * x[first + j, c].
    """
    cdef Py_ssize_t K = self._K, R = self._R, ch = self._in_ch, Q = self.polyorder + 1
    cdef Py_ssize_t i, j, q, c
    cdef const real_t* ring = <const real_t*>self._ring
    cdef const double* F = self._fit_m
    cdef double* poly = self._poly
    cdef double acc
    for c in range(ch):
        for q in range(Q):
            acc = 0.0
            for j in range(K):
                acc += F[q * K + j] * ring[((first + j) % R) * ch + c]
            poly[q] = acc
        for i in range(self._half):
            acc = 0.0
            for q in range(Q):
                acc += W[i * Q + q] * poly[q]
            out[i * ch + c] = <real_t>acc


cdef void _patch(SavitzkyGolay self, real_t* y, Py_ssize_t t0, Py_ssize_t m, bint at_end) noexcept nogil:
    """Overwrite output frames t0 .. t0+m-1: zeros before `latency`, the edge fits (interp)."""
    cdef Py_ssize_t L = self._latency, ch = self._in_ch, half = self._half, t, a, b, tr
    if t0 < L:
        a = L - t0
        if a > m:
            a = m
        memset(y, 0, a * ch * sizeof(real_t))
    if self._mode != MODE_INTERP or half == 0:
        return
    a = t0 if t0 > L else L
    b = t0 + m
    if b > L + half:
        b = L + half
    for t in range(a, b):
        memcpy(y + (t - t0) * ch, <real_t*>self._lead + (t - L) * ch, ch * sizeof(real_t))
    if at_end:
        tr = self._n - half + L          # frame that carries y[n - half]
        a = t0 if t0 > tr else tr
        for t in range(a, t0 + m):
            memcpy(y + (t - t0) * ch, <real_t*>self._trail + (t - tr) * ch, ch * sizeof(real_t))


cdef void _run_stream(SavitzkyGolay self, const real_t* x, real_t* y, Py_ssize_t frames) noexcept nogil:
    cdef Py_ssize_t ch = self._in_ch, done = 0, m, t0, A = self._A
    cdef bint interp = self._mode == MODE_INTERP
    while done < frames:
        m = frames - done
        t0 = self._n
        if not self._primed:
            # Hold the first A+1 frames: the padding before x[0] is made of them.
            if m > A + 1 - t0:
                m = A + 1 - t0
            _ring_write(self, x + done * ch, m)
            self._n += m
            memset(y + done * ch, 0, m * ch * sizeof(real_t))
            if self._n == A + 1:
                _feed_padded(self, -A, 2 * A, <real_t*>NULL)
                _engine(self, x + (done + m - 1) * ch, y + (done + m - 1) * ch, 1)
                self._primed = True
        else:
            if interp and not self._lead_ready and m > self._K - t0:
                m = self._K - t0
            _engine(self, x + done * ch, y + done * ch, m)
            _ring_write(self, x + done * ch, m)
            self._n += m
            if interp and not self._lead_ready and self._n == self._K:
                if self._half:
                    _fit(self, self._lead_m, 0, <real_t*>self._lead)
                self._lead_ready = True
        _patch(self, y + done * ch, t0, m, False)
        done += m


cdef void _flush_stream(SavitzkyGolay self, real_t* y) noexcept nogil:
    cdef Py_ssize_t ch = self._in_ch, n = self._n, L = self._latency, done = 0, m
    if self._mode == MODE_INTERP:
        if n < self._K:
            # flush() raised before coming here; a C caller gets silence.
            memset(y, 0, L * ch * sizeof(real_t))
            return
        memset(self._xin, 0, _SUB * ch * sizeof(real_t))
        while done < L:
            m = L - done
            if m > _SUB:
                m = _SUB
            _engine(self, <const real_t*>self._xin, y + done * ch, m)
            done += m
        if self._half:
            _fit(self, self._trail_m, n - self._K, <real_t*>self._trail)
        _patch(self, y, n, L, True)
        return
    if not self._primed:
        # A stream shorter than the leading padding: pad from what came.
        _feed_padded(self, -self._A, self._A + n, <real_t*>NULL)
    _feed_padded(self, n, L, y)
    _patch(self, y, n, L, True)
