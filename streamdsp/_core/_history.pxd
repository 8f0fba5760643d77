# Delay lines: the input history a block keeps, written once.
#
# Two layouts, both rings with a write slot that wraps:
#
# * interleaved frames (`frames_push`, `frames_exchange`): `cap` frames of
#   `fb` bytes each, as the stream delivers them (Delay, SavitzkyGolay);
# * planes (`planes_push`): one ring of `cap` samples per channel, channel c
#   at ring + c * cap, sharing one slot, so that a window of one channel is
#   contiguous for a kernel (Correlator's normalised window, DelayEstimator).
#
# A push of more than `cap` frames keeps the last `cap`.  All of it is nogil
# and allocation-free: the rings are made in the block's _setup.

from libc.string cimport memcpy

from streamdsp._core._types cimport real_t


cdef inline Py_ssize_t frames_push(char* ring, Py_ssize_t cap, Py_ssize_t pos,
                                   const char* x, Py_ssize_t n, Py_ssize_t fb) noexcept nogil:
    """Append the n frames at x at slot pos of an interleaved ring; returns the next slot."""
    cdef Py_ssize_t first
    if n > cap:
        x += (n - cap) * fb
        pos = (pos + n - cap) % cap
        n = cap
    first = cap - pos
    if first > n:
        first = n
    memcpy(ring + pos * fb, x, first * fb)
    if n > first:
        memcpy(ring, x + first * fb, (n - first) * fb)
    return (pos + n) % cap


cdef inline Py_ssize_t frames_exchange(char* ring, Py_ssize_t cap, Py_ssize_t pos, const char* x,
                                       char* y, Py_ssize_t n, Py_ssize_t fb) noexcept nogil:
    """A delay of cap frames: y gets the frames cap behind x, x takes their slots; the next slot.

    Works a contiguous run of slots at a time; x and y must not overlap.
    """
    cdef Py_ssize_t done = 0, m
    while done < n:
        m = cap - pos
        if m > n - done:
            m = n - done
        memcpy(y + done * fb, ring + pos * fb, m * fb)
        memcpy(ring + pos * fb, x + done * fb, m * fb)
        pos += m
        if pos == cap:
            pos = 0
        done += m
    return pos


cdef inline Py_ssize_t planes_push(real_t* ring, Py_ssize_t cap, Py_ssize_t pos, const real_t* x,
                                   Py_ssize_t n, Py_ssize_t ch) noexcept nogil:
    """Deinterleave the n frames of ch channels at x into the per-channel rings at slot pos; the next slot."""
    cdef Py_ssize_t c, i, p
    cdef Py_ssize_t i0 = n - cap if n > cap else 0
    for c in range(ch):
        p = (pos + i0) % cap
        for i in range(i0, n):
            ring[c * cap + p] = x[i * ch + c]
            p += 1
            if p == cap:
                p = 0
    return (pos + n) % cap
