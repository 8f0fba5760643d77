"""sounddevice's private API that the C audio callback relies on, checked against the installed release.

streamdsp hands PortAudio a C function pointer through ``sounddevice._StreamBase``
(``callback=`` a cffi pointer, ``userdata=``, ``wrap_callback=None``), which is
not public API.  pyproject.toml pins the tested range; these tests fail,
saying what changed, the day an installed release differs.
"""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from _support import python_env, run_python_code
from streamdsp._io import _audio

sounddevice = pytest.importorskip("sounddevice", exc_type=OSError,
                                  reason="PortAudio is missing (Debian package libportaudio2)")
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_installed_sounddevice_still_has_the_private_api_streamdsp_uses():
    problem = _audio._private_api_problem(sounddevice)
    assert problem is None, (
        f"sounddevice {sounddevice.__version__} changed the private API of streamdsp's C "
        f"callback path: {problem}. Fix streamdsp/_io/_audio.py (AudioStream, AudioInput, "
        f"AudioOutput build sounddevice._StreamBase) before widening the pin.")


def test_the_installed_sounddevice_is_in_the_pinned_tested_range():
    pin = Requirement(re.search(r'^\s*"(sounddevice[^"]*)"', PYPROJECT.read_text(), re.M).group(1))
    assert set(str(pin.specifier).split(",")) == set(_audio.SOUNDDEVICE_TESTED.split(","))
    assert pin.specifier.contains(sounddevice.__version__), (
        f"sounddevice {sounddevice.__version__} is outside the tested range {pin.specifier}: run "
        f"the live tests with it and widen the pin in pyproject.toml and _audio.py")


def test_a_changed_private_api_is_a_clear_error_not_a_crash(tmp_path):
    # a sounddevice whose _StreamBase lost a parameter, in front of the real one
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sounddevice.py").write_text(
        "__version__ = '9.0.0'\n"
        "class _StreamBase:\n"
        "    def __init__(self, kind, samplerate=None, blocksize=None, device=None,\n"
        "                 channels=None, dtype=None, latency=None, callback=None):\n"
        "        raise AssertionError('must not be reached')\n")
    r = run_python_code(
        "import numpy as np, streamdsp as sd\n"
        "try:\n"
        "    sd.AudioStream(sd.Gain(1.0), samplerate=48000)\n"
        "except ImportError as e:\n"
        "    print(e)\n",
        env=dict(python_env(), PYTHONPATH=f"{shim}:{python_env()['PYTHONPATH']}"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (
        "AudioStream: expected sounddevice >=0.4.6,<0.6 (its private _StreamBase carries "
        "streamdsp's C callback), got 9.0.0, where _StreamBase takes no userdata, wrap_callback; "
        "pip install 'sounddevice>=0.4.6,<0.6'")
