#include "sd_fir.h"
#include "sd_simd.h"

/* Outputs are computed in register blocks of NB: for every tap the block
 * takes one broadcast and NB/lanes fused multiply-adds on unaligned loads,
 * all from L1.  NB = 64 floats is 4 AVX-512 or 8 AVX2 accumulators, enough
 * independent chains to hide the FMA latency; doubles use 32. */
#define SD_FIR_KERNEL(NAME, T, NB)                                              \
SD_HOT void NAME(const T *SD_RESTRICT hr, size_t ntaps, const T *SD_RESTRICT buf, \
                 size_t frames, T *SD_RESTRICT y, size_t ystride)               \
{                                                                               \
    size_t n0, k, j;                                                            \
    for (n0 = 0; n0 < frames; n0 += NB) {                                       \
        T acc[NB];                                                              \
        const T *b = buf + n0;                                                  \
        size_t m = frames - n0 < NB ? frames - n0 : NB;                         \
        for (j = 0; j < NB; j++) acc[j] = 0;                                    \
        for (k = 0; k < ntaps; k++) {                                           \
            const T h = hr[k];                                                  \
            const T *bk = b + k;                                                \
            for (j = 0; j < NB; j++) acc[j] += h * bk[j];                       \
        }                                                                       \
        if (ystride == 1) {                                                     \
            for (j = 0; j < m; j++) y[n0 + j] = acc[j];                         \
        } else {                                                                \
            for (j = 0; j < m; j++) y[(n0 + j) * ystride] = acc[j];             \
        }                                                                       \
    }                                                                           \
}

SD_FIR_KERNEL(sd_fir_f32, float, 64)
SD_FIR_KERNEL(sd_fir_f64, double, 32)
