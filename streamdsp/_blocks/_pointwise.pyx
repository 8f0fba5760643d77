"""Blocks that act sample by sample or frame by frame: Gain, Delay."""

from libc.math cimport pow
from libc.stdint cimport int64_t
from libc.string cimport memcpy, memset

from streamdsp._core._block cimport Block, DT_F32
from streamdsp._core._history cimport frames_exchange
from streamdsp._core._snapshot cimport raw, unraw
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._validate import finite_float, frame_count

from streamdsp._core._atomic cimport (
    sd_load_acquire_i64, sd_load_relaxed_i64, sd_store_release_i64, sd_store_relaxed_i64,
    sd_fence_acquire, sd_fence_release,
)


cdef class Gain(Block):
    """Gain(g)
--

    Multiply the stream by a constant.

    Parameters
    ----------
    g : float
        The gain factor (linear, not dB).  Can be changed while streaming
        through :attr:`gain` (a step) or :meth:`set` (a ramp, no click).

    Notes
    -----
    Latency 0.  Offline equivalent: ``g * x`` (with a ramp: ``g[n] * x[n]``,
    ``g`` moving per sample from the old to the new value).

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sd.Gain(0.5).process(np.array([1.0, -2.0]))
    array([ 0.5, -1. ])
    >>> g = sd.Gain(1.0)
    >>> g.set(0.0, ramp=4)
    >>> g.process(np.ones(6))
    array([0.75, 0.5 , 0.25, 0.  , 0.  , 0.  ])
    """

    cdef double _g
    # ramp state, owned by the thread that runs the block
    cdef double _target, _step
    cdef Py_ssize_t _left
    cdef bint _expo
    # the last set() request, published by a sequence count (odd while it is
    # written) so that a stream running in another thread picks it up whole
    cdef int64_t _seq, _seen
    cdef double _req_g
    cdef Py_ssize_t _req_ramp
    cdef bint _req_expo

    def __init__(self, g):
        self._g = finite_float("Gain", "g", g)
        self._target = self._g

    @property
    def gain(self):
        """The linear gain factor (the current value while a ramp runs)."""
        if self._seq != self._seen and self._req_ramp == 0:
            return self._req_g          # a step not yet taken by the stream
        return self._g

    @gain.setter
    def gain(self, value):
        self.set(value)

    def set(self, g, ramp=0, shape="linear"):
        """Move the gain to ``g``, over ``ramp`` frames.

        Parameters
        ----------
        g : float
            The new linear gain.
        ramp : int, optional
            Frames the change takes (0: a step at the next frame).  At
            48 kHz, 0.02 s is ``ramp=960``.  The gain moves every sample,
            so a large change makes no click.
        shape : {"linear", "exponential"}, optional
            ``"exponential"`` moves by a constant ratio per sample (even
            steps in dB); it needs the old and the new gain nonzero and of
            the same sign.

        Notes
        -----
        Safe to call from another thread while a live stream runs the
        block: the request is published whole and taken at the start of
        the next block of audio.  A ramp starts from wherever the gain is
        then (a running ramp is replaced).
        """
        v = finite_float("Gain", "g", g)
        n = frame_count("Gain", "ramp", ramp)
        if shape not in ("linear", "exponential"):
            raise ValueError(f"Gain: expected shape 'linear' or 'exponential', got {shape!r}")
        expo = shape == "exponential" and n > 0
        if expo and (v == 0.0 or self._g == 0.0 or (v > 0) != (self._g > 0)):
            raise ValueError(f"Gain: expected an exponential ramp between nonzero gains of one sign, "
                             f"got {self._g} -> {v}")
        sd_store_relaxed_i64(&self._seq, self._seq + 1)
        sd_fence_release()
        self._req_g = v
        self._req_ramp = n
        self._req_expo = expo
        sd_store_release_i64(&self._seq, self._seq + 1)

    cdef void _take_request(self) noexcept nogil:
        """Start the last set() request if there is a new, whole one."""
        cdef int64_t s1 = sd_load_acquire_i64(&self._seq), s2
        cdef double g
        cdef Py_ssize_t n
        cdef bint expo
        if s1 == self._seen or s1 & 1:
            return
        g = self._req_g
        n = self._req_ramp
        expo = self._req_expo
        sd_fence_acquire()
        s2 = sd_load_relaxed_i64(&self._seq)
        if s2 != s1:
            return                          # being rewritten: take it next call
        self._seen = s1
        self._target = g
        self._left = n
        self._expo = expo
        if n == 0:
            self._g = g
        elif expo:
            self._step = pow(g / self._g, 1.0 / n)
        else:
            self._step = (g - self._g) / n

    cdef Py_ssize_t _ramp(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        """Frames of the running ramp: the gain moves every frame."""
        cdef Py_ssize_t f, c, ch = self._in_ch, m = min(frames, self._left)
        cdef double g = self._g
        for f in range(m):
            if self._expo:
                g *= self._step
            else:
                g += self._step
            if f == self._left - 1:
                g = self._target            # land exactly
            if self._f32:
                for c in range(ch):
                    (<float*>y)[f * ch + c] = <float>g * (<const float*>x)[f * ch + c]
            else:
                for c in range(ch):
                    (<double*>y)[f * ch + c] = g * (<const double*>x)[f * ch + c]
        self._g = g
        self._left -= m
        return m

    cdef void _reset(self) noexcept nogil:
        # no ramp survives a reset: the gain is where it was going
        self._take_request()
        self._g = self._target
        self._left = 0

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t i, n, done = 0
        cdef float gf
        cdef double gd
        cdef const float* xf
        cdef float* yf
        cdef const double* xd
        cdef double* yd
        self._take_request()
        if self._left:
            done = self._ramp(x, y, frames)
            if done == frames:
                return frames
            x = <const char*>x + done * self._in_ch * (4 if self._f32 else 8)
            y = <char*>y + done * self._in_ch * (4 if self._f32 else 8)
        n = (frames - done) * self._in_ch
        gf = <float>self._g
        gd = self._g
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
        # a set() not yet taken is taken now (the next call would take it
        # first thing anyway), so that a running or pending ramp travels
        self._take_request()
        if not self._left:
            return type(self), (self._g,), {}
        return _gain_in_motion, (type(self), self._g, self._target, self._step, self._left,
                                 self._expo), {}

    def _get_state(self):
        return None

    def _params(self):
        return {"g": self._g}


def _gain_in_motion(cls, g, target, step, left, expo):
    """A Gain part-way through a ramp (see Gain._config)."""
    cdef Gain b = cls(g)
    b._target = target
    b._step = step
    b._left = left
    b._expo = expo
    return b


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

