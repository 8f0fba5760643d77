#!/usr/bin/env python3
"""Find chirps buried in noise with a streamed, normalised matched filter.

Synthesises --seconds of white noise at 16 kHz with 50 ms chirps (100 Hz to
7 kHz, Hann-tapered) added at known, random positions, 8 dB below the
noise (invisible in the waveform).  The signal is streamed chunk by chunk
through sd.Correlator(chirp, normalize=True, threshold=..., distance=...):
its output is the Pearson correlation coefficient of every 50 ms window
with the chirp, and each excursion above the threshold is reported at its
peak as an event (sample index of the chirp's last sample, lag = where it
starts, score, channel); ``distance`` merges the side peaks of one chirp's
oscillating correlation into its main peak.  The events are printed next to the true positions, and a
plot of the signal, the score and the detections is written to --out-dir
(default: ./streamdsp-out/) as matched_filter.png.

The normalised score does not depend on the chirps' amplitude or on a DC
offset, so one threshold works for loud and quiet signals alike.  On a
2-vCPU cloud machine the detector runs about 4000x faster than real time
(16 kHz, 800-sample template, chunks of 1024, float32).

Needs streamdsp, numpy, scipy and matplotlib.  For example:

    python examples/matched_filter.py
    python examples/matched_filter.py --seconds 60 --snr -14 --threshold 0.15
"""

import argparse
import os
import sys
import time

import numpy as np
from scipy import signal

import streamdsp as sd

RATE = 16000


def make_chirp(rate=RATE, seconds=0.05, f0=100.0, f1=7000.0):
    """The template: a linear chirp with a Hann taper."""
    t = np.arange(int(round(seconds * rate))) / rate
    return signal.chirp(t, f0, t[-1], f1) * np.hanning(len(t))


def make_scene(seconds, template, snr_db, seed=0):
    """Noise with copies of the template at random, well-separated positions.

    Returns the signal (float32) and the true start positions (sorted).
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * RATE))
    m = len(template)
    count = max(1, int(seconds * 2))
    slots = np.arange(m, max(n - 2 * m, m + 1), 3 * m)          # one chirp per slot at most
    starts = np.sort(rng.choice(slots, size=min(count, len(slots)), replace=False))
    starts = starts + rng.integers(0, m, size=len(starts))
    starts = starts[starts + m <= n]
    noise_rms = np.sqrt(np.mean(template ** 2)) * 10 ** (-snr_db / 20)
    x = noise_rms * rng.standard_normal(n)
    for s in starts:
        x[s:s + m] += template
    return x.astype(np.float32), [int(s) for s in starts]


def compare(events, truth, tolerance=2):
    """Pair events with true starts; return (matched pairs, missed starts, false events)."""
    left = list(truth)
    pairs, false = [], []
    for e in events:
        near = [s for s in left if abs(e.lag - s) <= tolerance]
        if near:
            left.remove(near[0])
            pairs.append((near[0], e))
        else:
            false.append(e)
    return pairs, left, false


def plot(path, x, score, template, threshold, truth, events):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = np.arange(len(x)) / RATE
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True)
    a0.plot(t, x, linewidth=0.4, color="0.5", label="signal (noise + chirps)")
    for k, s in enumerate(truth):
        a0.axvspan(s / RATE, (s + len(template)) / RATE, color="tab:green", alpha=0.25,
                   label="true chirp" if k == 0 else None)
    a0.set_ylabel("amplitude")
    a0.legend(loc="upper right", fontsize=8)
    a1.plot(t, score, linewidth=0.5, label="Pearson score")
    a1.axhline(threshold, color="tab:red", linestyle="--", linewidth=0.8, label=f"threshold {threshold}")
    a1.plot([e.index / RATE for e in events], [e.score for e in events], "v", color="tab:red",
            label="events")
    a1.set_xlabel("time (s)")
    a1.set_ylabel("score")
    a1.set_ylim(-0.5, 1.0)
    a1.legend(loc="upper right", fontsize=8)
    fig.suptitle("Matched filter: chirps buried in noise", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", metavar="S", type=float, default=10.0,
                        help="length of the synthetic signal (default: %(default)s)")
    parser.add_argument("--snr", metavar="DB", type=float, default=-8.0,
                        help="chirp-to-noise power ratio in dB (default: %(default)s)")
    parser.add_argument("--threshold", metavar="R", type=float, default=0.2,
                        help="detection threshold on the Pearson score (default: %(default)s)")
    parser.add_argument("--chunk", metavar="N", type=int, default=1024,
                        help="frames per chunk streamed through the detector (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--out-dir", metavar="DIR", default="streamdsp-out",
                        help="where to write matched_filter.png (default: ./%(default)s/)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.chunk <= 0:
        parser.exit(1, "ValueError: --seconds and --chunk must be positive\n")

    template = make_chirp()
    x, truth = make_scene(args.seconds, template, args.snr, args.seed)
    detector = sd.Correlator(template, normalize=True, threshold=args.threshold,
                             distance=len(template))

    t0 = time.perf_counter()
    score = np.empty_like(x)
    for i in range(0, len(x), args.chunk):
        detector.process(x[i:i + args.chunk], out=score[i:i + args.chunk])
    detector.flush()
    elapsed = time.perf_counter() - t0
    events = detector.events()

    print(f"{len(x)} samples ({args.seconds:g} s at {RATE} Hz), {len(truth)} chirps of "
          f"{len(template)} samples at {args.snr:g} dB, threshold {args.threshold}")
    print(f"detector: {detector!r}; {elapsed * 1e3:.1f} ms, "
          f"{len(x) / RATE / max(elapsed, 1e-9):.0f}x faster than real time")
    pairs, missed, false = compare(events, truth)
    print(f"{'true start':>10}  {'found lag':>9}  {'error':>5}  {'score':>6}")
    for s, e in pairs:
        print(f"{s:10d}  {e.lag:9d}  {e.lag - s:5d}  {e.score:6.3f}")
    for s in missed:
        print(f"{s:10d}  {'missed':>9}")
    for e in false:
        print(f"{'-':>10}  {e.lag:9d}  {'false':>5}  {e.score:6.3f}")
    print(f"found {len(pairs)} of {len(truth)} chirps, {len(false)} false alarms")

    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "matched_filter.png")
    plot(path, x, score, template, args.threshold, truth, events)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
