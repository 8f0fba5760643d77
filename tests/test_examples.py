"""Every script in examples/ runs: ``--help``, and a tiny run, in a subprocess.

The convention each example keeps so that this smoke test can drive it:
it takes ``--seconds S`` (length of the input it synthesises when given no
file) and ``--out-dir DIR`` (where it writes), and its module docstring is
its ``--help`` description.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from scipy import signal

import streamdsp as sd

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))
# These need an audio device; tests/live runs them against a JACK server.
LIVE = {"live_reverb.py", "record.py"}
OFFLINE = [p for p in EXAMPLES if p.name not in LIVE]


def run(script, *args, cwd, timeout=120):
    env = os.environ.copy()
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(sd.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in [package_root, env.get("PYTHONPATH")] if p)
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([sys.executable, str(script), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_there_are_examples():
    assert EXAMPLES, "examples/*.py not found"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_help_is_its_docstring(script, tmp_path):
    doc = ast.get_docstring(ast.parse(script.read_text()))
    assert doc, f"{script.name} has no module docstring"
    proc = run(script, "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: ")
    assert doc.splitlines()[0] in proc.stdout
    assert "--seconds" in proc.stdout and "--out-dir" in proc.stdout
    assert list(tmp_path.iterdir()) == []      # --help writes nothing


def test_live_examples_are_run_by_the_live_tests():
    text = (Path(__file__).parent / "live" / "test_live_cli_examples.py").read_text()
    for name in LIVE:
        assert name in text, f"{name} is excluded here, so tests/live must run it"


@pytest.mark.parametrize("script", OFFLINE, ids=lambda p: p.name)
def test_example_tiny_run(script, tmp_path):
    out = tmp_path / "out"
    proc = run(script, "--seconds", "0.2", "--out-dir", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    written = sorted(out.iterdir())
    assert written, f"{script.name} wrote nothing into --out-dir"
    for path in written:
        if path.suffix.lower() in (".wav", ".flac", ".ogg", ".aiff"):
            info = soundfile.info(path)
            assert info.frames > 0 and info.samplerate > 0
    assert list(tmp_path.iterdir()) == [out]   # nothing written outside --out-dir


@pytest.mark.parametrize("script", OFFLINE, ids=lambda p: p.name)
def test_example_writes_into_streamdsp_out_by_default(script, tmp_path):
    # every example writes its outputs to one place: ./streamdsp-out/ unless told
    proc = run(script, "--seconds", "0.2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["streamdsp-out"]
    assert list((tmp_path / "streamdsp-out").iterdir())


def _load_example(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, EXAMPLES_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_edge_detection_finds_the_steps_and_ramps_it_planted(seed):
    ex = _load_example("edge_detection")
    trace, true_steps, true_ramps = ex.make_trace(300.0, ex.RATE, seed)
    _, _, _, steps, ramps = ex.run_trace(trace, ex.RATE, 51, 2, 2.0, 0.8, 0.5, 256)
    hits, false = ex.match([p for p, _ in true_steps], [p for p, _ in steps], 30)
    assert hits == len(true_steps) and false == 0
    # each step found with its direction
    for pos, sign in steps:
        height = next(h for p, h in true_steps if abs(p - pos) <= 30)
        assert sign == np.sign(height)
    mids = [(a + b) / 2 for a, b, *_ in true_ramps]
    hits, false = ex.match(mids, [(a + b) / 2 for a, b, _ in ramps], 50)
    assert hits >= 0.8 * len(true_ramps) and false == 0


def test_edge_detection_events_do_not_depend_on_the_chunk_size():
    ex = _load_example("edge_detection")
    trace, _, _ = ex.make_trace(60.0, ex.RATE, 4)
    results = [ex.run_trace(trace, ex.RATE, 51, 2, 2.0, 0.8, 0.5, chunk) for chunk in (1, 7, 256, 6000)]
    for r in results[1:]:
        assert r[3] == results[0][3] and r[4] == results[0][4]
        np.testing.assert_allclose(r[0], results[0][0], rtol=0, atol=1e-9)


FILTER_EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "01_filter_a_file.py"


def test_filter_a_file_low_passes_the_given_file(tmp_path):
    rate = 32000
    t = np.arange(rate // 2) / rate
    x = np.stack([0.4 * np.sin(2 * np.pi * 300 * t),
                  0.3 * np.sin(2 * np.pi * 300 * t) + 0.3 * np.sin(2 * np.pi * 9000 * t)], axis=1)
    soundfile.write(tmp_path / "tones.flac", x, rate, subtype="PCM_24")
    proc = run(FILTER_EXAMPLE, "tones.flac", "--cutoff", "1500", "--numtaps", "121",
               "--out-dir", "filtered", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "faster than real time" in proc.stdout

    out = tmp_path / "filtered" / "tones_lowpass.flac"
    info = soundfile.info(out)
    assert (info.format, info.subtype, info.channels, info.frames, info.samplerate) == \
        ("FLAC", "PCM_24", 2, len(x), rate)
    y = soundfile.read(out)[0]
    x24 = soundfile.read(tmp_path / "tones.flac")[0]
    # what the docstring promises: lfilter with firwin taps, no latency
    expected = signal.lfilter(signal.firwin(121, 1500, fs=rate), 1.0, x24, axis=0)
    np.testing.assert_allclose(y, expected, atol=1e-5)
    # and what that means: the 9 kHz tone is gone, the 300 Hz one is kept
    steady = slice(2000, None)
    tone_9k = np.sin(2 * np.pi * 9000 * t[steady])
    assert abs(np.dot(y[steady, 1], tone_9k)) < 1e-3 * abs(np.dot(x[steady, 1], tone_9k))
    np.testing.assert_allclose(np.std(y[steady, 0]), np.std(x[steady, 0]), rtol=0.01)


def test_filter_a_file_missing_input_fails_cleanly(tmp_path):
    proc = run(FILTER_EXAMPLE, "absent.wav", "--out-dir", "o", cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "absent.wav" in proc.stderr
    assert list(tmp_path.iterdir()) == []
