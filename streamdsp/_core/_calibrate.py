"""Measure the cost model's constants on this machine (``streamdsp calibrate``).

The direct FIR kernel is timed over a range of taps and the partitioned FFT
path over partition sizes and partition counts (float32 mono, 4096-frame
chunks, the best of several runs), and the model's formulas are fitted to
the times by non-negative least squares:

* direct: ``ns/sample = fixed + per_tap * ntaps``;
* FFT: ``ns/sample = (2 * per_nlogn * n * log2(n) + per_block) / P + mac * nparts``
  with ``n = 2P``.

The Correlator's constants were fitted together with the FIR's on the
reference machine (:data:`_costmodel.SHIPPED` ``x86-64-v4``); here they are
scaled by the same ratios as the FIR's (direct per tap, transform, per
block, multiply-accumulate), which keeps its engines ranked as they were
against each other.  It all takes a few seconds; the result goes to
:func:`_costmodel.cache_path` and is used from the next import on.
"""

import math
import os
import time

import numpy as np

from streamdsp._core import _costmodel

DIRECT_TAPS = (8, 16, 32, 64, 128, 256, 512)
FFT_GRID = [(P, nparts) for P in (32, 64, 128, 256, 512, 1024, 2048, 4096) for nparts in (1, 4, 16)]


def ns_per_sample(block, frames=1 << 17, reps=7, chunk=4096):
    """Best ns per output sample of ``block`` over ``reps`` runs of ``frames`` float32 frames."""
    x = np.random.default_rng(0).standard_normal(chunk).astype(np.float32)
    out = np.empty_like(x)
    for _ in range(3):
        block.process(x, out=out)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(max(1, frames // chunk)):
            block.process(x, out=out)
        best = min(best, time.perf_counter() - t)
    return best / (max(1, frames // chunk) * chunk) * 1e9


def measure(progress=None):
    """Time the kernels and fit the constants; return them as :data:`_costmodel.SHIPPED` holds them."""
    from scipy.optimize import nnls

    import streamdsp as sd

    say = progress or (lambda text: None)
    direct = []
    for k in DIRECT_TAPS:
        direct.append(ns_per_sample(sd.FIR(np.ones(k), method="direct")))
        say(f"direct FIR, {k:5d} taps: {direct[-1]:7.2f} ns/sample")
    (fixed, per_tap), _ = nnls(np.stack([np.ones(len(DIRECT_TAPS)), DIRECT_TAPS], 1), np.array(direct))

    rows, ys = [], []
    for P, nparts in FFT_GRID:
        t = ns_per_sample(sd.FIR(np.ones(P * nparts), method="fft", block_size=P))
        n = 2 * P
        rows.append([2 * n * math.log2(n) / P, 1.0 / P, nparts])
        ys.append(t)
        say(f"FFT FIR, partition {P:5d} x {nparts:2d}: {t:7.2f} ns/sample")
    (per_nlogn, per_block, mac), _ = nnls(np.array(rows), np.array(ys))

    ref = _costmodel.SHIPPED["x86-64-v4"]
    r_tap = per_tap / ref["direct_ns_per_tap"]
    r_fft = per_nlogn / ref["fft_ns_per_point_log"]
    r_block = per_block / ref["fft_ns_per_block"]
    r_mac = mac / ref["mac_ns_per_bin"]
    c = ref["correlator"]
    correlator = {"direct_per_tap": c["direct_per_tap"] * r_tap,
                  "direct_fixed": c["direct_fixed"] * r_block,
                  "per_nlogn": c["per_nlogn"] * r_fft,
                  "per_point": c["per_point"] * r_fft,
                  "per_block": c["per_block"] * r_block,
                  "mac_per_bin": c["mac_per_bin"] * r_mac}
    return {"direct_ns_per_tap": float(per_tap), "direct_ns_fixed": float(fixed),
            "fft_ns_per_point_log": float(per_nlogn), "mac_ns_per_bin": float(mac),
            "fft_ns_per_block": float(per_block),
            "correlator": {k: float(v) for k, v in correlator.items()}}


def save(constants, path=None):
    """Write ``constants`` with this CPU's level and the date to the cache file; return its path.

    Written beside the target and renamed, so a reader never sees half a file.
    """
    import json
    import platform

    path = path or _costmodel.cache_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    record = {"isa": _costmodel.isa_level(), "machine": platform.processor() or platform.machine(),
              "date": time.strftime("%Y-%m-%d %H:%M:%S"), "constants": constants}
    tmp = f"{path}.{os.getpid()}.part"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, path)
    return path
