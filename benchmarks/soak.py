#!/usr/bin/env python3
"""Soak: 10**6 chunks through a 5-block chain in a Runner; memory and exactness.

The chain is FIR(41, direct) >> Gain >> Delay(13) >> FIR(256, fft) >> Gain,
fed with a periodic 2-channel signal (period 4801 frames) in chunks of
irregular sizes (0 to 2 x --chunk-size frames, so --chunk-size is the
mean), pushed from the main thread into a Runner (push mode, bounded
queue, overflow="block") or pulled from a source (--mode pull).  Every
output chunk is compared, as it arrives, with the chain's offline result
(scipy.signal.lfilter), which is periodic once the chain's memory has
filled.  Prints the resident set size (RSS, from /proc/self/statm) before
the run, after a warm-up of 5 % of the chunks and at the end, the
throughput, the worst chunk time and the largest error.

The issue's target: RSS flat within 2 MiB after warm-up.  Exit status 1
if the RSS grew by more than --max-growth-mib or the output differs from
the offline result by more than 1e-11 of its peak.

    python benchmarks/soak.py                       # 10**6 chunks, push mode
    python benchmarks/soak.py --chunks 200000 --mode pull --chunk-size 256
"""

import argparse
import os
import sys
import time

import numpy as np
from scipy import signal

import streamdsp as sd

PERIOD, CHANNELS, DELAY, G1, G2 = 4801, 2, 13, 0.8, -1.25
TAPS1 = signal.firwin(41, 0.3)
TAPS2 = np.random.default_rng(7).standard_normal(256) * np.exp(-np.arange(256) / 50)


def make_chain():
    return [sd.FIR(TAPS1, method="direct"), sd.Gain(G1), sd.Delay(DELAY),
            sd.FIR(TAPS2, method="fft", block_size=64), sd.Gain(G2)]


def offline(x):
    y = G1 * signal.lfilter(TAPS1, 1.0, x, axis=0)
    y = np.concatenate([np.zeros((DELAY, x.shape[1])), y])[:len(x)]
    return G2 * signal.lfilter(TAPS2, 1.0, y, axis=0)


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


class Checker:
    """Max |output - offline| over the stream, chunk by chunk, keeping nothing."""

    def __init__(self, period_x, latency, check=True):
        reps = (len(TAPS1) + DELAY + len(TAPS2)) // PERIOD + 3
        y = offline(np.tile(period_x, (reps, 1)))
        self.warm = (reps - 1) * PERIOD
        self.head = np.concatenate([np.zeros((latency, CHANNELS)), y[:self.warm]])
        self.template = y[self.warm:]
        self.latency, self.check = latency, check
        self.peak = float(np.max(np.abs(y)))
        self.n, self.max_err = 0, 0.0

    def __call__(self, chunk):
        k = len(chunk)
        if self.check and k:
            idx = np.arange(self.n, self.n + k)
            early = idx < len(self.head)
            exp = np.empty((k, CHANNELS))
            exp[early] = self.head[idx[early]]
            exp[~early] = self.template[(idx[~early] - self.latency) % PERIOD]
            self.max_err = max(self.max_err, float(np.max(np.abs(chunk - exp))))
        self.n += k


class PeriodicSource(sd.Source):
    """The periodic input in irregular chunks (pull mode)."""

    def __init__(self, x, sizes, chunks):
        self.x, self.sizes, self.chunks = x, sizes, chunks
        self.on_chunk = None

    def __iter__(self):
        pos = 0
        for i in range(self.chunks):
            k = int(self.sizes[i % len(self.sizes)])
            yield self.x[pos:pos + k]
            pos = (pos + k) % PERIOD
            if self.on_chunk is not None:
                self.on_chunk(i + 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=10 ** 6, help="chunks to push (default: %(default)s)")
    parser.add_argument("--chunk-size", type=int, default=64, help="mean frames per chunk (default: %(default)s)")
    parser.add_argument("--mode", choices=["push", "pull"], default="push", help="default: %(default)s")
    parser.add_argument("--queue-size", type=int, default=64, help="push queue, chunks (default: %(default)s)")
    parser.add_argument("--no-check", action="store_true", help="skip the comparison with the offline result")
    parser.add_argument("--max-growth-mib", type=float, default=2.0, help="default: %(default)s")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    period_x = rng.standard_normal((PERIOD, CHANNELS))
    x = np.tile(period_x, (2 + 2 * args.chunk_size // PERIOD + 1, 1))
    sizes = rng.integers(0, 2 * args.chunk_size + 1, size=8191)
    blocks = make_chain()
    latency = sum(b.latency for b in blocks)
    check = Checker(period_x, latency, not args.no_check)
    sink = sd.CallbackSink(check)
    warm_at = max(args.chunks // 20, 1)
    rss = {"start": rss_mib()}

    t0 = time.perf_counter()
    if args.mode == "push":
        runner = sd.Runner(sd.Flow(blocks=blocks, sink=sink), queue_size=args.queue_size, overflow="block")
        with runner:
            pos = 0
            for i in range(args.chunks):
                k = int(sizes[i % len(sizes)])
                runner.push(x[pos:pos + k])
                pos = (pos + k) % PERIOD
                if i + 1 == warm_at:
                    rss["warm"] = rss_mib()
    else:
        src = PeriodicSource(x, sizes, args.chunks)
        src.on_chunk = lambda i: rss.__setitem__("warm", rss_mib()) if i == warm_at else None
        runner = sd.Runner(sd.Flow(src, blocks, sink)).start()
        runner.join()
    wall = time.perf_counter() - t0
    rss["end"] = rss_mib()

    st = runner.stats()
    growth = rss["end"] - rss["warm"]
    err = check.max_err / check.peak
    print(f"chain: {' >> '.join(type(b).__name__ for b in blocks)}  (latency {latency})")
    print(f"{args.mode} mode: {st['chunks']} chunks, {st['frames']} frames x {CHANNELS} ch, "
          f"mean chunk {st['frames'] / max(st['chunks'], 1):.1f} frames")
    print(f"time: {wall:.1f} s, {st['chunks'] / wall:,.0f} chunks/s, {st['frames'] / wall / 1e6:.2f} Mframes/s; "
          f"per chunk mean {st['mean_chunk_s'] * 1e6:.1f} us, worst {st['max_chunk_s'] * 1e3:.2f} ms")
    print(f"queue high-water {st['queue_high_water']} of {args.queue_size}, drops {st['drops']}")
    print(f"RSS: start {rss['start']:.1f} MiB, after warm-up ({warm_at} chunks) {rss['warm']:.1f} MiB, "
          f"end {rss['end']:.1f} MiB: growth {growth:+.2f} MiB")
    if check.check:
        print(f"max |output - offline| = {err:.2e} of the peak")
    ok = growth <= args.max_growth_mib and (not check.check or err <= 1e-11) and check.n == st["frames"] + latency
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
