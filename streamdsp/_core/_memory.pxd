# Aligned working memory for kernels (see _src/sd_memory.h for why).

cdef extern from "sd_memory.h" nogil:
    void* sd_aligned_zeros(size_t nbytes)
    void sd_aligned_free(void* p)


cdef inline void* aligned_zeros(size_t nbytes) except NULL:
    """64-byte aligned, zero-filled memory; MemoryError if none is left."""
    cdef void* p = sd_aligned_zeros(nbytes)
    if p == NULL:
        raise MemoryError(f"could not allocate {nbytes} bytes of aligned memory")
    return p


cdef inline void aligned_free(void* p) noexcept nogil:
    sd_aligned_free(p)
