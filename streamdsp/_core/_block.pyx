"""The Block base class: validation in one place, kernels behind nogil hooks."""

cimport numpy as cnp
from libc.string cimport memcpy, memset
import math
import operator
import threading
from fractions import Fraction

import numpy as np

from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._validate import whole_number
from streamdsp._errors import ChannelMismatchError, StreamStateError, channel_hint

cnp.import_array()

# Whether this build checks the frame counts of every _run/_flush call
# (setup.py's STREAMDSP_DEBUG_CYTHON=1); read by the tests.
_DEBUG_CHECKS = bool(SD_DEBUG)

# largest up or down of a block's rate: bounds the products in _out_frames
_MAX_RATE_TERM = 2 ** 20

# dtype kinds numpy reports that we compute with (float, signed, unsigned, bool)
_REAL_KINDS = frozenset("fiub")


def _dtype_name(int dt):
    return {DT_F32: "float32", DT_F64: "float64"}.get(dt)


def _channel_count(name, channels):
    """``channels`` as a positive int, or an error naming the block."""
    try:
        ch = operator.index(channels)
    except TypeError:
        raise TypeError(f"{name}: expected a whole number of channels, got "
                        f"{type(channels).__name__} {channels!r:.40}") from None
    if ch < 1:
        raise ValueError(f"{name}: expected at least 1 channel, got {ch}")
    return ch


def _stream_dtype(name, dtype):
    """The compute dtype (DT_F32 or DT_F64) a stream of ``dtype`` gets, or an error naming the block."""
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is None or d.kind not in _REAL_KINDS:
        raise TypeError(f"{name}: expected a real dtype (float32, float64 or integer PCM), "
                        f"got {dtype!r:.40}")
    return DT_F32 if d == np.float32 else DT_F64


# ---------------------------------------------------------------------------
# Python-level blocks

_HEAPTYPE = 1 << 9      # Py_TPFLAGS_HEAPTYPE: a class written in Python
_pylevel_of = {}        # type -> whether its process() is written in Python


def _python_level(cls):
    """Whether instances of ``cls`` process in Python (a Python class overriding ``process``)."""
    found = _pylevel_of.get(cls)
    if found is None:
        found = False
        for c in cls.__mro__:
            if not c.__flags__ & _HEAPTYPE:
                break
            if "process" in vars(c):
                found = True
                break
        _pylevel_of[cls] = found
    return found


def _compiled_base(cls):
    """The nearest class of ``cls``'s MRO that is compiled (where its kernel comes from)."""
    for c in cls.__mro__:
        if not c.__flags__ & _HEAPTYPE:
            return c


# An error raised by a Python-level block called from a container's nogil
# loop, per thread, until the outermost process() raises it.  The C count
# lets process() skip the dict on its fast path.
_pending = {}
cdef Py_ssize_t _n_pending = 0


cdef void _keep_error(object e) noexcept:
    global _n_pending
    _pending.setdefault(threading.get_ident(), e)
    _n_pending = len(_pending)


cdef int check_python_errors() except -1:
    """Raise the error a Python-level block kept for this thread, if any."""
    global _n_pending
    if _n_pending:
        e = _pending.pop(threading.get_ident(), None)
        _n_pending = len(_pending)
        if e is not None:
            raise e
    return 0


def _frames_error(b, hook, got, want):
    """The AssertionError of a debug build for a hook that broke the frame-count contract."""
    return AssertionError(
        f"{type(b).__name__}: {hook} returned {got} frames, but the block contract "
        f"(_block.pxd) says {want}; a kernel that writes more than it promised corrupts memory")


cdef void bad_frames(Block b, const char* hook, Py_ssize_t got, Py_ssize_t want) noexcept with gil:
    """Keep the debug-build error for a container's nogil loop; its process() raises it."""
    _keep_error(_frames_error(b, hook.decode(), got, want))


cdef Py_ssize_t _call_process(Block b, const void* x, void* y, Py_ssize_t frames) noexcept with gil:
    """Run a Python-level block on raw buffers (see Block._run_py)."""
    cdef Py_ssize_t n = b._out_frames(frames)
    cdef Py_ssize_t isz = 4 if b._f32 else 8
    cdef cnp.ndarray a, r
    try:
        dtype = np.float32 if b._f32 else np.float64
        # a copy: the block may keep its input, and x is reused next piece
        a = np.empty((frames, b._in_ch), dtype)
        if frames:
            memcpy(cnp.PyArray_DATA(a), x, frames * b._in_ch * isz)
        if b._in_ch == 1:
            a = a.reshape(frames)
        r = np.ascontiguousarray(b.process(a), dtype)
        if (<object>r).shape != (n, b._out_ch) and not (b._out_ch == 1 and (<object>r).shape == (n,)):
            raise ValueError(
                f"{type(b).__name__}: process() returned shape {(<object>r).shape} for a chunk of "
                f"shape {(<object>a).shape}; inside a Pipeline or Graph it must return {n} frames "
                f"of {b._out_ch} channel{'s' if b._out_ch != 1 else ''}")
        memcpy(y, cnp.PyArray_DATA(r), n * b._out_ch * isz)
        return n
    except BaseException as e:
        _keep_error(e)
    memset(y, 0, n * b._out_ch * isz)
    return n


cdef void _call_reset(Block b) noexcept with gil:
    try:
        b.reset()
    except BaseException as e:
        _keep_error(e)


cdef object _check_first_out(Block b, object out, Py_ssize_t frames, bint one_d):
    """Block._check_out on the call that prepared ``b``: a bad out= unprepares it again.

    Apart from process() so that its steady path sets up no exception handler.
    """
    try:
        return b._output(out, frames, one_d)
    except BaseException:
        b._unprepare()
        raise


def reset_all(blocks):
    """Reset every block, even past one that refuses: a failed flush must leave the rest clean.

    The caller is already raising the flush's error, which matters more
    than a second one from a reset.
    """
    for b in blocks:
        try:
            b.reset()
        except Exception:
            pass


cdef int _refuse_busy(Block b) except -1:
    raise StreamStateError(
        f"{type(b).__name__}: already in use by another thread (or by a call from inside its own "
        f"processing); a block or graph is driven by one thread at a time: make one per thread, "
        f"or hold a lock around every call")


cdef inline int _typenum(int dt) noexcept:
    return cnp.NPY_FLOAT32 if dt == DT_F32 else cnp.NPY_FLOAT64


def _restore(factory, args, kwargs, stream, state, attrs):
    """Unpickle a block: rebuild it, prepare it for its stream, and give it its history back."""
    b = factory(*args, **kwargs)
    if attrs:
        b.__dict__.update(attrs)
    if stream is not None:
        b._restore_stream(stream, state)
    return b


# Set while configuration_pickle() runs: blocks pickle without their stream.
_config_only = threading.local()


def configuration_pickle(block):
    """``block`` pickled as configured, not streaming: loads as a new, unprepared block.

    What ``sd.batch`` and ``sd.parallel`` ship to their workers: a copy that
    takes any channel count, as a block just built would.  (A Python-level
    block keeps what its attributes hold; the loader resets it.)
    """
    import pickle
    _config_only.on = True
    try:
        return pickle.dumps(block, protocol=5)
    finally:
        _config_only.on = False


def _new_python_block(cls, latency, up, down, rate_acc):
    """A Python-level block, unconfigured: its attributes follow (see Block._config)."""
    cdef Block b = cls.__new__(cls)
    b._latency = latency
    b._up = up
    b._down = down
    b._rate_acc = rate_acc      # where its frame count stands (see _out_frames)
    return b


cdef class Block:
    """Block(*, up=1, down=1)
--

    Base class of every streamdsp block.

    A block consumes chunks of shape ``(frames,)`` or ``(frames, channels)``
    and returns the output for each chunk, carrying its state from one call
    to the next.  The first chunk (or :meth:`prepare`) fixes the channel
    count and the dtype of the stream: ``float32`` streams are computed in
    float32, every other real dtype in float64.

    Compiled subclasses implement the C-level hooks declared in
    ``_block.pxd``; they never validate input themselves.  The bare
    ``Block`` processes nothing and refuses to run.

    Notes
    -----
    **Threads.**  A block (pipeline, graph) is one stream's state and is
    driven by one thread at a time.  A second thread calling ``process``, ``flush``,
    ``reset`` or ``prepare`` while another is inside gets
    :class:`StreamStateError` naming the block, never corrupted state.
    Give each thread its own block, or hold a lock around every call.  The
    blocks inside a pipeline or graph belong to the thread driving it.

    **Python-level blocks.**  Subclass ``Block`` in Python and override
    ``process(x, out=None)`` to
    return the output for chunk ``x`` (and ``flush()``/``reset()`` if the
    block holds frames or state back).  Such a block works alone and inside
    ``Pipeline``, ``Graph``, :func:`run` and :class:`Runner`: containers
    call it with the GIL, and report ``gil_free == False``.  Inside a
    container it receives ``(frames,)`` chunks when mono, else
    ``(frames, channels)``, in the stream dtype, and must return as many
    frames with as many channels (subclass a compiled block and call
    ``super().process`` to change them).

    **Rates.**  A block's output rate is ``up / down`` times its input
    rate (1/1 unless it resamples; ``Downsample(4)`` is 1/4).  A block with
    a rate emits ``floor(N * up / down)`` frames in all after ``N`` input
    frames; containers rely on that to size their buffers
    (:meth:`max_out_frames`) and to know each call's output in advance.  A
    Python-level block that changes the rate says so with
    ``super().__init__(up=3, down=2)`` and follows that rule.

    Don't do this!  ``b = FIR(h); left = b >> x; right = b >> y`` shares
    one history between two streams; make two blocks.

    Examples
    --------
    A Python-level block in a chain:

    >>> import numpy as np, streamdsp as sd
    >>> class Clip(sd.Block):
    ...     def process(self, x, out=None):
    ...         return np.clip(x, -1.0, 1.0, out=out)
    >>> chain = sd.Gain(2.0) >> Clip()
    >>> chain.process(np.array([0.25, 0.5, 1.0]))
    array([0.5, 1. , 1. ])
    >>> chain.gil_free
    False
    """

    def __cinit__(self, *args, **kwargs):
        self._in_ch = 0
        self._out_ch = 0
        self._dtype = DT_NONE
        self._f32 = False
        self._ready = False
        self._layout_1d = False
        self._latency = 0
        self._up = 1
        self._down = 1
        self._rate_acc = 0
        self._zeros = NULL
        self._zeros_frames = 0
        self._in_use = 0
        self._pylevel = _python_level(type(self))

    def __init__(self, *, up=1, down=1):
        self._set_rate(up, down)

    def __dealloc__(self):
        aligned_free(self._zeros)

    def _set_rate(self, up, down):
        # output rate = up/down x input rate, kept as a reduced fraction
        name = type(self).__name__
        up = whole_number(name, "up", up, minimum=1)
        down = whole_number(name, "down", down, minimum=1)
        if up > _MAX_RATE_TERM or down > _MAX_RATE_TERM:
            raise ValueError(f"{name}: expected up and down of at most {_MAX_RATE_TERM}, "
                             f"got up={up}, down={down}")
        if self._ready:
            raise StreamStateError(f"{name}: the rate is fixed once streaming")
        g = math.gcd(up, down)
        self._up = up // g
        self._down = down // g
        self._rate_acc = 0

    # ------------------------------------------------------------------
    # one thread at a time; Python-level blocks inside containers
    cdef int _enter(self) except -1:
        """Claim the block for this call, or raise StreamStateError if a thread is inside."""
        if not sd_try_enter(&self._in_use):
            _refuse_busy(self)
        return 0

    cdef void _leave(self) noexcept nogil:
        sd_leave(&self._in_use)

    cdef Py_ssize_t _run_py(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        """_run for a Python-level block: take the GIL and call its process()."""
        cdef Py_ssize_t n = _call_process(self, x, y, frames)
        if self._up != self._down:
            # the default _out_frames counts this block's input for it
            self._rate_acc = (self._rate_acc + (frames % self._down) * self._up) % self._down
        return n

    cdef void _reset_any(self) noexcept nogil:
        """_reset, or the Python reset() of a Python-level block."""
        self._rate_acc = 0
        if self._pylevel:
            _call_reset(self)
        else:
            self._reset()

    def _restart_rate(self):
        # a Python-level block's own flush()/reset() ended its stream
        self._rate_acc = 0

    # ------------------------------------------------------------------
    # hooks: defaults suit a memoryless, rate-preserving block
    cdef int _setup(self, Py_ssize_t channels) except -1:
        self._out_ch = channels
        return 0

    cdef Py_ssize_t _out_frames(self, Py_ssize_t frames) noexcept nogil:
        if self._up == self._down:
            return frames
        # floor((N + frames) * up / down) - floor(N * up / down), N the input so far;
        # frames is split so that nothing overflows for any frames < 2**62
        return ((frames // self._down) * self._up
                + (self._rate_acc + (frames % self._down) * self._up) // self._down)

    cdef Py_ssize_t _max_out(self, Py_ssize_t frames) noexcept nogil:
        if self._up == self._down:
            return frames
        # ceil(frames * up / down) bounds every state's _out_frames(frames)
        return ((frames // self._down) * self._up
                + ((frames % self._down) * self._up + self._down - 1) // self._down)

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        return 0

    cdef Py_ssize_t _flush_frames(self) noexcept nogil:
        return self._out_frames(self._latency)

    cdef Py_ssize_t _flush(self, void* y) noexcept nogil:
        # Held-back output of a causal block is what `latency` frames of
        # silence push out of it.
        cdef Py_ssize_t done = 0, n, written = 0
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        while done < self._latency:
            n = self._latency - done
            if n > self._zeros_frames:
                n = self._zeros_frames
            written += self._run(self._zeros, <char*>y + written * self._out_ch * isz, n)
            done += n
        return written

    cdef void _reset(self) noexcept nogil:
        pass

    # ------------------------------------------------------------------
    cdef int _prepare(self, Py_ssize_t channels, int dtype) except -1:
        """Fix channels and dtype and run _setup; on failure change nothing."""
        cdef int old_dtype = self._dtype
        cdef Py_ssize_t old_in = self._in_ch, old_out = self._out_ch
        cdef Py_ssize_t zf
        if self._ready:
            return 0
        self._rate_acc = 0
        if not self._pylevel and _compiled_base(type(self)) is Block:
            raise TypeError(
                f"{type(self).__name__}: the Block base class has no processing of its own; "
                f"use a streamdsp block, or subclass Block and override process() "
                f"(see help(streamdsp.Block))")
        self._coeff_ch = self._in_ch != 0
        if channels < 1:
            raise ValueError(f"{type(self).__name__}: expected at least 1 channel, got {channels}")
        if self._in_ch and channels != self._in_ch:
            raise ChannelMismatchError(
                f"{type(self).__name__}: expected {self._in_ch} channels "
                f"(fixed by its coefficients), got {channels}; {channel_hint(self._in_ch, channels)}")
        self._dtype = dtype
        self._f32 = dtype == DT_F32
        self._in_ch = channels
        try:
            self._setup(channels)
            zf = min(max(self._latency, 1), 4096)
            aligned_free(self._zeros)
            self._zeros = alloc_frames(self, zf, channels, 4 if self._f32 else 8)
            self._zeros_frames = zf
        except BaseException:
            self._dtype = old_dtype
            self._f32 = old_dtype == DT_F32
            self._in_ch = old_in
            self._out_ch = old_out
            raise
        self._ready = True
        return 0

    cdef void _unprepare(self) noexcept:
        """Back to the state before _prepare (a container whose setup failed)."""
        self._ready = False
        self._dtype = DT_NONE
        self._f32 = False
        if not self._coeff_ch:
            self._in_ch = 0
        self._out_ch = 0

    def prepare(self, channels, dtype="float32"):
        """Fix the stream's channel count and dtype and allocate everything.

        Streams that must not allocate once running (a graph inside an audio
        callback) call this before the first chunk; ``process`` does it on
        its own otherwise.

        Parameters
        ----------
        channels : int
            Input channel count of the stream.
        dtype : {"float32", "float64"} or numpy dtype, optional
            ``float32`` computes in float32; anything else in float64.

        Returns
        -------
        self

        Raises
        ------
        TypeError
            ``channels`` is not a whole number, or ``dtype`` is not a real
            dtype (complex streams are not supported).
        StreamStateError
            Already streaming another channel count or dtype, or another
            thread is inside the block.
        """
        name = type(self).__name__
        channels = _channel_count(name, channels)
        cdef int dt = _stream_dtype(name, dtype)
        self._enter()
        try:
            if self._ready:
                if channels != self._in_ch or dt != self._dtype:
                    raise StreamStateError(
                        f"{name}: already streaming {self._in_ch} channels of "
                        f"{_dtype_name(self._dtype)}; got a request for {channels} channels of "
                        f"{_dtype_name(dt)}")
                return self
            self._prepare(channels, dt)
            return self
        finally:
            self._leave()

    # ------------------------------------------------------------------
    cdef object _accept(self, object x, Py_ssize_t index, int dt):
        """Input ``index`` (-1: the only one) as a C-contiguous array of dtype ``dt``, or raise.

        ``dt`` DT_NONE: float32 stays float32, every other real dtype
        becomes float64.  Errors name the block, and the input if ``index >= 0``.
        """
        cdef str name = type(self).__name__ if index < 0 else f"{type(self).__name__}: input {index}"
        cdef cnp.ndarray a
        if isinstance(x, (str, bytes)):
            raise TypeError(f"{name}: expected a numeric array of samples, got {type(x).__name__} {x!r:.40}")
        if not cnp.PyArray_Check(x):
            try:
                x = np.asarray(x)
            except (ValueError, TypeError) as e:
                raise TypeError(f"{name}: expected a numeric array of samples, got {type(x).__name__}: {e}") from None
        a = <cnp.ndarray>x
        kind = a.dtype.kind
        if kind == "c":
            raise TypeError(f"{name}: complex samples are not supported; got dtype {a.dtype}")
        if kind not in _REAL_KINDS:
            raise TypeError(f"{name}: expected real samples (float or integer PCM), got dtype {a.dtype}")
        if a.ndim not in (1, 2):
            raise ValueError(
                f"{name}: expected a chunk of shape (frames,) or (frames, channels), got shape {(<object>a).shape}")
        if dt == DT_NONE:
            dt = DT_F32 if a.dtype == np.float32 else DT_F64
        return np.ascontiguousarray(a, dtype=np.float32 if dt == DT_F32 else np.float64)

    cdef Py_ssize_t _check_channels(self, object a, Py_ssize_t index, Py_ssize_t want) except -1:
        """Channels of accepted chunk ``a``; raise if none, or not ``want`` (0: not fixed yet)."""
        cdef str name = type(self).__name__
        cdef str what = "chunk" if index < 0 else f"input {index}"
        cdef Py_ssize_t ch = 1 if cnp.PyArray_NDIM(<cnp.ndarray>a) == 1 else cnp.PyArray_DIM(<cnp.ndarray>a, 1)
        if ch < 1:
            raise ValueError(f"{name}{'' if index < 0 else ': ' + what}: expected at least 1 channel, "
                             f"got shape {a.shape}")
        if want and ch != want:
            raise ChannelMismatchError(
                f"{name}: {what} has {ch} channel{'s' if ch != 1 else ''} "
                f"but this stream has {want}{'' if index < 0 else ' there'} (fixed by "
                f"{'its coefficients' if self._coeff_ch and index < 0 else 'the first chunk'}); "
                f"got shape {a.shape}"
                f"{'; ' + channel_hint(want, ch) if self._coeff_ch and index < 0 else ''}")
        return ch

    cdef object _output(self, object out, Py_ssize_t frames, bint one_d):
        """A new output array, or ``out`` checked to be exactly that."""
        if out is None:
            return self._new_output(frames, one_d)
        return self._check_out(out, frames, one_d)

    cdef object _apart(self, object a, object y):
        """``a``, or a copy of it if it overlaps ``y``: kernels assume x and y do not overlap."""
        cdef const char* xp = <const char*>cnp.PyArray_DATA(<cnp.ndarray>a)
        cdef const char* yp = <const char*>cnp.PyArray_DATA(<cnp.ndarray>y)
        cdef Py_ssize_t xbytes = cnp.PyArray_NBYTES(<cnp.ndarray>a)
        cdef Py_ssize_t ybytes = cnp.PyArray_NBYTES(<cnp.ndarray>y)
        if xbytes and ybytes and xp < yp + ybytes and yp < xp + xbytes:
            return a.copy()
        return a

    cdef object _new_output(self, Py_ssize_t frames, bint one_d):
        cdef cnp.npy_intp dims[2]
        dims[0] = frames
        dims[1] = self._out_ch
        if one_d and self._out_ch == 1:
            return cnp.PyArray_EMPTY(1, dims, _typenum(self._dtype), 0)
        return cnp.PyArray_EMPTY(2, dims, _typenum(self._dtype), 0)

    cdef object _check_out(self, object out, Py_ssize_t frames, bint one_d):
        cdef str name = type(self).__name__
        cdef cnp.ndarray o
        cdef int nd = 1 if (one_d and self._out_ch == 1) else 2
        # C-level checks first: out= must be the cheap path
        if (cnp.PyArray_CheckExact(out)
                and cnp.PyArray_TYPE(<cnp.ndarray>out) == _typenum(self._dtype)
                and cnp.PyArray_NDIM(<cnp.ndarray>out) == nd
                and cnp.PyArray_DIM(<cnp.ndarray>out, 0) == frames
                and (nd == 1 or cnp.PyArray_DIM(<cnp.ndarray>out, 1) == self._out_ch)
                and cnp.PyArray_ISCARRAY(<cnp.ndarray>out)):
            return out
        cdef tuple want = (frames, self._out_ch)
        if nd == 1:
            want = (frames,)
        if not cnp.PyArray_Check(out):
            raise TypeError(f"{name}: expected out to be a numpy array, got {type(out).__name__}")
        o = <cnp.ndarray>out
        if cnp.PyArray_TYPE(o) != _typenum(self._dtype):
            raise TypeError(f"{name}: expected out of dtype {_dtype_name(self._dtype)}, got {o.dtype}")
        if (<object>o).shape != want:
            raise ValueError(f"{name}: expected out of shape {want}, got {(<object>o).shape}")
        if not cnp.PyArray_IS_C_CONTIGUOUS(o) or not cnp.PyArray_ISWRITEABLE(o):
            raise ValueError(f"{name}: expected out to be a writeable C-contiguous array")
        return out

    def process(self, x, out=None):
        """Consume one chunk and return the output for it.

        Parameters
        ----------
        x : array_like, shape (frames,) or (frames, channels)
            The next samples of the stream.
        out : ndarray, optional
            Where to write the output (exactly the shape and dtype of the
            result).  With ``out`` the call allocates nothing.

        Returns
        -------
        y : ndarray
            ``out`` if given.  1-D in, 1-D out; 2-D in, 2-D out.

        Raises
        ------
        TypeError
            Complex, string or other non-numeric input; a wrong ``out``.
        ValueError
            A chunk whose channel count differs from the stream's, or which
            is not 1-D or 2-D.  The block's state is left untouched (a bad
            ``out`` on the first call does not fix channels or dtype).
        StreamStateError
            Another thread is inside the block.
        """
        cdef cnp.ndarray a
        cdef int dt = self._dtype
        cdef Py_ssize_t frames, ch, nout, n
        cdef bint one_d, fresh = False
        cdef const char* xp
        cdef char* yp
        cdef unsigned int fpu
        if self._pylevel and _compiled_base(type(self)) is Block:
            # super().process() from a Python block: there is no kernel below it
            raise TypeError(
                f"{type(self).__name__}: Block.process has no kernel to run; a Python block "
                f"computes its output in its own process() and does not call super().process()")
        if not sd_try_enter(&self._in_use):
            _refuse_busy(self)
        try:
            # Fast path: an aligned C-contiguous array of the stream dtype.
            if (cnp.PyArray_CheckExact(x) and dt != DT_NONE
                    and cnp.PyArray_TYPE(<cnp.ndarray>x) == _typenum(dt)
                    and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray>x)
                    and 1 <= cnp.PyArray_NDIM(<cnp.ndarray>x) <= 2):
                a = <cnp.ndarray>x
            else:
                a = self._accept(x, -1, dt)
                if dt == DT_NONE:
                    dt = DT_F32 if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32 else DT_F64
            one_d = cnp.PyArray_NDIM(a) == 1
            frames = cnp.PyArray_DIM(a, 0)
            if self._ready:
                # inline for the fast path; _check_channels words the error
                ch = 1 if one_d else cnp.PyArray_DIM(a, 1)
                if ch != self._in_ch:
                    self._check_channels(a, -1, self._in_ch)
            else:
                self._prepare(self._check_channels(a, -1, 0), dt)
                fresh = True
            nout = self._out_frames(frames)
            if fresh:
                y = _check_first_out(self, out, nout, one_d)
            else:
                y = self._output(out, nout, one_d)
            if out is not None:
                a = self._apart(a, y)
            self._layout_1d = one_d
            xp = <const char*>cnp.PyArray_DATA(a)
            yp = <char*>cnp.PyArray_DATA(<cnp.ndarray>y)
            with nogil:
                fpu = sd_fpu_enter()
                n = self._run(xp, yp, frames)
                sd_fpu_leave(fpu)
            if _n_pending:
                check_python_errors()
            if SD_DEBUG and n != nout:
                raise _frames_error(self, "_run", n, nout)
            return y
        finally:
            sd_leave(&self._in_use)

    def flush(self):
        """End the stream: return the output still held back, then reset.

        Returns
        -------
        y : ndarray
            ``latency`` frames for rate-preserving blocks (none before the
            first chunk), in the layout of the last chunk.
        """
        cdef Py_ssize_t n, got
        cdef char* yp
        cdef unsigned int fpu
        if not self._ready:
            return np.zeros(0, dtype=np.float64)
        self._enter()
        try:
            n = self._flush_frames()
            y = self._new_output(n, self._layout_1d)
            yp = <char*>cnp.PyArray_DATA(<cnp.ndarray>y)
            with nogil:
                fpu = sd_fpu_enter()
                got = self._flush(yp)
                self._reset()
                sd_fpu_leave(fpu)
            self._rate_acc = 0
            check_python_errors()
            if SD_DEBUG and got != n:
                raise _frames_error(self, "_flush", got, n)
            return y
        finally:
            self._leave()

    def reset(self):
        """Forget the signal history.  Channel count and dtype stay."""
        self._rate_acc = 0
        if self._ready:
            self._enter()
            try:
                with nogil:
                    self._reset()
                check_python_errors()
            finally:
                self._leave()

    @property
    def gil_free(self):
        """Whether the block runs without the interpreter (False for Python-level blocks)."""
        return not self._pylevel

    # ------------------------------------------------------------------
    @property
    def latency(self):
        """Whole frames by which the output lags the zero-delay result."""
        return self._latency

    @property
    def tail_frames(self):
        """Output frames that follow the last input (after ``latency``): 0 here."""
        return 0

    @property
    def up(self):
        """Output frames per ``down`` input frames (the rate is ``up / down``)."""
        return self._up

    @property
    def down(self):
        """Input frames per ``up`` output frames (the rate is ``up / down``)."""
        return self._down

    @property
    def rate(self):
        """Output rate over input rate, as a :class:`fractions.Fraction` (1 unless the block resamples)."""
        return Fraction(self._up, self._down)

    @property
    def decimation(self):
        """Input frames per output frame, ``down / up``: an int when whole, else a Fraction."""
        return self._down if self._up == 1 else Fraction(self._down, self._up)

    def max_out_frames(self, frames):
        """The most frames one call with ``frames`` input frames can emit, in any state.

        Containers size their buffers from it: ``ceil(frames * up / down)``
        for a block that follows the rate rule (see ``up``/``down``).

        Parameters
        ----------
        frames : int
            Input frames of one call, ``0 <= frames < 2**53``.

        Returns
        -------
        int

        Examples
        --------
        >>> import streamdsp as sd
        >>> sd.Downsample(4).max_out_frames(10), sd.Gain(1.0).max_out_frames(10)
        (3, 10)
        """
        frames = whole_number(type(self).__name__, "frames", frames, minimum=0)
        if frames >= 2 ** 53:
            raise ValueError(f"{type(self).__name__}: expected frames < 2**53, got {frames}")
        return self._max_out(frames)

    @property
    def channels(self):
        """Input channel count once known, else ``None``."""
        return self._in_ch or None

    @property
    def out_channels(self):
        """Output channel count once known, else ``None``."""
        return self._out_ch or None

    @property
    def dtype(self):
        """The stream's compute dtype once known, else ``None``."""
        name = _dtype_name(self._dtype)
        return np.dtype(name) if name else None

    @property
    def prepared(self):
        """Whether the block has allocated its state for a stream."""
        return bool(self._ready)

    def _set_latency(self, Py_ssize_t frames):
        # For graph alignment delays only: a Delay whose delay counts as
        # latency, so that flush() pushes the delayed samples out.
        if self._ready:
            raise StreamStateError(f"{type(self).__name__}: latency is fixed once streaming")
        self._latency = frames

    def _params(self):
        """``name=value`` pairs shown by ``repr``; subclasses extend it."""
        return {}

    def __repr__(self):
        parts = [f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in self._params().items()]
        parts.append(f"latency={self._latency}")
        if self._in_ch:
            parts.append(f"channels={self._in_ch}")
        return f"<{type(self).__name__} {' '.join(parts)}>"

    # ------------------------------------------------------------------
    # Pickling and deep copies: configuration plus state, one mechanism.
    #
    # __reduce_ex__ asks the block three questions and pickles the answers:
    #   _config()  -> (factory, args, kwargs) that rebuild it unprepared;
    #   _stream()  -> what _setup was given (channels, dtype), or None when
    #                 not streaming;
    #   _get_state() -> the signal history, as bytes and numbers (buffers
    #                 made from the coefficients are derived: rebuilt, not
    #                 saved).
    # _restore() rebuilds the block, runs _setup again through
    # _restore_stream() and hands the history to _set_state().  Compiled
    # blocks override _config and the two state hooks; containers pickle
    # their blocks, which carry their own state.  (setup.py compiles with
    # auto_pickle=False: Cython's pickling would copy C pointers.)
    def _config(self):
        """``(factory, args, kwargs)`` that rebuild this block's configuration."""
        if _compiled_base(type(self)) is Block:
            rate_acc = 0 if getattr(_config_only, "on", False) else self._rate_acc
            return _new_python_block, (type(self), self._latency, self._up, self._down, rate_acc), {}
        raise TypeError(f"{type(self).__name__}: cannot be pickled or copied: it does not say "
                        f"how it is configured (define _config)")

    def _get_state(self):
        """The stream's history as picklable values (bytes, numbers); see _set_state."""
        if _compiled_base(type(self)) is Block:
            return None     # a Python-level block keeps its state in attributes
        raise TypeError(f"{type(self).__name__}: cannot be pickled or copied while streaming: "
                        f"it cannot save its state (define _get_state and _set_state)")

    def _set_state(self, state):
        """Continue from a state _get_state gave, on a block just prepared alike."""
        if state is not None:
            raise TypeError(f"{type(self).__name__}: expected no saved state, got {type(state).__name__}")

    def _stream(self):
        """What the stream's setup was given, or None when not streaming."""
        if not self._ready:
            return None
        return (self._in_ch, _dtype_name(self._dtype), bool(self._layout_1d))

    def _restore_stream(self, stream, state):
        channels, dtype, layout_1d = stream
        rate_acc = self._rate_acc      # set by _new_python_block; _prepare starts a stream at 0
        self._prepare(channels, _stream_dtype(type(self).__name__, dtype))
        self._rate_acc = rate_acc
        self._layout_1d = layout_1d
        self._set_state(state)

    def __reduce_ex__(self, protocol):
        if self._in_use:
            raise StreamStateError(f"{type(self).__name__}: cannot be pickled or copied while "
                                   f"another thread is inside it")
        factory, args, kwargs = self._config()
        stream = None if getattr(_config_only, "on", False) else self._stream()
        state = self._get_state() if stream is not None else None
        return _restore, (factory, args, kwargs, stream, state, getattr(self, "__dict__", None) or None)

    def __reduce__(self):
        return self.__reduce_ex__(2)

    def __rshift__(self, other):
        from streamdsp._graph._pipeline import chain
        return chain(self, other)

    def __rrshift__(self, other):
        from streamdsp._graph._pipeline import chain
        return chain(other, self)
