"""``streamdsp devices``/``live`` and the live examples, run as a user would, against JACK.

The subprocesses find the test's JACK server through ``JACK_DEFAULT_SERVER``
(set by the ``jack_server`` fixture); each is its own PortAudio client,
connected by default to ``loopback`` 1,2, where the probe plays.
"""

import os
import signal as signals
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from scipy import signal

import streamdsp as sd
from conftest import PERIOD, RATE

pytestmark = pytest.mark.live

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# `python -m` puts its cwd first on sys.path: run from here, not from the
# checkout's root, where it would import the uncompiled sources
HERE = os.path.dirname(os.path.abspath(__file__))


def env():
    e = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(sd.__file__)))
    e["PYTHONPATH"] = os.pathsep.join(p for p in [package_root, e.get("PYTHONPATH")] if p)
    return e


def test_cli_devices_lists_the_jack_devices(jack_server):
    proc = subprocess.run([sys.executable, "-m", "streamdsp._cli", "devices"], env=env(), cwd=HERE,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "loopback, JACK Audio Connection Kit (4 in, 4 out)" in proc.stdout


def test_cli_live_runs_until_ctrl_c_printing_counters(jack_server):
    proc = subprocess.Popen([sys.executable, "-m", "streamdsp._cli", "live", "--chain",
                             "gain:0.5 | delay:48", "-d", "loopback", "-b", str(PERIOD)],
                            env=env(), cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines = []
    try:
        while len(lines) < 2:                   # it prints the counters once a second
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
    finally:
        proc.send_signal(signals.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "C callback, no GIL" in err and "press Ctrl-C" in err
    lines = [line for line in lines + out.splitlines() if line.startswith("callbacks=")]
    assert len(lines) >= 2
    callbacks = int(lines[-1].split()[0].split("=")[1])
    assert callbacks >= 0.9 * len(lines) * RATE / PERIOD   # about one second's worth per line
    assert "xruns=" in lines[-1] and "max_callback=" in lines[-1]


def test_live_reverb_example_runs_and_saves_what_it_played(jack_server, tmp_path):
    proc = subprocess.run([sys.executable, str(EXAMPLES / "live_reverb.py"), "-d", "loopback",
                           "--seconds", "1", "--out-dir", str(tmp_path / "out")], env=env(),
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "C callback without the GIL" in proc.stdout and "done:" in proc.stdout
    info = soundfile.info(tmp_path / "out" / "live_reverb.wav")
    assert info.samplerate == RATE and info.channels == 2
    assert 0.9 * RATE <= info.frames <= RATE


def test_record_example_records_the_high_passed_input(jack_server, probe, tmp_path):
    t = np.arange(int(0.4 * RATE)) / RATE
    x = np.stack([0.3 * np.sin(2 * np.pi * 440 * t) + 0.2,          # a tone on a DC offset
                  0.3 * signal.chirp(t, 200, t[-1], 4000)], axis=1).astype(np.float32)
    job = probe.start(np.zeros((0, 2), np.float32), 4 * RATE)     # silence until the recorder runs
    proc = subprocess.Popen([sys.executable, str(EXAMPLES / "record.py"), "-d", "loopback", "-c", "2",
                             "--seconds", "2", "--highpass", "50", "--out-dir", str(tmp_path)],
                            env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while not proc.stdout.readline().startswith("recording") and time.monotonic() < deadline:
            pass
        job.offset = job.pos + PERIOD      # play from the next callback on
        job.signal = x
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "0 frames dropped" in out
    y, rate = soundfile.read(tmp_path / "record.flac", dtype="float64")
    assert rate == RATE and y.shape == (2 * RATE, 2)
    k = int(np.flatnonzero(np.abs(y).max(axis=1) > 1e-4)[0])
    # what the file should hold: x (as played, in float32) from frame k, high-passed
    xin = np.zeros_like(y)
    n = min(len(x), len(y) - k)
    xin[k:k + n] = x[:n]
    sos = signal.butter(4, 50, btype="highpass", fs=RATE, output="sos")
    expected = signal.sosfilt(sos, xin, axis=0)
    np.testing.assert_allclose(y, expected, rtol=0, atol=2e-6)
