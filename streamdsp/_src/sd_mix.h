/* Channel mixing (a 1x1 convolution) and its activations.
 *
 *   y[f, j] = act(bias[j] + sum_{k < nin} x[f, k] * w[k, j]),
 *   0 <= f < frames, 0 <= j < nout
 *
 * x is (frames, nin) and y (frames, nout), both C-contiguous and
 * interleaved.  `w` holds the weights transposed, (nin, ldw) with
 * ldw = nout rounded up to SD_MIX_LANES_F32/_F64 (64 bytes: a whole number
 * of vectors at every instruction-set level) and zero columns past nout,
 * and `bias` is ldw long (zeros past nout); both 64-byte aligned.  The
 * kernel keeps 8 frames x one vector of outputs in registers and applies
 * bias and activation there, so every output is written once.  It is
 * compiled for AVX-512, AVX2+FMA and the baseline and picked at run time
 * (sd_isa.h).
 *
 * sd_act_* apply an activation in place over n contiguous values, and
 * sd_bias_rows_* fill frames x nout values with the bias: the BLAS path
 * preloads each output tile with the bias (GEMM with beta = 1 adds onto
 * it) and applies the activation while the tile is still in cache.
 */
#ifndef SD_MIX_H
#define SD_MIX_H
#include <stddef.h>

enum { SD_ACT_NONE = 0, SD_ACT_RELU = 1, SD_ACT_TANH = 2 };

/* outputs per vector: 64 bytes */
#define SD_MIX_LANES_F32 16
#define SD_MIX_LANES_F64 8

void sd_mix_f32(const float *w, const float *bias, size_t nin, size_t nout, size_t ldw,
                const float *x, size_t frames, float *y, int act);
void sd_mix_f64(const double *w, const double *bias, size_t nin, size_t nout, size_t ldw,
                const double *x, size_t frames, double *y, int act);

void sd_act_f32(float *y, size_t n, int act);
void sd_act_f64(double *y, size_t n, int act);

/* y[f, j] = bias[j] for frames x nout (the BLAS path's output preload) */
void sd_bias_rows_f32(float *y, const float *bias, size_t frames, size_t nout);
void sd_bias_rows_f64(double *y, const double *bias, size_t frames, size_t nout);

#endif
