# The normalised running statistics of the Correlator: per channel, the
# compensated sums of the window's samples and squares, kept in step with the
# stream, and the Pearson coefficient they turn a raw correlation into.
# Inline kernels only (no module of their own), for _correlator.pyx.

from libc.math cimport NAN, fabs, isfinite, sqrt
from libc.stdint cimport int64_t

from streamdsp._core._types cimport real_t


ctypedef struct _NormState:
    double s1, c1         # running sum of u over the window (Neumaier: sum + compensation)
    double s2, c2         # running sum of u**2
    int64_t nbad          # samples in the window whose u**2 is not finite: left out of
                          # the sums, so that the sums recover once they leave it
    int reanchor          # the last of them has left: recompute the sums exactly
    double prev           # previous raw sample
    int64_t run           # equal raw samples ending at the last one
    double hn             # ||template - mean(template)|| of this channel
    double off            # u = x - off (a value of the stream dtype)

cdef inline void _nadd(double* s, double* comp, double v) noexcept nogil:
    """Neumaier's compensated s += v."""
    cdef double t = s[0] + v
    if fabs(s[0]) >= fabs(v):
        comp[0] += (s[0] - t) + v
    else:
        comp[0] += (v - t) + s[0]
    s[0] = t


cdef inline void _window_step(_NormState* st, double un, double uo, double xv) noexcept nogil:
    """Slide the window by one sample: un comes in, uo leaves; xv is the raw sample
    (runs of identical raw samples detect a constant window exactly)."""
    cdef double d2 = un * un - uo * uo
    if isfinite(d2):
        # both squares finite (a difference of two finite squares cannot overflow)
        _nadd(&st.s1, &st.c1, un - uo)
        _nadd(&st.s2, &st.c2, d2)
    else:
        _window_step_nonfinite(st, un, uo)
    if xv == st.prev:
        st.run += 1
    else:
        st.run = 1
        st.prev = xv


cdef inline void _window_step_nonfinite(_NormState* st, double un, double uo) noexcept nogil:
    """_window_step's sums when un or uo is NaN/Inf (or its square overflows): such
    a sample never enters the sums, which it would poison for good (NaN - NaN
    is NaN), but is counted while in the window."""
    cdef bint bad_in = not isfinite(un * un)
    cdef bint bad_out = not isfinite(uo * uo)
    if not bad_in:
        _nadd(&st.s1, &st.c1, un)
        _nadd(&st.s2, &st.c2, un * un)
    if not bad_out:
        _nadd(&st.s1, &st.c1, -uo)
        _nadd(&st.s2, &st.c2, -uo * uo)
    st.nbad += <int64_t>bad_in - <int64_t>bad_out
    if bad_out and st.nbad == 0:
        st.reanchor = 1


cdef inline double _pearson(_NormState* st, double num, Py_ssize_t m) noexcept nogil:
    cdef double S1 = st.s1 + st.c1, S2 = st.s2 + st.c2
    cdef double var = S2 - S1 * S1 / m, r
    if st.nbad > 0:
        return NAN          # as pearsonr of a window holding NaN or Inf
    if st.run >= m or not var > 0.0:
        return 0.0
    r = num / (sqrt(var) * st.hn)
    if r > 1.0:
        return 1.0
    if r < -1.0:
        return -1.0
    return r


cdef inline void _norm_lin(const real_t* lin, Py_ssize_t m, const real_t* x, Py_ssize_t ch,
                           real_t* y, Py_ssize_t L, _NormState* st, int64_t t0) noexcept nogil:
    """Numerators in y (stride ch) -> Pearson coefficients; u from the linear buffer.

    The sample leaving the window of output i is lin[i - 1] (the buffer keeps
    one sample more than the m - 1 of history the correlation needs).
    """
    cdef Py_ssize_t i
    cdef double un, uo
    cdef _NormState s = st[0]     # a local copy: its fields stay in registers
    for i in range(L):
        un = lin[m - 1 + i]
        uo = lin[i - 1]
        _window_step(&s, un, uo, x[i * ch])
        if t0 + i < m - 1:
            y[i * ch] = 0
        else:
            y[i * ch] = <real_t>_pearson(&s, y[i * ch], m)
    st[0] = s


cdef inline Py_ssize_t _norm_ring(real_t* ring, Py_ssize_t pos, Py_ssize_t m, const real_t* u,
                                  const real_t* x, Py_ssize_t ch, real_t* y, Py_ssize_t L,
                                  _NormState* st, int64_t t0, const double* suf, double d,
                                  int64_t tau) noexcept nogil:
    """As _norm_lin, with the window's samples in a ring of m (partitioned engine).

    The convolver cannot be rebased: after the offset moved by d at sample
    tau, its outputs for t in [tau, tau + m - 2] lack d * (sum of the last
    t - tau + 1 template samples), which ``suf`` holds.
    """
    cdef Py_ssize_t i
    cdef int64_t j
    cdef double un, uo, num
    cdef _NormState s = st[0]     # a local copy: its fields stay in registers
    for i in range(L):
        un = u[i * ch]
        uo = ring[pos]
        ring[pos] = u[i * ch]
        pos += 1
        if pos == m:
            pos = 0
        _window_step(&s, un, uo, x[i * ch])
        if t0 + i < m - 1:
            y[i * ch] = 0
        else:
            num = y[i * ch]
            j = t0 + i - tau + 1
            if d != 0.0 and j < m:
                num += d * suf[j]
            y[i * ch] = <real_t>_pearson(&s, num, m)
    st[0] = s
    return pos


cdef inline void _exact_sums(const real_t* w, Py_ssize_t m, _NormState* st) noexcept nogil:
    """Recompute the window sums from its samples (drift of the running sums reset),
    leaving out and counting the non-finite ones as _window_step does."""
    cdef Py_ssize_t i
    cdef double s1 = 0.0, c1 = 0.0, s2 = 0.0, c2 = 0.0, v
    cdef int64_t bad = 0
    for i in range(m):
        v = w[i]
        if isfinite(v * v):
            _nadd(&s1, &c1, v)
            _nadd(&s2, &c2, v * v)
        else:
            bad += 1
    st.nbad = bad
    st.s1 = s1
    st.c1 = c1
    st.s2 = s2
    st.c2 = c2


cdef inline void _rebase(real_t* w, Py_ssize_t m, _NormState* st) noexcept nogil:
    """Move the offset to the window's mean so that u stays centred (precision of
    the float32 correlation under a drifting DC), then recompute the sums."""
    cdef Py_ssize_t i
    cdef double mean = (st.s1 + st.c1) / m
    cdef double off = <double><real_t>(st.off + mean)
    cdef double d = off - st.off
    if d != 0.0 and isfinite(d):
        for i in range(m):
            w[i] = <real_t>(w[i] - d)
        st.off = off
    _exact_sums(w, m, st)
