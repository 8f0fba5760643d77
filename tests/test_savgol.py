"""SavitzkyGolay specifics beyond the shared contract (tests/test_contract.py).

The oracle is always ``scipy.signal.savgol_filter(x, ..., axis=0)`` on the
whole signal; the streamed result is ``concatenate([process..., flush()])``
with its first ``latency`` frames dropped.
"""

import inspect
import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import signal
from scipy.signal import savgol_coeffs, savgol_filter

import streamdsp as sd
import test_contract as contract
from _support import Case, assert_close_to_peak, signal_for, stream, tolerance

MODES = ["interp", "mirror", "nearest", "constant"]


def _oracle(wl, po, deriv=0, delta=1.0, mode="interp", cval=0.0):
    return lambda x: savgol_filter(x, wl, po, deriv, delta, axis=0, mode=mode, cval=cval)


def _streamed(block, x, sizes):
    y = stream(block, x, sizes)
    assert y.shape[0] == x.shape[0] + block.latency
    assert np.all(y[:block.latency] == 0)
    return y[block.latency:]


def _random_sizes(rng, n):
    sizes, total = [], 0
    while total < n:
        s = int(rng.choice([0, 1, 2, 17, 64, 256, 1000]))
        sizes.append(s)
        total += s
    return sizes


def _tol(dtype, block):
    return tolerance(dtype, fft=block.method == "fft")


# ----------------------------------------------------------------------
# every mode and option against scipy

SHAPES = [(31, 3, 0), (12, 2, 1), (5, 2, 2), (8, 4, 3), (7, 2, 3), (1, 0, 0), (2, 1, 0), (4, 0, 0),
          (101, 4, 1)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("wl,po,deriv", SHAPES, ids=[f"{w}-{p}-d{d}" for w, p, d in SHAPES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [0, 3])
def test_savgol_matches_savgol_filter(mode, wl, po, deriv, dtype, channels):
    x = signal_for(1500, channels, dtype, seed=wl + deriv)
    b = sd.SavitzkyGolay(wl, po, deriv=deriv, delta=0.25, mode=mode)
    y = _streamed(b, x, _random_sizes(np.random.default_rng(wl), 1500))
    assert y.dtype == dtype and y.shape == x.shape
    ref = savgol_filter(x.astype(np.float64), wl, po, deriv, 0.25, axis=0, mode=mode)
    assert_close_to_peak(y, ref, _tol(dtype, b), f"{mode} {wl}/{po}/d{deriv}")


def test_savgol_derivative_above_polyorder_is_zero_like_scipy():
    x = signal_for(300, 2, np.float64)
    for mode in MODES:
        b = sd.SavitzkyGolay(9, 2, deriv=3, mode=mode)
        y = _streamed(b, x, [50])
        ref = savgol_filter(x, 9, 2, 3, axis=0, mode=mode)
        assert not np.any(ref) and not np.any(y), mode


@pytest.mark.parametrize("cval", [0.0, 0.7, -3.0])
def test_savgol_constant_mode_pads_with_cval(cval):
    x = signal_for(400, 2, np.float64)
    b = sd.SavitzkyGolay(15, 3, mode="constant", cval=cval)
    y = _streamed(b, x, [3, 100])
    assert_close_to_peak(y, savgol_filter(x, 15, 3, axis=0, mode="constant", cval=cval), 1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("wl", [1001, 1000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_savgol_long_window_takes_the_fft_path_and_keeps_its_latency(mode, wl, dtype):
    b = sd.SavitzkyGolay(wl, 3, mode=mode)
    assert b.method == "fft" and b.block_size >= 64
    assert b.latency == (wl - 1 if mode == "interp" else wl // 2)
    x = signal_for(12000, 1, dtype, seed=7)
    y = _streamed(b, x, [256] * 40 + [1, 0, 4000])
    ref = savgol_filter(x.astype(np.float64), wl, 3, axis=0, mode=mode)
    assert_close_to_peak(y, ref, tolerance(dtype, fft=True), f"{mode} {wl}")


@pytest.mark.parametrize("mode", MODES)
def test_savgol_direct_and_fft_methods_agree_with_scipy(mode):
    x = signal_for(3000, 2, np.float64, seed=3)
    ref = savgol_filter(x, 151, 5, 2, 0.1, axis=0, mode=mode)
    for method in ("direct", "fft", "auto"):
        b = sd.SavitzkyGolay(151, 5, deriv=2, delta=0.1, mode=mode, method=method)
        assert b.method == method or method == "auto"
        y = _streamed(b, x, [77, 1, 500])
        assert_close_to_peak(y, ref, tolerance(np.float64, fft=True), f"{mode} {method}")


def test_savgol_auto_is_direct_for_short_windows():
    assert sd.SavitzkyGolay(31, 3).method == "direct"
    assert sd.SavitzkyGolay(31, 3).block_size is None
    assert sd.SavitzkyGolay(31, 3, mode="mirror").method == "direct"


# ----------------------------------------------------------------------
# latency, flush and short signals

@pytest.mark.parametrize("wl", [1, 2, 3, 12, 31])
def test_savgol_latency_is_what_api_md_says(wl):
    assert sd.SavitzkyGolay(wl, 0).latency == wl - 1
    for mode in ("mirror", "nearest", "constant"):
        assert sd.SavitzkyGolay(wl, 0, mode=mode).latency == wl // 2


@pytest.mark.parametrize("mode", MODES)
def test_savgol_flush_emits_latency_frames_and_resets(mode):
    x = signal_for(500, 2, np.float32)
    b = sd.SavitzkyGolay(21, 2, mode=mode)
    first = [b.process(x[:333]), b.process(x[333:])]
    tail = b.flush()
    assert tail.shape == (b.latency, 2) and tail.dtype == np.float32
    again = [b.process(x), b.flush()]          # a fresh stream, same answer
    assert_close_to_peak(np.concatenate(again), np.concatenate(first + [tail]), 0)
    assert b.flush().shape == (b.latency, 2)   # after flush: empty stream, zeros
    assert not np.any(b.flush())


@pytest.mark.parametrize("mode", MODES)
def test_savgol_empty_stream_flushes_latency_zeros_and_unstarted_flushes_nothing(mode):
    b = sd.SavitzkyGolay(9, 2, mode=mode)
    assert b.flush().shape == (0,)
    assert b.process(np.zeros(0)).shape == (0,)
    y = b.flush()      # API.md: len(x) + latency frames, the first latency zeros
    assert y.shape == (b.latency,) and not np.any(y)


@pytest.mark.parametrize("wl", [31, 12, 2])
def test_savgol_interp_flush_shorter_than_window(wl):
    x = signal_for(wl - 1, 2, np.float64)
    with pytest.raises(ValueError, match="window_length"):
        savgol_filter(x, wl, 1, axis=0, mode="interp")   # scipy refuses it too
    b = sd.SavitzkyGolay(wl, 1)
    head = [b.process(x[:3]), b.process(x[3:])]
    assert all(not np.any(h) for h in head), "all of it is latency"
    with pytest.raises(ValueError) as info:
        b.flush()
    msg = str(info.value)
    assert msg.startswith("SavitzkyGolay:")
    assert f"window_length={wl}" in msg and f"after {wl - 1}" in msg
    assert "reset" in msg and "mirror" in msg
    # the block was reset: nothing held back, channels and dtype kept
    assert b.channels == 2 and b.dtype == np.float64
    assert not np.any(b.flush())
    full = signal_for(wl + 40, 2, np.float64, seed=2)
    assert_close_to_peak(_streamed(b, full, [5]), savgol_filter(full, wl, 1, axis=0), 1e-12)


@pytest.mark.parametrize("extra", [0, 1, 7, 14, 15, 16, 30, 31])
def test_savgol_interp_streams_of_about_one_window(extra):
    # the leading fit ends in flush() when the stream is shorter than
    # latency + window_length // 2
    x = signal_for(31 + extra, 1, np.float64, seed=extra)
    b = sd.SavitzkyGolay(31, 3, deriv=1)
    y = _streamed(b, x, [1] * (extra % 5) + [10])
    assert_close_to_peak(y, savgol_filter(x, 31, 3, 1, axis=0), 1e-12)


@pytest.mark.parametrize("mode", ["mirror", "nearest", "constant"])
@pytest.mark.parametrize("wl", [31, 12, 1001])
def test_savgol_padding_modes_accept_signals_shorter_than_window(mode, wl):
    for n in list(range(1, 20)) + [wl // 2 - 1, wl // 2, wl // 2 + 1, wl - 1, wl, wl + 1]:
        x = signal_for(n, 2, np.float64, seed=n)
        ref = savgol_filter(x, wl, 2, axis=0, mode=mode)   # scipy accepts any length here
        b = sd.SavitzkyGolay(wl, 2, mode=mode)
        y = _streamed(b, x, [1, 0, 2])
        # a window much longer than the signal averages it to ~ a constant:
        # compare to the signal's scale
        peak = max(np.max(np.abs(ref)), np.max(np.abs(x)))
        assert np.max(np.abs(y - ref)) <= tolerance(np.float64, fft=b.method == "fft") * peak, (mode, n)


def test_savgol_mirror_of_one_sample_is_that_sample():
    b = sd.SavitzkyGolay(7, 2, mode="mirror")
    y = _streamed(b, np.array([2.5]), [])
    np.testing.assert_allclose(y, savgol_filter(np.array([2.5]), 7, 2, mode="mirror"), rtol=1e-14)


# ----------------------------------------------------------------------
# construction

def test_savgol_wrap_mode_is_a_clear_error():
    with pytest.raises(ValueError) as info:
        sd.SavitzkyGolay(31, 3, mode="wrap")
    assert ("mode='wrap' needs the whole signal and cannot stream; "
            "use 'mirror', 'nearest', 'constant' or 'interp'") in str(info.value)
    assert str(info.value).startswith("SavitzkyGolay:")


@pytest.mark.parametrize("kwargs,exc,words", [
    (dict(window_length=5, polyorder=5), ValueError, "polyorder < window_length"),
    (dict(window_length=0, polyorder=0), ValueError, "window_length >= 1"),
    (dict(window_length=5.0, polyorder=2), TypeError, "window_length"),
    (dict(window_length=True, polyorder=0), TypeError, "window_length"),
    (dict(window_length=5, polyorder=-1), ValueError, "polyorder >= 0"),
    (dict(window_length=5, polyorder=2, deriv=-1), ValueError, "deriv >= 0"),
    (dict(window_length=5, polyorder=2, deriv=1, delta=0.0), ValueError, "nonzero delta"),
    (dict(window_length=5, polyorder=2, delta=np.nan), ValueError, "delta"),
    (dict(window_length=5, polyorder=2, delta="x"), TypeError, "delta"),
    (dict(window_length=5, polyorder=2, mode="reflect"), ValueError, "mode in"),
    (dict(window_length=5, polyorder=2, method="fast"), ValueError, "method in"),
    (dict(window_length=5, polyorder=2, method="fft"), ValueError, "method='fft'"),
])
def test_savgol_bad_arguments_are_clear_errors(kwargs, exc, words):
    with pytest.raises(exc) as info:
        sd.SavitzkyGolay(**kwargs)
    assert words in str(info.value)
    assert str(info.value).startswith("SavitzkyGolay:")


def test_savgol_coeffs_are_scipys_and_read_only():
    b = sd.SavitzkyGolay(11, 3, deriv=1, delta=0.5)
    np.testing.assert_array_equal(b.coeffs, savgol_coeffs(11, 3, deriv=1, delta=0.5))
    assert b.ntaps == 11
    with pytest.raises(ValueError):
        b.coeffs[0] = 1.0


def test_savgol_frequency_response_is_freqz_of_the_coefficients():
    b = sd.SavitzkyGolay(31, 3)
    w, h = b.frequency_response(256, fs=48000)
    w0, h0 = signal.freqz(savgol_coeffs(31, 3), 1.0, worN=256, fs=48000)
    np.testing.assert_allclose(w, w0)
    np.testing.assert_allclose(h, h0, rtol=1e-12, atol=1e-15)
    assert abs(h[0]) == pytest.approx(1.0)     # a smoother keeps DC


def test_savgol_repr_names_the_parameters():
    r = repr(sd.SavitzkyGolay(31, 3, deriv=1, mode="nearest"))
    assert r.startswith("<SavitzkyGolay window_length=31 polyorder=3 deriv=1")
    assert "mode='nearest'" in r and "latency=15" in r


def test_savgol_prepared_ahead_then_streamed():
    x = signal_for(600, 2, np.float32)
    b = sd.SavitzkyGolay(25, 4, mode="nearest").prepare(2, "float32")
    assert b.prepared and b.channels == 2
    y = _streamed(b, x, [100, 100])
    assert_close_to_peak(y, savgol_filter(x.astype(np.float64), 25, 4, axis=0, mode="nearest"), 5e-6)


def test_savgol_in_a_pipeline():
    x = signal_for(800, 1, np.float64)
    p = sd.Gain(2.0) >> sd.SavitzkyGolay(21, 2)
    assert p.latency == 20
    y = _streamed(p, x, [100, 3])
    assert_close_to_peak(y, savgol_filter(2.0 * x, 21, 2, axis=0), 1e-12)


# ----------------------------------------------------------------------
# mode="interp" under the shared contract.  It is not in tests/_cases_savgol.py
# because the contract's random splits draw streams shorter than the window,
# which interp (like scipy) refuses; here every contract test runs on it,
# with the random-split test drawing streams of at least one window.

INTERP_CASES = [
    Case("SavitzkyGolay-interp-31-3", lambda ch: sd.SavitzkyGolay(31, 3), _oracle(31, 3)),
    Case("SavitzkyGolay-interp-12-3-deriv2",
         lambda ch: sd.SavitzkyGolay(12, 3, deriv=2, delta=0.5), _oracle(12, 3, 2, 0.5)),
    Case("SavitzkyGolay-interp-101-2-fft",
         lambda ch: sd.SavitzkyGolay(101, 2, method="fft"), _oracle(101, 2), fft=True),
    Case("SavitzkyGolay-interp-1-0", lambda ch: sd.SavitzkyGolay(1, 0), _oracle(1, 0)),
]


def _contract_calls():
    """(test function, kwargs) for every contract test but the random-split one."""
    calls = []
    for name, fn in inspect.getmembers(contract, inspect.isfunction):
        if not name.startswith("test_") or hasattr(fn, "hypothesis"):
            continue
        grids = []
        for mark in getattr(fn, "pytestmark", []):
            if mark.name != "parametrize" or mark.args[0] == "case":
                continue
            names = [a.strip() for a in mark.args[0].split(",")]
            grids.append([dict(zip(names, v if len(names) > 1 else (v,))) for v in mark.args[1]])
        params = set(inspect.signature(fn).parameters) - {"case"}
        covered = set().union(*[g[0].keys() for g in grids]) if grids else set()
        assert params == covered, f"{name} needs fixtures {params - covered} this runner lacks"
        for combo in itertools.product(*grids):
            kwargs = {k: v for d in combo for k, v in d.items()}
            ident = "-".join(f"{v.__name__ if isinstance(v, type) else v}" for v in kwargs.values()
                             if isinstance(v, (int, str, type)))
            calls.append(pytest.param(fn, kwargs, id=f"{name}[{ident}]" if ident else name))
    return calls


@pytest.mark.parametrize("case", INTERP_CASES, ids=str)
@pytest.mark.parametrize("fn,kwargs", _contract_calls())
def test_savgol_interp_under_the_block_contract(case, fn, kwargs):
    fn(case=case, **kwargs)


@pytest.mark.parametrize("case", INTERP_CASES, ids=str)
@given(data=st.data())
def test_savgol_interp_streaming_invariance_over_random_splits(case, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    layout = data.draw(st.sampled_from([0, 1, 2]), label="layout")
    wl = case.make(1).window_length
    frames = data.draw(st.integers(wl, wl + 600), label="frames")
    sizes = data.draw(st.lists(st.one_of(st.just(0), st.just(1), st.integers(0, 200)), max_size=12),
                      label="chunk sizes")
    x = signal_for(frames, layout, dtype, seed=frames)
    ch = max(layout, 1)
    one_call = stream(case.make(ch), x, [])
    block = case.make(ch)
    split = stream(block, x, sizes)
    assert_close_to_peak(split, one_call, tolerance(dtype, case.fft), f"{case.name} split {sizes}")
    contract._check_against_oracle(case, block, x, split)


def test_savgol_interp_short_stream_error_reaches_through_a_pipeline():
    p = sd.Gain(1.0) >> sd.SavitzkyGolay(31, 3)
    p.process(np.ones(10))
    with pytest.raises(ValueError, match="SavitzkyGolay: mode='interp' needs at least window_length=31"):
        p.flush()
