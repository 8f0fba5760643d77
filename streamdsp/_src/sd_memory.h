/* 64-byte aligned, zero-filled allocations for kernels' working memory.
 *
 * AVX-512 loads from L2 run at ~115 GB/s aligned and 65-70 GB/s when 16
 * bytes off (shared/PERFORMANCE.md), and numpy only guarantees 16 bytes, so
 * every buffer a kernel streams through comes from here.
 */
#ifndef SD_MEMORY_H
#define SD_MEMORY_H

#include <stdlib.h>
#include <string.h>

#if defined(_MSC_VER)
#  include <malloc.h>
static inline void *sd_aligned_zeros(size_t nbytes) {
    void *p = _aligned_malloc(nbytes ? nbytes : 64, 64);
    if (p) memset(p, 0, nbytes);
    return p;
}
static inline void sd_aligned_free(void *p) { if (p) _aligned_free(p); }
#else
static inline void *sd_aligned_zeros(size_t nbytes) {
    void *p = NULL;
    /* round up so that kernels may read a whole vector past the end */
    size_t n = (nbytes + 63u) / 64u * 64u;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
    memset(p, 0, n ? n : 64);
    return p;
}
static inline void sd_aligned_free(void *p) { free(p); }
#endif

#endif
