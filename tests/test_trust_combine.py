"""Issue 9, items 2, 6, 7 (combiners) and 8 (Correlator / DelayEstimator under NaN/Inf).

Combiners: no fixed cap on the number of inputs, one validation path for
every input of a call, and no frame dropped silently.  Correlator and
DelayEstimator: a non-finite sample spoils only the windows that hold it.
"""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import streamdsp as sd
from _support import run_python_code

COMBINERS = {
    "Add": (lambda n: sd.Add(), lambda xs: sum(xs[1:], xs[0])),
    "Multiply": (lambda n: sd.Multiply(), lambda xs: np.prod(np.stack(xs), axis=0)),
    "Mix": (lambda n: sd.Mix(np.linspace(0.5, 2.0, n)),
            lambda xs: sum(w * x for w, x in zip(np.linspace(0.5, 2.0, len(xs)), xs))),
    "Concatenate": (lambda n: sd.Concatenate(), lambda xs: np.concatenate(
        [x.reshape(len(x), -1) for x in xs], axis=1)),
}


# --- item 2: as many inputs as asked for --------------------------------------

MANY_INPUTS = """
import numpy as np, streamdsp as sd
y = (sd.Gain(1.0) >> sd.Add(65)).process(np.ones(8))
assert np.array_equal(y, np.full(8, 65.0)), y
y = (sd.Gain(1.0) >> sd.Concatenate(65)).process(np.arange(8.0))
assert y.shape == (8, 65) and np.array_equal(y, np.repeat(np.arange(8.0)[:, None], 65, 1)), y
y = sd.Concatenate(65).process(*[np.full(3, float(i)) for i in range(65)])
assert np.array_equal(y, np.tile(np.arange(65.0), (3, 1))), y
y = sd.Add(200).process(*[np.ones((4, 2))] * 200)
assert np.array_equal(y, np.full((4, 2), 200.0)), y
y = sd.Mix(np.arange(100.0)).process(*[np.ones(5)] * 100)
assert np.array_equal(y, np.full(5, 4950.0)), y
print("ok")
"""


def test_more_than_64_inputs_work():
    # in a child: the old fixed 64-entry arrays were overrun (memory corruption)
    r = run_python_code(MANY_INPUTS)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_graph_combiner_with_many_inputs():
    g = sd.Graph()
    src = g.input()
    outs = [g.add(sd.Gain(float(k)), src) for k in range(70)]
    g.output(g.add(sd.Add(), *outs))
    x = np.linspace(-1, 1, 300)
    np.testing.assert_allclose(g.process(x), x * sum(range(70)), rtol=1e-12)


# --- item 6: every input validated and converted alike ----------------------

@pytest.mark.parametrize("first, second", [(np.float32, np.float64), (np.float64, np.float32),
                                           (np.int16, np.float32), (np.float32, np.int32)])
def test_mixed_dtypes_follow_the_first_input(first, second):
    x0 = (np.arange(8) + 1).astype(first)
    x1 = np.full(8, 2, dtype=second)
    y = sd.Add().process(x0, x1)
    want = np.float32 if first == np.float32 else np.float64
    assert y.dtype == want
    np.testing.assert_array_equal(y, x0.astype(np.float64) + 2.0)


def test_later_calls_convert_to_the_stream_dtype():
    a = sd.Add()
    a.process(np.ones(4, np.float32), np.ones(4, np.float32))
    y = a.process(np.full(1000, 0.5), np.arange(1000, dtype=np.int64))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, np.arange(1000, dtype=np.float32) + np.float32(0.5))


@pytest.mark.parametrize("name", sorted(COMBINERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 3])
def test_combiners_match_numpy(name, dtype, channels):
    make, oracle = COMBINERS[name]
    rng = np.random.default_rng(1)
    shape = (500,) if channels == 1 else (500, channels)
    xs = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    y = make(3).process(*xs)
    want = oracle([x.astype(np.float64) for x in xs])
    assert y.dtype == dtype and y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-6)


def _state(b):
    return (b.prepared, b.dtype, b.n_inputs, b.input_channels)


@pytest.mark.parametrize("bad, match", [
    ("abc", "input 1: expected a numeric array"),
    (np.ones(4, complex), "input 1: complex samples"),
    (np.ones((4, 2, 2)), r"input 1: expected a chunk of shape"),
    (np.ones((4, 0)), "input 1: expected at least 1 channel"),
])
def test_a_bad_input_is_named_and_changes_nothing(bad, match):
    for warm in (False, True):
        a = sd.Add()
        if warm:
            a.process(np.ones(4), np.ones(4))
            a.process(np.ones(3), np.ones(1))     # two frames of input 0 held back
        before = _state(a)
        with pytest.raises((TypeError, ValueError), match=r"^Add: " + match):
            a.process(np.ones(4), bad)
        assert _state(a) == before
        if warm:
            # the two held frames are still there: 2 + 1 frames come out
            np.testing.assert_array_equal(a.process(np.zeros(1), np.full(3, 5.0)), [6.0, 6.0, 5.0])


def test_channel_mismatch_names_the_input_and_changes_nothing():
    a = sd.Add()
    a.process(np.ones((4, 2)), np.ones(4))
    with pytest.raises(ValueError, match=r"^Add: input 1 has 2 channels but this stream has 1"):
        a.process(np.ones((4, 2)), np.ones((4, 2)))
    np.testing.assert_array_equal(a.process(np.ones((2, 2)), np.full(2, 3.0)), np.full((2, 2), 4.0))


def test_a_wrong_out_on_the_first_call_changes_nothing():
    a = sd.Add()
    with pytest.raises(ValueError, match=r"^Add: expected out of shape \(4,\)"):
        a.process(np.ones(4), np.ones(4), out=np.empty(3))
    assert _state(a) == (False, None, None, None)
    y = a.process(np.ones((4, 2), np.float32), np.ones((4, 2), np.float32))
    assert y.dtype == np.float32 and y.shape == (4, 2)


def test_a_failed_setup_changes_nothing():
    for call in (lambda a: a.prepare(2**42, "float32"),
                 lambda a: a.process(np.zeros((0, 10**16)), np.zeros((0, 1)))):
        a = sd.Add()
        with pytest.raises(MemoryError, match=r"^Add: cannot allocate"):
            call(a)
        assert _state(a) == (False, None, None, None)
        np.testing.assert_array_equal(a.process(np.ones(3), np.ones(3), np.ones(3)), np.full(3, 3.0))


def test_out_overlapping_an_input():
    x0, x1 = np.arange(6.0), np.full(6, 10.0)
    want = x0 + x1
    y = sd.Add().process(x0, x1, out=x1)
    assert y is x1
    np.testing.assert_array_equal(y, want)


@st.composite
def _streams(draw):
    nin = draw(st.integers(1, 4))
    frames = draw(st.integers(0, 300))
    calls = draw(st.integers(1, 8))
    splits = []
    for _ in range(nin):
        # chunk sizes per input, including empty and single frames, unequal across inputs
        cuts = sorted(draw(st.lists(st.sampled_from([0, 1, *range(frames + 1)]),
                                    min_size=calls - 1, max_size=calls - 1)))
        splits.append(cuts)
    return nin, frames, splits, draw(st.sampled_from([1, 2])), draw(st.sampled_from(sorted(COMBINERS)))


@given(_streams(), st.sampled_from([np.float32, np.float64]))
def test_streaming_invariance_over_unequal_chunks(spec, dtype):
    nin, frames, splits, channels, name = spec
    make, oracle = COMBINERS[name]
    rng = np.random.default_rng(frames)
    xs = [rng.standard_normal((frames, channels)).astype(dtype) for _ in range(nin)]
    b = make(nin)
    parts = [np.split(x, cuts) for x, cuts in zip(xs, splits)]
    ys = [b.process(*(p[k] for p in parts)) for k in range(len(splits[0]) + 1)]
    want = oracle([x.astype(np.float64) for x in xs])
    y = np.concatenate(ys)          # 2-D inputs: every output is 2-D
    assert y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


# --- item 7: no frame dropped silently ---------------------------------------

def test_a_lead_beyond_the_carry_is_refused_before_anything_changes():
    m = sd.Add()
    x0, x1 = np.arange(5000.0), np.ones(5000)
    with pytest.raises(ValueError, match=r"^Add: expected input 0 to run at most 2048 frames ahead "
                                         r"of the slowest input, got 4990"):
        m.process(x0, x1[:10])
    assert _state(m) == (False, None, None, None)
    # the same signal in chunks within the limit: every frame comes out
    y = np.concatenate([m.process(x0[:2000], x1[:10]), m.process(x0[2000:], x1[10:])])
    np.testing.assert_array_equal(y, x0 + x1)


def test_a_lead_growing_over_calls_is_refused_and_state_kept():
    m = sd.Mix([1.0, -1.0])
    assert m.carry_capacity == 2048
    x0, x1 = np.arange(6000.0), np.arange(6000.0) * 3
    out = [m.process(x0[:1500], x1[:100])]           # 1400 held
    with pytest.raises(ValueError, match=r"^Mix: expected input 0 .* got 2800"):
        m.process(x0[1500:3000], x1[100:200])
    # nothing consumed by the refused call: continue where the stream was
    out.append(m.process(x0[1500:6000], x1[100:6000]))
    np.testing.assert_array_equal(np.concatenate(out), x0 - x1)


@given(st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 3000)), min_size=1, max_size=6))
def test_never_a_silent_drop(chunks):
    total = max(sum(a for a, _ in chunks), sum(b for _, b in chunks))
    x0 = np.arange(total, dtype=float)
    x1 = np.arange(total, dtype=float) * 7
    m = sd.Add()
    i0 = i1 = 0
    ys = []
    for a, b in chunks:
        before = _state(m)
        try:
            ys.append(m.process(x0[i0:i0 + a], x1[i1:i1 + b]))
        except ValueError as e:
            assert "frames ahead" in str(e)
            assert _state(m) == before
            continue
        i0 += len(x0[i0:i0 + a])
        i1 += len(x1[i1:i1 + b])
    y = np.concatenate(ys) if ys else np.zeros(0)
    n = min(i0, i1)
    # what came out is exactly the sum of every frame both inputs delivered
    np.testing.assert_array_equal(y, (x0 + x1)[:n])


# --- item 8: a NaN or Inf spoils only the windows that hold it -----------------

def _chirp(m):
    from scipy.signal import chirp
    t = np.arange(m)
    return chirp(t, 0.01, m, 0.3) * np.hanning(m)


def _pearson_oracle(x, tmpl):
    """pearsonr of every full window with the template (numpy, float64); 0 before."""
    m = len(tmpl)
    w = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), m)
    tc = tmpl - tmpl.mean()
    with np.errstate(invalid="ignore"):
        wc = w - w.mean(axis=1, keepdims=True)
        r = (wc @ tc) / np.sqrt((wc * wc).sum(axis=1) * (tc @ tc))
    return np.concatenate([np.zeros(m - 1), r])


def _windows_with_bad(x, m):
    bad = ~np.isfinite(x)
    hit = np.convolve(bad.astype(int), np.ones(m, int))[:len(x)] > 0
    return hit


def _splits(n, rng):
    cuts, pos = [], 0
    while pos < n:
        pos += int(rng.choice([0, 1, 7, 64, 300, 1000, 4096]))
        cuts.append(min(pos, n))
    return cuts


@pytest.mark.parametrize("method, m", [("direct", 100), ("fft", 100), ("partitioned", 200),
                                       ("auto", 100), ("auto", 300)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_correlator_recovers_after_nan(method, m, dtype):
    rng = np.random.default_rng(m)
    tmpl = _chirp(m)
    n = 40000
    x = 0.3 * rng.standard_normal((n, 2))
    x[0, 1] = np.nan                      # even the very first sample
    x[3000:3005, 0] = np.nan
    x[3100, 0] = np.inf
    x[16380, 1] = -np.inf                 # across the periodic recomputation of the sums
    x[9000:9000 + m, 0] += tmpl
    x[30000:30000 + m, 1] += 2 * tmpl
    x = x.astype(dtype)
    c = sd.Correlator(tmpl, normalize=True, threshold=0.6, method=method)
    y = np.concatenate([c.process(p) for p in np.split(x, _splits(n, rng))])
    tol = 2e-5 if dtype == np.float32 else 1e-9
    for ch in range(2):
        want = _pearson_oracle(x[:, ch], tmpl)
        bad = _windows_with_bad(x[:, ch], m)
        bad[:m - 1] = False               # no full window yet: 0, as documented
        assert np.all(np.isnan(y[bad, ch])), f"channel {ch}: a window holding NaN/Inf scored"
        np.testing.assert_allclose(y[~bad, ch], want[~bad], rtol=0, atol=tol,
                                   err_msg=f"channel {ch}, method {method}")
    events = sorted((e.channel, e.lag) for e in c.events())
    assert events == [(0, 9000), (1, 30000)]


@pytest.mark.parametrize("method", ["direct", "fft", "partitioned", "auto"])
def test_raw_correlator_spoils_only_the_windows_with_nan(method):
    from scipy.signal import correlate
    rng = np.random.default_rng(5)
    tmpl = _chirp(120)
    x = rng.standard_normal(20000)
    x[5000] = np.nan
    x[5003] = np.inf
    c = sd.Correlator(tmpl, method=method)
    y = np.concatenate([c.process(p) for p in np.array_split(x, 7)])
    bad = _windows_with_bad(x, len(tmpl))
    assert not np.any(np.isfinite(y[bad]))
    want = correlate(np.where(np.isfinite(x), x, 0.0), tmpl)[:len(x)]
    np.testing.assert_allclose(y[~bad], want[~bad], rtol=0, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_delay_estimator_reports_nan_for_windows_with_nan_then_recovers(dtype):
    rng = np.random.default_rng(0)
    s = rng.standard_normal(20000)
    x = np.stack([s[100:], s[93:-7]], axis=1)          # channel 1 is 7 samples late
    clean = x.copy()
    x[5000, 1] = np.nan
    x[9000, 0] = np.inf
    W, hop = 1024, 512
    est = sd.DelayEstimator(W, hop=hop, max_lag=64)
    got = np.concatenate([est.process(p) for p in np.array_split(x.astype(dtype), 5)])[:, 0]
    ref = sd.DelayEstimator(W, hop=hop, max_lag=64).process(clean.astype(dtype))[:, 0]
    starts = np.arange(len(got)) * hop
    holds = [np.any(~np.isfinite(x[k:k + W])) for k in starts]
    assert sum(holds) == 4
    for k, h in enumerate(holds):
        if h:
            assert np.isnan(got[k]), k
        else:
            # the same window as in the clean signal: the same estimate
            assert got[k] == ref[k], k
    assert np.allclose(got[~np.array(holds)], 7.0, atol=0.05)


# --- the thread guard covers the multi-input process() too ---------------------

@pytest.mark.parametrize("make", ["lambda: sd.Concatenate(1)", "lambda: sd.Mix([0.5])"])
def test_two_threads_on_a_combiner_are_refused_not_corrupting(make):
    # Combiner.process is its own entry point, not Block.process: it takes
    # the same guard.  The core tests' check, on combiners (one input per call).
    from test_trust_core import test_two_threads_get_stream_state_error_not_corruption as check
    check(make)
