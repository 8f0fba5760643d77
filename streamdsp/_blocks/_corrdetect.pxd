# The Correlator's event detection: per channel, the excursions of the score
# above a threshold, reduced to their peaks (merged within `distance`), and
# the queue that hands the peaks to events().  Inline kernels only (no module
# of their own), for _correlator.pyx.
#
# The queue is written by the block's _run (maybe on an audio thread) and
# drained by events() (the Python thread): a single-producer single-consumer
# ring whose two counters are published with release/acquire ordering.

from libc.stdint cimport int64_t


cdef extern from "sd_atomic.h":
    Py_ssize_t sd_load_acquire_ssize(const Py_ssize_t* p) noexcept nogil
    void sd_store_release_ssize(Py_ssize_t* p, Py_ssize_t v) noexcept nogil


cdef enum:
    EV_CAP = 4096         # events the queue holds before it drops new ones (power of two)


ctypedef struct _Detect:
    int above             # an excursion is open
    double peak           # ... its highest score so far
    int64_t idx           # ... where
    int64_t start         # ... where it began
    int pend              # a completed event held back (distance > 0)
    double pscore
    int64_t pidx

ctypedef struct _EventRec:
    int64_t index
    double score
    Py_ssize_t channel

ctypedef struct _EventQueue:
    _EventRec* evs        # EV_CAP records, NULL without a threshold
    Py_ssize_t head       # written by events() only
    Py_ssize_t tail       # written by _run only
    int64_t dropped


cdef inline void _push(_EventQueue* q, int64_t index, double score, Py_ssize_t channel) noexcept nogil:
    cdef Py_ssize_t tail = q.tail
    cdef Py_ssize_t head = sd_load_acquire_ssize(&q.head)
    cdef _EventRec* e
    if tail - head >= EV_CAP:
        q.dropped += 1
        return
    e = &q.evs[tail & (EV_CAP - 1)]
    e.index = index
    e.score = score
    e.channel = channel
    sd_store_release_ssize(&q.tail, tail + 1)


cdef inline void _offer(_EventQueue* q, _Detect* d, int64_t distance, int64_t idx, double score,
                        Py_ssize_t c) noexcept nogil:
    """A completed excursion: report it, or merge it with the held-back event
    within `distance` (the higher score stays; the earlier on ties)."""
    if distance <= 0:
        _push(q, idx, score, c)
        return
    if d.pend and idx - d.pidx < distance:
        if score > d.pscore:
            d.pscore = score
            d.pidx = idx
        return
    if d.pend:
        _push(q, d.pidx, d.pscore, c)
    d.pend = 1
    d.pscore = score
    d.pidx = idx


cdef inline void _scan(_EventQueue* q, _Detect* d, double thr, int64_t D, bint f32, const char* y,
                       Py_ssize_t ystride, Py_ssize_t L, int64_t t0, Py_ssize_t c) noexcept nogil:
    """Follow channel c's excursions above `thr` over L scores, the first at t0."""
    cdef Py_ssize_t i
    cdef double s
    cdef int64_t t
    for i in range(L):
        if f32:
            s = (<const float*>y)[i * ystride]
        else:
            s = (<const double*>y)[i * ystride]
        t = t0 + i
        if s >= thr:
            if not d.above:
                d.above = 1
                d.peak = s
                d.idx = t
                d.start = t
            elif s > d.peak:
                d.peak = s
                d.idx = t
        elif d.above:
            d.above = 0
            _offer(q, d, D, d.idx, d.peak, c)
        # a held-back event is final once no peak within `distance` can follow
        if d.pend and t - d.pidx >= D and (not d.above or d.start - d.pidx >= D):
            d.pend = 0
            _push(q, d.pidx, d.pscore, c)


cdef inline void _finish(_EventQueue* q, _Detect* d, int64_t distance, Py_ssize_t c) noexcept nogil:
    """End of stream: the open excursion and the held-back event become events."""
    if d.above:
        d.above = 0
        _offer(q, d, distance, d.idx, d.peak, c)
    if d.pend:
        d.pend = 0
        _push(q, d.pidx, d.pscore, c)


cdef inline Py_ssize_t _pending(_EventQueue* q) noexcept nogil:
    """The tail up to which events() may read (its records are complete)."""
    return sd_load_acquire_ssize(&q.tail)


cdef inline void _consumed(_EventQueue* q, Py_ssize_t upto) noexcept nogil:
    """events() has copied the records before `upto`: the producer may reuse them."""
    sd_store_release_ssize(&q.head, upto)
