/* Portable SIMD dispatch for hot C kernels.
 *
 * Wheels must run on any x86-64, so we never bake -march=native into a
 * build.  Instead the few hot kernels are compiled several times with
 * GCC/Clang `target_clones`; the loader picks the best clone for the CPU
 * it runs on (an ifunc resolved once, no per-call cost).  Setting
 * STREAMDSP_NATIVE=1 at build time compiles everything for the build
 * machine instead (see setup.py) and turns the clones off.
 */
#ifndef SD_SIMD_H
#define SD_SIMD_H

#if defined(SD_NATIVE_BUILD)
#  define SD_HOT
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && defined(__linux__) \
      && !defined(SD_NO_CLONES)
#  define SD_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#  define SD_HOT
#endif

#define SD_ALIGN 64

#if defined(_MSC_VER)
#  define SD_RESTRICT __restrict
#else
#  define SD_RESTRICT __restrict__
#endif

#endif
