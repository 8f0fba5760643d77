"""Which algorithm a block should run, decided by costs measured on a machine.

This is the one FFT cost model of the package: FIR, SavitzkyGolay, Convolver
and Correlator all plan with :func:`transform_pair_ns` / :func:`fft_cost`.
The Correlator ranks its own engines with a second calibration of the same
formula (``CORRELATOR_NS``), measured together so they rank against each other.

The constants in use (:data:`SOURCE` says which, ``streamdsp calibrate
--show`` prints it) are, in this order:

1. the ones ``streamdsp calibrate`` measured on this machine, stored in the
   user's cache folder (:func:`cache_path`; like FFTW's wisdom), if they were
   measured on a CPU of the same x86-64 level;
2. else the shipped defaults for the CPU's x86-64 level (:data:`SHIPPED`):
   ``x86-64-v4`` (AVX-512) were fitted on a 2-vCPU Xeon, ``x86-64-v3``
   (AVX2 + FMA) on a 2-vCPU AMD EPYC, both with benchmarks/calibrate_costmodel.py;
   other CPUs get the ``x86-64-v3`` ones.

``STREAMDSP_COSTMODEL=<level>`` (e.g. ``x86-64-v4``) forces a shipped set and
ignores the cache (the test suite pins its choices that way).  The constants
are read once, when the package is imported.  They only have to rank the
methods, not predict absolute times.
"""

import os

# Direct kernel: ns per output sample per tap, plus a per-sample constant for
# the copy and shift around the kernel.
# FFT path per output sample: two transforms of 2P points per P samples,
# nparts complex multiply-accumulates per bin, and a fixed cost per block
# (copies, clearing the accumulator, calls) spread over its P samples.
# Correlator: its chunk engine computes short runs of outputs, so per-point
# work and a larger per-block cost show, and its direct pieces run sd_fir 64
# outputs at a time (benchmarks/bench_correlator.py).  Float64 costs about
# twice as much on both paths, so the ranking holds for it too.
SHIPPED = {
    "x86-64-v4": {
        "direct_ns_per_tap": 0.0215, "direct_ns_fixed": 0.235,
        "fft_ns_per_point_log": 0.049, "mac_ns_per_bin": 0.32, "fft_ns_per_block": 145.0,
        "correlator": {"direct_per_tap": 0.024, "direct_fixed": 60.0, "per_nlogn": 0.045,
                       "per_point": 0.35, "per_block": 250.0, "mac_per_bin": 0.37},
    },
    # `streamdsp calibrate` x3 on a 2-vCPU AMD EPYC (AVX2), medians, 2026-12-03
    "x86-64-v3": {
        "direct_ns_per_tap": 0.0334, "direct_ns_fixed": 0.80,
        "fft_ns_per_point_log": 0.131, "mac_ns_per_bin": 0.40, "fft_ns_per_block": 104.0,
        "correlator": {"direct_per_tap": 0.0373, "direct_fixed": 43.0, "per_nlogn": 0.120,
                       "per_point": 0.93, "per_block": 180.0, "mac_per_bin": 0.46},
    },
}
_FALLBACK_LEVEL = "x86-64-v3"
CACHE_FILE = "costmodel.json"


def isa_level():
    """The CPU's x86-64 micro-architecture level: ``"x86-64-v4"``, ``"x86-64-v3"`` or ``"other"``.

    Read from the ``flags`` line of /proc/cpuinfo (Linux); elsewhere ``"other"``.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
            else:
                return "other"
    except OSError:
        return "other"
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        return "x86-64-v4"
    if {"avx2", "fma", "bmi2"} <= flags:
        return "x86-64-v3"
    return "other"


def cache_path():
    """Where ``streamdsp calibrate`` stores this machine's constants.

    ``$STREAMDSP_CACHE_DIR``, else ``$XDG_CACHE_HOME/streamdsp``, else
    ``~/.cache/streamdsp``; the file is ``costmodel.json``.
    """
    folder = os.environ.get("STREAMDSP_CACHE_DIR")
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "streamdsp")
    return os.path.join(folder, CACHE_FILE)


def _valid(constants):
    want = set(SHIPPED[_FALLBACK_LEVEL])
    if not isinstance(constants, dict) or set(constants) != want:
        return False
    corr = constants["correlator"]
    if not isinstance(corr, dict) or set(corr) != set(SHIPPED[_FALLBACK_LEVEL]["correlator"]):
        return False
    values = [v for k, v in constants.items() if k != "correlator"] + list(corr.values())
    return all(isinstance(v, (int, float)) and 0 <= v < 1e6 for v in values)


def load():
    """``(constants, source)``: the constants to use here and a sentence saying where they are from."""
    level = isa_level()
    forced = os.environ.get("STREAMDSP_COSTMODEL", "")
    if forced in SHIPPED:
        return SHIPPED[forced], f"shipped defaults for {forced} (forced by STREAMDSP_COSTMODEL)"
    shipped = SHIPPED.get(level, SHIPPED[_FALLBACK_LEVEL])
    shipped_source = f"shipped defaults for {level if level in SHIPPED else _FALLBACK_LEVEL}" + \
        ("" if level in SHIPPED else f" (this CPU is {level})")
    path = cache_path()
    if not os.path.exists(path):
        return shipped, f"{shipped_source}; run 'streamdsp calibrate' to measure this machine"
    import json

    try:
        with open(path, encoding="utf-8") as f:
            stored = json.load(f)
    except (OSError, ValueError) as e:
        return shipped, f"{shipped_source} ({path} is unreadable: {e})"
    if not isinstance(stored, dict) or not _valid(stored.get("constants")):
        return shipped, f"{shipped_source} ({path} is not a streamdsp calibration)"
    if stored.get("isa") != level:
        return shipped, (f"{shipped_source} ({path} was measured on an {stored.get('isa')} CPU, "
                         f"this one is {level})")
    return stored["constants"], f"calibrated on this machine ({path}, {stored.get('date', '?')})"


ACTIVE, SOURCE = load()

DIRECT_NS_PER_TAP = ACTIVE["direct_ns_per_tap"]
DIRECT_NS_FIXED = ACTIVE["direct_ns_fixed"]
FFT_NS_PER_POINT_LOG = ACTIVE["fft_ns_per_point_log"]   # a transform of n points: this * n * log2(n)
MAC_NS_PER_BIN = ACTIVE["mac_ns_per_bin"]
FFT_NS_PER_BLOCK = ACTIVE["fft_ns_per_block"]
FFT_NS_FIXED = 0.0
CORRELATOR_NS = dict(ACTIVE["correlator"])


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


def fft_partition(ntaps, max_block=8192, constants=None):
    """Partition size (power of two) minimising :func:`fft_cost` for ``ntaps``.

    ``constants`` (as in :data:`SHIPPED`) replace the ones in use, to compare sets.
    """
    c = constants or ACTIVE
    best, best_cost = 8, float("inf")
    p = 8
    while p <= max_block:
        cost = fft_cost(ntaps, p, c["fft_ns_per_point_log"], 0.0, c["fft_ns_per_block"],
                        c["mac_ns_per_bin"], FFT_NS_FIXED)
        if cost < best_cost:
            best, best_cost = p, cost
        if p >= 2 * ntaps:
            break
        p *= 2
    return best


def fir_method(ntaps, constants=None):
    """``"direct"`` or ``"fft"``, whichever is estimated cheaper for ``ntaps``."""
    c = constants or ACTIVE
    p = fft_partition(ntaps, constants=c)
    fft = fft_cost(ntaps, p, c["fft_ns_per_point_log"], 0.0, c["fft_ns_per_block"],
                   c["mac_ns_per_bin"], FFT_NS_FIXED)
    direct = c["direct_ns_fixed"] + c["direct_ns_per_tap"] * ntaps
    return "direct" if direct <= fft else "fft"


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
