"""Sources, sinks and `run`, on real files through libsndfile."""

import numpy as np
import pytest
import soundfile
from scipy import signal

import streamdsp as sd
from _support import assert_close_to_peak

SPEECH = "/usr/share/sounds/alsa/Front_Center.wav"   # Debian alsa-utils, 48 kHz PCM_16


def test_run_array_to_array_equals_one_call():
    x = np.random.default_rng(0).standard_normal((1000, 2))
    taps = np.hanning(33)
    y = sd.run(sd.ArraySource(x, chunk_size=77) >> sd.FIR(taps) >> sd.ArraySink())
    assert_close_to_peak(y, signal.lfilter(taps, 1.0, x, axis=0), 1e-12)


@pytest.mark.parametrize("fmt,subtype", [("wav", "FLOAT"), ("flac", "PCM_24"), ("ogg", "VORBIS")])
def test_file_to_file_through_libsndfile(tmp_path, fmt, subtype):
    sr = 16000
    t = np.arange(sr) / sr
    x = 0.5 * np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], 1).astype(np.float32)
    src = tmp_path / f"in.{fmt}"
    soundfile.write(src, x, sr, subtype=subtype)
    dst = tmp_path / f"out.{fmt}"
    got = sd.run(sd.FileSource(src, chunk_size=1000) >> sd.Gain(0.5) >> sd.FileSink(dst, sr, subtype=subtype))
    assert got == str(dst)
    y, sr2 = soundfile.read(dst, dtype="float32")
    x_read, _ = soundfile.read(src, dtype="float32")
    assert sr2 == sr and y.shape == x.shape
    tol = 1e-6 if subtype == "FLOAT" else (1e-5 if subtype == "PCM_24" else 0.05)
    assert np.max(np.abs(y - 0.5 * x_read)) <= tol


def test_real_speech_recording_through_an_fir(tmp_path):
    if not __import__("os").path.exists(SPEECH):
        pytest.fail(f"{SPEECH} is missing: install Debian's alsa-utils (.ci/run does)")
    taps = signal.firwin(255, 4000, fs=48000)
    out = tmp_path / "speech_lp.wav"
    src = sd.FileSource(SPEECH, chunk_size=1024)
    sd.run(src >> sd.FIR(taps, method="direct") >> sd.FileSink(out, src.samplerate, subtype="FLOAT"))
    x, _ = soundfile.read(SPEECH, dtype="float32")
    y, _ = soundfile.read(out, dtype="float32")
    assert_close_to_peak(y, signal.lfilter(taps, 1.0, x.astype(np.float64)), 1e-5)


def test_file_source_reports_the_header(tmp_path):
    p = tmp_path / "x.flac"
    soundfile.write(p, np.zeros((1234, 3)), 22050)
    src = sd.FileSource(p, chunk_size=500)
    assert (src.samplerate, src.channels, src.frames) == (22050, 3, 1234)
    assert [c.shape for c in src] == [(500, 3), (500, 3), (234, 3)]


def test_file_source_integer_pcm_is_raw(tmp_path):
    p = tmp_path / "x.wav"
    x = np.array([0, 1000, -2000, 32767], dtype=np.int16)
    soundfile.write(p, x, 8000, subtype="PCM_16")
    y = sd.run(sd.FileSource(p, dtype="int16") >> sd.Gain(1.0))
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, x.astype(np.float64))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(OSError, match="FileSource: cannot read"):
        sd.FileSource(tmp_path / "nope.wav")


def test_file_sink_unknown_format_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="FileSink: cannot tell the audio format"):
        sd.FileSink(tmp_path / "x.unknown", 8000)


def test_run_without_sink_returns_the_array():
    y = sd.run(sd.ArraySource(np.arange(5.0), chunk_size=2) >> sd.Delay(1))
    np.testing.assert_array_equal(y, [0, 0, 1, 2, 3])


def test_run_with_progress_bar_writes_to_stderr(capsys):
    sd.run(sd.ArraySource(np.zeros(10000), chunk_size=1000) >> sd.Gain(1.0), progress="test")
    assert "test" in capsys.readouterr().err


def test_flow_pieces_compose_in_any_order():
    sink = sd.ArraySink()
    tail = sd.Gain(2.0) >> sink          # a flow waiting for its source
    flow = sd.ArraySource(np.ones(3)) >> sd.Delay(1) >> tail
    assert isinstance(flow, sd.Flow) and flow.sink is sink
    np.testing.assert_array_equal(sd.run(flow), [0, 2, 2])


def test_nothing_follows_a_sink_or_feeds_a_source():
    with pytest.raises(TypeError, match="ends the flow"):
        sd.ArraySink() >> sd.Gain(1.0)
    with pytest.raises(TypeError, match="starts a flow"):
        sd.Gain(1.0) >> sd.ArraySource(np.ones(2))


def test_run_tells_a_ring_buffer_the_rate_it_receives():
    ring = sd.RingBuffer(1.0)          # one second, rate unknown until the flow runs
    src = sd.ArraySource(np.arange(100.0), chunk_size=10, samplerate=50)
    sd.run(src >> sd.Downsample(2) >> ring)
    np.testing.assert_array_equal(ring.read(), np.arange(50.0, 100.0, 2.0))   # 25 frames at 25 Hz


def test_file_sink_takes_the_rate_of_its_source_when_none_is_given(tmp_path):
    x = np.random.default_rng(3).uniform(-0.5, 0.5, (3000, 2)).astype(np.float32)
    soundfile.write(tmp_path / "in.wav", x, 22050, subtype="FLOAT")
    src = sd.FileSource(tmp_path / "in.wav", chunk_size=700)
    sd.run(src >> sd.Gain(0.5) >> sd.FileSink(tmp_path / "out.wav"))
    y, rate = soundfile.read(tmp_path / "out.wav", dtype="float32")
    assert rate == 22050 and np.array_equal(y, 0.5 * x)
    # after a decimation by 3 the file holds the lower rate
    sd.run(sd.FileSource(tmp_path / "in.wav") >> sd.Downsample(3) >> sd.FileSink(tmp_path / "d.wav"))
    assert soundfile.info(tmp_path / "d.wav").samplerate == 7350
    # a rate given explicitly is kept
    sd.run(sd.FileSource(tmp_path / "in.wav") >> sd.FileSink(tmp_path / "e.wav", 44100))
    assert soundfile.info(tmp_path / "e.wav").samplerate == 44100


def test_file_sink_without_any_rate_refuses_and_leaves_the_target(tmp_path):
    (tmp_path / "out.wav").write_bytes(b"old")
    sink = sd.FileSink(tmp_path / "out.wav")
    with pytest.raises(sd.StreamStateError, match=r"FileSink: expected a sample rate .* got none"):
        sd.run(sd.ArraySource(np.zeros(10)) >> sink)
    assert (tmp_path / "out.wav").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]


def test_io_and_graph_do_not_import_each_other_at_module_level():
    # Source and Sink live in _core so that _io can define its sources and
    # sinks without importing _graph, which composes them (and vice versa).
    import re
    from pathlib import Path

    root = Path(sd.__file__).parent
    top_level = re.compile(r"^(?:from|import|cimport) +streamdsp\.(_io|_graph)\b", re.M)
    found = []
    for pkg, other in (("_io", "_graph"), ("_graph", "_io")):
        for path in sorted((root / pkg).glob("*.p[yx]*")):
            for m in top_level.finditer(path.read_text()):
                if m.group(1) == other:
                    found.append(f"{pkg}/{path.name}: {m.group(0)}")
    assert found == []
    assert sd.Source.__module__ == sd.Sink.__module__ == "streamdsp._core._endpoints"
    assert issubclass(sd.ArraySource, sd.Source) and issubclass(sd.AudioInput, sd.Source)
    assert issubclass(sd.FileSink, sd.Sink) and issubclass(sd.AudioOutput, sd.Sink)
