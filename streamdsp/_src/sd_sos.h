/* Linear time-invariant systems on interleaved streams.
 *
 * Cascaded second-order sections in transposed direct form II, the same
 * recursion as scipy.signal.sosfilt, one section k of coefficients
 *   co[5k..5k+4] = b0, b1, b2, a1, a2        (a0 = 1)
 * and state st[(2k + m) * nch + c] (m = 0, 1) for channel c:
 *
 *   y      = b0 x + s1
 *   s1     = (b1 x + s2) - a1 y
 *   s2     = b2 x - a2 y
 *
 * State space (dlsim's recursion), order N, one input, one output:
 *
 *   y      = C s + D x
 *   s      = A s + B x               st[j * nch + c]
 *
 * x and y are (frames, nch) interleaved, C-contiguous, of the stream dtype;
 * the state and all arithmetic are float64 whatever the stream dtype (a
 * float32 state is the classic source of error in high-order and low-cutoff
 * filters).  x and y must not overlap.
 */
#ifndef SD_SOS_H
#define SD_SOS_H
#include <stddef.h>

/* Sections whose state one pass keeps in registers; longer cascades run in
 * passes of this many sections over pieces of SD_SOS_SUB frames held in a
 * float64 work buffer of SD_SOS_WORK doubles. */
#define SD_SOS_GROUP 4
#define SD_SOS_SUB 128
#define SD_SOS_WORK (SD_SOS_SUB * 8)

void sd_sos_f32(const double *co, size_t nsec, double *st, size_t nch,
                const float *x, float *y, size_t frames, double *work);
void sd_sos_f64(const double *co, size_t nsec, double *st, size_t nch,
                const double *x, double *y, size_t frames, double *work);

/* tmp: (N + 1) * nch doubles of scratch. A is N x N row-major. */
void sd_ss_f32(const double *A, const double *B, const double *C, double D, size_t N,
               double *st, double *tmp, size_t nch, const float *x, float *y, size_t frames);
void sd_ss_f64(const double *A, const double *B, const double *C, double D, size_t N,
               double *st, double *tmp, size_t nch, const double *x, double *y, size_t frames);

#endif
