#!/usr/bin/env python3
"""What the browser scope costs while a stream runs, and whether the audio thread notices.

Against a real, clocked JACK server (dummy backend, 4-channel loopback; see
shared/LIVE_AUDIO.md) that this script starts and stops itself:

  * an AudioOutput (C callback) plays a 1 kHz sine into loopback 1,2;
  * the stream under test, an AudioStream running the measured great-hall
    reverb (``Convolver``, Debian guitarix-common's greathall.wav), takes
    loopback 1,2 and plays into loopback 3,4, with a 1 s RingBuffer as its
    ``monitor``;
  * for each phase a fresh stream runs ``--seconds``: without a scope; with
    ``sd.scope(ring, stream=stream)`` serving but no page open; with 1 and 3
    pages open in headless chromium (playwright); at 15 redraws a second
    unless ``--refresh``.  Then the same with the reverb wrapped in a Python
    callable (sounddevice's Python callback, which needs the GIL).

Reported per phase: CPU time used, as % of one core, by this process, by
the scope's server thread alone (/proc/self/task) and by the browser's
processes (/proc, descendants of this process); and the stream's callbacks,
xruns, worst and mean callback time, the bucket bound of its 99.9th
percentile (from the stream's callback-time histogram) and its longest gap
between two callbacks.

    python benchmarks/scope_cpu.py                    # 20 s per phase
    python benchmarks/scope_cpu.py --seconds 60 --json scope.json
"""

import argparse
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "live"))
sys.path.insert(0, str(HERE))
import _jack  # noqa: E402
from live_xruns import RATE, load_ir, quantile_bound  # noqa: E402

import streamdsp as sd  # noqa: E402

BLOCK = 256
TICK = os.sysconf("SC_CLK_TCK")


def _stat_cpu(path):
    """utime + stime (s) from a /proc/.../stat file."""
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _children():
    """{pid: (comm, ppid)} of every process."""
    procs = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                text = (d / "stat").read_text()
            except OSError:
                continue
            comm = text[text.index("(") + 1:text.rindex(")")]
            procs[int(d.name)] = (comm, int(text.rsplit(")", 1)[1].split()[1]))
    return procs


def browser_cpu():
    """CPU seconds used so far by this process's descendants whose name starts with 'chrom'."""
    procs = _children()
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {p for p, (_, pp) in procs.items() if pp in frontier} - mine
        mine |= frontier
    total = 0.0
    for p in mine:
        if procs[p][0].startswith("chrom"):
            try:
                total += _stat_cpu(f"/proc/{p}/stat")
            except OSError:
                pass
    return total


def thread_cpu(native_id):
    try:
        return _stat_cpu(f"/proc/self/task/{native_id}/stat")
    except OSError:
        return 0.0


class Player:
    """A 1 kHz sine on loopback 1,2 from an AudioOutput, fed by a thread."""

    def __init__(self):
        self.out = sd.AudioOutput(device="loopback", samplerate=RATE, blocksize=BLOCK, channels=2,
                                  buffer_seconds=0.5)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self):
        n = 0
        while not self.stop.is_set():
            x = 0.5 * np.sin(2 * np.pi * 1000.0 * (n + np.arange(4800)) / RATE)
            self.out.write(np.repeat(x[:, None], 2, axis=1).astype(np.float32))
            n += 4800

    def close(self):
        self.stop.set()
        self.thread.join()
        self.out.close(wait=False)


def phase(name, graph, pages, seconds, refresh, browser):
    ring = sd.RingBuffer(1.0, samplerate=RATE, channels=2)
    before = set(_jack.ports())
    stream = sd.AudioStream(graph, device="loopback", samplerate=RATE, blocksize=BLOCK, channels=2,
                            monitor=ring)
    ports = [p for p in _jack.ports() if p not in before]
    scope, tabs = None, []
    try:
        stream.start()
        outs = sorted(p for p in ports if ":out_" in p)
        ins = sorted(p for p in ports if ":in_" in p)
        _jack.rewire([("loopback:capture_1", ins[0]), ("loopback:capture_2", ins[1]),
                      (outs[0], "loopback:playback_3"), (outs[1], "loopback:playback_4")], ports)
        if pages is not None:
            scope = sd.scope(ring, stream=stream, port=0, refresh=refresh)
            for _ in range(pages):
                tab = browser.new_page()
                tab.goto(scope.url)
                tab.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0")
                tabs.append(tab)
        time.sleep(1.0)
        server = next((t for t in threading.enumerate() if t.name == "streamdsp-scope"), None)
        start = (stream.stats(), sum(os.times()[:2]), browser_cpu(),
                 thread_cpu(server.native_id) if server else 0.0, time.monotonic(),
                 scope.updates if scope else 0)
        # the playwright calls above run on this thread; now it only sleeps
        time.sleep(seconds)
        end = (stream.stats(), sum(os.times()[:2]), browser_cpu(),
               thread_cpu(server.native_id) if server else 0.0, time.monotonic(),
               scope.updates if scope else 0)
    finally:
        for tab in tabs:
            tab.close()
        if scope is not None:
            scope.close()
        stream.close()
    wall = end[4] - start[4]
    s0, s1 = start[0], end[0]
    hist = s1["callback_time_histogram"]
    return {
        "phase": name, "callback": "compiled" if s1["gil_free"] else "python", "pages": pages,
        "refresh": refresh if pages is not None else None, "seconds": wall,
        "process_cpu_pct": 100 * (end[1] - start[1]) / wall,
        "scope_thread_cpu_pct": 100 * (end[3] - start[3]) / wall,
        "browser_cpu_pct": 100 * (end[2] - start[2]) / wall,
        "redraws_per_s": (end[5] - start[5]) / wall,
        "callbacks": s1["callbacks"] - s0["callbacks"],
        "xruns": s1["xruns"] - s0["xruns"],
        "max_callback_ms": 1e3 * s1["max_callback_s"],
        "mean_callback_ms": 1e3 * s1["mean_callback_s"],
        "p999_callback_ms_at_most": 1e3 * quantile_bound(hist, 0.999),
        "max_interval_ms": 1e3 * s1["max_interval_s"],
        "load_average": os.getloadavg()[0],
    }


# (label, key, format) of each column show() prints
COLUMNS = [("process", "process_cpu_pct", "{:5.1f} %"), ("scope thread", "scope_thread_cpu_pct", "{:5.1f} %"),
           ("browser", "browser_cpu_pct", "{:5.1f} %"), ("redraws/s", "redraws_per_s", "{:4.1f} |"),
           ("callbacks", "callbacks", "{:6d}"), ("xruns", "xruns", "{:3d}"),
           ("callback mean", "mean_callback_ms", "{:.3f}"), ("max", "max_callback_ms", "{:.3f}"),
           ("p99.9 <=", "p999_callback_ms_at_most", "{:.3f} ms"), ("max gap", "max_interval_ms", "{:.2f} ms"),
           ("load", "load_average", "{:.1f}")]


def show(r):
    cells = "  ".join(f"{label} {fmt.format(r[key])}" for label, key, fmt in COLUMNS)
    print(f"{r['callback']:>8} {r['phase']:<14} {cells}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase (default: %(default)s)")
    parser.add_argument("--refresh", type=float, default=15.0, help="redraws a second (default: %(default)s)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if not _jack.available():
        parser.exit(1, "jackd is not installed (Debian: apt-get install jackd2)\n")
    if shutil.which("chromium") is None:
        parser.exit(1, "chromium is not installed (Debian: apt-get install chromium)\n")
    from playwright.sync_api import sync_playwright
    import sounddevice

    reverb = sd.Convolver(load_ir(), block_size=BLOCK)
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs; uid {os.getuid()}; "
          f"{args.seconds:g} s per phase", flush=True)
    server = _jack.JackServer(rate=RATE, period=BLOCK, loopback=4).start()
    sounddevice._terminate()
    sounddevice._initialize()
    results = []
    try:
        player = Player()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            try:
                for python in (False, True):
                    reverb.reset()
                    graph = (lambda x: reverb.process(x)) if python else reverb
                    for name, pages in (("no scope", None), ("scope, 0 pages", 0),
                                        ("scope, 1 page", 1), ("scope, 3 pages", 3), ("no scope again", None)):
                        results.append(phase(name, graph, pages, args.seconds, args.refresh, browser))
                        show(results[-1])
            finally:
                browser.close()
        player.close()
    finally:
        sounddevice._terminate()
        server.stop()
        sounddevice._initialize()
    print(f"jackd logged {server.xruns_logged()} xruns; load average after: {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
