"""Real FFT kernel: streamdsp's sd_fft (packed, no reordering) against planned pyFFTW.

    pytest benchmarks/bench_fft.py --benchmark-enable

Grid: n = 128 .. 8192, float32 and float64, one transform per round on
preallocated arrays.  streamdsp is timed through RealFFT.forward_packed /
inverse_packed (argument checks + GIL release + C call); pyFFTW through
FFTW.execute() of a plan made with FFTW_MEASURE (also a Python call that
releases the GIL).  Both include their ~0.05-0.1 us call overhead.
The inverse group compares the unscaled c2r transforms (pyFFTW's c2r is
allowed to destroy its input, ours must not).
"""

import numpy as np
import pytest

from streamdsp._core._fft import RealFFT

pyfftw = pytest.importorskip("pyfftw")

# Warm-up before calibration: without it the first benchmark of a session can
# be calibrated to one call per round and then mostly times the timer.
pytestmark = pytest.mark.benchmark(warmup=True, warmup_iterations=2000, disable_gc=True)

SIZES = [128, 256, 512, 1024, 2048, 4096, 8192]
DTYPES = ["float32", "float64"]
CDTYPE = {"float32": np.complex64, "float64": np.complex128}


def _run(benchmark, group, impl, n, fn, *args):
    benchmark.group = group
    benchmark.extra_info.update(impl=impl, frames=n)
    for _ in range(10):  # warm up caches
        fn(*args)
    benchmark(fn, *args)  # bound method + args: no lambda in the timed path


def _signal(n, dtype):
    x = pyfftw.empty_aligned(n, dtype=dtype)
    x[:] = np.random.default_rng(n).standard_normal(n)
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def bench_rfft_streamdsp(benchmark, n, dtype):
    f = RealFFT(n, dtype)
    x = _signal(n, dtype)
    re = pyfftw.empty_aligned(n // 2, dtype=dtype)
    im = pyfftw.empty_aligned(n // 2, dtype=dtype)
    _run(benchmark, f"rfft n={n} {dtype}", "streamdsp", n, f.forward_packed, x, re, im)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def bench_rfft_pyfftw(benchmark, n, dtype):
    x = _signal(n, dtype)
    out = pyfftw.empty_aligned(n // 2 + 1, dtype=CDTYPE[dtype])
    plan = pyfftw.FFTW(x, out, flags=("FFTW_MEASURE",), threads=1)
    _run(benchmark, f"rfft n={n} {dtype}", "pyfftw rfft (MEASURE)", n, plan.execute)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def bench_irfft_streamdsp(benchmark, n, dtype):
    f = RealFFT(n, dtype)
    re = pyfftw.empty_aligned(n // 2, dtype=dtype)
    im = pyfftw.empty_aligned(n // 2, dtype=dtype)
    f.forward_packed(_signal(n, dtype), re, im)
    y = pyfftw.empty_aligned(n, dtype=dtype)
    _run(benchmark, f"irfft n={n} {dtype}", "streamdsp", n, f.inverse_packed, re, im, y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def bench_irfft_pyfftw(benchmark, n, dtype):
    X = pyfftw.empty_aligned(n // 2 + 1, dtype=CDTYPE[dtype])
    y = pyfftw.empty_aligned(n, dtype=dtype)
    plan = pyfftw.FFTW(X, y, direction="FFTW_BACKWARD", flags=("FFTW_MEASURE",), threads=1)
    X[:] = np.fft.rfft(np.random.default_rng(n).standard_normal(n))
    _run(benchmark, f"irfft n={n} {dtype}", "pyfftw irfft (MEASURE)", n, plan.execute)
