"""Correlator: every engine against scipy.signal.correlate, the normalised score against a
direct Pearson reference (also over 10**7 samples with a large DC offset), detection events
against a reference of the crossing rule, errors, and the frequency response.

The shared contract (tests/test_contract.py) runs the cases in tests/_cases_correlator.py.
"""

import threading

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd
from _support import assert_close_to_peak, tolerance  # first: it loads every _cases_* module
from _cases_correlator import pearson_ref_1d

METHODS = ["auto", "direct", "fft", "partitioned"]


def _stream(block, x, sizes):
    out, i = [], 0
    for n in sizes:
        out.append(block.process(x[i:i + n]))
        i += n
    out.append(block.process(x[i:]))
    out.append(block.flush())
    return np.concatenate(out)


def _random_sizes(rng, total, choices):
    sizes, done = [], 0
    while done < total:
        n = int(rng.choice(choices))
        sizes.append(n)
        done += n
    return sizes


def reference_events(score, threshold, m, channel=0, close_at_end=True):
    """The documented rule, written plainly: one event per run of score >= threshold,
    at its first maximum, reported when the run ends (or at the end of the stream)."""
    events, start = [], None
    for t, s in enumerate(score):
        if s >= threshold:
            if start is None:
                start, best, best_t = t, s, t
            elif s > best:
                best, best_t = s, t
        elif start is not None:
            events.append((best_t, best_t - (m - 1), best, channel))
            start = None
    if start is not None and close_at_end:
        events.append((best_t, best_t - (m - 1), best, channel))
    return events


# ----------------------------------------------------------------------------
# raw correlation

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("m", [1, 7, 64, 1024, 3000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_correlator_equals_scipy_correlate_full_head(method, m, dtype):
    rng = np.random.default_rng(m)
    template = rng.standard_normal(m)
    x = rng.standard_normal(20000)
    sizes = [0, 1, 5, 4096, 1, 17, 9000, 3, 2]
    y = _stream(sd.Correlator(template, method=method), x.astype(dtype), sizes)
    assert y.dtype == dtype and y.shape == x.shape
    ref = signal.correlate(x.astype(dtype).astype(np.float64), template, mode="full")[:len(x)]
    assert_close_to_peak(y, ref, tolerance(dtype, fft=True), f"{method} m={m}")


@pytest.mark.parametrize("method", METHODS)
def test_correlator_two_d_template_gives_each_channel_its_own(method):
    rng = np.random.default_rng(3)
    template = rng.standard_normal((500, 3))
    x = rng.standard_normal((6000, 3))
    c = sd.Correlator(template, method=method)
    assert c.channels == 3
    y = _stream(c, x, [1000, 1, 2500])
    ref = np.stack([signal.correlate(x[:, k], template[:, k])[:6000] for k in range(3)], axis=1)
    assert_close_to_peak(y, ref, 1e-11)


def test_correlator_one_d_template_on_every_channel():
    rng = np.random.default_rng(4)
    template = rng.standard_normal(40)
    x = rng.standard_normal((3000, 2))
    y = sd.Correlator(template).process(x)
    ref = np.stack([signal.correlate(x[:, k], template)[:3000] for k in range(2)], axis=1)
    assert_close_to_peak(y, ref, 1e-11)


def test_correlator_peak_is_at_the_last_sample_of_the_occurrence():
    template = np.random.default_rng(5).standard_normal(100)
    x = np.zeros(1000)
    x[400:500] = template
    y = sd.Correlator(template).process(x)
    assert int(np.argmax(y)) == 499
    np.testing.assert_allclose(y[499], np.dot(template, template))


def test_correlator_auto_switches_engine_with_the_chunk_size_and_stays_exact():
    rng = np.random.default_rng(6)
    template = rng.standard_normal(2048)
    x = rng.standard_normal(120000).astype(np.float32)
    c = sd.Correlator(template)
    assert c.method == "auto"
    engines, out, i = [], [], 0
    # small blocks (live audio) then big chunks (files), then small again
    for n in [64] * 300 + [16384] * 5 + [32] * 400:
        out.append(c.process(x[i:i + n]))
        engines.append(c.engine)
        i += n
    out.append(c.process(x[i:]))
    y = np.concatenate(out)
    assert engines[299] == "partitioned"
    assert "chunk" in engines[300:305]
    assert engines[-1] == "partitioned"
    ref = signal.correlate(x.astype(np.float64), template)[:len(x)]
    assert_close_to_peak(y, ref, 1e-5)


def test_correlator_short_template_auto_never_uses_the_partitioned_engine():
    c = sd.Correlator(np.ones(50))
    for n in (1, 64, 4096):
        c.process(np.ones(n))
        assert c.engine == "chunk"


def test_correlator_long_template_auto_is_partitioned():
    c = sd.Correlator(np.ones(70000))
    assert c.method == "partitioned" and c.engine == "partitioned" and c.block_size == 256


def test_correlator_block_size_selects_the_partitioned_engine():
    c = sd.Correlator(np.arange(1.0, 600.0), block_size=64)
    assert c.method == "partitioned" and c.block_size == 64 and c.latency == 0


def test_correlator_later_chunks_are_converted_within_fft_rounding():
    # the chunk engine cuts chunks into transforms of their own size, so two
    # splits agree to FFT rounding (API.md's 1e-5 of the peak), not bitwise
    x = np.random.default_rng(7).standard_normal(2000).astype(np.float32)
    template = np.random.default_rng(8).standard_normal(300)
    b = sd.Correlator(template, method="fft")
    y = np.concatenate([b.process(x[:1000]), b.process(x[1000:].astype(np.float64))])
    assert y.dtype == np.float32
    assert_close_to_peak(y, sd.Correlator(template, method="fft").process(x), 1e-5)


def test_correlator_nan_in_the_input_does_not_poison_later_windows():
    template = np.random.default_rng(9).standard_normal(32)
    x = np.random.default_rng(10).standard_normal(5000)
    x[100] = np.nan
    for method in ("fft", "direct"):
        y = _stream(sd.Correlator(template, method=method), x, [50, 2000, 1, 1000])
        assert np.all(np.isfinite(y[2200:])), method
        ref = signal.correlate(x[1000:], template)[:4000]
        assert_close_to_peak(y[1000 + 200:], ref[200:], 1e-11)


def test_correlator_prepare_then_stream():
    template = np.random.default_rng(11).standard_normal(400)
    c = sd.Correlator(template).prepare(2, "float32")
    assert c.prepared and c.channels == 2
    x = np.random.default_rng(12).standard_normal((1000, 2)).astype(np.float32)
    ref = np.stack([signal.correlate(x[:, k].astype(np.float64), template)[:1000] for k in range(2)], 1)
    assert_close_to_peak(c.process(x), ref, 1e-5)


# ----------------------------------------------------------------------------
# normalised

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 5e-5)])
def test_correlator_normalized_equals_direct_pearson(method, dtype, tol):
    rng = np.random.default_rng(13)
    template = rng.standard_normal(300)
    x = 3.0 + rng.standard_normal(12000)
    x[5000:5300] = 0.2 * template - 1.0        # a scaled, shifted copy: r = 1
    x = x.astype(dtype)
    y = _stream(sd.Correlator(template, normalize=True, method=method), x, [1, 299, 4096, 7, 2000])
    ref = pearson_ref_1d(x.astype(np.float64), template)
    assert np.max(np.abs(y - ref)) <= tol
    assert y[5299] == pytest.approx(1.0, abs=tol)
    assert np.all(np.abs(y) <= 1.0)


@pytest.mark.parametrize("method", METHODS)
def test_correlator_normalized_is_zero_before_the_first_window_and_on_constant_windows(method):
    rng = np.random.default_rng(14)
    m = 50
    template = rng.standard_normal(m)
    x = rng.standard_normal(3000)
    x[1000:1200] = 7.25                          # constant for 200 samples
    y = _stream(sd.Correlator(template, normalize=True, method=method), x, [10, 10, 1500])
    assert np.all(y[:m - 1] == 0)
    assert np.all(y[1000 + m - 1:1200] == 0), "every window inside the constant stretch"
    assert np.all(y[1200:1200 + m - 1] != 0)
    np.testing.assert_allclose(y, pearson_ref_1d(x, template), atol=1e-10)


def test_correlator_normalized_silence_is_zero():
    y = sd.Correlator(np.arange(5.0), normalize=True).process(np.zeros(100, dtype=np.float32))
    assert np.all(y == 0)


def test_correlator_normalized_two_d_template():
    rng = np.random.default_rng(15)
    template = rng.standard_normal((80, 2))
    x = rng.standard_normal((4000, 2)) + [10.0, -3.0]
    y = _stream(sd.Correlator(template, normalize=True), x, [100, 1, 3000])
    ref = np.stack([pearson_ref_1d(x[:, k], template[:, k]) for k in range(2)], axis=1)
    np.testing.assert_allclose(y, ref, atol=1e-10)


@pytest.mark.parametrize("method", ["auto", "partitioned"])
@pytest.mark.parametrize("dtype,offset,drift,tol", [
    (np.float64, 1e6, 0.0, 1e-9),       # a large DC offset
    (np.float32, 1e4, 0.0, 2e-5),
    (np.float64, 0.0, 1e-3, 1e-9),      # a baseline drifting to 1e4 over the stream
    (np.float32, 0.0, 1e-4, 5e-5),      # ... to 1e3 in float32
], ids=["f64-dc", "f32-dc", "f64-drift", "f32-drift"])
def test_correlator_normalized_stays_exact_over_ten_million_samples(method, dtype, offset, drift, tol):
    """Running sums drift; the block keeps them compensated, recomputes them and
    follows the offset: after 10**7 samples the last windows still match a direct
    computation."""
    n, chunk, m = 10 ** 7, 8192, 256
    rng = np.random.default_rng(16)
    template = rng.standard_normal(m)
    c = sd.Correlator(template, normalize=True, method=method)
    keep = 6 * chunk                          # > the recomputation period (4m, >= 16384)
    tail_x, tail_y = [], []
    for k in range(0, n, chunk):
        t = np.arange(k, k + chunk)
        x = (offset + drift * t + rng.standard_normal(chunk)).astype(dtype)
        y = c.process(x)
        if k >= n - keep:
            tail_x.append(x)
            tail_y.append(y)
    x = np.concatenate(tail_x).astype(np.float64)
    y = np.concatenate(tail_y)
    ref = pearson_ref_1d(x, template)
    err = np.max(np.abs(y[m - 1:] - ref[m - 1:]))
    assert err <= tol, f"max error {err:.3g} after {n} samples"


def test_correlator_normalized_constant_template_is_refused():
    with pytest.raises(ValueError, match="not constant"):
        sd.Correlator(np.ones(10), normalize=True)
    with pytest.raises(ValueError, match="column 1"):
        sd.Correlator(np.stack([np.arange(5.0), np.full(5, 2.0)], 1), normalize=True)


# ----------------------------------------------------------------------------
# detection

def _chirp_scene(rng, n=40000, m=400, starts=(3000, 11000, 25000, 33000), noise=0.7):
    t = np.arange(m) / m
    template = signal.chirp(t, 0.02 * m, 1.0, 0.3 * m) * np.hanning(m)
    x = noise * rng.standard_normal(n)
    for s in starts:
        x[s:s + m] += template
    return template, x, starts


@pytest.mark.parametrize("method", METHODS)
def test_correlator_events_find_the_buried_templates(method):
    rng = np.random.default_rng(17)
    template, x, starts = _chirp_scene(rng)
    c = sd.Correlator(template, normalize=True, threshold=0.4, method=method)
    sizes = _random_sizes(rng, len(x), [1, 64, 256, 1000, 7000])
    y = _stream(c, x, sizes)
    ev = c.events()
    assert [e.lag for e in ev] == list(starts)
    assert all(e.channel == 0 and e.index == e.lag + len(template) - 1 for e in ev)
    assert all(e.score == pytest.approx(y[e.index], abs=0) for e in ev)
    assert c.events() == [], "events() clears the queue"


@pytest.mark.parametrize("normalize,threshold", [(False, 8.0), (True, 0.15)])
def test_correlator_events_follow_the_crossing_rule(normalize, threshold):
    rng = np.random.default_rng(18)
    template = rng.standard_normal(30)
    x = rng.standard_normal(20000)
    c = sd.Correlator(template, normalize=normalize, threshold=threshold)
    y = _stream(c, x, _random_sizes(rng, len(x), [1, 2, 33, 500]))
    got = [tuple(e) for e in c.events()]
    want = reference_events(y, threshold, len(template))
    assert len(want) > 20
    assert got == want


def merge_within(events, distance):
    """The documented `distance` rule, written plainly: chained, the higher score stays."""
    kept = []
    for e in events:
        if kept and e[0] - kept[-1][0] < distance:
            if e[2] > kept[-1][2]:
                kept[-1] = e
        else:
            kept.append(e)
    return kept


@pytest.mark.parametrize("distance", [1, 5, 40, 300])
def test_correlator_distance_merges_close_detections(distance):
    rng = np.random.default_rng(23)
    template = rng.standard_normal(30)
    x = rng.standard_normal(20000)
    c = sd.Correlator(template, threshold=7.0, distance=distance)
    assert c.distance == distance
    y = _stream(c, x, _random_sizes(rng, len(x), [1, 2, 33, 500]))
    got = [tuple(e) for e in c.events()]
    plain = reference_events(y, 7.0, len(template))
    want = merge_within(plain, distance)
    assert got == want
    if distance >= 40:
        assert len(want) < len(plain), "the test exercises merging"


def test_correlator_distance_gives_one_event_per_band_pass_occurrence():
    # a band-pass template's correlation oscillates: its side peaks cross a low threshold too
    rng = np.random.default_rng(24)
    m = 400
    template = signal.chirp(np.arange(m), 0.02, m, 0.19) * np.hanning(m)
    x = 0.3 * rng.standard_normal(30000)
    starts = [2000, 9000, 21000]
    for s0 in starts:
        x[s0:s0 + m] += template
    plain = sd.Correlator(template, normalize=True, threshold=0.2)
    merged = sd.Correlator(template, normalize=True, threshold=0.2, distance=m)
    plain.process(x)
    merged.process(x)
    assert len(plain.events()) > len(starts)
    assert [e.lag for e in merged.events()] == starts


def test_correlator_distance_event_is_held_until_flush():
    c = sd.Correlator([1.0], threshold=0.5, distance=100)
    c.process(np.r_[np.zeros(10), 1.0, np.zeros(10)])
    assert c.events() == [], "a stronger peak may still come within 100 samples"
    c.process(np.zeros(100))
    assert [e.index for e in c.events()] == [10]
    c.process(np.r_[1.0, np.zeros(5), 2.0])
    c.flush()
    assert [(e.index, e.score) for e in c.events()] == [(127, 2.0)]


def test_correlator_events_per_channel_and_ordered_by_time_within_a_channel():
    rng = np.random.default_rng(19)
    template, x0, starts0 = _chirp_scene(rng, starts=(2000, 9000))
    _, x1, starts1 = _chirp_scene(rng, starts=(5000, 15000, 30000))
    c = sd.Correlator(template, normalize=True, threshold=0.4)
    _stream(c, np.stack([x0, x1], axis=1), [4096] * 9)
    ev = c.events()
    assert [e.lag for e in ev if e.channel == 0] == list(starts0)
    assert [e.lag for e in ev if e.channel == 1] == list(starts1)


def test_correlator_flush_reports_an_excursion_still_open_and_reset_forgets_one():
    template = np.array([1.0, 2.0, 3.0])
    x = np.r_[np.zeros(10), template, template]     # ends above the threshold
    c = sd.Correlator(template, threshold=10.0)
    c.process(x)
    assert c.events() == []
    c.flush()
    ev = c.events()
    # scores from index 12 on: 14, 11, 11, 14 -- one excursion, its first maximum
    assert len(ev) == 1 and ev[0].index == 12 and ev[0].score == pytest.approx(14.0)
    c.process(x)
    c.reset()
    c.flush()
    assert c.events() == [], "reset() forgot the open excursion"


def test_correlator_reset_keeps_queued_events_and_restarts_the_index():
    template = np.array([1.0, -1.0, 2.0])
    x = np.r_[np.zeros(5), template, np.zeros(5)]
    c = sd.Correlator(template, threshold=5.0)
    c.process(x)
    c.reset()
    c.process(x)
    assert [e.index for e in c.events()] == [7, 7]


def test_correlator_event_queue_drops_and_counts_when_full():
    x = np.tile([1.0, 0.0], 5000)                   # 5000 excursions
    c = sd.Correlator([1.0], threshold=0.5)
    c.process(x)
    ev = c.events()
    assert len(ev) == 4096 and c.dropped_events == 5000 - 4096
    assert [e.index for e in ev] == list(range(0, 8192, 2))
    c.process(x)
    assert len(c.events()) == 4096 and c.dropped_events == 2 * (5000 - 4096)


def test_correlator_events_can_be_drained_from_another_thread():
    x = np.tile([1.0, 0.0, 0.0, 0.0], 50000)
    c = sd.Correlator([1.0], threshold=0.5)
    got, done = [], threading.Event()

    def drain():
        while not done.is_set():
            got.extend(c.events())
    th = threading.Thread(target=drain)
    th.start()
    for part in np.array_split(x, 400):
        c.process(part)
    done.set()
    th.join()
    got.extend(c.events())
    assert len(got) + c.dropped_events == 50000, "every excursion is either delivered or counted"
    idx = [e.index for e in got]
    assert idx == sorted(idx) and len(set(idx)) == len(idx)
    assert set(idx) <= set(range(0, len(x), 4))


def test_correlator_without_threshold_has_no_events():
    c = sd.Correlator([1.0, 2.0])
    c.process(np.ones(100))
    assert c.events() == [] and c.dropped_events == 0 and c.threshold is None


def test_correlator_event_is_a_namedtuple():
    c = sd.Correlator([1.0, 1.0], threshold=1.5)
    c.process(np.r_[0.0, 1.0, 1.0, 0.0, 0.0])
    (e,) = c.events()
    assert isinstance(e, sd.Correlator.Event)
    assert e._fields == ("index", "lag", "score", "channel")
    assert (e.index, e.lag, e.score, e.channel) == (2, 1, 2.0, 0)


# ----------------------------------------------------------------------------
# frequency response, repr, errors

def test_correlator_frequency_response_is_freqz_of_the_reversed_template():
    template = np.random.default_rng(21).standard_normal(33)
    w, h = sd.Correlator(template).frequency_response(256)
    w_ref, h_ref = signal.freqz(template[::-1], 1.0, worN=256)
    np.testing.assert_allclose(w, w_ref)
    np.testing.assert_allclose(h, h_ref, atol=1e-12)
    f, h = sd.Correlator(template, normalize=True).frequency_response(100, fs=8000.0, whole=True)
    f_ref, h_ref = signal.freqz(template[::-1], 1.0, worN=100, fs=8000.0, whole=True)
    np.testing.assert_allclose(f, f_ref)
    np.testing.assert_allclose(h, h_ref, atol=1e-12)


def test_correlator_frequency_response_two_d_template_has_a_column_per_channel():
    template = np.random.default_rng(22).standard_normal((20, 2))
    _, h = sd.Correlator(template).frequency_response(64)
    for k in range(2):
        np.testing.assert_allclose(h[:, k], signal.freqz(template[::-1, k], 1.0, worN=64)[1], atol=1e-12)


def test_correlator_repr_names_method_and_options():
    r = repr(sd.Correlator(np.arange(1.0, 9.0), normalize=True, threshold=0.5, method="direct"))
    assert "Correlator" in r and "ntaps=8" in r and "method='direct'" in r
    assert "normalize=True" in r and "threshold=0.5" in r and "latency=0" in r


@pytest.mark.parametrize("kwargs,exc,words", [
    (dict(template=[]), ValueError, "at least one coefficient"),
    (dict(template=np.ones((3, 2, 2))), ValueError, "shape"),
    (dict(template=[1 + 1j, 2]), TypeError, "complex"),
    (dict(template=[1.0, np.nan]), ValueError, "finite"),
    (dict(template="abc"), TypeError, "template"),
    (dict(template=[1.0, 2.0], method="fast"), ValueError, "method"),
    (dict(template=[1.0, 2.0], block_size=100), ValueError, "power of two"),
    (dict(template=[1.0, 2.0], block_size=4), ValueError, "block_size >= 8"),
    (dict(template=[1.0, 2.0], block_size=64, method="direct"), ValueError, "method='partitioned'"),
    (dict(template=[1.0, 2.0], normalize="yes"), TypeError, "normalize"),
    (dict(template=[1.0, 2.0], threshold=np.inf), ValueError, "threshold"),
    (dict(template=[1.0, 2.0], threshold="high"), TypeError, "threshold"),
    (dict(template=[1.0, 2.0], distance=10), ValueError, "give a threshold"),
    (dict(template=[1.0, 2.0], threshold=1.0, distance=0), ValueError, "distance >= 1"),
], ids=lambda v: str(v)[:40])
def test_correlator_bad_arguments_are_refused_clearly(kwargs, exc, words):
    with pytest.raises(exc) as info:
        sd.Correlator(**kwargs)
    assert words in str(info.value) and "Correlator" in str(info.value)


def test_correlator_two_d_template_fixes_the_channel_count():
    c = sd.Correlator(np.ones((4, 2)) * [[1.0], [2.0], [3.0], [4.0]])
    with pytest.raises(ValueError, match="2 channels"):
        c.process(np.zeros((10, 3)))
