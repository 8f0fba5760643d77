#!/usr/bin/env python3
"""Live reverb while the main thread is busy: xruns and callback times, Python vs compiled callback.

Runs against a real, clocked JACK server (dummy backend, 4-channel loopback;
see shared/LIVE_AUDIO.md) that this script starts and stops itself, one per
blocksize (JACK period = blocksize).  For each run:

  * an AudioOutput (C callback) plays stereo white noise into loopback 1,2;
  * the stream under test, an AudioStream running the reverb, takes loopback
    1,2 as input and plays into loopback 3,4 (nobody listens);
  * meanwhile the main thread spins in a pure-Python busy loop with the
    default switch interval (5 ms), as a GUI, a plot or a parser would.

The reverb is the measured great hall (Debian guitarix-common,
greathall.wav: 2.3 s, stereo, 48 kHz), run as ``FIR(ir, method="fft",
block_size=B)`` (uniform partitions, latency B) or ``Convolver(ir,
block_size=B)`` (non-uniform partitions, latency 0).  "python" wraps the
same compiled graph in a Python callable, which forces sounddevice's Python
callback (the GIL path); "compiled" hands the graph to the C callback.

"control" runs an empty compiled callback (Gain(1.0)) under the same
conditions: its xruns are the ones the machine causes (other processes,
the hypervisor), whatever the callback does.

Reported per run: xruns PortAudio flagged (callbacks with an
under/overflow status), XRun lines in jackd's log, the worst and mean time
inside the callback against the period, an upper bound of its 99.9th
percentile and how many callbacks took more than a quarter of the period
(from the stream's callback-time histogram), and the longest gap between
two callback starts (for the Python callback this includes waiting for
the GIL, which its own timer cannot see).  Then the blocksizes at which
the compiled reverb ran the whole duration without an xrun.

"convolver-burst" is the Convolver with ``spread=False`` (each level's work
on the call that completes its block); "--ir-seconds 10" extends the hall
to 10 s (issue 13's live target) with a tail of noise that keeps decaying
at the rate the measured hall ends with.

    python benchmarks/live_xruns.py                     # 60 s per run
    python benchmarks/live_xruns.py --seconds 10 --blocksizes 128 64
    python benchmarks/live_xruns.py --ir-seconds 10 --reverb convolver convolver-burst \
        --no-python --blocksizes 64
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "live"))
import _jack  # noqa: E402

import streamdsp as sd  # noqa: E402

RATE = 48000
GREATHALL = "/usr/share/gx_head/sounds/greathall.wav"


def load_ir(seconds=None):
    import soundfile

    ir, rate = soundfile.read(GREATHALL, dtype="float64")
    assert rate == RATE and ir.shape[1] == 2, (rate, ir.shape)
    if seconds is None or seconds * RATE <= len(ir):
        return ir
    # the decay rate of the hall's last second (dB per sample, from its RMS envelope),
    # continued with noise from the level where it ends
    tail = ir[-RATE:]
    env = np.sqrt(np.convolve((tail ** 2).mean(axis=1), np.ones(4800) / 4800, mode="valid"))
    slope = (np.log(env[-1]) - np.log(env[0])) / (len(env) - 1)
    n = int(seconds * RATE) - len(ir)
    decay = env[-1] * np.exp(slope * np.arange(1, n + 1))
    ext = np.random.default_rng(5).standard_normal((n, 2)) * decay[:, None]
    return np.concatenate([ir, ext])


def make_reverb(kind, ir, block):
    if kind == "fir":
        return sd.FIR(ir, method="fft", block_size=block)
    if kind == "convolver":
        return sd.Convolver(ir, block_size=block)
    if kind == "convolver-burst":
        return sd.Convolver(ir, block_size=block, spread=False)
    return sd.Gain(1.0)                # the control: an empty callback under the same conditions


def histogram_tail(hist, bound):
    """Callbacks that certainly took longer than ``bound`` s (whole histogram buckets above it)."""
    return sum(n for upper, n in hist if upper / 2 >= bound)


def quantile_bound(hist, q):
    """Upper bound (s) of the bucket holding the q-quantile of callback times."""
    total = sum(n for _, n in hist)
    acc = 0
    for upper, n in hist:
        acc += n
        if acc >= q * total:
            return upper
    return float("nan")


def busy(seconds):
    """A pure-Python loop that never sleeps (it only lets go of the GIL every switch interval)."""
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        for i in range(2000):
            n += i & 7
    return n


def run(kind, ir, block, seconds, python):
    import sounddevice

    server = _jack.JackServer(rate=RATE, period=block, loopback=4).start()
    sounddevice._terminate()
    sounddevice._initialize()
    try:
        reverb = make_reverb(kind, ir, block)
        graph = (lambda x: reverb.process(x)) if python else reverb
        if python:
            reverb.prepare(2, "float32")
        noise = (0.1 * np.random.default_rng(0).standard_normal((int((seconds + 3) * RATE), 2))
                 ).astype(np.float32)
        player = sd.AudioOutput(device="loopback", samplerate=RATE, blocksize=block, channels=2,
                                buffer_seconds=seconds + 4)
        player.write(noise)            # all of it fits in the FIFO: no writing while busy
        before = set(_jack.ports())
        stream = sd.AudioStream(graph, device="loopback", samplerate=RATE, blocksize=block, channels=2)
        ports = [p for p in _jack.ports() if p not in before]
        player.start()
        stream.start()
        outs = sorted((p for p in ports if ":out_" in p), key=lambda p: int(p.rsplit("_", 1)[1]))
        ins = sorted((p for p in ports if ":in_" in p), key=lambda p: int(p.rsplit("_", 1)[1]))
        _jack.rewire([("loopback:capture_1", ins[0]), ("loopback:capture_2", ins[1]),
                      (outs[0], "loopback:playback_3"), (outs[1], "loopback:playback_4")], ports)
        time.sleep(0.5)
        start = stream.stats()
        busy(seconds)
        stats = stream.stats()
        stream.close()
        pstats = player.stats()
        player.close(wait=False)       # don't play the rest of the noise
    finally:
        sounddevice._terminate()
        server.stop()
        sounddevice._initialize()
    period = block / RATE
    return {
        "reverb": kind, "callback": "python" if python else "compiled", "blocksize": block,
        "seconds": seconds, "gil_free": stats["gil_free"],
        "callbacks": stats["callbacks"] - start["callbacks"],
        "xruns": stats["xruns"] - start["xruns"],
        "jackd_xruns": server.xruns_logged(),
        "max_callback_ms": stats["max_callback_s"] * 1e3,
        "mean_callback_ms": stats["mean_callback_s"] * 1e3,
        "max_interval_ms": stats["max_interval_s"] * 1e3,
        "period_ms": period * 1e3,
        "worst_load": stats["max_callback_s"] / period,
        "player_fifo_underflows": pstats["fifo_underflow_frames"],
        "graph_latency": stats["graph_latency"],
        "p999_callback_ms_at_most": quantile_bound(stats["callback_time_histogram"], 0.999) * 1e3,
        "callbacks_over_quarter_period": histogram_tail(stats["callback_time_histogram"], period / 4),
        "callbacks_over_period": histogram_tail(stats["callback_time_histogram"], period),
        "load_average": os.getloadavg()[0],
    }


def show(r):
    print(f"{r['reverb']:>9} {r['callback']:>8} B={r['blocksize']:<4} {r['seconds']:>4.0f} s: "
          f"callbacks {r['callbacks']:6d}  xruns {r['xruns']:4d} (jackd {r['jackd_xruns']:4d})  "
          f"callback mean {r['mean_callback_ms']:.3f} / max {r['max_callback_ms']:.3f} ms of "
          f"{r['period_ms']:.3f} ms ({r['worst_load']:.0%}), p99.9 <= {r['p999_callback_ms_at_most']:.3f} ms, "
          f"{r['callbacks_over_quarter_period']} over P/4  max gap {r['max_interval_ms']:.1f} ms  "
          f"load {r['load_average']:.1f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="per run (default: %(default)s)")
    parser.add_argument("--reverb", nargs="+", default=["fir", "convolver"],
                        choices=["fir", "convolver", "convolver-burst"])
    parser.add_argument("--ir-seconds", type=float, help="extend the hall to this length")
    parser.add_argument("--no-python", action="store_true", help="skip the Python-callback runs")
    parser.add_argument("--blocksizes", type=int, nargs="+", default=[128, 64, 32, 16],
                        help="smaller blocksizes to try for the compiled reverb (default: %(default)s)")
    parser.add_argument("--no-control", action="store_true",
                        help="skip the control runs (an empty compiled callback under the same load)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if not _jack.available():
        parser.exit(1, "jackd is not installed (Debian: apt-get install jackd2)\n")
    ir = load_ir(args.ir_seconds)
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs; running as uid {os.getuid()}")
    results = []
    kinds = list(args.reverb)
    print(f"impulse response: {ir.shape[0]} taps x {ir.shape[1]} channels")
    control = [] if args.no_control else ["control"]
    for kind in kinds:
        for python in (False,) if args.no_python else (True, False):
            results.append(run(kind, ir, 256, args.seconds, python))
            show(results[-1])
    for block in [256] + sorted(args.blocksizes, reverse=True):
        for kind in (kinds if block != 256 else []) + control:
            results.append(run(kind, ir, block, args.seconds, False))
            show(results[-1])
    for kind in kinds:
        clean = [r["blocksize"] for r in results if r["reverb"] == kind and r["callback"] == "compiled"
                 and r["xruns"] == 0 and r["jackd_xruns"] == 0]
        print(f"{kind}: blocksizes with no xrun in {args.seconds:g} s: {sorted(clean)}; smallest: "
              f"{min(clean) if clean else None}", flush=True)
    print(f"load average after: {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
