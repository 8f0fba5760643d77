"""DelayEstimator: known integer and fractional delays found in noise, every estimate equal
to an offline numpy GCC-PHAT of its window, exact frame counts, and the block contract
(it takes exactly two channels, so it has its own contract tests here)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import streamdsp as sd


def fractional_delay(s, d):
    """s delayed by d samples (any real d), band-limited: a phase ramp on the whole signal."""
    n = len(s)
    f = np.fft.rfftfreq(n)
    return np.fft.irfft(np.fft.rfft(s) * np.exp(-2j * np.pi * f * d), n)


def scene(d, n=40000, noise=0.3, seed=0):
    """Channel 1 is channel 0 delayed by d samples; independent noise on each."""
    rng = np.random.default_rng(seed)
    s = rng.standard_normal(n + 4000)
    x0 = s + noise * rng.standard_normal(len(s))
    x1 = fractional_delay(s, d) + noise * rng.standard_normal(len(s))
    return np.stack([x0, x1], axis=1)[2000:-2000]


def gcc_reference(x, window, hop, max_lag, method="gcc-phat"):
    """The offline computation the docstring promises, one window at a time (numpy, float64)."""
    N = 8
    while N < window + max_lag:
        N *= 2
    out = []
    for start in range(0, len(x) - window + 1, hop):
        w = x[start:start + window].astype(np.float64)
        X0 = np.fft.rfft(w[:, 0], N)
        X1 = np.fft.rfft(w[:, 1], N)
        G = X1 * X0.conj()
        if method == "gcc-phat":
            mag = np.abs(G)
            G = np.where(mag > 0, G / np.where(mag > 0, mag, 1), 0)
        r = np.fft.irfft(G, N)
        lags = np.r_[0, np.ravel(np.column_stack([np.arange(1, max_lag + 1), -np.arange(1, max_lag + 1)]))]
        vals = r[lags % N]
        k = int(lags[np.argmax(vals)])        # first maximum in the order 0, 1, -1, 2, -2, ...
        ym, y0, yp = r[(k - 1) % N], r[k % N], r[(k + 1) % N]
        den = ym - 2 * y0 + yp
        d = 0.0
        if den < 0:
            d = float(np.clip(0.5 * (ym - yp) / den, -0.5, 0.5))
        out.append(k + d)
    return np.array(out).reshape(-1, 1)


@pytest.mark.parametrize("method", ["gcc-phat", "cc"])
@pytest.mark.parametrize("d", [0, 1, 7, -12, 63, -63])
def test_delayest_finds_integer_delays_exactly(method, d):
    x = scene(d, seed=abs(d) + 1)
    est = sd.DelayEstimator(1024, hop=256, max_lag=64, method=method)
    lags = est.process(x)
    assert lags.shape == ((len(x) - 1024) // 256 + 1, 1)
    assert np.all(np.round(lags) == d)
    assert np.max(np.abs(lags - d)) < 0.05


@pytest.mark.parametrize("d", [2.5, -3.25, 7.7, 0.3, -10.9])
def test_delayest_finds_fractional_delays_with_the_parabola(d):
    est = sd.DelayEstimator(2048, hop=1024, max_lag=32)
    lags = est.process(scene(d, seed=5))
    # a parabola through a sinc-shaped peak is biased by up to ~0.15 samples
    assert np.max(np.abs(lags - d)) < 0.2
    assert abs(np.median(lags) - d) < 0.15


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-9), (np.float32, 2e-3)])
@pytest.mark.parametrize("method", ["gcc-phat", "cc"])
def test_delayest_every_estimate_equals_offline_gcc(dtype, tol, method):
    x = scene(4.4, n=20000, noise=1.0, seed=9).astype(dtype)
    est = sd.DelayEstimator(700, hop=333, max_lag=40, method=method)
    got = np.concatenate([est.process(c) for c in np.array_split(x, 13)])
    ref = gcc_reference(x, 700, 333, 40, method)
    assert got.dtype == dtype and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, atol=tol)


def test_delayest_sign_positive_when_channel_one_lags():
    s = np.random.default_rng(3).standard_normal(10000)
    late = np.stack([s[50:], s[45:-5]], axis=1)       # x1[t] = x0[t - 5]
    early = np.stack([s[45:-5], s[50:]], axis=1)      # x1[t] = x0[t + 5]
    assert np.all(sd.DelayEstimator(512).process(late) == pytest.approx(5.0, abs=0.05))
    assert np.all(sd.DelayEstimator(512).process(early) == pytest.approx(-5.0, abs=0.05))


def test_delayest_lag_beyond_max_lag_is_not_reported():
    x = scene(30, n=20000, seed=4)
    lags = sd.DelayEstimator(1024, max_lag=20).process(x)
    assert np.all(np.abs(lags) <= 20.5)
    assert np.all(np.round(sd.DelayEstimator(1024, max_lag=40).process(x)) == 30)


def test_delayest_silence_gives_zero():
    assert np.all(sd.DelayEstimator(64, hop=16).process(np.zeros((400, 2))) == 0)
    one_silent = np.stack([np.random.default_rng(1).standard_normal(400), np.zeros(400)], 1)
    assert np.all(sd.DelayEstimator(64, hop=16).process(one_silent) == 0)


def test_delayest_defaults():
    est = sd.DelayEstimator(1000)
    assert (est.window, est.hop, est.max_lag, est.method) == (1000, 500, 500, "gcc-phat")
    assert est.nfft == 2048 and est.decimation == 500 and est.latency == 0
    assert est.channels == 2


# ----------------------------------------------------------------------------
# frame counts and the block contract

@pytest.mark.parametrize("window,hop", [(64, 16), (64, 64), (50, 80), (8, 1)])
def test_delayest_emits_one_value_per_hop_after_the_first_window(window, hop):
    x = scene(2, n=1000, seed=2)[:700]
    est = sd.DelayEstimator(window, hop=hop, max_lag=window // 4)
    n_out = 0 if len(x) < window else (len(x) - window) // hop + 1
    y = est.process(x)
    assert y.shape == (n_out, 1)
    assert est.flush().shape[0] == 0, "partial windows are not reported"


@given(data=st.data())
def test_delayest_any_split_gives_the_same_estimates(data):
    window = data.draw(st.sampled_from([16, 50, 128]), label="window")
    hop = data.draw(st.integers(1, 2 * window), label="hop")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    frames = data.draw(st.integers(0, 900), label="frames")
    sizes = data.draw(st.lists(st.one_of(st.just(0), st.just(1), st.integers(0, 300)), max_size=10),
                      label="sizes")
    x = scene(3, n=1000, seed=frames)[:frames].astype(dtype)
    one = sd.DelayEstimator(window, hop=hop).process(x)
    est = sd.DelayEstimator(window, hop=hop)

    def total(n):          # outputs of the first n frames
        return 0 if n < window else (n - window) // hop + 1
    out, i = [], 0
    for n in sizes + [frames]:
        part = x[i:i + n]
        y = est.process(part)
        assert y.shape[0] == total(i + len(part)) - total(i), "exact count for every chunk"
        out.append(y)
        i += len(part)
    out.append(est.flush())
    split = np.concatenate(out)
    assert split.dtype == dtype
    np.testing.assert_array_equal(split, one)     # each estimate depends only on its window


def test_delayest_needs_two_channels():
    est = sd.DelayEstimator(64)
    for bad in (np.zeros(100), np.zeros((100, 1)), np.zeros((100, 3))):
        with pytest.raises(ValueError) as info:
            est.process(bad)
        assert "DelayEstimator" in str(info.value) and "2 channels" in str(info.value)
    assert not est.prepared


def test_delayest_rejected_chunk_changes_nothing_and_reset_forgets():
    x = scene(-6, n=5000, seed=8)
    ref = sd.DelayEstimator(256, hop=100).process(x)
    est = sd.DelayEstimator(256, hop=100)
    a = est.process(x[:1234])
    with pytest.raises(TypeError, match="complex"):
        est.process(np.ones((10, 2), dtype=complex))
    b = est.process(x[1234:])
    np.testing.assert_array_equal(np.concatenate([a, b]), ref)
    est.reset()
    np.testing.assert_array_equal(est.process(x), ref)


def test_delayest_out_argument():
    x = scene(9, n=3000, seed=6).astype(np.float32)
    est = sd.DelayEstimator(256, hop=128)
    n_out = (len(x) - 256) // 128 + 1
    out = np.full((n_out, 1), np.nan, dtype=np.float32)
    y = est.process(x, out=out)
    assert y is out
    np.testing.assert_array_equal(out, sd.DelayEstimator(256, hop=128).process(x))


def test_delayest_in_a_graph_joining_two_sources():
    x = scene(11, n=30000, seed=12)
    g = sd.Graph()
    a, b = g.input(), g.input()
    g.output(g.add(sd.DelayEstimator(1024, hop=512, max_lag=50), g.add(sd.Concatenate(), a, b)))
    outs = [g.process_all(x[i:i + 1000, 0], x[i:i + 1000, 1])[0] for i in range(0, len(x), 1000)]
    lags = np.concatenate([o.reshape(-1, 1) for o in outs])
    assert lags.shape[0] == (len(x) - 1024) // 512 + 1
    assert np.all(np.round(lags) == 11)


@pytest.mark.parametrize("kwargs,exc,words", [
    (dict(window=1), ValueError, "window >= 2"),
    (dict(window=64.0), TypeError, "window"),
    (dict(window=64, hop=0), ValueError, "hop >= 1"),
    (dict(window=64, max_lag=64), ValueError, "max_lag < window"),
    (dict(window=64, max_lag=-1), ValueError, "max_lag >= 0"),
    (dict(window=64, method="phat"), ValueError, "method"),
], ids=lambda v: str(v)[:30])
def test_delayest_bad_arguments_are_refused_clearly(kwargs, exc, words):
    with pytest.raises(exc) as info:
        sd.DelayEstimator(**kwargs)
    assert words in str(info.value) and "DelayEstimator" in str(info.value)


def test_delayest_repr():
    r = repr(sd.DelayEstimator(256, hop=64, max_lag=10, method="cc"))
    assert "DelayEstimator" in r and "window=256" in r and "hop=64" in r and "method='cc'" in r
