"""Gain.set(g, ramp=...): per-sample ramps instead of a step (issue 13, item 4)."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import streamdsp as sd
from _support import assert_close_to_peak


def _splatter(y, fs, f0, guard=200.0):
    """Energy of y's spectrum further than `guard` Hz from the tone f0, relative to the total."""
    w = np.hanning(len(y))
    spec = np.abs(np.fft.rfft(y * w)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / fs)
    return spec[np.abs(f - f0) > guard].sum() / spec.sum()


def test_a_ramped_step_splatters_far_less_than_the_step():
    # a 1 kHz tone, gain 1 -> 0.1 halfway: the step spreads its energy over the
    # whole band (a click), a 20 ms ramp keeps it near the tone
    fs, f0, n = 48000, 1000.0, 8192
    x = np.sin(2 * np.pi * f0 * np.arange(n) / fs)
    out = {}
    for ramp in (0, 960):
        for shape in ("linear", "exponential"):
            g = sd.Gain(1.0)
            a = g.process(x[:n // 2])
            g.set(0.1, ramp=ramp, shape=shape)
            out[ramp, shape] = np.concatenate([a, g.process(x[n // 2:])])
    step = _splatter(out[0, "linear"], fs, f0)
    for shape in ("linear", "exponential"):
        ramped = _splatter(out[960, shape], fs, f0)
        assert ramped < step / 100, (shape, ramped, step)
    # the ramp is the one asked for: g[n] per sample, then the target
    k = np.arange(1, 961)
    lin = np.concatenate([np.ones(n // 2), 1 + (0.1 - 1) * k / 960, np.full(n // 2 - 960, 0.1)])
    expo = np.concatenate([np.ones(n // 2), 0.1 ** (k / 960), np.full(n // 2 - 960, 0.1)])
    assert_close_to_peak(out[960, "linear"], lin * x, 1e-12)
    assert_close_to_peak(out[960, "exponential"], expo * x, 1e-12)


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(0, 700), min_size=1, max_size=12), f32=st.booleans())
def test_ramp_is_the_same_over_any_chunking(cuts, f32):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2000, 2)).astype(np.float32 if f32 else np.float64)
    ref = sd.Gain(0.5)
    ref.set(2.0, ramp=1500)
    want = ref.process(x)
    g = sd.Gain(0.5)
    g.set(2.0, ramp=1500)
    parts, i = [], 0
    for c in cuts + [0, 1]:
        parts.append(g.process(x[i:i + c]))
        i += len(parts[-1])
    parts.append(g.process(x[i:]))
    assert_close_to_peak(np.concatenate(parts), want, 1e-6 if f32 else 1e-14)
    assert g.gain == 2.0


def test_reset_lands_the_ramp_and_bad_requests_change_nothing():
    g = sd.Gain(1.0)
    g.set(4.0, ramp=100)
    g.process(np.ones(10))
    g.reset()
    np.testing.assert_array_equal(g.process(np.ones(3)), [4.0, 4.0, 4.0])
    with pytest.raises(ValueError, match="Gain: expected an exponential ramp"):
        g.set(-1.0, ramp=10, shape="exponential")
    with pytest.raises(ValueError, match="Gain: expected shape"):
        g.set(1.0, ramp=10, shape="cubic")
    with pytest.raises(ValueError, match="Gain"):
        g.set(float("nan"))
    with pytest.raises(ValueError, match="Gain"):
        g.set(1.0, ramp=-1)
    assert g.gain == 4.0
    np.testing.assert_array_equal(g.process(np.ones(2)), [4.0, 4.0])


def test_set_from_another_thread_while_the_stream_runs():
    # a control thread sets gains while this one streams: every output frame's
    # gain is one of the values on a ramp between requested gains, never torn
    g = sd.Gain(1.0)
    stop = threading.Event()

    def control():
        v = 1.0
        while not stop.is_set():
            v = 2.0 if v == 1.0 else 1.0
            g.set(v, ramp=64)

    t = threading.Thread(target=control)
    t.start()
    try:
        ys = [g.process(np.ones(256)) for _ in range(400)]
    finally:
        stop.set()
        t.join()
    y = np.concatenate(ys)
    assert np.all((y >= 1.0 - 1e-12) & (y <= 2.0 + 1e-12))
    # per sample the gain moves by at most one ramp step
    assert np.max(np.abs(np.diff(y))) <= 1.0 / 64 + 1e-12



def _ramping_gain(shape):
    g = sd.Gain(0.5)
    g.set(2.0, ramp=600, shape=shape)
    return g


@pytest.mark.parametrize("shape", ["linear", "exponential"])
@pytest.mark.parametrize("split", [0, 1, 300])
def test_a_gain_pickled_before_or_during_a_ramp_finishes_it_exactly(shape, split):
    import pickle
    x = np.random.default_rng(3).standard_normal((900, 2))
    want = _ramping_gain(shape).process(x)
    g = _ramping_gain(shape)
    head = g.process(x[:split])
    g = pickle.loads(pickle.dumps(g, protocol=5))    # split 0: the set() not yet taken travels
    np.testing.assert_array_equal(np.concatenate([head, g.process(x[split:])]), want)
