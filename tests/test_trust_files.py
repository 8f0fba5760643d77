"""Files and runs that can be trusted (issue 9, items 11-13 and the file/CLI part of 16).

Float streams are written as float, clipping into integer formats is
counted and reported, a sink never truncates its target before the run
succeeded, tails are written in full on request, and every failure of
``streamdsp process`` is one line with exit status 2.
"""

import contextlib
import os
import subprocess
import warnings

import numpy as np
import pytest
import soundfile
from scipy import signal

import streamdsp as sd
from test_cli import CLI, _env, assert_one_line_error, run as run_cli

FS = 8000


def reverb_like(frames=12000, channels=None, peak=1.59, dtype=np.float32, seed=0):
    """A dry burst through a decaying noise room, scaled so that its peak is ``peak``."""
    rng = np.random.default_rng(seed)
    t = np.arange(2000) / FS
    ir = rng.standard_normal(2000) * np.exp(-6.91 * t / 0.25)
    ir[0] = 1.0
    dry = np.zeros(frames)
    dry[100:600] = rng.standard_normal(500)
    y = signal.fftconvolve(dry, ir)[:frames]
    if channels:
        y = np.stack([y, np.roll(y, 7)], 1)[:, :channels]
    y = y * (peak / np.max(np.abs(y)))
    return y.astype(dtype)


def shown_lines(text):
    """The lines a terminal would show: a progress bar erased by ``\r`` is gone."""
    shown = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]
    return [line for line in shown if line.strip()]


def run_cli_raw(*args, cwd):
    """Like ``run_cli``, but stderr as written (``\r`` kept, not read as a newline)."""
    proc = subprocess.run(CLI + [str(a) for a in args], cwd=cwd, env=_env(), capture_output=True,
                          timeout=120)
    return proc.returncode, proc.stderr.decode()


def assert_one_line_failure(code, stderr, *needles):
    """Exit 2, no traceback, and one line on screen (after any erased progress bar)."""
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = shown_lines(stderr)
    assert len(lines) == 1 and lines[0].startswith("streamdsp process: "), repr(stderr)
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def parts(folder):
    return sorted(p for p in os.listdir(folder) if p.endswith(".part"))


# ---------------------------------------------------------------- 11: float stays float
@pytest.mark.parametrize("fmt,dtype,subtype", [("wav", np.float32, "FLOAT"), ("wav", np.float64, "DOUBLE"),
                                               ("aiff", np.float32, "FLOAT"), ("caf", np.float64, "DOUBLE")])
def test_file_sink_writes_a_float_stream_as_float_and_keeps_peaks_above_full_scale(tmp_path, fmt, dtype,
                                                                                 subtype):
    x = reverb_like(channels=2, dtype=dtype)
    assert np.max(np.abs(x)) == pytest.approx(1.59, rel=1e-6) and np.mean(np.abs(x) > 1) > 0.001
    path = tmp_path / f"r.{fmt}"
    sink = sd.FileSink(path, FS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # nothing was clipped: no warning
        sd.run(sd.ArraySource(x, chunk_size=1000) >> sink)
    assert soundfile.info(path).subtype == subtype
    y, _ = soundfile.read(path, dtype=np.dtype(dtype).name)
    np.testing.assert_array_equal(y, x)
    assert sink.stats()["clipped"] == 0 and sink.stats()["peak"] == pytest.approx(1.59, rel=1e-6)


def test_file_sink_integer_chunks_keep_their_width(tmp_path):
    x = (np.arange(-3000, 3000, 7) * 10).astype(np.int16)
    path = tmp_path / "i.wav"
    with sd.FileSink(path, FS) as sink:
        sink.write(x)
    assert soundfile.info(path).subtype == "PCM_16"
    np.testing.assert_array_equal(soundfile.read(path, dtype="int16")[0], x)


@pytest.mark.parametrize("fmt,subtype", [("flac", None), ("flac", "PCM_24"), ("wav", "PCM_16")])
def test_file_sink_counts_clipped_samples_and_warns_once_with_count_and_peak(tmp_path, fmt, subtype):
    x = reverb_like()
    over = int(np.count_nonzero(np.abs(x) > 1.0))
    path = tmp_path / f"c.{fmt}"
    sink = sd.FileSink(path, FS, subtype=subtype)
    with pytest.warns(RuntimeWarning) as caught:
        sd.run(sd.ArraySource(x, chunk_size=512) >> sink)
    clip = [w for w in caught if "clipped" in str(w.message)]
    assert len(clip) == 1
    text = str(clip[0].message)
    assert f"{over} samples" in text and "peak 1.59" in text and "+4.0 dBFS" in text
    assert sink.stats()["clipped"] == over and sink.stats()["peak"] == pytest.approx(1.59, rel=1e-6)
    # the oracle: exactly those samples came back as full scale
    y, _ = soundfile.read(path, dtype="float64")
    lsb = 2.0 ** -15 if soundfile.info(path).subtype == "PCM_16" else 2.0 ** -23
    assert np.count_nonzero(np.abs(y - x) > 2 * lsb) == over
    assert np.all(np.abs(y[np.abs(x) > 1]) >= 1 - 2 * lsb)


def test_file_sink_lossy_codecs_code_floats_and_clip_nothing(tmp_path):
    x = reverb_like(frames=16000)
    sink = sd.FileSink(tmp_path / "v.ogg", FS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sd.run(sd.ArraySource(x) >> sink)
    assert sink.stats()["clipped"] == 0
    assert np.max(np.abs(soundfile.read(tmp_path / "v.ogg")[0])) > 1.4     # the peak survived


def test_cli_process_writes_float_wav_from_pcm_input_and_reports_flac_clipping(tmp_path):
    x = reverb_like(peak=0.795)              # gain:2 takes it to 1.59
    soundfile.write(tmp_path / "in.wav", x, FS, subtype="PCM_24")
    x24 = soundfile.read(tmp_path / "in.wav", dtype="float32")[0]
    proc = run_cli("process", "in.wav", "out.wav", "--chain", "gain:2", "-q", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert soundfile.info(tmp_path / "out.wav").subtype == "FLOAT"
    np.testing.assert_array_equal(soundfile.read(tmp_path / "out.wav", dtype="float32")[0], 2 * x24)

    proc = run_cli("process", "in.wav", "out.flac", "--chain", "gain:2", "-q", cwd=tmp_path)
    over = int(np.count_nonzero(np.abs(2 * x24) > 1))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("streamdsp process: warning: ")
    assert f"{over} samples were clipped" in lines[0] and "+4.0 dBFS" in lines[0]


# ---------------------------------------------------------------- 12: never truncate the target
def test_run_in_place_processes_the_whole_file(tmp_path):
    x = reverb_like(frames=30000, channels=2, peak=0.9)
    path = tmp_path / "x.wav"
    soundfile.write(path, x, FS, subtype="FLOAT")
    src = sd.FileSource(path)                               # 4096-frame chunks
    assert sd.run(src >> sd.Gain(0.5) >> sd.FileSink(path, src.samplerate)) == str(path)
    y, _ = soundfile.read(path, dtype="float32")
    assert y.shape == x.shape
    np.testing.assert_array_equal(y, 0.5 * x)
    assert parts(tmp_path) == []


class _FailAt(sd.Source):
    """Yields ``x`` in chunks; the ``bad``-th chunk has the wrong channel count."""

    samplerate = FS

    def __init__(self, x, bad):
        self.x, self.bad = x, bad

    def __iter__(self):
        for i in range(0, len(self.x), 1000):
            chunk = self.x[i:i + 1000]
            yield np.ones((len(chunk), 3), np.float32) if i // 1000 == self.bad else chunk


def _boom_at(n):
    calls = []

    def fn(chunk):
        calls.append(len(chunk))
        if len(calls) == n:
            raise KeyError("callback failed")
    return fn


@pytest.mark.parametrize("how", ["callback", "bad chunk", "in place"])
def test_a_failing_run_leaves_the_target_byte_identical_and_no_temp_file(tmp_path, how):
    x = reverb_like(frames=10000, channels=2, peak=0.9)
    target = tmp_path / "keep.wav"
    soundfile.write(target, x[:3000] * 0.1, FS, subtype="PCM_16")
    before = target.read_bytes()
    if how == "callback":
        flow = sd.ArraySource(x, chunk_size=1000) >> sd.Gain(0.5) >> sd.Tee(
            sd.FileSink(target, FS), sd.CallbackSink(_boom_at(4)))
        error = KeyError
    elif how == "bad chunk":
        flow = _FailAt(x, bad=5) >> sd.Gain(0.5) >> sd.FileSink(target, FS)
        error = sd.ChannelMismatchError
    else:
        flow = sd.FileSource(target, chunk_size=500) >> sd.Gain(0.5) >> sd.Tee(
            sd.FileSink(target, FS), sd.CallbackSink(_boom_at(3)))
        error = KeyError
    with pytest.raises(error):
        sd.run(flow)
    assert target.read_bytes() == before
    assert parts(tmp_path) == []


def test_file_sink_in_a_with_block_aborts_on_error_and_commits_otherwise(tmp_path):
    target = tmp_path / "w.wav"
    soundfile.write(target, np.zeros(10), FS)
    before = target.read_bytes()
    with pytest.raises(ZeroDivisionError):
        with sd.FileSink(target, FS) as sink:
            sink.write(np.ones(100))
            assert os.path.exists(sink.temp_path) and target.read_bytes() == before
            1 / 0
    assert target.read_bytes() == before and parts(tmp_path) == [] and sink.temp_path is None
    with sd.FileSink(target, FS) as sink:
        sink.write(np.full(100, 0.25))
    np.testing.assert_array_equal(soundfile.read(target)[0], np.full(100, 0.25))
    assert parts(tmp_path) == []


def test_file_sink_never_closed_says_where_its_audio_is(tmp_path):
    sink = sd.FileSink(tmp_path / "lost.wav", FS)
    sink.write(np.ones(10))
    part = sink.temp_path
    with pytest.warns(ResourceWarning, match=r"'.*lost\.wav' was never closed; what was written is in"):
        del sink
    assert parts(tmp_path) == [os.path.basename(part)] and not (tmp_path / "lost.wav").exists()


def test_file_sink_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    target = tmp_path / "p.wav"
    soundfile.write(target, np.zeros(10), FS)
    os.chmod(target, 0o640)
    sd.run(sd.ArraySource(np.ones(10)) >> sd.FileSink(target, FS))
    assert os.stat(target).st_mode & 0o777 == 0o640
    sd.run(sd.ArraySource(np.ones(10)) >> sd.FileSink(tmp_path / "new.wav", FS))
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "new.wav").st_mode & 0o777 == 0o666 & ~umask


def test_cli_process_in_place(tmp_path):
    x = reverb_like(frames=20000, peak=0.9)
    soundfile.write(tmp_path / "x.wav", x, FS, subtype="FLOAT")
    proc = run_cli("process", "x.wav", "x.wav", "--chain", "gain:0.5", "-q", "--chunk-size", "1000",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(soundfile.read(tmp_path / "x.wav", dtype="float32")[0], 0.5 * x)
    assert parts(tmp_path) == []


# ---------------------------------------------------------------- 13: tails
def test_tail_frames_of_each_block():
    assert sd.Gain(2.0).tail_frames == 0
    assert sd.FIR(np.ones(33)).tail_frames == 32
    assert sd.FIR(np.ones((5, 2))).tail_frames == 4
    assert sd.Convolver(np.ones(1000)).tail_frames == 999
    assert sd.Correlator(np.ones(20)).tail_frames == 19
    assert sd.Correlator(np.arange(20.0), normalize=True).tail_frames == 0
    assert sd.Delay(7).tail_frames == 7
    assert sd.SavitzkyGolay(31, 3).tail_frames == 0
    assert sd.Decimate(4, ntaps=21).tail_frames == 5
    assert (sd.FIR(np.ones(5)) >> sd.Gain(1.0) >> sd.Convolver(np.ones(10))).tail_frames == 4 + 9
    assert sd.Parallel(sd.FIR(np.ones(5)), sd.Convolver(np.ones(10)) >> sd.FIR(np.ones(3))).tail_frames == 11
    g = sd.Graph()
    x = g.input()
    a = x >> sd.FIR(np.ones(40), method="fft", block_size=16)        # latency 16: aligned, not tail
    b = x >> sd.Delay(3)
    g.output(g.add(sd.Add(2), a, b) >> sd.FIR(np.ones(6)))
    assert g.latency == 16 and g.tail_frames == 39 + 5


@pytest.mark.parametrize("sos", [signal.butter(4, 0.05, output="sos"), signal.butter(8, 0.01, output="sos"),
                                 signal.cheby1(6, 1, 0.2, output="sos")])
def test_lti_tail_is_where_the_impulse_response_stays_below_minus_120_db(sos):
    b = sd.LTISystem.from_sos(sos)
    t = b.tail_frames
    h = np.abs(signal.sosfilt(sos, np.r_[1.0, np.zeros(4 * t + 5000)]))
    peak = h.max()
    assert h[t] >= 1e-6 * peak > np.max(h[t + 1:])


def test_lti_tail_of_a_system_that_does_not_decay_is_the_cap():
    with pytest.warns(RuntimeWarning, match="not stable"):
        integrator = sd.LTISystem.from_tf([1.0], [1.0, -1.0])
    assert integrator.tail_frames == 2 ** 20
    assert sd.LTISystem.from_tf([1.0, 2.0, 1.0], [1.0]).tail_frames == 2    # an FIR as (b, a)


def test_run_with_tail_writes_the_whole_convolution():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5000, 2))
    taps = rng.standard_normal(101)
    ir = rng.standard_normal(3000) * np.exp(-np.arange(3000) / 500)
    sos = signal.butter(4, 0.05, output="sos")

    y = sd.run(sd.ArraySource(x, chunk_size=700) >> sd.FIR(taps), tail=True)
    assert y.shape == (5000 + 100, 2)
    np.testing.assert_allclose(y, signal.fftconvolve(x, taps[:, None]), rtol=0, atol=1e-10)

    y = sd.run(sd.ArraySource(x, chunk_size=700) >> sd.Convolver(ir), tail=True)
    assert y.shape == (5000 + 2999, 2)
    np.testing.assert_allclose(y, signal.fftconvolve(x, ir[:, None]), rtol=0, atol=1e-9)

    lti = sd.LTISystem.from_sos(sos)
    y = sd.run(sd.ArraySource(x[:, 0], chunk_size=700) >> lti, tail=True)
    assert len(y) == 5000 + lti.tail_frames
    np.testing.assert_allclose(y, signal.sosfilt(sos, np.r_[x[:, 0], np.zeros(lti.tail_frames)]),
                               rtol=0, atol=1e-12)

    # without tail: as many frames as the input, as before
    assert sd.run(sd.ArraySource(x, chunk_size=700) >> sd.Convolver(ir)).shape == x.shape


def test_run_with_tail_and_latency_flushes_after_the_tail():
    x = np.random.default_rng(4).standard_normal(3000)
    taps = np.hanning(50)
    fir = sd.FIR(taps, method="fft", block_size=32)
    chain = sd.Delay(5) >> fir
    y = sd.run(sd.ArraySource(x, chunk_size=256) >> chain, tail=True)
    L, T = chain.latency, chain.tail_frames
    assert (L, T) == (32, 54)
    assert len(y) == len(x) + L + T
    np.testing.assert_allclose(y[L:], np.convolve(np.r_[np.zeros(5), x], taps), rtol=0, atol=1e-9)


def test_run_with_tail_into_a_file(tmp_path):
    x = reverb_like(frames=4000, peak=0.5).astype(np.float64)
    ir = np.exp(-np.arange(2500) / 400.0) * np.cos(np.arange(2500))
    path = tmp_path / "wet.wav"
    sd.run(sd.ArraySource(x) >> sd.Convolver(ir) >> sd.FileSink(path, FS), tail=True)
    y, _ = soundfile.read(path)
    np.testing.assert_allclose(y, signal.fftconvolve(x, ir), rtol=0, atol=1e-9)


def test_cli_process_tail_writes_the_reverb_to_its_end(tmp_path):
    x = reverb_like(frames=6000, peak=0.5)
    soundfile.write(tmp_path / "dry.wav", x, FS, subtype="FLOAT")
    ir = np.exp(-np.arange(4000) / 600.0) * np.random.default_rng(1).standard_normal(4000) * 0.1
    np.save(tmp_path / "ir.npy", ir)
    proc = run_cli("process", "dry.wav", "wet.wav", "--chain", "convolver:ir.npy", "--tail", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "tail   : 3999 frames" in proc.stdout
    y = soundfile.read(tmp_path / "wet.wav", dtype="float64")[0]
    assert len(y) == 6000 + 3999
    np.testing.assert_allclose(y, signal.fftconvolve(x.astype(np.float64), ir), rtol=0, atol=1e-6)


# ---------------------------------------------------------------- 16: errors that name the problem
@pytest.mark.parametrize("chain,needles", [
    ("gain:7000dB", ["gain", "7000dB", "6165 dB"]),
    ("delay:9223372036854775808", ["delay", "9223372036854775808"]),
    ("fir:notanarray.wav", ["fir", "not a .npy file", "convolver:notanarray.wav"]),
    ("fir:objects.npy", ["fir", "Python objects"]),
])
def test_cli_bad_chain_elements_are_one_line_exit_2(tmp_path, chain, needles):
    soundfile.write(tmp_path / "in.wav", np.zeros(100, np.float32), FS)
    (tmp_path / "notanarray.wav").write_text("not audio, not numpy\n")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    proc = run_cli("process", "in.wav", "out.wav", "--chain", chain, cwd=tmp_path)
    line = assert_one_line_error(proc, "process", *needles)
    assert "pickle" not in line and "allow_pickle" not in line
    assert not (tmp_path / "out.wav").exists()


@contextlib.contextmanager
def _tmpfs(folder, options):
    """Mount a tmpfs on ``folder`` (root only); skip the test where that is not allowed."""
    os.makedirs(folder)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@contextlib.contextmanager
def _read_only_folder(folder):
    if os.geteuid() == 0:            # root writes through mode bits: use a read-only mount
        with _tmpfs(folder, "ro,size=64k"):
            yield folder
    else:
        os.makedirs(folder)
        os.chmod(folder, 0o555)
        try:
            yield folder
        finally:
            os.chmod(folder, 0o755)


def test_cli_output_in_a_read_only_folder_is_one_line_exit_2(tmp_path):
    soundfile.write(tmp_path / "in.wav", np.zeros(1000, np.float32), FS)
    with _read_only_folder(tmp_path / "ro"):
        proc = run_cli("process", "in.wav", "ro/out.wav", "--chain", "gain:1", cwd=tmp_path)
        line = assert_one_line_error(proc, "process", "cannot write 'ro/out.wav'")
        assert "read-only" in line or "not writable" in line
        assert os.listdir(tmp_path / "ro") == []


def test_cli_disk_full_says_so_and_keeps_the_old_output(tmp_path):
    x = reverb_like(frames=100000, peak=0.5)             # 400 kB of FLOAT: more than the disk
    soundfile.write(tmp_path / "in.wav", x, FS, subtype="FLOAT")
    with _tmpfs(tmp_path / "small", "size=64k"):
        old = tmp_path / "small" / "out.wav"
        soundfile.write(old, np.zeros(1000), FS, subtype="PCM_16")
        before = old.read_bytes()
        code, stderr = run_cli_raw("process", "in.wav", "small/out.wav", "--chain", "gain:0.5", cwd=tmp_path)
        line = assert_one_line_failure(code, stderr, "writing 'small/out.wav' failed after", "the disk is full")
        assert "System error" not in line
        assert old.read_bytes() == before and parts(tmp_path / "small") == []


def test_file_sink_disk_full_is_an_oserror_naming_the_file(tmp_path):
    with _tmpfs(tmp_path / "small", "size=64k"):
        path = tmp_path / "small" / "f.wav"
        with pytest.raises(OSError, match=r"FileSink: writing .*f\.wav' failed after \d+ frames: the disk is full"):
            sd.run(sd.ArraySource(np.zeros(100000, np.float32), chunk_size=4096) >> sd.FileSink(path, FS))
        assert os.listdir(tmp_path / "small") == []


def test_file_source_missing_file_says_no_such_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"FileSource: cannot read '.*missing\.wav': no such file"):
        sd.FileSource(tmp_path / "missing.wav")
    proc = run_cli("process", "missing.wav", "out.wav", "--chain", "gain:1", cwd=tmp_path)
    assert_one_line_error(proc, "process", "'missing.wav': no such file")


@pytest.mark.parametrize("make", [lambda p: sd.FileSink(p / "c.wav", FS), lambda p: sd.ArraySink()])
def test_sink_channel_mismatch_names_the_sink_and_keeps_what_it_has(tmp_path, make):
    sink = make(tmp_path)
    who = type(sink).__name__
    sink.write(np.ones((10, 2)))
    with pytest.raises(sd.ChannelMismatchError, match=rf"{who}: chunk has 3 channels but .* has 2 "
                                                      r"\(fixed by the first chunk\); got shape \(5, 3\)"):
        sink.write(np.ones((5, 3)))
    with pytest.raises(sd.ChannelMismatchError, match=rf"{who}: chunk has 1 channel but"):
        sink.write(np.ones(5))
    with pytest.raises(ValueError, match=rf"{who}: expected a chunk of shape"):
        sink.write(np.ones((2, 2, 2)))
    sink.write(np.zeros((0, 1)))         # an empty chunk carries no channels
    sink.write(np.full((4, 2), 0.5))
    sink.close()
    data = sink.result() if who == "ArraySink" else soundfile.read(tmp_path / "c.wav")[0]
    np.testing.assert_array_equal(data, np.r_[np.ones((10, 2)), np.full((4, 2), 0.5)])


def test_file_sink_refuses_a_fractional_samplerate(tmp_path):
    with pytest.raises(ValueError, match=r"FileSink: expected samplerate to be a whole number of Hz.*44100\.7"):
        sd.FileSink(tmp_path / "a.wav", 44100.7)
    with pytest.raises(ValueError, match="whole number"):
        sd.FileSink(tmp_path / "a.wav", float("nan"))
    with pytest.raises(TypeError, match="whole number"):
        sd.FileSink(tmp_path / "a.wav", "44100")
    assert sd.FileSink(tmp_path / "a.wav", 44100.0).samplerate == 44100
    assert sd.FileSink(tmp_path / "a.wav", np.int64(48000)).samplerate == 48000


class _Interrupted(sd.Source):
    """Three chunks, then Ctrl-C; ``frames`` None (runs until stopped) or known."""

    samplerate = FS

    def __init__(self, frames):
        self.frames = frames

    def __iter__(self):
        for _ in range(3):
            yield np.full(100, 0.5, np.float32)
        raise KeyboardInterrupt


@pytest.mark.parametrize("frames", [None, 1000])
def test_ctrl_c_keeps_a_recording_but_abandons_a_finite_job(tmp_path, frames):
    target = tmp_path / "take.wav"
    soundfile.write(target, np.zeros(10), FS)
    before = target.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        sd.run(_Interrupted(frames) >> sd.Gain(1.0) >> sd.FileSink(target, FS))
    if frames is None:            # a recording: what came so far is the take
        np.testing.assert_array_equal(soundfile.read(target, dtype="float32")[0], np.full(300, 0.5))
    else:
        assert target.read_bytes() == before
    assert parts(tmp_path) == []
