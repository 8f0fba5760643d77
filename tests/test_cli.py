"""The ``streamdsp`` command line, run as real processes on real files.

The installed console script is used when it is on PATH; otherwise
``python -m streamdsp`` with this interpreter, and with the directory of the
``streamdsp`` these tests import prepended to PYTHONPATH, so that the child
runs the same build.
"""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile
from scipy import signal

import streamdsp as sd

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RNG = np.random.default_rng(20240611)


def _command():
    exe = shutil.which("streamdsp")
    return [exe] if exe else [sys.executable, "-m", "streamdsp"]


CLI = _command()


def _env(extra_path=None):
    env = os.environ.copy()
    paths = [str(extra_path)] if extra_path else []
    # the command imports the streamdsp under test, not whatever copy pip
    # last installed into site-packages
    paths.append(os.path.dirname(os.path.dirname(os.path.abspath(sd.__file__))))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    env.pop("MPLBACKEND", None)
    return env


def run(*args, cwd, extra_path=None, timeout=120):
    """Run ``streamdsp *args`` in ``cwd``; return the CompletedProcess (text)."""
    return subprocess.run(CLI + [str(a) for a in args], cwd=cwd, env=_env(extra_path),
                          capture_output=True, text=True, timeout=timeout)


def write(path, x, samplerate=48000, subtype="FLOAT"):
    soundfile.write(path, x, samplerate, subtype=subtype)
    return path


def read(path):
    return soundfile.read(path, dtype="float64")[0]


def assert_one_line_error(proc, command, *needles, code=2):
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"streamdsp {command}: ")
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


@pytest.fixture
def mono(tmp_path):
    x = (0.5 * RNG.uniform(-1, 1, 20000)).astype(np.float32)
    return write(tmp_path / "in.wav", x), x


@pytest.fixture
def stereo(tmp_path):
    x = (0.3 * RNG.standard_normal((15000, 2))).astype(np.float32)
    return write(tmp_path / "st.wav", x), x


# ---------------------------------------------------------------------------
# help

def test_help_describes_every_command_once(tmp_path):
    proc = run("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "streaming DSP chains" in proc.stdout          # the module docstring
    for command in ("demo", "process", "devices", "live", "calibrate"):
        assert len(re.findall(rf"^\s+{command}\s+\S", proc.stdout, re.M)) == 1, proc.stdout


def test_demo_help_describes_the_chain_the_demo_runs(tmp_path):
    helped = run("demo", "--help", cwd=tmp_path).stdout
    proc = run("demo", "--out", tmp_path, "--seconds", "0.5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ran = re.search(r"^streamdsp demo: (.*)$", proc.stdout, re.M).group(1)
    assert ran.startswith("hum removal (80 Hz high-pass, 4th order)")
    flat = " ".join(helped.split())
    for needle in ("hum removal (an 80 Hz 4th-order Butterworth high-pass", "low-pass at 4 kHz",
                   "255-tap FIR", "0.5 s room response", "gain of 1.25", "demo.png"):
        assert needle in flat
    assert "if matplotlib is installed" not in flat


@pytest.mark.parametrize("command", ["demo", "process", "devices", "live", "calibrate"])
def test_every_command_has_help(tmp_path, command):
    proc = run(command, "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: streamdsp {command}")
    if command in ("process", "live"):
        for usage in ("gain:G", "delay:N", "fir:TAPS.npy", "convolver:IR_FILE",
                      "savgol:WINDOW,ORDER", "butter:ORDER,CUTOFF_HZ[,btype]"):
            assert usage in proc.stdout


def test_no_command_prints_help_and_fails(tmp_path):
    proc = run(cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage: streamdsp" in proc.stderr


# ---------------------------------------------------------------------------
# demo

def _band_energy(x, samplerate, lo, hi):
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / samplerate)
    return spectrum[(f >= lo) & (f < hi)].sum()


def test_demo_writes_the_files_it_names_and_low_passes(tmp_path):
    out = tmp_path / "demo out"
    proc = run("demo", "--out", out, "--seconds", "1.5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr

    # the summary: the chain, the sample count, the speed, the files
    assert "<Pipeline with 4 blocks: [<LTISystem" in proc.stdout and "<Convolver ntaps=" in proc.stdout
    assert "72000 samples" in proc.stdout
    assert re.search(r"[\d.]+ s wall time, [\d,.]+x (faster|slower) than real time", proc.stdout)
    written = re.findall(r"(\S.*\.(?:wav|png))$", proc.stdout, re.M)
    written = [re.sub(r"^\s*wrote\s*:\s*", "", w) for w in written]
    assert sorted(os.path.basename(w) for w in written) == [
        "demo.png", "demo_input.wav", "demo_output.wav"]
    assert all(os.path.dirname(w) == str(out) for w in written)

    for name in ("demo_input.wav", "demo_output.wav"):
        info = soundfile.info(out / name)
        assert (info.samplerate, info.channels, info.frames) == (48000, 1, 72000)
    png = (out / "demo.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10000

    # the output is the input low-passed at the cutoff the summary states
    cutoff = float(re.search(r"low-pass at ([\d.]+) Hz", proc.stdout).group(1))
    x, y = read(out / "demo_input.wav"), read(out / "demo_output.wav")
    assert not np.allclose(x, y, atol=1e-3)
    stop = (1.5 * cutoff, 24000)
    x_high = _band_energy(x, 48000, *stop) / _band_energy(x, 48000, 0, cutoff)
    y_high = _band_energy(y, 48000, *stop) / _band_energy(y, 48000, 0, cutoff)
    assert x_high > 1e-2                 # the input has content above the cutoff ...
    assert y_high < 1e-4 * x_high        # ... which the output has lost (> 40 dB down)
    assert _band_energy(y, 48000, 100, cutoff) > 0.1 * _band_energy(x, 48000, 100, cutoff)
    # and the 50 Hz mains hum is pushed down by the 80 Hz high-pass (~16 dB
    # at 50 Hz), relative to the voice band the chain keeps
    hum_x = _band_energy(x, 48000, 45, 55) / _band_energy(x, 48000, 100, cutoff)
    hum_y = _band_energy(y, 48000, 45, 55) / _band_energy(y, 48000, 100, cutoff)
    assert hum_y < 0.1 * hum_x


def test_demo_without_matplotlib_skips_the_plot_and_says_so(tmp_path):
    shim = tmp_path / "no_matplotlib"
    (shim / "matplotlib").mkdir(parents=True)
    (shim / "matplotlib" / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    out = tmp_path / "demo"
    proc = run("demo", "--out", out, "--seconds", "0.5", cwd=tmp_path, extra_path=shim)
    assert proc.returncode == 0, proc.stderr
    assert "matplotlib is not installed, so no plot was made" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ["demo_input.wav", "demo_output.wav"]
    assert soundfile.info(out / "demo_output.wav").frames == 24000


# ---------------------------------------------------------------------------
# process

def test_process_gain_half_is_exact(tmp_path, mono):
    path, x = mono
    proc = run("process", path, "out.wav", "--chain", "gain:0.5", "--subtype", "FLOAT", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    y, rate = soundfile.read(tmp_path / "out.wav", dtype="float32")
    assert soundfile.info(tmp_path / "out.wav").subtype == "FLOAT"
    assert rate == 48000
    np.testing.assert_array_equal(y, x * np.float32(0.5))
    assert "<Pipeline with 1 block: [<Gain g=0.5" in proc.stdout
    assert "20000 frames" in proc.stdout


def test_process_shows_a_progress_bar_on_stderr_unless_quiet(tmp_path, mono):
    path, _ = mono
    proc = run("process", path, "a.wav", "--chain", "gain:1", "--chunk-size", "1000", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"in\.wav:\s+\d+%\|", proc.stderr)       # tqdm, labelled with the input
    proc = run("process", path, "b.wav", "--chain", "gain:1", "-q", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == "" and proc.stderr == ""
    assert soundfile.info(tmp_path / "b.wav").frames == 20000


@pytest.mark.parametrize("ntaps", [31, 1500])   # direct form, and the FFT path with latency
def test_process_fir_equals_lfilter(tmp_path, mono, ntaps):
    path, x = mono
    taps = RNG.standard_normal(ntaps) / np.sqrt(ntaps)
    np.save(tmp_path / "taps.npy", taps)
    proc = run("process", path, "out.wav", "--chain", "fir:taps.npy", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert soundfile.info(tmp_path / "out.wav").subtype == "FLOAT"   # kept from the input
    y = read(tmp_path / "out.wav")
    expected = signal.lfilter(taps, 1.0, x.astype(np.float64))
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, atol=2e-5 * np.max(np.abs(expected)))


def test_process_keep_latency_writes_the_raw_stream(tmp_path, mono):
    path, x = mono
    taps = RNG.standard_normal(1500) / 40
    np.save(tmp_path / "taps.npy", taps)
    latency = sd.FIR(taps).latency
    assert latency > 0
    proc = run("process", path, "raw.wav", "--chain", "fir:taps.npy", "--keep-latency", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    y = read(tmp_path / "raw.wav")
    assert len(y) == len(x) + latency
    assert np.all(y[:latency] == 0)
    expected = signal.lfilter(taps, 1.0, x.astype(np.float64))
    np.testing.assert_allclose(y[latency:], expected, atol=2e-5 * np.max(np.abs(expected)))


def test_process_stereo_keeps_two_channels(tmp_path, stereo):
    path, x = stereo
    taps = RNG.standard_normal(25) / 5
    np.save(tmp_path / "taps.npy", taps)
    proc = run("process", path, "out.flac", "--chain", "fir:taps.npy | gain:0.5",
               "--subtype", "PCM_24", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    info = soundfile.info(tmp_path / "out.flac")
    assert (info.format, info.subtype, info.channels, info.frames) == ("FLAC", "PCM_24", 2, 15000)
    y = read(tmp_path / "out.flac")
    expected = 0.5 * signal.lfilter(taps, 1.0, x.astype(np.float64), axis=0)
    np.testing.assert_allclose(y, expected, atol=2.0 ** -22)   # 24-bit quantisation


def test_process_stereo_with_one_filter_per_channel(tmp_path, stereo):
    path, x = stereo
    taps = RNG.standard_normal((12, 2))
    np.save(tmp_path / "taps2.npy", taps)
    proc = run("process", path, "out.wav", "--chain", "fir:taps2.npy", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    y = read(tmp_path / "out.wav")
    assert y.shape == x.shape
    for c in range(2):
        expected = signal.lfilter(taps[:, c], 1.0, x[:, c].astype(np.float64))
        np.testing.assert_allclose(y[:, c], expected, atol=2e-5 * np.max(np.abs(expected)))


def test_process_db_gain_and_delay(tmp_path, mono):
    path, x = mono
    proc = run("process", path, "out.wav", "--chain", " gain : -6dB |delay:3 ", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    y = read(tmp_path / "out.wav")
    assert len(y) == len(x)
    assert np.all(y[:3] == 0)
    np.testing.assert_allclose(y[3:], 10 ** (-6 / 20) * x[:-3].astype(np.float64), rtol=1e-6)


@pytest.mark.parametrize("chain, needles", [
    ("gain:0.5 | gian:2", ["chain element 2 of 2 'gian:2'", "unknown block 'gian'",
                           "bandpass, bandstop, butter, convolver, delay, fir, gain, highpass, lowpass, savgol"]),
    ("gain:loud", ["chain element 1 of 1 'gain:loud'", "expected G to be a number"]),
    ("delay:1.5 | gain:1", ["chain element 1 of 2 'delay:1.5'", "whole number"]),
    ("gain:1|fir:missing.npy", ["chain element 2 of 2 'fir:missing.npy'",
                                "expected an existing file, got 'missing.npy'"]),
    ("convolver:hall.wav", ["chain element 1 of 1 'convolver:hall.wav'", "existing file"]),
    ("fir:taps3.npy", ["chain element 1 of 1 'fir:taps3.npy'",
                       "expected taps for 2 channels (shape (n, 2)) to match the input, "
                       "got shape (8, 3)"]),
    ("butter:4,30000", ["butter: expected cutoffs below the Nyquist frequency (24000 Hz"]),
    ("gain:1 |", ["chain element 2 of 2 ''"]),
])
def test_bad_chain_fails_before_writing_anything(tmp_path, stereo, chain, needles):
    path, _ = stereo
    np.save(tmp_path / "taps3.npy", np.ones((8, 3)))
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = run("process", path, "out.wav", "--chain", chain, cwd=tmp_path)
    assert_one_line_error(proc, "process", *needles)
    assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before   # no OUT, no temporary file


def test_bad_chain_leaves_an_existing_output_alone(tmp_path, mono):
    path, _ = mono
    (tmp_path / "out.wav").write_bytes(b"precious")
    proc = run("process", path, "out.wav", "--chain", "gain:1 | nope:1", cwd=tmp_path)
    assert_one_line_error(proc, "process", "'nope:1'")
    assert (tmp_path / "out.wav").read_bytes() == b"precious"


def test_process_missing_input(tmp_path):
    proc = run("process", "absent.wav", "out.wav", "--chain", "gain:1", cwd=tmp_path)
    assert_one_line_error(proc, "process", "'absent.wav'", "no such file")
    assert list(tmp_path.iterdir()) == []


def test_process_input_that_is_not_audio(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    proc = run("process", "notes.txt", "out.wav", "--chain", "gain:1", cwd=tmp_path)
    assert_one_line_error(proc, "process", "cannot read 'notes.txt' as audio")
    assert not (tmp_path / "out.wav").exists()


def test_process_unknown_output_format(tmp_path, mono):
    path, _ = mono
    proc = run("process", path, "out.xyz", "--chain", "gain:1", cwd=tmp_path)
    assert_one_line_error(proc, "process", "got 'out.xyz'", "wav", "flac")
    assert not (tmp_path / "out.xyz").exists()


def test_process_subtype_the_format_does_not_take(tmp_path, mono):
    path, _ = mono
    proc = run("process", path, "out.flac", "--chain", "gain:1", "--subtype", "FLOAT", cwd=tmp_path)
    assert_one_line_error(proc, "process", "expected a subtype that FLAC takes", "'FLOAT'")
    assert not (tmp_path / "out.flac").exists()


def test_process_output_folder_missing(tmp_path, mono):
    path, _ = mono
    proc = run("process", path, "nowhere/out.wav", "--chain", "gain:1", cwd=tmp_path)
    assert_one_line_error(proc, "process", "does not exist")
    assert not (tmp_path / "nowhere").exists()


def test_process_needs_a_chain(tmp_path, mono):
    path, _ = mono
    proc = run("process", path, "out.wav", cwd=tmp_path)
    assert proc.returncode == 2
    assert "the following arguments are required: --chain" in proc.stderr
    assert not (tmp_path / "out.wav").exists()


# ---------------------------------------------------------------------------
# devices and live

def test_devices_lists_devices_or_names_the_missing_library(tmp_path):
    proc = run("devices", cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    if proc.returncode == 0:
        assert proc.stdout.strip()            # a device table
    elif "libportaudio2" not in proc.stderr:
        assert_one_line_error(proc, "devices", "PortAudio found no audio devices", code=1)
    else:
        assert_one_line_error(proc, "devices", "libportaudio2", code=1)


def test_devices_without_any_audio_server_says_why_and_how_to_start_one(tmp_path):
    # the test machines have no sound card; a JACK server name that does not
    # exist keeps a running test server (tests/live) out of this process
    env = dict(JACK_DEFAULT_SERVER="streamdsp-test-no-such-server", JACK_NO_START_SERVER="1")
    proc = subprocess.run(CLI + ["devices"], cwd=tmp_path, env=dict(_env(), **env),
                          capture_output=True, text=True, timeout=60)
    if proc.returncode == 0:
        pytest.skip(f"this machine has an audio device:\n{proc.stdout}")
    assert_one_line_error(proc, "devices", "PortAudio found no audio devices",
                          "no sound card and no audio server is running", "jackd -d dummy",
                          "then run 'streamdsp devices' again", code=1)


def test_devices_without_portaudio_names_the_debian_package(tmp_path):
    shim = tmp_path / "no_portaudio"
    (shim / "sounddevice").mkdir(parents=True)
    (shim / "sounddevice" / "__init__.py").write_text(
        "raise OSError('PortAudio library not found')\n")
    proc = run("devices", cwd=tmp_path, extra_path=shim)
    assert_one_line_error(proc, "devices", "libportaudio2", "PortAudio library not found", code=1)


def test_live_bad_chain_exits_2(tmp_path):
    proc = run("live", "--chain", "gain:1 | echo:3", cwd=tmp_path)
    assert_one_line_error(proc, "live", "chain element 2 of 2 'echo:3'", "unknown block")


def test_live_butter_without_samplerate_says_what_to_give(tmp_path):
    proc = run("live", "--chain", "butter:2,1000", cwd=tmp_path)
    assert_one_line_error(proc, "live", "needs the sample rate", "--samplerate")


def test_live_scope_port_out_of_range_exits_2(tmp_path):
    proc = run("live", "--chain", "gain:1", "--scope", "--port", "70000", cwd=tmp_path)
    assert proc.returncode == 2
    assert "argument --port: expected a port number in 0..65535, got 70000" in proc.stderr


def test_live_scope_without_bokeh_says_what_to_install_before_opening_a_stream(tmp_path):
    shim = tmp_path / "no_bokeh"
    (shim / "bokeh").mkdir(parents=True)
    (shim / "bokeh" / "__init__.py").write_text("raise ImportError('No module named bokeh')\n")
    proc = run("live", "--chain", "gain:1", "--scope", cwd=tmp_path, extra_path=shim)
    assert_one_line_error(proc, "live", "--scope: the browser scope needs bokeh",
                          "pip install 'streamdsp[scope]'", code=1)


def test_cli_docstring_examples_run():
    import doctest

    import streamdsp._cli

    result = doctest.testmod(streamdsp._cli)
    assert result.attempted >= 4
    assert result.failed == 0
