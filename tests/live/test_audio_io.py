"""AudioInput (a live source) and AudioOutput (a live sink) against a real JACK server."""

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd
from conftest import PERIOD, RATE, Xruns, offline, opened, retry_on_xrun, wire_dut

pytestmark = pytest.mark.live


def chirp(seconds=0.3, amp=0.5):
    t = np.arange(int(seconds * RATE)) / RATE
    left = amp * signal.chirp(t, 100, t[-1], 15000)
    right = -amp * signal.chirp(t, 15000, t[-1], 100)
    return np.stack([left, right], axis=1).astype(np.float32)


def onset(a):
    hits = np.flatnonzero(np.asarray(a).reshape(len(a), -1).any(axis=1))
    assert len(hits), "nothing came back"
    return int(hits[0])


@retry_on_xrun
def test_audio_input_records_through_a_filter(jack_server, probe):
    taps = signal.firwin(41, 4000, fs=RATE)
    ring = sd.RingBuffer(3.0, samplerate=RATE)
    x = chirp()
    mic = sd.AudioInput(device="loopback", samplerate=RATE, blocksize=PERIOD, channels=2,
                        graph=sd.Gain(2.0), seconds=1.0, monitor=ring)
    assert (mic.samplerate, mic.channels, mic.frames) == (RATE, 2, RATE)
    assert mic.gil_free
    mic.start()                                   # loopback 1,2 -> mic: the default wiring
    job = probe.start(x, len(x) + PERIOD)
    y = sd.run(mic >> sd.FIR(taps, method="direct") >> sd.ArraySink())
    job.wait()
    stats = mic.stats()
    mic.close()
    Xruns.count += stats["xruns"]
    assert y.shape == (RATE, 2) and y.dtype == np.float32
    assert stats["fifo_overflow_frames"] == 0 and stats["xruns"] <= 1
    # the monitor saw every frame from the first callback on: the raw input after Gain(2)
    raw, start = ring.read(return_start=True)
    assert start == 0 and len(raw) >= RATE
    k = onset(raw)
    np.testing.assert_array_equal(raw[k:k + len(x)], 2.0 * x)
    assert not raw[:k].any() and not raw[k + len(x):RATE].any()
    # and what run() wrote is that input through the FIR, sample for sample
    expected = offline(sd.FIR(taps, method="direct"), raw[:RATE], RATE)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-6)
    pad = raw[:RATE].astype(np.float64)
    np.testing.assert_allclose(y, signal.lfilter(taps, 1.0, pad, axis=0), rtol=0, atol=1e-5)


@retry_on_xrun
def test_audio_input_feeds_a_block_that_raises_the_rate_by_3_2(jack_server, probe):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_rates import ThreeHalves, oracle

    ring = sd.RingBuffer(3.0, samplerate=RATE)
    x = chirp()
    mic = sd.AudioInput(device="loopback", samplerate=RATE, blocksize=PERIOD, channels=2,
                        seconds=1.0, monitor=ring)
    mic.start()
    job = probe.start(x, len(x) + PERIOD)
    sink = sd.RingBuffer(3.0)
    y = sd.run(mic >> ThreeHalves() >> sd.Tee(sd.ArraySink(), sink))[0]
    job.wait()
    stats = mic.stats()
    mic.close()
    Xruns.count += stats["xruns"]
    assert sink.samplerate == RATE * 3 // 2
    raw = ring.read()[:RATE]
    assert onset(raw) > 0, "the chirp came back"
    assert y.shape == (RATE * 3 // 2, 2)
    np.testing.assert_allclose(y, oracle(raw), rtol=0, atol=1e-6)


def test_audio_input_read_without_a_length(jack_server):
    with opened(lambda: sd.AudioInput(device="loopback", samplerate=RATE, blocksize=PERIOD,
                                      channels=1)) as (mic, ports):
        assert mic.frames is None
        mic.start()
        time.sleep(0.3)
        got = mic.read()
        mic.stop()
        rest = mic.read()
        stats = mic.stats()
    total = len(got) + len(rest)
    assert got.shape[1] == 1 and total == stats["frames"]
    assert 0.25 * RATE < total < 0.5 * RATE


@retry_on_xrun
def test_audio_output_plays_a_source_through_a_graph(jack_server, probe):
    taps = np.stack([signal.firwin(33, 3000, fs=RATE), signal.firwin(33, 6000, fs=RATE)], axis=1)
    x = chirp(0.5)
    with opened(lambda: sd.AudioOutput(device="loopback", samplerate=RATE, blocksize=PERIOD,
                                       graph=sd.FIR(taps, method="direct"),
                                       buffer_seconds=0.2)) as (speaker, ports):
        assert speaker.channels == 2 and speaker.gil_free   # 2-D taps: opened at once
        speaker.start()
        wire_dut(ports, inputs=False)                       # -> loopback 3,4 -> probe
        job = probe.start(np.zeros((0, 2), np.float32), 2 * RATE)
        stats = sd.run(sd.ArraySource(x, chunk_size=1000) >> speaker)
        rec = job.wait()
    Xruns.count += stats["xruns"]
    assert speaker.closed and stats["fifo_underflow_frames"] == 0
    assert stats["frames"] >= len(x)
    k = onset(rec)
    expected = offline(sd.FIR(taps, method="direct"), x, len(x) + 100)
    got = rec[k:k + len(expected)]
    # the FIR's first output sample may be tiny; align on the input's first sample
    k0 = onset(expected)
    got = rec[k - k0:k - k0 + len(expected)]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert not rec[:k - k0].any()


def test_audio_output_opens_at_the_first_chunk_and_copies_mono(jack_server):
    speaker = sd.AudioOutput(device="loopback", samplerate=RATE, blocksize=PERIOD, buffer_seconds=0.1)
    assert speaker.closed is True or speaker.channels is None
    x = 0.1 * np.ones(RATE // 4, dtype=np.float32)
    stats = sd.run(sd.ArraySource(x, chunk_size=512) >> speaker)
    assert speaker.channels == 2                 # a mono stream on a stereo device
    assert stats["frames"] >= len(x) and stats["fifo_underflow_frames"] == 0
    with pytest.raises(sd.StreamStateError, match="closed"):
        speaker.write(x)


def test_audio_output_refuses_another_channel_count(jack_server):
    speaker = sd.AudioOutput(device="loopback", samplerate=RATE, buffer_seconds=0.1)
    try:
        speaker.write(np.zeros((10, 2), np.float32))
        with pytest.raises(sd.ChannelMismatchError, match="has 2"):
            speaker.write(np.zeros((10, 1), np.float32))
    finally:
        speaker.close()


class Doubler(sd.Block):
    def process(self, x, out=None):
        return 2 * np.asarray(x)


def test_python_graphs_belong_outside_the_callback(jack_server):
    with pytest.raises(TypeError, match="AudioInput.*compiled blocks"):
        sd.AudioInput(device="loopback", samplerate=RATE, graph=Doubler())
    with pytest.raises(TypeError, match="AudioOutput.*compiled blocks"):
        sd.AudioOutput(device="loopback", samplerate=RATE, graph=sd.Gain(1.0) >> Doubler())
