"""``import streamdsp`` stays light: heavy and optional modules load on first use."""

import json

from _support import run_python_code

# scipy.signal alone took 0.6 s of a 0.9 s import; the others are optional
# extras or only needed by one command.
HEAVY = ["scipy.signal", "scipy.linalg", "scipy.stats", "matplotlib", "soundfile",
         "sounddevice", "tqdm", "dask", "distributed", "bokeh", "h5py", "zarr"]

PROBE = """
import json, sys
import streamdsp as sd
sd.Gain(1.0).process([1.0, 2.0])
sd.FIR([1.0, 0.5]).process([1.0, 2.0])
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {'scipy', 'matplotlib',
      'soundfile', 'sounddevice', 'tqdm', 'dask', 'distributed', 'bokeh', 'h5py', 'zarr'})))
"""


def test_import_and_simple_blocks_load_no_heavy_module():
    r = run_python_code(PROBE)
    assert r.returncode == 0, r.stderr
    loaded = json.loads(r.stdout.strip().splitlines()[-1])
    offenders = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert offenders == [], f"import streamdsp loaded {offenders}"


def test_lti_still_converts_with_scipy_on_first_use():
    r = run_python_code("""
import sys
import numpy as np
import streamdsp as sd
from scipy import signal
b, a = signal.butter(2, 0.3)
y = sd.LTISystem.from_tf(b, a).process(np.ones(16))
assert np.allclose(y, signal.lfilter(b, a, np.ones(16)))
print("ok")
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
