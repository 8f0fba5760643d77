#include <math.h>
#include <string.h>

#include "sd_isa.h"
#include "sd_multirate.h"
#include "sd_simd.h"

/* setup.py compiles in ISO C mode (-std=c11), which turns floating-point
 * contraction off; the FIR sums here want fused multiply-adds. */
#if defined(__clang__)
#  pragma clang fp contract(fast)
#elif defined(__GNUC__)
#  pragma GCC optimize("fp-contract=fast")
#  pragma GCC diagnostic ignored "-Wpsabi"   /* vector arguments of static inline helpers */
#endif

/* ------------------------------------------------------------------ */
/* Polyphase FIR.  Outputs in register blocks of NB (4 AVX-512 or 8 AVX2
 * accumulators for floats), one broadcast tap per NB/lanes FMAs, as in
 * sd_fir.c, summed over the D phases. */
#define SD_POLYFIR(NAME, T, NB)                                                          \
SD_HOT void NAME(const T *SD_RESTRICT hr, size_t D, size_t Q, const T *SD_RESTRICT lin,  \
                 size_t linlen, size_t M, T *SD_RESTRICT y, size_t ystride)              \
{                                                                                        \
    size_t m0, r, q, i;                                                                  \
    for (m0 = 0; m0 < M; m0 += NB) {                                                     \
        T acc[NB];                                                                       \
        size_t n = M - m0 < NB ? M - m0 : NB;                                            \
        for (i = 0; i < NB; i++) acc[i] = 0;                                             \
        for (r = 0; r < D; r++) {                                                        \
            const T *b = lin + r * linlen + m0;                                          \
            const T *h = hr + r * Q;                                                     \
            for (q = 0; q < Q; q++) {                                                    \
                const T c = h[q];                                                        \
                const T *bq = b + q;                                                     \
                for (i = 0; i < NB; i++) acc[i] += c * bq[i];                            \
            }                                                                            \
        }                                                                                \
        if (ystride == 1) {                                                              \
            for (i = 0; i < n; i++) y[m0 + i] = acc[i];                                  \
        } else {                                                                         \
            for (i = 0; i < n; i++) y[(m0 + i) * ystride] = acc[i];                      \
        }                                                                                \
    }                                                                                    \
}

SD_POLYFIR(sd_polyfir_f32, float, 128)
SD_POLYFIR(sd_polyfir_f64, double, 64)

/* ------------------------------------------------------------------ */
/* max(a, b) as numpy computes it: NaN in either operand gives NaN.  The
 * first operand should be the new sample (its NaN test is off the
 * dependency chain of a running maximum). */
#define NANMAX(a, b) (((a) > (b) || (a) != (a)) ? (a) : (b))

#if defined(__GNUC__) || defined(__clang__)

/* Pooling kernels: written with vector types, one instantiation of
 * sd_multirate_level.h per instruction-set level (see sd_isa.h for why not
 * target_clones). */
#if SD_ISA_MULTI
#  define SD_W 64
#  define SD_LF 16
#  define SD_LD 8
#  define SD_SFX _v4
#  define SD_ATTR SD_ATTR_V4
#  include "sd_multirate_level.h"
#  undef SD_W
#  undef SD_LF
#  undef SD_LD
#  undef SD_SFX
#  undef SD_ATTR
#  define SD_W 32
#  define SD_LF 8
#  define SD_LD 4
#  define SD_SFX _v3
#  define SD_ATTR SD_ATTR_V3
#  include "sd_multirate_level.h"
#  undef SD_W
#  undef SD_LF
#  undef SD_LD
#  undef SD_SFX
#  undef SD_ATTR
#  define SD_W 16
#  define SD_LF 4
#  define SD_LD 2
#  define SD_SFX _v0
#  define SD_ATTR
#  include "sd_multirate_level.h"
#  define SD_DISPATCH(F, ...)                                                            \
    switch (sd_isa_level()) {                                                            \
    case 2: return F##_v4(__VA_ARGS__);                                                  \
    case 1: return F##_v3(__VA_ARGS__);                                                  \
    default: return F##_v0(__VA_ARGS__);                                                 \
    }
#else
#  define SD_W SD_NATIVE_VECTOR_BYTES
#  if SD_NATIVE_VECTOR_BYTES == 64
#    define SD_LF 16
#    define SD_LD 8
#  elif SD_NATIVE_VECTOR_BYTES == 32
#    define SD_LF 8
#    define SD_LD 4
#  else
#    define SD_LF 4
#    define SD_LD 2
#  endif
#  define SD_SFX _native
#  define SD_ATTR
#  include "sd_multirate_level.h"
#  define SD_DISPATCH(F, ...) return F##_native(__VA_ARGS__);
#endif

#define SD_POOL_API(T, SUFFIX)                                                           \
size_t sd_pool_##SUFFIX(const T *x, size_t frames, size_t ch, size_t size, size_t stride, \
                        size_t *cnt, T *acc, T *y)                                       \
{                                                                                        \
    SD_DISPATCH(pool_##SUFFIX, x, frames, ch, size, stride, cnt, acc, y)                 \
}                                                                                        \
size_t sd_slide_##SUFFIX(const T *x, size_t frames, size_t ch, size_t size, size_t stride, \
                         size_t *cnt, size_t *j, T *buf, T *pb, T *pre, T *suf, T *y)    \
{                                                                                        \
    SD_DISPATCH(slide_##SUFFIX, x, frames, ch, size, stride, cnt, j, buf, pb, pre, suf, y) \
}
SD_POOL_API(float, f32)
SD_POOL_API(double, f64)

#else  /* plain C: the same algorithms with scalar loops */

#define SD_POOL_PLAIN(T, SUFFIX)                                                         \
size_t sd_pool_##SUFFIX(const T *x, size_t frames, size_t ch, size_t size, size_t stride, \
                        size_t *cntp, T *acc, T *y)                                      \
{                                                                                        \
    size_t cnt = *cntp, out = 0, f, c;                                                   \
    for (f = 0; f < frames; f++) {                                                       \
        if (cnt <= size)                                                                 \
            for (c = 0; c < ch; c++) acc[c] = NANMAX(x[f * ch + c], acc[c]);             \
        if (--cnt == 0) {                                                                \
            memcpy(y + out * ch, acc, ch * sizeof(T));                                   \
            out++;                                                                       \
            for (c = 0; c < ch; c++) acc[c] = -INFINITY;                                 \
            cnt = stride;                                                                \
        }                                                                                \
    }                                                                                    \
    *cntp = cnt;                                                                         \
    return out;                                                                          \
}                                                                                        \
size_t sd_slide_##SUFFIX(const T *x, size_t frames, size_t ch, size_t size, size_t stride, \
                         size_t *cntp, size_t *jp, T *buf, T *pb, T *pre, T *suf, T *y)  \
{                                                                                        \
    size_t cnt = *cntp, j = *jp, out = 0, f, c, i;                                       \
    for (f = 0; f < frames; f++) {                                                       \
        for (c = 0; c < ch; c++) {                                                       \
            T v = x[f * ch + c];                                                         \
            buf[c * size + j] = v;                                                       \
            pre[c] = NANMAX(v, pre[c]);                                                  \
            pb[c * size + j] = pre[c];                                                   \
        }                                                                                \
        if (--cnt == 0) {                                                                \
            for (c = 0; c < ch; c++)                                                     \
                y[out * ch + c] = NANMAX(suf[c * (size + 1) + j + 1], pre[c]);           \
            out++;                                                                       \
            cnt = stride;                                                                \
        }                                                                                \
        if (++j == size) {                                                               \
            for (c = 0; c < ch; c++) {                                                   \
                T *s = suf + c * (size + 1);                                             \
                for (i = size; i-- > 0;) s[i] = NANMAX(buf[c * size + i], s[i + 1]);     \
                pre[c] = -INFINITY;                                                      \
            }                                                                            \
            j = 0;                                                                       \
        }                                                                                \
    }                                                                                    \
    *cntp = cnt;                                                                         \
    *jp = j;                                                                             \
    return out;                                                                          \
}
SD_POOL_PLAIN(float, f32)
SD_POOL_PLAIN(double, f64)

#endif

/* Windows that started but did not complete: window m (oldest first) holds
 * the last size - cnt - m * stride frames.  Within the current block that
 * is a backward running maximum over buf; reaching into the previous block,
 * max(suffix of the previous block, pre). */
#define SD_SLIDE_FLUSH(NAME, T)                                                          \
size_t NAME(size_t ch, size_t size, size_t stride, size_t cnt, size_t j,                 \
            const T *buf, const T *pre, const T *suf, T *y)                              \
{                                                                                        \
    size_t count, m, c, have, len;                                                       \
    T run;                                                                               \
    if (cnt >= size) return 0;                                                           \
    count = (size - cnt - 1) / stride + 1;                                               \
    for (c = 0; c < ch; c++) {                                                           \
        const T *b = buf + c * size, *s = suf + c * (size + 1);                          \
        run = -INFINITY;                                                                 \
        have = 0;                                                                        \
        for (m = count; m-- > 0;) {                                                      \
            len = size - cnt - m * stride;                                               \
            if (len <= j) {                                                              \
                while (have < len) {                                                     \
                    have++;                                                              \
                    run = NANMAX(b[j - have], run);                                      \
                }                                                                        \
                y[m * ch + c] = run;                                                     \
            } else {                                                                     \
                y[m * ch + c] = NANMAX(s[size - (len - j)], pre[c]);                     \
            }                                                                            \
        }                                                                                \
    }                                                                                    \
    return count;                                                                        \
}

SD_SLIDE_FLUSH(sd_slide_flush_f32, float)
SD_SLIDE_FLUSH(sd_slide_flush_f64, double)
