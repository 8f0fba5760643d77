"""Blocks with several inputs: Add, Multiply, Concatenate, Mix."""

from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.string cimport memcpy, memmove

cimport numpy as cnp
import numpy as np

from streamdsp._core._block cimport (Block, DT_F32, DT_F64, DT_NONE, SD_DEBUG, sd_fpu_enter,
                                     sd_fpu_leave)
from streamdsp._core._block import _frames_error
from streamdsp._core._snapshot cimport raw, unraw
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._validate import coefficients, whole_number
from streamdsp._errors import ChannelMismatchError

cnp.import_array()

# Frames each input may run ahead of the slowest one (graph pieces are
# 1024 frames; branches of equal rate differ by a few frames at most).
DEF _CARRY = 2048


cdef class Combiner(Block):
    """Combiner()
--

    Base class of blocks that join several streams of the same rate.

    In a :class:`~streamdsp.Graph` the inputs come from the nodes connected
    to it, aligned by latency.  On its own, call ``process(x0, x1, ...)``
    with any number of inputs.

    Every input of a call is validated like the single input of
    :meth:`Block.process`, and converted to the stream dtype.  The stream
    dtype is fixed by the *first input of the first call* (or by
    :meth:`prepare`): ``float32`` if that input is float32, float64
    otherwise; the other inputs of that call, and all later inputs, are
    converted to it, whatever their own dtype.  Each input keeps the channel
    count of its first chunk (mono inputs are broadcast by Add, Multiply and
    Mix).  A rejected call changes nothing.

    Inputs that arrive with different frame counts are buffered: the output
    has as many frames as every input has delivered so far, and the rest
    waits for the next call.  An input may run at most
    :attr:`carry_capacity` (2048) frames ahead of the slowest one; a call
    that would exceed it raises ``ValueError`` and consumes nothing, so no
    frame is ever dropped.  At :meth:`flush` frames that the other inputs
    never matched are discarded (there is nothing to combine them with).

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> a = sd.Add()
    >>> a.process(np.array([1.0, 2.0, 3.0]), np.array([10.0]))
    array([11.])
    >>> a.process(np.zeros(0), np.array([20.0, 30.0]))
    array([22., 33.])
    """

    def __cinit__(self, *args, **kwargs):
        self._nin = 0
        self._chs = NULL
        self._carry = NULL
        self._ncarry = NULL
        self._ptrs = NULL
        self._xs = NULL
        self._cnts = NULL
        self._carry_cap = _CARRY

    def __init__(self):
        # a join keeps the rate of its inputs: no up/down to choose
        pass

    def __dealloc__(self):
        self._free_multi()

    cdef void _free_multi(self) noexcept:
        cdef Py_ssize_t i
        if self._carry != NULL:
            for i in range(self._nin):
                aligned_free(self._carry[i])
        PyMem_Free(self._carry)
        PyMem_Free(self._chs)
        PyMem_Free(self._ncarry)
        PyMem_Free(<void*>self._ptrs)
        PyMem_Free(<void*>self._xs)
        PyMem_Free(self._cnts)
        self._carry = NULL
        self._chs = NULL
        self._ncarry = NULL
        self._ptrs = NULL
        self._xs = NULL
        self._cnts = NULL

    # --- what subclasses decide ---------------------------------------------
    def _out_channels_for(self, list channels):
        """Output channels for these input channel counts, or raise ValueError."""
        first = channels[0]
        for i, c in enumerate(channels):
            if c != first and c != 1 and first != 1:
                raise ChannelMismatchError(
                    f"{type(self).__name__}: expected inputs with equal channel counts "
                    f"(or mono ones, which are broadcast), got {tuple(channels)}")
        return max(channels)

    cdef void _combine(self, const void** xs, void* y, Py_ssize_t frames) noexcept nogil:
        pass

    # --- machinery -----------------------------------------------------------
    cdef int _setup(self, Py_ssize_t channels) except -1:
        return self._setup_multi([channels] * max(self._nin, 1))

    cdef int _setup_multi(self, list channels) except -1:
        cdef Py_ssize_t i, n = len(channels), old_nin = self._nin
        if self._nin and n != self._nin:
            raise ValueError(f"{type(self).__name__}: expected {self._nin} inputs, got {n}")
        out_ch = self._out_channels_for(channels)
        self._free_multi()
        self._nin = n
        try:
            self._chs = <Py_ssize_t*>PyMem_Malloc(n * sizeof(Py_ssize_t))
            self._ncarry = <Py_ssize_t*>PyMem_Malloc(n * sizeof(Py_ssize_t))
            self._carry = <void**>PyMem_Malloc(n * sizeof(void*))
            self._ptrs = <const void**>PyMem_Malloc(n * sizeof(void*))
            self._xs = <const void**>PyMem_Malloc(n * sizeof(void*))
            self._cnts = <Py_ssize_t*>PyMem_Malloc(n * sizeof(Py_ssize_t))
            if not (self._chs and self._ncarry and self._carry and self._ptrs and self._xs
                    and self._cnts):
                raise MemoryError(f"{type(self).__name__}: cannot allocate the tables of {n} inputs")
            for i in range(n):
                self._carry[i] = NULL
            for i in range(n):
                self._chs[i] = channels[i]
                self._ncarry[i] = 0
                self._carry[i] = alloc_frames(self, _CARRY, channels[i], 8)
        except BaseException:
            # a failed setup leaves the block as it was (prepare() relies on it)
            self._free_multi()
            self._nin = old_nin
            raise
        self._in_ch = channels[0]
        self._out_ch = out_ch
        return 0

    cdef void _undo_setup(self, Py_ssize_t nin) noexcept:
        """Back to unprepared after a first call was rejected past _setup_multi."""
        self._free_multi()
        self._nin = nin
        self._unprepare()

    cdef Py_ssize_t _out_frames(self, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t i, n = frames + self._ncarry[0]
        for i in range(1, self._nin):
            if frames + self._ncarry[i] < n:
                n = frames + self._ncarry[i]
        return n

    cdef Py_ssize_t _out_frames_multi(self, const Py_ssize_t* counts) noexcept nogil:
        cdef Py_ssize_t i, n = counts[0] + self._ncarry[0]
        for i in range(1, self._nin):
            if counts[i] + self._ncarry[i] < n:
                n = counts[i] + self._ncarry[i]
        return n

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        # one stream on every input (a combiner fed by a single chain)
        cdef Py_ssize_t i
        for i in range(self._nin):
            self._xs[i] = x
            self._cnts[i] = frames
        return self._run_multi(self._xs, self._cnts, y)

    cdef Py_ssize_t _run_multi(self, const void** xs, const Py_ssize_t* counts, void* y) noexcept nogil:
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        cdef Py_ssize_t n = self._out_frames_multi(counts)
        cdef Py_ssize_t i, a, b, done, fb, nxt
        cdef bint carried = False
        for i in range(self._nin):
            if self._ncarry[i]:
                carried = True
        if not carried:
            self._combine(xs, y, n)
        else:
            # Segments of the output in which every input is contiguous: each
            # input switches from its carry buffer to its new frames once.
            done = 0
            while done < n:
                b = n
                for i in range(self._nin):
                    if done < self._ncarry[i] < b:
                        b = self._ncarry[i]
                for i in range(self._nin):
                    fb = self._chs[i] * isz
                    if done < self._ncarry[i]:
                        self._ptrs[i] = <char*>self._carry[i] + done * fb
                    else:
                        self._ptrs[i] = <const char*>xs[i] + (done - self._ncarry[i]) * fb
                self._combine(self._ptrs, <char*>y + done * self._out_ch * isz, b - done)
                done = b
        # keep what the other inputs have not matched yet
        for i in range(self._nin):
            fb = self._chs[i] * isz
            nxt = self._ncarry[i] + counts[i] - n
            if nxt > self._carry_cap:
                # process() refuses such calls and graph pieces never lead by
                # this much; nogil code cannot raise, so stay in bounds
                nxt = self._carry_cap
            if n >= self._ncarry[i]:
                memcpy(self._carry[i], <const char*>xs[i] + (counts[i] - nxt) * fb, nxt * fb)
            else:
                memmove(self._carry[i], <char*>self._carry[i] + n * fb, (self._ncarry[i] - n) * fb)
                memcpy(<char*>self._carry[i] + (self._ncarry[i] - n) * fb, xs[i],
                       (nxt - (self._ncarry[i] - n)) * fb)
            self._ncarry[i] = nxt
        return n

    cdef void _reset(self) noexcept nogil:
        cdef Py_ssize_t i
        for i in range(self._nin):
            self._ncarry[i] = 0

    def process(self, *inputs, out=None):
        """Combine one chunk of every input.

        Parameters
        ----------
        *inputs : array_like
            One chunk per input, shape ``(frames,)`` or ``(frames, channels)``;
            the frame counts may differ (see the class notes).
        out : ndarray, optional
            Where to write the result.

        Returns
        -------
        y : ndarray
            ``min_i(held_i + frames_i)`` frames; 1-D only if every input is
            1-D and the output is mono.

        Raises
        ------
        TypeError
            No input, or an input that is not real numbers; a wrong ``out``.
        ValueError
            A wrong number of inputs, an input whose shape or channel count
            does not fit (the message names the input), or an input that
            would run more than :attr:`carry_capacity` frames ahead of the
            others.  The block's state is left untouched.
        """
        cdef str name = type(self).__name__
        cdef Py_ssize_t i, n, lead, nin = len(inputs), old_nin = self._nin
        cdef int dt = self._dtype
        cdef bint fresh = not self._ready
        cdef cnp.ndarray a
        cdef void* yp
        cdef Py_ssize_t got
        cdef unsigned int fpu
        # one thread at a time, as Block.process
        self._enter()
        try:
            if nin == 0:
                raise TypeError(f"{name}: expected at least 1 input chunk, got none")
            if self._nin and nin != self._nin:
                raise ValueError(f"{name}: expected {self._nin} input chunks, got {nin}")
            arrays = []
            for i in range(nin):
                a = self._accept(inputs[i], i, dt)
                if dt == DT_NONE:
                    # the first input of the first call fixes the stream dtype
                    dt = DT_F32 if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32 else DT_F64
                arrays.append(a)
            chs = [self._check_channels(arrays[i], i, 0 if fresh else self._chs[i]) for i in range(nin)]
            counts = [a.shape[0] for a in arrays]
            held = [0 if fresh else self._ncarry[i] for i in range(nin)]
            n = min(c + h for c, h in zip(counts, held))
            for i in range(nin):
                lead = held[i] + counts[i] - n
                if lead > self._carry_cap:
                    raise ValueError(
                        f"{name}: expected input {i} to run at most {self._carry_cap} frames ahead "
                        f"of the slowest input, got {lead} (chunks of {counts}, {held} frames held); "
                        f"nothing was consumed: feed the inputs in chunks of similar length")
            one_d = all(a.ndim == 1 for a in arrays)
            if fresh:
                self._dtype = dt
                self._f32 = dt == DT_F32
                try:
                    self._setup_multi(chs)
                except BaseException:
                    self._undo_setup(old_nin)
                    raise
                self._ready = True
            try:
                y = self._output(out, n, one_d)
            except BaseException:
                if fresh:
                    self._undo_setup(old_nin)
                raise
            for i in range(nin):
                if out is not None:
                    arrays[i] = self._apart(arrays[i], y)
                self._xs[i] = cnp.PyArray_DATA(<cnp.ndarray>arrays[i])
                self._cnts[i] = counts[i]
            self._layout_1d = one_d
            yp = cnp.PyArray_DATA(<cnp.ndarray>y)
            with nogil:
                fpu = sd_fpu_enter()
                got = self._run_multi(self._xs, self._cnts, yp)
                sd_fpu_leave(fpu)
            if SD_DEBUG and got != n:
                raise _frames_error(self, "_run_multi", got, n)
            return y
        finally:
            self._leave()

    @property
    def n_inputs(self):
        """Number of inputs once known (fixed by the constructor or the first chunks)."""
        return self._nin or None

    # pickling (see Block._config): the frames each input holds over are its state
    def _config(self):
        return type(self), (self._nin or None,), {}

    def _stream(self):
        if not self._ready:
            return None
        return (list(self.input_channels), "float32" if self._f32 else "float64", bool(self._layout_1d))

    def _restore_stream(self, stream, state):
        chs, dtype, layout_1d = stream
        self._dtype = DT_F32 if dtype == "float32" else DT_F64
        self._f32 = self._dtype == DT_F32
        self._setup_multi(list(chs))
        self._ready = True
        self._layout_1d = layout_1d
        self._set_state(state)

    def _get_state(self):
        return [(self._ncarry[i], raw(self._carry[i], self._ncarry[i] * self._chs[i] * 8))
                for i in range(self._nin)]

    def _set_state(self, state):
        cdef Py_ssize_t i
        if len(state) != self._nin:
            raise ValueError(f"{type(self).__name__}: expected the held frames of {self._nin} inputs, "
                             f"got {len(state)}")
        for i, (n, data) in enumerate(state):
            if not 0 <= n <= _CARRY:
                raise ValueError(f"{type(self).__name__}: expected at most {_CARRY} held frames, got {n}")
            unraw(self._carry[i], n * self._chs[i] * 8, data, self)
            self._ncarry[i] = n

    @property
    def input_channels(self):
        """Channel count of each input once known."""
        if not self._ready:
            return None
        return tuple(self._chs[i] for i in range(self._nin))

    @property
    def carry_capacity(self):
        """Frames an input may run ahead of the slowest one across calls."""
        return self._carry_cap


cdef inline void _broadcast_add(const void** xs, void* y, Py_ssize_t nin, const Py_ssize_t* chs,
                                Py_ssize_t out_ch, Py_ssize_t frames, bint f32,
                                const double* w, bint multiply) noexcept nogil:
    """y = sum_i w_i x_i (or prod_i x_i), mono inputs broadcast across channels."""
    cdef Py_ssize_t i, f, c, n = frames * out_ch
    cdef float* yf = <float*>y
    cdef double* yd = <double*>y
    cdef const float* xf
    cdef const double* xd
    cdef float wf
    cdef double wd
    for i in range(nin):
        wd = 1.0 if w == NULL else w[i]
        wf = <float>wd
        if f32:
            xf = <const float*>xs[i]
            if chs[i] == out_ch:
                if i == 0:
                    for f in range(n):
                        yf[f] = wf * xf[f]
                elif multiply:
                    for f in range(n):
                        yf[f] *= xf[f]
                else:
                    for f in range(n):
                        yf[f] += wf * xf[f]
            else:
                for f in range(frames):
                    for c in range(out_ch):
                        if i == 0:
                            yf[f * out_ch + c] = wf * xf[f]
                        elif multiply:
                            yf[f * out_ch + c] *= xf[f]
                        else:
                            yf[f * out_ch + c] += wf * xf[f]
        else:
            xd = <const double*>xs[i]
            if chs[i] == out_ch:
                if i == 0:
                    for f in range(n):
                        yd[f] = wd * xd[f]
                elif multiply:
                    for f in range(n):
                        yd[f] *= xd[f]
                else:
                    for f in range(n):
                        yd[f] += wd * xd[f]
            else:
                for f in range(frames):
                    for c in range(out_ch):
                        if i == 0:
                            yd[f * out_ch + c] = wd * xd[f]
                        elif multiply:
                            yd[f * out_ch + c] *= xd[f]
                        else:
                            yd[f * out_ch + c] += wd * xd[f]


cdef class Add(Combiner):
    """Add(n_inputs=None)
--

    Sum of several streams (mono inputs are broadcast across channels).

    Parameters
    ----------
    n_inputs : int, optional
        Fixed by the graph it is connected in, or by the first chunks.

    Notes
    -----
    Latency 0.  Offline equivalent: ``x0 + x1 + ...``.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sd.Add().process(np.array([1.0, 2.0]), np.array([10.0, 20.0]))
    array([11., 22.])
    """

    def __init__(self, n_inputs=None):
        if n_inputs is not None:
            self._nin = whole_number("Add", "n_inputs", n_inputs, minimum=1)

    cdef void _combine(self, const void** xs, void* y, Py_ssize_t frames) noexcept nogil:
        _broadcast_add(xs, y, self._nin, self._chs, self._out_ch, frames, self._f32, NULL, False)


cdef class Multiply(Combiner):
    """Multiply(n_inputs=None)
--

    Product of several streams (ring modulation, gating, envelopes).

    Notes
    -----
    Latency 0.  Offline equivalent: ``x0 * x1 * ...``.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sd.Multiply().process(np.array([1.0, 2.0]), np.array([3.0, 0.5]))
    array([3., 1.])
    """

    def __init__(self, n_inputs=None):
        if n_inputs is not None:
            self._nin = whole_number("Multiply", "n_inputs", n_inputs, minimum=1)

    cdef void _combine(self, const void** xs, void* y, Py_ssize_t frames) noexcept nogil:
        _broadcast_add(xs, y, self._nin, self._chs, self._out_ch, frames, self._f32, NULL, True)


cdef class Mix(Combiner):
    """Mix(weights)
--

    Weighted sum of several streams: ``sum(w[i] * x[i])``.

    Parameters
    ----------
    weights : sequence of float
        One weight per input (fixes the number of inputs).  Can be changed
        while streaming through :attr:`weights`.

    Notes
    -----
    Latency 0.  Offline equivalent: ``w[0] * x0 + w[1] * x1 + ...``.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sd.Mix([0.25, 0.75]).process(np.array([4.0]), np.array([8.0]))
    array([7.])
    """

    cdef double* _w                 # one weight per input

    def __cinit__(self, *args, **kwargs):
        self._w = NULL

    def __dealloc__(self):
        PyMem_Free(self._w)

    def __init__(self, weights):
        w = coefficients("Mix", "weights", weights, max_ndim=1)
        PyMem_Free(self._w)
        self._w = <double*>PyMem_Malloc(len(w) * sizeof(double))
        if self._w == NULL:
            raise MemoryError(f"Mix: cannot allocate {len(w)} weights")
        self._nin = len(w)
        for i in range(len(w)):
            self._w[i] = w[i]

    def _config(self):
        return type(self), (self.weights,), {}

    @property
    def weights(self):
        """The weight of each input."""
        return np.array([self._w[i] for i in range(self._nin)])

    @weights.setter
    def weights(self, value):
        w = coefficients("Mix", "weights", value, max_ndim=1)
        if len(w) != self._nin:
            raise ValueError(f"Mix: expected {self._nin} weights, got {len(w)}")
        for i in range(self._nin):
            self._w[i] = w[i]

    cdef void _combine(self, const void** xs, void* y, Py_ssize_t frames) noexcept nogil:
        _broadcast_add(xs, y, self._nin, self._chs, self._out_ch, frames, self._f32, self._w, False)

    def _params(self):
        return {"weights": [self._w[i] for i in range(self._nin)]}


cdef class Concatenate(Combiner):
    """Concatenate(n_inputs=None)
--

    Stack the channels of several streams: ``(frames, c0 + c1 + ...)``.

    Notes
    -----
    Latency 0.  Offline equivalent: ``np.concatenate([x0, x1, ...], axis=1)``.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sd.Concatenate().process(np.array([1.0, 2.0]), np.array([[3.0, 4.0], [5.0, 6.0]]))
    array([[1., 3., 4.],
           [2., 5., 6.]])
    """

    def __init__(self, n_inputs=None):
        if n_inputs is not None:
            self._nin = whole_number("Concatenate", "n_inputs", n_inputs, minimum=1)

    def _out_channels_for(self, list channels):
        return sum(channels)

    cdef void _combine(self, const void** xs, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        cdef Py_ssize_t i, f, off = 0, ch
        cdef Py_ssize_t ob = self._out_ch * isz
        for i in range(self._nin):
            ch = self._chs[i] * isz
            for f in range(frames):
                memcpy(<char*>y + f * ob + off, <const char*>xs[i] + f * ch, ch)
            off += ch
