"""Rate-reducing blocks: Downsample, MaxPool, Decimate.

All three keep one number of state in common: ``_cnt``, the input frames
still to come before the next output frame is complete.  With it
``_out_frames(n)`` is exact for any state::

    0 if n < cnt else (n - cnt) // stride + 1

and after n frames ``cnt`` becomes ``cnt - n`` (no output) or
``stride - (n - cnt) % stride``.  ``_down`` is the stride: on average one
output frame per ``stride`` input frames.
"""

from libc.math cimport INFINITY
from libc.string cimport memcpy, memmove, memset

cimport numpy as cnp
import numpy as np

from streamdsp._core._block cimport Block
from streamdsp._core._types cimport real_t
from streamdsp._core._snapshot cimport raw, raw_all, unraw, unraw_all
from streamdsp._core._memory cimport alloc_frames, frames_of, aligned_free
from streamdsp._core._validate import coefficients, frame_count, whole_number

cnp.import_array()

cdef extern from "sd_multirate.h" nogil:
    enum: SD_POLY_PAD
    void sd_polyfir_f32(const float* hr, size_t D, size_t Q, const float* lin, size_t linlen,
                        size_t M, float* y, size_t ystride)
    void sd_polyfir_f64(const double* hr, size_t D, size_t Q, const double* lin, size_t linlen,
                        size_t M, double* y, size_t ystride)
    size_t sd_pool_f32(const float* x, size_t frames, size_t ch, size_t size, size_t stride,
                       size_t* cnt, float* acc, float* y)
    size_t sd_pool_f64(const double* x, size_t frames, size_t ch, size_t size, size_t stride,
                       size_t* cnt, double* acc, double* y)
    size_t sd_slide_f32(const float* x, size_t frames, size_t ch, size_t size, size_t stride,
                        size_t* cnt, size_t* j, float* buf, float* pb, float* pre, float* suf, float* y)
    size_t sd_slide_f64(const double* x, size_t frames, size_t ch, size_t size, size_t stride,
                        size_t* cnt, size_t* j, double* buf, double* pb, double* pre, double* suf, double* y)
    size_t sd_slide_flush_f32(size_t ch, size_t size, size_t stride, size_t cnt, size_t j,
                              const float* buf, const float* pre, const float* suf, float* y)
    size_t sd_slide_flush_f64(size_t ch, size_t size, size_t stride, size_t cnt, size_t j,
                              const double* buf, const double* pre, const double* suf, double* y)

# Output frames Decimate computes per pass: the phase buffers hold Q - 1
# frames of history, a pass's outputs' worth of input and one partial slot.
DEF _SUB = 512
# Input frames a pass may deal into the phase buffers.  Outputs per pass
# are _SUB for factors up to 256 and fewer above, so that the buffers hold
# about ntaps + _PASS_IN frames per channel and not factor x _SUB:
# Decimate(48000) took 1.95 GB for 8 channels with _SUB outputs per pass.
DEF _PASS_IN = 131072


cdef inline Py_ssize_t _count_out(Py_ssize_t cnt, Py_ssize_t stride, Py_ssize_t n) noexcept nogil:
    """Outputs completed by the next n inputs when cnt inputs complete the next one."""
    if n < cnt:
        return 0
    return (n - cnt) // stride + 1


cdef inline Py_ssize_t _advance(Py_ssize_t cnt, Py_ssize_t stride, Py_ssize_t n) noexcept nogil:
    """cnt after n more inputs."""
    if n < cnt:
        return cnt - n
    return stride - (n - cnt) % stride


cdef inline void _fill_neg_inf(void* p, Py_ssize_t n, bint f32) noexcept nogil:
    cdef Py_ssize_t i
    if f32:
        for i in range(n):
            (<float*>p)[i] = -INFINITY
    else:
        for i in range(n):
            (<double*>p)[i] = -INFINITY


cdef class Downsample(Block):
    """Downsample(stride, phase=0)
--

    Keep every ``stride``-th frame: a strided 1x1 convolution.

    Parameters
    ----------
    stride : int
        Keep one frame in ``stride`` (>= 1).
    phase : int, optional
        Index of the first kept frame, ``0 <= phase < stride``.

    Notes
    -----
    Latency 0.  Offline equivalent over the whole stream (the phase carries
    across chunks)::

        x[phase::stride]

    A chunk of ``n`` frames returns ``n // stride`` or ``n // stride + 1``
    frames, depending on where the stream is in its cycle;
    ``concatenate([process(c) for c in chunks] + [flush()])`` has
    ``len(x[phase::stride])`` frames.  ``flush()`` returns nothing.  No
    anti-aliasing: see :class:`Decimate`.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> ds = sd.Downsample(3, phase=1)
    >>> ds.process(np.arange(5.0)), ds.process(np.arange(5.0, 10.0))
    (array([1., 4.]), array([7.]))
    """

    cdef Py_ssize_t _stride, _phase, _cnt

    def __init__(self, stride, phase=0):
        self._stride = frame_count("Downsample", "stride", stride, minimum=1)
        self._phase = frame_count("Downsample", "phase", phase)
        if self._phase >= self._stride:
            raise ValueError(
                f"Downsample: expected 0 <= phase < stride ({self._stride}), got phase={self._phase}")
        self._down = self._stride
        self._cnt = self._phase + 1

    cdef Py_ssize_t _out_frames(self, Py_ssize_t frames) noexcept nogil:
        return _count_out(self._cnt, self._stride, frames)

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t fb = self._in_ch * (4 if self._f32 else 8), s = self._stride
        cdef Py_ssize_t i = self._cnt - 1, out = 0
        cdef const char* xs = <const char*>x
        cdef char* ys = <char*>y
        if s == 1:
            memcpy(ys, xs, frames * fb)
            out = frames
        elif fb == 4:           # fixed-size copies compile to single moves
            while i < frames:
                memcpy(ys + out * 4, xs + i * 4, 4)
                out += 1
                i += s
        elif fb == 8:
            while i < frames:
                memcpy(ys + out * 8, xs + i * 8, 8)
                out += 1
                i += s
        elif fb == 16:
            while i < frames:
                memcpy(ys + out * 16, xs + i * 16, 16)
                out += 1
                i += s
        else:
            while i < frames:
                memcpy(ys + out * fb, xs + i * fb, fb)
                out += 1
                i += s
        self._cnt = _advance(self._cnt, self._stride, frames)
        return out

    cdef void _reset(self) noexcept nogil:
        self._cnt = self._phase + 1

    @property
    def stride(self):
        """Input frames per output frame."""
        return self._stride

    @property
    def phase(self):
        """Index of the first kept frame."""
        return self._phase

    def _config(self):
        return type(self), (self._stride, self._phase), {}

    def _get_state(self):
        return {"cnt": self._cnt}

    def _set_state(self, state):
        self._cnt = state["cnt"]

    def _params(self):
        return {"stride": self._stride, "phase": self._phase}


cdef class MaxPool(Block):
    """MaxPool(size, stride=None)
--

    Maximum over windows of ``size`` frames every ``stride`` frames, per channel.

    Parameters
    ----------
    size : int
        Window length in frames (>= 1).
    stride : int, optional
        Frames between window starts (>= 1); default ``size``.  Smaller
        than ``size``: overlapping windows (a strided sliding maximum);
        larger: gaps between windows.

    Notes
    -----
    Latency 0: a window is emitted by the call that completes it.  Window
    ``k`` covers frames ``[k * stride, k * stride + size)`` of the stream.
    ``flush()`` emits the windows that started but did not complete, each
    the maximum of the frames it got, oldest first.  So the whole output of
    ``process`` + ``flush`` has one frame per window start inside the
    signal, ``ceil(n / stride)`` frames for ``n`` input frames::

        [x[k * stride : k * stride + size].max(axis=0)
         for k in range(ceil(n / stride))]

    which for ``stride == size`` is ``x[:m].reshape(-1, size, ...).max(1)``
    (``m = n // size * size``), followed at ``flush()`` by the maximum of
    the trailing partial window ``x[m:]`` if there is one.  With
    overlapping windows ``flush()`` returns up to ``ceil(size / stride) - 1``
    frames.  The full windows equal
    ``sliding_window_view(x, size, axis=0)[::stride].max(-1)``.  NaN in a
    window gives NaN, as ``np.max`` does.

    Overlapping windows use the van Herk / Gil-Werman algorithm: O(1)
    work per input frame (three maxima) whatever ``size`` and ``stride``,
    as vectorised prefix and suffix scans without data-dependent branches,
    and ``3 * size + 2`` values of memory per channel.  Non-overlapping
    windows keep one running maximum per channel.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> mp = sd.MaxPool(3)
    >>> mp.process(np.array([1.0, 5.0, 2.0, 0.0, 4.0]))
    array([5.])
    >>> mp.flush()                      # the partial window [0, 4]
    array([4.])
    >>> sd.MaxPool(3, stride=1).process(np.array([1.0, 5.0, 2.0, 0.0, 4.0]))
    array([5., 5., 4.])
    """

    cdef Py_ssize_t _size, _stride, _cnt, _j
    cdef bint _slide            # overlapping windows (stride < size)
    cdef void* _acc             # running max per channel (pool), or pre (slide)
    cdef void* _buf             # slide: raw frames of the current block, ch x size
    cdef void* _pb              # slide: their running maxima, ch x size
    cdef void* _suf             # slide: suffix maxima of the previous block, ch x (size + 1)

    def __cinit__(self, *args, **kwargs):
        self._acc = NULL
        self._buf = NULL
        self._pb = NULL
        self._suf = NULL

    def __init__(self, size, stride=None):
        self._size = frame_count("MaxPool", "size", size, minimum=1)
        if stride is None:
            self._stride = self._size
        else:
            self._stride = frame_count("MaxPool", "stride", stride, minimum=1)
        self._slide = self._stride < self._size
        self._down = self._stride
        self._cnt = self._size

    def __dealloc__(self):
        aligned_free(self._acc)
        aligned_free(self._buf)
        aligned_free(self._pb)
        aligned_free(self._suf)

    cdef int _setup(self, Py_ssize_t channels) except -1:
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        self._out_ch = channels
        aligned_free(self._acc)
        aligned_free(self._buf)
        aligned_free(self._pb)
        aligned_free(self._suf)
        self._acc = self._buf = self._pb = self._suf = NULL
        self._acc = alloc_frames(self, 1, channels, isz)
        if self._slide:
            self._buf = alloc_frames(self, self._size, channels, isz)
            self._pb = alloc_frames(self, self._size, channels, isz)
            self._suf = alloc_frames(self, self._size + 1, channels, isz)
        self._reset()
        return 0

    cdef Py_ssize_t _out_frames(self, Py_ssize_t frames) noexcept nogil:
        return _count_out(self._cnt, self._stride, frames)

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef size_t cnt = self._cnt, j = self._j, out
        if self._slide:
            if self._f32:
                out = sd_slide_f32(<const float*>x, frames, self._in_ch, self._size, self._stride,
                                   &cnt, &j, <float*>self._buf, <float*>self._pb, <float*>self._acc,
                                   <float*>self._suf, <float*>y)
            else:
                out = sd_slide_f64(<const double*>x, frames, self._in_ch, self._size, self._stride,
                                   &cnt, &j, <double*>self._buf, <double*>self._pb, <double*>self._acc,
                                   <double*>self._suf, <double*>y)
        elif self._f32:
            out = sd_pool_f32(<const float*>x, frames, self._in_ch, self._size, self._stride,
                              &cnt, <float*>self._acc, <float*>y)
        else:
            out = sd_pool_f64(<const double*>x, frames, self._in_ch, self._size, self._stride,
                              &cnt, <double*>self._acc, <double*>y)
        self._cnt = cnt
        self._j = j
        return out

    cdef Py_ssize_t _flush_frames(self) noexcept nogil:
        # windows that started and are not complete (see the class Notes)
        if self._cnt >= self._size:
            return 0
        return (self._size - self._cnt - 1) // self._stride + 1

    cdef Py_ssize_t _flush(self, void* y) noexcept nogil:
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        if self._cnt >= self._size:
            return 0
        if not self._slide:
            memcpy(y, self._acc, self._in_ch * isz)
            return 1
        if self._f32:
            return sd_slide_flush_f32(self._in_ch, self._size, self._stride, self._cnt, self._j,
                                      <const float*>self._buf, <const float*>self._acc,
                                      <const float*>self._suf, <float*>y)
        return sd_slide_flush_f64(self._in_ch, self._size, self._stride, self._cnt, self._j,
                                  <const double*>self._buf, <const double*>self._acc,
                                  <const double*>self._suf, <double*>y)

    cdef void _reset(self) noexcept nogil:
        self._cnt = self._size
        self._j = 0
        _fill_neg_inf(self._acc, self._in_ch, self._f32)
        if self._slide:
            # no previous block: its suffix maxima are -inf
            _fill_neg_inf(self._suf, (self._size + 1) * self._in_ch, self._f32)

    @property
    def size(self):
        """Window length in frames."""
        return self._size

    @property
    def stride(self):
        """Frames between window starts."""
        return self._stride

    def _config(self):
        return type(self), (self._size, self._stride), {}

    def _buffers(self):
        cdef Py_ssize_t f = self._in_ch * (4 if self._f32 else 8)
        cdef Py_ssize_t n = self._size if self._slide else 0
        return [(<Py_ssize_t>self._acc, f), (<Py_ssize_t>self._buf, n * f), (<Py_ssize_t>self._pb, n * f),
                (<Py_ssize_t>self._suf, (n + 1) * f if self._slide else 0)]

    def _get_state(self):
        return {"cnt": self._cnt, "j": self._j,
                "buffers": raw_all(self._buffers())}

    def _set_state(self, state):
        unraw_all(self._buffers(), state["buffers"], self)
        self._cnt = state["cnt"]
        self._j = state["j"]

    def _params(self):
        return {"size": self._size, "stride": self._stride}


cdef class Decimate(Block):
    """Decimate(factor, ntaps=None, *, taps=None, window=None, phase=0)
--

    Low-pass filter and keep every ``factor``-th frame, computing only the kept ones.

    Parameters
    ----------
    factor : int
        Decimation factor (>= 1).
    ntaps : int, optional
        Length of the designed anti-aliasing filter; default
        ``20 * factor + 1``, the FIR design of ``scipy.signal.decimate``
        (``firwin(ntaps, 1 / factor, window="hamming")``: cutoff at the new
        Nyquist frequency).
    taps : array_like, shape (ntaps,), optional
        Use these FIR taps instead of designing them (then ``ntaps`` and
        ``window`` must not be given).
    window : str or tuple, optional
        Window of the design, as ``scipy.signal.firwin`` takes it; default
        ``"hamming"``.
    phase : int, optional
        Index of the first kept frame, ``0 <= phase < factor``.

    Notes
    -----
    Latency 0.  Offline equivalent over the whole stream::

        scipy.signal.lfilter(taps, 1.0, x, axis=0)[phase::factor]

    The filter is causal, so the output carries the filter's group delay
    (``(ntaps - 1) / 2`` input frames for the default linear-phase design),
    as ``lfilter`` does; ``scipy.signal.decimate`` filters forwards and
    backwards (zero phase) over the whole signal, which a stream cannot.
    Frame counts are those of :class:`Downsample`; ``flush()`` returns
    nothing.

    Polyphase: the input is split into ``factor`` phases, each filtered by
    its ``ceil(ntaps / factor)`` taps at the output rate, so the cost is
    ``ntaps / factor`` multiply-adds per input frame and nothing is
    computed for the frames that are dropped.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> from scipy import signal
    >>> x = np.random.default_rng(0).standard_normal(1000)
    >>> dec = sd.Decimate(4)
    >>> y = np.concatenate([dec.process(x[:333]), dec.process(x[333:])])
    >>> np.allclose(y, signal.lfilter(dec.taps, 1.0, x)[::4])
    True
    """

    cdef readonly object taps
    cdef Py_ssize_t _factor, _phase, _cnt
    cdef Py_ssize_t _ntaps, _q, _linlen
    cdef Py_ssize_t _sub        # outputs per pass (_SUB, fewer for large factors)
    cdef void* _hr              # per phase r: its taps reversed, D x Q
    cdef void* _lin             # per channel, per phase: Q-1 history + _sub + 1; then a pad

    def __cinit__(self, *args, **kwargs):
        self._hr = NULL
        self._lin = NULL

    def __init__(self, factor, ntaps=None, *, taps=None, window=None, phase=0):
        self._factor = frame_count("Decimate", "factor", factor, minimum=1)
        self._phase = frame_count("Decimate", "phase", phase)
        if self._phase >= self._factor:
            raise ValueError(
                f"Decimate: expected 0 <= phase < factor ({self._factor}), got phase={self._phase}")
        if taps is not None:
            if ntaps is not None or window is not None:
                raise ValueError("Decimate: expected either taps or a design (ntaps, window), got both")
            h = coefficients("Decimate", "taps", taps, max_ndim=1)
        else:
            if ntaps is None:
                ntaps = 20 * self._factor + 1
            ntaps = frame_count("Decimate", "ntaps", ntaps, minimum=1)
            if self._factor == 1:
                if ntaps != 21 or window is not None:
                    raise ValueError("Decimate: factor=1 keeps every frame and designs no filter; "
                                     "got a design (ntaps, window): pass taps= for a plain FIR")
                h = np.ones(1)      # nothing to anti-alias: the identity
            else:
                from scipy import signal
                try:
                    h = signal.firwin(ntaps, 1.0 / self._factor,
                                      window="hamming" if window is None else window)
                except (ValueError, TypeError) as e:
                    raise ValueError(f"Decimate: cannot design the anti-aliasing filter "
                                     f"(ntaps={ntaps}, window={window!r}): {e}") from None
                except MemoryError as e:
                    raise MemoryError(f"Decimate: cannot design the anti-aliasing filter of "
                                      f"{ntaps} taps (factor={self._factor}): {e}") from None
        h = np.ascontiguousarray(h, dtype=np.float64)
        h.setflags(write=False)
        self.taps = h
        self._ntaps = h.shape[0]
        self._q = (self._ntaps + self._factor - 1) // self._factor
        self._down = self._factor
        self._cnt = self._phase + 1

    def __dealloc__(self):
        aligned_free(self._hr)
        aligned_free(self._lin)

    cdef int _setup(self, Py_ssize_t channels) except -1:
        cdef Py_ssize_t D = self._factor, Q = self._q
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        cdef cnp.ndarray hr
        self._out_ch = channels
        aligned_free(self._hr)
        aligned_free(self._lin)
        self._hr = self._lin = NULL
        # checked first: the design below holds Q x D taps in numpy too
        self._hr = alloc_frames(self, frames_of(self, Q, D), 1, isz)
        self._sub = max(1, min(_SUB, _PASS_IN // D))
        self._linlen = Q - 1 + self._sub + 1
        # The kernel reads up to SD_POLY_PAD samples past a phase's row: the
        # next row (those outputs are discarded), or for the last one the pad.
        self._lin = alloc_frames(self, frames_of(self, self._linlen, D) + SD_POLY_PAD, channels, isz)
        # phase r holds x[m * D + phase - r]; its taps are h[q * D + r],
        # stored reversed so the kernel walks forward: hr[r, Q-1-q]
        hpad = np.zeros(Q * D)
        hpad[:self._ntaps] = self.taps
        hr = np.ascontiguousarray(hpad.reshape(Q, D).T[:, ::-1],
                                  dtype=np.float32 if self._f32 else np.float64)
        memcpy(self._hr, cnp.PyArray_DATA(hr), hr.nbytes)
        return 0

    cdef Py_ssize_t _out_frames(self, Py_ssize_t frames) noexcept nogil:
        return _count_out(self._cnt, self._factor, frames)

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t D = self._factor, ch = self._in_ch
        cdef Py_ssize_t done = 0, written = 0, L, M
        while done < frames:
            # at most _sub outputs per pass
            L = min(frames - done, self._cnt + (self._sub - 1) * D)
            M = _count_out(self._cnt, D, L)
            if self._f32:
                _poly_pass(<const float*>x + done * ch, L, M, <float*>y + written * ch, D, self._q,
                           ch, self._cnt, <float*>self._lin, self._linlen, <const float*>self._hr)
            else:
                _poly_pass(<const double*>x + done * ch, L, M, <double*>y + written * ch, D, self._q,
                           ch, self._cnt, <double*>self._lin, self._linlen, <const double*>self._hr)
            self._cnt = _advance(self._cnt, D, L)
            done += L
            written += M
        return written

    cdef void _reset(self) noexcept nogil:
        self._cnt = self._phase + 1
        if self._lin != NULL:
            memset(self._lin, 0, self._linlen * self._factor * self._in_ch * (4 if self._f32 else 8))

    @property
    def factor(self):
        """Input frames per output frame."""
        return self._factor

    @property
    def phase(self):
        """Index of the first kept frame."""
        return self._phase

    @property
    def ntaps(self):
        """Length of the anti-aliasing filter."""
        return self._ntaps

    @property
    def tail_frames(self):
        """``ceil((ntaps - 1) / factor)`` output frames: the filter's ring-out, decimated."""
        return -(-(self._ntaps - 1) // self._factor)

    def frequency_response(self, n=512, fs=None, whole=False):
        """Frequency response of the anti-aliasing filter, as ``scipy.signal.freqz`` gives it.

        Parameters
        ----------
        n : int, optional
            Number of frequencies.
        fs : float, optional
            Input sample rate; frequencies are in Hz when given, else rad/sample.
        whole : bool, optional
            Whole circle instead of 0..Nyquist.

        Returns
        -------
        freqs : ndarray, shape (n,)
        h : ndarray, shape (n,)
        """
        from streamdsp._core._response import fir_response
        return fir_response(self.taps, n, fs, whole)

    def _config(self):
        return type(self), (self._factor,), {"taps": self.taps, "phase": self._phase}

    cdef Py_ssize_t _lin_bytes(self):
        return ((self._linlen * self._factor + SD_POLY_PAD) * self._in_ch * (4 if self._f32 else 8))

    def _get_state(self):
        return {"cnt": self._cnt, "lin": raw(self._lin, self._lin_bytes())}

    def _set_state(self, state):
        unraw(self._lin, self._lin_bytes(), state["lin"], self)
        self._cnt = state["cnt"]

    def _params(self):
        return {"factor": self._factor, "ntaps": self._ntaps, "phase": self._phase}


# One pass: deal L input frames into the phase buffers (a frame with cnt
# frames to go before the next output goes to phase cnt - 1, in the slot of
# the output it belongs to), run the polyphase kernel over the M complete
# slots, keep Q - 1 slots of history and the partial one.
cdef void _poly_pass(const real_t* x, Py_ssize_t L, Py_ssize_t M, real_t* y, Py_ssize_t D,
                     Py_ssize_t Q, Py_ssize_t ch, Py_ssize_t cnt, real_t* lin_all, Py_ssize_t ll,
                     const real_t* hr) noexcept nogil:
    cdef Py_ssize_t c, i, r, m
    cdef real_t* lin
    cdef real_t* lr
    for c in range(ch):
        lin = lin_all + c * D * ll + (Q - 1)
        # the first cnt frames finish the current slot (phases cnt-1 .. 0)
        for i in range(min(L, cnt)):
            lin[(cnt - 1 - i) * ll] = x[i * ch + c]
        # then frame cnt + k goes to slot 1 + k // D, phase D - 1 - k % D:
        # one strided pass per phase, no branches
        for r in range(D):
            lr = lin + r * ll
            i = cnt + D - 1 - r
            m = 1
            while i < L:
                lr[m] = x[i * ch + c]
                i += D
                m += 1
        lin = lin_all + c * D * ll
        if M:
            if real_t is float:
                sd_polyfir_f32(hr, D, Q, lin, ll, M, y + c, ch)
            else:
                sd_polyfir_f64(hr, D, Q, lin, ll, M, y + c, ch)
            for r in range(D):
                memmove(lin + r * ll, lin + r * ll + M, Q * sizeof(real_t))
