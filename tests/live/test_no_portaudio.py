"""Without PortAudio, ``import streamdsp`` works and opening a stream says what to install.

A subprocess gets a ``sitecustomize`` that hides the PortAudio library from
``ctypes.util.find_library``: sounddevice then fails to import exactly as on
a machine without libportaudio2 (``OSError: PortAudio library not found``).
No audio server is needed.
"""

import os
import subprocess
import sys
import textwrap

import streamdsp as sd

HIDE_PORTAUDIO = textwrap.dedent("""
    import ctypes.util
    _find = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None if "portaudio" in name else _find(name)
""")


def run_without_portaudio(tmp_path, *args):
    (tmp_path / "sitecustomize.py").write_text(HIDE_PORTAUDIO)
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(sd.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), package_root, env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)


def test_import_works_and_opening_a_stream_names_the_package(tmp_path):
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import streamdsp as sd
        assert "sounddevice" not in sys.modules          # imported lazily
        print(sd.Gain(2.0).process(np.ones(2)))          # everything else works
        try:
            import sounddevice
        except OSError as e:
            print("sounddevice:", e)
        for make in (lambda: sd.AudioStream(sd.Gain(1.0)), lambda: sd.AudioInput(),
                     lambda: sd.AudioOutput()):
            try:
                make()
            except sd.PortAudioMissingError as e:
                assert isinstance(e, OSError) and isinstance(e, sd.StreamDSPError)
                print("error:", e)
            else:
                raise SystemExit("no error without PortAudio")
    """)
    proc = run_without_portaudio(tmp_path, "-c", code)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "[2. 2.]"
    assert lines[1] == "sounddevice: PortAudio library not found"
    errors = [line for line in lines if line.startswith("error:")]
    assert [e.split(":")[1].strip() for e in errors] == ["AudioStream", "AudioInput", "AudioOutput"]
    for e in errors:
        assert "PortAudio library is not installed" in e and "libportaudio2" in e


def test_cli_devices_and_live_say_what_to_install(tmp_path):
    for args in (["devices"], ["live", "--chain", "gain:0.5"]):
        proc = run_without_portaudio(tmp_path, "-m", "streamdsp._cli", *args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert "libportaudio2" in proc.stderr and "Traceback" not in proc.stderr
