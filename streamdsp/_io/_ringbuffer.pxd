# RingBuffer: the latest N frames of a stream, written by one thread (the
# processing thread, or a C audio callback), read by any number of others.
#
# For Cython use: `from streamdsp._io._ringbuffer cimport RingBuffer`, then
# `(<RingBuffer>obj).write_nogil(ptr, frames)` on `sd.RingBuffer` objects
# (a Python subclass that only adds the Sink interface of flows).
#
# Lock-free, single producer / multiple readers.  The writer publishes two
# monotonically increasing 64-bit frame counters: `_begin` (frames whose
# writing has started) before it overwrites any slot, and `_end` (frames
# completely written) after the data is copied.  A reader copies frames
# [e - k, e) for e = _end, then re-reads `_begin`: if the writer has since
# started writing past frame e - k + _slots, part of the copy may have been
# overwritten, and the reader copies again.  The writer never waits.

from libc.stdint cimport int64_t


cdef class RingBuffer:
    cdef char* _buf               # _slots frames of _channels samples, interleaved
    cdef Py_ssize_t _capacity     # frames a read can return: ceil(seconds * samplerate); 0 until known
    cdef Py_ssize_t _slots        # frames allocated: _capacity + a guard for concurrent writes
    cdef Py_ssize_t _channels     # 0 until the memory is allocated (once: channels and rate known)
    cdef Py_ssize_t _req_channels # channel count given to the constructor (0: from the first chunk)
    cdef double _rate             # frames per second; 0 until known
    cdef Py_ssize_t _itemsize     # bytes per sample of the stream dtype
    cdef Py_ssize_t _frame_bytes  # _channels * _itemsize
    cdef int64_t _begin           # atomic: frames whose writing has started
    cdef int64_t _end             # atomic: frames completely written
    cdef bint _one_d              # mono chunks came as 1-D; read() answers alike
    cdef readonly object dtype
    cdef readonly double seconds

    cdef int _set_rate(self, object samplerate) except -1
    cdef int _allocate(self, Py_ssize_t channels) except -1

    # Append `frames` frames of interleaved samples (the stream dtype, the
    # buffer's channel count) at x.  For Cython use only: no GIL needed,
    # never blocks, never allocates.  ONE writer at a time (not thread-safe
    # against another writer; safe against any number of concurrent
    # readers).  Does nothing before the memory is allocated (channel count
    # and samplerate known: `channels` is not None).
    cdef void write_nogil(self, const void* x, Py_ssize_t frames) noexcept nogil

    # Copy the newest min(frames, written, capacity) frames into out, in
    # time order; store the absolute index of the first one in *start.
    # Returns the frames copied.  Safe from any thread, concurrently with
    # the writer; retries while the writer overruns the copy.
    cdef Py_ssize_t read_nogil(self, void* out, Py_ssize_t frames, int64_t* start) noexcept nogil
