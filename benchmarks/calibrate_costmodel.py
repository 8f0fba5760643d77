"""Measure what streamdsp/_core/_costmodel.py assumes, on this machine.

    python benchmarks/calibrate_costmodel.py

Prints ns per output sample of the direct FIR kernel over a range of taps
and of the uniformly partitioned FFT path over a range of partition sizes
(float32 mono, long chunks, best of several runs), and the constants a
least-squares fit gives.  The cost model only has to rank the methods, so
round numbers near the fit are fine; the note on the foundation issue
records the run the committed constants came from.
"""

import math
import time

import numpy as np

import streamdsp as sd


def ns_per_sample(block, n=1 << 16, reps=5):
    x = np.random.default_rng(0).standard_normal(4096).astype(np.float32)
    out = np.empty_like(x)
    for _ in range(4):
        block.process(x, out=out)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(n // 4096):
            block.process(x, out=out)
        best = min(best, time.perf_counter() - t)
    return best / n * 1e9


def main():
    taps = [8, 16, 32, 64, 128, 256, 512]
    direct = [ns_per_sample(sd.FIR(np.ones(k), method="direct")) for k in taps]
    A = np.stack([np.ones(len(taps)), taps], 1)
    fixed, per_tap = np.linalg.lstsq(A, direct, rcond=None)[0]
    print("direct: taps -> ns/sample:", dict(zip(taps, np.round(direct, 2))))
    print(f"  fit: DIRECT_NS_FIXED={fixed:.3f} DIRECT_NS_PER_TAP={per_tap:.4f}")

    rows, ys = [], []
    for P in [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]:
        for nparts in [1, 4, 16]:
            k = P * nparts
            t = ns_per_sample(sd.FIR(np.ones(k), method="fft", block_size=P))
            n = 2 * P
            rows.append([1.0, 2 * n * math.log2(n) / P, nparts])
            ys.append(t)
            print(f"fft: P={P} nparts={nparts}: {t:.2f} ns/sample")
    c = np.linalg.lstsq(np.array(rows), np.array(ys), rcond=None)[0]
    print(f"  fit: FFT_NS_FIXED={c[0]:.3f} FFT_NS_PER_POINT_LOG={c[1]:.4f} MAC_NS_PER_BIN={c[2]:.4f}")


if __name__ == "__main__":
    main()
