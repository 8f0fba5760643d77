"""Sinks: CallbackSink, Tee, RingBuffer (threads included) and FileSink surviving a SIGKILL."""

import os
import signal as _signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import soundfile
from scipy import signal

import streamdsp as sd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(sd.__file__)))


# ---------------------------------------------------------------- CallbackSink, Tee
def test_callback_sink_gets_every_output_chunk_then_on_close():
    got, closed = [], []
    x = np.random.default_rng(0).standard_normal((1000, 2))
    taps = np.hanning(9)
    sd.run(sd.ArraySource(x, chunk_size=128) >> sd.FIR(taps) >>
           sd.CallbackSink(lambda c: got.append(c.copy()), on_close=lambda: closed.append(True)))
    assert closed == [True]
    np.testing.assert_allclose(np.concatenate(got), signal.lfilter(taps, 1.0, x, axis=0), rtol=0, atol=1e-12)


def test_callback_sink_refuses_what_it_cannot_call():
    with pytest.raises(TypeError, match="CallbackSink: expected fn to be callable"):
        sd.CallbackSink(42)
    with pytest.raises(TypeError, match="on_close"):
        sd.CallbackSink(print, on_close="no")


def test_tee_writes_every_sink_and_closes_them_all(tmp_path):
    x = np.random.default_rng(1).standard_normal((3000, 2)).astype(np.float32) * 0.1
    arr, ring = sd.ArraySink(), sd.RingBuffer(0.1, samplerate=8000)
    path = tmp_path / "t.wav"
    out = sd.run(sd.ArraySource(x, chunk_size=500) >> sd.Gain(2.0) >> sd.Tee(arr, sd.FileSink(path, 8000, subtype="FLOAT"), ring))
    assert out[1] == str(path)
    np.testing.assert_array_equal(out[0], 2 * x)
    np.testing.assert_array_equal(out[2], 2 * x[-800:])
    np.testing.assert_array_equal(soundfile.read(path, dtype="float32")[0], 2 * x)


def test_tee_closes_every_sink_even_if_one_fails():
    closed = []

    def boom():
        raise OSError("disk gone")
    tee = sd.Tee(sd.CallbackSink(len, on_close=boom), sd.CallbackSink(len, on_close=lambda: closed.append(1)))
    with pytest.raises(OSError, match="disk gone"):
        tee.close()
    assert closed == [1]
    with pytest.raises(TypeError, match="Tee: expected streamdsp sinks"):
        sd.Tee(sd.ArraySink(), "file.wav")


# ---------------------------------------------------------------- RingBuffer
def test_ring_buffer_keeps_the_latest_frames_in_time_order():
    rng = np.random.default_rng(2)
    ring = sd.RingBuffer(0.25, samplerate=4000, channels=3)    # 1000 frames
    assert ring.capacity == 1000 and ring.channels == 3 and ring.frames_written == 0
    written = [np.zeros((0, 3))]
    for n in [0, 1, 999, 7, 1500, 3000, 12, 5000, 0, 333]:
        c = rng.standard_normal((n, 3)).astype(np.float32)
        ring.write(c)
        written.append(c)
        allx = np.concatenate(written)
        assert ring.frames_written == len(allx)
        np.testing.assert_array_equal(ring.read(), allx[-1000:])
        for k in (0, 1, 17, 999, 1000, 5000):
            np.testing.assert_array_equal(ring.read(k), allx[len(allx) - min(k, 1000, len(allx)):])
        data, start = ring.read(100, return_start=True)
        assert start == len(allx) - len(data)


def test_ring_buffer_mono_layout_dtype_and_conversion():
    ring = sd.RingBuffer(1.0, samplerate=10)
    assert ring.channels is None and ring.read().shape == (0,)
    ring.write(np.arange(4, dtype=np.int16))       # channels fixed by the first chunk
    assert ring.channels == 1 and ring.dtype == np.float32
    np.testing.assert_array_equal(ring.read(), np.arange(4, dtype=np.float32))
    ring.write(np.arange(4.0, 6.0)[:, None])       # (n, 1) is one channel too
    assert ring.read().shape == (6, 1)
    r64 = sd.RingBuffer(1.0, samplerate=10, dtype="float64")
    r64.write(np.array([0.1, 0.2]))
    assert r64.read().dtype == np.float64 and r64.read()[0] == 0.1


def test_ring_buffer_rejects_bad_chunks_without_changing_anything():
    ring = sd.RingBuffer(1.0, samplerate=100, channels=2)
    ring.write(np.ones((10, 2)))
    with pytest.raises(ValueError, match="RingBuffer: chunk has 3 channels but this buffer has 2"):
        ring.write(np.ones((5, 3)))
    with pytest.raises(ValueError, match="shape"):
        ring.write(np.ones((2, 2, 2)))
    with pytest.raises(TypeError, match="complex"):
        ring.write(np.ones((2, 2), complex))
    with pytest.raises(TypeError, match="numeric"):
        ring.write("abc")
    assert ring.frames_written == 10
    with pytest.raises(ValueError, match="frames >= 0"):
        ring.read(-1)
    with pytest.raises(TypeError, match="whole number"):
        ring.read(2.5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(seconds=0, samplerate=100), "seconds > 0"),
    (dict(seconds=1, samplerate=-1), "samplerate > 0"),
    (dict(seconds=1, samplerate=100, dtype="int16"), "dtype"),
    (dict(seconds=1, samplerate=100, channels=0), "channels >= 1"),
])
def test_ring_buffer_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sd.RingBuffer(**kwargs)


def test_ring_buffer_without_samplerate_learns_it_from_the_runner_or_says_why_not():
    ring = sd.RingBuffer(0.5)                          # API.md: RingBuffer(seconds)
    assert ring.samplerate is None and ring.capacity is None and len(ring.read()) == 0
    with pytest.raises(sd.StreamStateError, match="samplerate unknown"):
        ring.write(np.ones(4))
    assert ring.frames_written == 0
    later = sd.RingBuffer(0.5, channels=2)
    arr = sd.ArraySink()
    src = sd.Sine([100.0, 200.0], 8000, duration=1.0, dtype="float64")
    r = sd.Runner(src >> sd.Gain(1.0) >> sd.Tee(arr, later)).start()
    assert r.join(30)
    assert later.samplerate == 8000 and later.capacity == 4000
    np.testing.assert_array_equal(later.read(), arr.result()[-4000:].astype(np.float32))
    if hasattr(sd, "Downsample"):                      # the rate the sink sees, after decimation
        low = sd.RingBuffer(1.0)
        sd.Runner(src >> sd.Downsample(4) >> low).start().join()
        assert low.samplerate == 2000 and len(low.read()) == 2000


def test_ring_buffer_capacity_is_ceil_of_seconds_times_rate():
    assert sd.RingBuffer(5.0, 10000).capacity == 50000
    assert sd.RingBuffer(0.0001, 48000).capacity == 5
    assert sd.RingBuffer(0.1, 44100).capacity == 4410


def test_ring_buffer_is_a_sink_in_flows_and_its_result_is_the_latest():
    ring = sd.RingBuffer(0.5, samplerate=1000)
    x = np.arange(2000.0)
    out = sd.run(sd.ArraySource(x, chunk_size=300) >> sd.Delay(10) >> ring)
    np.testing.assert_array_equal(out, (x - 10)[-500:].astype(np.float32))
    assert isinstance(ring, sd.Sink)


def _ramp_writer(ring, total, channels, stop, seed):
    rng = np.random.default_rng(seed)
    n = 0
    while n < total and not stop.is_set():
        k = int(rng.choice([1, 17, 256, 4096, 60000, 150000]))
        idx = np.arange(n, n + k, dtype=np.float64)
        ring.write(idx[:, None] + 0.25 * np.arange(channels))
        n += k


def test_ring_buffer_readers_never_see_torn_or_out_of_order_data():
    # One writer appends a ramp (frame index, + 0.25 per channel) in chunks
    # of very different sizes, some larger than the buffer; three readers
    # read all the time, full-length reads included.  Every read must be a
    # contiguous piece of the ramp ending no earlier than the previous one.
    channels, capacity = 4, 100_000
    ring = sd.RingBuffer(capacity, samplerate=1, channels=channels, dtype="float64")
    stop = threading.Event()
    failures, reads = [], [0, 0, 0]

    def reader(i):
        rng = np.random.default_rng(100 + i)
        last_end = 0
        while not stop.is_set():
            want = int(rng.choice([1, 1000, capacity // 2, capacity]))
            data, start = ring.read(want, return_start=True)
            k = len(data)
            if k == 0:
                continue
            expect = np.arange(start, start + k, dtype=np.float64)[:, None] + 0.25 * np.arange(channels)
            if not np.array_equal(data, expect):
                bad = np.flatnonzero(np.any(data != expect, axis=1))
                failures.append(f"reader {i}: read {want} from {start}: {len(bad)} bad frames, first at {bad[0]}")
                return
            if start + k < last_end:
                failures.append(f"reader {i}: went back in time ({start + k} < {last_end})")
                return
            last_end = start + k
            reads[i] += 1

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    writer = threading.Thread(target=_ramp_writer, args=(ring, 10 ** 12, channels, stop, 0))
    writer.start()
    time.sleep(2.5)
    stop.set()
    writer.join()
    for t in threads:
        t.join()
    assert not failures, failures[:3]
    assert ring.frames_written > 20 * capacity, "the writer must have wrapped many times"
    assert min(reads) > 20, f"too few reads to mean anything: {reads} in {time.perf_counter() - t0:.1f} s"


def test_ring_buffer_write_nogil_is_declared_for_cython_users():
    pxd = os.path.join(os.path.dirname(sd.__file__), "_io", "_ringbuffer.pxd")
    text = open(pxd).read()
    assert "cdef void write_nogil(self, const void* x, Py_ssize_t frames) noexcept nogil" in text
    import streamdsp._io._ringbuffer as core
    assert isinstance(sd.RingBuffer(1.0, 10), core.RingBuffer)


# ---------------------------------------------------------------- FileSink
@pytest.mark.parametrize("fmt,subtype", [("wav", "FLOAT"), ("flac", "PCM_24"), ("aiff", "PCM_24"),
                                         ("ogg", "VORBIS")])
def test_file_sink_frequent_flushes_keep_the_content_exact(tmp_path, fmt, subtype):
    fs = 8000
    x = 0.5 * np.stack([np.sin(2 * np.pi * 440 * np.arange(30000) / fs)] * 2, 1).astype(np.float32)
    path = tmp_path / f"f.{fmt}"
    sink = sd.FileSink(path, fs, subtype=subtype, flush_every=0.05)    # every 400 frames
    sd.run(sd.ArraySource(x, chunk_size=37) >> sink)
    assert sink.frames == sink.frames_flushed == 30000    # closed: everything is durable
    y, sr = soundfile.read(path, dtype="float32")
    assert sr == fs and y.shape == x.shape
    tol = {"FLOAT": 0, "PCM_24": 2e-7, "VORBIS": 0.05}[subtype]
    assert np.max(np.abs(y - x)) <= tol


@pytest.mark.parametrize("fmt", ["wav", "aiff", "caf", "au", "w64", "rf64"])
def test_file_sink_flush_makes_a_copy_taken_mid_recording_readable(tmp_path, fmt):
    import shutil
    x = np.random.default_rng(5).uniform(-0.5, 0.5, (3000, 2)).astype(np.float32)
    path = tmp_path / f"m.{fmt}"
    sink = sd.FileSink(path, 1000, subtype="FLOAT", flush_every=1.0)
    for i in range(0, 2500, 100):
        sink.write(x[i:i + 100])
    assert sink.frames_flushed == 2000
    assert not path.exists()          # written beside it until close
    snap = tmp_path / f"snap.{fmt}"
    shutil.copy(sink.temp_path, snap)  # what a crash now would leave (minus unflushed data)
    y, _ = soundfile.read(snap, dtype="float32")
    assert len(y) >= 2000
    np.testing.assert_array_equal(y, x[:len(y)])
    sink.write(x[2500:])
    sink.close()
    np.testing.assert_array_equal(soundfile.read(path, dtype="float32")[0], x)


def test_file_sink_ogg_is_not_claimed_durable_before_close(tmp_path):
    sink = sd.FileSink(tmp_path / "o.ogg", 8000, flush_every=0.01)
    sink.write(np.zeros(4000, dtype=np.float32))
    assert sink.frames == 4000 and sink.frames_flushed == 0
    sink.close()
    assert sink.frames_flushed == 4000 and soundfile.info(tmp_path / "o.ogg").frames == 4000


def test_file_sink_flush_updates_a_wav_header_that_other_readers_trust(tmp_path):
    from scipy.io import wavfile
    path = tmp_path / "h.wav"
    sink = sd.FileSink(path, 1000, subtype="PCM_16", flush_every=None)
    sink.write(np.zeros(500, dtype=np.float32))
    sink.flush()
    assert sink.frames_flushed == 500
    # while the file is still open, the header already counts the 500 frames
    rate, data = wavfile.read(sink.temp_path)
    assert rate == 1000 and data.shape == (500,)
    sink.write(np.zeros(300, dtype=np.float32))
    sink.close()
    assert wavfile.read(path)[1].shape == (800,)


def test_file_sink_flushes_every_flush_every_seconds_of_audio(tmp_path):
    sink = sd.FileSink(tmp_path / "e.wav", 1000, flush_every=0.5)
    seen = []
    for _ in range(12):
        sink.write(np.zeros(100, dtype=np.float32))
        seen.append(sink.frames_flushed)
    sink.close()
    assert seen == [0, 0, 0, 0, 500, 500, 500, 500, 500, 1000, 1000, 1000]
    with pytest.raises(sd.StreamStateError, match="closed"):
        sink.write(np.zeros(10))


def test_file_sink_bad_flush_every(tmp_path):
    with pytest.raises(ValueError, match="flush_every > 0"):
        sd.FileSink(tmp_path / "x.wav", 8000, flush_every=0)


_KILLED_WRITER = textwrap.dedent("""
    import sys, time
    import streamdsp as sd
    path, subtype = sys.argv[1], sys.argv[2]
    fs = 8000
    sink = sd.FileSink(path, fs, subtype=subtype, flush_every=0.25)
    last = -1
    for chunk in sd.Sine([440.0, 1000.0], fs, amplitude=0.5, chunk_size=250):   # endless
        sink.write(chunk)
        if sink.frames_flushed != last:
            last = sink.frames_flushed
            print(last, sink.temp_path, flush=True)   # killed, the data stays there
        time.sleep(0.002)     # ~ 15x real time: the file grows, the test stays small
""")


@pytest.mark.parametrize("fmt,subtype", [("wav", "FLOAT"), ("wav", "PCM_16"), ("flac", "PCM_24")])
def test_file_sink_survives_sigkill_with_everything_flushed(tmp_path, fmt, subtype):
    script = tmp_path / "writer.py"
    script.write_text(_KILLED_WRITER)
    path = tmp_path / f"killed.{fmt}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(script), str(path), subtype], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    flushed = []
    try:
        deadline = time.monotonic() + 60
        while len([f for f in flushed if f > 0]) < 4 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            count, partial = line.rstrip("\n").split(" ", 1)
            flushed.append(int(count))
        time.sleep(0.1)         # let it write past the last flush
        proc.send_signal(_signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -_signal.SIGKILL, proc.stderr.read()
    assert len(flushed) >= 4 and flushed[-1] > 0, (flushed, proc.stderr.read())

    assert not path.exists() and os.path.basename(partial).startswith(path.name + ".")
    info = soundfile.info(partial)
    y, sr = soundfile.read(partial, dtype="float64")
    assert sr == 8000 and y.ndim == 2 and y.shape[1] == 2
    assert info.frames == len(y) >= flushed[-1]
    n = np.arange(len(y))
    ref = 0.5 * np.stack([np.sin(2 * np.pi * 440 * n / 8000), np.sin(2 * np.pi * 1000 * n / 8000)], 1)
    tol = {"FLOAT": 1e-7, "PCM_16": 1 / 32768 + 1e-7, "PCM_24": 2 ** -23 + 1e-7}[subtype]
    assert np.max(np.abs(y - ref)) <= tol
