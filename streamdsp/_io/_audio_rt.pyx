"""The real-time half of live audio: a PortAudio callback written in C.

PortAudio calls :func:`_callback` on its audio thread.  It is ``noexcept
nogil`` Cython: it runs a prepared, compiled graph through the blocks'
``_run`` hooks, moves frames through a lock-free FIFO or a RingBuffer, and
counts what happened, without the interpreter, without allocating and
without any lock the main thread could hold.  Python hands it to PortAudio
as a raw function pointer (sounddevice's ``_StreamBase`` with
``wrap_callback=None``) together with a pointer to its :c:type:`rt_state`,
which :class:`Engine` allocates and owns.

Threads: the audio thread is the only writer of the counters and of one
end of the FIFO; the main thread reads the counters (relaxed atomic loads:
a snapshot may mix two consecutive callbacks), sets the flags (atomic) and
owns the other end of the FIFO.  For Cython use only.
"""

from cpython.mem cimport PyMem_Calloc, PyMem_Free
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy, memset
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC

cimport numpy as cnp
import numpy as np

from streamdsp._core._block cimport Block, sd_fpu_set_thread
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._io._ringbuffer cimport RingBuffer

cnp.import_array()

# Lock-free flags and counters between the audio thread and Python.
cdef extern from "sd_atomic.h":
    int64_t sd_load_acquire_i64(const int64_t* p) noexcept nogil
    void sd_store_release_i64(int64_t* p, int64_t v) noexcept nogil
    int32_t sd_load_acquire_i32(const int32_t* p) noexcept nogil
    void sd_store_release_i32(int32_t* p, int32_t v) noexcept nogil
    int32_t sd_exchange_i32(int32_t* p, int32_t v) noexcept nogil


cdef enum:
    # graph input frames per piece: the callback cuts longer buffers (blocksize=0 lets
    # the host choose) into pieces that fit the scratch buffers
    _PIECE = 1024
    _NHIST = 24                 # callback-time histogram buckets: < 1 us, < 2 us, ... < 2**23 us

    KIND_DUPLEX = 0     # input -> graph -> output
    KIND_INPUT = 1      # input -> [graph] -> FIFO (and ring)
    KIND_OUTPUT = 2     # FIFO -> [graph] -> output

    # PaStreamCallbackFlags
    PA_INPUT_UNDERFLOW = 0x1
    PA_INPUT_OVERFLOW = 0x2
    PA_OUTPUT_UNDERFLOW = 0x4
    PA_OUTPUT_OVERFLOW = 0x8

    SWAP_IDLE = 0
    SWAP_REQUESTED = 1          # main thread: `pending` is ready
    SWAP_FADING = 2             # audio thread: running both graphs
    SWAP_DONE = 3               # audio thread: the old graph is no longer used


ctypedef struct rt_state:
    void* graph                 # Block* (prepared, float32) or NULL: frames pass through
    int kind
    Py_ssize_t dev_in           # device input channels (== g_in for duplex/input)
    Py_ssize_t dev_out          # device output channels (g_out, or more: mono is copied to all)
    Py_ssize_t g_in             # channels into the graph
    Py_ssize_t g_out            # channels out of the graph
    float* xbuf                 # _PIECE * g_in: graph input scratch
    float* ybuf                 # _PIECE * g_out: graph output scratch
    # single-producer single-consumer FIFO between the callback and Python
    float* fifo
    Py_ssize_t fifo_cap         # frames
    Py_ssize_t fifo_ch
    int64_t fifo_w              # frames ever written (producer)
    int64_t fifo_r              # frames ever read (consumer)
    int32_t fifo_primed         # output kind: the producer has written something
    int32_t fifo_eof            # output kind: the producer is done
    void* ring                  # RingBuffer* monitor or NULL
    # swapping the graph while running, with a crossfade (duplex/output kinds)
    void* pending               # the next graph, published with swap_state = SWAP_REQUESTED
    void* old_graph             # the graph fading out, NULL when none
    float* ybuf2                # _PIECE * g_out: the old graph's output during a fade
    int64_t fade_len            # frames of the crossfade
    int64_t fade_pos            # frames of it done
    int32_t swap_state
    # flags set by the main thread
    int32_t paused
    int32_t reset_req
    # counters written by the audio thread only
    int64_t callbacks
    int64_t frames
    int64_t xruns               # callbacks whose status had an under/overflow flag
    int64_t in_under
    int64_t in_over
    int64_t out_under
    int64_t out_over
    int64_t fifo_over           # input kind: frames dropped, the FIFO was full
    int64_t fifo_under          # output kind: frames of silence, the FIFO was empty
    int64_t busy_ns             # time spent inside the callback, summed
    int64_t max_ns
    int64_t last_ns
    int64_t last_start          # CLOCK_MONOTONIC at the last callback's start
    int64_t max_interval_ns     # longest time between two callback starts
    int64_t hist[_NHIST]        # callbacks by time inside: bucket k < 2**k microseconds


cdef inline int64_t _now_ns() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <int64_t>ts.tv_sec * 1000000000 + ts.tv_nsec


cdef inline void _bump(int64_t* p, int64_t by) noexcept nogil:
    # single writer: a plain read, an atomic store for the readers
    sd_store_release_i64(p, p[0] + by)


# ---------------------------------------------------------------------------
# FIFO (either side may be the audio thread)

cdef Py_ssize_t _fifo_push(rt_state* st, const float* x, Py_ssize_t n) noexcept nogil:
    """Append up to n frames; return how many fit."""
    cdef int64_t w = st.fifo_w            # only the producer writes it
    cdef int64_t r = sd_load_acquire_i64(&st.fifo_r)
    cdef Py_ssize_t space = st.fifo_cap - <Py_ssize_t>(w - r)
    cdef Py_ssize_t m = n if n < space else space
    cdef Py_ssize_t slot, run, ch = st.fifo_ch
    if m <= 0:
        return 0
    slot = <Py_ssize_t>(w % st.fifo_cap)
    run = st.fifo_cap - slot
    if run > m:
        run = m
    memcpy(st.fifo + slot * ch, x, run * ch * sizeof(float))
    if run < m:
        memcpy(st.fifo, x + run * ch, (m - run) * ch * sizeof(float))
    sd_store_release_i64(&st.fifo_w, w + m)
    return m


cdef Py_ssize_t _fifo_pull(rt_state* st, float* y, Py_ssize_t n) noexcept nogil:
    """Take up to n frames; return how many there were."""
    cdef int64_t r = st.fifo_r            # only the consumer writes it
    cdef int64_t w = sd_load_acquire_i64(&st.fifo_w)
    cdef Py_ssize_t avail = <Py_ssize_t>(w - r)
    cdef Py_ssize_t m = n if n < avail else avail
    cdef Py_ssize_t slot, run, ch = st.fifo_ch
    if m <= 0:
        return 0
    slot = <Py_ssize_t>(r % st.fifo_cap)
    run = st.fifo_cap - slot
    if run > m:
        run = m
    memcpy(y, st.fifo + slot * ch, run * ch * sizeof(float))
    if run < m:
        memcpy(y + run * ch, st.fifo, (m - run) * ch * sizeof(float))
    sd_store_release_i64(&st.fifo_r, r + m)
    return m


# ---------------------------------------------------------------------------
# the callback

cdef inline void _to_device(rt_state* st, const float* y, Py_ssize_t n, float* out,
                            Py_ssize_t frames) noexcept nogil:
    """Write n graph frames (g_out channels) as `frames` device frames; silence after n."""
    cdef Py_ssize_t i, c, d = st.dev_out
    if st.g_out == d:
        if <const float*>out != y:
            memcpy(out, y, n * d * sizeof(float))
    else:                                   # mono graph on a wider device
        for i in range(n):
            for c in range(d):
                out[i * d + c] = y[i]
    if n < frames:
        memset(out + n * d, 0, (frames - n) * d * sizeof(float))


cdef inline Py_ssize_t _run_one(rt_state* st, void* graph, const float* x, float* y,
                                Py_ssize_t n) noexcept nogil:
    if graph == NULL:
        if <const float*>y != x:
            memcpy(y, x, n * st.g_in * sizeof(float))
        return n
    return (<Block>graph)._run(x, y, n)


cdef inline Py_ssize_t _graph(rt_state* st, const float* x, float* y, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t m = _run_one(st, st.graph, x, y, n)
    if st.ring != NULL and m > 0:
        (<RingBuffer>st.ring).write_nogil(y, m)
    return m


cdef void _start_swap(rt_state* st) noexcept nogil:
    """At a buffer's start: take a requested graph; fade from the old one unless silent."""
    if sd_load_acquire_i32(&st.swap_state) != SWAP_REQUESTED:
        return
    st.old_graph = st.graph
    st.graph = st.pending
    st.pending = NULL
    st.fade_pos = 0
    if st.fade_len <= 0 or st.old_graph == NULL or sd_load_acquire_i32(&st.paused):
        st.old_graph = NULL
        sd_store_release_i32(&st.swap_state, SWAP_DONE)
    else:
        sd_store_release_i32(&st.swap_state, SWAP_FADING)


cdef void _crossfade(rt_state* st, const float* x, float* out, Py_ssize_t L) noexcept nogil:
    """One piece through both graphs, mixed old -> new along a linear ramp."""
    cdef Py_ssize_t n, i, c, g = st.g_out
    cdef float w
    cdef double step = 1.0 / <double>st.fade_len
    n = _run_one(st, st.graph, x, st.ybuf, L)
    _run_one(st, st.old_graph, x, st.ybuf2, L)
    for i in range(n):
        if st.fade_pos >= st.fade_len:
            break
        st.fade_pos += 1
        w = <float>(st.fade_pos * step)
        for c in range(g):
            st.ybuf[i * g + c] = st.ybuf2[i * g + c] + w * (st.ybuf[i * g + c] - st.ybuf2[i * g + c])
    if st.ring != NULL and n > 0:
        (<RingBuffer>st.ring).write_nogil(st.ybuf, n)
    _to_device(st, st.ybuf, n, out, L)
    if st.fade_pos >= st.fade_len:
        st.old_graph = NULL
        sd_store_release_i32(&st.swap_state, SWAP_DONE)


cdef inline void _process(rt_state* st, const float* x, float* y, Py_ssize_t L) noexcept nogil:
    """L frames of graph input x -> L device frames at y."""
    cdef Py_ssize_t n
    if st.old_graph != NULL:
        _crossfade(st, x, y, L)
    elif st.g_out == st.dev_out:
        n = _graph(st, x, y, L)
        _to_device(st, y, n, y, L)
    else:
        n = _graph(st, x, st.ybuf, L)
        _to_device(st, st.ybuf, n, y, L)


cdef void _duplex(rt_state* st, const float* inp, float* out, Py_ssize_t frames) noexcept nogil:
    cdef Py_ssize_t done = 0, L
    cdef const float* x
    cdef float* y
    cdef size_t xbytes, ybytes
    if sd_load_acquire_i32(&st.paused):
        memset(out, 0, frames * st.dev_out * sizeof(float))
        return
    while done < frames:
        L = frames - done
        if L > _PIECE:
            L = _PIECE
        y = out + done * st.dev_out
        if inp == NULL:
            memset(st.xbuf, 0, L * st.g_in * sizeof(float))
            x = st.xbuf
        else:
            x = inp + done * st.g_in
            xbytes = L * st.g_in * sizeof(float)
            ybytes = L * st.dev_out * sizeof(float)
            if <const char*>x < <const char*>y + ybytes and <const char*>y < <const char*>x + xbytes:
                memcpy(st.xbuf, x, xbytes)   # blocks assume x and y do not overlap
                x = st.xbuf
        _process(st, x, y, L)
        done += L


cdef void _input(rt_state* st, const float* inp, Py_ssize_t frames) noexcept nogil:
    cdef Py_ssize_t done = 0, L, n, pushed
    cdef const float* x
    if inp == NULL or sd_load_acquire_i32(&st.paused):
        return
    while done < frames:
        L = frames - done
        if L > _PIECE:
            L = _PIECE
        x = inp + done * st.g_in
        if st.graph == NULL:
            n = L
            if st.ring != NULL:
                (<RingBuffer>st.ring).write_nogil(x, n)
        else:
            n = _graph(st, x, st.ybuf, L)
            x = st.ybuf
        if st.fifo != NULL and n > 0:
            pushed = _fifo_push(st, x, n)
            if pushed < n:
                _bump(&st.fifo_over, n - pushed)
        done += L


cdef void _output(rt_state* st, float* out, Py_ssize_t frames) noexcept nogil:
    cdef Py_ssize_t done = 0, L, got
    if sd_load_acquire_i32(&st.paused):
        memset(out, 0, frames * st.dev_out * sizeof(float))
        return
    while done < frames:
        L = frames - done
        if L > _PIECE:
            L = _PIECE
        got = _fifo_pull(st, st.xbuf, L)
        if got < L:
            memset(st.xbuf + got * st.g_in, 0, (L - got) * st.g_in * sizeof(float))
            if sd_load_acquire_i32(&st.fifo_primed) and not sd_load_acquire_i32(&st.fifo_eof):
                _bump(&st.fifo_under, L - got)
        _process(st, st.xbuf, out + done * st.dev_out, L)
        done += L


cdef inline void _begin(rt_state* st, unsigned long status, int64_t t0) noexcept nogil:
    cdef int64_t prev = st.last_start
    if status & (PA_INPUT_UNDERFLOW | PA_INPUT_OVERFLOW | PA_OUTPUT_UNDERFLOW | PA_OUTPUT_OVERFLOW):
        _bump(&st.xruns, 1)
        if status & PA_INPUT_UNDERFLOW:
            _bump(&st.in_under, 1)
        if status & PA_INPUT_OVERFLOW:
            _bump(&st.in_over, 1)
        if status & PA_OUTPUT_UNDERFLOW:
            _bump(&st.out_under, 1)
        if status & PA_OUTPUT_OVERFLOW:
            _bump(&st.out_over, 1)
    if prev != 0 and t0 - prev > st.max_interval_ns:
        sd_store_release_i64(&st.max_interval_ns, t0 - prev)
    sd_store_release_i64(&st.last_start, t0)


cdef inline void _end(rt_state* st, Py_ssize_t frames, int64_t dt) noexcept nogil:
    cdef int64_t us = dt // 1000
    cdef int k = 0
    while us > 0 and k < _NHIST - 1:
        us >>= 1
        k += 1
    _bump(&st.hist[k], 1)
    _bump(&st.busy_ns, dt)
    sd_store_release_i64(&st.last_ns, dt)
    if dt > st.max_ns:
        sd_store_release_i64(&st.max_ns, dt)
    _bump(&st.frames, frames)
    _bump(&st.callbacks, 1)


cdef int _callback(const void* input, void* output, unsigned long frames,
                   const void* time_info, unsigned long status, void* userdata) noexcept nogil:
    """The PaStreamCallback: no interpreter, no allocation, no lock.  Returns paContinue."""
    cdef rt_state* st = <rt_state*>userdata
    cdef int64_t t0 = _now_ns()
    # The audio thread runs nothing but kernels: flush-to-zero for good, so
    # that a reverb tail decaying into subnormals cannot stall a callback.
    # Only the first callback of a thread writes MXCSR.
    sd_fpu_set_thread()
    _begin(st, status, t0)
    _start_swap(st)
    if sd_exchange_i32(&st.reset_req, 0):
        if st.graph != NULL:
            (<Block>st.graph)._reset()
        if st.old_graph != NULL:
            (<Block>st.old_graph)._reset()
    if st.kind == KIND_DUPLEX:
        _duplex(st, <const float*>input, <float*>output, <Py_ssize_t>frames)
    elif st.kind == KIND_INPUT:
        _input(st, <const float*>input, <Py_ssize_t>frames)
    else:
        _output(st, <float*>output, <Py_ssize_t>frames)
    _end(st, <Py_ssize_t>frames, _now_ns() - t0)
    return 0


# ---------------------------------------------------------------------------

PIECE = _PIECE     # for the FIFO sizing in _audio.py

_KINDS = {"duplex": KIND_DUPLEX, "input": KIND_INPUT, "output": KIND_OUTPUT}


cdef class Engine:
    """Engine(kind, graph, dev_in, dev_out, g_in, g_out, fifo_frames=0, ring=None)
--

    The state the C callback works on, and the Python side of it.

    Parameters
    ----------
    kind : {"duplex", "input", "output"}
    graph : Block or None
        A prepared float32 block (any compiled block, Pipeline or Graph);
        ``None`` passes frames through.  Only for the C callback: the
        Python fallback (duplex only) runs its graph itself and uses the
        Engine for its counters.
    dev_in, dev_out : int
        Device channels (0 for the direction the stream lacks).
    g_in, g_out : int
        Channels into and out of the graph (``g_out`` is ``dev_out`` or 1).
    fifo_frames : int
        Capacity of the FIFO (input and output kinds), 0 for none.
    ring : RingBuffer or None
        Gets every frame the graph puts out (float32, ``g_out`` channels).
    """

    cdef rt_state* st
    cdef object _graph
    cdef object _old            # the graph fading out: kept alive until SWAP_DONE
    cdef object _ring

    def __cinit__(self, *args, **kwargs):
        self.st = <rt_state*>PyMem_Calloc(1, sizeof(rt_state))
        if self.st == NULL:
            raise MemoryError()

    def __init__(self, kind, graph, Py_ssize_t dev_in, Py_ssize_t dev_out,
                 Py_ssize_t g_in, Py_ssize_t g_out, Py_ssize_t fifo_frames=0, ring=None):
        cdef Block b
        cdef RingBuffer r
        cdef Py_ssize_t fifo_ch
        cdef rt_state* st = self.st
        st.kind = _KINDS[kind]
        if g_in < 1 and st.kind != KIND_OUTPUT or g_out < 1 and st.kind != KIND_INPUT:
            raise ValueError(f"Engine: expected graph channels >= 1, got {g_in} in and {g_out} out")
        if st.kind != KIND_INPUT and dev_out != g_out and g_out != 1:
            raise ValueError(f"Engine: {g_out} graph output channels cannot feed {dev_out} device channels")
        if graph is not None:
            b = <Block?>graph
            if not b._ready or not b._f32 or b._in_ch != g_in or b._out_ch != g_out:
                raise ValueError(f"Engine: expected a block prepared for {g_in} float32 channels "
                                 f"giving {g_out}, got {graph!r}")
            st.graph = <void*>graph
        if g_in != g_out and graph is None:
            raise ValueError("Engine: without a graph, input and output channels must agree")
        st.dev_in, st.dev_out, st.g_in, st.g_out = dev_in, dev_out, max(g_in, 1), max(g_out, 1)
        self._graph = graph
        # a graph that raises the rate emits more than the piece it takes
        y_cap = graph.max_out_frames(_PIECE) if graph is not None else _PIECE
        st.xbuf = <float*>alloc_frames(self, _PIECE, st.g_in, sizeof(float))
        st.ybuf = <float*>alloc_frames(self, y_cap, st.g_out, sizeof(float))
        st.ybuf2 = <float*>alloc_frames(self, y_cap, st.g_out, sizeof(float))
        if fifo_frames > 0:
            fifo_ch = st.g_out if st.kind == KIND_INPUT else st.g_in
            st.fifo = <float*>alloc_frames(self, fifo_frames, fifo_ch, sizeof(float))
            st.fifo_cap = fifo_frames
            st.fifo_ch = fifo_ch
        if ring is not None:
            r = <RingBuffer?>ring
            if r.dtype != np.float32:
                raise TypeError(f"monitor: expected a float32 RingBuffer, got dtype {r.dtype}")
            if r._channels == 0:
                r._allocate(st.g_out)
            elif r._channels != st.g_out:
                raise ValueError(f"monitor: expected a RingBuffer of {st.g_out} channels, "
                                 f"got one of {r._channels}")
            st.ring = <void*>ring
            self._ring = ring

    def __dealloc__(self):
        if self.st != NULL:
            aligned_free(self.st.xbuf)
            aligned_free(self.st.ybuf)
            aligned_free(self.st.ybuf2)
            aligned_free(self.st.fifo)
            PyMem_Free(self.st)
            self.st = NULL

    # -- handing the callback to PortAudio --------------------------------
    @property
    def callback_address(self):
        """Address of the C ``PaStreamCallback``."""
        return <size_t>&_callback

    @property
    def userdata_address(self):
        """Address of the state the callback gets as ``userData``."""
        return <size_t>self.st

    # -- flags -------------------------------------------------------------
    def request_reset(self):
        """Make the audio thread reset the graph before its next buffer."""
        sd_store_release_i32(&self.st.reset_req, 1)

    @property
    def paused(self):
        return bool(sd_load_acquire_i32(&self.st.paused))

    @paused.setter
    def paused(self, value):
        sd_store_release_i32(&self.st.paused, 1 if value else 0)

    # -- swapping the graph ------------------------------------------------
    cdef int _check_graph(self, graph) except -1:
        cdef Block b = <Block?>graph
        if not b._ready or not b._f32 or b._in_ch != self.st.g_in or b._out_ch != self.st.g_out:
            raise ValueError(f"Engine: expected a block prepared for {self.st.g_in} float32 channels "
                             f"giving {self.st.g_out}, got {graph!r}")
        return 0

    def swap(self, graph, Py_ssize_t fade_frames, bint running):
        """Hand the audio thread a new graph (prepared like the current one); False while busy.

        With ``running`` False (no callback can run) the graph is replaced
        at once; else the audio thread takes it at its next buffer and
        crossfades over ``fade_frames`` frames.
        """
        cdef rt_state* st = self.st
        if st.kind == KIND_INPUT:
            raise ValueError("Engine: an input stream's graph cannot be swapped")
        self._check_graph(graph)
        if self.swap_busy:              # (also retires a finished swap)
            return False
        if not running:
            st.graph = <void*>graph
            st.old_graph = NULL
            self._graph = graph
            return True
        self._old = self._graph
        self._graph = graph
        st.pending = <void*>graph
        st.fade_len = fade_frames
        sd_store_release_i32(&st.swap_state, SWAP_REQUESTED)
        return True

    @property
    def swap_busy(self):
        """Whether a swap is still on its way (requested, or fading)."""
        cdef int32_t state = sd_load_acquire_i32(&self.st.swap_state)
        if state == SWAP_DONE:
            self._old = None
            sd_store_release_i32(&self.st.swap_state, SWAP_IDLE)
            return False
        return state != SWAP_IDLE

    def cancel_swap(self):
        """Forget a request the audio thread never took (the stream stopped); True if there was one."""
        cdef rt_state* st = self.st
        if sd_load_acquire_i32(&st.swap_state) == SWAP_REQUESTED:
            st.graph = st.pending
            st.pending = NULL
            st.old_graph = NULL
            self._old = None
            sd_store_release_i32(&st.swap_state, SWAP_IDLE)
            return True
        if sd_load_acquire_i32(&st.swap_state) == SWAP_FADING:      # stopped mid-fade: finish it now
            st.old_graph = NULL
            self._old = None
            sd_store_release_i32(&st.swap_state, SWAP_IDLE)
            return True
        return False

    # -- the Python fallback's bookkeeping ---------------------------------
    def py_begin(self, unsigned long status):
        """Count a callback's status flags; return its start time (ns)."""
        cdef int64_t t0 = _now_ns()
        _begin(self.st, status, t0)
        return t0

    def py_end(self, int64_t t0, Py_ssize_t frames):
        """Count a finished callback that started at t0."""
        _end(self.st, frames, _now_ns() - t0)

    def py_take_reset(self):
        """True once after :meth:`request_reset` (for the Python fallback)."""
        return bool(sd_exchange_i32(&self.st.reset_req, 0))

    # -- FIFO, Python side -------------------------------------------------
    def fifo_write(self, cnp.ndarray chunk, Py_ssize_t start=0):
        """Append frames chunk[start:] (float32, C-contiguous, fifo channels); return how many fit."""
        cdef Py_ssize_t n = chunk.shape[0] - start, m
        cdef const float* p = <const float*>cnp.PyArray_DATA(chunk) + start * self.st.fifo_ch
        if self.st.fifo == NULL or n <= 0:
            return 0
        with nogil:
            m = _fifo_push(self.st, p, n)
        if m > 0:
            sd_store_release_i32(&self.st.fifo_primed, 1)
        return m

    def fifo_read(self, Py_ssize_t max_frames=-1):
        """Take every frame waiting (at most max_frames); a new (frames, channels) float32 array."""
        cdef Py_ssize_t avail, got
        cdef cnp.ndarray out
        if self.st.fifo == NULL:
            return np.zeros((0, 1), dtype=np.float32)
        avail = <Py_ssize_t>(sd_load_acquire_i64(&self.st.fifo_w) - self.st.fifo_r)
        if 0 <= max_frames < avail:
            avail = max_frames
        out = np.empty((avail, self.st.fifo_ch), dtype=np.float32)
        with nogil:
            got = _fifo_pull(self.st, <float*>cnp.PyArray_DATA(out), avail)
        return out

    def set_eof(self):
        """The producer is done: silence from now on is not an underflow."""
        sd_store_release_i32(&self.st.fifo_eof, 1)

    @property
    def fifo_level(self):
        """Frames waiting in the FIFO."""
        return int(sd_load_acquire_i64(&self.st.fifo_w) - sd_load_acquire_i64(&self.st.fifo_r))

    # -- counters ----------------------------------------------------------
    def counters(self):
        """A snapshot of the counters (each read atomically)."""
        cdef rt_state* st = self.st
        cdef int64_t calls, busy
        calls = sd_load_acquire_i64(&st.callbacks)
        busy = sd_load_acquire_i64(&st.busy_ns)
        return {
            "callbacks": int(calls),
            "frames": int(sd_load_acquire_i64(&st.frames)),
            "xruns": int(sd_load_acquire_i64(&st.xruns)),
            "input_underflows": int(sd_load_acquire_i64(&st.in_under)),
            "input_overflows": int(sd_load_acquire_i64(&st.in_over)),
            "output_underflows": int(sd_load_acquire_i64(&st.out_under)),
            "output_overflows": int(sd_load_acquire_i64(&st.out_over)),
            "max_callback_s": sd_load_acquire_i64(&st.max_ns) * 1e-9,
            "mean_callback_s": (busy / calls * 1e-9) if calls else 0.0,
            "last_callback_s": sd_load_acquire_i64(&st.last_ns) * 1e-9,
            "max_interval_s": sd_load_acquire_i64(&st.max_interval_ns) * 1e-9,
            "fifo_overflow_frames": int(sd_load_acquire_i64(&st.fifo_over)),
            "fifo_underflow_frames": int(sd_load_acquire_i64(&st.fifo_under)),
            "callback_time_histogram": [((1 << k) * 1e-6, int(sd_load_acquire_i64(&st.hist[k])))
                                        for k in range(_NHIST) if sd_load_acquire_i64(&st.hist[k])],
        }
