/* Instruction-set levels for kernels written with GCC/Clang vector types.
 *
 * sd_simd.h's SD_HOT (target_clones) suits plain C loops that the
 * auto-vectoriser turns into SIMD per clone.  It does not suit kernels
 * written with generic vector types (`float __attribute__((vector_size))`):
 * GCC lowers their comparisons for the *baseline* target before it makes
 * the clones, so a NaN-aware maximum or a select on 64-byte vectors becomes
 * a scalar loop in every clone, the AVX-512 one included (measured: 50 ns a
 * frame instead of 1).  Those kernels are instead written once as a
 * template (sd_*_level.h), instantiated per level with that level's native
 * vector width and a `target` attribute, and picked at run time:
 *
 *   level 2  AVX-512 F/BW/DQ/VL + AVX2/FMA (x86-64-v4)  64-byte vectors
 *   level 1  AVX2 + FMA (x86-64-v3)                      32-byte vectors
 *   level 0  baseline (SSE2 on x86-64, NEON/... elsewhere) 16-byte vectors
 *
 * With SD_NATIVE_BUILD (STREAMDSP_NATIVE=1) or on other compilers and
 * architectures there is one instantiation, for what the compiler targets.
 */
#ifndef SD_ISA_H
#define SD_ISA_H

#include <stdlib.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(SD_NATIVE_BUILD)
#  define SD_ISA_MULTI 1
#  define SD_ATTR_V4 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#  define SD_ATTR_V3 __attribute__((target("avx2,fma")))

/* 2, 1 or 0 as above; decided once (a benign race: every thread computes
 * the same value).  The environment variable STREAMDSP_ISA_LEVEL=0 or 1
 * caps it, so that the tests can run the lower levels on any machine. */
static inline int sd_isa_level(void)
{
    static volatile int level = -1;
    int l = level;
    if (l < 0) {
        const char *cap = getenv("STREAMDSP_ISA_LEVEL");
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
            l = 2;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            l = 1;
        else
            l = 0;
        if (cap != NULL && cap[0] >= '0' && cap[0] < '0' + l && cap[1] == '\0')
            l = cap[0] - '0';
        level = l;
    }
    return l;
}
#else
#  define SD_ISA_MULTI 0
#  if defined(__AVX512F__)
#    define SD_NATIVE_VECTOR_BYTES 64
#  elif defined(__AVX2__)
#    define SD_NATIVE_VECTOR_BYTES 32
#  else
#    define SD_NATIVE_VECTOR_BYTES 16
#  endif
#endif

#define SD_CAT_(a, b) a##b
#define SD_CAT(a, b) SD_CAT_(a, b)

#endif
