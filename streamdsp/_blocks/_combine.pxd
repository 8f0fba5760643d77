# Blocks with several inputs (Add, Multiply, Concatenate, Mix).
#
# A Combiner takes `nin` streams of the same rate.  Inputs may arrive with
# different frame counts in one call (branches that decimate with different
# phases); a combiner consumes as many frames as every input has and keeps
# the rest for the next call, so its output count is
# min_i(carry_i + counts_i).  Each carry holds at most `_carry_cap` frames:
# process() refuses a call that would exceed it before changing anything;
# in a graph (pieces of 1024 frames) it cannot happen.  Every per-input
# array is sized from the number of inputs in _setup_multi: no fixed cap.
# For Cython use only: `_run_multi` is `noexcept nogil` and allocation-free
# like Block._run.

from streamdsp._core._block cimport Block


cdef class Combiner(Block):
    cdef Py_ssize_t _nin            # number of inputs; 0 until known
    cdef Py_ssize_t* _chs           # channels of each input
    cdef void** _carry              # per input: frames left over from earlier calls
    cdef Py_ssize_t* _ncarry
    cdef Py_ssize_t _carry_cap      # frames each carry buffer holds
    cdef const void** _ptrs         # scratch of _run_multi: where each input's segment starts
    cdef const void** _xs           # scratch of _run and process(): each input's chunk
    cdef Py_ssize_t* _cnts          # scratch of _run and process(): each input's frame count

    cdef int _setup_multi(self, list channels) except -1
    cdef void _free_multi(self) noexcept
    cdef void _undo_setup(self, Py_ssize_t nin) noexcept
    cdef Py_ssize_t _out_frames_multi(self, const Py_ssize_t* counts) noexcept nogil
    cdef Py_ssize_t _run_multi(self, const void** xs, const Py_ssize_t* counts, void* y) noexcept nogil
    # the arithmetic, on `frames` aligned frames of every input
    cdef void _combine(self, const void** xs, void* y, Py_ssize_t frames) noexcept nogil
