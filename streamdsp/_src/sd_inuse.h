/* The "in use" flag of a block: one thread at a time may drive it.
 *
 * Two threads inside one block's process() corrupt its state and, for
 * blocks that carry partial frames (MaxPool, the graph executor), the heap.
 * sd_try_enter() claims the flag and tells whether it was free (callers
 * hold the GIL, or on a free-threaded build it is an atomic exchange); a
 * refused caller raises StreamStateError instead of running the kernel.
 */
#ifndef SD_INUSE_H
#define SD_INUSE_H

#if defined(_MSC_VER)
#  include <intrin.h>
static inline int sd_try_enter(volatile long *flag) { return _InterlockedExchange(flag, 1) == 0; }
static inline void sd_leave(volatile long *flag) { _InterlockedExchange(flag, 0); }
#elif defined(Py_GIL_DISABLED)
static inline int sd_try_enter(volatile long *flag) {
    return __atomic_exchange_n(flag, 1, __ATOMIC_ACQUIRE) == 0;
}
static inline void sd_leave(volatile long *flag) { __atomic_store_n(flag, 0, __ATOMIC_RELEASE); }
#else
/* Every caller of sd_try_enter holds the GIL, which already makes its
 * check-and-set one step for other threads; a locked exchange would cost
 * ~4% of a small Gain.process call for nothing.  Leaving may happen
 * without the GIL, hence the release store. */
static inline int sd_try_enter(volatile long *flag) {
    if (__atomic_load_n(flag, __ATOMIC_RELAXED)) return 0;
    __atomic_store_n(flag, 1, __ATOMIC_RELAXED);
    return 1;
}
static inline void sd_leave(volatile long *flag) { __atomic_store_n(flag, 0, __ATOMIC_RELEASE); }
#endif

#endif
