"""Pipeline: blocks in series, run as one block without the interpreter."""

from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.string cimport memcpy

from fractions import Fraction

import numpy as np

from streamdsp._core._block cimport Block, SD_DEBUG, bad_frames
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._errors import ChannelMismatchError, StreamStateError
from streamdsp._graph._flush import flush_chain
from streamdsp._graph._plan import chain_latency, piece_frames, whole_chain_latency


cdef class Pipeline(Block):
    """Pipeline(*blocks)
--

    Blocks in series, itself a block.

    ``Pipeline(a, b, c)`` is what ``a >> b >> c`` builds.  Each chunk runs
    through the blocks in turn inside one ``nogil`` loop, through two
    preallocated intermediate buffers; nothing is allocated per chunk.

    Parameters
    ----------
    *blocks : Block
        The blocks, first to last.  Nested pipelines are flattened.

    Notes
    -----
    Latency: the sum of the blocks' latencies.  A pipeline behaves as a
    list (``len``, indexing, ``append``, ``insert``) until it starts
    streaming.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> p = sd.Gain(2.0) >> sd.Delay(1)
    >>> p
    <Pipeline with 2 blocks: [<Gain g=2.0 latency=0>, <Delay samples=1 latency=0>]>
    >>> p.process(np.array([1.0, 2.0, 3.0]))
    array([0., 2., 4.])
    """

    cdef list _blocks
    cdef void** _ptrs
    cdef Py_ssize_t _n
    cdef void* _buf0
    cdef void* _buf1
    # Longer chunks are cut into pieces of _piece input frames (every block
    # is streaming-invariant, so cutting changes nothing but the working
    # set); the intermediate buffers hold what a piece can become anywhere
    # along the chain.
    cdef Py_ssize_t _piece
    cdef list _prepared_here    # blocks this pipeline's setup prepared

    def __cinit__(self, *args, **kwargs):
        self._blocks = []
        self._prepared_here = []
        self._ptrs = NULL
        self._n = 0
        self._piece = 1
        self._buf0 = self._buf1 = NULL

    def __init__(self, *blocks):
        for b in blocks:
            self._add(len(self._blocks), b)

    def __dealloc__(self):
        PyMem_Free(self._ptrs)
        aligned_free(self._buf0)
        aligned_free(self._buf1)

    # ------------------------------------------------------------------
    # list behaviour (before streaming)
    def _add(self, Py_ssize_t index, block):
        if self._ready:
            raise StreamStateError("Pipeline: cannot change its blocks while it is streaming")
        if isinstance(block, Pipeline) and not (<Pipeline>block)._ready:
            for i, b in enumerate((<Pipeline>block)._blocks):
                self._add(index + i, b)
            return
        if not isinstance(block, Block):
            raise TypeError(f"Pipeline: expected a streamdsp block, got {type(block).__name__} {block!r:.60}")
        if any(b is block for b in self._blocks):
            raise ValueError(
                f"Pipeline: {block!r} appears twice; a block holds one stream's state, "
                f"so make a second one")
        self._blocks.insert(index, block)
        self._latency = chain_latency(self._blocks) // 1    # whole or not: see latency
        rate = Fraction(1)
        for b in self._blocks:
            rate *= Fraction((<Block>b)._up, (<Block>b)._down)
        self._up, self._down = rate.numerator, rate.denominator

    def append(self, block):
        """Add a block at the end."""
        self._add(len(self._blocks), block)

    def insert(self, index, block):
        """Insert a block before position ``index``."""
        n = len(self._blocks)
        index = max(0, min(n, index + n if index < 0 else index))
        self._add(index, block)

    def __len__(self):
        return len(self._blocks)

    def __getitem__(self, index):
        return self._blocks[index]

    def __iter__(self):
        return iter(self._blocks)

    @property
    def blocks(self):
        """The blocks, first to last (a new list)."""
        return list(self._blocks)

    @property
    def channels(self):
        """Input channel count once known (streaming, or fixed by the first block), else ``None``."""
        if self._in_ch:
            return self._in_ch
        return self._blocks[0].channels if self._blocks else None

    @property
    def gil_free(self):
        """Whether every block runs without the interpreter (no Python-level block inside)."""
        return not self._pylevel and all(b.gil_free for b in self._blocks)

    @property
    def latency(self):
        """Whole frames by which the output lags the zero-delay result, at the output rate.

        Each block's latency counts in its own output frames, so a latency
        before a rate change is scaled by it (``SavitzkyGolay(31, 3)``,
        latency 30, then ``Downsample(3)``: 10).  If that is not a whole
        number of frames, no alignment of the output exists: ValueError,
        with the fix (a Delay before the rate change).
        """
        return whole_chain_latency("Pipeline", chain_latency(self._blocks))

    def _latency_exact(self):
        # for a pipeline inside another: its lag as a Fraction, whole or not
        return chain_latency(self._blocks)

    @property
    def tail_frames(self):
        """The blocks' tails added along the chain (each at its own output rate)."""
        t = 0
        for b in self._blocks:
            t = -(-t * b.up // b.down) + b.tail_frames
        return t

    # pickling (see Block._config): the blocks carry their own state
    def _config(self):
        return type(self), tuple(self._blocks), {}

    def _get_state(self):
        return None

    def __repr__(self):
        n = len(self._blocks)
        return f"<Pipeline with {n} block{'s' if n != 1 else ''}: [{', '.join(map(repr, self._blocks))}]>"

    # ------------------------------------------------------------------
    cdef int _setup(self, Py_ssize_t channels) except -1:
        cdef Py_ssize_t ch = channels, widest = channels, i
        cdef Block b
        cdef list prepared_here = []
        try:
            for i, blk in enumerate(self._blocks):
                b = <Block>blk
                if b._ready:
                    if b._in_ch != ch or b._dtype != self._dtype:
                        raise ChannelMismatchError(
                            f"Pipeline: block {i} {b!r} already streams {b._in_ch} channels of "
                            f"{b.dtype}, but receives {ch} channels of "
                            f"{'float32' if self._f32 else 'float64'} here")
                else:
                    try:
                        b._prepare(ch, self._dtype)
                    except ValueError as e:
                        raise type(e)(f"Pipeline: block {i} ({type(b).__name__}) cannot take "
                                      f"{ch} channels: {e}") from None
                    prepared_here.append(b)
                ch = b._out_ch
                widest = max(widest, ch)
        except BaseException:
            # leave every block as it was, so the pipeline can be fed again
            for b in prepared_here:
                b._unprepare()
            raise
        self._prepared_here = prepared_here
        self._out_ch = ch
        self._latency = chain_latency(self._blocks) // 1    # whole or not: see latency
        self._n = len(self._blocks)
        PyMem_Free(self._ptrs)
        self._ptrs = <void**>PyMem_Malloc(max(self._n, 1) * sizeof(void*))
        if self._ptrs == NULL:
            raise MemoryError()
        for i in range(self._n):
            self._ptrs[i] = <void*>self._blocks[i]
        blocks = self._blocks

        def capacities(piece):
            caps = []
            for b in blocks[:-1]:     # the last block writes into the caller's buffer
                piece = b.max_out_frames(piece)
                caps.append(piece)
            return caps

        self._piece, caps = piece_frames(capacities)
        aligned_free(self._buf0)
        aligned_free(self._buf1)
        self._buf0 = self._buf1 = NULL
        self._buf0 = alloc_frames(self, max(caps, default=1), widest, 8)
        self._buf1 = alloc_frames(self, max(caps, default=1), widest, 8)
        return 0

    cdef void _unprepare(self) noexcept:
        # a failed first call (a bad out=) leaves the blocks as they came too
        for b in self._prepared_here:
            (<Block>b)._unprepare()
        self._prepared_here = []
        Block._unprepare(self)

    cdef Py_ssize_t _out_frames(self, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t i
        for i in range(self._n):
            frames = (<Block>self._ptrs[i])._out_frames(frames)
        return frames

    cdef Py_ssize_t _max_out(self, Py_ssize_t frames) noexcept nogil:
        # _ptrs is filled in by _setup: before streaming, ask the list
        cdef Py_ssize_t i
        if not self._ready:
            with gil:
                for b in self._blocks:
                    frames = (<Block>b)._max_out(frames)
            return frames
        for i in range(self._n):
            frames = (<Block>self._ptrs[i])._max_out(frames)
        return frames

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        cdef Py_ssize_t done = 0, written = 0, L, n, i, want = 0
        cdef const char* cur
        cdef char* dst
        if self._n == 0:
            memcpy(y, x, frames * self._in_ch * isz)
            return frames
        while done < frames:
            L = frames - done
            if L > self._piece:
                L = self._piece
            cur = <const char*>x + done * self._in_ch * isz
            n = L
            for i in range(self._n):
                if i == self._n - 1:
                    dst = <char*>y + written * self._out_ch * isz
                elif i & 1:
                    dst = <char*>self._buf1
                else:
                    dst = <char*>self._buf0
                if SD_DEBUG:
                    want = (<Block>self._ptrs[i])._out_frames(n)
                if (<Block>self._ptrs[i])._pylevel:
                    n = (<Block>self._ptrs[i])._run_py(cur, dst, n)
                else:
                    n = (<Block>self._ptrs[i])._run(cur, dst, n)
                if SD_DEBUG and n != want:
                    bad_frames(<Block>self._ptrs[i], "_run", n, want)
                    n = want
                cur = dst
            written += n
            done += L
        return written

    cdef void _reset(self) noexcept nogil:
        cdef Py_ssize_t i
        for i in range(self._n):
            (<Block>self._ptrs[i])._reset_any()

    def flush(self):
        """End the stream: push every block's held-back output through the rest.

        Returns
        -------
        y : ndarray
            ``latency`` frames for a rate-preserving chain.
        """
        if not self._ready:
            return np.zeros(0, dtype=np.float64)
        self._enter()
        try:
            dtype = np.float32 if self._f32 else np.float64
            y = flush_chain(self._blocks, np.zeros((0, self._in_ch), dtype=dtype))
            if self._layout_1d and self._out_ch == 1:
                return y.reshape(-1)
            return y
        finally:
            self._leave()


def chain(a, b):
    """``a >> b`` for blocks: a Pipeline (flattening unstarted pipelines)."""
    if isinstance(a, Block) and isinstance(b, Block):
        return Pipeline(a, b)
    from streamdsp._graph._flow import connect
    return connect(a, b)
