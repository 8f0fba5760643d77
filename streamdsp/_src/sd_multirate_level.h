/* Template of the pooling kernels for one instruction-set level (sd_isa.h).
 * sd_multirate.c includes it once per level after defining
 *   SD_W     the level's vector width in bytes (64, 32 or 16)
 *   SD_LF    float lanes (SD_W / 4) and SD_LD double lanes (SD_W / 8), as literals
 *   SD_SFX   the suffix of the generated names
 *   SD_ATTR  the level's target attribute (or nothing)
 * and gets static functions pool_f32, pool_f64, slide_f32, slide_f64 + SD_SFX
 * (the contracts of sd_pool_* and sd_slide_* in sd_multirate.h).
 */

#ifndef SD_MULTIRATE_LEVEL_ONCE
#define SD_MULTIRATE_LEVEL_ONCE
/* lane shuffles: indices >= lanes take lanes of the second operand */
#  if defined(__clang__)
#    define SHUF(a, b, VI, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#  else
#    define SHUF(a, b, VI, ...) __builtin_shuffle(a, b, (VI){__VA_ARGS__})
#  endif
#  define BCASTV(VT, c) ((VT){0} + (c))
/* numpy's max on vectors: NaN in either operand gives NaN */
#  define VNANMAX(VT, VI, a, b) \
    ((VT)((((VI)(a)) & (((a) > (b)) | ((a) != (a)))) | (((VI)(b)) & ~(((a) > (b)) | ((a) != (a))))))
/* in-register inclusive scans (Hillis-Steele): log2(lanes) shuffles and maxima;
 * UP shifts lanes up (prefix), DN down (suffix), filling with `fill` (-inf) */
#define SD_UP1_16 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14
#define SD_DN1_16 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#define SD_UP2_16 16, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
#define SD_DN2_16 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 16
#define SD_UP4_16 16, 16, 16, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
#define SD_DN4_16 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16
#define SD_UP8_16 16, 16, 16, 16, 16, 16, 16, 16, 0, 1, 2, 3, 4, 5, 6, 7
#define SD_DN8_16 8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16
#define SD_LAST_16 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15
#define SD_FIRST_16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define SD_SCAN_UP_16(VT, VI, v, fill) v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_UP1_16)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_UP2_16)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_UP4_16)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_UP8_16));
#define SD_SCAN_DN_16(VT, VI, v, fill) v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_DN1_16)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_DN2_16)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_DN4_16)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_DN8_16));
#define SD_UP1_8 8, 0, 1, 2, 3, 4, 5, 6
#define SD_DN1_8 1, 2, 3, 4, 5, 6, 7, 8
#define SD_UP2_8 8, 8, 0, 1, 2, 3, 4, 5
#define SD_DN2_8 2, 3, 4, 5, 6, 7, 8, 8
#define SD_UP4_8 8, 8, 8, 8, 0, 1, 2, 3
#define SD_DN4_8 4, 5, 6, 7, 8, 8, 8, 8
#define SD_LAST_8 7, 7, 7, 7, 7, 7, 7, 7
#define SD_FIRST_8 0, 0, 0, 0, 0, 0, 0, 0
#define SD_SCAN_UP_8(VT, VI, v, fill) v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_UP1_8)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_UP2_8)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_UP4_8));
#define SD_SCAN_DN_8(VT, VI, v, fill) v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_DN1_8)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_DN2_8)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_DN4_8));
#define SD_UP1_4 4, 0, 1, 2
#define SD_DN1_4 1, 2, 3, 4
#define SD_UP2_4 4, 4, 0, 1
#define SD_DN2_4 2, 3, 4, 4
#define SD_LAST_4 3, 3, 3, 3
#define SD_FIRST_4 0, 0, 0, 0
#define SD_SCAN_UP_4(VT, VI, v, fill) v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_UP1_4)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_UP2_4));
#define SD_SCAN_DN_4(VT, VI, v, fill) v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_DN1_4)); v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_DN2_4));
#define SD_UP1_2 2, 0
#define SD_DN1_2 1, 2
#define SD_LAST_2 1, 1
#define SD_FIRST_2 0, 0
#define SD_SCAN_UP_2(VT, VI, v, fill) v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_UP1_2));
#define SD_SCAN_DN_2(VT, VI, v, fill) v = VNANMAX(VT, VI, v, SHUF(v, fill, VI, SD_DN1_2));
#endif

#define LV(name) SD_CAT(name, SD_SFX)
#define VF32 LV(vf32_)
#define VI32 LV(vi32_)
#define VF64 LV(vf64_)
#define VI64 LV(vi64_)

typedef float VF32 __attribute__((vector_size(SD_W)));
typedef int VI32 __attribute__((vector_size(SD_W)));
typedef double VF64 __attribute__((vector_size(SD_W)));
typedef long long VI64 __attribute__((vector_size(SD_W)));

#define SD_LEVEL_SCANS(SUFFIX, T, VT, VI, V)                                             \
/* maximum of n contiguous samples folded into m, two vectors of lanes at a time */     \
static inline SD_ATTR T LV(runmax_##SUFFIX)(const T *x, size_t n, T m)                   \
{                                                                                       \
    size_t i = 0, l;                                                                    \
    if (n >= 2 * V) {                                                                   \
        VT a, b, v;                                                                     \
        memcpy(&a, x, sizeof(VT));                                                      \
        memcpy(&b, x + V, sizeof(VT));                                                  \
        for (i = 2 * V; i + 2 * V <= n; i += 2 * V) {                                   \
            memcpy(&v, x + i, sizeof(VT));                                              \
            a = VNANMAX(VT, VI, v, a);                                                  \
            memcpy(&v, x + i + V, sizeof(VT));                                          \
            b = VNANMAX(VT, VI, v, b);                                                  \
        }                                                                               \
        a = VNANMAX(VT, VI, b, a);                                                      \
        for (l = 0; l < V; l++) m = NANMAX(a[l], m);                                    \
    }                                                                                   \
    for (; i < n; i++) m = NANMAX(x[i], m);                                             \
    return m;                                                                           \
}                                                                                       \
/* dst[i] = max(carry, src[0..i]); returns the new carry */                             \
static inline SD_ATTR T LV(prefix_max_##SUFFIX)(const T *src, T *dst, size_t n, T carry) \
{                                                                                       \
    const VT ninf = BCASTV(VT, -INFINITY);                                              \
    VT c = BCASTV(VT, carry), v;                                                        \
    size_t i = 0;                                                                       \
    for (; i + V <= n; i += V) {                                                        \
        memcpy(&v, src + i, sizeof(VT));                                                \
        SD_CAT(SD_SCAN_UP_, V)(VT, VI, v, ninf)                                         \
        v = VNANMAX(VT, VI, v, c);                                                      \
        memcpy(dst + i, &v, sizeof(VT));                                                \
        c = SHUF(v, v, VI, SD_CAT(SD_LAST_, V));                                        \
    }                                                                                   \
    carry = c[0];                                                                       \
    for (; i < n; i++) {                                                                \
        carry = NANMAX(src[i], carry);                                                  \
        dst[i] = carry;                                                                 \
    }                                                                                   \
    return carry;                                                                       \
}                                                                                       \
/* dst[i] = max(src[i..n-1], dst[n]) for i < n */                                       \
static inline SD_ATTR void LV(suffix_max_##SUFFIX)(const T *src, T *dst, size_t n)       \
{                                                                                       \
    const VT ninf = BCASTV(VT, -INFINITY);                                              \
    VT c, v;                                                                            \
    T carry = dst[n];                                                                   \
    size_t i = n;                                                                       \
    while (i % V) {                                                                     \
        i--;                                                                            \
        carry = NANMAX(src[i], carry);                                                  \
        dst[i] = carry;                                                                 \
    }                                                                                   \
    c = BCASTV(VT, carry);                                                              \
    while (i) {                                                                         \
        i -= V;                                                                         \
        memcpy(&v, src + i, sizeof(VT));                                                \
        SD_CAT(SD_SCAN_DN_, V)(VT, VI, v, ninf)                                         \
        v = VNANMAX(VT, VI, v, c);                                                      \
        memcpy(dst + i, &v, sizeof(VT));                                                \
        c = SHUF(v, v, VI, SD_CAT(SD_FIRST_, V));                                       \
    }                                                                                   \
}                                                                                       \
/* y[t * ys] = max(suf[t], pre[t]) for t < n */                                         \
static inline SD_ATTR void LV(window_max_##SUFFIX)(const T *suf, const T *pre, size_t n, \
                                                   T *y, size_t ys)                     \
{                                                                                       \
    size_t t = 0;                                                                       \
    VT a, b;                                                                            \
    if (ys == 1) {                                                                      \
        for (; t + V <= n; t += V) {                                                    \
            memcpy(&a, suf + t, sizeof(VT));                                            \
            memcpy(&b, pre + t, sizeof(VT));                                            \
            a = VNANMAX(VT, VI, a, b);                                                  \
            memcpy(y + t, &a, sizeof(VT));                                              \
        }                                                                               \
    }                                                                                   \
    for (; t < n; t++) y[t * ys] = NANMAX(suf[t], pre[t]);                              \
}                                                                                       \
                                                                                        \
/* Non-overlapping windows (stride >= size): skip the gap, fold the window's            \
 * frames into acc, emit when it completes. */                                          \
static SD_ATTR size_t LV(pool_##SUFFIX)(const T *x, size_t frames, size_t ch, size_t size, \
                                        size_t stride, size_t *cntp, T *acc, T *y)      \
{                                                                                       \
    size_t cnt = *cntp, out = 0, f = 0, n, i, c;                                        \
    while (f < frames) {                                                                \
        if (cnt > size) {                  /* in the gap before the next window */      \
            n = cnt - size < frames - f ? cnt - size : frames - f;                      \
            f += n;                                                                     \
            cnt -= n;                                                                   \
            continue;                                                                   \
        }                                                                               \
        n = cnt < frames - f ? cnt : frames - f;                                        \
        if (ch == 1) {                                                                  \
            acc[0] = LV(runmax_##SUFFIX)(x + f, n, acc[0]);                             \
        } else {                                                                        \
            for (i = 0; i < n; i++) {                                                   \
                const T *xf = x + (f + i) * ch;                                         \
                for (c = 0; c < ch; c++) acc[c] = NANMAX(xf[c], acc[c]);                \
            }                                                                           \
        }                                                                               \
        f += n;                                                                         \
        cnt -= n;                                                                       \
        if (cnt == 0) {                                                                 \
            memcpy(y + out * ch, acc, ch * sizeof(T));                                  \
            out++;                                                                      \
            for (c = 0; c < ch; c++) acc[c] = -INFINITY;                                \
            cnt = stride;                                                               \
        }                                                                               \
    }                                                                                   \
    *cntp = cnt;                                                                        \
    return out;                                                                         \
}                                                                                       \
                                                                                        \
/* Overlapping windows, one channel at a time (x and y strided by ch): copy the         \
 * frames of the current block into buf, running maxima into pb, emit                  \
 * max(suf[j + 1], pb[j]) at window ends, suffix maxima when a block completes. */      \
static SD_ATTR size_t LV(slide_##SUFFIX)(const T *x, size_t frames, size_t ch, size_t size, \
                                         size_t stride, size_t *cntp, size_t *jp, T *buf, \
                                         T *pb, T *pre, T *suf, T *y)                   \
{                                                                                       \
    size_t c, out = 0, cnt = *cntp, j = *jp;                                            \
    for (c = 0; c < ch; c++) {                                                          \
        T *b = buf + c * size, *pbc = pb + c * size, *s = suf + c * (size + 1);         \
        T p = pre[c];                                                                   \
        size_t f = 0, i, L;                                                             \
        cnt = *cntp;                                                                    \
        j = *jp;                                                                        \
        out = 0;                                                                        \
        while (f < frames) {                                                            \
            L = size - j < frames - f ? size - j : frames - f;                          \
            if (ch == 1) {                                                              \
                memcpy(b + j, x + f, L * sizeof(T));                                    \
            } else {                                                                    \
                for (i = 0; i < L; i++) b[j + i] = x[(f + i) * ch + c];                 \
            }                                                                           \
            p = LV(prefix_max_##SUFFIX)(b + j, pbc + j, L, p);                          \
            if (cnt <= L) {                /* windows end at block positions i */       \
                i = cnt - 1;                                                            \
                if (stride == 1) {                                                      \
                    LV(window_max_##SUFFIX)(s + j + i + 1, pbc + j + i, L - i,          \
                                            y + out * ch + c, ch);                      \
                    out += L - i;                                                       \
                    i = L - 1;                                                          \
                } else {                                                                \
                    for (; i < L; i += stride) {                                        \
                        y[out * ch + c] = NANMAX(s[j + i + 1], pbc[j + i]);             \
                        out++;                                                          \
                    }                                                                   \
                    i -= stride;                                                        \
                }                                                                       \
                cnt = stride - (L - 1 - i);                                             \
            } else {                                                                    \
                cnt -= L;                                                               \
            }                                                                           \
            j += L;                                                                     \
            f += L;                                                                     \
            if (j == size) {               /* block complete: its suffix maxima */      \
                LV(suffix_max_##SUFFIX)(b, s, size);                                    \
                p = -INFINITY;                                                          \
                j = 0;                                                                  \
            }                                                                           \
        }                                                                               \
        pre[c] = p;                                                                     \
    }                                                                                   \
    *cntp = cnt;                                                                        \
    *jp = j;                                                                            \
    return out;                                                                         \
}

SD_LEVEL_SCANS(f32, float, VF32, VI32, SD_LF)
SD_LEVEL_SCANS(f64, double, VF64, VI64, SD_LD)

#undef SD_LEVEL_SCANS
#undef VF32
#undef VI32
#undef VF64
#undef VI64
#undef LV
