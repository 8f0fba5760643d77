/* 64-byte aligned, zero-filled allocations for kernels' working memory.
 *
 * AVX-512 loads from L2 run at ~115 GB/s aligned and 65-70 GB/s when 16
 * bytes off (shared/PERFORMANCE.md), and numpy only guarantees 16 bytes, so
 * every buffer a kernel streams through comes from here.
 *
 * Sizes come from users (Delay(2**61), prepare(2**42)), so they are
 * multiplied here with overflow checks (sd_frames_bytes) and compared with
 * the memory the machine can give (sd_memory_available) before anything is
 * allocated: a wrapped size gives a tiny buffer that kernels then overrun,
 * and a request the machine cannot back is not refused by malloc under
 * Linux's overcommit but ends in the OOM killer when memset touches it.
 */
#ifndef SD_MEMORY_H
#define SD_MEMORY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_MSC_VER)
#  include <unistd.h>
#endif

/* Requests below this are not compared with the free memory: reading
 * /proc/meminfo costs ~20 us, and small buffers are not what kills. */
#define SD_MEMORY_CHECK_FROM ((size_t)64 << 20)

/* frames x channels x itemsize bytes, rounded up to whole 64-byte lines, in
 * *nbytes; 0 if that does not fit in a size_t (nbytes then undefined). */
static inline int sd_frames_bytes(size_t frames, size_t channels, size_t itemsize, size_t *nbytes)
{
    size_t n;
    if (channels && frames > SIZE_MAX / channels) return 0;
    n = frames * channels;
    if (itemsize && n > SIZE_MAX / itemsize) return 0;
    n *= itemsize;
    if (n > SIZE_MAX - 63u) return 0;
    *nbytes = (n + 63u) / 64u * 64u;
    return 1;
}

/* Bytes the process can still fill without swapping or being killed:
 * Linux's MemAvailable (free memory plus reclaimable cache; MemFree alone
 * would refuse on a machine whose page cache is full), else the physical
 * memory; SIZE_MAX where neither is known. */
static inline size_t sd_memory_available(void)
{
#if defined(__linux__)
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[128];
        unsigned long long kb;
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                fclose(f);
                return kb > SIZE_MAX / 1024u ? SIZE_MAX : (size_t)(kb * 1024u);
            }
        }
        fclose(f);
    }
#endif
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        if (pages > 0 && size > 0 && (size_t)pages <= SIZE_MAX / (size_t)size)
            return (size_t)pages * (size_t)size;
    }
#endif
    return SIZE_MAX;
}

/* 1 if nbytes may be allocated now: small, or within the available memory. */
static inline int sd_memory_fits(size_t nbytes)
{
    return nbytes < SD_MEMORY_CHECK_FROM || nbytes <= sd_memory_available();
}

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
    size_t n;
    if (nbytes > SIZE_MAX - 63u) return NULL;
    n = (nbytes + 63u) / 64u * 64u;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
    memset(p, 0, n ? n : 64);
    return p;
}
static inline void sd_aligned_free(void *p) { free(p); }
#endif

#endif
