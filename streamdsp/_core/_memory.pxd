# Aligned working memory for kernels (see _src/sd_memory.h for why), sized
# through one checked helper: alloc_frames.

cdef extern from "sd_memory.h" nogil:
    void* sd_aligned_zeros(size_t nbytes)
    void sd_aligned_free(void* p)
    int sd_frames_bytes(size_t frames, size_t channels, size_t itemsize, size_t* nbytes)
    size_t sd_memory_available()
    int sd_memory_fits(size_t nbytes)


cdef inline str _count(object n):
    """n as 2**k when it is a large power of two (how absurd sizes are typed)."""
    if n >= 1024 and n & (n - 1) == 0:
        return f"2**{n.bit_length() - 1}"
    return str(n)


cdef inline str _bytes(object n):
    cdef int i = 0
    cdef double v = n
    while v >= 1024 and i < 6:
        v /= 1024
        i += 1
    return f"{v:.3g} {('bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB')[i]}"


cdef inline void* alloc_frames(object owner, Py_ssize_t frames, Py_ssize_t channels,
                               size_t itemsize) except NULL:
    """Zeroed, 64-byte aligned memory for ``frames x channels`` items.

    The only way blocks allocate working memory: the product is
    overflow-checked and compared with the memory the machine has left, and
    a refusal is a MemoryError naming ``owner`` (a block, or a str) and the
    size, e.g. ``Delay: cannot allocate 2**61 frames x 1 channels x 8 bytes
    (16 EiB): only 22.5 GiB of memory is available``.  Free with
    aligned_free.
    """
    cdef size_t nbytes = 0
    cdef void* p = NULL
    cdef str why = None
    if frames < 0 or channels < 0:
        why = "a negative size"
    elif not sd_frames_bytes(<size_t>frames, <size_t>channels, itemsize, &nbytes):
        why = "the size overflows the address space"
    elif not sd_memory_fits(nbytes):
        why = f"only {_bytes(sd_memory_available())} of memory is available"
    else:
        p = sd_aligned_zeros(nbytes)
        if p == NULL:
            why = "out of memory"
    if p != NULL:
        return p
    who = owner if isinstance(owner, str) else type(owner).__name__
    total = <object>frames * channels * itemsize
    raise MemoryError(f"{who}: cannot allocate {_count(frames)} frames x {_count(channels)} "
                      f"channels x {itemsize} bytes ({_bytes(total) if total >= 0 else total}): {why}")


cdef inline Py_ssize_t frames_of(object owner, Py_ssize_t a, Py_ssize_t b) except -1:
    """a x b frames (b rows of a frames), MemoryError above 2**62.

    No buffer of more than 2**62 frames fits in a 64-bit address space
    (items are at least 4 bytes), and the bound leaves callers room to add
    a pad without overflowing.
    """
    if a < 0 or b < 0 or (b and a > (<Py_ssize_t>1 << 62) // b):
        who = owner if isinstance(owner, str) else type(owner).__name__
        raise MemoryError(f"{who}: cannot allocate {_count(a)} x {_count(b)} frames: "
                          f"the size overflows the address space")
    return a * b


cdef inline void* aligned_zeros(size_t nbytes) except NULL:
    """64-byte aligned, zero-filled bytes; prefer alloc_frames, which names the block."""
    if nbytes >> 63:
        raise MemoryError(f"cannot allocate {nbytes} bytes: the size overflows the address space")
    return alloc_frames("streamdsp", <Py_ssize_t>nbytes, 1, 1)


cdef inline void aligned_free(void* p) noexcept nogil:
    sd_aligned_free(p)
