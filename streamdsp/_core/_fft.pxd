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
    void sd_fft_f32_bins(const sd_fft_f32 *p, size_t *bin_of_position) noexcept

    sd_fft_f64 *sd_fft_f64_new(size_t n) noexcept
    void sd_fft_f64_free(sd_fft_f64 *p) noexcept
    size_t sd_fft_f64_size(const sd_fft_f64 *p) noexcept
    void sd_fft_f64_forward(sd_fft_f64 *p, const double *x, double *re, double *im) noexcept
    void sd_fft_f64_inverse(sd_fft_f64 *p, const double *re, const double *im, double *x) noexcept
    void sd_fft_f64_mac(size_t half, double *acc_re, double *acc_im,
                        const double *a_re, const double *a_im,
                        const double *b_re, const double *b_im) noexcept
    void sd_fft_f64_bins(const sd_fft_f64 *p, size_t *bin_of_position) noexcept
