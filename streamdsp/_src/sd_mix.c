#include <math.h>
#include <string.h>

#include "sd_isa.h"
#include "sd_mix.h"
#include "sd_simd.h"

/* The ISO C mode setup.py compiles in (-std=c11) turns floating-point
 * contraction off, so `acc += a * b` would be a multiply and an add.  The
 * kernels here want fused multiply-adds (one rounding instead of two, and
 * half the instructions); allow them for this file only. */
#if defined(__clang__)
#  pragma clang fp contract(fast)
#elif defined(__GNUC__)
#  pragma GCC optimize("fp-contract=fast")
#  pragma GCC diagnostic ignored "-Wpsabi"   /* vector arguments of static inline helpers */
#endif

/* Frames per register block: SD_MIX_ROWS accumulators of one vector each.
 * Eight independent FMA chains cover the 4-cycle latency of two FMA ports;
 * each weight vector loaded from L1 is used ROWS times. */
#define SD_MIX_ROWS 8

/* Bias preload of the BLAS path: plain loops, vectorised per clone. */
#define SD_BIAS_ROWS(NAME, T)                                                            \
SD_HOT void NAME(T *SD_RESTRICT y, const T *SD_RESTRICT bias, size_t frames, size_t nout) \
{                                                                                        \
    size_t f, j;                                                                         \
    for (f = 0; f < frames; f++)                                                         \
        for (j = 0; j < nout; j++) y[f * nout + j] = bias[j];                            \
}
SD_BIAS_ROWS(sd_bias_rows_f32, float)
SD_BIAS_ROWS(sd_bias_rows_f64, double)

#if defined(__GNUC__) || defined(__clang__)

/* One instantiation of sd_mix_level.h per instruction-set level (sd_isa.h). */
#if SD_ISA_MULTI
#  define SD_W 64
#  define SD_SFX _v4
#  define SD_ATTR SD_ATTR_V4
#  include "sd_mix_level.h"
#  undef SD_W
#  undef SD_SFX
#  undef SD_ATTR
#  define SD_W 32
#  define SD_SFX _v3
#  define SD_ATTR SD_ATTR_V3
#  include "sd_mix_level.h"
#  undef SD_W
#  undef SD_SFX
#  undef SD_ATTR
#  define SD_W 16
#  define SD_SFX _v0
#  define SD_ATTR
#  include "sd_mix_level.h"
#  undef SD_W
#  undef SD_SFX
#  undef SD_ATTR
#  define SD_DISPATCH(F, ...)                                                            \
    switch (sd_isa_level()) {                                                            \
    case 2: F##_v4(__VA_ARGS__); break;                                                  \
    case 1: F##_v3(__VA_ARGS__); break;                                                  \
    default: F##_v0(__VA_ARGS__);                                                        \
    }
#else
#  define SD_W SD_NATIVE_VECTOR_BYTES
#  define SD_SFX _native
#  define SD_ATTR
#  include "sd_mix_level.h"
#  define SD_DISPATCH(F, ...) F##_native(__VA_ARGS__)
#endif

void sd_mix_f32(const float *w, const float *bias, size_t nin, size_t nout, size_t ldw,
                const float *x, size_t frames, float *y, int act)
{
    SD_DISPATCH(mix_f32, w, bias, nin, nout, ldw, x, frames, y, act)
}

void sd_mix_f64(const double *w, const double *bias, size_t nin, size_t nout, size_t ldw,
                const double *x, size_t frames, double *y, int act)
{
    SD_DISPATCH(mix_f64, w, bias, nin, nout, ldw, x, frames, y, act)
}

void sd_act_f32(float *y, size_t n, int act)
{
    if (act == SD_ACT_NONE) return;
    SD_DISPATCH(act_f32, y, n, act)
}

void sd_act_f64(double *y, size_t n, int act)
{
    if (act == SD_ACT_NONE) return;
    SD_DISPATCH(act_f64, y, n, act)
}

#else  /* no vector extensions: plain loops with libm */

#define SD_MIX_PLAIN(NAME, ACTNAME, T, TANH)                                             \
void ACTNAME(T *y, size_t n, int act)                                                    \
{                                                                                        \
    size_t i;                                                                            \
    if (act == SD_ACT_RELU) {                                                            \
        for (i = 0; i < n; i++) if (y[i] < 0) y[i] = 0;                                  \
    } else if (act == SD_ACT_TANH) {                                                     \
        for (i = 0; i < n; i++) y[i] = TANH(y[i]);                                       \
    }                                                                                    \
}                                                                                        \
void NAME(const T *w, const T *bias, size_t nin, size_t nout, size_t ldw,                \
          const T *x, size_t frames, T *y, int act)                                      \
{                                                                                        \
    size_t f, j, k;                                                                      \
    for (f = 0; f < frames; f++) {                                                       \
        T *yf = y + f * nout;                                                            \
        for (j = 0; j < nout; j++) yf[j] = bias[j];                                      \
        for (k = 0; k < nin; k++) {                                                      \
            const T xk = x[f * nin + k];                                                 \
            for (j = 0; j < nout; j++) yf[j] += xk * w[k * ldw + j];                     \
        }                                                                                \
        ACTNAME(yf, nout, act);                                                          \
    }                                                                                    \
}

SD_MIX_PLAIN(sd_mix_f32, sd_act_f32, float, tanhf)
SD_MIX_PLAIN(sd_mix_f64, sd_act_f64, double, tanh)

#endif
