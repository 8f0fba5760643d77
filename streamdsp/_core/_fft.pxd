# cython: language_level=3
"""C-level declarations of the streamdsp real FFT kernel (sd_fft.h).

Use from other Cython modules with::

    from streamdsp._core._fft cimport sd_fft_f32, sd_fft_f32_new, ...

All functions are ``noexcept nogil``.  See sd_fft.h for the packed spectrum
layout (position 0 = DC in re / Nyquist in im, positions 1..n/2-1 hold the
other bins in a permuted order given by sd_fft_*_bins), the unscaled inverse
(n * x) and the thread-safety rules (a plan is not reentrant: inverse uses
scratch inside the plan).  No alignment is required of the arrays.
"""

cdef extern from "sd_fft.h" nogil:
    ctypedef struct sd_fft_f32:
        pass
    ctypedef struct sd_fft_f64:
        pass

    sd_fft_f32 *sd_fft_f32_new(size_t n) noexcept
    void sd_fft_f32_free(sd_fft_f32 *p) noexcept
    size_t sd_fft_f32_size(const sd_fft_f32 *p) noexcept
    void sd_fft_f32_forward(sd_fft_f32 *p, const float *x, float *re, float *im) noexcept
    void sd_fft_f32_inverse(sd_fft_f32 *p, const float *re, const float *im, float *x) noexcept
    void sd_fft_f32_mac(size_t half, float *acc_re, float *acc_im,
                        const float *a_re, const float *a_im,
                        const float *b_re, const float *b_im) noexcept
    void sd_fft_f32_mac_range(size_t lo, size_t hi, float *acc_re, float *acc_im,
                              const float *a_re, const float *a_im,
                              const float *b_re, const float *b_im) noexcept
    void sd_fft_f32_bins(const sd_fft_f32 *p, size_t *bin_of_position) noexcept

    sd_fft_f64 *sd_fft_f64_new(size_t n) noexcept
    void sd_fft_f64_free(sd_fft_f64 *p) noexcept
    size_t sd_fft_f64_size(const sd_fft_f64 *p) noexcept
    void sd_fft_f64_forward(sd_fft_f64 *p, const double *x, double *re, double *im) noexcept
    void sd_fft_f64_inverse(sd_fft_f64 *p, const double *re, const double *im, double *x) noexcept
    void sd_fft_f64_mac(size_t half, double *acc_re, double *acc_im,
                        const double *a_re, const double *a_im,
                        const double *b_re, const double *b_im) noexcept
    void sd_fft_f64_mac_range(size_t lo, size_t hi, double *acc_re, double *acc_im,
                              const double *a_re, const double *a_im,
                              const double *b_re, const double *b_im) noexcept
    void sd_fft_f64_bins(const sd_fft_f64 *p, size_t *bin_of_position) noexcept


from streamdsp._core._memory cimport _bytes, _count, sd_memory_available, sd_memory_fits

# Largest plan: SD_FFT_MAXN in sd_fft.c (also streamdsp._core._validate.MAX_FFT).
DEF _MAX_FFT = 1 << 30


cdef inline void* fft_plan(object owner, Py_ssize_t n, bint f32, object extra_items=0) except NULL:
    """A plan (sd_fft_f32* if f32 else sd_fft_f64*) for a real FFT of n points.

    A plan holds at most ``3 n`` items (twiddles and scratch).  Those and
    the ``extra_items`` the caller allocates next (its buffers, of the same
    item size) must fit in the memory left, so that a block too large for
    the machine is refused before any of its memory is touched, with a
    MemoryError naming ``owner`` (a block or a str).
    """
    cdef void* p = NULL
    cdef size_t isz = 4 if f32 else 8
    who = owner if isinstance(owner, str) else type(owner).__name__
    if n < 2 or n > _MAX_FFT or n & (n - 1):
        raise ValueError(f"{who}: expected an FFT size that is a power of two in 2 .. 2**30, got {n}")
    need = (3 * n + extra_items) * isz
    if need >> 63 or not sd_memory_fits(<size_t>need):
        raise MemoryError(f"{who}: cannot plan an FFT of {_count(n)} points with its buffers "
                          f"({_bytes(need)}): only {_bytes(sd_memory_available())} of memory "
                          f"is available")
    p = <void*>sd_fft_f32_new(n) if f32 else <void*>sd_fft_f64_new(n)
    if p == NULL:
        raise MemoryError(f"{who}: could not plan an FFT of {_count(n)} points: out of memory")
    return p
