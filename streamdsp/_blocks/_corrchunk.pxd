# The kernels of the Correlator's chunk engine: the new samples of a chunk
# into the linear buffer, and the correlation of a piece by one overlap-save
# transform (its direct pieces are _firkernel.fir_kernel).  Inline kernels
# only (no module of their own), for _correlator.pyx.

from libc.math cimport isfinite
from libc.string cimport memcpy, memset

from streamdsp._core._fft cimport (
    sd_fft_f32, sd_fft_f32_forward, sd_fft_f32_inverse, sd_fft_f32_mac,
    sd_fft_f64, sd_fft_f64_forward, sd_fft_f64_inverse, sd_fft_f64_mac,
)
from streamdsp._core._types cimport real_t


cdef inline void _ingest(real_t* dst, const real_t* x, Py_ssize_t ch, Py_ssize_t L, double off) noexcept nogil:
    """dst[i] = x[i * ch] - off (one channel of interleaved frames)."""
    cdef Py_ssize_t i
    cdef real_t o = <real_t>off
    if ch == 1 and o == 0:
        memcpy(dst, x, L * sizeof(real_t))
    elif o == 0:
        for i in range(L):
            dst[i] = x[i * ch]
    else:
        for i in range(L):
            dst[i] = x[i * ch] - o


cdef inline void _corr_fft(real_t* lin, Py_ssize_t m, Py_ssize_t L, Py_ssize_t N, void* plan,
                           const real_t* H, real_t* X, real_t* acc, real_t* T,
                           real_t* y, Py_ssize_t ystride) noexcept nogil:
    """y[i] = correlation at the i-th new sample, by one overlap-save transform.

    lin[0 : m-1] is history and lin[m-1 : m-1+L] the new samples; N >= m-1+L.
    H is the spectrum of the reversed template with 1/N folded in.
    """
    cdef Py_ssize_t half = N // 2, used = m - 1 + L, i
    cdef const real_t* src = T + m - 1
    if used < N:   # samples past the new ones would land in outputs >= L; zeros keep NaNs out
        memset(lin + used, 0, (N - used) * sizeof(real_t))
    memset(acc, 0, N * sizeof(real_t))
    if real_t is float:
        sd_fft_f32_forward(<sd_fft_f32*>plan, lin, X, X + half)
        sd_fft_f32_mac(half, acc, acc + half, X, X + half, H, H + half)
        sd_fft_f32_inverse(<sd_fft_f32*>plan, acc, acc + half, T)
    else:
        sd_fft_f64_forward(<sd_fft_f64*>plan, lin, X, X + half)
        sd_fft_f64_mac(half, acc, acc + half, X, X + half, H, H + half)
        sd_fft_f64_inverse(<sd_fft_f64*>plan, acc, acc + half, T)
    if ystride == 1:
        memcpy(y, src, L * sizeof(real_t))
    else:
        for i in range(L):
            y[i * ystride] = src[i]


cdef inline bint _ends_finite(const real_t* y, Py_ssize_t L, Py_ssize_t ystride) noexcept nogil:
    """Whether a transform's outputs are finite, told by the first and last: a NaN
    or Inf anywhere in its input spreads over every output (each is a sum over
    all bins).  The direct pass then redoes them, keeping the damage to the
    windows that hold the bad sample."""
    return isfinite(y[0]) and isfinite(y[(L - 1) * ystride])
