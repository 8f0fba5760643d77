"""Which algorithm a block should run, decided by costs measured on this machine kind.

The numbers below come from ``benchmarks/bench_fir.py`` (direct kernel and
partitioned FFT path timed over a grid of taps and chunk sizes, float32,
2-vCPU Xeon with AVX-512, portable build); see the note on the foundation
issue.  They only have to rank the methods, not predict absolute times.
"""

# Direct kernel: ns per output sample per tap (float32, ~42 GFMA/s), plus a
# per-sample constant for the copy and shift around the kernel.
DIRECT_NS_PER_TAP = 0.024
DIRECT_NS_FIXED = 0.3

# FFT path per output sample: two transforms of 2P points per P samples,
# nparts complex multiply-accumulates per bin.
FFT_NS_PER_POINT_LOG = 0.15   # a transform of n points costs this * n * log2(n) ns
MAC_NS_PER_BIN = 0.15
FFT_NS_FIXED = 1.0


def direct_cost(ntaps):
    """Estimated ns per output sample of the direct kernel."""
    return DIRECT_NS_FIXED + DIRECT_NS_PER_TAP * ntaps


def fft_cost(ntaps, block_size):
    """Estimated ns per output sample of uniformly partitioned overlap-save."""
    import math
    n = 2 * block_size
    nparts = -(-ntaps // block_size)
    transforms = 2 * FFT_NS_PER_POINT_LOG * n * math.log2(n) / block_size
    mac = MAC_NS_PER_BIN * nparts * (block_size + 1) / block_size
    return FFT_NS_FIXED + transforms + mac


def fft_partition(ntaps, max_block=8192):
    """Partition size (power of two) minimising :func:`fft_cost` for ``ntaps``."""
    best, best_cost = 8, float("inf")
    p = 8
    while p <= max_block:
        c = fft_cost(ntaps, p)
        if c < best_cost:
            best, best_cost = p, c
        if p >= 2 * ntaps:
            break
        p *= 2
    return best


def fir_method(ntaps):
    """``"direct"`` or ``"fft"``, whichever is estimated cheaper for ``ntaps``."""
    return "direct" if direct_cost(ntaps) <= fft_cost(ntaps, fft_partition(ntaps)) else "fft"
