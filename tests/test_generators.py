"""Generators (Sine, Chirp, Noise) against numpy/scipy, across chunkings."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd


def collect(gen):
    return np.concatenate(list(gen))


def take(gen, frames):
    """The first `frames` frames of an (endless) generator."""
    out, have = [], 0
    for chunk in gen:
        out.append(chunk)
        have += len(chunk)
        if have >= frames:
            break
    return np.concatenate(out)[:frames]


def exact_sine(frequency, samplerate, n, phase=0.0):
    """sin(2 pi f n / fs + phase), the whole cycles dropped exactly (Fractions), in float64."""
    r = Fraction(frequency) / Fraction(samplerate)
    out = []
    for k in n:
        frac = (r * int(k)) % 1
        out.append(np.sin(2 * np.pi * float(frac) + phase))
    return np.array(out)


# ---------------------------------------------------------------- Sine
@pytest.mark.parametrize("chunk_size", [1, 7, 1024, 10000])
def test_sine_equals_numpy_formula_whatever_the_chunk_size(chunk_size):
    fs, f, n = 48000, 997.0, 9000
    y = collect(sd.Sine(f, fs, duration=n / fs, amplitude=0.5, phase=0.3, chunk_size=chunk_size, dtype="float64"))
    t = np.arange(n)
    ref = 0.5 * np.sin(2 * np.pi * f * t / fs + 0.3)
    assert y.shape == (n,)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12)


def test_sine_is_accurate_at_sample_one_billion():
    fs, f = 48000.0, 440.123456789
    start = 10 ** 9
    y = collect(sd.Sine(f, fs, duration=4096 / fs, start=start, chunk_size=1000, dtype="float64"))
    ref = exact_sine(f, fs, np.arange(start, start + 4096))
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-11)


def test_sine_is_phase_continuous_across_chunks_over_a_long_stream():
    fs, f = 44100.0, 1234.5
    gen = sd.Sine(f, fs, chunk_size=4093, dtype="float64")
    it = iter(gen)
    for _ in range(250):          # ~ 10**6 samples
        last = next(it)
    n0 = 249 * 4093
    ref = exact_sine(f, fs, np.arange(n0, n0 + 4093)[::97])
    np.testing.assert_allclose(last[::97], ref, rtol=0, atol=1e-11)


def test_sine_start_resumes_the_same_stream():
    a = collect(sd.Sine(100.0, 1000, duration=1.0, dtype="float64"))
    b = collect(sd.Sine(100.0, 1000, duration=0.5, start=500, dtype="float64"))
    np.testing.assert_allclose(b, a[500:], rtol=0, atol=1e-13)


def test_sine_per_channel_frequencies_and_layout():
    fs = 8000
    g = sd.Sine([100.0, 250.0, 1000.0], fs, duration=0.1, amplitude=[1.0, 0.5, 0.25], chunk_size=300)
    assert g.channels == 3 and g.frames == 800
    y = collect(g)
    assert y.shape == (800, 3) and y.dtype == np.float32
    t = np.arange(800) / fs
    ref = np.stack([1.0 * np.sin(2 * np.pi * 100 * t), 0.5 * np.sin(2 * np.pi * 250 * t),
                    0.25 * np.sin(2 * np.pi * 1000 * t)], 1)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-6)


def test_sine_same_wave_on_every_channel():
    y = collect(sd.Sine(50.0, 1000, duration=0.05, channels=4, dtype="float64"))
    assert y.shape == (50, 4)
    np.testing.assert_allclose(y, np.repeat(y[:, :1], 4, axis=1), rtol=0, atol=0)


def test_sine_mono_yields_1d_chunks_float32_by_default():
    chunks = list(sd.Sine(10.0, 100, duration=0.25, chunk_size=10))
    assert [c.shape for c in chunks] == [(10,), (10,), (5,)]
    assert all(c.dtype == np.float32 for c in chunks)


def test_generator_iterates_again_from_the_start():
    g = sd.Sine(10.0, 100, duration=0.3, chunk_size=7)
    np.testing.assert_array_equal(collect(g), collect(g))


def test_endless_generator_has_no_length_and_keeps_going():
    g = sd.Sine(10.0, 100, chunk_size=64)
    assert g.frames is None and g.duration is None
    chunks = list(itertools.islice(iter(g), 2000))
    assert len(chunks) == 2000 and all(len(c) == 64 for c in chunks)


def test_zero_duration_yields_nothing():
    assert list(sd.Sine(10.0, 100, duration=0.0)) == []


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(frequency=10.0, samplerate=0), ValueError, "samplerate > 0"),
    (dict(frequency=10.0, samplerate=100, duration=-1), ValueError, "duration >= 0"),
    (dict(frequency="a", samplerate=100), TypeError, "frequency"),
    (dict(frequency=float("nan"), samplerate=100), ValueError, "frequency to be finite"),
    (dict(frequency=[1.0, 2.0], samplerate=100, channels=3), ValueError, "length 3"),
    (dict(frequency=[1.0, 2.0], samplerate=100, amplitude=[1.0, 2.0, 3.0]), ValueError, "different lengths"),
    (dict(frequency=10.0, samplerate=100, chunk_size=0), ValueError, "chunk_size >= 1"),
    (dict(frequency=10.0, samplerate=100, dtype="int16"), ValueError, "dtype"),
    (dict(frequency=10.0, samplerate=100, start=-1), ValueError, "start >= 0"),
])
def test_sine_bad_arguments_are_clear_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sd.Sine(**kwargs)


# ---------------------------------------------------------------- Chirp
@pytest.mark.parametrize("method", ["linear", "quadratic", "logarithmic", "hyperbolic"])
@pytest.mark.parametrize("chunk_size", [1, 333, 100000])
def test_chirp_matches_scipy_sample_for_sample(method, chunk_size):
    fs, T = 8000, 1.5
    y = collect(sd.Chirp(50.0, 3000.0, T, fs, method=method, phase=0.7, chunk_size=chunk_size, dtype="float64"))
    t = np.arange(round(T * fs)) / fs
    ref = signal.chirp(t, 50.0, T, 3000.0, method=method, phi=np.degrees(0.7))
    assert y.shape == ref.shape
    np.testing.assert_array_equal(y, ref)


def test_chirp_float32_stereo_and_amplitude():
    fs, T = 16000, 0.5
    y = collect(sd.Chirp(20.0, 8000.0, T, fs, method="logarithmic", amplitude=0.25, channels=2))
    t = np.arange(round(T * fs)) / fs
    ref = 0.25 * signal.chirp(t, 20.0, T, 8000.0, method="logarithmic")
    assert y.shape == (len(t), 2) and y.dtype == np.float32
    np.testing.assert_allclose(y, np.stack([ref, ref], 1), rtol=0, atol=1e-7)


def test_chirp_start_is_the_tail_of_the_full_sweep():
    a = collect(sd.Chirp(10.0, 400.0, 1.0, 1000, dtype="float64"))
    b = collect(sd.Chirp(10.0, 400.0, 1.0, 1000, start=600, dtype="float64"))
    # the sweep still reaches f1 at t = duration; start shifts the window
    np.testing.assert_array_equal(b[:400], a[600:])


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(f0=10.0, f1=100.0, duration=None, samplerate=1000), TypeError, "duration"),
    (dict(f0=10.0, f1=100.0, duration=0.0, samplerate=1000), ValueError, "duration > 0"),
    (dict(f0=10.0, f1=100.0, duration=1.0, samplerate=1000, method="cubic"), ValueError, "method in"),
    (dict(f0=0.0, f1=100.0, duration=1.0, samplerate=1000, method="logarithmic"), ValueError, "nonzero"),
    (dict(f0=-10.0, f1=100.0, duration=1.0, samplerate=1000, method="logarithmic"), ValueError, "same sign"),
])
def test_chirp_bad_arguments_are_clear_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sd.Chirp(**kwargs)


# ---------------------------------------------------------------- Noise
@pytest.mark.parametrize("channels", [1, 3])
def test_white_noise_is_numpy_default_rng(channels):
    n = 10000
    y = collect(sd.Noise(48000, duration=n / 48000, seed=42, amplitude=0.3, channels=channels,
                         chunk_size=777, dtype="float64"))
    ref = np.random.default_rng(42).standard_normal((n, channels)) * 0.3
    np.testing.assert_array_equal(y, ref[:, 0] if channels == 1 else ref)


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_noise_same_seed_same_samples_whatever_the_chunk_size(color, dtype):
    n = 20000
    runs = [collect(sd.Noise(1000, duration=n / 1000, seed=123, color=color, channels=2, chunk_size=cs, dtype=dtype))
            for cs in (1, 13, 4096, 4097, 50000)]
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])
    assert runs[0].dtype == dtype and runs[0].shape == (n, 2)


def test_noise_endless_takes_the_same_samples_as_finite():
    a = take(sd.Noise(100, seed=5, color="pink", chunk_size=300), 5000)
    b = collect(sd.Noise(100, duration=50.0, seed=5, color="pink", chunk_size=1000))
    np.testing.assert_array_equal(a, b)


def test_noise_different_seeds_differ_and_none_is_reproducible_per_object():
    a = collect(sd.Noise(100, duration=1.0, seed=1))
    b = collect(sd.Noise(100, duration=1.0, seed=2))
    assert not np.array_equal(a, b)
    g = sd.Noise(100, duration=1.0)
    assert g.seed is not None
    np.testing.assert_array_equal(collect(g), collect(g))
    np.testing.assert_array_equal(collect(g), collect(sd.Noise(100, duration=1.0, seed=g.seed)))


@pytest.mark.parametrize("color", ["pink", "brown"])
def test_colored_noise_is_its_documented_filter_of_white_noise(color):
    n, pre = 6000, 16384
    g = sd.Noise(1000, duration=n / 1000, seed=9, color=color, amplitude=2.0, channels=2, dtype="float64")
    y = collect(g)
    b, a = g.filter
    w = np.random.default_rng(9).standard_normal((pre + n, 2))
    h = signal.lfilter(b, a, np.r_[1.0, np.zeros(1 << 18)])
    ref = 2.0 / np.sqrt(np.sum(h ** 2)) * signal.lfilter(b, a, w, axis=0)[pre:]
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("color,slope", [("white", 0.0), ("pink", -3.0), ("brown", -6.0)])
def test_noise_spectrum_has_the_slope_of_its_color_and_rms_amplitude(color, slope):
    fs = 48000
    y = collect(sd.Noise(fs, duration=20.0, seed=3, color=color, amplitude=0.5, dtype="float64"))
    assert abs(np.std(y) - 0.5) < 0.05 * 0.5
    f, p = signal.welch(y, fs, nperseg=8192)
    # power per octave step between 300 Hz and 6 kHz (inside every filter's fitted band)
    octaves = [300 * 2 ** k for k in range(5)]
    levels = [10 * np.log10(np.mean(p[(f >= lo / 1.2) & (f <= lo * 1.2)])) for lo in octaves]
    measured = np.polyfit(np.arange(5), levels, 1)[0]
    assert abs(measured - slope) < 0.6, f"{color}: {measured:.2f} dB/octave, expected {slope}"


@pytest.mark.parametrize("color", ["pink", "brown"])
def test_colored_noise_is_stationary_from_the_first_sample(color):
    # across many seeds, sample 0 has the variance of the steady state
    # (without the pre-roll, brown noise would start at 0.045 of it)
    first = np.array([next(iter(sd.Noise(1000, seed=s, color=color, chunk_size=1, dtype="float64")))
                      for s in range(300)])
    assert 0.8 < np.std(first) < 1.2


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(samplerate=1000, color="purple"), ValueError, "color in"),
    (dict(samplerate=1000, seed="abc"), TypeError, "seed"),
    (dict(samplerate=1000, seed=np.random.default_rng(1)), TypeError, "pass an int"),
    (dict(samplerate=1000, amplitude=float("inf")), ValueError, "amplitude to be finite"),
    (dict(samplerate=1000, channels=0), ValueError, "channels >= 1"),
])
def test_noise_bad_arguments_are_clear_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sd.Noise(**kwargs)


# ---------------------------------------------------------------- in flows
def test_generators_feed_flows_and_report_their_samplerate():
    g = sd.Sine(100.0, 8000, duration=0.5, chunk_size=256)
    taps = signal.firwin(31, 1000, fs=8000)
    y = sd.run(g >> sd.FIR(taps, method="direct"))
    x = collect(g).astype(np.float64)
    np.testing.assert_allclose(y, signal.lfilter(taps, 1.0, x), rtol=0, atol=1e-5)
    assert g.samplerate == 8000 and g.frames == 4000


def test_generator_repr_says_what_it_is():
    assert "Sine 440.0 Hz" in repr(sd.Sine(440.0, 48000))
    assert "endless" in repr(sd.Noise(48000, seed=1))
    assert "linear" in repr(sd.Chirp(1.0, 2.0, 1.0, 100))
