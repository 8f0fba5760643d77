"""Fixtures for the live-audio tests: a real JACK server and a probe stream.

The machines that run these tests have no sound card.  ``jack_server``
starts JACK2 with its clocked ``dummy`` backend and a 4-channel ``loopback``
driver (LIVE_AUDIO.md): what is played on ``loopback:playback_k`` comes
back on ``loopback:capture_k`` one period later.  ``probe`` is an
independent sounddevice stream that plays a test signal and records at the
same time.  A stream under test (DUT) is wired between them::

    probe out --> loopback 1,2 --> DUT in  -> graph ->  DUT out --> loopback 3,4 --> probe in

so the probe records the DUT's output ``DELAY`` frames after it played the
input (two passes through the loopback, each two periods at blocksize =
period), and every test compares that recording sample by sample with the
same graph run offline.

Without jackd the tests skip, unless ``STREAMDSP_REQUIRE_LIVE_AUDIO=1``
(set by CI), where they fail: a missing install step must not turn them
into skips.
"""

import functools
import os
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _jack  # noqa: E402

import streamdsp as sd  # noqa: E402

RATE = 48000
PERIOD = 256
REQUIRE = os.environ.get("STREAMDSP_REQUIRE_LIVE_AUDIO") == "1"


def unavailable(reason):
    """Skip, or fail when CI requires live audio."""
    if REQUIRE:
        pytest.fail(f"live audio required (STREAMDSP_REQUIRE_LIVE_AUDIO=1) but {reason}", pytrace=False)
    pytest.skip(reason)


class Server:
    """What the ``jack_server`` fixture yields."""

    def __init__(self, name, owned):
        self.device = "loopback"
        self.rate = RATE
        self.period = PERIOD
        self.name = name
        self.owned = owned
        # frames from a probe sample played to the DUT's output of it at the
        # probe: two loopback passes of two periods each (blocksize = period)
        self.delay = 4 * PERIOD


@pytest.fixture(scope="session")
def jack_server():
    """A running JACK server with a 4-channel loopback device (started here unless CI did)."""
    device = os.environ.get("STREAMDSP_LIVE_AUDIO_DEVICE")
    if device and _jack.available():
        try:
            present = "loopback:capture_4" in _jack.ports()
        except Exception:
            present = False
        if present:
            yield Server(os.environ.get("JACK_DEFAULT_SERVER"), owned=False)
            return
    if not _jack.available():
        unavailable("jackd (Debian package jackd2) is not installed")
    try:
        import sounddevice
    except OSError as e:
        unavailable(f"PortAudio is missing (Debian package libportaudio2): {e}")
    server = _jack.JackServer(rate=RATE, period=PERIOD, loopback=4)
    try:
        server.start()
    except RuntimeError as e:
        unavailable(str(e))
    # sounddevice scanned the host APIs at import, probably before the server
    sounddevice._terminate()
    sounddevice._initialize()
    try:
        yield Server(server.name, owned=True)
    finally:
        # PortAudio lets go of JACK before JACK goes (else abort at exit)
        sounddevice._terminate()
        server.stop()
        sounddevice._initialize()
        print(f"\njackd logged {server.xruns_logged()} xruns")


class Xruns:
    """Xruns flagged to any stream of these tests so far (DUTs and the probe)."""
    count = 0


def retry_on_xrun(test):
    """Run a sample-exact test again (twice at most) if it failed while an xrun was flagged.

    An xrun (a buffer the server dropped) breaks a recording by design, and
    on a loaded machine one happens every few minutes even at real-time
    priority; the xrun budget is checked by the counter tests.
    """
    @functools.wraps(test)
    def run(*args, **kwargs):
        for attempt in range(3):
            before = Xruns.count
            try:
                return test(*args, **kwargs)
            except AssertionError:
                if Xruns.count == before or attempt == 2:
                    raise
                warnings.warn(f"{test.__name__}: an xrun was flagged during attempt {attempt + 1}; "
                              f"running it again")
    return run


class Job:
    def __init__(self, signal, frames):
        self.signal = signal
        self.rec = np.zeros((frames, 2), dtype=np.float32)
        self.pos = 0
        self.offset = 0          # the signal starts at this recorded frame
        self.flagged = 0
        self.done = threading.Event()

    def wait(self, timeout=None):
        timeout = timeout or 5.0 + len(self.rec) / RATE * 2
        assert self.done.wait(timeout), "the probe stopped getting callbacks"
        Xruns.count += self.flagged
        return self.rec


class Probe:
    """Plays a signal on loopback 1,2 and records loopback 3,4, sample-locked (a plain sounddevice stream)."""

    def __init__(self, server):
        import sounddevice

        self.server = server
        before = set(_jack.ports())
        self._job = None
        self.stream = sounddevice.Stream(device=server.device, channels=2, samplerate=RATE,
                                         blocksize=PERIOD, dtype="float32", callback=self._callback)
        self.ports = [p for p in _jack.ports() if p not in before]
        self.stream.start()
        ins = sorted(p for p in self.ports if ":in_" in p)
        outs = sorted(p for p in self.ports if ":out_" in p)
        _jack.rewire([(outs[0], "loopback:playback_1"), (outs[1], "loopback:playback_2"),
                      ("loopback:capture_3", ins[0]), ("loopback:capture_4", ins[1])], self.ports)

    def _callback(self, indata, outdata, frames, time_info, status):
        job = self._job
        if job is None:
            outdata.fill(0)
            return
        p, sig = job.pos, job.signal
        q = p - job.offset
        n = max(0, min(frames, len(sig) - q)) if q >= 0 else 0
        outdata[:n] = sig[q:q + n]
        outdata[n:] = 0
        m = max(0, min(frames, len(job.rec) - p))
        job.rec[p:p + m] = indata[:m]
        job.flagged += bool(status)
        job.pos += frames
        if job.pos >= len(job.rec):
            self._job = None
            job.done.set()

    def start(self, signal, frames):
        """Play ``signal`` (n, 2) from the next callback on, recording ``frames`` frames meanwhile."""
        signal = np.ascontiguousarray(signal, dtype=np.float32)
        if signal.ndim == 1:
            signal = signal[:, None]
        if signal.shape[1] == 1:
            signal = np.repeat(signal, 2, axis=1)
        job = Job(signal, frames)
        self._job = job
        return job

    def play_and_record(self, signal, frames):
        return self.start(signal, frames).wait()

    def close(self):
        self.stream.stop()
        self.stream.close()


@pytest.fixture(scope="module")
def probe(jack_server):
    p = Probe(jack_server)
    try:
        yield p
    finally:
        p.close()


def wire_dut(ports, inputs=True, outputs=True):
    """Wire a stream's new ports: inputs from loopback 1,2; outputs to loopback 3,4."""
    ins = sorted((p for p in ports if ":in_" in p), key=lambda p: int(p.rsplit("_", 1)[1]))
    outs = sorted((p for p in ports if ":out_" in p), key=lambda p: int(p.rsplit("_", 1)[1]))
    wiring = []
    if inputs:
        wiring += [(f"loopback:capture_{k + 1}", p) for k, p in enumerate(ins)]
    if outputs:
        wiring += [(p, f"loopback:playback_{k + 3}") for k, p in enumerate(outs)]
    _jack.rewire(wiring, ports)


@contextmanager
def opened(make):
    """Open a stream with ``make()``, yield (stream, its new JACK ports); close it afterwards."""
    before = set(_jack.ports())
    stream = make()
    try:
        yield stream, [p for p in _jack.ports() if p not in before]
    finally:
        stream.close()


@contextmanager
def dut(graph, **kwargs):
    """A started AudioStream on the loopback device, wired between the probe's ends."""
    kwargs.setdefault("channels", 2)
    with opened(lambda: sd.AudioStream(graph, device="loopback", samplerate=RATE,
                                       blocksize=PERIOD, **kwargs)) as (stream, ports):
        stream.start()
        wire_dut(ports)
        try:
            yield stream
        finally:
            Xruns.count += stream.stats()["xruns"]


def offline(graph, x, frames):
    """``graph`` run offline over x (float32, chunks of PERIOD) padded with silence to ``frames``."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    pad = np.zeros((max(frames - len(x), 0), x.shape[1]), dtype=np.float32)
    full = np.concatenate([x, pad])[:frames]
    out = [graph.process(full[i:i + PERIOD]) for i in range(0, frames, PERIOD)]
    y = np.concatenate(out).reshape(frames, -1)
    return np.repeat(y, 2, axis=1) if y.shape[1] == 1 else y
