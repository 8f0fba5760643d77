/* sd_fft.h - compact real FFT for power-of-two sizes (float32 and float64).
 *
 * Written for the convolution blocks of streamdsp: after planning, the
 * transform functions allocate nothing, take no locks and touch no Python
 * objects, so they may be called with the GIL released from an audio
 * callback.
 *
 * Sizes: n must be a power of two with 2 <= n <= 2^30 (tested 2..2^22).
 *
 * Spectrum layout ("packed", split re/im arrays of n/2 entries each):
 *   re[0] = X[0]     (DC, real)
 *   im[0] = X[n/2]   (Nyquist, real)
 *   positions p = 1 .. n/2-1 hold the other bins in a permuted order (no
 *   reordering pass is ever done): with m = n/2 and bs = 16 (bs = 8 for
 *   n = 64, 128), position p = bs*B + t holds bin (m/bs)*t + bitreverse(B)
 *   (log2(m/bs) bits); for n < 32 position p holds bin bitreverse(p).
 *   sd_fft_*_bins() returns the mapping; do not hard-code it.  It depends
 *   on n only (same for float and double, any CPU).  A convolution only
 *   multiplies spectra elementwise (sd_fft_*_mac), so it never needs it.
 *
 * Scaling: forward is the plain DFT  X[k] = sum_j x[j] exp(-2 pi i j k / n);
 *   inverse is UNSCALED: inverse(forward(x)) == n * x  (like FFTW).
 *
 * Memory: x, re, im need only the natural alignment of float/double (64-byte
 *   aligned arrays are a little faster).  x must not alias re or im.
 *
 * Threads: inverse() uses scratch memory inside the plan, so a plan is NOT
 *   reentrant: never run two transforms on the same plan at the same time
 *   (give each thread its own plan).  Different plans are independent, and
 *   mac() touches no plan at all.  new/free are not real-time safe (they
 *   allocate, compute tables and read the environment: SD_FFT_BLOCKS=c|vec
 *   forces one of two internal code paths, for testing); forward, inverse,
 *   mac, size and bins are (no allocation, no locks, no system calls).
 *
 * Precision: twiddles are computed in double with octant reduction; float32
 *   transforms are accurate to a few 1e-7 of the peak, float64 to ~1e-15.
 */
#ifndef SD_FFT_H
#define SD_FFT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sd_fft_f32 sd_fft_f32;
typedef struct sd_fft_f64 sd_fft_f64;

/* Plan for an n-point real FFT.  NULL if n is not a power of two in
 * [2, 2^30] or if memory runs out.  Not real-time safe.  Memory: about
 * 3 n elements of twiddles and scratch, 64-byte aligned. */
sd_fft_f32 *sd_fft_f32_new(size_t n);
void sd_fft_f32_free(sd_fft_f32 *p);               /* NULL is fine */
size_t sd_fft_f32_size(const sd_fft_f32 *p);      /* n */

/* n reals -> packed spectrum (re, im: n/2 each).  x is not modified. */
void sd_fft_f32_forward(sd_fft_f32 *p, const float *x, float *re, float *im);
/* packed spectrum -> n reals, unscaled (n * x).  re/im are not modified;
 * uses scratch inside the plan (plan not reentrant). */
void sd_fft_f32_inverse(sd_fft_f32 *p, const float *re, const float *im, float *x);
/* acc += a * b (complex, elementwise) over the packed layout, half = n/2.
 * Position 0 is handled as two real products (DC and Nyquist).  acc must not
 * alias a or b (a may equal b). */
void sd_fft_f32_mac(size_t half, float *acc_re, float *acc_im,
                    const float *a_re, const float *a_im,
                    const float *b_re, const float *b_im);
/* bin_of_position[p] = natural bin index of packed position p, p = 0..n/2-1
 * (position 0 holds DC in re and Nyquist in im; bin_of_position[0] = 0). */
/* As mac, over the packed positions lo .. hi-1 only (position 0, if lo == 0,
 * as in mac), so that a long product can be cut into slices run at different
 * times; mac(half, ...) == mac_range(0, half, ...). */
void sd_fft_f32_mac_range(size_t lo, size_t hi, float *acc_re, float *acc_im,
                          const float *a_re, const float *a_im,
                          const float *b_re, const float *b_im);
void sd_fft_f32_bins(const sd_fft_f32 *p, size_t *bin_of_position);

sd_fft_f64 *sd_fft_f64_new(size_t n);
void sd_fft_f64_free(sd_fft_f64 *p);
size_t sd_fft_f64_size(const sd_fft_f64 *p);
void sd_fft_f64_forward(sd_fft_f64 *p, const double *x, double *re, double *im);
void sd_fft_f64_inverse(sd_fft_f64 *p, const double *re, const double *im, double *x);
void sd_fft_f64_mac(size_t half, double *acc_re, double *acc_im,
                    const double *a_re, const double *a_im,
                    const double *b_re, const double *b_im);
void sd_fft_f64_mac_range(size_t lo, size_t hi, double *acc_re, double *acc_im,
                          const double *a_re, const double *a_im,
                          const double *b_re, const double *b_im);
void sd_fft_f64_bins(const sd_fft_f64 *p, size_t *bin_of_position);

#ifdef __cplusplus
}
#endif

#endif /* SD_FFT_H */
