"""The browser scope in a real headless browser, over a 1 kHz sine played through a real JACK server.

Chromium (Debian package ``chromium``) driven by playwright (pip); the
browser is the system's, never one ``playwright install`` would download.
Both are required: without them these tests fail and say what to install.
The scope's numbers are read from the page's Bokeh document, where the
page's own JavaScript put them, and a screenshot of each page is saved
under the test's tmp dir (its path is printed).
"""

import queue
import re
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import _jack
import streamdsp as sd
from conftest import PERIOD, RATE, dut
from test_live_cli_examples import HERE, env

pytestmark = pytest.mark.live

FREQ = 1000.0
AMPLITUDE = 0.5
READOUT = "Bokeh.documents[0].get_model_by_name('streamdsp-scope-readout').data"
METERS = "Bokeh.documents[0].get_model_by_name('streamdsp-scope-meters').data"
TIMEOUT_MS = 30000


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium under playwright; fails (never skips) when either is missing."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("the scope tests need the Debian package chromium (apt-get install chromium); "
                    ".ci/run installs it", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the scope tests need playwright (pip install playwright; do not run "
                    "`playwright install`: the system's chromium is used)", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox"], timeout=TIMEOUT_MS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def sine(jack_server):
    """A 1 kHz sine (amplitude 0.5, both channels) played on loopback 1,2 until the test ends.

    Played by an AudioOutput (a C callback fed from a thread), not by the
    Python-callback probe: the scope's thread shares the GIL with a Python
    callback and would make it late, flagging xruns on every client.
    """
    out = sd.AudioOutput(samplerate=RATE, blocksize=PERIOD, device=jack_server.device, channels=2,
                         buffer_seconds=0.2)
    stop = threading.Event()

    def feed():
        n, chunk = 0, 4800
        while not stop.is_set():
            x = AMPLITUDE * np.sin(2 * np.pi * FREQ * (n + np.arange(chunk)) / RATE)
            out.write(np.repeat(x[:, None], 2, axis=1).astype(np.float32))
            n += chunk

    feeder = threading.Thread(target=feed, name="sine feeder", daemon=True)
    feeder.start()
    try:
        yield out
    finally:
        stop.set()
        feeder.join(10)
        out.close(wait=False)
    assert not feeder.is_alive()


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1000, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_function(f"() => window.Bokeh && Bokeh.documents.length > 0 && {READOUT}.frames[0] > 0")
    return page


def columns(page, source):
    """A Bokeh data source's columns as seen by the page, {name: list}."""
    return page.evaluate(f"() => Object.fromEntries(Object.entries({source})"
                         f".map(([k, v]) => [k, Array.from(v)]))")


def readout(page):
    return columns(page, READOUT)


def wait_for_tone(page):
    """The readout once the spectrum shows the tone (the ring fills within a few refreshes)."""
    page.wait_for_function(f"() => Math.abs({READOUT}.peak_hz[0] - {FREQ}) < 20")
    # one more refresh, so that the whole FFT window holds the tone
    frames = readout(page)["frames"][0]
    page.wait_for_function(f"() => {READOUT}.frames[0] > {frames + 4096}")
    return readout(page)


def assert_frame_counter_advances(page, samplerate=RATE):
    before = readout(page)["frames"][0]
    t0 = time.monotonic()
    page.wait_for_function(f"() => {READOUT}.frames[0] >= {before + int(0.5 * samplerate)}")
    after = readout(page)["frames"][0]
    # at the stream's pace: half a second of frames takes about half a second to arrive
    assert after > before and time.monotonic() - t0 > 0.3


def screenshot(page, tmp_path, name):
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscope screenshot: {path}")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_scope_shows_the_1khz_sine_played_through_jack(jack_server, sine, browser, tmp_path):
    ring = sd.RingBuffer(1.0, samplerate=RATE, channels=2)
    with dut(sd.Gain(1.0), monitor=ring) as stream, sd.scope(ring, stream=stream, port=0) as s:
        page = open_page(browser, s.url)
        try:
            got = wait_for_tone(page)
            assert abs(got["peak_hz"][0] - FREQ) < 1.0, got
            assert abs(got["peak_db"][0] - 20 * np.log10(AMPLITUDE)) < 0.5, got
            assert got["callbacks"][0] > 0 and got["xruns"][0] <= stream.stats()["xruns"]
            # the meters: peak and RMS of a sine of amplitude 0.5 (-6.02 and -9.03 dBFS), both
            # channels, once their short window holds the tone (the spectrum's window is longer,
            # and a slow machine can leave the meters a refresh behind it)
            page.wait_for_function(f"() => {METERS}.peak_db.length == 2 && "
                                   f"Math.min(...{METERS}.peak_db) > -20")
            meters = columns(page, METERS)
            assert meters["channel"] == [1, 2]
            np.testing.assert_allclose(meters["peak_db"], 20 * np.log10(AMPLITUDE), atol=0.1)
            np.testing.assert_allclose(meters["rms_db"], 20 * np.log10(AMPLITUDE / np.sqrt(2)), atol=0.1)
            assert_frame_counter_advances(page)
            # what a person reads on the page (inside Bokeh's shadow DOM; playwright's CSS pierces it)
            text = page.locator("#streamdsp-scope-readout").inner_text()
            assert "peak 1000." in text or "peak 999." in text, text
            stats = page.locator("td.callbacks").inner_text()
            assert int(stats.replace(",", "")) > 0
            screenshot(page, tmp_path, "scope.png")
        finally:
            page.close()
    assert not s.running


class Lines:
    """A process's stderr lines, read on a thread so that waiting for one has a timeout."""

    def __init__(self, stream):
        self.queue = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.queue.put(line)
        self.queue.put(None)

    def wait_for(self, prefix, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no line starting {prefix!r} within {timeout} s; got {self.seen}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def rest(self, timeout=30.0):
        """Every line up to the end of the stream (the process has exited)."""
        while (line := self.queue.get(timeout=timeout)) is not None:
            self.seen.append(line)
        return "".join(self.seen)


def test_cli_live_scope_shows_the_chain_output(jack_server, sine, browser, tmp_path):
    before = set(_jack.ports())
    proc = subprocess.Popen([sys.executable, "-m", "streamdsp._cli", "live", "--chain", "gain:0.5",
                             "-d", "loopback", "-b", str(PERIOD), "--scope", "--port", "0"],
                            env=env(), cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        err = Lines(proc.stderr)
        url = err.wait_for("streamdsp live: scope at ").split()[-1]
        # PortAudio wired its outputs to loopback 1,2 too, where the probe plays: move them to 3,4
        # (what the probe records), so the chain hears only the sine, not itself
        ports = [p for p in _jack.ports() if p not in before]
        outs = sorted(p for p in ports if ":out_" in p)
        ins = sorted(p for p in ports if ":in_" in p)
        assert len(outs) == len(ins) == 2, ports
        _jack.rewire([("loopback:capture_1", ins[0]), ("loopback:capture_2", ins[1]),
                      (outs[0], "loopback:playback_3"), (outs[1], "loopback:playback_4")], ports)
        page = open_page(browser, url)
        try:
            got = wait_for_tone(page)
            assert abs(got["peak_hz"][0] - FREQ) < 1.0, got
            # the scope watches the chain's output: gain 0.5 takes 6 dB off
            assert abs(got["peak_db"][0] - 20 * np.log10(0.5 * AMPLITUDE)) < 0.5, got
            assert got["callbacks"][0] > 0
            assert_frame_counter_advances(page)
            screenshot(page, tmp_path, "cli-scope.png")
        finally:
            page.close()
        time.sleep(0.5)         # the closed tab's session lives on a few seconds: nothing may be printed
    finally:
        proc.send_signal(2)     # Ctrl-C
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stderr = err.rest()
    assert proc.returncode == 0, stderr
    assert "WARNING" not in stderr and "Traceback" not in stderr, stderr


def test_cli_live_scope_on_a_taken_port_says_so(jack_server, tmp_path):
    ring = sd.RingBuffer(1.0, samplerate=RATE)
    with sd.scope(ring, port=0) as s:
        proc = subprocess.run([sys.executable, "-m", "streamdsp._cli", "live", "--chain", "gain:0.5",
                               "-d", "loopback", "--scope", "--port", str(s.port)],
                              env=env(), cwd=HERE, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert re.match(rf"streamdsp live: OSError: \[Errno \d+\] scope: cannot serve on 127.0.0.1:{s.port} ",
                    last), proc.stderr
