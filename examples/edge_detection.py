#!/usr/bin/env python3
"""Find steps and ramps in a noisy sensor trace, and edges in an image row: 1-D edge detection.

Edge detection is convolution with a derivative: a step in a signal becomes
a pulse in its derivative, a ramp becomes a plateau.  This example streams
a sensor-like trace (--seconds at 100 Hz: slow drift, white and 1/f noise,
a few spikes, 10 mV ADC steps, with level steps and ramps of 1.5-3 s at
random, known times) through

  * sd.SavitzkyGolay(51, 2, deriv=1): the smoothed derivative (0.5 s
    window), whose noise is far lower than that of a finite difference;
  * two sd.Correlator(template, normalize=True, threshold=0.8) on the
    derivative and its negative: the template is the derivative's shape
    at an ideal step, so each rising (channel 0) or falling (channel 1)
    step is one threshold event, while a ramp, whose derivative is a long
    plateau, scores low;
  * and a third pair whose template is a ramp's derivative (a plateau of
    --ramp-seconds with the filter's rounded edges), which reports ramps.

The events are printed next to the true positions with the recall and the
false detections, and edge_detection.png in --out-dir (default:
./streamdsp-out/) plots the trace, the derivative, the scores and the
detections.  The same detector then runs on one row of a real photograph
(matplotlib's grace_hopper.jpg sample image): a small window (7 pixels)
finds the edges along the row, plotted below the trace.

Needs streamdsp, numpy, scipy and matplotlib.  For example:

    python examples/edge_detection.py
    python examples/edge_detection.py --seconds 600 --chunk 64
"""

import argparse
import os
import sys

import numpy as np
from scipy import signal

import streamdsp as sd

RATE = 100.0


def make_trace(seconds, rate=RATE, seed=0):
    """A sensor-like trace with steps and ramps at known times.

    Returns ``(trace, steps, ramps)``: steps as ``(index, height)``, ramps as
    ``(start, end, height)`` (sample indices).
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    level = np.zeros(n)
    steps, ramps = [], []
    pos = int(rng.uniform(4, 8) * rate)
    while pos < n - 6 * rate:
        height = rng.choice([-1, 1]) * rng.uniform(1.0, 3.0)
        if rng.random() < 0.5:
            level[pos:] += height
            steps.append((pos, height))
            pos += int(rng.uniform(5, 10) * rate)
        else:
            length = int(rng.uniform(1.6, 2.4) * rate)
            level[pos:pos + length] += height * np.arange(length) / length
            level[pos + length:] += height
            ramps.append((pos, pos + length, height))
            pos += length + int(rng.uniform(5, 10) * rate)
    drift = 0.4 * np.sin(2 * np.pi * 0.01 * t + rng.uniform(0, 2 * np.pi))
    white = 0.12 * rng.standard_normal(n)
    pink = signal.lfilter([1.0], [1.0, -0.995], 0.01 * rng.standard_normal(n))
    spikes = np.zeros(n)
    spikes[rng.integers(0, n, max(1, n // 3000))] = rng.choice([-1, 1], max(1, n // 3000)) * 1.5
    trace = np.round((level + drift + white + pink + spikes) / 0.01) * 0.01   # a 10 mV ADC
    return trace, steps, ramps


def derivative_template(shape, window, polyorder, rate):
    """What the Savitzky-Golay derivative makes of ``shape`` (a step or a ramp), trimmed."""
    d = signal.savgol_filter(shape, window, polyorder, deriv=1, delta=1 / rate, mode="interp")
    keep = np.flatnonzero(np.abs(d) > 1e-9 * np.max(np.abs(d)))
    return d[max(0, keep[0] - window // 4):keep[-1] + window // 4 + 1]


class EdgeDetector:
    """Savitzky-Golay derivative, then normalised correlators for steps and for ramps.

    The Pearson score tests the shape only, so smoothed noise can match it
    too; an event is kept only where the derivative is also as high as a
    step (or ramp) of ``min_height`` makes it.
    """

    def __init__(self, rate, window, polyorder, ramp_samples, threshold, min_height):
        # mode="nearest": a trace shorter than the window still gets a derivative
        self.sg = sd.SavitzkyGolay(window, polyorder, deriv=1, delta=1 / rate, mode="nearest")
        pad = 2 * window
        step = np.r_[np.zeros(pad), np.ones(pad)]
        ramp = np.r_[np.zeros(pad), np.arange(ramp_samples) / ramp_samples, np.ones(pad)]
        self.ramp_samples = ramp_samples
        self.step_template = derivative_template(step, window, polyorder, rate)
        self.ramp_template = derivative_template(ramp, window, polyorder, rate)
        self.step_gate = min_height * np.max(self.step_template)
        self.ramp_gate = min_height * np.max(self.ramp_template)
        # channel 0: the derivative (rising edges), channel 1: its negative (falling)
        self.steps = sd.Correlator(self.step_template, normalize=True, threshold=threshold,
                                   distance=len(self.step_template))
        self.ramps = sd.Correlator(self.ramp_template, normalize=True, threshold=threshold,
                                   distance=len(self.ramp_template))

    def process(self, chunk):
        d = self.sg.process(chunk)
        both = np.stack([d, -d], axis=1)
        return d, self.steps.process(both), self.ramps.process(both)

    def flush(self):
        d = self.sg.flush()
        both = np.stack([d, -d], axis=1)
        return (d, np.concatenate([self.steps.process(both), self.steps.flush()]),
                np.concatenate([self.ramps.process(both), self.ramps.flush()]))

    def found(self, d):
        """``(steps, ramps)``: ``(centre, sign)`` and ``(start, end, sign)`` in input samples.

        ``d`` is the derivative aligned with the input (the SG latency dropped).
        """
        lat = self.sg.latency
        sign = lambda e: 1 if e.channel == 0 else -1   # noqa: E731
        edge = (len(self.ramp_template) - self.ramp_samples) // 2
        ramps = []
        for e in self.ramps.events():
            a = e.lag + edge - lat
            b = a + self.ramp_samples
            if sign(e) * np.median(d[max(a, 0):max(b, 1)]) >= self.ramp_gate:
                ramps.append((a, b, sign(e)))
        peak = int(np.argmax(self.step_template))
        steps = []
        for e in self.steps.events():
            c = e.lag + peak - lat
            inside_ramp = any(a - 5 <= c <= b + 5 for a, b, _ in ramps)
            if not inside_ramp and 0 <= c < len(d) and sign(e) * d[c] >= self.step_gate:
                steps.append((c, sign(e)))
        return steps, ramps


def run_trace(trace, rate, window, polyorder, ramp_seconds, threshold, min_height, chunk):
    """Stream ``trace`` through an :class:`EdgeDetector`; return its outputs and findings."""
    det = EdgeDetector(rate, window, polyorder, int(ramp_seconds * rate), threshold, min_height)
    parts = [det.process(trace[i:i + chunk]) for i in range(0, len(trace), chunk)]
    parts.append(det.flush())
    d = np.concatenate([p[0] for p in parts])[det.sg.latency:][:len(trace)]
    step_score = np.concatenate([p[1] for p in parts])
    ramp_score = np.concatenate([p[2] for p in parts])
    steps, ramps = det.found(d)
    return d, step_score, ramp_score, steps, ramps


def match(true_positions, found_positions, tolerance):
    """``(hits, false)``: true positions with a found one within ``tolerance``, found ones matching none."""
    hits = sum(any(abs(f - t) <= tolerance for f in found_positions) for t in true_positions)
    false = sum(not any(abs(f - t) <= tolerance for t in true_positions) for f in found_positions)
    return hits, false


def image_row():
    """One row of matplotlib's sample photograph, grey levels in [0, 1]."""
    import matplotlib.cbook as cbook
    import matplotlib.pyplot as plt

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        img = plt.imread(f, format="jpeg").astype(float) / 255.0
    grey = img[..., :3] @ [0.299, 0.587, 0.114]
    return grey[len(grey) // 3]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", metavar="S", type=float, default=120.0,
                        help="length of the sensor trace (default: %(default)s)")
    parser.add_argument("--ramp-seconds", metavar="S", type=float, default=2.0,
                        help="duration of the ramps looked for (default: %(default)s)")
    parser.add_argument("--threshold", metavar="R", type=float, default=0.8,
                        help="Pearson score that reports an edge (default: %(default)s)")
    parser.add_argument("--min-height", metavar="H", type=float, default=0.5,
                        help="smallest step or ramp reported, in the trace's units "
                             "(default: %(default)s)")
    parser.add_argument("--chunk", metavar="N", type=int, default=256,
                        help="frames per chunk (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--out-dir", metavar="DIR", default="streamdsp-out",
                        help="where to write edge_detection.png (default: ./%(default)s/)")
    args = parser.parse_args(argv)

    trace, true_steps, true_ramps = make_trace(args.seconds, RATE, args.seed)
    d, step_score, ramp_score, steps, ramps = run_trace(
        trace, RATE, 51, 2, args.ramp_seconds, args.threshold, args.min_height, args.chunk)
    tol = int(0.3 * RATE)
    step_hits, step_false = match([p for p, _ in true_steps], [p for p, _ in steps], tol)
    mids = lambda rs: [(a + b) / 2 for a, b, *_ in rs]   # noqa: E731
    ramp_hits, ramp_false = match(mids(true_ramps), mids(ramps), int(0.5 * RATE))
    print(f"sensor trace: {len(trace)} samples ({args.seconds:g} s at {RATE:g} Hz), "
          f"{len(true_steps)} steps and {len(true_ramps)} ramps")
    for pos, sign in steps:
        print(f"  step {'up  ' if sign > 0 else 'down'} at {pos / RATE:8.2f} s")
    for a, b, sign in ramps:
        print(f"  ramp {'up  ' if sign > 0 else 'down'} {a / RATE:8.2f} .. {b / RATE:8.2f} s")
    print(f"steps found: {step_hits}/{len(true_steps)}, false: {step_false}; "
          f"ramps found: {ramp_hits}/{len(true_ramps)}, false: {ramp_false}")

    row = image_row()
    # grey levels in [0, 1]: an edge of 0.1 or more, over 7 pixels
    _, _, _, row_edges, _ = run_trace(row, 1.0, 7, 2, 20, args.threshold, 0.1, args.chunk)
    print(f"image row: {len(row)} pixels, {len(row_edges)} edges")

    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "edge_detection.png")
    plot(path, trace, d, step_score, ramp_score, steps, ramps, true_steps, true_ramps,
         row, row_edges)
    print(f"wrote {path}")
    return 0


def plot(path, trace, d, step_score, ramp_score, steps, ramps, true_steps, true_ramps, row,
         row_edges):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(len(trace)) / RATE
    fig, axes = plt.subplots(4, 1, figsize=(11, 10), layout="constrained")
    ax = axes[0]
    ax.plot(t, trace, lw=0.5, color="0.4", label="trace")
    for pos, _ in true_steps:
        ax.axvline(pos / RATE, color="C2", lw=3, alpha=0.25)
    for a, b, _ in true_ramps:
        ax.axvspan(a / RATE, b / RATE, color="C2", alpha=0.25)
    for pos, sign in steps:
        ax.axvline(pos / RATE, color="C3" if sign > 0 else "C0", lw=0.9, ls="--")
    for a, b, sign in ramps:
        ax.axvspan(a / RATE, b / RATE, color="C3" if sign > 0 else "C0", alpha=0.2)
    ax.set(title="sensor trace: true edges (green), found steps (dashed) and ramps (shaded)",
           xlabel="time [s]", xlim=(0, t[-1]))
    axes[1].plot(t, d, lw=0.6)
    axes[1].set(title="Savitzky-Golay derivative (51 samples, order 2)", ylabel="units/s",
                xlabel="time [s]", xlim=(0, t[-1]))
    ts = np.arange(len(step_score)) / RATE
    axes[2].plot(ts, step_score[:, 0], lw=0.6, label="step up")
    axes[2].plot(ts, step_score[:, 1], lw=0.6, label="step down")
    axes[2].plot(np.arange(len(ramp_score)) / RATE, ramp_score[:, 0], lw=0.6, label="ramp up")
    axes[2].plot(np.arange(len(ramp_score)) / RATE, ramp_score[:, 1], lw=0.6, label="ramp down")
    axes[2].set(title="Correlator scores (Pearson), first 30 s: noise matches the shape too, "
                      "so events also need the derivative's height",
                ylim=(-1, 1), xlabel="time [s]", xlim=(0, min(30.0, t[-1])))
    axes[2].legend(ncols=4, loc="lower right")
    axes[3].plot(row, color="0.3", lw=0.8)
    for pos, sign in row_edges:
        axes[3].axvline(pos, color="C3" if sign > 0 else "C0", lw=0.8, ls="--")
    axes[3].set(title="one row of grace_hopper.jpg: edges found (red: darker to lighter)",
                xlabel="pixel", ylabel="grey level", xlim=(0, len(row)))
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
