"""Runner: pull and push modes, overflow policies, clean stops, errors named, counters."""

import os
import queue
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
from _support import python_env

TAPS = signal.firwin(63, 0.2)
TAPS_LONG = np.random.default_rng(3).standard_normal(300) * np.exp(-np.arange(300) / 60)


def chain():
    """Latency > 0 (the FFT FIR holds back a block), so a missing flush would show."""
    return sd.FIR(TAPS, method="direct") >> sd.Gain(0.5) >> sd.FIR(TAPS_LONG, method="fft", block_size=64)


def offline(x):
    return signal.lfilter(TAPS_LONG, 1.0, 0.5 * signal.lfilter(TAPS, 1.0, x, axis=0), axis=0)


def aligned(y, latency, n):
    assert len(y) == n + latency, f"{len(y)} frames, expected {n} + latency {latency}"
    assert np.all(y[:latency] == 0)
    return y[latency:]


# ---------------------------------------------------------------- pull mode
def test_pull_mode_runs_a_finite_source_to_the_end_and_flushes():
    x = np.random.default_rng(0).standard_normal((20000, 2))
    c = chain()
    r = sd.Runner(sd.ArraySource(x, chunk_size=300, samplerate=1000) >> c >> sd.ArraySink())
    r.start()
    assert r.join(timeout=30)
    y = r.result()
    np.testing.assert_allclose(aligned(y, c.latency, len(x)), offline(x), rtol=0, atol=1e-11)
    st = r.stats()
    assert st["chunks"] == 67 and st["frames"] == 20000 and st["frames_out"] == 20000 + c.latency
    assert st["seconds"] == 20.0 and not st["running"] and not r.running
    assert 0 < st["mean_chunk_s"] <= st["max_chunk_s"] and st["busy_s"] <= st["elapsed_s"]
    assert st["drops"] == 0 and st["queue_high_water"] == 0


def test_pull_mode_endless_generator_stops_cleanly():
    fs = 8000
    ring = sd.RingBuffer(1.0, fs, dtype="float64")
    arr = sd.ArraySink()
    c = sd.FIR(TAPS, method="direct") >> sd.Delay(3)
    with sd.Runner(sd.Noise(fs, seed=11, chunk_size=256, dtype="float64") >> c >> sd.Tee(arr, ring)) as r:
        time.sleep(0.3)
    assert not r.running
    y = arr.result()
    n = r.stats()["frames"]
    assert n > 10 * 256 and n % 256 == 0 and len(y) == n
    x = np.random.default_rng(11).standard_normal(n)        # what Noise(seed=11) produced
    ref = np.concatenate([np.zeros(3), signal.lfilter(TAPS, 1.0, x)])[:n]
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ring.read(), y[-fs:])
    assert r.stats()["seconds"] == n / fs


# ---------------------------------------------------------------- push mode
def test_push_from_an_acquisition_thread_in_irregular_chunks_equals_offline():
    x = np.random.default_rng(1).standard_normal((50000, 3))
    c = chain()
    r = sd.Runner(c >> sd.ArraySink(), queue_size=16, overflow="block", samplerate=10000)

    def acquire():
        rng = np.random.default_rng(2)
        i = 0
        while i < len(x):
            k = int(rng.integers(0, 700))
            r.push(x[i:i + k])
            i += k

    with r:
        t = threading.Thread(target=acquire)
        t.start()
        t.join()
    y = r.result()
    np.testing.assert_allclose(aligned(y, c.latency, len(x)), offline(x), rtol=0, atol=1e-11)
    st = r.stats()
    assert st["frames"] == 50000 and st["drops"] == 0 and st["seconds"] == 5.0
    assert 1 <= st["queue_high_water"] <= 16


def test_push_copies_the_chunk():
    buf = np.ones(8)
    with sd.Runner(sd.Gain(1.0) >> sd.ArraySink()) as r:
        r.push(buf)
        buf[:] = 7.0          # an audio callback reuses its buffer
        r.push(buf)
    np.testing.assert_array_equal(r.result(), [1.0] * 8 + [7.0] * 8)


class _Gate:
    """A sink that holds the worker inside write() until opened."""

    def __init__(self):
        self.entered = threading.Event()
        self.open = threading.Event()
        self.got = []

    def write(self, chunk):
        self.entered.set()
        assert self.open.wait(30)
        self.got.append(chunk.copy())


def gated_runner(overflow, queue_size=4):
    gate = _Gate()
    r = sd.Runner(sd.Gain(1.0) >> sd.CallbackSink(gate.write), queue_size=queue_size, overflow=overflow).start()
    r.push(np.full(3, 0.0))
    assert gate.entered.wait(10)            # the worker holds chunk 0; the queue is empty
    return r, gate


def test_overflow_drop_oldest_keeps_the_newest_and_counts_drops():
    r, gate = gated_runner("drop_oldest")
    for i in range(1, 10):                  # 9 chunks into a queue of 4: 1..5 dropped
        r.push(np.full(3, float(i)))
    st = r.stats()
    assert st["queued"] == 4 and st["drops"] == 5 and st["dropped_frames"] == 15
    assert st["queue_high_water"] == 4
    gate.open.set()
    r.stop()
    assert [c[0] for c in gate.got if len(c)] == [0.0, 6.0, 7.0, 8.0, 9.0]


def test_overflow_raise_refuses_the_new_chunk_in_the_caller():
    r, gate = gated_runner("raise")
    for i in range(1, 5):
        r.push(np.full(3, float(i)))
    with pytest.raises(sd.QueueFullError, match="queue is full \\(4 chunks"):
        r.push(np.full(3, 5.0))
    with pytest.raises(queue.Full):         # it is a queue.Full too
        r.push(np.full(3, 6.0))
    assert r.stats()["drops"] == 2 and r.running
    gate.open.set()
    r.stop()
    assert [c[0] for c in gate.got if len(c)] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_overflow_block_waits_for_room_and_times_out_if_asked():
    r, gate = gated_runner("block", queue_size=2)
    r.push(np.full(3, 1.0))
    r.push(np.full(3, 2.0))
    t0 = time.monotonic()
    with pytest.raises(sd.QueueFullError, match="stayed full"):
        r.push(np.full(3, 3.0), timeout=0.2)
    assert time.monotonic() - t0 >= 0.19
    done = threading.Event()

    def blocked_push():
        r.push(np.full(3, 4.0))            # waits until the worker makes room
        done.set()
    t = threading.Thread(target=blocked_push)
    t.start()
    assert not done.wait(0.2)
    gate.open.set()
    assert done.wait(10)
    t.join()
    r.stop()
    assert [c[0] for c in gate.got if len(c)] == [0.0, 1.0, 2.0, 4.0]
    assert r.stats()["drops"] == 1


def test_stop_processes_everything_queued_flushes_and_closes_the_file(tmp_path):
    fs = 8000
    x = (0.25 * np.random.default_rng(4).standard_normal((40000, 2))).astype(np.float32)
    path = tmp_path / "rec.wav"
    c = chain()
    r = sd.Runner(c >> sd.FileSink(path, fs, subtype="FLOAT"), queue_size=1000).start()
    for i in range(0, len(x), 100):
        r.push(x[i:i + 100])
    r.stop()                                 # right away: 400 chunks may still be queued
    assert r.stats()["frames"] == 40000 and r.stats()["queued"] == 0
    y, sr = soundfile.read(path, dtype="float64")
    ref = offline(x.astype(np.float64))
    assert np.max(np.abs(aligned(y, c.latency, len(x)) - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_blocked_pusher_is_released_when_the_runner_stops():
    r, gate = gated_runner("block", queue_size=1)
    r.push(np.ones(3))
    errors = []

    def pusher():
        try:
            r.push(np.ones(3))
        except sd.StreamStateError as e:
            errors.append(e)
    t = threading.Thread(target=pusher)
    t.start()
    time.sleep(0.1)
    threading.Timer(0.2, gate.open.set).start()
    r.stop()
    t.join(10)
    assert not t.is_alive()
    assert len(errors) == 1 and "stop" in str(errors[0])


# ---------------------------------------------------------------- errors
def test_a_failing_block_is_named_and_reraised_on_stop():
    two_ch = sd.FIR(np.ones((4, 2)))          # coefficients fix 2 channels
    p = sd.Gain(1.0) >> two_ch                # a Pipeline: one stage of the runner
    r = sd.Runner(p >> sd.ArraySink()).start()
    r.push(np.ones((10, 3)))                  # the runner accepts it; the FIR cannot
    deadline = time.monotonic() + 10
    while r.running and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(sd.StreamStateError, match="stopped by an error") as push_error:
        r.push(np.ones((10, 3)))
    assert isinstance(push_error.value.__cause__, ValueError)
    with pytest.raises(ValueError, match=r"Runner: the block <Pipeline .*>: Pipeline: block 1 \(FIR\) cannot take 3"):
        r.stop()
    assert r.failed_stage is p
    assert r.stop() is True                  # raised once
    assert isinstance(r.error, sd.ChannelMismatchError)


def test_a_failing_block_of_a_source_flow_is_named_by_its_place():
    two_ch = sd.FIR(np.ones((4, 2)))
    flow = sd.ArraySource(np.ones((100, 3)), chunk_size=10) >> sd.Gain(1.0) >> two_ch >> sd.ArraySink()
    assert len(flow.blocks) == 2
    r = sd.Runner(flow).start()
    with pytest.raises(sd.ChannelMismatchError,
                       match=r"Runner: block 1 of 2 in the chain \(<FIR .*\): FIR: expected 2 channels"):
        r.join()
    assert r.failed_stage is two_ch


class _CannotEnd(sd.Block):
    """Passes frames through; refuses to end the stream (as SavitzkyGolay does when it was too short)."""

    def process(self, x, out=None):
        return np.array(x, copy=True)

    def flush(self):
        raise ValueError("_CannotEnd: the stream was too short")


def test_a_failed_flush_resets_every_block_like_pipeline_and_graph():
    # the FIR after the failing block was never flushed: without the reset
    # it would carry the old stream's last frames into the next one
    makers = [lambda: sd.Delay(2), _CannotEnd, lambda: sd.FIR(np.ones(8))]
    blocks = [make() for make in makers]
    flow = sd.ArraySource(np.full(20, 1000.0), chunk_size=7) >> blocks[0] >> blocks[1] >> blocks[2]
    r = sd.Runner(flow >> sd.ArraySink()).start()
    with pytest.raises(ValueError, match=r"Runner: block 1 of 3 in the chain \(.*\): _CannotEnd"):
        r.join(timeout=30)
    assert r.failed_stage is blocks[1]
    new = np.random.default_rng(8).standard_normal(300)
    for k in (0, 2):                         # the blocks that hold state
        fresh = makers[k]()
        np.testing.assert_array_equal(np.concatenate([blocks[k].process(new), blocks[k].flush()]),
                                      np.concatenate([fresh.process(new), fresh.flush()]))


def test_a_failing_sink_is_named_and_what_was_written_stays(tmp_path):
    calls = []

    def flaky(chunk):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise RuntimeError("disk full")
    with pytest.raises(RuntimeError, match=r"Runner: the sink <CallbackSink .*flaky>: disk full"):
        with sd.Runner(sd.Gain(2.0) >> sd.CallbackSink(flaky)) as r:
            for _ in range(10):
                try:
                    r.push(np.ones(5))
                except sd.StreamStateError:
                    break
                time.sleep(0.01)
    assert len(calls) == 3
    # a FileSink that cannot open its file fails at the first chunk, named
    bad = sd.FileSink(tmp_path / "no" / "such" / "dir.wav", 8000)
    with pytest.raises(Exception, match=r"Runner: the sink <FileSink"):
        with sd.Runner(sd.ArraySource(np.zeros(100)) >> sd.Gain(1.0) >> bad):
            pass


class _BrokenSource(sd.Source):
    samplerate = 100

    def __iter__(self):
        yield np.zeros(10)
        raise OSError("sensor unplugged")


def test_a_failing_source_is_named_and_the_output_so_far_is_kept(tmp_path):
    path = tmp_path / "partial.wav"
    r = sd.Runner(_BrokenSource() >> sd.Gain(1.0) >> sd.FileSink(path, 100)).start()
    with pytest.raises(OSError, match="Runner: the source <.*_BrokenSource.*>: sensor unplugged"):
        r.join()
    assert soundfile.info(path).frames == 10           # the sink was closed: the file is valid


def test_with_body_exception_is_not_masked_by_the_runner():
    with pytest.raises(KeyError, match="from the body"):
        with sd.Runner(sd.Gain(1.0) >> sd.CallbackSink(lambda c: 1 / 0)) as r:
            r.push(np.ones(3))
            time.sleep(0.1)
            raise KeyError("from the body")
    assert isinstance(r.error, ZeroDivisionError)


# ---------------------------------------------------------------- usage errors
def test_push_refuses_bad_chunks_in_the_caller_and_keeps_running():
    with sd.Runner(sd.Gain(1.0) >> sd.ArraySink()) as r:
        r.push(np.ones((4, 2)))
        with pytest.raises(sd.ChannelMismatchError, match="Runner.push: chunk has 3 channels but the stream has 2"):
            r.push(np.ones((4, 3)))
        with pytest.raises(ValueError, match="shape"):
            r.push(np.ones((2, 2, 2)))
        with pytest.raises(TypeError, match="numeric"):
            r.push("samples")
        with pytest.raises(TypeError, match="real samples"):
            r.push(np.ones((2, 2), complex))
        r.push(np.zeros((4, 2)))
    assert r.result().shape == (8, 2)


def test_life_cycle_errors():
    r = sd.Runner(sd.Gain(1.0) >> sd.ArraySink())
    with pytest.raises(sd.StreamStateError, match="not started"):
        r.push(np.ones(2))
    r.start()
    with pytest.raises(sd.StreamStateError, match="already started"):
        r.start()
    r.stop()
    with pytest.raises(sd.StreamStateError, match="stopped"):
        r.push(np.ones(2))
    pull = sd.Runner(sd.ArraySource(np.ones(4)) >> sd.ArraySink())
    with pytest.raises(sd.StreamStateError, match="push\\(\\) is for flows without a source"):
        pull.push(np.ones(2))
    with pytest.raises(ValueError, match="overflow in 'block', 'drop_oldest', 'raise'"):
        sd.Runner(sd.Gain(1.0), overflow="ignore")
    with pytest.raises(ValueError, match="queue_size >= 1"):
        sd.Runner(sd.Gain(1.0), queue_size=0)
    with pytest.raises(TypeError, match=">>: expected a source, block or sink"):
        sd.Runner(42)


def test_stop_before_start_closes_the_sink_and_stats_are_zero():
    closed = []
    r = sd.Runner(sd.Gain(1.0) >> sd.CallbackSink(len, on_close=lambda: closed.append(1)))
    assert r.stop() is True and closed == [1]
    st = r.stats()
    assert st["chunks"] == 0 and st["mean_chunk_s"] == 0.0 and st["seconds"] is None


def test_samplerate_comes_from_the_sink_times_the_decimation(tmp_path):
    r = sd.Runner(sd.Gain(1.0) >> sd.FileSink(tmp_path / "a.wav", 8000))
    assert r.samplerate == 8000
    if hasattr(sd, "Downsample"):
        r = sd.Runner(sd.Downsample(4) >> sd.FileSink(tmp_path / "b.wav", 2000))
        assert r.samplerate == 8000


# ---------------------------------------------------------------- process exit
_EXIT_WITHOUT_STOP = textwrap.dedent("""
    import sys, numpy as np, streamdsp as sd
    r = sd.Runner(sd.Gain(0.5) >> sd.FileSink(sys.argv[1], 8000, subtype="FLOAT"), queue_size=100000)
    r.start()
    for i in range(2000):
        r.push(np.full(50, 0.5, dtype=np.float32))
    # no stop(): the interpreter exits with chunks still queued
""")


def test_interpreter_exit_without_stop_still_finishes_the_file(tmp_path):
    script = tmp_path / "w.py"
    script.write_text(_EXIT_WITHOUT_STOP)
    path = tmp_path / "exit.wav"
    subprocess.run([sys.executable, str(script), str(path)], check=True, env=python_env(), timeout=60)
    y, _ = soundfile.read(path, dtype="float32")
    assert len(y) == 100000 and np.all(y == 0.25)


_CTRL_C = textwrap.dedent("""
    import sys, time, threading, numpy as np, streamdsp as sd
    pushed = 0
    stop = threading.Event()
    r = sd.Runner(sd.FIR(np.ones(8) / 8) >> sd.FileSink(sys.argv[1], 8000, subtype="PCM_24"))

    def sensor():
        global pushed
        while not stop.is_set():
            try:
                r.push(np.full((80, 2), 0.5, dtype=np.float32))
            except sd.StreamStateError:     # stopping: this chunk was refused
                break
            pushed += 80
            time.sleep(0.001)
    try:
        with r:
            t = threading.Thread(target=sensor)
            t.start()
            print("running", flush=True)
            while True:
                time.sleep(0.05)
    except KeyboardInterrupt:
        stop.set()
        t.join()
    print(pushed, flush=True)
""")


def test_ctrl_c_in_a_with_block_loses_nothing(tmp_path):
    # The with block exits on KeyboardInterrupt: stop() drains the queue
    # and closes the file.  Chunks pushed after the interrupt, before the
    # sensor thread noticed, are refused (StreamStateError) and not counted.
    script = tmp_path / "c.py"
    script.write_text(_CTRL_C)
    path = tmp_path / "ctrlc.flac"
    proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=python_env())
    assert proc.stdout.readline().strip() == "running"
    time.sleep(0.5)
    proc.send_signal(_signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    pushed = int(out.split()[-1])
    assert pushed > 0, err
    y, _ = soundfile.read(path, dtype="float64")
    assert y.shape == (pushed, 2), err
    np.testing.assert_allclose(y[7:], 0.5, atol=2 ** -23)


# ---------------------------------------------------------------- examples/acquisition.py
ACQUISITION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "acquisition.py")


def _load_acquisition():
    import importlib.util
    spec = importlib.util.spec_from_file_location("acquisition_example", ACQUISITION)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _scipy_chain(blocks, x):
    """The offline result of the example's chain, block by block, with scipy."""
    y = np.asarray(x, dtype=np.float64)
    for b in blocks:
        name = type(b).__name__
        if name == "LTISystem":
            y = signal.sosfilt(b.sos, y, axis=0)
        elif name == "FIR":
            y = signal.lfilter(b.taps, 1.0, y, axis=0)
        elif name == "SavitzkyGolay":
            sg = signal.savgol_filter(y, b.window_length, b.polyorder, axis=0, mode=b.mode)
            y = np.concatenate([np.zeros((b.latency, y.shape[1])), sg])     # what process + flush emit
        elif name == "Decimate":
            y = signal.lfilter(b.taps, 1.0, y, axis=0)[::b.decimation]
        elif name == "Downsample":
            y = y[::b.decimation]
        else:
            raise AssertionError(f"no scipy reference for {name}")
    return y


def test_acquisition_example_records_exactly_the_processed_signal(tmp_path):
    proc = subprocess.run([sys.executable, ACQUISITION, "--seconds", "3", "--speed", "0", "--out-dir", tmp_path],
                          capture_output=True, text=True, env=python_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "nothing lost" in proc.stdout
    y, rate = soundfile.read(tmp_path / "acquisition.flac", dtype="float64")
    mod = _load_acquisition()
    blocks, out_rate = mod.build_chain([])
    x = mod.Sensor(None, 0).read(3 * mod.FS)       # the same samples, whatever the chunking
    ref = _scipy_chain(blocks, x)
    assert rate == out_rate and y.shape == ref.shape == (len(ref), mod.CHANNELS)
    # float32 processing, then 24-bit PCM: any lost, repeated or reordered chunk would be far off
    assert np.max(np.abs(y - ref)) <= 1e-4 * np.max(np.abs(ref))


@pytest.mark.parametrize("sig", [_signal.SIGINT, _signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_acquisition_example_stops_cleanly_on_ctrl_c_with_nothing_lost(tmp_path, sig):
    proc = subprocess.Popen([sys.executable, ACQUISITION, "--seconds", "0", "--out-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=python_env())
    try:
        for line in proc.stdout:                      # wait until it is acquiring
            if line.startswith("Ctrl-C to stop"):
                break
        time.sleep(1.2)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "interrupted: pushed" in out and "nothing lost" in out, out + err
    pushed = int(out.split("interrupted: pushed ")[1].split()[0])
    info = soundfile.info(tmp_path / "acquisition.flac")
    assert pushed >= 5000                              # about a second at 10 kHz
    assert info.frames >= pushed // 4 and f"{info.frames} frames" in out
