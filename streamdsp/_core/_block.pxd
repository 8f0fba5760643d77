# The block contract, written down once.
#
# A Block is a causal, stateful stream processor.  Python calls reach it
# through Block.process()/flush()/reset() (in _block.pyx), which validate and
# convert the chunk, then call the hooks below on raw, C-contiguous,
# interleaved buffers of layout (frames, channels).
#
# Life cycle
# ----------
# 1. __init__          keep the coefficients; fix `_in_ch` if they imply it.
# 2. _setup(ch, dt)    called once per stream, WITH the GIL, before any
#                      samples flow: by the first process() call, or ahead of
#                      time by prepare() (the graph executor and the live
#                      audio stream always prepare, so that no allocation
#                      ever happens inside an audio callback).  All memory,
#                      FFT plans and coefficient tables are made here.  May
#                      raise; a failed _setup must leave the block unprepared.
# 3. _run(x, y, n)     the steady state.  `noexcept nogil`: no Python objects,
#                      no allocation, no locks, no errors.  Callable from C
#                      (the compiled graph executor and a PortAudio callback
#                      call it through `(<Block>ptr)._run(...)`).
#                      x holds n frames of `_in_ch` channels, y has room for
#                      `_out_frames(n)` frames of `_out_ch` channels, both of
#                      the stream dtype (float32 if _f32 else float64).  x and
#                      y never overlap.  Any n >= 0 must work with the memory
#                      made in _setup: blocks loop internally over whatever
#                      working size they chose.  Returns the frames written.
#                      Rate-changing blocks set `_up`/`_down` (output rate =
#                      up/down x input rate, reduced fraction) and make
#                      `_out_frames(n)` exact for their current state (how
#                      many outputs the next n inputs complete).  The default
#                      is the rule of a block whose stream has emitted
#                      floor(N * up / down) frames after N input frames.
#                      `_max_out(n)` bounds `_out_frames(n)` over every state
#                      (default ceil(n * up / down)); containers size their
#                      buffers from it before streaming.
# 4. _flush(y)         end of stream: write `_flush_frames()` frames (the
#                      output still held back) into y.  The default feeds
#                      `latency` frames of zeros through _run, which is right
#                      for every causal block whose held-back output is a
#                      pure delay.  Followed by _reset() (done by the caller).
# 5. _reset()          forget the signal history; keep channels, dtype and
#                      the memory made in _setup.  nogil so that a live
#                      stream can reset between callbacks.
#
# Threads: one stream, one thread at a time.  Every Python entry point
# (process, flush, reset, prepare; a container's too) claims the block's
# atomic `_in_use` flag with _enter() and gives it back with _leave(); a
# second thread gets StreamStateError.  A cdef subclass that overrides
# process() (Combiner) brackets its work the same way.  The C-level hooks
# take no flag: a container's thread owns the blocks inside it.
#
# Python-level blocks: a Python subclass overriding process() (`_pylevel`)
# has no C kernel for containers to call.  Containers call _run_py()
# instead of _run() for it (it takes the GIL and calls process()), and
# _reset_any() instead of _reset(); errors raised there are kept and raised
# by the outermost process() (check_python_errors()).
#
# Denormals: every nogil kernel call made from Python runs between
# sd_fpu_enter() and sd_fpu_leave() (flush-to-zero, see sd_fpu.h).

cdef extern from "sd_inuse.h" nogil:
    bint sd_try_enter(long* flag)
    void sd_leave(long* flag)

cdef extern from "sd_fpu.h" nogil:
    unsigned int sd_fpu_enter()
    void sd_fpu_leave(unsigned int old)
    void sd_fpu_set_thread()

# SD_DEBUG (setup.py defines it for STREAMDSP_DEBUG_CYTHON=1 builds): callers
# of _run/_flush check the frames they return against _out_frames(n) /
# _flush_frames().  0 otherwise, so `if SD_DEBUG:` compiles to nothing.
cdef extern from *:
    """
    #ifndef SD_DEBUG
    #define SD_DEBUG 0
    #endif
    """
    const bint SD_DEBUG

cdef enum:
    DT_NONE = 0
    DT_F32 = 1
    DT_F64 = 2


cdef class Block:
    cdef Py_ssize_t _in_ch      # input channels; 0 until known
    cdef Py_ssize_t _out_ch     # output channels; 0 until known
    cdef int _dtype             # DT_NONE until the stream's dtype is known
    cdef bint _f32              # convenience: _dtype == DT_F32
    cdef bint _ready            # _setup has run for this stream
    cdef bint _coeff_ch         # channel count was implied by coefficients
    cdef bint _layout_1d        # last chunk came as 1-D; flush() answers alike
    cdef Py_ssize_t _latency    # frames of lag (in output frames); set in __init__
    cdef Py_ssize_t _up         # output rate = _up / _down x input rate (reduced; 1/1
    cdef Py_ssize_t _down       # for rate-preserving blocks, 1/stride for Downsample)
    cdef Py_ssize_t _rate_acc   # (input frames so far x _up) mod _down, for the default
                                # _out_frames of a rate-changing block (Python-level ones)
    cdef void* _zeros           # latency-sized zero input for the default _flush
    cdef Py_ssize_t _zeros_frames
    cdef long _in_use           # atomic: a thread is inside a Python entry point
    cdef bint _pylevel          # process() is written in Python (no C kernel)

    # --- hooks for subclasses -------------------------------------------
    cdef int _setup(self, Py_ssize_t channels) except -1
    cdef Py_ssize_t _out_frames(self, Py_ssize_t frames) noexcept nogil
    cdef Py_ssize_t _max_out(self, Py_ssize_t frames) noexcept nogil
    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil
    cdef Py_ssize_t _flush_frames(self) noexcept nogil
    cdef Py_ssize_t _flush(self, void* y) noexcept nogil
    cdef void _reset(self) noexcept nogil

    # --- machinery shared by every block (not to be overridden) --------
    cdef int _prepare(self, Py_ssize_t channels, int dtype) except -1
    cdef void _unprepare(self) noexcept
    # The call template every process() follows, for one input (index -1)
    # or many (Combiner, Graph.process_all): _accept each chunk,
    # _check_channels against the stream, _prepare on the first call,
    # _output, then _apart each input from it before the nogil kernel call.
    cdef object _accept(self, object x, Py_ssize_t index, int dt)
    cdef Py_ssize_t _check_channels(self, object a, Py_ssize_t index, Py_ssize_t want) except -1
    cdef object _output(self, object out, Py_ssize_t frames, bint one_d)
    cdef object _apart(self, object a, object y)
    cdef object _new_output(self, Py_ssize_t frames, bint one_d)
    cdef object _check_out(self, object out, Py_ssize_t frames, bint one_d)
    cdef int _enter(self) except -1
    cdef void _leave(self) noexcept nogil
    cdef Py_ssize_t _run_py(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil
    cdef void _reset_any(self) noexcept nogil


cdef int check_python_errors() except -1
cdef void bad_frames(Block b, const char* hook, Py_ssize_t got, Py_ssize_t want) noexcept with gil
