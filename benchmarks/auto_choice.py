"""How often FIR(method="auto") picks the faster path here, with each set of cost constants.

    python benchmarks/auto_choice.py

Over the FIR benchmark grid (benchmarks/bench_fir.py's taps and chunk sizes,
plus the taps in between where the choice flips), it times the direct
kernel and the FFT path at every partition size, in the same run, and
counts for each constant set (the shipped ones per x86-64 level, and the
ones `streamdsp calibrate` measures at the start of this run) how often
its choice of method is the faster one, and how much slower its choice
(method and partition) runs than the fastest, as a ratio.
"""

import numpy as np

import streamdsp as sd
from streamdsp._core import _calibrate, _costmodel as cm

TAPS = [16, 32, 64, 96, 128, 192, 256, 384, 512, 1024, 4096]
CHUNKS = [64, 256, 4096]


def main():
    calibrated = {**{f"shipped {k}": v for k, v in cm.SHIPPED.items()},
                  "calibrated here": _calibrate.measure()}
    right = {name: 0 for name in calibrated}
    ratios = {name: [] for name in calibrated}
    cells = 0
    for ntaps in TAPS:
        taps = np.ones(ntaps) / ntaps
        for chunk in CHUNKS:
            times = {("direct", None): _calibrate.ns_per_sample(
                sd.FIR(taps, method="direct"), chunk=chunk, reps=5, frames=1 << 15)}
            P = 8
            while P <= 8192:
                times[("fft", P)] = _calibrate.ns_per_sample(
                    sd.FIR(taps, method="fft", block_size=P), chunk=chunk, reps=5, frames=1 << 15)
                if P >= 2 * ntaps:
                    break
                P *= 2
            best = min(times.values())
            fft_best = min(t for (m, _), t in times.items() if m == "fft")
            faster = "direct" if times[("direct", None)] <= fft_best else "fft"
            cells += 1
            line = [f"taps={ntaps:5d} chunk={chunk:4d}: direct {times[('direct', None)]:6.2f}, "
                    f"best fft {fft_best:6.2f} ns/sample -> {faster:6s}"]
            for name, c in calibrated.items():
                method = cm.fir_method(ntaps, c)
                key = ("direct", None) if method == "direct" else ("fft", cm.fft_partition(ntaps, constants=c))
                if key not in times:          # a partition beyond the ones timed
                    times[key] = _calibrate.ns_per_sample(
                        sd.FIR(taps, method="fft", block_size=key[1]), chunk=chunk, reps=5,
                        frames=1 << 15)
                right[name] += method == faster
                ratios[name].append(times[key] / best)
                line.append(f"{name.split()[-1]}: {method}{'' if key[1] is None else key[1]}")
            print("  ".join(line), flush=True)
    print(f"\n{cells} cells (taps x chunk), float32 mono")
    for name in calibrated:
        r = np.array(ratios[name])
        print(f"{name:26s}: faster method chosen in {right[name]}/{cells}; chosen/fastest time: "
              f"mean {r.mean():.2f}, max {r.max():.2f}")


if __name__ == "__main__":
    main()
