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

#include "sd_atomic.h"

#if defined(_MSC_VER) && !defined(__clang__)
static inline int sd_try_enter(volatile long *flag) { return sd_exchange_long((long *)flag, 1) == 0; }
static inline void sd_leave(volatile long *flag) { sd_exchange_long((long *)flag, 0); }
#elif defined(Py_GIL_DISABLED)
static inline int sd_try_enter(volatile long *flag) { return sd_exchange_long((long *)flag, 1) == 0; }
static inline void sd_leave(volatile long *flag) { sd_store_release_long((long *)flag, 0); }
#else
/* Every caller of sd_try_enter holds the GIL, which already makes its
 * check-and-set one step for other threads; a locked exchange would cost
 * ~4% of a small Gain.process call for nothing.  Leaving may happen
 * without the GIL, hence the release store. */
static inline int sd_try_enter(volatile long *flag) {
    if (sd_load_relaxed_long((const long *)flag)) return 0;
    sd_store_relaxed_long((long *)flag, 1);
    return 1;
}
static inline void sd_leave(volatile long *flag) { sd_store_release_long((long *)flag, 0); }
#endif

#endif
