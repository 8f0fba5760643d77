"""Blocks that act sample by sample or frame by frame: Gain, Delay."""

from libc.string cimport memcpy, memset

from streamdsp._core._block cimport Block, DT_F32
from streamdsp._core._history cimport frames_exchange
from streamdsp._core._snapshot cimport raw, unraw
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._validate import finite_float, frame_count


cdef class Gain(Block):
    """Gain(g)
--

    Multiply the stream by a constant.

    Parameters
    ----------
    g : float
        The gain factor (linear, not dB).  Can be changed while streaming
        through :attr:`gain`.

    Notes
    -----
    Latency 0.  Offline equivalent: ``g * x``.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sd.Gain(0.5).process(np.array([1.0, -2.0]))
    array([ 0.5, -1. ])
    """

    cdef double _g

    def __init__(self, g):
        self._g = finite_float("Gain", "g", g)

    @property
    def gain(self):
        """The linear gain factor."""
        return self._g

    @gain.setter
    def gain(self, value):
        self._g = finite_float("Gain", "g", value)

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t i, n = frames * self._in_ch
        cdef float gf = <float>self._g
        cdef double gd = self._g
        cdef const float* xf
        cdef float* yf
        cdef const double* xd
        cdef double* yd
        if self._f32:
            xf = <const float*>x
            yf = <float*>y
            for i in range(n):
                yf[i] = gf * xf[i]
        else:
            xd = <const double*>x
            yd = <double*>y
            for i in range(n):
                yd[i] = gd * xd[i]
        return frames

    def _config(self):
        return type(self), (self._g,), {}

    def _get_state(self):
        return None

    def _params(self):
        return {"g": self._g}


cdef class Delay(Block):
    """Delay(samples)
--

    Delay the stream by a whole number of samples.

    Parameters
    ----------
    samples : int
        The delay in samples (>= 0).

    Notes
    -----
    This is a signal delay, not latency: :attr:`latency` is 0 and graphs do
    not compensate for it.  The first ``samples`` output frames are zeros.
    Offline equivalent: ``np.concatenate([np.zeros(samples), x])[:len(x)]``.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sd.Delay(2).process(np.array([1.0, 2.0, 3.0, 4.0]))
    array([0., 0., 1., 2.])
    """

    cdef Py_ssize_t _delay
    cdef char* _ring
    cdef Py_ssize_t _pos

    def __cinit__(self, *args, **kwargs):
        self._ring = NULL
        self._pos = 0

    def __init__(self, samples):
        self._delay = frame_count("Delay", "samples", samples)

    def __dealloc__(self):
        aligned_free(self._ring)

    cdef int _setup(self, Py_ssize_t channels) except -1:
        self._out_ch = channels
        aligned_free(self._ring)
        self._ring = NULL
        self._ring = <char*>alloc_frames(self, self._delay, channels, 4 if self._f32 else 8)
        self._pos = 0
        return 0

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t fb = self._in_ch * (4 if self._f32 else 8)
        if self._delay == 0:
            memcpy(y, x, frames * fb)
        else:
            self._pos = frames_exchange(self._ring, self._delay, self._pos, <const char*>x,
                                        <char*>y, frames, fb)
        return frames

    cdef void _reset(self) noexcept nogil:
        memset(self._ring, 0, self._delay * self._in_ch * (4 if self._f32 else 8))
        self._pos = 0

    @property
    def samples(self):
        """The delay in samples."""
        return self._delay

    @property
    def tail_frames(self):
        """The delayed frames not yet out (``samples``, less what counts as latency)."""
        return self._delay - self._latency

    def _config(self):
        return type(self), (self._delay,), {}

    def _get_state(self):
        return {"ring": raw(self._ring, self._delay * self._in_ch * (4 if self._f32 else 8)),
                "pos": self._pos}

    def _set_state(self, state):
        unraw(self._ring, self._delay * self._in_ch * (4 if self._f32 else 8), state["ring"], self)
        self._pos = state["pos"]

    def _params(self):
        return {"samples": self._delay}

