"""Build the compiled parts of streamdsp.

Every ``.pyx`` under ``streamdsp/`` becomes an extension module.  The
hand-written C kernels under ``streamdsp/_src`` are compiled once, each into a
small static library that every extension links (the linker takes only the
objects an extension uses).  Compiling them into each extension that needs
them cost a minute of CPU per build (``sd_fft.c`` alone takes 11 s and was
built five times) and made parallel builds race on the shared object files.

Both steps run in parallel on every core by default (``pip install .``
included): Cython translates the modules in a process pool, and the C
compiler runs once per core.

Environment switches
--------------------
STREAMDSP_NATIVE=1        compile for this machine (-march=native).  Never
                          use it for a wheel you hand to somebody else.
STREAMDSP_DEBUG_CYTHON=1  bounds checks on and assertions kept: CI runs the
                          suite once like this to catch kernels that trust
                          bad shapes.  Also defines SD_DEBUG, which makes
                          every caller of a block's `_run`/`_flush` check the
                          frame count it returns against the contract.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_clib import build_clib
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
NATIVE = bool(os.environ.get("STREAMDSP_NATIVE"))
DEBUG = bool(os.environ.get("STREAMDSP_DEBUG_CYTHON"))

JOBS = os.cpu_count() or 1
SRC = "streamdsp/_src"
# One static library per kernel file: they build side by side, and a change
# to one kernel rebuilds only its library.
KERNELS = ["sd_fft", "sd_fir", "sd_mix", "sd_multirate", "sd_sos"]
HEADERS = sorted(str(p.relative_to(HERE)) for p in (HERE / SRC).glob("*.h"))

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
    macros.append(("SD_DEBUG", "1"))
else:
    macros.append(("CYTHON_WITHOUT_ASSERTIONS", None))
    if os.name != "nt":
        # Python's CFLAGS ask for debug info; a release build has no use for
        # it and writing it costs 3-20 % of each module's compile time
        compile_args.append("-g0")

# Modules that are glue (arguments, planning, Python objects, calls into
# the blocks' kernels) and hold no numeric loop of their own compile in
# three quarters of the CPU time at -O2 and run as fast; the blocks keep
# -O3, whose vectoriser their loops need (Gain's loop at -O2: 2.6x slower).
GLUE = {"streamdsp._core._block", "streamdsp._core._fft", "streamdsp._graph._executor",
        "streamdsp._graph._pipeline", "streamdsp._io._audio_rt", "streamdsp._io._ringbuffer"}
glue_args = [("-O2" if a == "-O3" else a) for a in compile_args]


def kernel_libraries():
    return [
        (name, {
            "sources": [f"{SRC}/{name}.c"],
            "include_dirs": [SRC],
            "macros": macros,
            "cflags": compile_args,
            # sd_fft.c includes itself once per ISA level; headers are shared
            "obj_deps": {"": HEADERS},
        })
        for name in KERNELS
    ]


def extensions():
    exts = []
    for pyx in sorted(HERE.glob("streamdsp/**/*.pyx")):
        rel = pyx.relative_to(HERE)
        name = ".".join(rel.with_suffix("").parts)
        exts.append(
            Extension(
                name,
                [str(rel)],
                include_dirs=[np.get_include(), SRC],
                define_macros=macros,
                extra_compile_args=glue_args if name in GLUE else compile_args,
                # relink when a kernel changes (the libraries are linked, not listed as sources)
                depends=HEADERS + [f"{SRC}/{k}.c" for k in KERNELS],
            )
        )
    return exts


class ParallelBuildClib(build_clib):
    """Compile the kernel libraries side by side instead of one after another."""

    def build_libraries(self, libraries):
        with ThreadPoolExecutor(JOBS) as pool:
            for f in [pool.submit(super(ParallelBuildClib, self).build_libraries, [lib])
                      for lib in libraries]:
                f.result()


class ParallelBuildExt(build_ext):
    """``build_ext`` that uses every core unless ``-j`` says otherwise."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = JOBS

    def run(self):
        # `build_ext --inplace` alone does not build the libraries it links
        self.run_command("build_clib")
        super().run()


setup(
    libraries=kernel_libraries(),
    cmdclass={"build_clib": ParallelBuildClib, "build_ext": ParallelBuildExt},
    ext_modules=cythonize(
        extensions(),
        compiler_directives={
            "language_level": 3,
            "boundscheck": DEBUG,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": DEBUG,
            # Methods take their signatures from binding=True; "clinic" keeps
            # Cython from prepending a second one to each docstring, and lets a
            # class docstring that starts "Name(...)\n--\n\n" become the
            # class's __text_signature__, so inspect.signature(sd.FIR) works.
            "embedsignature": True,
            "embedsignature.format": "clinic",
            "binding": True,
            # No __reduce_cython__/__setstate_cython__ in help(): the generated
            # pickling could not rebuild a block's C state anyway.
            "auto_pickle": False,
            # No __test__ dict in help(module): the docstring examples are run
            # from the classes themselves, which doctest finds without it.
            "autotestdict": False,
        },
        annotate=bool(os.environ.get("STREAMDSP_ANNOTATE")),
        nthreads=JOBS,
    ),
)
