"""The catalogue of blocks under the contract, signals and tolerance helpers.

Test modules import these from here (``from _support import ...``), not from
conftest: tests/live has a conftest of its own, and two modules named
conftest cannot both be imported by name.
"""

import dataclasses
import os
import subprocess
import sys
from typing import Callable

import numpy as np
from hypothesis import settings
from scipy import signal

import streamdsp as sd

settings.register_profile("ci", deadline=None, max_examples=40, derandomize=True)
settings.register_profile("dev", deadline=None, max_examples=25)
settings.load_profile("ci")


def tolerance(dtype, fft=False):
    """Relative tolerance (of the signal's peak) that API.md promises."""
    if np.dtype(dtype) == np.float32:
        return 1e-5 if fft else 5e-6
    return 1e-12 if not fft else 1e-11


def assert_close_to_peak(actual, expected, rtol, what=""):
    """|actual - expected| <= rtol * peak(|expected|), with shapes equal."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    peak = max(float(np.max(np.abs(expected))) if expected.size else 0.0, 1e-30)
    err = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    assert err <= rtol * peak, f"{what}: max error {err:.3g} > {rtol:.1g} x peak {peak:.3g}"


def stream(block, x, sizes):
    """Feed x to block in chunks of the given sizes (the rest in one chunk), then flush."""
    out, i = [], 0
    for n in sizes:
        out.append(block.process(x[i:i + n]))
        i += n
    out.append(block.process(x[i:]))
    out.append(block.flush())
    if any(o.ndim == 2 for o in out):
        out = [o if o.ndim == 2 else o.reshape(len(o), 1) for o in out if o.ndim == 2 or len(o)]
    return np.concatenate(out)


@dataclasses.dataclass
class Case:
    """A block under the contract: how to make it and what it must equal offline."""

    name: str
    make: Callable       # make(channels) -> block
    oracle: Callable     # oracle(x float64 (frames, ch) or (frames,)) -> y like lfilter would
    fft: bool = False    # FFT arithmetic: looser tolerance
    per_channel: bool = False  # coefficients fix the channel count
    multirate: bool = False    # emits fewer frames than it takes; the oracle
                               # then gives everything process+flush emit
    tol: float = 0.0           # extra relative tolerance (0: the API.md one)

    def __str__(self):
        return self.name


_rng = np.random.default_rng(1234)
TAPS_SHORT = _rng.standard_normal(23)
TAPS_LONG = _rng.standard_normal(300) * np.exp(-np.arange(300) / 80)


def _lfilter(taps):
    taps = np.asarray(taps)
    if taps.ndim == 1:
        return lambda x: signal.lfilter(taps, 1.0, x, axis=0)

    def per_channel(x):
        if x.ndim == 1:
            return signal.lfilter(taps[:, 0], 1.0, x)
        return np.stack([signal.lfilter(taps[:, c], 1.0, x[:, c]) for c in range(taps.shape[1])], axis=1)
    return per_channel


def _delayed(x, d):
    y = np.zeros_like(x)
    if d < len(x):
        y[d:] = x[:len(x) - d]
    return y


CASES = [
    Case("Gain", lambda ch: sd.Gain(-0.75), lambda x: -0.75 * x),
    Case("Delay", lambda ch: sd.Delay(37), lambda x: _delayed(x, 37)),
    Case("Delay0", lambda ch: sd.Delay(0), lambda x: x.copy()),
    Case("FIR-direct", lambda ch: sd.FIR(TAPS_SHORT, method="direct"), _lfilter(TAPS_SHORT)),
    Case("FIR-direct-1tap", lambda ch: sd.FIR([2.5], method="direct"), lambda x: 2.5 * x),
    Case("FIR-fft", lambda ch: sd.FIR(TAPS_LONG, method="fft", block_size=64), _lfilter(TAPS_LONG), fft=True),
    Case("FIR-fft-shorttaps", lambda ch: sd.FIR(TAPS_SHORT, method="fft", block_size=8), _lfilter(TAPS_SHORT), fft=True),
    Case("FIR-auto", lambda ch: sd.FIR(TAPS_LONG), _lfilter(TAPS_LONG), fft=True),
    Case("FIR-perchannel-direct",
         lambda ch: sd.FIR(np.stack([TAPS_SHORT * (c + 1) for c in range(ch)], 1), method="direct"),
         None, per_channel=True),
    Case("FIR-perchannel-fft",
         lambda ch: sd.FIR(np.stack([TAPS_LONG[::-1] * (c + 1) for c in range(ch)], 1), method="fft",
                           block_size=32),
         None, fft=True, per_channel=True),
    Case("Pipeline",
         lambda ch: sd.FIR(TAPS_SHORT, method="direct") >> sd.Delay(5) >> sd.FIR(TAPS_LONG, method="fft", block_size=16)
         >> sd.Gain(0.5),
         lambda x: 0.5 * _lfilter(TAPS_LONG)(_delayed(_lfilter(TAPS_SHORT)(x), 5)), fft=True),
]


def _plugin_cases():
    """Cases that other block families declare in tests/_cases_<family>.py (a list CASES each)."""
    import importlib
    import pathlib
    found = []
    for path in sorted(pathlib.Path(__file__).parent.glob("_cases_*.py")):
        found += importlib.import_module(path.stem).CASES
    return found


CASES += _plugin_cases()


def oracle_for(case, block, x):
    """The offline result for ``case`` (per-channel cases take the block's own taps)."""
    if x.shape[0] == 0:   # scipy refuses empty input: ask for one frame, keep none
        return oracle_for(case, block, np.zeros((1,) + x.shape[1:]))[:0]
    if case.oracle is not None:
        return case.oracle(x)
    return _lfilter(block.taps)(x)


def expected_stream(case, block, x):
    """What concat(process..., flush) must equal: `latency` zero frames, then the oracle.

    For rate-preserving blocks the oracle has len(x) frames; for multirate
    blocks it is the whole emitted output (API.md documents their counts).
    """
    ref = oracle_for(case, block, np.asarray(x, dtype=np.float64))
    lat = block.latency
    if lat:
        ref = np.concatenate([np.zeros((lat,) + ref.shape[1:]), ref])
    return ref


def case_tolerance(case, dtype):
    return max(tolerance(dtype, case.fft), case.tol)


def signal_for(frames, channels, dtype, seed=0):
    """Noise with a few impulses and a DC step: exercises every tap and the tails."""
    rng = np.random.default_rng(seed)
    shape = (frames,) if channels == 0 else (frames, channels)
    x = rng.standard_normal(shape)
    if frames:
        x[frames // 3] += 4.0
        x[frames // 2:] += 0.5
    return x.astype(dtype)


TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def python_env(**extra):
    """os.environ with the imported streamdsp's folder first on PYTHONPATH, plus ``extra``."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(sd.__file__)))
    return dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
                **extra)


def run_python_code(code, *args, env=None, timeout=120, cwd=TESTS_DIR):
    """``python -c code args...`` in a child that imports the same streamdsp as the tests.

    It runs from the tests folder unless told otherwise: ``python -c`` puts
    its working directory first on sys.path, and from the checkout's root
    that would import the uncompiled sources instead of the built package.
    """
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=cwd,
                          env=env if env is not None else python_env(), capture_output=True,
                          text=True, timeout=timeout)


README_PATH = os.path.join(os.path.dirname(TESTS_DIR), "README.md")


def readme_python_blocks():
    """The README's ```python blocks, in order."""
    import re
    with open(README_PATH, encoding="utf-8") as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


def is_live_block(code):
    """A README block that needs an audio device (run by tests/live against JACK)."""
    return "AudioStream(" in code or "AudioInput(" in code or "AudioOutput(" in code
