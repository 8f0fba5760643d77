# The compiled graph executor.
#
# For Cython use only.  `_run_graph` runs one call of the whole graph:
# `noexcept nogil`, no allocation, no Python objects, so that a C audio
# callback can call it.  One stream, one thread: the Python entry points
# claim the graph (Block._enter) and the C ones trust their caller.

from libc.stdint cimport int64_t

from streamdsp._core._block cimport Block


cdef class GraphExecutor(Block):
    # the builder's view, which Graph (a Python subclass) fills in place
    cdef readonly list _nodes   # Node, in creation order
    cdef readonly list _inputs  # input Nodes
    cdef readonly list _outputs # output Nodes
    cdef list _steps            # Steps of the compiled plan (keeps blocks alive)
    cdef bint _profile
    cdef list _prepared         # blocks the last compile prepared (undone by _unprepare)

    # the plan, as C arrays
    cdef Py_ssize_t _nsteps
    cdef void** _blk            # Block* per step
    cdef bint* _multi           # step is a Combiner
    cdef Py_ssize_t* _src_off   # sources of step k: _src[_src_off[k] : _src_off[k+1]]
    cdef Py_ssize_t* _src       # >= 0: step index; < 0: graph input (-s - 1)
    cdef Py_ssize_t _piece      # graph input frames run at once (fewer where rates rise)
    cdef void** _buf            # output buffer of each step (what a piece can become there)
    cdef Py_ssize_t* _och       # output channels of each step
    cdef Py_ssize_t* _nfr       # frames each step produced in the current piece
    cdef Py_ssize_t _nin_graph
    cdef Py_ssize_t* _gin_ch    # channels of each graph input
    cdef Py_ssize_t _nout_graph
    cdef Py_ssize_t* _out_step  # step index of each graph output
    cdef const void** _sp       # scratch: source pointers of one step
    cdef Py_ssize_t* _sc        # scratch: source frame counts
    cdef int64_t* _ns           # profiling: nanoseconds per step
    cdef int64_t* _calls
    cdef int64_t* _frames

    cdef int _compile(self, list channels, int dtype) except -1
    cdef void _free_plan(self) noexcept
    cdef void _count_outputs(self, Py_ssize_t frames, Py_ssize_t* counts) noexcept nogil
    cdef void _run_graph(self, const void** inputs, Py_ssize_t frames,
                         void** outputs, Py_ssize_t* written) noexcept nogil
