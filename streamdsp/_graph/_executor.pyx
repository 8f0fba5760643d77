"""The compiled graph executor: a planned graph run per chunk without the interpreter."""

from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.string cimport memcpy, memset
from libc.stdint cimport int64_t
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC

cimport numpy as cnp
import numpy as np

from streamdsp._core._block cimport (Block, DT_F32, DT_F64, DT_NONE, SD_DEBUG, bad_frames,
                                     check_python_errors, sd_fpu_enter, sd_fpu_leave)
from streamdsp._core._block import _channel_count, _stream_dtype, reset_all
from streamdsp._blocks._combine cimport Combiner
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._errors import ChannelMismatchError, StreamStateError
from streamdsp._graph import _plan
from streamdsp._graph._flush import flush_through

cnp.import_array()


cdef inline int64_t _now_ns() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <int64_t>ts.tv_sec * 1000000000 + ts.tv_nsec


cdef class GraphExecutor(Block):
    """GraphExecutor(profile=False)
--

    The compiled half of :class:`~streamdsp.Graph`: plan, buffers and run loop.

    :class:`~streamdsp.Graph` (``_graph.py``) builds the nodes in plain
    Python; this class compiles them into C arrays and runs them without
    the interpreter.  It is not used on its own.
    """

    def __cinit__(self, *args, **kwargs):
        self._nodes = []
        self._inputs = []
        self._outputs = []
        self._steps = []
        self._prepared = []
        self._nsteps = 0
        self._piece = 1
        self._blk = NULL
        self._multi = NULL
        self._src_off = NULL
        self._src = NULL
        self._buf = NULL
        self._och = NULL
        self._nfr = NULL
        self._gin_ch = NULL
        self._out_step = NULL
        self._sp = NULL
        self._sc = NULL
        self._ns = NULL
        self._calls = NULL
        self._frames = NULL

    def __init__(self, profile=False):
        self._profile = bool(profile)

    def __dealloc__(self):
        self._free_plan()

    # ------------------------------------------------------------------
    # what the builder asks of the C state
    def _check_building(self):
        if self._ready:
            raise StreamStateError("Graph: cannot change its nodes while it is streaming")

    @property
    def channels(self):
        """Input channel count once known (streaming, or fixed by a block the input feeds), else ``None``."""
        if self._in_ch:
            return self._in_ch
        if len(self._inputs) != 1:
            return None
        Combiner_ = _plan.combiner_class()
        for n in self._nodes:
            if (n.block is not None and n.inputs == [self._inputs[0]]
                    and not isinstance(n.block, Combiner_) and n.block.channels):
                return n.block.channels
        return None

    @property
    def gil_free(self):
        """Whether every node runs without the interpreter (no Python-level block inside)."""
        return not self._pylevel and all(n.block.gil_free for n in self._nodes if n.block is not None)

    # ------------------------------------------------------------------
    # pickling (see Block._config): the nodes as built, their blocks with
    # their state; the plan is made again on load, and only the alignment
    # delays it inserts carry state of the graph's own
    def _config(self):
        index = {id(n): k for k, n in enumerate(self._nodes)}
        spec = [(n.block, [index[id(s)] for s in n.inputs], n.name) for n in self._nodes]
        return _rebuilt_graph, (type(self), self._profile, spec, [index[id(n)] for n in self._inputs],
                                [index[id(n)] for n in self._outputs]), {}

    def _stream(self):
        if not self._ready:
            return None
        return ([self._gin_ch[k] for k in range(self._nin_graph)], "float32" if self._f32 else "float64",
                bool(self._layout_1d))

    def _restore_stream(self, stream, state):
        channels, dtype, layout_1d = stream
        if len(self._inputs) == 1 and len(self._outputs) == 1:
            self._prepare(channels[0], _stream_dtype("Graph", dtype))
        else:
            self._prepare_all(channels, dtype)
        self._layout_1d = layout_1d
        self._set_state(state)

    def _alignment_delays(self):
        return [st.block for st in self._steps if st.node is None]

    def _get_state(self):
        return [b._get_state() for b in self._alignment_delays()]

    def _set_state(self, state):
        delays = self._alignment_delays()
        if len(state) != len(delays):
            raise ValueError(f"Graph: expected the state of {len(delays)} alignment delays, got {len(state)}")
        for b, s in zip(delays, state):
            b._set_state(s)

    # ------------------------------------------------------------------
    # compiling
    cdef void _free_plan(self) noexcept:
        cdef Py_ssize_t k
        if self._buf != NULL:
            for k in range(self._nsteps):
                aligned_free(self._buf[k])
        PyMem_Free(self._blk); PyMem_Free(self._multi); PyMem_Free(self._src_off)
        PyMem_Free(self._src); PyMem_Free(self._buf); PyMem_Free(self._och); PyMem_Free(self._nfr)
        PyMem_Free(self._gin_ch); PyMem_Free(self._out_step); PyMem_Free(<void*>self._sp)
        PyMem_Free(self._sc); PyMem_Free(self._ns); PyMem_Free(self._calls); PyMem_Free(self._frames)
        self._blk = NULL; self._multi = NULL; self._src_off = NULL; self._src = NULL
        self._buf = NULL; self._och = NULL; self._nfr = NULL; self._gin_ch = NULL
        self._out_step = NULL; self._sp = NULL; self._sc = NULL; self._ns = NULL
        self._calls = NULL; self._frames = NULL
        self._nsteps = 0

    cdef int _setup(self, Py_ssize_t channels) except -1:
        if len(self._inputs) != 1 or len(self._outputs) != 1:
            raise ValueError(f"Graph: process() needs one input and one output, this graph has "
                             f"{len(self._inputs)} and {len(self._outputs)}; use process_all()")
        self._compile([channels], self._dtype)
        self._out_ch = self._och[self._out_step[0]]
        return 0

    cdef int _compile(self, list channels, int dtype) except -1:
        """Plan, prepare every block for its channel count, and lay the plan out in C arrays."""
        cdef Py_ssize_t k, j, nsrc, total, s
        cdef Block b
        _plan.check_complete(self._nodes, self._inputs, self._outputs)
        steps, outs = _plan.plan(self._inputs, self._outputs)
        latency = _plan.whole_latency(outs[0])
        rate = outs[0].rate
        index = {id(st): k for k, st in enumerate(steps)}
        # channels through the graph, preparing each block (undone on failure)
        ch_of = {}
        prepared = []
        try:
            for st in steps:
                in_chs = []
                for src in st.sources:
                    if isinstance(src, _plan.Step) and src.block is None:
                        in_chs.append(channels[src.sources[0]])
                    else:
                        in_chs.append(ch_of[id(src)])
                b = <Block>st.block
                if b._ready:
                    if isinstance(b, Combiner):
                        ok = list((<Combiner>b).input_channels) == in_chs
                    else:
                        ok = b._in_ch == in_chs[0]
                    if not ok or b._dtype != dtype:
                        raise ChannelMismatchError(
                            f"Graph: node {st.name} ({b!r}) already streams other channels or "
                            f"dtype than it gets here ({in_chs})")
                else:
                    try:
                        if isinstance(b, Combiner):
                            b._dtype = dtype
                            b._f32 = dtype == DT_F32
                            try:
                                (<Combiner>b)._setup_multi(in_chs)
                            except BaseException:
                                b._dtype = DT_NONE
                                b._f32 = False
                                raise
                            b._ready = True
                        else:
                            b._prepare(in_chs[0], dtype)
                    except ValueError as e:
                        src_names = ", ".join(
                            (s.name if isinstance(s, _plan.Step) else str(s)) for s in st.sources)
                        raise type(e)(f"Graph: node {st.name} fed by {src_names} with "
                                      f"{in_chs} channels: {e}") from None
                    prepared.append(b)
                ch_of[id(st)] = b._out_ch
        except BaseException:
            for b in prepared:
                b._unprepare()
            raise
        self._prepared = prepared
        self._free_plan()
        n = len(steps)
        total = sum(len(st.sources) for st in steps)
        self._nsteps = 0
        self._blk = <void**>PyMem_Malloc(max(n, 1) * sizeof(void*))
        self._multi = <bint*>PyMem_Malloc(max(n, 1) * sizeof(bint))
        self._src_off = <Py_ssize_t*>PyMem_Malloc((n + 1) * sizeof(Py_ssize_t))
        self._src = <Py_ssize_t*>PyMem_Malloc(max(total, 1) * sizeof(Py_ssize_t))
        self._buf = <void**>PyMem_Malloc(max(n, 1) * sizeof(void*))
        self._och = <Py_ssize_t*>PyMem_Malloc(max(n, 1) * sizeof(Py_ssize_t))
        self._nfr = <Py_ssize_t*>PyMem_Malloc(max(n, 1) * sizeof(Py_ssize_t))
        self._gin_ch = <Py_ssize_t*>PyMem_Malloc(max(len(channels), 1) * sizeof(Py_ssize_t))
        self._out_step = <Py_ssize_t*>PyMem_Malloc(max(len(outs), 1) * sizeof(Py_ssize_t))
        self._sp = <const void**>PyMem_Malloc(max(total, 1) * sizeof(void*))
        self._sc = <Py_ssize_t*>PyMem_Malloc(max(total, 1) * sizeof(Py_ssize_t))
        self._ns = <int64_t*>PyMem_Malloc(max(n, 1) * sizeof(int64_t))
        self._calls = <int64_t*>PyMem_Malloc(max(n, 1) * sizeof(int64_t))
        self._frames = <int64_t*>PyMem_Malloc(max(n, 1) * sizeof(int64_t))
        if not (self._blk and self._multi and self._src_off and self._src and self._buf and self._och
                and self._nfr and self._gin_ch and self._out_step and self._sp and self._sc
                and self._ns and self._calls and self._frames):
            self._free_plan()
            raise MemoryError()
        for k in range(n):
            self._buf[k] = NULL
        self._nsteps = n
        j = 0
        for k, st in enumerate(steps):
            b = <Block>st.block
            self._blk[k] = <void*>b
            self._multi[k] = isinstance(b, Combiner)
            self._och[k] = b._out_ch
            self._nfr[k] = 0
            self._ns[k] = self._calls[k] = self._frames[k] = 0
            self._src_off[k] = j
            for src in st.sources:
                if isinstance(src, _plan.Step) and src.block is None:
                    self._src[j] = -1 - src.sources[0]
                else:
                    self._src[j] = index[id(src)]
                j += 1
        # Longer chunks are cut into pieces (every block is streaming-
        # invariant); each step's buffer holds what a piece can become there.
        self._piece, caps = _plan.piece_frames(lambda piece: _plan.step_capacities(steps, piece))
        for k, st in enumerate(steps):
            self._buf[k] = alloc_frames(st.block, caps[k], (<Block>st.block)._out_ch, 8)
        self._src_off[n] = j
        self._nin_graph = len(channels)
        for k in range(len(channels)):
            self._gin_ch[k] = channels[k]
        self._nout_graph = len(outs)
        for k, o in enumerate(outs):
            self._out_step[k] = index[id(o)]
        self._steps = steps
        self._latency = latency
        self._up, self._down = rate.numerator, rate.denominator
        self._dtype = dtype
        self._f32 = dtype == DT_F32
        return 0

    cdef void _unprepare(self) noexcept:
        # a failed first call (a bad out=) leaves the nodes as they came too
        for b in self._prepared:
            (<Block>b)._unprepare()
        self._prepared = []
        Block._unprepare(self)

    # ------------------------------------------------------------------
    # running (no interpreter)
    cdef void _count_outputs(self, Py_ssize_t frames, Py_ssize_t* counts) noexcept nogil:
        """Exact frames each output will produce for the next `frames` input frames."""
        cdef Py_ssize_t k, i, s, m
        for k in range(self._nsteps):
            m = self._src_off[k + 1] - self._src_off[k]
            for i in range(m):
                s = self._src[self._src_off[k] + i]
                self._sc[self._src_off[k] + i] = frames if s < 0 else self._nfr[s]
            if self._multi[k]:
                self._nfr[k] = (<Combiner>self._blk[k])._out_frames_multi(self._sc + self._src_off[k])
            else:
                self._nfr[k] = (<Block>self._blk[k])._out_frames(self._sc[self._src_off[k]])
        for i in range(self._nout_graph):
            counts[i] = self._nfr[self._out_step[i]]

    cdef void _run_graph(self, const void** inputs, Py_ssize_t frames,
                         void** outputs, Py_ssize_t* written) noexcept nogil:
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        cdef Py_ssize_t done = 0, L, k, i, s, m, off, o, n, want = 0
        cdef int64_t t0 = 0
        for i in range(self._nout_graph):
            written[i] = 0
        while done < frames:
            L = frames - done
            if L > self._piece:
                L = self._piece
            for k in range(self._nsteps):
                off = self._src_off[k]
                m = self._src_off[k + 1] - off
                for i in range(m):
                    s = self._src[off + i]
                    if s < 0:
                        self._sp[off + i] = <const char*>inputs[-1 - s] + done * self._gin_ch[-1 - s] * isz
                        self._sc[off + i] = L
                    else:
                        self._sp[off + i] = self._buf[s]
                        self._sc[off + i] = self._nfr[s]
                if SD_DEBUG:
                    if self._multi[k]:
                        want = (<Combiner>self._blk[k])._out_frames_multi(self._sc + off)
                    else:
                        want = (<Block>self._blk[k])._out_frames(self._sc[off])
                if self._profile:
                    t0 = _now_ns()
                if self._multi[k]:
                    n = (<Combiner>self._blk[k])._run_multi(self._sp + off, self._sc + off, self._buf[k])
                elif (<Block>self._blk[k])._pylevel:
                    n = (<Block>self._blk[k])._run_py(self._sp[off], self._buf[k], self._sc[off])
                else:
                    n = (<Block>self._blk[k])._run(self._sp[off], self._buf[k], self._sc[off])
                if SD_DEBUG and n != want:
                    bad_frames(<Block>self._blk[k], "_run", n, want)
                    n = want
                self._nfr[k] = n
                if self._profile:
                    self._ns[k] += _now_ns() - t0
                    self._calls[k] += 1
                    self._frames[k] += n
            for i in range(self._nout_graph):
                o = self._out_step[i]
                memcpy(<char*>outputs[i] + written[i] * self._och[o] * isz, self._buf[o],
                       self._nfr[o] * self._och[o] * isz)
                written[i] += self._nfr[o]
            done += L

    cdef Py_ssize_t _out_frames(self, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t counts[1]
        if self._nout_graph != 1:
            return 0
        self._count_outputs(frames, counts)
        return counts[0]

    cdef Py_ssize_t _max_out(self, Py_ssize_t frames) noexcept nogil:
        # only asked while preparing a container, never in the stream
        with gil:
            try:
                steps, outs = _plan.plan(self._inputs, self._outputs)
                caps = _plan.step_capacities(steps, frames)
                return caps[steps.index(outs[0])]
            except BaseException:
                return frames       # such a graph refuses to prepare, with its own error

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef const void* ins[1]
        cdef void* outs[1]
        cdef Py_ssize_t written[1]
        if self._nin_graph != 1 or self._nout_graph != 1:
            return 0        # process() refuses such graphs before getting here
        ins[0] = x
        outs[0] = y
        self._run_graph(ins, frames, outs, written)
        return written[0]

    cdef void _reset(self) noexcept nogil:
        cdef Py_ssize_t k
        for k in range(self._nsteps):
            (<Block>self._blk[k])._reset_any()

    # ------------------------------------------------------------------
    # Python entry points beyond the Block ones
    def process(self, x, out=None):
        """Push one chunk through a one-input, one-output graph (see :meth:`Block.process`)."""
        if not self._ready:
            _plan.check_complete(self._nodes, self._inputs, self._outputs)
        if len(self._inputs) != 1 or len(self._outputs) != 1:
            raise ValueError(f"Graph: process() needs one input and one output, this graph has "
                             f"{len(self._inputs)} and {len(self._outputs)}; use process_all()")
        return Block.process(self, x, out)

    def prepare_all(self, channels, dtype="float32"):
        """Compile for inputs of the given channel counts (one per input) ahead of streaming."""
        self._enter()
        try:
            return self._prepare_all(channels, dtype)
        finally:
            self._leave()

    def _prepare_all(self, channels, dtype):
        name = type(self).__name__
        cdef int dt = _stream_dtype(name, dtype)
        channels = [_channel_count(name, c) for c in channels]
        if self._ready:
            return self
        if len(channels) != len(self._inputs):
            raise ValueError(f"Graph: expected {len(self._inputs)} channel counts, got {len(channels)}")
        self._compile(channels, dt)
        self._in_ch = channels[0]
        self._out_ch = self._och[self._out_step[0]]
        self._ready = True
        return self

    def process_all(self, *inputs):
        """Push one chunk into every input; return the chunk of every output (a list).

        Parameters
        ----------
        *inputs : array_like
            One chunk per graph input, all with the same number of frames.
        """
        self._enter()
        try:
            return self._process_all(inputs)
        finally:
            self._leave()

    def _process_all(self, inputs):
        cdef Py_ssize_t i, frames
        cdef const void* ins[64]
        cdef void* outs[64]
        cdef Py_ssize_t counts[64]
        cdef Py_ssize_t written[64]
        cdef unsigned int fpu
        if len(inputs) != len(self._inputs):
            raise ValueError(f"Graph: expected {len(self._inputs)} input chunks, got {len(inputs)}")
        if len(self._inputs) > 64 or len(self._outputs) > 64:
            raise ValueError("Graph: process_all handles at most 64 inputs and outputs")
        dt = self._dtype
        arrays = []
        for i in range(len(inputs)):
            arrays.append(self._accept(inputs[i], i, dt))
            if dt == DT_NONE:
                # the first input of the first call fixes the stream dtype
                dt = DT_F32 if arrays[0].dtype == np.float32 else DT_F64
        frames = arrays[0].shape[0]
        if any(a.shape[0] != frames for a in arrays):
            raise ValueError(f"Graph: expected input chunks of equal length, got {[a.shape[0] for a in arrays]}")
        chs = [1 if a.ndim == 1 else a.shape[1] for a in arrays]
        if self._ready:
            for i in range(len(chs)):
                if chs[i] != self._gin_ch[i]:
                    raise ChannelMismatchError(
                        f"Graph: input {self._inputs[i].name} has {chs[i]} channels but this stream "
                        f"has {self._gin_ch[i]}; got shape {arrays[i].shape}")
        else:
            self._prepare_all(chs, "float32" if dt == DT_F32 else "float64")
        for i, a in enumerate(arrays):
            ins[i] = cnp.PyArray_DATA(<cnp.ndarray>a)
        with nogil:
            self._count_outputs(frames, counts)
        one_d = all(a.ndim == 1 for a in arrays)
        dtype = np.float32 if self._f32 else np.float64
        results = []
        for i in range(self._nout_graph):
            och = self._och[self._out_step[i]]
            shape = (counts[i], och)
            if one_d and och == 1:
                shape = (counts[i],)
            y = np.empty(shape, dtype=dtype)
            results.append(y)
            outs[i] = cnp.PyArray_DATA(<cnp.ndarray>y)
        self._layout_1d = one_d
        with nogil:
            fpu = sd_fpu_enter()
            self._run_graph(ins, frames, outs, written)
            sd_fpu_leave(fpu)
        check_python_errors()
        return results

    def flush_all(self):
        """End the stream: every output's held-back frames (a list), then reset.

        Each node's held-back output is pushed through the nodes after it,
        so blocks whose tail is not plain zeros (edge fits) flush correctly.
        """
        if not self._ready:
            return [np.zeros(0) for _ in self._outputs]
        self._enter()
        try:
            try:
                pending = self._flush_steps()
            except BaseException:
                # the stream ends either way: no node may carry it into the next one
                reset_all([st.block for st in self._steps])
                raise
        finally:
            self._leave()
        out = []
        for o in (self._steps[self._out_step[i]] for i in range(self._nout_graph)):
            y = pending[id(o)]
            out.append(y.reshape(-1) if (self._layout_1d and y.shape[1] == 1) else y)
        return out

    def _flush_steps(self):
        """Flush every step in order, pushing each one's tail through the later ones."""
        dtype = np.float32 if self._f32 else np.float64
        pending = {}
        for st in self._steps:
            ins = []
            for src in st.sources:
                if isinstance(src, _plan.Step) and src.block is None:
                    ins.append(np.zeros((0, self._gin_ch[src.sources[0]]), dtype=dtype))
                else:
                    ins.append(pending[id(src)])
            pending[id(st)] = flush_through(st.block, ins).astype(dtype, copy=False)
        return pending

    def flush(self):
        """End the stream: the held-back output of the (single) output, then reset."""
        if not self._ready:
            return np.zeros(0)
        return self.flush_all()[0]

    def stats(self):
        """Per-node counters: calls, frames and time (with ``profile=True``).

        Returns
        -------
        dict
            ``{node name: {"calls", "frames", "seconds", "us_per_call"}}``.
        """
        out = {}
        if not self._ready:
            return out
        for k, st in enumerate(self._steps):
            calls = self._calls[k]
            out[st.name] = {
                "calls": int(calls),
                "frames": int(self._frames[k]),
                "seconds": self._ns[k] * 1e-9,
                "us_per_call": (self._ns[k] / calls / 1e3) if calls else 0.0,
            }
        return out


def _rebuilt_graph(cls, profile, spec, inputs, outputs):
    """A graph with the nodes of ``spec`` (block, source indices, name), not yet planned."""
    cdef GraphExecutor g = cls.__new__(cls)
    GraphExecutor.__init__(g, profile)
    nodes = []
    for block, sources, name in spec:
        nodes.append(_plan.Node(g, block, [nodes[i] for i in sources], name))
    g._nodes.extend(nodes)
    g._inputs.extend(nodes[i] for i in inputs)
    g._outputs.extend(nodes[i] for i in outputs)
    return g
