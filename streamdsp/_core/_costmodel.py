"""Which algorithm a block should run, decided by costs measured on this machine kind.

The numbers below come from ``benchmarks/bench_fir.py`` (direct kernel and
partitioned FFT path timed over a grid of taps and chunk sizes, float32,
2-vCPU Xeon with AVX-512, portable build); see the note on the foundation
issue.  They only have to rank the methods, not predict absolute times.

This is the one FFT cost model of the package: FIR, SavitzkyGolay, Convolver
and Correlator all plan with :func:`transform_pair_ns` / :func:`fft_cost`.
The Correlator ranks its own engines with a second calibration of the same
formula (``CORRELATOR_NS``), measured together so they rank against each other.
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

# The same model calibrated for the Correlator (float32, same machine,
# benchmarks/bench_correlator.py): its chunk engine computes short runs of
# outputs, so per-point work and a larger per-block cost show, and its direct
# pieces run sd_fir 64 outputs at a time.  Float64 costs about twice as much
# on both paths, so the ranking holds for it too.
CORRELATOR_NS = {
    "direct_per_tap": 0.024,   # per output sample per tap
    "direct_fixed": 60.0,      # per direct piece
    "per_nlogn": 0.045,        # one real transform of n points: this * n * log2(n)
    "per_point": 0.35,         # products, copies and zero padding per point
    "per_block": 250.0,        # per transform pair
    "mac_per_bin": 0.37,       # the partitioned engine: per partition per sample
}


def direct_cost(ntaps):
    """Estimated ns per output sample of the direct kernel."""
    return DIRECT_NS_FIXED + DIRECT_NS_PER_TAP * ntaps


def transform_pair_ns(n, per_nlogn=FFT_NS_PER_POINT_LOG, per_point=0.0, per_block=FFT_NS_PER_BLOCK):
    """Estimated ns of one block of the FFT path over ``n`` points.

    The one FFT cost formula every planner uses: a forward and an inverse
    transform (``per_nlogn * n * log2(n)`` each), ``per_point`` for the
    products, copies and zero padding, and ``per_block`` for the fixed work
    of a block.  The defaults are the FIR calibration; the Correlator's
    chunk engine passes its own (``CORRELATOR_NS``).
    """
    import math
    return 2 * per_nlogn * n * math.log2(n) + per_point * n + per_block


def fft_cost(ntaps, block_size, per_nlogn=FFT_NS_PER_POINT_LOG, per_point=0.0,
             per_block=FFT_NS_PER_BLOCK, mac_per_bin=MAC_NS_PER_BIN, fixed=FFT_NS_FIXED):
    """Estimated ns per output sample of uniformly partitioned overlap-save.

    Blocks of ``block_size`` new samples through transforms of twice that,
    plus one complex multiply-accumulate per bin and partition.
    """
    nparts = -(-ntaps // block_size)
    block = transform_pair_ns(2 * block_size, per_nlogn, per_point, per_block)
    return fixed + block / block_size + mac_per_bin * nparts


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


def _plan_levels(ntaps, block_size, zero_latency, ratio, k_min, max_block, slack=False):
    """Partition levels [(B, offset, length, slot_offset)] for one choice of knobs.

    With ``slack`` every level after the first starts a whole block of its
    own later than it could (slot_offset >= 1), the time its work needs when
    it is spread over the calls of the following block.
    """
    lat = 0 if zero_latency else block_size
    cur = block_size if zero_latency else 0
    levels = []
    B = block_size
    start = cur
    while cur < ntaps:
        nb = B * ratio
        if (nb <= max_block and (cur - start) // B >= k_min
                and (cur + lat) % nb == 0 and cur + lat >= (2 if slack else 1) * nb):
            levels.append((B, start, cur - start, (start + lat - B) // B))
            B, start = nb, cur
            continue
        cur += B
    if ntaps > start:
        levels.append((B, start, ntaps - start, (start + lat - B) // B))
    return levels


def convolver_cost(ntaps, block_size, zero_latency, levels):
    """Estimated ns per output sample of a head plus partition levels."""
    cost = DIRECT_NS_FIXED + (DIRECT_NS_PER_TAP * min(block_size, ntaps) if zero_latency else 0.0)
    for B, _, length, _ in levels:
        cost += fft_cost(length, B)
    return cost


def convolver_plan(ntaps, block_size, zero_latency=True, max_block=65536, slack=False):
    """The cheapest non-uniform partitioning of ``ntaps`` found by a small search.

    Partitions grow by a ratio (2, 4 or 8) once ``k_min`` of them are in place
    at a level and the next level's block lines up with its offset (a level of
    block B can only start where offset + latency is a multiple of B, so that
    its output falls due on a whole number of its blocks).  Uniform
    partitioning is one of the candidates.  ``slack``: every level after the
    first keeps one block of its own in hand (see ``_plan_levels``), for a
    convolver that spreads each level's work over time.

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
                levels = _plan_levels(ntaps, block_size, zero_latency, ratio, k_min, mb, slack)
                cost = convolver_cost(ntaps, block_size, zero_latency, levels)
                if best is None or cost < best[1]:
                    best = (levels, cost)
                if mb * ratio > max_block:
                    break
                mb *= ratio
    return best


def correlator_block_ns(n):
    """Estimated ns of one block of the Correlator's chunk engine over ``n`` points."""
    c = CORRELATOR_NS
    return transform_pair_ns(n, c["per_nlogn"], c["per_point"], c["per_block"])


def correlator_partitioned_ns(plan, block_size, ntaps):
    """Estimated ns per sample of the Convolver ``plan`` a Correlator runs.

    Its direct head plus, per level, the :func:`fft_cost` of that level with
    the Correlator's calibration, so that it ranks against the chunk engine's
    costs (:func:`transform_pair_ns` with ``CORRELATOR_NS``).
    """
    c = CORRELATOR_NS
    ns = c["direct_per_tap"] * min(block_size, ntaps)
    for B, _, n in plan:
        ns += fft_cost(n, B, c["per_nlogn"], c["per_point"], c["per_block"],
                       c["mac_per_bin"], fixed=0.0)
    return ns
