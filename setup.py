"""Build the compiled parts of streamdsp.

Every ``.pyx`` under ``streamdsp/`` becomes an extension module.  Modules that
wrap hand-written C kernels list their C sources in ``C_SOURCES``.

Environment switches
--------------------
STREAMDSP_NATIVE=1        compile for this machine (-march=native).  Never
                          use it for a wheel you hand to somebody else.
STREAMDSP_DEBUG_CYTHON=1  bounds checks on and assertions kept: CI runs the
                          suite once like this to catch kernels that trust
                          bad shapes.
"""
import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
NATIVE = bool(os.environ.get("STREAMDSP_NATIVE"))
DEBUG = bool(os.environ.get("STREAMDSP_DEBUG_CYTHON"))

# C kernels compiled into the extension that wraps them.
C_SOURCES = {
    "streamdsp._core._fft": ["streamdsp/_src/sd_fft.c"],
    "streamdsp._core._partconv": ["streamdsp/_src/sd_fft.c"],
    "streamdsp._blocks._fir": ["streamdsp/_src/sd_fir.c"],
    "streamdsp._blocks._mixing": ["streamdsp/_src/sd_mix.c"],
    "streamdsp._blocks._multirate": ["streamdsp/_src/sd_multirate.c"],
    "streamdsp._blocks._lti": ["streamdsp/_src/sd_sos.c"],
    "streamdsp._blocks._savgol": ["streamdsp/_src/sd_fir.c"],
    "streamdsp._blocks._correlator": ["streamdsp/_src/sd_fft.c", "streamdsp/_src/sd_fir.c"],
    "streamdsp._blocks._delayest": ["streamdsp/_src/sd_fft.c"],
}

# -std=c11 turns off floating-point contraction, which would leave the
# x86-64-v3/v4 clones without FMA: ask for it back explicitly.
compile_args = (["-O3", "-fno-math-errno", "-std=c11", "-ffp-contract=fast"]
                if os.name != "nt" else ["/O2"])
macros = [("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")]
if NATIVE:
    compile_args.append("-march=native")
    macros.append(("SD_NATIVE_BUILD", "1"))
if DEBUG:
    compile_args = [a for a in compile_args if a != "-O3"] + ["-O1", "-g"]
else:
    macros.append(("CYTHON_WITHOUT_ASSERTIONS", None))


def extensions():
    exts = []
    for pyx in sorted(HERE.glob("streamdsp/**/*.pyx")):
        rel = pyx.relative_to(HERE)
        name = ".".join(rel.with_suffix("").parts)
        exts.append(
            Extension(
                name,
                [str(rel)] + C_SOURCES.get(name, []),
                include_dirs=[np.get_include(), "streamdsp/_src"],
                define_macros=macros,
                extra_compile_args=compile_args,
            )
        )
    return exts


setup(
    ext_modules=cythonize(
        extensions(),
        compiler_directives={
            "language_level": 3,
            "boundscheck": DEBUG,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": DEBUG,
            "embedsignature": True,
            "binding": True,
        },
        annotate=bool(os.environ.get("STREAMDSP_ANNOTATE")),
    ),
)
