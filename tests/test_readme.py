"""README.md stays true: its first commands are what CI runs, and every code block runs as written.

Each ```python block runs in its own process (so it carries its own
imports), in the README's order, in one fresh folder (so the files the tour
uses are the ones an earlier block wrote).  The live-audio block runs
against a JACK server in tests/live/test_readme_live.py.  With
``STREAMDSP_TEST_FRESH_VENV=1`` (set by .ci/run) a fresh virtual
environment installs the checkout with the README's first command and runs
the demo and the blocks with it.
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import numpy as np
import pytest
import soundfile
from scipy import signal

import streamdsp as sd
from _support import is_live_block, readme_python_blocks, run_python_code, python_env

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
CI = (ROOT / ".ci" / "run").read_text()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert first_block == ['pip install . && streamdsp demo', 'pip install ".[test]" && pytest']


def test_ci_runs_the_readme_test_command():
    # .ci/run picks the README's first 'pip install ... && pytest' line and evals it
    pattern = re.search(r"grep -m1 -E '(.+?)' README.md", CI).group(1)
    line = next(l for l in README.splitlines() if re.match(pattern.replace("\\s", " "), l))
    assert line == 'pip install ".[test]" && pytest'


def run_blocks(folder, python=None, env=None):
    """Run every offline README block in ``folder``, in order, each in a new process."""
    outputs = []
    for i, code in enumerate(readme_python_blocks()):
        if is_live_block(code):
            continue
        if python is None:
            r = run_python_code(code, cwd=folder, timeout=300)
        else:
            r = subprocess.run([python, "-c", code], cwd=folder, env=env, capture_output=True,
                               text=True, timeout=300)
        assert r.returncode == 0, f"README python block {i + 1} failed:\n{code}\n{r.stderr}"
        outputs.append(r.stdout)
    return outputs


def check_tour_results(folder):
    """The files the tour wrote hold what it says they do."""
    x, rate = soundfile.read(folder / "in.wav", dtype="float64")
    hall, hall_rate = soundfile.read(folder / "hall.wav", dtype="float64")
    assert (rate, hall_rate, x.ndim, hall.shape[1]) == (48000, 48000, 1, 2)
    # the low-passed file: the FIR and gain the block names, offline
    y, rate = soundfile.read(folder / "out.flac", dtype="float64")
    ref = 0.5 * signal.lfilter(signal.firwin(101, 4000, fs=48000), 1.0, x)
    assert rate == 48000 and y.shape == x.shape
    assert np.max(np.abs(y - ref)) < 2.0 / 2 ** 15          # FLAC is 16-bit
    # the graph: the mono voice in both channels, 0.7 dry + 0.3 in the hall, its tail included
    wet, rate = soundfile.read(folder / "in_the_hall.wav", dtype="float64")
    full = np.concatenate([x, np.zeros(len(hall) - 1)])
    ref = 0.7 * np.stack([full, full], axis=1) + 0.3 * signal.fftconvolve(x[:, None], hall, axes=0)
    assert rate == 48000 and wet.shape == ref.shape
    assert np.max(np.abs(wet - ref)) < 1e-5 * np.max(np.abs(ref))


def test_every_offline_code_block_runs_as_written_in_order_in_a_fresh_folder(tmp_path):
    outputs = run_blocks(tmp_path)
    assert "<Pipeline with 3 blocks: [<FIR ntaps=101" in outputs[1]
    assert "digraph streamdsp" in "".join(outputs)
    check_tour_results(tmp_path)


def test_the_tours_mono_voice_on_the_stereo_hall_fails_naming_the_mixer_it_uses(tmp_path):
    # the tour's comment says what happens without its ChannelMixer: check it
    soundfile.write(tmp_path / "hall.wav", sd.datasets.hall_ir(seconds=0.1), 48000)
    g = sd.Graph()
    x = g.input()
    g.output(x >> sd.Convolver.from_file(tmp_path / "hall.wav", samplerate=48000))
    with pytest.raises(sd.ChannelMismatchError) as err:
        g.process(np.zeros(64, np.float32))
    assert "upmix first: ChannelMixer([[1.0], [1.0]])" in str(err.value)
    assert "ChannelMixer([[1.0], [1.0]])" in README


@pytest.mark.skipif(os.environ.get("STREAMDSP_TEST_FRESH_VENV") != "1",
                    reason="builds streamdsp in a new venv (minutes); .ci/run sets STREAMDSP_TEST_FRESH_VENV=1")
def test_a_fresh_venv_runs_the_first_command_and_every_block(tmp_path):
    # A copy of the checkout without build products, as a new user's clone.
    src = tmp_path / "streamdsp"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    for name in files.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND")}
    env["PATH"] = os.pathsep.join([str(bin_dir), env["PATH"]])
    env["VIRTUAL_ENV"] = str(env_dir)
    first = README.split("```\n", 2)[1].splitlines()[0]
    assert first == "pip install . && streamdsp demo"
    r = subprocess.run(first, shell=True, cwd=src, env=env, capture_output=True, text=True,
                       timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    png = (src / "streamdsp-demo" / "demo.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10000
    assert "demo.png" in r.stdout and "note" not in r.stdout
    # the Dask block says to install the [dask] extra first: do what it says
    # (its requirements only; the package itself is installed already)
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert 'pip install "streamdsp[dask]"' in README
    r = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", *extra["dask"]],
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    tour = tmp_path / "tour"
    tour.mkdir()
    run_blocks(tour, python=str(bin_dir / "python"), env=env)
    check_tour_results(tour)
