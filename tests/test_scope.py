"""``sd.scope``: what its views compute (numpy oracles), its arguments, and its server's life cycle.

The page itself, in a real browser over a real JACK stream, is tested in
tests/live/test_scope_live.py.
"""

import threading
import time
import urllib.request

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import streamdsp as sd
from _support import run_python_code
from streamdsp._io._scope_analysis import Analyser, envelope, levels, spectrum

RATE = 48000.0


def tone(freq, amplitude, frames, rate=RATE, phase=0.3):
    t = np.arange(frames) / rate
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


# -- the numbers --------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(freq=st.floats(100.0, 20000.0), amplitude=st.floats(0.01, 1.0))
def test_spectrum_peak_is_the_tone_frequency_within_a_tenth_of_a_bin(freq, amplitude):
    nfft = 4096
    freqs, db, peak_hz, peak_db = spectrum(tone(freq, amplitude, 8192), RATE, nfft)
    assert freqs[1] == RATE / nfft and db.shape == (nfft // 2 + 1, 1)
    assert abs(peak_hz - freq) < 0.02 * RATE / nfft
    # Hann scalloping (up to 1.42 dB at half a bin) is undone by the parabola to 0.33 dB
    assert abs(peak_db - 20 * np.log10(amplitude)) < 0.35


def test_spectrum_takes_the_loudest_channel_and_ignores_dc():
    x = np.stack([tone(440.0, 0.1, 4096) + 0.9, tone(3000.0, 0.5, 4096)], axis=1)
    _, db, peak_hz, peak_db = spectrum(x, RATE, 4096)
    assert db.shape[1] == 2
    assert abs(peak_hz - 3000.0) < 1.0 and abs(peak_db - 20 * np.log10(0.5)) < 0.35
    assert db[0, 0] > -2.0          # the DC offset is drawn (0.9 reads 2*0.9: one-sided scaling)


def test_spectrum_of_a_full_scale_sine_reads_0_dbfs_on_a_bin():
    _, db, peak_hz, _ = spectrum(tone(RATE / 4096 * 100, 1.0, 4096), RATE, 4096)
    assert peak_hz == pytest.approx(RATE / 4096 * 100, abs=1e-6)
    assert db[100, 0] == pytest.approx(0.0, abs=1e-6)


def test_spectrum_of_fewer_frames_than_nfft_still_finds_the_tone():
    _, _, peak_hz, _ = spectrum(tone(1000.0, 0.5, 1000), RATE, 4096)
    assert abs(peak_hz - 1000.0) < 5.0


def test_spectrum_without_enough_frames_is_nan_at_the_floor():
    _, db, peak_hz, peak_db = spectrum(np.zeros((10, 2)), RATE, 4096)
    assert np.isnan(peak_hz) and np.isnan(peak_db)
    assert db.shape == (2049, 2) and np.all(db == -120.0)


def test_spectrum_of_silence_reads_the_floor():
    _, db, _, peak_db = spectrum(np.zeros(4096), RATE, 4096)
    assert np.all(db == -120.0) and peak_db == -120.0


def test_levels_match_numpy():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3000, 3)) * [0.01, 0.2, 1.0]
    peak, rms = levels(x.astype(np.float32))
    np.testing.assert_allclose(peak, 20 * np.log10(np.abs(x.astype(np.float32)).max(axis=0)), rtol=1e-6)
    np.testing.assert_allclose(rms, 20 * np.log10(np.sqrt(np.mean(x.astype(np.float32).astype(np.float64) ** 2,
                                                                  axis=0))), rtol=1e-6)


def test_levels_of_silence_and_of_nothing_read_the_floor():
    peak, rms = levels(np.zeros((100, 2)))
    assert list(peak) == [-120.0, -120.0] and list(rms) == [-120.0, -120.0]
    peak, rms = levels(np.zeros((0, 2)))
    assert list(peak) == [-120.0, -120.0]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 20000), max_points=st.sampled_from([2, 10, 2000]), seed=st.integers(0, 99))
def test_envelope_keeps_every_extreme_in_time_order(n, max_points, seed):
    x = np.random.default_rng(seed).standard_normal((n, 2))
    index, values = envelope(x, max_points)
    assert len(index) == len(values) <= max_points
    assert np.all(np.diff(index) >= 0)
    if n == 0:
        return
    assert index[-1] == n - 1                       # the newest frame is always drawn
    left_out = int(index[0])                        # fewer than one bucket of the oldest
    assert left_out < -(-n // (max_points // 2))
    kept = x[left_out:]
    np.testing.assert_array_equal(values.max(axis=0), kept.max(axis=0))
    np.testing.assert_array_equal(values.min(axis=0), kept.min(axis=0))
    if n <= max_points:
        np.testing.assert_array_equal(values, x)


class Counters:
    """Something with a stats() method, as an AudioStream has."""

    def __init__(self):
        self.calls = 0

    def stats(self):
        self.calls += 1
        return {"callbacks": 10 * self.calls, "xruns": 0}


def test_analyser_reads_the_newest_frames_once_per_refresh():
    ring = sd.RingBuffer(1.0, samplerate=RATE, channels=1)
    x = tone(1000.0, 0.5, 20000).astype(np.float32)
    ring.write(x[:, None])
    counters = Counters()
    a = Analyser(ring, RATE, counters, window=0.01, nfft=4096, interval=0.05)
    first = a.get()
    assert a.get() is first and counters.calls == 1        # pages opened together share it
    assert first["frames"] == 20000 and first["start"] == 20000 - 4096
    np.testing.assert_array_equal(first["data"][:, 0], x[-4096:])
    assert abs(first["peak_hz"] - 1000.0) < 1.0
    np.testing.assert_allclose(first["meter_peak_db"], 20 * np.log10(np.abs(x).max()), atol=1e-4)
    assert first["stats"] == {"callbacks": 10, "xruns": 0}


def test_analyser_shows_a_failing_stats_as_text():
    class Broken:
        def stats(self):
            raise RuntimeError("engine gone")

    ring = sd.RingBuffer(0.1, samplerate=RATE)
    got = Analyser(ring, RATE, Broken(), window=0.01, nfft=4096, interval=0.1).get()
    assert got["stats"] is None and got["stats_error"] == "RuntimeError: engine gone"
    assert got["frames"] == 0 and np.isnan(got["peak_hz"])


# -- arguments ----------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, message", [
    ({"ring": np.zeros(10)}, TypeError, "expected ring to be a RingBuffer"),
    ({"views": ("wave", "scope")}, ValueError, "expected views from"),
    ({"views": ()}, ValueError, "expected views from"),
    ({"samplerate": -1.0}, ValueError, "expected samplerate > 0"),
    ({"port": 70000}, ValueError, "expected port"),
    ({"refresh": 0.5}, ValueError, "expected refresh between 1 and 60"),
    ({"window": 0.0}, ValueError, "expected window > 0"),
    ({"nfft": 1000}, ValueError, "expected nfft to be a power of two"),
    ({"stream": object()}, TypeError, "expected stream to have a stats() method"),
])
def test_scope_rejects_bad_arguments(kwargs, exc, message):
    args = {"ring": sd.RingBuffer(1.0, samplerate=RATE), **kwargs}
    with pytest.raises(exc, match=message.replace("(", r"\(").replace(")", r"\)")):
        sd.scope(**args)


def test_scope_needs_a_samplerate_when_the_ring_has_none():
    with pytest.raises(ValueError, match="expected a samplerate"):
        sd.scope(sd.RingBuffer(1.0))


def test_scope_without_bokeh_says_what_to_install():
    r = run_python_code("""
import sys
sys.modules["bokeh"] = None          # as if it were not installed
import streamdsp as sd
try:
    sd.scope(sd.RingBuffer(1.0, samplerate=48000))
except ImportError as e:
    print(e)
""")
    assert r.returncode == 0, r.stderr
    assert "pip install 'streamdsp[scope]'" in r.stdout


# -- the server ---------------------------------------------------------------

def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read().decode()


def test_scope_serves_a_bokeh_page_and_frees_its_port_when_closed():
    ring = sd.RingBuffer(1.0, samplerate=RATE, channels=2)
    ring.write(np.zeros((1000, 2), np.float32))
    threads = threading.active_count()
    with sd.scope(ring, port=0, title="my scope") as s:
        assert s.running and s.url == f"http://127.0.0.1:{s.port}/"
        assert repr(s).startswith(f"<Scope serving {s.url}")
        status, page = get(s.url)
        assert status == 200 and "<title>my scope</title>" in page and "Bokeh" in page
        assert threading.active_count() == threads + 1
    assert not s.running and threading.active_count() == threads
    assert repr(s).startswith("<Scope closed")
    s.close()                           # twice is harmless
    with sd.scope(ring, port=s.port) as again:      # the port is free again
        assert get(again.url)[0] == 200


def test_scope_on_a_taken_port_fails_with_os_error():
    ring = sd.RingBuffer(1.0, samplerate=RATE)
    with sd.scope(ring, port=0) as s:
        with pytest.raises(OSError, match=f"scope: cannot serve on 127.0.0.1:{s.port} .*give another port"):
            sd.scope(ring, port=s.port)
        assert s.running


def test_scope_does_not_compute_while_no_page_is_open():
    ring = sd.RingBuffer(1.0, samplerate=RATE)
    with sd.scope(ring, port=0, refresh=60) as s:
        time.sleep(0.2)
        assert s.updates == 0
        get(s.url)          # a page (a Bokeh session) was made: it drew once
        assert s.updates >= 1
