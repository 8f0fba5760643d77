"""The compiled callback runs while the main thread holds the GIL; a Python callback cannot.

Each check runs in a subprocess (its own PortAudio client of the same JACK
server): holding the GIL for a second with ``sys.setswitchinterval(10)``
would also stall the Python callbacks of the other streams in this process
(PortAudio's JACK backend runs every stream of a process from one JACK
thread).
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import PERIOD, RATE

pytestmark = pytest.mark.live

SCRIPT = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import streamdsp as sd

    kind, hold_s = sys.argv[1], float(sys.argv[2])

    class HalfGain(sd.Block):
        def process(self, x, out=None):
            return 0.5 * np.asarray(x)

    if kind == "compiled":
        # a stereo FFT reverb: the compiled callback has real work to do
        ir = np.random.default_rng(0).standard_normal((48000, 2)) * np.exp(-np.arange(48000) / 8000.0)[:, None]
        graph = sd.FIR(ir, method="fft", block_size={period})
    else:
        graph = HalfGain()
    stream = sd.AudioStream(graph, device="loopback", samplerate={rate}, blocksize={period}, channels=2)
    with stream:
        time.sleep(0.3)
        before = stream.stats()
        sys.setswitchinterval(10)          # the main thread keeps the GIL for the whole loop
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < hold_s:
            pass
        during = stream.stats()            # read while still holding the GIL
        wall = time.perf_counter() - t0
        sys.setswitchinterval(0.005)
        time.sleep(0.2)
        after = stream.stats()
    print(json.dumps({{"gil_free": stream.gil_free, "wall": wall,
                      "callbacks": during["callbacks"] - before["callbacks"],
                      "xruns": during["xruns"] - before["xruns"],
                      "max_interval_s": after["max_interval_s"],
                      "max_callback_s": after["max_callback_s"]}}))
""").format(rate=RATE, period=PERIOD)


def hold_gil(kind, seconds):
    env = dict(os.environ)
    # from the tests folder: `python -c` puts its cwd first on sys.path, and
    # from the checkout's root that would import the uncompiled sources
    proc = subprocess.run([sys.executable, "-c", SCRIPT, kind, str(seconds)], env=env,
                          cwd=os.path.dirname(os.path.abspath(__file__)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_compiled_callback_keeps_running_while_the_main_thread_holds_the_gil(jack_server):
    r = hold_gil("compiled", 1.0)
    assert r["gil_free"] is True
    expected = r["wall"] / (PERIOD / RATE)
    # every buffer of that second was processed, on time, with the GIL taken
    assert abs(r["callbacks"] - expected) <= 0.03 * expected + 2, r
    assert r["xruns"] <= 1, r
    assert r["max_callback_s"] < PERIOD / RATE


def test_python_callback_stalls_while_the_main_thread_holds_the_gil(jack_server):
    r = hold_gil("python", 0.2)
    assert r["gil_free"] is False
    assert r["callbacks"] <= 1, r                 # it waited for the GIL
    assert r["max_interval_s"] >= 0.15, r         # a 200 ms gap: an audible dropout
