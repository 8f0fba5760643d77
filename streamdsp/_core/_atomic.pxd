# The seqlock/counter atomics of sd_atomic.h, declared once for the Cython
# modules that share values between an audio thread and Python threads.

from libc.stdint cimport int64_t

cdef extern from "sd_atomic.h":
    int64_t sd_load_acquire_i64(const int64_t* p) noexcept nogil
    int64_t sd_load_relaxed_i64(const int64_t* p) noexcept nogil
    void sd_store_release_i64(int64_t* p, int64_t v) noexcept nogil
    void sd_store_relaxed_i64(int64_t* p, int64_t v) noexcept nogil
    void sd_fence_acquire() noexcept nogil
    void sd_fence_release() noexcept nogil
    void sd_cpu_relax() noexcept nogil
