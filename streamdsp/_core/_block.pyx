"""The Block base class: validation in one place, kernels behind nogil hooks."""

cimport numpy as cnp
import numpy as np

from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._errors import ChannelMismatchError, StreamStateError

cnp.import_array()

# dtype kinds numpy reports that we compute with (float, signed, unsigned, bool)
_REAL_KINDS = frozenset("fiub")


def _dtype_name(int dt):
    return {DT_F32: "float32", DT_F64: "float64"}.get(dt)


cdef inline int _typenum(int dt) noexcept:
    return cnp.NPY_FLOAT32 if dt == DT_F32 else cnp.NPY_FLOAT64


cdef class Block:
    """Base class of every streamdsp block.

    A block consumes chunks of shape ``(frames,)`` or ``(frames, channels)``
    and returns the output for each chunk, carrying its state from one call
    to the next.  The first chunk (or :meth:`prepare`) fixes the channel
    count and the dtype of the stream: ``float32`` streams are computed in
    float32, every other real dtype in float64.

    Subclasses implement the C-level hooks declared in ``_block.pxd``; they
    never validate input themselves.

    .. note::
       A block is one stream's state.  Don't do this!  ``b = FIR(h);
       left = b >> x; right = b >> y`` shares one history between two
       streams; make two blocks.  Don't call ``process`` from two threads.
    """

    def __cinit__(self, *args, **kwargs):
        self._in_ch = 0
        self._out_ch = 0
        self._dtype = DT_NONE
        self._f32 = False
        self._ready = False
        self._layout_1d = False
        self._latency = 0
        self._decim = 1
        self._zeros = NULL
        self._zeros_frames = 0

    def __dealloc__(self):
        aligned_free(self._zeros)

    # ------------------------------------------------------------------
    # hooks: defaults suit a memoryless, rate-preserving block
    cdef int _setup(self, Py_ssize_t channels) except -1:
        self._out_ch = channels
        return 0

    cdef Py_ssize_t _out_frames(self, Py_ssize_t frames) noexcept nogil:
        return frames

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
        self._coeff_ch = self._in_ch != 0
        if channels < 1:
            raise ValueError(f"{type(self).__name__}: expected at least 1 channel, got {channels}")
        if self._in_ch and channels != self._in_ch:
            raise ChannelMismatchError(
                f"{type(self).__name__}: expected {self._in_ch} channels "
                f"(fixed by its coefficients), got {channels}")
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
        """
        cdef int dt = DT_F32 if np.dtype(dtype) == np.float32 else DT_F64
        if self._ready:
            if channels != self._in_ch or dt != self._dtype:
                raise StreamStateError(
                    f"{type(self).__name__}: already streaming {self._in_ch} channels of "
                    f"{_dtype_name(self._dtype)}; got a request for {channels} channels of "
                    f"{_dtype_name(dt)}")
            return self
        self._prepare(int(channels), dt)
        return self

    # ------------------------------------------------------------------
    cdef object _as_chunk(self, object x):
        """Return x as a C-contiguous array of the stream dtype, or raise."""
        cdef str name = type(self).__name__
        cdef int dt = self._dtype
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
            is not 1-D or 2-D.  The block's state is left untouched.
        """
        cdef cnp.ndarray a
        cdef int dt = self._dtype
        cdef Py_ssize_t frames, ch, nout
        cdef bint one_d
        cdef const char* xp
        cdef char* yp
        cdef Py_ssize_t xbytes, ybytes
        # Fast path: an aligned C-contiguous array of the stream dtype.
        if (cnp.PyArray_CheckExact(x) and dt != DT_NONE
                and cnp.PyArray_TYPE(<cnp.ndarray>x) == _typenum(dt)
                and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray>x)
                and 1 <= cnp.PyArray_NDIM(<cnp.ndarray>x) <= 2):
            a = <cnp.ndarray>x
        else:
            a = self._as_chunk(x)
            if dt == DT_NONE:
                dt = DT_F32 if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32 else DT_F64
        one_d = cnp.PyArray_NDIM(a) == 1
        frames = cnp.PyArray_DIM(a, 0)
        ch = 1 if one_d else cnp.PyArray_DIM(a, 1)
        if self._ready:
            if ch != self._in_ch:
                raise ChannelMismatchError(
                    f"{type(self).__name__}: chunk has {ch} channel{'s' if ch != 1 else ''} "
                    f"but this stream has {self._in_ch} (fixed by "
                    f"{'its coefficients' if self._coeff_ch else 'the first chunk'}); "
                    f"got shape {(<object>a).shape}")
        else:
            if ch == 0:
                raise ValueError(f"{type(self).__name__}: expected at least 1 channel, got shape {(<object>a).shape}")
            self._prepare(ch, dt)
        nout = self._out_frames(frames)
        if out is None:
            y = self._new_output(nout, one_d)
        else:
            y = self._check_out(out, nout, one_d)
            # Kernels assume x and y do not overlap (out=x is a natural call).
            xp = <const char*>cnp.PyArray_DATA(a)
            yp = <char*>cnp.PyArray_DATA(<cnp.ndarray>y)
            xbytes = cnp.PyArray_NBYTES(a)
            ybytes = cnp.PyArray_NBYTES(<cnp.ndarray>y)
            if xbytes and ybytes and xp < yp + ybytes and yp < xp + xbytes:
                a = a.copy()
        self._layout_1d = one_d
        xp = <const char*>cnp.PyArray_DATA(a)
        yp = <char*>cnp.PyArray_DATA(<cnp.ndarray>y)
        with nogil:
            self._run(xp, yp, frames)
        return y

    def flush(self):
        """End the stream: return the output still held back, then reset.

        Returns
        -------
        y : ndarray
            ``latency`` frames for rate-preserving blocks (none before the
            first chunk), in the layout of the last chunk.
        """
        cdef Py_ssize_t n
        cdef char* yp
        if not self._ready:
            return np.zeros(0, dtype=np.float64)
        n = self._flush_frames()
        y = self._new_output(n, self._layout_1d)
        yp = <char*>cnp.PyArray_DATA(<cnp.ndarray>y)
        with nogil:
            self._flush(yp)
            self._reset()
        return y

    def reset(self):
        """Forget the signal history.  Channel count and dtype stay."""
        if self._ready:
            with nogil:
                self._reset()

    # ------------------------------------------------------------------
    @property
    def latency(self):
        """Whole frames by which the output lags the zero-delay result."""
        return self._latency

    @property
    def decimation(self):
        """Input frames per output frame: 1 unless the block lowers the rate."""
        return self._decim

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

    def __rshift__(self, other):
        from streamdsp._graph._pipeline import chain
        return chain(self, other)

    def __rrshift__(self, other):
        from streamdsp._graph._pipeline import chain
        return chain(other, self)
