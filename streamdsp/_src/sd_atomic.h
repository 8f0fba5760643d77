/* The atomics streamdsp uses, written once.
 *
 * Counters and flags shared between an audio/processing thread and Python
 * threads (RingBuffer, the live-audio FIFO, the Correlator's event queue,
 * a block's "in use" flag) need loads that see a whole value and an order
 * between the data and the counter that publishes it.  GCC/Clang builtins
 * give exactly that; MSVC (which has no __atomic_*) gets volatile accesses
 * plus a full barrier, which is stronger than needed but correct.
 *
 * Names say the width and the ordering: _i64/_i32/_ssize/_long for the
 * type, acquire/release/relaxed for the memory order.
 */
#ifndef SD_ATOMIC_H
#define SD_ATOMIC_H

#include <stdint.h>
#include <Python.h>   /* Py_ssize_t */

#if defined(_MSC_VER) && !defined(__clang__)
/* intrin.h, not windows.h: this header reaches every module through
 * sd_inuse.h, and windows.h would bring its macros (min, max, small...). */
#include <intrin.h>
#if defined(_M_ARM64)
#  define SD_FULL_BARRIER() __dmb(_ARM64_BARRIER_ISH)
#  define SD_CPU_RELAX() __yield()
#else
#  define SD_FULL_BARRIER() _mm_mfence()
#  define SD_CPU_RELAX() _mm_pause()
#endif

#define SD_ATOMIC_MSVC_LOADSTORE(T, SUFFIX)                                               \
    static __inline T sd_load_acquire_##SUFFIX(const T *p) {                              \
        T v = *(volatile const T *)p; SD_FULL_BARRIER(); return v; }                        \
    static __inline T sd_load_relaxed_##SUFFIX(const T *p) { return *(volatile const T *)p; } \
    static __inline void sd_store_release_##SUFFIX(T *p, T v) {                           \
        SD_FULL_BARRIER(); *(volatile T *)p = v; }                                          \
    static __inline void sd_store_relaxed_##SUFFIX(T *p, T v) { *(volatile T *)p = v; }

SD_ATOMIC_MSVC_LOADSTORE(int64_t, i64)
SD_ATOMIC_MSVC_LOADSTORE(int32_t, i32)
SD_ATOMIC_MSVC_LOADSTORE(Py_ssize_t, ssize)
SD_ATOMIC_MSVC_LOADSTORE(long, long)

static __inline int32_t sd_exchange_i32(int32_t *p, int32_t v) {
    return (int32_t)_InterlockedExchange((volatile long *)p, v); }
static __inline long sd_exchange_long(long *p, long v) {
    return _InterlockedExchange((volatile long *)p, v); }
static __inline void sd_fence_acquire(void) { SD_FULL_BARRIER(); }
static __inline void sd_fence_release(void) { SD_FULL_BARRIER(); }
static __inline void sd_cpu_relax(void) { SD_CPU_RELAX(); }

#else

#define SD_ATOMIC_GNU_LOADSTORE(T, SUFFIX)                                                \
    static inline T sd_load_acquire_##SUFFIX(const T *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); } \
    static inline T sd_load_relaxed_##SUFFIX(const T *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); } \
    static inline void sd_store_release_##SUFFIX(T *p, T v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); } \
    static inline void sd_store_relaxed_##SUFFIX(T *p, T v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

SD_ATOMIC_GNU_LOADSTORE(int64_t, i64)
SD_ATOMIC_GNU_LOADSTORE(int32_t, i32)
SD_ATOMIC_GNU_LOADSTORE(Py_ssize_t, ssize)
SD_ATOMIC_GNU_LOADSTORE(long, long)

/* Exchanges are acquire+release: the caller both claims and hands over. */
static inline int32_t sd_exchange_i32(int32_t *p, int32_t v) {
    return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
static inline long sd_exchange_long(long *p, long v) {
    return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
static inline void sd_fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
static inline void sd_fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
#if defined(__x86_64__) || defined(__i386__)
static inline void sd_cpu_relax(void) { __builtin_ia32_pause(); }
#else
static inline void sd_cpu_relax(void) { }
#endif

#endif

#endif
