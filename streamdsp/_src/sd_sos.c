/* Second-order-section cascades and state-space recursions (see sd_sos.h).
 *
 * Speed comes from two things:
 *  - the state of up to SD_SOS_GROUP sections lives in registers for a whole
 *    run of samples (sample-outer, section-inner loop, sections unrolled):
 *    the section recursions then overlap in the out-of-order core, and no
 *    state round-trips through memory inside the loop-carried chain;
 *  - channels are the vector lanes: the interleaved layout puts W channels
 *    of one frame next to each other, so every operation of a section's
 *    update is one vector operation over W channels (W = 8, 4, 2, 1).
 * The per-sample arithmetic is the same whatever the chunking, so a stream
 * split anyhow gives bit-identical output.
 */
#include <string.h>

#include "sd_sos.h"
#include "sd_simd.h"

/* The project compiles in ISO C mode (-std=c11), where GCC turns
 * floating-point contraction off; allow it here so that the x86-64-v3/v4
 * clones fuse each multiply-add of the recursion into one FMA (one rounding
 * instead of two; half the latency of the loop-carried chain). */
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC optimize("fp-contract=fast")
#elif defined(__clang__)
#  pragma STDC FP_CONTRACT ON
#endif

#if (defined(__GNUC__) || defined(__clang__)) && !defined(SD_SOS_GENERIC)
/* GCC/Clang: vector extensions, one kernel per channel-block width. */

#define SD_INLINE static inline __attribute__((always_inline))

typedef double sd_v8d __attribute__((vector_size(64)));
typedef double sd_v4d __attribute__((vector_size(32)));
typedef double sd_v2d __attribute__((vector_size(16)));
typedef float sd_v8f __attribute__((vector_size(32)));
typedef float sd_v4f __attribute__((vector_size(16)));
typedef float sd_v2f __attribute__((vector_size(8)));

/* W-lane loads and stores at any alignment; float32 is widened on load and
 * rounded to nearest on store.  Vectors go by pointer: passing them by value
 * would make GCC warn about the ABI of a function that is always inlined. */
#define SD_LDST(W, VD, VF)                                                           \
SD_INLINE void sd_ldd##W(VD *v, const double *p) { memcpy(v, p, sizeof *v); }       \
SD_INLINE void sd_ldf##W(VD *v, const float *p) {                                    \
    VF f; memcpy(&f, p, sizeof f); *v = __builtin_convertvector(f, VD); }            \
SD_INLINE void sd_std##W(double *p, const VD *v) { memcpy(p, v, sizeof *v); }       \
SD_INLINE void sd_stf##W(float *p, const VD *v) {                                    \
    VF f = __builtin_convertvector(*v, VF); memcpy(p, &f, sizeof f); }

SD_LDST(8, sd_v8d, sd_v8f)
SD_LDST(4, sd_v4d, sd_v4f)
SD_LDST(2, sd_v2d, sd_v2f)
SD_INLINE void sd_ldd1(double *v, const double *p) { *v = *p; }
SD_INLINE void sd_ldf1(double *v, const float *p) { *v = (double)*p; }
SD_INLINE void sd_std1(double *p, const double *v) { *p = *v; }
SD_INLINE void sd_stf1(float *p, const double *v) { *p = (float)*v; }

/* One pass of G (<= SD_SOS_GROUP, a constant after inlining) sections over
 * n frames of W channels: x[i * xs + 0..W-1] -> y[i * ys + 0..W-1]. */
#define SD_SOS_PASS(NAME, VT, W, TX, LDX, TY, STY)                                   \
SD_INLINE void NAME(const double *co, const int G, double *st, size_t nch,           \
                    const TX *x, size_t xs, TY *y, size_t ys, size_t n)              \
{                                                                                    \
    VT s1[SD_SOS_GROUP], s2[SD_SOS_GROUP];                                           \
    double b0[SD_SOS_GROUP], b1[SD_SOS_GROUP], b2[SD_SOS_GROUP];                     \
    double a1[SD_SOS_GROUP], a2[SD_SOS_GROUP];                                       \
    size_t i;                                                                        \
    int k;                                                                           \
    for (k = 0; k < G; k++) {                                                        \
        b0[k] = co[5 * k]; b1[k] = co[5 * k + 1]; b2[k] = co[5 * k + 2];             \
        a1[k] = co[5 * k + 3]; a2[k] = co[5 * k + 4];                                \
        sd_ldd##W(&s1[k], st + (size_t)(2 * k) * nch);                               \
        sd_ldd##W(&s2[k], st + (size_t)(2 * k + 1) * nch);                           \
    }                                                                                \
    for (i = 0; i < n; i++) {                                                        \
        VT v;                                                                        \
        LDX(&v, x + i * xs);                                                         \
        for (k = 0; k < G; k++) {                                                    \
            VT yk = b0[k] * v + s1[k];                                               \
            s1[k] = (b1[k] * v + s2[k]) - a1[k] * yk;                                \
            s2[k] = b2[k] * v - a2[k] * yk;                                          \
            v = yk;                                                                  \
        }                                                                            \
        STY(y + i * ys, &v);                                                          \
    }                                                                                \
    for (k = 0; k < G; k++) {                                                        \
        sd_std##W(st + (size_t)(2 * k) * nch, &s1[k]);                                \
        sd_std##W(st + (size_t)(2 * k + 1) * nch, &s2[k]);                            \
    }                                                                                \
}

/* A block of W channels through the whole cascade.  Up to SD_SOS_GROUP
 * sections: one pass straight from x to y.  More: pieces of SD_SOS_SUB
 * frames go x -> work -> ... -> y in passes of SD_SOS_GROUP sections, the
 * intermediate signal staying float64. */
#define SD_SOS_BLOCK(NAME, W, T, TT, TD, DD, DT)                                     \
SD_INLINE void NAME(const double *co, size_t nsec, double *st, size_t nch,           \
                    const T *x, T *y, size_t frames, double *work)                   \
{                                                                                    \
    size_t i0, m, k0;                                                                \
    if (nsec <= SD_SOS_GROUP) {                                                      \
        switch (nsec) {                                                              \
        case 1: TT(co, 1, st, nch, x, nch, y, nch, frames); break;                   \
        case 2: TT(co, 2, st, nch, x, nch, y, nch, frames); break;                   \
        case 3: TT(co, 3, st, nch, x, nch, y, nch, frames); break;                   \
        default: TT(co, 4, st, nch, x, nch, y, nch, frames); break;                  \
        }                                                                            \
        return;                                                                      \
    }                                                                                \
    for (i0 = 0; i0 < frames; i0 += SD_SOS_SUB) {                                   \
        const double *c;                                                             \
        double *s;                                                                   \
        T *yo = y + i0 * nch;                                                        \
        m = frames - i0 < SD_SOS_SUB ? frames - i0 : SD_SOS_SUB;                     \
        TD(co, SD_SOS_GROUP, st, nch, x + i0 * nch, nch, work, W, m);                \
        for (k0 = SD_SOS_GROUP; nsec - k0 > SD_SOS_GROUP; k0 += SD_SOS_GROUP)        \
            DD(co + 5 * k0, SD_SOS_GROUP, st + 2 * k0 * nch, nch, work, W, work, W, m); \
        c = co + 5 * k0;                                                             \
        s = st + 2 * k0 * nch;                                                       \
        switch (nsec - k0) {                                                         \
        case 1: DT(c, 1, s, nch, work, W, yo, nch, m); break;                        \
        case 2: DT(c, 2, s, nch, work, W, yo, nch, m); break;                        \
        case 3: DT(c, 3, s, nch, work, W, yo, nch, m); break;                        \
        default: DT(c, 4, s, nch, work, W, yo, nch, m); break;                       \
        }                                                                            \
    }                                                                                \
}

#define SD_SOS_WIDTH(W, VT)                                                          \
SD_SOS_PASS(sd_pass_ff##W, VT, W, float, sd_ldf##W, float, sd_stf##W)                \
SD_SOS_PASS(sd_pass_fd##W, VT, W, float, sd_ldf##W, double, sd_std##W)               \
SD_SOS_PASS(sd_pass_df##W, VT, W, double, sd_ldd##W, float, sd_stf##W)               \
SD_SOS_PASS(sd_pass_dd##W, VT, W, double, sd_ldd##W, double, sd_std##W)              \
SD_SOS_BLOCK(sd_block_f##W, W, float, sd_pass_ff##W, sd_pass_fd##W, sd_pass_dd##W, sd_pass_df##W) \
SD_SOS_BLOCK(sd_block_d##W, W, double, sd_pass_dd##W, sd_pass_dd##W, sd_pass_dd##W, sd_pass_dd##W)

SD_SOS_WIDTH(8, sd_v8d)
SD_SOS_WIDTH(4, sd_v4d)
SD_SOS_WIDTH(2, sd_v2d)
SD_SOS_WIDTH(1, double)

#define SD_SOS_KERNEL(NAME, T, SFX)                                                  \
SD_HOT void NAME(const double *co, size_t nsec, double *st, size_t nch,              \
                 const T *x, T *y, size_t frames, double *work)                      \
{                                                                                    \
    size_t c0 = 0;                                                                   \
    while (c0 < nch) {                                                               \
        size_t r = nch - c0;                                                         \
        if (r >= 8) {                                                                \
            sd_block_##SFX##8(co, nsec, st + c0, nch, x + c0, y + c0, frames, work); \
            c0 += 8;                                                                 \
        } else if (r >= 4) {                                                         \
            sd_block_##SFX##4(co, nsec, st + c0, nch, x + c0, y + c0, frames, work); \
            c0 += 4;                                                                 \
        } else if (r >= 2) {                                                         \
            sd_block_##SFX##2(co, nsec, st + c0, nch, x + c0, y + c0, frames, work); \
            c0 += 2;                                                                 \
        } else {                                                                     \
            sd_block_##SFX##1(co, nsec, st + c0, nch, x + c0, y + c0, frames, work); \
            c0 += 1;                                                                 \
        }                                                                            \
    }                                                                                \
}

SD_SOS_KERNEL(sd_sos_f32, float, f)
SD_SOS_KERNEL(sd_sos_f64, double, d)

#else
/* Other compilers (or -DSD_SOS_GENERIC): the same recursion in plain C, one
 * channel at a time, the state in memory.  Same results, a few times slower. */

#define SD_SOS_KERNEL(NAME, T)                                                       \
void NAME(const double *co, size_t nsec, double *st, size_t nch,                     \
          const T *x, T *y, size_t frames, double *work)                             \
{                                                                                    \
    size_t i, k, c;                                                                  \
    (void)work;                                                                      \
    for (i = 0; i < frames; i++) {                                                   \
        for (c = 0; c < nch; c++) {                                                  \
            double v = (double)x[i * nch + c];                                       \
            for (k = 0; k < nsec; k++) {                                             \
                const double *q = co + 5 * k;                                        \
                double *s1 = st + 2 * k * nch + c, *s2 = s1 + nch;                   \
                const double yk = q[0] * v + *s1;                                    \
                *s1 = (q[1] * v + *s2) - q[3] * yk;                                  \
                *s2 = q[2] * v - q[4] * yk;                                          \
                v = yk;                                                              \
            }                                                                        \
            y[i * nch + c] = (T)v;                                                   \
        }                                                                            \
    }                                                                                \
}

SD_SOS_KERNEL(sd_sos_f32, float)
SD_SOS_KERNEL(sd_sos_f64, double)

#endif


/* State space: channels innermost, so that every update is a run of
 * contiguous multiply-adds over the channels of one frame.  The order of
 * the sums is the same for one channel and for many. */
#define SD_SS_KERNEL(NAME, T)                                                        \
SD_HOT void NAME(const double *SD_RESTRICT A, const double *SD_RESTRICT B,           \
                 const double *SD_RESTRICT C, double D, size_t N,                    \
                 double *SD_RESTRICT st, double *SD_RESTRICT tmp, size_t nch,        \
                 const T *SD_RESTRICT x, T *SD_RESTRICT y, size_t frames)            \
{                                                                                    \
    size_t i, j, r, c;                                                               \
    if (nch == 1) {                                                                  \
        for (i = 0; i < frames; i++) {                                               \
            const double u = (double)x[i];                                           \
            double yv = D * u;                                                       \
            for (j = 0; j < N; j++) yv += C[j] * st[j];                              \
            for (r = 0; r < N; r++) {                                                \
                const double *Ar = A + r * N;                                        \
                double acc = B[r] * u;                                               \
                for (j = 0; j < N; j++) acc += Ar[j] * st[j];                        \
                tmp[r] = acc;                                                        \
            }                                                                        \
            memcpy(st, tmp, N * sizeof(double));                                     \
            y[i] = (T)yv;                                                            \
        }                                                                            \
        return;                                                                      \
    }                                                                                \
    for (i = 0; i < frames; i++) {                                                   \
        const T *xi = x + i * nch;                                                   \
        T *yi = y + i * nch;                                                         \
        double *ya = tmp + N * nch;                                                  \
        for (c = 0; c < nch; c++) ya[c] = D * (double)xi[c];                         \
        for (j = 0; j < N; j++) {                                                    \
            const double cj = C[j];                                                  \
            const double *sj = st + j * nch;                                         \
            for (c = 0; c < nch; c++) ya[c] += cj * sj[c];                           \
        }                                                                            \
        for (r = 0; r < N; r++) {                                                    \
            double *tr = tmp + r * nch;                                              \
            const double br = B[r];                                                  \
            for (c = 0; c < nch; c++) tr[c] = br * (double)xi[c];                    \
            for (j = 0; j < N; j++) {                                                \
                const double a = A[r * N + j];                                       \
                const double *sj = st + j * nch;                                     \
                for (c = 0; c < nch; c++) tr[c] += a * sj[c];                        \
            }                                                                        \
        }                                                                            \
        memcpy(st, tmp, N * nch * sizeof(double));                                   \
        for (c = 0; c < nch; c++) yi[c] = (T)ya[c];                                  \
    }                                                                                \
}

SD_SS_KERNEL(sd_ss_f32, float)
SD_SS_KERNEL(sd_ss_f64, double)
