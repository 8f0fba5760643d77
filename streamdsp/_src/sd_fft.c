/* sd_fft.c - compact real FFT, power-of-two sizes, float32 and float64.
 *
 * Algorithm (see sd_fft.h for the API and the packed layout)
 * ---------------------------------------------------------
 * An n-point real FFT is done as an m = n/2 point complex FFT of
 * z[j] = x[2j] + i x[2j+1], followed by a post-processing pass that splits
 * Z into the spectra of the even and odd samples and recombines them.
 *
 * The complex FFT works on split re/im arrays and never reorders data:
 *   - an optional radix-2 stage (when log2(m / bs) is odd), then radix-4
 *     decimation-in-frequency stages down to blocks of bs elements (bs = 16;
 *     8 for m = 32, 64).  Their inner loops run over L/4 >= bs consecutive
 *     elements, stride 1, with per-stage contiguous twiddle tables, so they
 *     vectorise cleanly.  The first stage reads the interleaved x directly.
 *     These stages leave the blocks in bit-reversed order.
 *   - one block pass doing a complete bs-point DFT on every block (the
 *     small-span stages).  The kernels are decimation-in-time flow graphs
 *     that read the block through a bit-reversed renaming of registers and
 *     write it in natural order: gcc vectorises that shape across blocks
 *     about twice as well as the DIF one.
 * So packed position p = bs*B + t holds bin (m/bs)*t + bitrev(B) (m < 16:
 * plain radix-2, position p holds bin bitrev(p)).  The layout depends on n
 * only: not on the dtype, the CPU or the code path.
 *
 * The real post-processing pairs bin k with bin m-k.  In this layout the
 * partner of a position p >= bs is the mirror image of p inside its octave
 * [2^j, 2^(j+1)), and inside the first block t pairs with bs-t; so the pass
 * is a stride-1 loop against a reversed stride-1 loop, done in place, with
 * a per-position twiddle table.
 *
 * The inverse runs the exact transposes: pre-processing (into scratch held
 * by the plan, so the caller's spectrum is left untouched), the block pass,
 * radix-4 decimation-in-time stages and the optional radix-2 stage, the
 * last one writing the interleaved x.  It is unscaled (n * x).
 *
 * Two implementations of the block pass: the plain C loop (auto-vectorised;
 * best with AVX-512, where gcc's interleaving permutes are cheap, and on
 * SSE2) and, with GCC/Clang on x86-64, an explicit one on 32-byte
 * vector-extension types (8 floats / 4 doubles) that transposes groups of
 * blocks with unpack/shuffle patterns, runs the same DFT kernel on whole
 * vectors and transposes back: 20-30% faster where the AVX2 (x86-64-v3)
 * clone runs, where gcc's own interleaving code is poor.  The plan picks one
 * from the CPU when it is made; SD_FFT_BLOCKS=c|vec in the environment
 * (read by *_new) forces one, for tests and benchmarks.  Both give the same
 * layout and the same results up to rounding.
 *
 * The file instantiates itself through self-includes: part 1 (the DFT
 * kernels) for float, double and the two vector types, part 2 (stages,
 * plans and the API) for float and double.
 */
#ifndef SD_FFT_PART

#if defined(__GNUC__) && !defined(__clang__)
/* -std=c11 switches FMA contraction off; the butterflies want it (it does
 * not change results beyond rounding). */
#pragma GCC optimize("fp-contract=fast")
#endif
#if defined(__clang__)
#pragma clang fp contract(fast)
#endif

#if !defined(_MSC_VER) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200112L
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_fft.h"
#include "sd_simd.h"

#if defined(_MSC_VER)
#include <malloc.h>
#define SD_INLINE static __forceinline
#elif defined(__GNUC__) || defined(__clang__)
#define SD_INLINE static inline __attribute__((always_inline))
#else
#define SD_INLINE static inline
#endif

#define SD_FFT_MAXN ((size_t)1 << 30)
#define SD_FFT_MAXST 16

static const double sd_two_pi = 6.283185307179586476925286766559;

static void *sd_amalloc(size_t size)
{
#if defined(_MSC_VER)
    return _aligned_malloc(size, SD_ALIGN);
#else
    void *p = NULL;
    if (posix_memalign(&p, SD_ALIGN, size) != 0)
        return NULL;
    return p;
#endif
}

static void sd_afree(void *p)
{
#if defined(_MSC_VER)
    _aligned_free(p);
#else
    free(p);
#endif
}

/* cos and sin of 2 pi k / n (n a power of two), reduced to the first octant
 * so that the tables are accurate to about an ulp. */
static void sd_cis(size_t k, size_t n, double *c, double *s)
{
    int neg_s = 0, neg_c = 0, swap = 0;
    double a, cc, ss, t;
    k &= n - 1;
    if (2 * k > n) { k = n - k; neg_s = 1; }        /* angle in [0, pi]   */
    if (4 * k > n) { k = n / 2 - k; neg_c = 1; }    /* angle in [0, pi/2] */
    if (8 * k > n) { k = n / 4 - k; swap = 1; }     /* angle in [0, pi/4] */
    a = sd_two_pi * (double)k / (double)n;
    cc = cos(a);
    ss = sin(a);
    if (swap) { t = cc; cc = ss; ss = t; }
    *c = neg_c ? -cc : cc;
    *s = neg_s ? -ss : ss;
}

static size_t sd_bitrev(size_t v, unsigned bits)
{
    size_t r = 0;
    unsigned b;
    for (b = 0; b < bits; b++) {
        r = (r << 1) | (v & 1);
        v >>= 1;
    }
    return r;
}

static unsigned sd_log2(size_t n)
{
    unsigned l = 0;
    while (((size_t)1 << l) < n)
        l++;
    return l;
}

/* bit reversal of 4 and 3 bits: block kernels read their input through
 * these (a free renaming of registers, no data movement) */
static const unsigned char sd_br16[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
static const unsigned char sd_br8[8] = {0, 4, 2, 6, 1, 5, 3, 7};


/* ---- vector-extension helpers (GCC/Clang, x86-64) --------------------------- */

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(SD_FFT_NO_VEXT)
#define SD_FFT_VEXT 1
#pragma GCC diagnostic ignored "-Wpsabi"  /* vector types only cross always-inline calls */
typedef float sd_v8s __attribute__((vector_size(32)));
typedef double sd_v4d __attribute__((vector_size(32)));
typedef int sd_v8i __attribute__((vector_size(32)));
typedef long long sd_v4l __attribute__((vector_size(32)));
#if defined(__clang__)
#define SD_SH8(a, b, ...) __builtin_shufflevector((a), (b), __VA_ARGS__)
#define SD_SH4(a, b, ...) __builtin_shufflevector((a), (b), __VA_ARGS__)
#else
#define SD_SH8(a, b, ...) __builtin_shuffle((a), (b), (sd_v8i){__VA_ARGS__})
#define SD_SH4(a, b, ...) __builtin_shuffle((a), (b), (sd_v4l){__VA_ARGS__})
#endif

/* In-place transpose of the 8x8 float matrix with rows v[0], v[s], .., v[7s]:
 * unpack within 128-bit halves, pair-shuffle, then swap 128-bit halves. */
SD_INLINE void sd_tr8s(sd_v8s *v, int s)
{
    sd_v8s t0 = SD_SH8(v[0], v[s], 0, 8, 1, 9, 4, 12, 5, 13);
    sd_v8s t1 = SD_SH8(v[0], v[s], 2, 10, 3, 11, 6, 14, 7, 15);
    sd_v8s t2 = SD_SH8(v[2 * s], v[3 * s], 0, 8, 1, 9, 4, 12, 5, 13);
    sd_v8s t3 = SD_SH8(v[2 * s], v[3 * s], 2, 10, 3, 11, 6, 14, 7, 15);
    sd_v8s t4 = SD_SH8(v[4 * s], v[5 * s], 0, 8, 1, 9, 4, 12, 5, 13);
    sd_v8s t5 = SD_SH8(v[4 * s], v[5 * s], 2, 10, 3, 11, 6, 14, 7, 15);
    sd_v8s t6 = SD_SH8(v[6 * s], v[7 * s], 0, 8, 1, 9, 4, 12, 5, 13);
    sd_v8s t7 = SD_SH8(v[6 * s], v[7 * s], 2, 10, 3, 11, 6, 14, 7, 15);
    sd_v8s u0 = SD_SH8(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    sd_v8s u1 = SD_SH8(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
    sd_v8s u2 = SD_SH8(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
    sd_v8s u3 = SD_SH8(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
    sd_v8s u4 = SD_SH8(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
    sd_v8s u5 = SD_SH8(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
    sd_v8s u6 = SD_SH8(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
    sd_v8s u7 = SD_SH8(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
    v[0] = SD_SH8(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);
    v[4 * s] = SD_SH8(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);
    v[s] = SD_SH8(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);
    v[5 * s] = SD_SH8(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);
    v[2 * s] = SD_SH8(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);
    v[6 * s] = SD_SH8(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);
    v[3 * s] = SD_SH8(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);
    v[7 * s] = SD_SH8(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);
}

/* In-place transpose of the 4x4 double matrix with rows v[0], v[s], v[2s], v[3s]. */
SD_INLINE void sd_tr4d(sd_v4d *v, int s)
{
    sd_v4d t0 = SD_SH4(v[0], v[s], 0, 4, 2, 6);
    sd_v4d t1 = SD_SH4(v[0], v[s], 1, 5, 3, 7);
    sd_v4d t2 = SD_SH4(v[2 * s], v[3 * s], 0, 4, 2, 6);
    sd_v4d t3 = SD_SH4(v[2 * s], v[3 * s], 1, 5, 3, 7);
    v[0] = SD_SH4(t0, t2, 0, 1, 4, 5);
    v[2 * s] = SD_SH4(t0, t2, 2, 3, 6, 7);
    v[s] = SD_SH4(t1, t3, 0, 1, 4, 5);
    v[3 * s] = SD_SH4(t1, t3, 2, 3, 6, 7);
}

/* Use the explicit block pass?  Where the x86-64-v3 (AVX2) clone runs: AVX2
 * and FMA but not the AVX-512 set of x86-64-v4.  (Feature names rather than
 * the "x86-64-v3" level names, which older compilers lack; if the guess is
 * off for an odd CPU only speed changes, both paths give the same results.)
 * SD_FFT_BLOCKS=c|vec overrides (tests, benchmarks). */
static int sd_fft_pick_vext(void)
{
    const char *e = getenv("SD_FFT_BLOCKS");
    int v4;
    if (e && strcmp(e, "vec") == 0)
        return 1;
    if (e && strcmp(e, "c") == 0)
        return 0;
    v4 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
         && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
         && __builtin_cpu_supports("avx512cd");
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !v4;
}
#else
#define SD_FFT_VEXT 0
static int sd_fft_pick_vext(void) { return 0; }
#endif

/* ---- instantiations ------------------------------------------------------ */

#define SD_FFT_PART 1
#define KT float
#define KS float
#define KVEC 0
#define K(name) name##_f32
#include "sd_fft.c"
#undef KT
#undef KS
#undef KVEC
#undef K
#define KT double
#define KS double
#define KVEC 0
#define K(name) name##_f64
#include "sd_fft.c"
#undef KT
#undef KS
#undef KVEC
#undef K
#if SD_FFT_VEXT
#define KT sd_v8s
#define KS float
#define KVEC 1
#define K(name) name##_v8s
#include "sd_fft.c"
#undef KT
#undef KS
#undef KVEC
#undef K
#define KT sd_v4d
#define KS double
#define KVEC 1
#define K(name) name##_v4d
#include "sd_fft.c"
#undef KT
#undef KS
#undef KVEC
#undef K
#endif
#undef SD_FFT_PART

#define SD_FFT_PART 2
#define T float
#define F(name) name##_f32
#define API(name) sd_fft_f32_##name
#define PLAN sd_fft_f32
#define VT sd_v8s
#define VL 8
#define VK(name) name##_v8s
#define VTR sd_tr8s
#include "sd_fft.c"
#undef T
#undef F
#undef API
#undef PLAN
#undef VT
#undef VL
#undef VK
#undef VTR
#define T double
#define F(name) name##_f64
#define API(name) sd_fft_f64_##name
#define PLAN sd_fft_f64
#define VT sd_v4d
#define VL 4
#define VK(name) name##_v4d
#define VTR sd_tr4d
#include "sd_fft.c"
#undef T
#undef F
#undef API
#undef PLAN
#undef VT
#undef VL
#undef VK
#undef VTR

#elif SD_FFT_PART == 1 /* ========== DFT kernels (KT data, KS scalar, K names) == */

/* ---- butterflies ------------------------------------------------------ */

#if !KVEC   /* by-value butterflies: scalar types only (the stage loops) */

/* radix-4 DIF butterfly without twiddles.  Outputs in bit-reversed quarter
 * order: o0 -> k=0 mod 4, o1 -> k=2, o2 -> k=1, o3 -> k=3. */
SD_INLINE void K(bf4f)(KT a0r, KT a0i, KT a1r, KT a1i, KT a2r, KT a2i, KT a3r, KT a3i,
                       KT *o0r, KT *o0i, KT *o1r, KT *o1i, KT *o2r, KT *o2i, KT *o3r, KT *o3i)
{
    KT t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i;
    KT t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i;
    *o0r = t0r + t2r; *o0i = t0i + t2i;
    *o1r = t0r - t2r; *o1i = t0i - t2i;
    *o2r = t1r + t3i; *o2i = t1i - t3r;   /* t1 - i t3 */
    *o3r = t1r - t3i; *o3i = t1i + t3r;   /* t1 + i t3 */
}

/* Transpose of bf4f (times 4): inputs in the order bf4f writes them. */
SD_INLINE void K(bf4i)(KT p0r, KT p0i, KT p1r, KT p1i, KT p2r, KT p2i, KT p3r, KT p3i,
                       KT *a0r, KT *a0i, KT *a1r, KT *a1i, KT *a2r, KT *a2i, KT *a3r, KT *a3i)
{
    /* p0 = u0 (k=0), p1 = u2 (k=2), p2 = u1 (k=1), p3 = u3 (k=3) */
    KT Ar = p0r + p1r, Ai = p0i + p1i, Br = p0r - p1r, Bi = p0i - p1i;
    KT Cr = p2r + p3r, Ci = p2i + p3i, Dr = p2r - p3r, Di = p2i - p3i;
    *a0r = Ar + Cr; *a0i = Ai + Ci;
    *a2r = Ar - Cr; *a2i = Ai - Ci;
    *a1r = Br - Di; *a1i = Bi + Dr;       /* B + i D */
    *a3r = Br + Di; *a3i = Bi - Dr;       /* B - i D */
}

#endif /* !KVEC */

/* In-place radix-4 DIT butterfly on the slots a, b, c, d of r[], i[] (the
 * input order of bf4i: k = 0, 2, 1, 3), natural-order outputs back into
 * a, b, c, d.  fwd selects the forward (-i) butterfly, which is bf4i with
 * outputs 1 and 3 swapped.  Works on scalars and on vector types (nothing
 * is passed by value). */
SD_INLINE void K(bfx)(KT *r, KT *i, int a, int b, int c, int d, int fwd)
{
    KT p0r = r[a], p0i = i[a], p1r = r[b], p1i = i[b];
    KT p2r = r[c], p2i = i[c], p3r = r[d], p3i = i[d];
    KT Ar = p0r + p1r, Ai = p0i + p1i, Br = p0r - p1r, Bi = p0i - p1i;
    KT Cr = p2r + p3r, Ci = p2i + p3i, Dr = p2r - p3r, Di = p2i - p3i;
    r[a] = Ar + Cr; i[a] = Ai + Ci;
    r[c] = Ar - Cr; i[c] = Ai - Ci;
    if (fwd) {
        r[d] = Br - Di; i[d] = Bi + Dr;
        r[b] = Br + Di; i[b] = Bi - Dr;
    } else {
        r[b] = Br - Di; i[b] = Bi + Dr;
        r[d] = Br + Di; i[d] = Bi - Dr;
    }
}

/* y *= w */
SD_INLINE void K(cmul)(KT *yr, KT *yi, KS wr, KS wi)
{
    KT a = *yr, b = *yi;
    *yr = a * wr - b * wi;
    *yi = a * wi + b * wr;
}

/* y *= conj(w) */
SD_INLINE void K(cmulc)(KT *yr, KT *yi, KS wr, KS wi)
{
    KT a = *yr, b = *yi;
    *yr = a * wr + b * wi;
    *yi = b * wr - a * wi;
}

/* ---- block DFTs (the small-span stages) ------------------------------------
 *
 * The last log2(Bs) stages (Bs = 16, or 8 for m = 32, 64) are one pass doing
 * a complete Bs-point DFT on each block of Bs consecutive elements; the
 * compiler vectorises it across blocks with interleaving permutes.  The
 * kernels are decimation-in-time flow graphs: they read their block in
 * bit-reversed order (renaming on load, free) and write natural order.  That
 * shape vectorises about twice as fast with gcc as the DIF one, and natural
 * order inside the block is what the layout (see bins) wants anyway.
 * Their radix-4 butterflies are bfx (in place on array slots), forward or
 * inverse sign.  The same kernels run on scalars (plain C pass) and on
 * whole vectors (explicit pass, see SD_VBLOCK_PASS).
 */

#define SD_C1 ((KS)0.92387953251128675613)  /* cos(pi/8) */
#define SD_S1 ((KS)0.38268343236508977173)  /* sin(pi/8) */
#define SD_H ((KS)0.70710678118654752440)   /* sqrt(1/2) */

/* forward 16-point DFT, bit-reversed input, natural output, in place */
SD_INLINE void K(dft16f)(KT *r, KT *i)
{
    int s;
    for (s = 0; s < 16; s += 4)
        K(bfx)(r, i, s, s + 1, s + 2, s + 3, 1);
    K(bfx)(r, i, 0, 4, 8, 12, 1);
    K(cmul)(&r[5], &i[5], SD_H, -SD_H);        /* W16^2 */
    K(cmul)(&r[9], &i[9], SD_C1, -SD_S1);      /* W16^1 */
    K(cmul)(&r[13], &i[13], SD_S1, -SD_C1);    /* W16^3 */
    K(bfx)(r, i, 1, 5, 9, 13, 1);
    { KT t = r[6]; r[6] = i[6]; i[6] = -t; }     /* W16^4 = -i */
    K(cmul)(&r[10], &i[10], SD_H, -SD_H);      /* W16^2 */
    K(cmul)(&r[14], &i[14], -SD_H, -SD_H);     /* W16^6 */
    K(bfx)(r, i, 2, 6, 10, 14, 1);
    K(cmul)(&r[7], &i[7], -SD_H, -SD_H);       /* W16^6 */
    K(cmul)(&r[11], &i[11], SD_S1, -SD_C1);    /* W16^3 */
    K(cmul)(&r[15], &i[15], -SD_C1, SD_S1);    /* W16^9 */
    K(bfx)(r, i, 3, 7, 11, 15, 1);
}

/* inverse (unscaled) 16-point DFT, bit-reversed input, natural output */
SD_INLINE void K(dft16i)(KT *r, KT *i)
{
    int s;
    for (s = 0; s < 16; s += 4)
        K(bfx)(r, i, s, s + 1, s + 2, s + 3, 0);
    K(bfx)(r, i, 0, 4, 8, 12, 0);
    K(cmulc)(&r[5], &i[5], SD_H, -SD_H);
    K(cmulc)(&r[9], &i[9], SD_C1, -SD_S1);
    K(cmulc)(&r[13], &i[13], SD_S1, -SD_C1);
    K(bfx)(r, i, 1, 5, 9, 13, 0);
    { KT t = r[6]; r[6] = -i[6]; i[6] = t; }     /* times conj(-i) = i */
    K(cmulc)(&r[10], &i[10], SD_H, -SD_H);
    K(cmulc)(&r[14], &i[14], -SD_H, -SD_H);
    K(bfx)(r, i, 2, 6, 10, 14, 0);
    K(cmulc)(&r[7], &i[7], -SD_H, -SD_H);
    K(cmulc)(&r[11], &i[11], SD_S1, -SD_C1);
    K(cmulc)(&r[15], &i[15], -SD_C1, SD_S1);
    K(bfx)(r, i, 3, 7, 11, 15, 0);
}

/* forward 8-point DFT, bit-reversed input, natural output */
SD_INLINE void K(dft8f)(KT *r, KT *i)
{
    int j;
    K(bfx)(r, i, 0, 1, 2, 3, 1);
    K(bfx)(r, i, 4, 5, 6, 7, 1);
    K(cmul)(&r[5], &i[5], SD_H, -SD_H);        /* W8^1 */
    { KT t = r[6]; r[6] = i[6]; i[6] = -t; }     /* W8^2 = -i */
    K(cmul)(&r[7], &i[7], -SD_H, -SD_H);       /* W8^3 */
    for (j = 0; j < 4; j++) {
        KT ar = r[j], ai = i[j], br = r[j + 4], bi = i[j + 4];
        r[j] = ar + br; i[j] = ai + bi;
        r[j + 4] = ar - br; i[j + 4] = ai - bi;
    }
}

/* inverse 8-point DFT, bit-reversed input, natural output */
SD_INLINE void K(dft8i)(KT *r, KT *i)
{
    int j;
    K(bfx)(r, i, 0, 1, 2, 3, 0);
    K(bfx)(r, i, 4, 5, 6, 7, 0);
    K(cmulc)(&r[5], &i[5], SD_H, -SD_H);
    { KT t = r[6]; r[6] = -i[6]; i[6] = t; }
    K(cmulc)(&r[7], &i[7], -SD_H, -SD_H);
    for (j = 0; j < 4; j++) {
        KT ar = r[j], ai = i[j], br = r[j + 4], bi = i[j + 4];
        r[j] = ar + br; i[j] = ai + bi;
        r[j + 4] = ar - br; i[j + 4] = ai - bi;
    }
}

#undef SD_C1
#undef SD_S1
#undef SD_H

#else /* ========== SD_FFT_PART == 2: stages, plans, API (T, F, API, PLAN, VT..) == */

struct PLAN {
    size_t n, m;
    unsigned lg;        /* log2(m) */
    unsigned has_r2;    /* first forward stage is radix-2 over L = m */
    unsigned n4;        /* number of radix-4 stages */
    size_t bs;          /* block size of the last pass (16 or 8); 2 for m < 16 */
    T *w2r, *w2i;       /* radix-2 twiddles W_m^j, j < m/2 */
    T *w4[SD_FFT_MAXST][6]; /* stage s: W_L^j, W_L^2j, W_L^3j (re, im), j < L/4 */
    T *ur, *ui;         /* post-processing U = -i W_n^k / 2 (see post) */
    T *sr, *si;         /* inverse scratch, m each */
    T *tr, *ti;         /* small sizes (m < 16): W_m^j, j < m/2 */
    int vext;           /* block pass: explicit vector version (see top) */
    void *mem;
};

/* ---- radix-2 stage over L = m (first forward / last inverse) ------------ */

SD_INLINE void F(r2f_x)(size_t h, const T *SD_RESTRICT x,
                        T *SD_RESTRICT r0, T *SD_RESTRICT i0,
                        T *SD_RESTRICT r1, T *SD_RESTRICT i1,
                        const T *SD_RESTRICT wr, const T *SD_RESTRICT wi)
{
    const T *x1 = x + 2 * h;
    size_t j;
    for (j = 0; j < h; j++) {
        T ar = x[2 * j], ai = x[2 * j + 1], br = x1[2 * j], bi = x1[2 * j + 1];
        T dr = ar - br, di = ai - bi;
        r0[j] = ar + br;
        i0[j] = ai + bi;
        r1[j] = dr * wr[j] - di * wi[j];
        i1[j] = dr * wi[j] + di * wr[j];
    }
}

SD_INLINE void F(r2i_x)(size_t h, T *SD_RESTRICT x,
                        const T *SD_RESTRICT r0, const T *SD_RESTRICT i0,
                        const T *SD_RESTRICT r1, const T *SD_RESTRICT i1,
                        const T *SD_RESTRICT wr, const T *SD_RESTRICT wi)
{
    T *x1 = x + 2 * h;
    size_t j;
    for (j = 0; j < h; j++) {
        T ar = r0[j], ai = i0[j];
        T br = r1[j] * wr[j] + i1[j] * wi[j];
        T bi = i1[j] * wr[j] - r1[j] * wi[j];
        x[2 * j] = ar + br;
        x[2 * j + 1] = ai + bi;
        x1[2 * j] = ar - br;
        x1[2 * j + 1] = ai - bi;
    }
}

/* ---- radix-4 stages --------------------------------------------------- */

SD_INLINE void F(r4f_blk)(size_t q,
                          T *SD_RESTRICT r0, T *SD_RESTRICT i0, T *SD_RESTRICT r1, T *SD_RESTRICT i1,
                          T *SD_RESTRICT r2, T *SD_RESTRICT i2, T *SD_RESTRICT r3, T *SD_RESTRICT i3,
                          const T *SD_RESTRICT w1r, const T *SD_RESTRICT w1i,
                          const T *SD_RESTRICT w2r, const T *SD_RESTRICT w2i,
                          const T *SD_RESTRICT w3r, const T *SD_RESTRICT w3i)
{
    size_t j;
    for (j = 0; j < q; j++) {
        T o0r, o0i, o1r, o1i, o2r, o2i, o3r, o3i;
        F(bf4f)(r0[j], i0[j], r1[j], i1[j], r2[j], i2[j], r3[j], i3[j],
                &o0r, &o0i, &o1r, &o1i, &o2r, &o2i, &o3r, &o3i);
        F(cmul)(&o1r, &o1i, w2r[j], w2i[j]);
        F(cmul)(&o2r, &o2i, w1r[j], w1i[j]);
        F(cmul)(&o3r, &o3i, w3r[j], w3i[j]);
        r0[j] = o0r; i0[j] = o0i;
        r1[j] = o1r; i1[j] = o1i;
        r2[j] = o2r; i2[j] = o2i;
        r3[j] = o3r; i3[j] = o3i;
    }
}

SD_INLINE void F(r4f_x)(size_t q, const T *SD_RESTRICT x,
                        T *SD_RESTRICT r0, T *SD_RESTRICT i0, T *SD_RESTRICT r1, T *SD_RESTRICT i1,
                        T *SD_RESTRICT r2, T *SD_RESTRICT i2, T *SD_RESTRICT r3, T *SD_RESTRICT i3,
                        const T *SD_RESTRICT w1r, const T *SD_RESTRICT w1i,
                        const T *SD_RESTRICT w2r, const T *SD_RESTRICT w2i,
                        const T *SD_RESTRICT w3r, const T *SD_RESTRICT w3i)
{
    const T *x1 = x + 2 * q, *x2 = x + 4 * q, *x3 = x + 6 * q;
    size_t j;
    for (j = 0; j < q; j++) {
        T o0r, o0i, o1r, o1i, o2r, o2i, o3r, o3i;
        F(bf4f)(x[2 * j], x[2 * j + 1], x1[2 * j], x1[2 * j + 1],
                x2[2 * j], x2[2 * j + 1], x3[2 * j], x3[2 * j + 1],
                &o0r, &o0i, &o1r, &o1i, &o2r, &o2i, &o3r, &o3i);
        F(cmul)(&o1r, &o1i, w2r[j], w2i[j]);
        F(cmul)(&o2r, &o2i, w1r[j], w1i[j]);
        F(cmul)(&o3r, &o3i, w3r[j], w3i[j]);
        r0[j] = o0r; i0[j] = o0i;
        r1[j] = o1r; i1[j] = o1i;
        r2[j] = o2r; i2[j] = o2i;
        r3[j] = o3r; i3[j] = o3i;
    }
}

SD_INLINE void F(r4i_blk)(size_t q,
                          T *SD_RESTRICT r0, T *SD_RESTRICT i0, T *SD_RESTRICT r1, T *SD_RESTRICT i1,
                          T *SD_RESTRICT r2, T *SD_RESTRICT i2, T *SD_RESTRICT r3, T *SD_RESTRICT i3,
                          const T *SD_RESTRICT w1r, const T *SD_RESTRICT w1i,
                          const T *SD_RESTRICT w2r, const T *SD_RESTRICT w2i,
                          const T *SD_RESTRICT w3r, const T *SD_RESTRICT w3i)
{
    size_t j;
    for (j = 0; j < q; j++) {
        T p1r = r1[j], p1i = i1[j], p2r = r2[j], p2i = i2[j], p3r = r3[j], p3i = i3[j];
        T a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i;
        F(cmulc)(&p1r, &p1i, w2r[j], w2i[j]);
        F(cmulc)(&p2r, &p2i, w1r[j], w1i[j]);
        F(cmulc)(&p3r, &p3i, w3r[j], w3i[j]);
        F(bf4i)(r0[j], i0[j], p1r, p1i, p2r, p2i, p3r, p3i,
                &a0r, &a0i, &a1r, &a1i, &a2r, &a2i, &a3r, &a3i);
        r0[j] = a0r; i0[j] = a0i;
        r1[j] = a1r; i1[j] = a1i;
        r2[j] = a2r; i2[j] = a2i;
        r3[j] = a3r; i3[j] = a3i;
    }
}

SD_INLINE void F(r4i_x)(size_t q, T *SD_RESTRICT x,
                        const T *SD_RESTRICT r0, const T *SD_RESTRICT i0,
                        const T *SD_RESTRICT r1, const T *SD_RESTRICT i1,
                        const T *SD_RESTRICT r2, const T *SD_RESTRICT i2,
                        const T *SD_RESTRICT r3, const T *SD_RESTRICT i3,
                        const T *SD_RESTRICT w1r, const T *SD_RESTRICT w1i,
                        const T *SD_RESTRICT w2r, const T *SD_RESTRICT w2i,
                        const T *SD_RESTRICT w3r, const T *SD_RESTRICT w3i)
{
    T *x1 = x + 2 * q, *x2 = x + 4 * q, *x3 = x + 6 * q;
    size_t j;
    for (j = 0; j < q; j++) {
        T p1r = r1[j], p1i = i1[j], p2r = r2[j], p2i = i2[j], p3r = r3[j], p3i = i3[j];
        T a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i;
        F(cmulc)(&p1r, &p1i, w2r[j], w2i[j]);
        F(cmulc)(&p2r, &p2i, w1r[j], w1i[j]);
        F(cmulc)(&p3r, &p3i, w3r[j], w3i[j]);
        F(bf4i)(r0[j], i0[j], p1r, p1i, p2r, p2i, p3r, p3i,
                &a0r, &a0i, &a1r, &a1i, &a2r, &a2i, &a3r, &a3i);
        x[2 * j] = a0r; x[2 * j + 1] = a0i;
        x1[2 * j] = a1r; x1[2 * j + 1] = a1i;
        x2[2 * j] = a2r; x2[2 * j + 1] = a2i;
        x3[2 * j] = a3r; x3[2 * j + 1] = a3i;
    }
}

/* one pass of Bs-point DFTs over nb blocks, in place */
#define SD_BLOCK_PASS(name, kernel, BS, BR)                                  \
SD_INLINE void F(name)(size_t nb, T *SD_RESTRICT re, T *SD_RESTRICT im)    \
{                                                                            \
    size_t b;                                                                \
    int k;                                                                   \
    for (b = 0; b < nb; b++) {                                               \
        T r[BS], i[BS];                                                      \
        T *pr = re + BS * b, *pi = im + BS * b;                              \
        for (k = 0; k < BS; k++) { r[BR[k]] = pr[k]; i[BR[k]] = pi[k]; }     \
        F(kernel)(r, i);                                                     \
        for (k = 0; k < BS; k++) { pr[k] = r[k]; pi[k] = i[k]; }             \
    }                                                                        \
}
SD_BLOCK_PASS(pass16f, dft16f, 16, sd_br16)
SD_BLOCK_PASS(pass16i, dft16i, 16, sd_br16)
SD_BLOCK_PASS(pass8f, dft8f, 8, sd_br8)
SD_BLOCK_PASS(pass8i, dft8i, 8, sd_br8)
#undef SD_BLOCK_PASS


#if SD_FFT_VEXT
/* Explicit version: VL blocks at a time.  Block b holds BS/VL vectors; for
 * each h the vectors h, h + NV, .., h + (VL-1) NV (one per block) form a
 * VL x VL matrix whose transpose holds element h*VL + j of all VL blocks in
 * vector h + NV j.  Leftover blocks (fewer than VL) take the plain loop. */
#define SD_VBLOCK_PASS(name, plain, kernel, BS, BR)                          \
SD_INLINE void F(name)(size_t nb, T *SD_RESTRICT re, T *SD_RESTRICT im)    \
{                                                                            \
    enum { NV = BS / VL };                                                   \
    size_t b0;                                                               \
    int k, h;                                                                \
    for (b0 = 0; b0 + VL <= nb; b0 += VL) {                                  \
        T *pr = re + BS * b0, *pi = im + BS * b0;                            \
        VT R[BS], I[BS], r[BS], i[BS];                                       \
        memcpy(R, pr, sizeof R); /* unaligned vector loads */                 \
        memcpy(I, pi, sizeof I);                                             \
        for (h = 0; h < NV; h++) { VTR(R + h, NV); VTR(I + h, NV); }         \
        for (k = 0; k < BS; k++) {                                           \
            r[BR[k]] = R[NV * (k % VL) + k / VL];                            \
            i[BR[k]] = I[NV * (k % VL) + k / VL];                            \
        }                                                                    \
        VK(kernel)(r, i);                                                    \
        for (k = 0; k < BS; k++) {                                           \
            R[NV * (k % VL) + k / VL] = r[k];                                \
            I[NV * (k % VL) + k / VL] = i[k];                                \
        }                                                                    \
        for (h = 0; h < NV; h++) { VTR(R + h, NV); VTR(I + h, NV); }         \
        memcpy(pr, R, sizeof R);                                             \
        memcpy(pi, I, sizeof I);                                             \
    }                                                                        \
    if (b0 < nb)                                                             \
        F(plain)(nb - b0, re + BS * b0, im + BS * b0);                       \
}
SD_VBLOCK_PASS(vpass16f, pass16f, dft16f, 16, sd_br16)
SD_VBLOCK_PASS(vpass16i, pass16i, dft16i, 16, sd_br16)
SD_VBLOCK_PASS(vpass8f, pass8f, dft8f, 8, sd_br8)
SD_VBLOCK_PASS(vpass8i, pass8i, dft8i, 8, sd_br8)
#undef SD_VBLOCK_PASS
#endif

/* the block pass of a plan, forward / inverse */
SD_INLINE void F(blocks_fwd)(const PLAN *p, T *re, T *im)
{
#if SD_FFT_VEXT
    if (p->vext) {
        if (p->bs == 16)
            F(vpass16f)(p->m / 16, re, im);
        else
            F(vpass8f)(p->m / 8, re, im);
        return;
    }
#endif
    if (p->bs == 16)
        F(pass16f)(p->m / 16, re, im);
    else
        F(pass8f)(p->m / 8, re, im);
}

SD_INLINE void F(blocks_inv)(const PLAN *p, T *re, T *im)
{
#if SD_FFT_VEXT
    if (p->vext) {
        if (p->bs == 16)
            F(vpass16i)(p->m / 16, re, im);
        else
            F(vpass8i)(p->m / 8, re, im);
        return;
    }
#endif
    if (p->bs == 16)
        F(pass16i)(p->m / 16, re, im);
    else
        F(pass8i)(p->m / 8, re, im);
}

/* ---- real post / pre processing ---------------------------------------- */

/* One octave's pairs: positions lo[t] and hi[h-1-t], t < h. */
SD_INLINE void F(post_oct)(size_t h, T *SD_RESTRICT lr, T *SD_RESTRICT li,
                           T *SD_RESTRICT hr, T *SD_RESTRICT hi,
                           const T *SD_RESTRICT ur, const T *SD_RESTRICT ui)
{
    size_t t;
    for (t = 0; t < h; t++) {
        size_t u = h - 1 - t;
        T ar = lr[t], ai = li[t], br = hr[u], bi = hi[u];
        T sr = (T)0.5 * (ar + br), si = (T)0.5 * (ai - bi);
        T dr = ar - br, di = ai + bi;
        T gr = ur[t] * dr - ui[t] * di, gi = ur[t] * di + ui[t] * dr;
        lr[t] = sr + gr;
        li[t] = si + gi;
        hr[u] = sr - gr;
        hi[u] = gi - si;
    }
}

SD_INLINE void F(pre_oct)(size_t h, const T *SD_RESTRICT lr, const T *SD_RESTRICT li,
                          const T *SD_RESTRICT hr, const T *SD_RESTRICT hi,
                          const T *SD_RESTRICT ur, const T *SD_RESTRICT ui,
                          T *SD_RESTRICT olr, T *SD_RESTRICT oli,
                          T *SD_RESTRICT ohr, T *SD_RESTRICT ohi)
{
    size_t t;
    for (t = 0; t < h; t++) {
        size_t u = h - 1 - t;
        T ar = lr[t], ai = li[t], br = hr[u], bi = hi[u];
        T sr = ar + br, si = ai - bi, dr = ar - br, di = ai + bi;
        T e = (T)2 * (ur[t] * dr + ui[t] * di), f = (T)2 * (ur[t] * di - ui[t] * dr);
        olr[t] = sr + e;
        oli[t] = si + f;
        ohr[u] = sr - e;
        ohi[u] = f - si;
    }
}

/* Pairing of positions (see bins): position 0 = DC/Nyquist; t <-> bs - t
 * inside the first block (bs/2 is its own partner); beyond it, the mirror
 * image inside each octave [2^j, 2^(j+1)). */
SD_INLINE void F(post)(const PLAN *p, T *re, T *im)
{
    const size_t m = p->m, bs = p->bs;
    size_t base;
    T z0r = re[0], z0i = im[0];
    re[0] = z0r + z0i;   /* DC */
    im[0] = z0r - z0i;   /* Nyquist */
    if (m < 2)
        return;
    im[bs / 2] = -im[bs / 2];      /* bin m/2 = conj(Z[m/2]) */
    if (bs > 2)
        F(post_oct)(bs / 2 - 1, re + 1, im + 1, re + bs / 2 + 1, im + bs / 2 + 1, p->ur + 1, p->ui + 1);
    for (base = bs; base < m; base <<= 1) {
        size_t h = base >> 1;
        F(post_oct)(h, re + base, im + base, re + base + h, im + base + h, p->ur + h, p->ui + h);
    }
}

SD_INLINE void F(pre)(const PLAN *p, const T *re, const T *im, T *sr, T *si)
{
    const size_t m = p->m, bs = p->bs;
    size_t base;
    sr[0] = re[0] + im[0];
    si[0] = re[0] - im[0];
    if (m < 2)
        return;
    sr[bs / 2] = (T)2 * re[bs / 2];
    si[bs / 2] = (T)-2 * im[bs / 2];
    if (bs > 2)
        F(pre_oct)(bs / 2 - 1, re + 1, im + 1, re + bs / 2 + 1, im + bs / 2 + 1, p->ur + 1, p->ui + 1,
                   sr + 1, si + 1, sr + bs / 2 + 1, si + bs / 2 + 1);
    for (base = bs; base < m; base <<= 1) {
        size_t h = base >> 1;
        F(pre_oct)(h, re + base, im + base, re + base + h, im + base + h, p->ur + h, p->ui + h,
                   sr + base, si + base, sr + base + h, si + base + h);
    }
}

/* ---- tiny sizes (m < 16): plain radix-2 ---------------------------------- */

SD_INLINE void F(small_fwd)(const PLAN *p, const T *x, T *re, T *im)
{
    size_t m = p->m, L, b, j;
    for (j = 0; j < m; j++) {
        re[j] = x[2 * j];
        im[j] = x[2 * j + 1];
    }
    for (L = m; L >= 2; L >>= 1) {
        size_t h = L / 2, st = m / L;
        for (b = 0; b < m; b += L)
            for (j = 0; j < h; j++) {
                T ar = re[b + j], ai = im[b + j], br = re[b + j + h], bi = im[b + j + h];
                T dr = ar - br, di = ai - bi, wr = p->tr[j * st], wi = p->ti[j * st];
                re[b + j] = ar + br;
                im[b + j] = ai + bi;
                re[b + j + h] = dr * wr - di * wi;
                im[b + j + h] = dr * wi + di * wr;
            }
    }
}

SD_INLINE void F(small_inv)(const PLAN *p, T *re, T *im, T *x)
{
    size_t m = p->m, L, b, j;
    for (L = 2; L <= m; L <<= 1) {
        size_t h = L / 2, st = m / L;
        for (b = 0; b < m; b += L)
            for (j = 0; j < h; j++) {
                T wr = p->tr[j * st], wi = p->ti[j * st];
                T ar = re[b + j], ai = im[b + j];
                T br = re[b + j + h] * wr + im[b + j + h] * wi;
                T bi = im[b + j + h] * wr - re[b + j + h] * wi;
                re[b + j] = ar + br;
                im[b + j] = ai + bi;
                re[b + j + h] = ar - br;
                im[b + j + h] = ai - bi;
            }
    }
    for (j = 0; j < m; j++) {
        x[2 * j] = re[j];
        x[2 * j + 1] = im[j];
    }
}

/* ---- public API ----------------------------------------------------------- */

/* Natural bin of packed position pos (1 <= pos < m).
 * m < 16: full bit reversal over log2(m) bits.
 * m >= 16: pos = bs * B + t (block B, t < bs) holds bin A * t + bitrev(B),
 * A = m / bs, bitrev over log2(A) bits: the radix-4/2 stages leave the blocks
 * in bit-reversed order, the block pass writes natural order inside them. */
static size_t F(bin_of)(const PLAN *p, size_t pos)
{
    size_t a, lga;
    if (p->m < 16)
        return sd_bitrev(pos, p->lg);
    a = p->m / p->bs;
    lga = sd_log2(a);
    return a * (pos % p->bs) + sd_bitrev(pos / p->bs, (unsigned)lga);
}

PLAN *API(new)(size_t n)
{
    PLAN *p;
    size_t m, L, total, off, s;
    const size_t al = SD_ALIGN / sizeof(T);
    T *base;
    double c, sn;

    if (n < 2 || n > SD_FFT_MAXN || (n & (n - 1)) != 0)
        return NULL;
    p = (PLAN *)calloc(1, sizeof(PLAN));
    if (!p)
        return NULL;
    m = n / 2;
    p->n = n;
    p->m = m;
    p->lg = sd_log2(m);
    p->vext = sd_fft_pick_vext();
    if (m < 16) {
        p->bs = 2;
    } else {
        unsigned bits;
        p->bs = (m == 32 || m == 64) ? 8 : 16;
        bits = p->lg - sd_log2(p->bs);
        p->has_r2 = bits & 1;
        p->n4 = bits >> 1;
    }

#define SD_RUP(v) (((v) + al - 1) / al * al)
    /* sizes, in elements, each array rounded up to 64 bytes */
    total = 2 * SD_RUP(m) + 2 * SD_RUP(m / 2 + 1);     /* scratch + post table */
    if (p->has_r2)
        total += 2 * SD_RUP(m / 2);
    L = m >> p->has_r2;
    for (s = 0; s < p->n4; s++, L >>= 2)
        total += 6 * SD_RUP(L / 4);
    if (m < 16)
        total += 2 * SD_RUP(m / 2 + 1);

    p->mem = sd_amalloc(total * sizeof(T));
    if (!p->mem) {
        free(p);
        return NULL;
    }
    base = (T *)p->mem;
    off = 0;
#define SD_TAKE(ptr, cnt) do { (ptr) = base + off; off += SD_RUP(cnt); } while (0)
    SD_TAKE(p->sr, m);
    SD_TAKE(p->si, m);
    SD_TAKE(p->ur, m / 2 + 1);
    SD_TAKE(p->ui, m / 2 + 1);
    if (p->has_r2) {
        SD_TAKE(p->w2r, m / 2);
        SD_TAKE(p->w2i, m / 2);
        for (s = 0; s < m / 2; s++) {
            sd_cis(s, m, &c, &sn);
            p->w2r[s] = (T)c;
            p->w2i[s] = (T)-sn;
        }
    }
    L = m >> p->has_r2;
    for (s = 0; s < p->n4; s++, L >>= 2) {
        size_t q = L / 4, j;
        int e;
        for (e = 0; e < 6; e++)
            SD_TAKE(p->w4[s][e], q);
        for (j = 0; j < q; j++) {
            for (e = 0; e < 3; e++) {
                sd_cis((size_t)(e + 1) * j, L, &c, &sn);
                p->w4[s][2 * e][j] = (T)c;
                p->w4[s][2 * e + 1][j] = (T)-sn;
            }
        }
    }
    if (m < 16) {
        SD_TAKE(p->tr, m / 2 + 1);
        SD_TAKE(p->ti, m / 2 + 1);
        for (s = 0; s < m / 2; s++) {
            sd_cis(s, m, &c, &sn);
            p->tr[s] = (T)c;
            p->ti[s] = (T)-sn;
        }
    }
#undef SD_TAKE
#undef SD_RUP
    /* Post-processing twiddles U = -i W_n^k / 2 for the first position of
     * each pair (see post): table index t for t = 1 .. bs/2-1 (first block),
     * index pos - 2^(j-1) for the first half of octave [2^j, 2^(j+1)). */
    memset(p->ur, 0, (m / 2 + 1) * sizeof(T));
    memset(p->ui, 0, (m / 2 + 1) * sizeof(T));
    for (s = 1; s < p->bs / 2 && s < m; s++) {
        sd_cis(F(bin_of)(p, s), n, &c, &sn);   /* W = c - i sn */
        p->ur[s] = (T)(-0.5 * sn);
        p->ui[s] = (T)(-0.5 * c);
    }
    for (L = p->bs; L < m; L <<= 1) {
        size_t h = L >> 1, t;
        for (t = 0; t < h; t++) {
            sd_cis(F(bin_of)(p, L + t), n, &c, &sn);
            p->ur[h + t] = (T)(-0.5 * sn);
            p->ui[h + t] = (T)(-0.5 * c);
        }
    }
    return p;
}

void API(free)(PLAN *p)
{
    if (!p)
        return;
    sd_afree(p->mem);
    free(p);
}

size_t API(size)(const PLAN *p)
{
    return p ? p->n : 0;
}

void API(bins)(const PLAN *p, size_t *bin_of_position)
{
    size_t j;
    bin_of_position[0] = 0;
    for (j = 1; j < p->m; j++)
        bin_of_position[j] = F(bin_of)(p, j);
}

SD_HOT void API(forward)(PLAN *p, const T *x, T *re, T *im)
{
    const size_t m = p->m;
    if (m < 16) {
        F(small_fwd)(p, x, re, im);
    } else if (m == 16) {
        T r[16], i[16];
        int k;
        for (k = 0; k < 16; k++) { r[sd_br16[k]] = x[2 * k]; i[sd_br16[k]] = x[2 * k + 1]; }
        F(dft16f)(r, i);
        for (k = 0; k < 16; k++) { re[k] = r[k]; im[k] = i[k]; }
    } else {
        size_t L = m, s, b;
        int from_x = 1;
        if (p->has_r2) {
            size_t h = m / 2;
            F(r2f_x)(h, x, re, im, re + h, im + h, p->w2r, p->w2i);
            L = h;
            from_x = 0;
        }
        for (s = 0; s < p->n4; s++, L >>= 2) {
            size_t q = L / 4;
            T *const *w = p->w4[s];
            if (from_x) {
                F(r4f_x)(q, x, re, im, re + q, im + q, re + 2 * q, im + 2 * q, re + 3 * q, im + 3 * q,
                         w[0], w[1], w[2], w[3], w[4], w[5]);
                from_x = 0;
            } else {
                for (b = 0; b < m; b += L) {
                    T *r = re + b, *i = im + b;
                    F(r4f_blk)(q, r, i, r + q, i + q, r + 2 * q, i + 2 * q, r + 3 * q, i + 3 * q,
                               w[0], w[1], w[2], w[3], w[4], w[5]);
                }
            }
        }
        F(blocks_fwd)(p, re, im);
    }
    F(post)(p, re, im);
}

SD_HOT void API(inverse)(PLAN *p, const T *re, const T *im, T *x)
{
    const size_t m = p->m;
    T *sr = p->sr, *si = p->si;
    F(pre)(p, re, im, sr, si);
    if (m < 16) {
        F(small_inv)(p, sr, si, x);
    } else if (m == 16) {
        T r[16], i[16];
        int k;
        for (k = 0; k < 16; k++) { r[sd_br16[k]] = sr[k]; i[sd_br16[k]] = si[k]; }
        F(dft16i)(r, i);
        for (k = 0; k < 16; k++) { x[2 * k] = r[k]; x[2 * k + 1] = i[k]; }
    } else {
        size_t s, b, L;
        F(blocks_inv)(p, sr, si);
        L = 4 * p->bs;
        for (s = p->n4; s-- > 0; L <<= 2) {
            size_t q = L / 4;
            T *const *w = p->w4[s];
            if (s == 0 && !p->has_r2) {
                F(r4i_x)(q, x, sr, si, sr + q, si + q, sr + 2 * q, si + 2 * q, sr + 3 * q, si + 3 * q,
                         w[0], w[1], w[2], w[3], w[4], w[5]);
            } else {
                for (b = 0; b < m; b += L) {
                    T *r = sr + b, *i = si + b;
                    F(r4i_blk)(q, r, i, r + q, i + q, r + 2 * q, i + 2 * q, r + 3 * q, i + 3 * q,
                               w[0], w[1], w[2], w[3], w[4], w[5]);
                }
            }
        }
        if (p->has_r2) {
            size_t h = m / 2;
            F(r2i_x)(h, x, sr, si, sr + h, si + h, p->w2r, p->w2i);
        }
    }
}

SD_HOT void API(mac_range)(size_t lo, size_t hi, T *SD_RESTRICT acc_re, T *SD_RESTRICT acc_im,
                           const T *SD_RESTRICT a_re, const T *SD_RESTRICT a_im,
                           const T *SD_RESTRICT b_re, const T *SD_RESTRICT b_im)
{
    size_t k;
    T dc = 0, ny = 0;
    if (lo >= hi)
        return;
    if (lo == 0) {
        /* position 0 holds two real bins (DC, Nyquist), not one complex one */
        dc = acc_re[0] + a_re[0] * b_re[0];
        ny = acc_im[0] + a_im[0] * b_im[0];
    }
    for (k = lo ? lo : 1; k < hi; k++) {
        T ar = a_re[k], ai = a_im[k], br = b_re[k], bi = b_im[k];
        acc_re[k] += ar * br - ai * bi;
        acc_im[k] += ar * bi + ai * br;
    }
    if (lo == 0) {
        acc_re[0] = dc;
        acc_im[0] = ny;
    }
}

SD_HOT void API(mac)(size_t half, T *SD_RESTRICT acc_re, T *SD_RESTRICT acc_im,
                     const T *SD_RESTRICT a_re, const T *SD_RESTRICT a_im,
                     const T *SD_RESTRICT b_re, const T *SD_RESTRICT b_im)
{
    API(mac_range)(0, half, acc_re, acc_im, a_re, a_im, b_re, b_im);
}

#endif /* SD_FFT_PART */
