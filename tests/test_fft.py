"""The sd_fft real FFT kernel (streamdsp._core._fft) against numpy.fft.

Tolerances are relative to the peak of the reference: 1e-5 for float32 and
1e-12 for float64.
"""

import numpy as np
import pytest

from streamdsp._core._fft import RealFFT, mac

DTYPES = ["float32", "float64"]
RTOL = {"float32": 1e-5, "float64": 1e-12}
SIZES = [1 << k for k in range(4, 17)]            # 16 .. 65536, every power of two
BIG = [1 << 18, 1 << 20, 1 << 22]
TINY = [2, 4, 8]


def _close(actual, expected, rtol, what=""):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    peak = max(float(np.max(np.abs(expected))), 1e-300)
    err = float(np.max(np.abs(actual.astype(np.complex128) - expected)))
    assert err <= rtol * peak, f"{what}: max error {err:.3g} > {rtol:.0e} x peak {peak:.3g}"


def _signal(n, dtype, seed=0):
    return np.random.default_rng(seed + n).standard_normal(n).astype(dtype)


def _packed(f, x):
    h = f.n // 2
    re = np.empty(h, dtype=f.dtype)
    im = np.empty(h, dtype=f.dtype)
    f.forward_packed(x, re, im)
    return re, im


def _natural(f, re, im):
    """Packed spectrum -> n/2 + 1 natural-order bins (independent of RealFFT.forward)."""
    h = f.n // 2
    out = np.zeros(h + 1, dtype=np.complex128)
    out[0] = re[0]
    out[h] = im[0]
    b = f.bins()
    out[b[1:]] = re[1:] + 1j * im[1:].astype(np.float64)
    return out


def _pack(f, X):
    """Natural-order bins -> packed re, im."""
    h = f.n // 2
    b = f.bins()
    re = np.empty(h, dtype=f.dtype)
    im = np.empty(h, dtype=f.dtype)
    re[0] = X[0].real
    im[0] = X[h].real
    re[1:] = X[b[1:]].real
    im[1:] = X[b[1:]].imag
    return re, im


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", TINY + SIZES + BIG)
def test_forward_random(n, dtype):
    f = RealFFT(n, dtype)
    x = _signal(n, dtype)
    X = f.forward(x)
    assert X.dtype == (np.complex64 if dtype == "float32" else np.complex128)
    _close(X, np.fft.rfft(x.astype(np.float64)), RTOL[dtype], f"rfft n={n}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", TINY + SIZES)
def test_forward_impulses(n, dtype):
    f = RealFFT(n, dtype)
    for pos in sorted({0, 1, n // 2 - 1, n // 2, n - 1, (7 * n) // 11}):
        x = np.zeros(n, dtype=dtype)
        x[pos] = 1.0
        _close(f.forward(x), np.fft.rfft(x.astype(np.float64)), RTOL[dtype], f"impulse {pos}")
    x = np.ones(n, dtype=dtype)                     # DC only
    _close(f.forward(x), np.fft.rfft(x.astype(np.float64)), RTOL[dtype], "dc")
    x = np.cos(np.pi * np.arange(n)).astype(dtype)  # Nyquist only
    _close(f.forward(x), np.fft.rfft(x.astype(np.float64)), RTOL[dtype], "nyquist")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", TINY + SIZES)
def test_packed_layout(n, dtype):
    """forward_packed: re[0] = DC, im[0] = Nyquist, position p holds bin bins()[p]."""
    f = RealFFT(n, dtype)
    h = n // 2
    b = f.bins()
    assert b.shape == (h,) and b[0] == 0
    assert sorted(b[1:].tolist()) == list(range(1, h))
    x = _signal(n, dtype, seed=3)
    re, im = _packed(f, x)
    _close(_natural(f, re, im), np.fft.rfft(x.astype(np.float64)), RTOL[dtype], "packed")


# ---------------------------------------------------------------- inverse


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", TINY + SIZES + BIG)
def test_inverse_random(n, dtype):
    f = RealFFT(n, dtype)
    rng = np.random.default_rng(n)
    X = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    X = X.astype(np.complex64 if dtype == "float32" else np.complex128)
    y = f.inverse(X)
    assert y.dtype == np.dtype(dtype)
    # irfft ignores the imaginary parts of DC and Nyquist; so do we
    _close(y, np.fft.irfft(X.astype(np.complex128), n), RTOL[dtype], f"irfft n={n}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", TINY + SIZES)
def test_inverse_impulses(n, dtype):
    f = RealFFT(n, dtype)
    h = n // 2
    for k in sorted({0, 1, h // 2, h - 1, h}):
        X = np.zeros(h + 1, dtype=np.complex128)
        X[k] = 1.0
        _close(f.inverse(X), np.fft.irfft(X, n), RTOL[dtype], f"bin {k} real")
        if 0 < k < h:
            X[k] = 1j
            _close(f.inverse(X), np.fft.irfft(X, n), RTOL[dtype], f"bin {k} imag")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", TINY + SIZES + [1 << 20])
def test_round_trip(n, dtype):
    f = RealFFT(n, dtype)
    x = _signal(n, dtype, seed=5)
    _close(f.inverse(f.forward(x)), x, RTOL[dtype], "inverse(forward(x))")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", TINY + SIZES)
def test_inverse_packed_unscaled_and_const(n, dtype):
    """inverse_packed returns n * x and leaves re/im untouched."""
    f = RealFFT(n, dtype)
    x = _signal(n, dtype, seed=7)
    re, im = _packed(f, x)
    re0, im0 = re.copy(), im.copy()
    y = np.empty(n, dtype=dtype)
    f.inverse_packed(re, im, y)
    assert np.array_equal(re, re0) and np.array_equal(im, im0)
    _close(y, n * x.astype(np.float64), RTOL[dtype], "unscaled inverse")


# ---------------------------------------------------------------- mac


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", TINY + SIZES)
def test_mac_matches_numpy(n, dtype):
    """Packed MAC == numpy complex multiply-accumulate on the natural spectra."""
    f = RealFFT(n, dtype)
    a, b, c = (_signal(n, dtype, seed=s) for s in (11, 12, 13))
    ar, ai = _packed(f, a)
    br, bi = _packed(f, b)
    accr, acci = _packed(f, c)
    A, B, C = (_natural(f, r, i) for r, i in ((ar, ai), (br, bi), (accr, acci)))
    mac(accr, acci, ar, ai, br, bi)
    expected = C + A * B     # DC and Nyquist are real: their products are too
    assert expected[0].imag == 0 and expected[-1].imag == 0
    _close(_natural(f, accr, acci), expected, RTOL[dtype], "mac")
    # the same product as a real-domain circular convolution (what callers build)
    h = n // 2
    acc_r = np.zeros(h, dtype=dtype)
    acc_i = np.zeros(h, dtype=dtype)
    mac(acc_r, acc_i, ar, ai, br, bi)
    y = np.empty(n, dtype=dtype)
    f.inverse_packed(acc_r, acc_i, y)
    circ = np.fft.irfft(np.fft.rfft(a.astype(np.float64)) * np.fft.rfft(b.astype(np.float64)), n)
    _close(y / n, circ, RTOL[dtype] * 4, "circular convolution")


@pytest.mark.parametrize("dtype", DTYPES)
def test_mac_accumulates_and_self_product(dtype):
    n = 256
    f = RealFFT(n, dtype)
    ar, ai = _packed(f, _signal(n, dtype, seed=1))
    accr = np.zeros(n // 2, dtype=dtype)
    acci = np.zeros(n // 2, dtype=dtype)
    for _ in range(3):
        mac(accr, acci, ar, ai, ar, ai)             # a may equal b
    A = _natural(f, ar, ai)
    _close(_natural(f, accr, acci), 3 * A * A, RTOL[dtype], "3 x a*a")


def test_mac_rejects_mismatched_arrays():
    z32 = np.zeros(8, np.float32)
    with pytest.raises(ValueError):
        mac(z32, z32.copy(), z32, z32, z32, np.zeros(4, np.float32))
    with pytest.raises(TypeError):
        mac(z32, z32.copy(), z32, z32, z32, np.zeros(8, np.float64))


# ---------------------------------------------------------------- properties


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [16, 512, 4096])
def test_linearity(n, dtype):
    f = RealFFT(n, dtype)
    x = _signal(n, dtype, seed=21)
    y = _signal(n, dtype, seed=22)
    a, b = 0.75, -2.5
    lhs = f.forward((a * x + b * y).astype(dtype))
    rhs = a * f.forward(x).astype(np.complex128) + b * f.forward(y).astype(np.complex128)
    _close(lhs, rhs, 4 * RTOL[dtype], "linearity")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [2, 16, 32, 64, 128, 1024, 1 << 15])
def test_repeated_calls_identical(n, dtype):
    """A plan gives bit-identical results call after call (scratch reuse is clean)."""
    f = RealFFT(n, dtype)
    x = _signal(n, dtype, seed=31)
    re1, im1 = _packed(f, x)
    y1 = np.empty(n, dtype=dtype)
    f.inverse_packed(re1, im1, y1)
    for _ in range(3):
        re2, im2 = _packed(f, x)
        y2 = np.empty(n, dtype=dtype)
        f.inverse_packed(re2, im2, y2)
        assert np.array_equal(re1, re2) and np.array_equal(im1, im2)
        assert np.array_equal(y1, y2)
    # a second plan of the same size agrees too
    re3, im3 = _packed(RealFFT(n, dtype), x)
    assert np.array_equal(re1, re3) and np.array_equal(im1, im3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [64, 1024])
def test_unaligned_arrays(n, dtype):
    """No alignment needed beyond the element size."""
    f = RealFFT(n, dtype)
    x = _signal(n, dtype, seed=41)
    re, im = _packed(f, x)
    buf = np.zeros(4 * n + 8, dtype=dtype)
    xu = buf[1:n + 1]
    xu[:] = x
    reu = buf[n + 3:n + 3 + n // 2]
    imu = buf[2 * n + 5:2 * n + 5 + n // 2]
    f.forward_packed(xu, reu, imu)
    assert np.array_equal(re, reu) and np.array_equal(im, imu)
    yu = buf[3 * n + 7:4 * n + 7]
    f.inverse_packed(reu, imu, yu)
    y = np.empty(n, dtype=dtype)
    f.inverse_packed(re, im, y)
    assert np.array_equal(y, yu)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [16, 32, 64, 128, 256, 512, 2048, 1 << 16])
def test_both_block_paths(n, dtype, monkeypatch):
    """The plan picks one of two block-pass implementations from the CPU
    (SD_FFT_BLOCKS forces one): both must be right and share the layout."""
    x = _signal(n, dtype, seed=51)
    ref = np.fft.rfft(x.astype(np.float64))
    got = {}
    for path in ("c", "vec"):
        monkeypatch.setenv("SD_FFT_BLOCKS", path)
        f = RealFFT(n, dtype)
        re, im = _packed(f, x)
        _close(_natural(f, re, im), ref, RTOL[dtype], f"forward, blocks={path}")
        y = np.empty(n, dtype=dtype)
        f.inverse_packed(re, im, y)
        _close(y / n, x, RTOL[dtype], f"round trip, blocks={path}")
        got[path] = (f.bins(), re, im)
    assert np.array_equal(got["c"][0], got["vec"][0])
    _close(got["vec"][1], got["c"][1].astype(np.float64), RTOL[dtype], "same packed re")
    _close(got["vec"][2], got["c"][2].astype(np.float64), RTOL[dtype], "same packed im")


@pytest.mark.parametrize("n", [2, 16, 64, 128, 4096])
def test_layout_same_for_both_dtypes(n):
    assert np.array_equal(RealFFT(n, "float32").bins(), RealFFT(n, "float64").bins())


@pytest.mark.parametrize("n", [0, 1, 3, 12, 100, -4])
def test_bad_sizes(n):
    with pytest.raises(ValueError):
        RealFFT(n)


def test_bad_arguments():
    with pytest.raises(TypeError):
        RealFFT(16, "int16")
    f = RealFFT(16, "float32")
    assert f.n == 16 and f.half == 8 and f.dtype == np.float32
    with pytest.raises(ValueError):
        f.forward(np.zeros(8))
    with pytest.raises(ValueError):
        f.inverse(np.zeros(8, np.complex64))
    with pytest.raises(TypeError):
        f.forward_packed(np.zeros(16), np.zeros(8, np.float32), np.zeros(8, np.float32))
    with pytest.raises(ValueError):
        f.forward_packed(np.zeros(16, np.float32), np.zeros(4, np.float32), np.zeros(8, np.float32))
    with pytest.raises(ValueError):
        f.forward_packed(np.zeros(32, np.float32)[::2], np.zeros(8, np.float32), np.zeros(8, np.float32))
    with pytest.raises(TypeError):
        f.inverse_packed([0.0] * 8, np.zeros(8, np.float32), np.zeros(16, np.float32))
