"""Which algorithm a block should run, decided by costs measured on this machine kind.

The numbers below come from ``benchmarks/bench_fir.py`` (direct kernel and
partitioned FFT path timed over a grid of taps and chunk sizes, float32,
2-vCPU Xeon with AVX-512, portable build); see the note on the foundation
issue.  They only have to rank the methods, not predict absolute times.
"""

# Fitted by benchmarks/calibrate_costmodel.py (float32 mono, portable build;
# the run is recorded in the foundation issue's note).
# Direct kernel: ns per output sample per tap, plus a per-sample constant for
# the copy and shift around the kernel.
DIRECT_NS_PER_TAP = 0.0215
DIRECT_NS_FIXED = 0.235

# FFT path per output sample: two transforms of 2P points per P samples,
# nparts complex multiply-accumulates per bin, and a fixed cost per block
# (copies, clearing the accumulator, calls) spread over its P samples.
FFT_NS_PER_POINT_LOG = 0.049  # a transform of n points costs this * n * log2(n) ns
MAC_NS_PER_BIN = 0.32
FFT_NS_PER_BLOCK = 145.0
FFT_NS_FIXED = 0.0


def direct_cost(ntaps):
    """Estimated ns per output sample of the direct kernel."""
    return DIRECT_NS_FIXED + DIRECT_NS_PER_TAP * ntaps


def fft_cost(ntaps, block_size):
    """Estimated ns per output sample of uniformly partitioned overlap-save."""
    import math
    n = 2 * block_size
    nparts = -(-ntaps // block_size)
    transforms = 2 * FFT_NS_PER_POINT_LOG * n * math.log2(n) / block_size
    mac = MAC_NS_PER_BIN * nparts
    return FFT_NS_FIXED + transforms + mac + FFT_NS_PER_BLOCK / block_size


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


def _plan_levels(ntaps, block_size, zero_latency, ratio, k_min, max_block):
    """Partition levels [(B, offset, length, slot_offset)] for one choice of knobs."""
    lat = 0 if zero_latency else block_size
    cur = block_size if zero_latency else 0
    levels = []
    B = block_size
    start = cur
    while cur < ntaps:
        nb = B * ratio
        if (nb <= max_block and (cur - start) // B >= k_min
                and (cur + lat) % nb == 0 and cur + lat >= nb):
            levels.append((B, start, cur - start, (start + lat - B) // B))
            B, start = nb, cur
            continue
        cur += B
    if ntaps > start:
        levels.append((B, start, ntaps - start, (start + lat - B) // B))
    return levels


def convolver_cost(ntaps, block_size, zero_latency, levels):
    """Estimated ns per output sample of a head plus partition levels."""
    import math
    cost = DIRECT_NS_FIXED + (DIRECT_NS_PER_TAP * min(block_size, ntaps) if zero_latency else 0.0)
    for B, _, length, _ in levels:
        nparts = -(-length // B)
        cost += FFT_NS_FIXED + 2 * FFT_NS_PER_POINT_LOG * 2 * B * math.log2(2 * B) / B
        cost += MAC_NS_PER_BIN * nparts + FFT_NS_PER_BLOCK / B
    return cost


def convolver_plan(ntaps, block_size, zero_latency=True, max_block=65536):
    """The cheapest non-uniform partitioning of ``ntaps`` found by a small search.

    Partitions grow by a ratio (2, 4 or 8) once ``k_min`` of them are in place
    at a level and the next level's block lines up with its offset (a level of
    block B can only start where offset + latency is a multiple of B, so that
    its output falls due on a whole number of its blocks).  Uniform
    partitioning is one of the candidates.

    Returns
    -------
    levels : list of (block, offset, length, slot_offset)
    cost : float
        Estimated ns per sample.
    """
    best = None
    for ratio in (2, 4, 8):
        for k_min in (1, 2, 3, 4, 6, 8, 12, 16, 1 << 30):
            mb = block_size
            while True:
                levels = _plan_levels(ntaps, block_size, zero_latency, ratio, k_min, mb)
                cost = convolver_cost(ntaps, block_size, zero_latency, levels)
                if best is None or cost < best[1]:
                    best = (levels, cost)
                if mb * ratio > max_block:
                    break
                mb *= ratio
    return best
