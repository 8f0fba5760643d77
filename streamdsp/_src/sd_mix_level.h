/* Template of the mixing kernels for one instruction-set level (sd_isa.h).
 * sd_mix.c includes it once per level after defining
 *   SD_W     the level's vector width in bytes (64, 32 or 16)
 *   SD_SFX   the suffix of the generated names
 *   SD_ATTR  the level's target attribute (or nothing)
 * and gets static functions mix_f32, mix_f64, act_f32, act_f64 + SD_SFX.
 */

#define LV(name) SD_CAT(name, SD_SFX)
#define VF32 LV(vf32_)
#define VI32 LV(vi32_)
#define VF64 LV(vf64_)
#define VI64 LV(vi64_)

typedef float VF32 __attribute__((vector_size(SD_W)));
typedef int VI32 __attribute__((vector_size(SD_W)));
typedef double VF64 __attribute__((vector_size(SD_W)));
typedef long long VI64 __attribute__((vector_size(SD_W)));

#define BCAST(VT, c) ((VT){0} + (c))
/* lanes of a where mask is set, else lanes of b (mask from a comparison) */
#define SELECT(VT, VI, mask, a, b) ((VT)(((VI)(a) & (mask)) | ((VI)(b) & ~(mask))))

/* max(v, 0) that keeps NaN, as numpy.maximum does. */
static inline SD_ATTR VF32 LV(relu_f32_)(VF32 v) { return (VF32)((VI32)v & ~(v < 0.0f)); }
static inline SD_ATTR VF64 LV(relu_f64_)(VF64 v) { return (VF64)((VI64)v & ~(v < 0.0)); }

/* tanh after Cephes (tanhf.c, tanh.c, expf.c, exp.c; S. L. Moshier, public
 * domain), branch-free: an odd polynomial/rational for |x| < 0.625 and
 * 1 - 2 / (exp(2|x|) + 1) elsewhere, both computed and blended.  |x| is
 * clamped where tanh rounds to 1, so exp never overflows.  exp reduces by
 * n = rint(t / ln 2) (the 1.5 * 2^p trick leaves n in the low bits without
 * a float-to-int conversion) and scales by 2^n through the exponent bits.
 * Within 2 ulp of np.tanh; NaN propagates. */
static inline SD_ATTR VF32 LV(tanh_f32_)(VF32 x)
{
    const VF32 magic = BCAST(VF32, 12582912.0f);          /* 1.5 * 2^23 */
    VI32 sign = (VI32)x & (int)0x80000000;
    VF32 a = (VF32)((VI32)x & 0x7fffffff);
    VF32 z = x * x;
    VF32 small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z
                   + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    VF32 t = SELECT(VF32, VI32, a > 10.0f, BCAST(VF32, 10.0f), a);  /* tanhf(10) rounds to 1 */
    t = t + t;
    VF32 nm = t * 1.44269504088896341f + magic;
    VF32 n = nm - magic;
    VI32 ni = (VI32)nm - (VI32)magic;
    VF32 r = t - n * 0.693359375f + n * 2.12194440e-4f;
    VF32 p = (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r
                + 4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f) * (r * r) + r + 1.0f;
    VF32 e = p * (VF32)((ni + 127) << 23);
    VF32 large = (VF32)((VI32)(1.0f - 2.0f / (e + 1.0f)) | sign);
    return SELECT(VF32, VI32, a < 0.625f, small, large);
}

static inline SD_ATTR VF64 LV(tanh_f64_)(VF64 x)
{
    const VF64 magic = BCAST(VF64, 6755399441055744.0);    /* 1.5 * 2^52 */
    VI64 sign = (VI64)x & (long long)0x8000000000000000ULL;
    VF64 a = (VF64)((VI64)x & 0x7fffffffffffffffLL);
    VF64 s = x * x;
    VF64 num = (-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s
               - 1.61468768441708447952e3;
    VF64 den = ((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s
               + 4.84406305325125486048e3;
    VF64 small = x + x * s * (num / den);
    VF64 t = SELECT(VF64, VI64, a > 20.0, BCAST(VF64, 20.0), a);    /* tanh(20) rounds to 1 */
    t = t + t;
    VF64 nm = t * 1.4426950408889634073599 + magic;
    VF64 n = nm - magic;
    VI64 ni = (VI64)nm - (VI64)magic;
    VF64 r = t - n * 6.93145751953125e-1 - n * 1.42860682030941723212e-6;
    VF64 rr = r * r;
    VF64 px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
                   + 9.99999999999999999910e-1);
    VF64 q = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
              + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
    VF64 e = (1.0 + 2.0 * (px / (q - px))) * (VF64)((ni + 1023) << 52);
    VF64 large = (VF64)((VI64)(1.0 - 2.0 / (e + 1.0)) | sign);
    return SELECT(VF64, VI64, a < 0.625, small, large);
}

/* SD_MIX_ROWS frames x one vector of outputs in registers; each weight
 * vector loaded once per row block, each input sample a broadcast. */
#define SD_MIX_KERNEL(NAME, T, VT, RELU, TANH)                                           \
static SD_ATTR void NAME(const T *SD_RESTRICT w, const T *SD_RESTRICT bias, size_t nin,  \
                         size_t nout, size_t ldw, const T *SD_RESTRICT x, size_t frames, \
                         T *SD_RESTRICT y, int act)                                      \
{                                                                                        \
    enum { V = SD_W / sizeof(T) };                                                       \
    size_t f0, j0, k, r;                                                                 \
    for (f0 = 0; f0 < frames; f0 += SD_MIX_ROWS) {                                       \
        const T *xr[SD_MIX_ROWS];                                                        \
        size_t rows = frames - f0 < SD_MIX_ROWS ? frames - f0 : SD_MIX_ROWS;             \
        /* a short last block recomputes its last row rather than read past x */         \
        for (r = 0; r < SD_MIX_ROWS; r++)                                                \
            xr[r] = x + (f0 + (r < rows ? r : rows - 1)) * nin;                          \
        for (j0 = 0; j0 < nout; j0 += V) {                                               \
            VT acc[SD_MIX_ROWS];                                                         \
            const T *wk = w + j0;                                                        \
            const VT b = *(const VT *)(bias + j0);                                       \
            size_t m = nout - j0 < V ? nout - j0 : V;                                    \
            for (r = 0; r < SD_MIX_ROWS; r++) acc[r] = b;                                \
            for (k = 0; k < nin; k++, wk += ldw) {                                       \
                const VT wv = *(const VT *)wk;                                           \
                for (r = 0; r < SD_MIX_ROWS; r++) acc[r] += xr[r][k] * wv;               \
            }                                                                            \
            if (act == SD_ACT_RELU) {                                                    \
                for (r = 0; r < SD_MIX_ROWS; r++) acc[r] = RELU(acc[r]);                 \
            } else if (act == SD_ACT_TANH) {                                             \
                for (r = 0; r < SD_MIX_ROWS; r++) acc[r] = TANH(acc[r]);                 \
            }                                                                            \
            if (m == V) {                                                                \
                for (r = 0; r < rows; r++)                                               \
                    memcpy(y + (f0 + r) * nout + j0, &acc[r], sizeof(VT));               \
            } else {                                                                     \
                for (r = 0; r < rows; r++)                                               \
                    memcpy(y + (f0 + r) * nout + j0, &acc[r], m * sizeof(T));            \
            }                                                                            \
        }                                                                                \
    }                                                                                    \
}

#define SD_ACT_KERNEL(NAME, T, VT, RELU, TANH)                                           \
static SD_ATTR void NAME(T *y, size_t n, int act)                                        \
{                                                                                        \
    enum { V = SD_W / sizeof(T) };                                                       \
    size_t i;                                                                            \
    VT v;                                                                                \
    for (i = 0; i + V <= n; i += V) {                                                    \
        memcpy(&v, y + i, sizeof(VT));                                                   \
        v = act == SD_ACT_RELU ? RELU(v) : TANH(v);                                      \
        memcpy(y + i, &v, sizeof(VT));                                                   \
    }                                                                                    \
    if (i < n) {                                                                         \
        v = (VT){0};                                                                     \
        memcpy(&v, y + i, (n - i) * sizeof(T));                                          \
        v = act == SD_ACT_RELU ? RELU(v) : TANH(v);                                      \
        memcpy(y + i, &v, (n - i) * sizeof(T));                                          \
    }                                                                                    \
}

SD_MIX_KERNEL(LV(mix_f32), float, VF32, LV(relu_f32_), LV(tanh_f32_))
SD_MIX_KERNEL(LV(mix_f64), double, VF64, LV(relu_f64_), LV(tanh_f64_))
SD_ACT_KERNEL(LV(act_f32), float, VF32, LV(relu_f32_), LV(tanh_f32_))
SD_ACT_KERNEL(LV(act_f64), double, VF64, LV(relu_f64_), LV(tanh_f64_))

#undef SD_MIX_KERNEL
#undef SD_ACT_KERNEL
#undef SELECT
#undef BCAST
#undef VF32
#undef VI32
#undef VF64
#undef VI64
#undef LV
