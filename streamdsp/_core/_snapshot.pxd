# Raw state buffers to and from bytes, for the pickling hooks
# (Block._get_state / Block._set_state; see _block.pyx "Pickling").
#
# A block's state is a few buffers made in _setup plus counters.  After a
# restore, _setup has run with the same configuration, channels and dtype,
# so every buffer has the size it had: `unraw` refuses anything else rather
# than copy a wrong amount.

from libc.string cimport memcpy


cdef inline bytes raw(const void* p, Py_ssize_t nbytes):
    """``nbytes`` bytes at ``p`` (empty for a buffer not made)."""
    if p == NULL or nbytes <= 0:
        return b""
    return (<const char*>p)[:nbytes]


cdef inline int unraw(void* p, Py_ssize_t nbytes, bytes data, object owner) except -1:
    """Copy ``data`` into the buffer at ``p`` after checking it has its size."""
    if p == NULL or nbytes <= 0:
        nbytes = 0
    if len(data) != nbytes:
        raise ValueError(f"{owner}: expected a saved state buffer of {nbytes} bytes, got {len(data)}; "
                         f"was it saved by another streamdsp version?")
    if nbytes:
        memcpy(p, <const char*>data, nbytes)
    return 0


# Blocks with several buffers list them as (address, bytes) pairs, the
# address as an int; these convert it back through a typed variable.
cdef inline list raw_all(list buffers):
    cdef Py_ssize_t addr, n
    out = []
    for a, b in buffers:
        addr = a
        n = b
        out.append(raw(<const void*>addr, n))
    return out


cdef inline int unraw_all(list buffers, list data, object owner) except -1:
    cdef Py_ssize_t addr, n
    if len(data) != len(buffers):
        raise ValueError(f"{owner}: expected {len(buffers)} saved state buffers, got {len(data)}")
    for (a, b), d in zip(buffers, data):
        addr = a
        n = b
        unraw(<void*>addr, n, d, owner)
    return 0
