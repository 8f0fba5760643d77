"""Soak (CI-sized): a 5-block chain in a Runner over many chunks, memory flat, output exact.

A periodic input (period P) through a chain of finite memory gives, once
the chain's memory has filled, a periodic output with the same period;
scipy computes that period offline, and every output chunk is checked
against it as it arrives, so nothing has to be kept.  The long version
(10**6 chunks) is benchmarks/soak.py.
"""

import os
import time

import numpy as np
from scipy import signal

import streamdsp as sd

PERIOD = 4801          # frames; prime-ish, so chunk boundaries drift over the period
CHANNELS = 2
TAPS1 = signal.firwin(41, 0.3)
TAPS2 = np.random.default_rng(7).standard_normal(256) * np.exp(-np.arange(256) / 50)
DELAY = 13
G1, G2 = 0.8, -1.25


def make_chain():
    return [sd.FIR(TAPS1, method="direct"), sd.Gain(G1), sd.Delay(DELAY),
            sd.FIR(TAPS2, method="fft", block_size=64), sd.Gain(G2)]


def offline(x):
    y = G1 * signal.lfilter(TAPS1, 1.0, x, axis=0)
    y = np.concatenate([np.zeros((DELAY, x.shape[1])), y])[:len(x)]
    return G2 * signal.lfilter(TAPS2, 1.0, y, axis=0)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeriodicChecker:
    """Compares each output chunk with the offline result as it arrives."""

    def __init__(self, period_x, latency):
        memory = len(TAPS1) + DELAY + len(TAPS2)
        reps = memory // PERIOD + 3
        y = offline(np.tile(period_x, (reps, 1)))
        self.warm = (reps - 1) * PERIOD                # a multiple of PERIOD, past the chain's memory
        self.head = np.concatenate([np.zeros((latency, CHANNELS)), y[:self.warm]])
        self.template = y[self.warm:]                  # y[n] = template[n % PERIOD] for n >= warm
        # periodic already one period earlier: the steady state is reached
        assert np.allclose(y[self.warm - PERIOD:self.warm], self.template, rtol=0, atol=1e-12)
        self.latency = latency
        self.peak = float(np.max(np.abs(y)))
        self.n = 0
        self.max_err = 0.0

    def __call__(self, chunk):
        k = len(chunk)
        idx = np.arange(self.n, self.n + k)
        exp = np.empty((k, CHANNELS))
        early = idx < len(self.head)
        exp[early] = self.head[idx[early]]
        exp[~early] = self.template[(idx[~early] - self.latency) % PERIOD]
        if k:
            self.max_err = max(self.max_err, float(np.max(np.abs(chunk - exp))))
        self.n += k


def test_soak_memory_flat_and_output_exact_over_many_chunks():
    rng = np.random.default_rng(0)
    period_x = rng.standard_normal((PERIOD, CHANNELS))
    signal_x = np.tile(period_x, (3, 1))               # read cyclically
    blocks = make_chain()
    latency = sum(b.latency for b in blocks)
    check = PeriodicChecker(period_x, latency)
    flow = sd.Flow(blocks=blocks, sink=sd.CallbackSink(check))
    assert len(flow.blocks) == 5
    sizes = rng.integers(0, 400, size=4096)             # irregular chunks, 0 and 1 included
    sizes[::97] = 0
    sizes[::89] = 1

    budget_s, chunks = 10.0, 0
    pos = 0
    t0 = time.perf_counter()
    rss = {}
    with sd.Runner(flow, queue_size=16, overflow="block") as r:
        while True:
            k = int(sizes[chunks % len(sizes)])
            r.push(signal_x[pos:pos + k])
            pos = (pos + k) % PERIOD
            chunks += 1
            if chunks == 20000:
                while r.stats()["queued"]:
                    time.sleep(0.001)
                rss["warm"] = rss_bytes()
            if chunks >= 20000 and (chunks >= 300000 or time.perf_counter() - t0 > budget_s):
                break
    rss["end"] = rss_bytes()
    st = r.stats()
    assert st["chunks"] == chunks and st["drops"] == 0
    assert check.n == st["frames"] + latency            # everything out, plus the flushed tail
    assert check.max_err <= 1e-11 * check.peak, f"max error {check.max_err:.3g} (peak {check.peak:.3g})"
    growth = rss["end"] - rss["warm"]
    print(f"\nsoak: {chunks} chunks, {st['frames']} frames in {time.perf_counter() - t0:.1f} s "
          f"({chunks / (time.perf_counter() - t0):.0f} chunks/s); RSS {rss['warm'] / 2**20:.1f} -> "
          f"{rss['end'] / 2**20:.1f} MiB; worst chunk {st['max_chunk_s'] * 1e6:.0f} us")
    assert chunks >= 50000, "too few chunks to call it a soak"
    assert growth <= 2 * 2 ** 20, f"RSS grew by {growth / 2**20:.2f} MiB after warm-up"
