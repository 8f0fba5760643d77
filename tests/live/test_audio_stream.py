"""AudioStream against a real JACK server: live graphs checked sample by sample against offline runs."""

import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from scipy import signal

import streamdsp as sd
from conftest import PERIOD, RATE, dut, offline, opened, retry_on_xrun, unavailable

pytestmark = pytest.mark.live

GREATHALL = "/usr/share/gx_head/sounds/greathall.wav"


def impulses(frames=2048):
    x = np.zeros((frames, 2), dtype=np.float32)
    x[100, 0] = 1.0
    x[357, 1] = -0.5
    x[1000] = [0.25, 0.75]
    return x


def chirp(seconds=0.25, amp=0.5):
    t = np.arange(int(seconds * RATE)) / RATE
    left = amp * signal.chirp(t, 50, t[-1], 20000, method="logarithmic")
    right = amp * signal.chirp(t, 20000, t[-1], 50, method="logarithmic")
    return np.stack([left, right], axis=1).astype(np.float32)


@pytest.fixture
def live(jack_server, probe):
    """live(graph, x, frames) -> (recorded DUT output aligned to x, stats)."""
    def run(graph, x, frames, **kwargs):
        with dut(graph, **kwargs) as stream:
            rec = probe.play_and_record(x, frames + jack_server.delay)
            stats = stream.stats()
            gil_free = stream.gil_free
        # nothing may come back before the loopback delay
        assert not rec[:jack_server.delay].any()
        return rec[jack_server.delay:], stats, gil_free
    return run


def peak(a):
    return float(np.max(np.abs(a)))


# ---------------------------------------------------------------------------

@retry_on_xrun
def test_gain_impulses_come_back_exactly_after_the_loopback_delay(live):
    x = impulses()
    y, stats, gil_free = live(sd.Gain(0.5), x, len(x))
    assert gil_free
    np.testing.assert_array_equal(y, 0.5 * x)
    assert stats["xruns"] <= 1


@retry_on_xrun
def test_fir_direct_chirp_matches_offline_and_lfilter(live):
    taps = signal.firwin(63, 3000, fs=RATE)
    x = chirp()
    frames = len(x) + 200
    y, stats, gil_free = live(sd.FIR(taps, method="direct"), x, frames)
    assert gil_free
    expected = offline(sd.FIR(taps, method="direct"), x, frames)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-6 * peak(expected))
    pad = np.concatenate([x, np.zeros((frames - len(x), 2), np.float32)]).astype(np.float64)
    np.testing.assert_allclose(y, signal.lfilter(taps, 1.0, pad, axis=0), rtol=0, atol=1e-5 * peak(expected))


@pytest.fixture(scope="module")
def greathall():
    try:
        ir, rate = soundfile.read(GREATHALL, dtype="float32")
    except Exception as e:
        unavailable(f"the measured hall IR {GREATHALL} (Debian package guitarix-common) is missing: {e}")
    assert rate == RATE and ir.ndim == 2 and ir.shape[1] == 2
    return ir


@retry_on_xrun
def test_fft_reverb_with_the_greathall_ir_matches_offline_and_fftconvolve(live, greathall):
    x = np.concatenate([impulses(1024), chirp(0.2)])
    frames = RATE  # one second of the 2.3 s tail is plenty to compare
    graph = sd.FIR(greathall, method="fft", block_size=PERIOD)
    y, stats, gil_free = live(graph, x, frames)
    assert gil_free and graph.latency == PERIOD
    expected = offline(sd.FIR(greathall, method="fft", block_size=PERIOD), x, frames)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-5 * peak(expected))
    # and what it means: each channel convolved with its IR, PERIOD frames late
    ref = np.stack([signal.fftconvolve(x[:, c].astype(np.float64), greathall[:, c])
                    for c in range(2)], axis=1)[:frames - PERIOD]
    np.testing.assert_allclose(y[PERIOD:], ref, rtol=0, atol=1e-4 * peak(ref))
    assert not y[:PERIOD].any()
    assert stats["max_callback_s"] < PERIOD / RATE


@retry_on_xrun
def test_parallel_dry_wet_matches_offline(live, greathall):
    def make():
        wet = sd.FIR(greathall[:24000], method="fft", block_size=PERIOD) >> sd.Gain(0.5)
        return sd.Parallel(sd.Gain(0.7), wet)
    x = chirp(0.15)
    frames = len(x) + 2048
    graph = make()
    y, stats, gil_free = live(graph, x, frames)
    assert gil_free and graph.latency == PERIOD
    expected = offline(make(), x, frames)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-5 * peak(expected))
    # what it means: the dry path is delayed to line up with the wet one
    assert not y[:PERIOD].any()
    x64 = np.concatenate([x, np.zeros((frames, 2), np.float32)])[:frames - PERIOD].astype(np.float64)
    wet = np.stack([signal.fftconvolve(x64[:, c], greathall[:24000, c])[:len(x64)] for c in range(2)], axis=1)
    np.testing.assert_allclose(y[PERIOD:], 0.7 * x64 + 0.5 * wet, rtol=0, atol=1e-4 * peak(expected))


def test_counters_follow_the_clock(jack_server):
    with opened(lambda: sd.AudioStream(sd.Gain(1.0), device="loopback", samplerate=RATE,
                                       blocksize=PERIOD, channels=2)) as (stream, ports):
        before = stream.stats()
        assert before["callbacks"] == 0 and before["active"] is False
        t0 = time.perf_counter()
        stream.start()
        time.sleep(2.0)
        stats = stream.stats()
        wall = time.perf_counter() - t0
        latency = stream.latency
    period = PERIOD / RATE
    expected = wall / period
    assert abs(stats["callbacks"] - expected) <= 0.02 * expected + 2, (stats, expected)
    assert stats["frames"] == stats["callbacks"] * PERIOD
    assert stats["xruns"] <= 2
    assert stats["xruns"] >= max(stats["input_overflows"], stats["output_underflows"])
    assert 0 < stats["mean_callback_s"] <= stats["max_callback_s"] < period
    assert period * 0.5 < stats["max_interval_s"] < 0.5
    assert stats["period_s"] == period and stats["samplerate"] == RATE and stats["blocksize"] == PERIOD
    assert stats["latency_s"] == latency and latency[1] > 0
    assert stats["graph_latency"] == 0 and stats["gil_free"] is True and stats["active"] is True
    final = stream.stats()          # still readable after close
    assert final["callbacks"] >= stats["callbacks"] and final["active"] is False


@retry_on_xrun
def test_gain_change_while_running_switches_at_a_buffer_boundary(live, jack_server, probe):
    gain = sd.Gain(0.5)
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (RATE, 2)).astype(np.float32)
    with dut(gain) as stream:
        job = probe.start(x, len(x) + jack_server.delay)
        time.sleep(0.5)
        gain.gain = 0.25
        rec = job.wait()[jack_server.delay:]
        assert stream.gil_free
    half = rec == 0.5 * x
    quarter = rec == 0.25 * x
    assert np.all(half | quarter)
    switch = int(np.argmin(half.all(axis=1)))
    assert 0 < switch < len(x)
    assert half[:switch].all() and quarter[switch:].all()
    assert switch % PERIOD == 0          # parameters are read once per buffer


@retry_on_xrun
def test_paused_plays_silence_and_keeps_the_graph(live, jack_server, probe):
    x = np.random.default_rng(2).uniform(-0.5, 0.5, (RATE, 2)).astype(np.float32)
    with dut(sd.Gain(1.0)) as stream:
        job = probe.start(x, len(x) + jack_server.delay)
        time.sleep(0.3)
        stream.paused = True
        assert stream.paused
        time.sleep(0.2)
        stream.paused = False
        rec = job.wait()[jack_server.delay:]
    silent = ~rec.any(axis=1)
    assert silent.sum() >= 0.1 * RATE
    np.testing.assert_array_equal(rec[~silent], x[~silent])
    first, last = np.flatnonzero(silent)[[0, -1]]
    assert silent[first:last + 1].all()        # one silent stretch
    assert first % PERIOD == 0 and (last + 1) % PERIOD == 0


@retry_on_xrun
def test_reset_clears_the_reverb_tail_from_the_audio_thread(live, jack_server, probe, greathall):
    graph = sd.FIR(greathall, method="fft", block_size=PERIOD)
    x = impulses(1024)
    with dut(graph) as stream:
        job = probe.start(x, RATE + jack_server.delay)
        time.sleep(0.4)
        stream.reset()
        rec = job.wait()[jack_server.delay:]
    expected = offline(sd.FIR(greathall, method="fft", block_size=PERIOD), x, RATE)
    live_part = np.flatnonzero(rec.any(axis=1))
    cut = live_part[-1] + 1
    assert 0.2 * RATE < cut < 0.8 * RATE
    np.testing.assert_allclose(rec[:cut], expected[:cut], rtol=0, atol=1e-5 * peak(expected))
    assert np.abs(expected[cut:cut + 4800]).max() > 1e-3   # the hall was still ringing


@retry_on_xrun
def test_monitor_ring_buffer_gets_the_graph_output(live, jack_server, probe):
    ring = sd.RingBuffer(1.0, samplerate=RATE)
    x = impulses(4096)
    with dut(sd.Gain(2.0), monitor=ring) as stream:
        rec = probe.play_and_record(x, len(x) + jack_server.delay)[jack_server.delay:]
        stats = stream.stats()
        latest, start = ring.read(return_start=True)
    assert ring.channels == 2 and ring.frames_written >= stats["frames"] - PERIOD
    np.testing.assert_array_equal(rec, 2.0 * x)
    # the ring's newest second holds the same impulses, in order
    hits = np.flatnonzero(latest.any(axis=1))
    assert len(hits) == 3
    np.testing.assert_array_equal(np.diff(hits), np.diff(np.flatnonzero(x.any(axis=1))))
    np.testing.assert_array_equal(latest[hits], 2.0 * x[x.any(axis=1)])


class HalfGain(sd.Block):
    """A Python-level block: it has to run with the GIL."""

    def process(self, x, out=None):
        return 0.5 * np.asarray(x)


@retry_on_xrun
def test_python_block_falls_back_to_a_python_callback(live):
    x = impulses()
    y, stats, gil_free = live(HalfGain(), x, len(x))
    assert gil_free is False and stats["gil_free"] is False
    np.testing.assert_array_equal(y, 0.5 * x)
    assert stats["callbacks"] > 0 and stats["max_callback_s"] > 0


@retry_on_xrun
def test_chain_with_a_python_block_runs_every_block(live):
    taps = signal.firwin(31, 5000, fs=RATE)
    x = chirp(0.1)
    frames = len(x) + 100
    y, stats, gil_free = live(sd.FIR(taps, method="direct") >> HalfGain(), x, frames)
    assert gil_free is False
    expected = 0.5 * offline(sd.FIR(taps, method="direct"), x, frames)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-6 * peak(expected))


@retry_on_xrun
def test_python_callable_graph(live):
    x = impulses()
    y, stats, gil_free = live(lambda a: -a, x, len(x))
    assert gil_free is False
    np.testing.assert_array_equal(y, -x)


class Exploding(sd.Block):
    def process(self, x, out=None):
        raise RuntimeError("boom in the callback")


def test_python_graph_error_stops_the_stream_and_is_raised_at_exit(jack_server):
    stream = sd.AudioStream(Exploding(), device="loopback", samplerate=RATE, blocksize=PERIOD, channels=2)
    with pytest.raises(sd.StreamDSPError, match="boom in the callback"):
        with stream:
            deadline = time.monotonic() + 5
            while stream.active and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not stream.active
    assert isinstance(stream.error, RuntimeError)
    assert stream.closed


def test_graph_that_changes_the_rate_is_refused(jack_server):
    with pytest.raises(ValueError, match="changes the sample rate"):
        sd.AudioStream(sd.Gain(1.0) >> sd.Downsample(2), device="loopback", samplerate=RATE, channels=2)


def test_python_graph_that_changes_the_rate_anywhere_is_refused(jack_server):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_rates import ThreeHalves
    # the Python fallback path checks it too, not only the compiled one
    for graph in (ThreeHalves(), ThreeHalves() >> sd.Downsample(3)):
        with pytest.raises(ValueError, match="changes the sample rate.*AudioInput"):
            sd.AudioStream(graph, device="loopback", samplerate=RATE, channels=2)


def test_more_channels_than_the_device_has_is_refused(jack_server):
    with pytest.raises(ValueError, match="at most 4 input channels"):
        sd.AudioStream(sd.Gain(1.0), device="loopback", samplerate=RATE, channels=5)


def test_graph_streaming_other_channels_is_refused(jack_server):
    g = sd.Gain(1.0)
    g.process(np.zeros((4, 3), np.float32))
    with pytest.raises(sd.StreamStateError, match="AudioStream: cannot run"):
        sd.AudioStream(g, device="loopback", samplerate=RATE, channels=2)


def test_closed_stream_cannot_restart(jack_server):
    stream = sd.AudioStream(sd.Gain(1.0), device="loopback", samplerate=RATE, channels=2)
    stream.close()
    stream.close()                       # idempotent
    with pytest.raises(sd.StreamStateError, match="closed"):
        stream.start()


@retry_on_xrun
def test_mono_graph_output_is_copied_to_both_channels(live):
    mix = sd.ChannelMixer([[0.5, 0.5]])  # stereo in, mono out
    x = impulses()
    y, stats, gil_free = live(mix, x, len(x))
    assert gil_free
    mono = (0.5 * x[:, :1] + 0.5 * x[:, 1:]).astype(np.float32)
    np.testing.assert_allclose(y, np.repeat(mono, 2, axis=1), rtol=0, atol=1e-7)


# ---------------------------------------------------------------------------
# swapping the graph while running

def first_difference(a, b):
    diff = np.flatnonzero(np.any(a != b, axis=1))
    assert len(diff), "the swap never took effect"
    return int(diff[0])


@retry_on_xrun
def test_swap_crossfades_linearly_over_the_given_frames(jack_server, probe):
    x = np.random.default_rng(3).uniform(0.1, 0.5, (RATE, 2)).astype(np.float32)
    old, new = sd.Gain(0.5), sd.Gain(0.25)
    fade = 1024
    with dut(old) as stream:
        job = probe.start(x, len(x) + jack_server.delay)
        time.sleep(0.4)
        stream.swap(new, crossfade=fade / RATE)
        assert stream.graph is new
        rec = job.wait()[jack_server.delay:]
        assert not stream.swapping
    a = np.float32(0.5) * x
    b = np.float32(0.25) * x
    s = first_difference(rec, a)
    assert s % PERIOD == 0 and s + fade < len(x)          # taken at a buffer's start
    w = (np.arange(1, fade + 1) * (1.0 / fade)).astype(np.float32)[:, None]
    expected = a.copy()
    expected[s:s + fade] = a[s:s + fade] + w * (b[s:s + fade] - a[s:s + fade])
    expected[s + fade:] = b[s + fade:]
    np.testing.assert_allclose(rec, expected, rtol=0, atol=1e-7)


@retry_on_xrun
def test_swap_between_filters_matches_offline(jack_server, probe):
    taps_a = signal.firwin(31, 2000, fs=RATE)
    taps_b = signal.firwin(31, 8000, fs=RATE)
    x = chirp(0.5)
    fade = 2048
    with dut(sd.FIR(taps_a, method="direct")) as stream:
        job = probe.start(x, len(x) + jack_server.delay)
        time.sleep(0.25)
        stream.swap(sd.FIR(taps_b, method="direct"), crossfade=fade / RATE)
        rec = job.wait()[jack_server.delay:]
    a = offline(sd.FIR(taps_a, method="direct"), x, len(x))
    s = first_difference(rec, a)
    assert s % PERIOD == 0
    # the new filter hears the input from the swap on, with an empty history
    x_after = x.copy()
    x_after[:s] = 0
    b = offline(sd.FIR(taps_b, method="direct"), x_after, len(x))
    w = np.zeros((len(x), 1))
    w[s:s + fade, 0] = np.arange(1, fade + 1) / fade
    w[s + fade:] = 1.0
    np.testing.assert_allclose(rec, a + w * (b - a), rtol=0, atol=1e-6)


def test_swap_refuses_what_cannot_replace_the_graph(jack_server):
    stream = sd.AudioStream(sd.Gain(1.0), device="loopback", samplerate=RATE, channels=2)
    try:
        with pytest.raises(sd.ChannelMismatchError, match="2 output channels"):
            stream.swap(sd.ChannelMixer([[0.5, 0.5]]))
        with pytest.raises(TypeError, match="compiled blocks"):
            stream.swap(HalfGain())
        with pytest.raises(ValueError, match="crossfade >= 0"):
            stream.swap(sd.Gain(2.0), crossfade=-1)
        stream.swap(sd.Gain(2.0))             # not running: replaced at once
        assert stream.graph.gain == 2.0 and not stream.swapping
    finally:
        stream.close()


@retry_on_xrun
def test_python_callback_swaps_at_a_buffer_boundary(live, jack_server, probe):
    x = np.random.default_rng(4).uniform(0.1, 0.5, (RATE // 2, 2)).astype(np.float32)
    with dut(HalfGain()) as stream:
        assert not stream.gil_free
        job = probe.start(x, len(x) + jack_server.delay)
        time.sleep(0.2)
        stream.swap(lambda a: -a, crossfade=0)
        rec = job.wait()[jack_server.delay:]
    s = first_difference(rec, 0.5 * x)
    assert s % PERIOD == 0
    np.testing.assert_array_equal(rec[s:], -x[s:])


def test_a_live_stream_refuses_to_be_pickled_naming_its_class(jack_server):
    import copy
    import pickle
    with opened(lambda: sd.AudioStream(sd.Gain(1.0), device="loopback", samplerate=RATE,
                                       blocksize=PERIOD, channels=2)) as (stream, ports):
        stream.start()
        with pytest.raises(TypeError, match="^AudioStream: cannot be pickled or copied"):
            pickle.dumps(stream, protocol=5)
        with pytest.raises(TypeError, match="^AudioStream: cannot be pickled or copied"):
            copy.deepcopy(stream)
