/* Direct-form FIR kernel: the correlation form of a convolution.
 *
 *   y[n * ystride] = sum_{k < ntaps} hr[k] * buf[n + k],   0 <= n < frames
 *
 * `hr` holds the taps reversed and `buf` the last ntaps-1 input samples
 * followed by `frames` new ones, so both walk forward with stride 1 and the
 * loop over outputs vectorises.  `buf` must be readable for SD_FIR_PAD
 * samples past buf[ntaps - 1 + frames] (the kernel computes whole blocks of
 * outputs and stores only those asked for).
 */
#ifndef SD_FIR_H
#define SD_FIR_H
#include <stddef.h>

#define SD_FIR_PAD 64

void sd_fir_f32(const float *hr, size_t ntaps, const float *buf, size_t frames,
                float *y, size_t ystride);
void sd_fir_f64(const double *hr, size_t ntaps, const double *buf, size_t frames,
                double *y, size_t ystride);

#endif
