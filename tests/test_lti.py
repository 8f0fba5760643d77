"""LTISystem specifics beyond the shared contract (tests/test_contract.py, tests/_cases_lti.py)."""

import warnings

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd
from _support import assert_close_to_peak, stream

SOS8 = signal.butter(8, 0.2, output="sos")


def _noise(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------
# the kernel: channel blocks, long cascades, chunking


@pytest.mark.parametrize("channels", [1, 3, 5, 8, 9, 13, 16])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lti_every_channel_block_width_and_long_cascades_match_sosfilt(channels, dtype):
    # 8 + 4 + 2 + 1 channel blocks; 11 sections run in passes over 128-frame pieces
    sos = signal.cheby2(22, 60, 0.3, output="sos")
    x = _noise((3000, channels), seed=channels, dtype=dtype)
    for s in (sos, SOS8, sos[:3]):
        b = sd.LTISystem.from_sos(s)
        y = stream(b, x, [1, 127, 128, 129, 0, 1000])
        assert y.dtype == dtype
        tol = 5e-7 if dtype == np.float32 else 1e-12
        assert_close_to_peak(y, signal.sosfilt(s, x.astype(np.float64), axis=0), tol,
                             f"{len(s)} sections, {channels} channels")


def test_lti_split_streams_are_bit_identical_to_one_call():
    x = _noise((5000, 3), seed=1)
    one = sd.LTISystem.from_sos(SOS8).process(x)
    split = stream(sd.LTISystem.from_sos(SOS8), x, [1, 2, 3, 500, 0, 129])
    np.testing.assert_array_equal(split, one)


@pytest.mark.parametrize("design", ["highpass 0.5 Hz", "bandpass 0.5-40 Hz", "lowpass 1e-3 order 8"])
def test_lti_float32_stream_keeps_float64_state_for_low_cutoff_filters(design):
    """float32 samples, float64 state: accurate where a float32 state is not."""
    fs = 500.0
    sos = {
        "highpass 0.5 Hz": signal.butter(4, 0.5, "highpass", fs=fs, output="sos"),
        "bandpass 0.5-40 Hz": signal.butter(4, [0.5, 40], "bandpass", fs=fs, output="sos"),
        "lowpass 1e-3 order 8": signal.butter(8, 1e-3, output="sos"),
    }[design]
    t = np.arange(20000) / fs
    x = (2.0 + np.sin(2 * np.pi * 1.2 * t) + 0.5 * _noise(len(t))).astype(np.float32)
    ref = signal.sosfilt(sos, x.astype(np.float64))
    y = stream(sd.LTISystem.from_sos(sos), x, [4096] * 4)
    assert y.dtype == np.float32
    assert_close_to_peak(y, ref, 2e-7, design)          # float32 output rounding only
    # what a float32 state does to the same filter (scipy computes float32 in float32)
    y_f32_state = signal.sosfilt(sos.astype(np.float32), x)
    assert y_f32_state.dtype == np.float32
    err32 = np.max(np.abs(y_f32_state - ref))
    assert np.max(np.abs(y - ref)) < err32 / 100


# ---------------------------------------------------------------------------
# conventions of each constructor


def test_lti_from_tf_leading_zeros_of_b_are_a_delay_as_in_lfilter():
    b, a = [0.0, 1.0, 0.3], [1.0, -0.5]
    x = _noise(300, seed=2)
    y = stream(sd.LTISystem.from_tf(b, a), x, [10])
    assert_close_to_peak(y, signal.lfilter(b, a, x), 1e-13)
    # (scipy.signal.tf2sos drops that delay, with a BadCoefficients warning:
    # the reason the block does not call it)
    with pytest.warns(signal.BadCoefficients):
        sos = signal.tf2sos(b, a)
    assert not np.allclose(signal.sosfilt(sos, x), signal.lfilter(b, a, x))


def test_lti_from_tf_normalises_by_a0_and_accepts_scalars():
    x = _noise(200, seed=3)
    y = sd.LTISystem.from_tf([2.0, 1.0], [4.0, -2.0]).process(x)
    assert_close_to_peak(y, signal.lfilter([2.0, 1.0], [4.0, -2.0], x), 1e-13)
    assert_close_to_peak(sd.LTISystem.from_tf(3.0, 1.0).process(x), 3.0 * x, 0)


def test_lti_from_tf_zero_numerator_gives_silence():
    b = sd.LTISystem.from_tf([0.0, 0.0], [1.0, -0.5])
    assert np.all(b.process(_noise(50)) == 0)


def test_lti_from_tf_of_order_two_runs_its_own_coefficients():
    """No root finding for one section: exact even where the roots are ill-conditioned."""
    b, a = signal.butter(2, 1e-3)
    lti = sd.LTISystem.from_tf(b, a)
    np.testing.assert_array_equal(lti.sos, [np.concatenate([b / a[0], a / a[0]])])
    x = 1.0 + _noise(20000, seed=4)
    # the same recursion; at this cutoff it amplifies rounding to ~1e-12 of the
    # peak in lfilter as here (both are that far from an 80-bit reference)
    assert_close_to_peak(lti.process(x), signal.lfilter(b, a, x), 5e-12)


def test_lti_from_tf_of_a_low_cutoff_design_agrees_with_lfilter_as_documented():
    """butter(6, 0.01) as (b, a): the roots are sensitive, the docstring says ~5e-6 of the peak."""
    b, a = signal.butter(6, 0.01)
    x = _noise(5000, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # scipy's tf2zpk would warn (BadCoefficients)
        y = sd.LTISystem.from_tf(b, a).process(x)
    assert_close_to_peak(y, signal.lfilter(b, a, x), 1e-5)
    assert_close_to_peak(y, signal.sosfilt(signal.butter(6, 0.01, output="sos"), x), 1e-5)


def test_lti_dlti_numerator_shorter_than_denominator_is_a_delay():
    sys_ = signal.dlti([1.0], [1.0, -0.5], dt=1.0)
    h = sd.LTISystem(sys_).impulse(4)
    np.testing.assert_allclose(h, signal.dimpulse(sys_, n=4)[1][0][:, 0], atol=1e-15)
    np.testing.assert_allclose(h, [0.0, 1.0, 0.5, 0.25], atol=1e-15)
    # from_tf reads the same numbers as lfilter does: no delay
    np.testing.assert_allclose(sd.LTISystem.from_tf([1.0], [1.0, -0.5]).impulse(4),
                               signal.lfilter([1.0], [1.0, -0.5], [1.0, 0, 0, 0]), atol=1e-15)


def test_lti_from_zpk_follows_zpk2sos_and_dlti_zpk_follows_dlsim():
    z, p, k = [], [0.5, -0.3], 2.0
    x = _noise(100, seed=5)
    y = sd.LTISystem.from_zpk(z, p, k).process(x)
    assert_close_to_peak(y, signal.sosfilt(signal.zpk2sos(z, p, k), x), 1e-13)
    d = signal.dlti(z, p, k, dt=1.0)
    y2 = sd.LTISystem(d).process(x)
    assert_close_to_peak(y2, signal.dlsim(d, x)[1][:, 0], 1e-13)
    np.testing.assert_allclose(y2[2:], y[:-2], atol=1e-13)   # 2 poles, no zeros: 2 samples later


def test_lti_from_zpk_with_complex_pairs_matches_sosfilt():
    z, p, k = signal.ellip(6, 0.5, 50, [0.2, 0.5], btype="bandstop", output="zpk")
    x = _noise((800, 2), seed=6)
    b = sd.LTISystem.from_zpk(z, p, k)
    assert_close_to_peak(stream(b, x, [33]), signal.sosfilt(signal.zpk2sos(z, p, k), x, axis=0), 1e-12)


def test_lti_from_sos_divides_each_section_by_its_a0():
    scaled = SOS8 * np.array([2.0, 0.5, 1.0, 3.0])[:, None]
    b = sd.LTISystem.from_sos(scaled)
    np.testing.assert_allclose(b.sos, SOS8, rtol=1e-15)
    x = _noise(400, seed=7)
    assert_close_to_peak(b.process(x), signal.sosfilt(SOS8, x), 1e-13)


def test_lti_from_ss_of_order_zero_is_a_gain():
    b = sd.LTISystem.from_ss(np.zeros((0, 0)), np.zeros((0, 1)), np.zeros((1, 0)), [[1.5]])
    assert b.form == "ss" and b.poles.shape == (0,) and b.stable
    x = _noise((50, 2), seed=8)
    assert_close_to_peak(b.process(x), 1.5 * x, 0)


def test_lti_state_space_runs_as_state_space_and_matches_dlsim_on_many_channels():
    A = np.array([[0.5, 0.2, 0.0], [-0.3, 0.4, 0.1], [0.0, 0.1, -0.6]])
    B, C, D = np.array([1.0, 0.0, -1.0]), np.array([0.2, 0.3, 0.5]), 0.1
    b = sd.LTISystem.from_ss(A, B, C, D)
    assert b.form == "ss" and b.sos is None
    x = _noise((500, 5), seed=9)
    y = stream(b, x, [1, 7, 200])
    ref = np.stack([signal.dlsim((A, B[:, None], C[None, :], [[D]], 1), x[:, c])[1][:, 0]
                    for c in range(5)], axis=1)
    assert_close_to_peak(y, ref, 1e-13)
    y32 = stream(sd.LTISystem.from_ss(A, B, C, D), x.astype(np.float32), [50])
    assert y32.dtype == np.float32
    assert_close_to_peak(y32, ref, 2e-7)


def test_lti_continuous_state_space_is_discretised_by_the_bilinear_transform():
    A, B, C, D = [[-100.0, -4e4], [1.0, 0.0]], [[1.0], [0.0]], [[0.0, 4e4]], [[0.0]]
    fs = 2000.0
    b = sd.LTISystem(signal.lti(A, B, C, D), fs=fs)
    Ad, Bd, Cd, Dd, _ = signal.cont2discrete((np.array(A), np.array(B), np.array(C), np.array(D)),
                                             1 / fs, method="bilinear")
    for got, want in zip(b.ss, (Ad, Bd, Cd, Dd)):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    assert b.fs == fs


def test_lti_continuous_zpk_is_discretised_by_bilinear_zpk():
    z, p, k = signal.butter(5, 2 * np.pi * 100, analog=True, output="zpk")
    b = sd.LTISystem(signal.lti(z, p, k), fs=1000)
    zd, pd, kd = signal.bilinear_zpk(z, p, k, 1000)
    np.testing.assert_allclose(np.sort_complex(b.poles), np.sort_complex(pd), atol=1e-12)
    x = _noise(600, seed=10)
    assert_close_to_peak(b.process(x), signal.sosfilt(signal.zpk2sos(zd, pd, kd), x), 1e-12)


# ---------------------------------------------------------------------------
# fs and errors


def test_lti_continuous_system_without_fs_is_a_clear_error():
    with pytest.raises(ValueError, match=r"LTISystem: a continuous-time \(lti\) system needs fs"):
        sd.LTISystem(signal.lti([1.0], [1.0, 1.0]))


def test_lti_discrete_system_dt_and_fs():
    d = signal.dlti([1.0], [1.0, -0.5], dt=1 / 250)
    assert sd.LTISystem(d).fs == 250.0
    assert sd.LTISystem(d, fs=250).fs == 250.0
    with pytest.raises(ValueError, match=r"LTISystem: expected fs to equal .*1/dt = 250 Hz, got fs=500"):
        sd.LTISystem(d, fs=500)
    # a dlti without dt takes fs as given (it labels frequencies only)
    assert sd.LTISystem(signal.dlti([1.0], [1.0, -0.5]), fs=48000).fs == 48000.0
    assert sd.LTISystem(signal.dlti([1.0], [1.0, -0.5])).fs is None
    assert sd.LTISystem.from_sos(SOS8, fs=44100).fs == 44100.0


@pytest.mark.parametrize("system,words", [
    (signal.dlti([1.0, 2.0, 3.0], [1.0, 0.5]), "not causal"),
    (signal.dlti([0.1, 0.2], [0.5], 1.0), "more zeros (2) than poles (1)"),
    (signal.lti([1.0, 2.0, 3.0], [1.0, 1.0]), "not causal"),
    (signal.lti([-1.0, -2.0], [-3.0], 1.0), "improper"),
    (signal.dlti(np.eye(2) * 0.5, np.ones((2, 2)), np.ones((1, 2)), np.zeros((1, 2))), "one input"),
    (signal.dlti(np.eye(2) * 0.5, np.ones((2, 1)), np.ones((2, 2)), np.zeros((2, 1))), "one output"),
])
def test_lti_systems_that_cannot_stream_are_clear_errors(system, words):
    with pytest.raises(ValueError, match="LTISystem: ") as info:
        sd.LTISystem(system, fs=1000.0 if isinstance(system, signal.lti) else None)
    assert words in str(info.value)


@pytest.mark.parametrize("make,exc,words", [
    (lambda: sd.LTISystem((np.ones(3), np.ones(2))), TypeError, "expected a scipy.signal dlti or lti"),
    (lambda: sd.LTISystem.from_sos(np.ones(6)), ValueError, "shape (n_sections, 6)"),
    (lambda: sd.LTISystem.from_sos(np.ones((2, 5))), ValueError, "shape (n_sections, 6)"),
    (lambda: sd.LTISystem.from_sos([[1, 0, 0, 0, 0, 0]]), ValueError, "a0"),
    (lambda: sd.LTISystem.from_sos([[1, 0, 0, 1, np.nan, 0]]), ValueError, "finite"),
    (lambda: sd.LTISystem.from_tf([1.0], [0.0, 1.0]), ValueError, "a[0] != 0"),
    (lambda: sd.LTISystem.from_tf([1 + 1j], [1.0]), TypeError, "complex"),
    (lambda: sd.LTISystem.from_tf("abc", [1.0]), TypeError, "b"),
    (lambda: sd.LTISystem.from_tf([], [1.0]), ValueError, "at least one"),
    (lambda: sd.LTISystem.from_tf([[1.0, 2.0]], [1.0]), ValueError, "shape"),
    (lambda: sd.LTISystem.from_zpk([], [0.5 + 0.1j], 1.0), ValueError, "conjugate pairs"),
    (lambda: sd.LTISystem.from_zpk([], [np.inf], 1.0), ValueError, "finite"),
    (lambda: sd.LTISystem.from_zpk([], [0.5], "k"), TypeError, "k"),
    (lambda: sd.LTISystem.from_ss(np.eye(2), np.ones(3), np.ones(2), 0.0), ValueError, "B of shape (2, 1)"),
    (lambda: sd.LTISystem.from_ss(np.ones((2, 3)), np.ones(2), np.ones(2), 0.0), ValueError, "square"),
    (lambda: sd.LTISystem.from_ss(np.eye(2) / 2, np.ones(2), np.ones(2), [1.0, 2.0]), ValueError, "D"),
    (lambda: sd.LTISystem.from_ss(np.eye(2) * 1j, np.ones(2), np.ones(2), 0.0), TypeError, "complex"),
    (lambda: sd.LTISystem.from_sos(SOS8, fs=-1.0), ValueError, "fs > 0"),
    (lambda: sd.LTISystem.from_sos(SOS8, fs="fast"), TypeError, "fs"),
])
def test_lti_bad_arguments_are_clear_errors(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    msg = str(info.value)
    assert msg.startswith("LTISystem:"), msg
    assert words in msg, msg


# ---------------------------------------------------------------------------
# stability, poles, responses


@pytest.mark.parametrize("make,largest", [
    (lambda: sd.LTISystem.from_tf([1.0], [1.0, -1.01]), 1.01),
    (lambda: sd.LTISystem.from_tf([1.0], [1.0, -1.0]), 1.0),                    # an integrator
    (lambda: sd.LTISystem.from_ss([[0.0, 1.0], [-1.2, 0.0]], [0.0, 1.0], [1.0, 0.0], 0.0), 1.2 ** 0.5),
    (lambda: sd.LTISystem(signal.dlti([], [0.3, 2.0], 1.0)), 2.0),
])
def test_lti_unstable_systems_warn_at_construction(make, largest):
    with pytest.warns(RuntimeWarning, match=r"LTISystem: the system is not stable") as rec:
        b = make()
    assert rec[0].filename == __file__, "the warning points at the caller"
    assert not b.stable
    assert np.max(np.abs(b.poles)) == pytest.approx(largest, rel=1e-12)


def test_lti_stable_systems_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for b in (sd.LTISystem.from_sos(SOS8), sd.LTISystem.from_tf(*signal.ellip(4, 1, 40, 0.3)),
                  sd.LTISystem(signal.lti(*signal.butter(3, 100.0, analog=True)), fs=1000)):
            assert b.stable


def test_lti_poles_are_the_systems_poles():
    z, p, k = signal.butter(7, 0.3, output="zpk")
    for b in (sd.LTISystem.from_zpk(z, p, k), sd.LTISystem.from_sos(signal.zpk2sos(z, p, k)),
              sd.LTISystem.from_tf(*signal.zpk2tf(z, p, k))):
        assert b.poles.shape == (7,), "first-order sections have one pole, not two"
        np.testing.assert_allclose(np.sort_complex(b.poles), np.sort_complex(p), atol=1e-7)
    A = np.array([[0.5, 0.2], [-0.3, 0.4]])
    b = sd.LTISystem.from_ss(A, [1.0, 0.0], [0.0, 1.0], 0.0)
    np.testing.assert_allclose(np.sort_complex(b.poles), np.sort_complex(np.linalg.eigvals(A)))
    b.poles[0] = 99.0
    assert np.all(np.abs(b.poles) < 1), "poles returns a copy"


def test_lti_frequency_response_matches_freqz_sos_and_freqz():
    b = sd.LTISystem.from_sos(SOS8)
    w, h = b.frequency_response(n=300)
    w0, h0 = signal.freqz_sos(SOS8, worN=300)
    np.testing.assert_allclose(w, w0)
    np.testing.assert_allclose(h, h0, rtol=1e-12, atol=1e-14)
    w, h = b.frequency_response(n=64, fs=48000, whole=True)
    w0, h0 = signal.freqz_sos(SOS8, worN=64, fs=48000, whole=True)
    np.testing.assert_allclose(w, w0)
    np.testing.assert_allclose(h, h0, rtol=1e-12, atol=1e-14)
    # tf: freqz of (b, a); the block's own fs labels frequencies by default
    ba = signal.ellip(4, 1, 40, 0.3)
    w, h = sd.LTISystem.from_tf(*ba, fs=1000).frequency_response(n=128)
    w0, h0 = signal.freqz(*ba, worN=128, fs=1000)
    np.testing.assert_allclose(w, w0)
    np.testing.assert_allclose(h, h0, rtol=1e-9, atol=1e-12)


def test_lti_state_space_frequency_response_matches_freqz_of_its_transfer_function():
    A = np.array([[0.5, 0.2, 0.0], [-0.3, 0.4, 0.1], [0.0, 0.1, -0.6]])
    B, C, D = np.array([[1.0], [0.0], [-1.0]]), np.array([[0.2, 0.3, 0.5]]), np.array([[0.1]])
    b = sd.LTISystem.from_ss(A, B, C, D)
    num, den = signal.ss2tf(A, B, C, D)
    for whole in (False, True):
        w, h = b.frequency_response(n=200, whole=whole)
        w0, h0 = signal.freqz(num[0], den, worN=200, whole=whole)
        np.testing.assert_allclose(w, w0)
        np.testing.assert_allclose(h, h0, rtol=1e-12, atol=1e-13)
    w, _ = b.frequency_response(n=4, fs=100)
    np.testing.assert_allclose(w, [0, 12.5, 25, 37.5])


@pytest.mark.parametrize("system", [
    signal.dlti(*signal.butter(5, 0.25), dt=1.0),
    signal.dlti([0.5], [1.0, -0.9], dt=1.0),
    signal.dlti(*signal.tf2ss([1.0, 0.4], [1.0, -0.5, 0.2]), dt=1.0),
    signal.dlti([-1.0], [0.8, 0.2 + 0.5j, 0.2 - 0.5j], 0.3, dt=1.0),
])
def test_lti_step_and_impulse_match_dstep_and_dimpulse(system):
    b = sd.LTISystem(system)
    np.testing.assert_allclose(b.impulse(60), signal.dimpulse(system, n=60)[1][0][:, 0], atol=1e-13)
    np.testing.assert_allclose(b.step(60), signal.dstep(system, n=60)[1][0][:, 0], atol=1e-12)


def test_lti_step_and_impulse_leave_the_stream_alone():
    x = _noise(400, seed=11, dtype=np.float32)
    b, ref = sd.LTISystem.from_sos(SOS8), sd.LTISystem.from_sos(SOS8)
    first = b.process(x[:200])
    ref_first = ref.process(x[:200])
    h = b.impulse(10)
    assert h.dtype == np.float64 and h.shape == (10,)
    assert b.step(0).shape == (0,)
    np.testing.assert_array_equal(np.concatenate([first, b.process(x[200:])]),
                                  np.concatenate([ref_first, ref.process(x[200:])]))
    assert b.dtype == np.float32


def test_lti_coefficients_are_copies_that_scipy_accepts():
    sos = SOS8.copy()
    b = sd.LTISystem.from_sos(sos)
    sos[0, 0] = 100.0
    assert b.sos[0, 0] == SOS8[0, 0], "the block copied its coefficients"
    b.sos[0, 0] = 5.0
    assert b.sos[0, 0] == SOS8[0, 0], "sos hands out a copy"
    x = _noise(300, seed=13)
    # scipy's sosfilt refuses a read-only sos: what the property returns must work
    assert_close_to_peak(b.process(x), signal.sosfilt(b.sos, x), 1e-13)
    s = sd.LTISystem.from_ss([[0.5]], [1.0], [1.0], 0.0)
    s.ss[0][0, 0] = 2.0
    assert s.ss[0][0, 0] == 0.5
    assert [m.shape for m in s.ss] == [(1, 1), (1, 1), (1, 1), (1, 1)]
    assert_close_to_peak(s.process(x), signal.dlsim((*s.ss, 1), x)[1][:, 0], 1e-13)


def test_lti_system_cannot_be_swapped_under_a_running_stream():
    b = sd.LTISystem.from_sos(SOS8)
    b.process(_noise(10))
    with pytest.raises(sd.StreamStateError, match="LTISystem: cannot change the system"):
        b.__init__(signal.dlti(*signal.butter(12, 0.3), dt=1.0))
    ref = sd.LTISystem.from_sos(SOS8).process(np.concatenate([_noise(10), np.zeros(5)]))
    np.testing.assert_array_equal(b.process(np.zeros(5)), ref[10:])   # the stream went on untouched


def test_lti_repr_says_how_it_runs():
    assert repr(sd.LTISystem.from_sos(SOS8, fs=48000)) == \
        "<LTISystem form='sos' sections=4 fs=48000.0 latency=0>"
    assert "form='ss' order=1" in repr(sd.LTISystem.from_ss([[0.5]], [1.0], [1.0], 0.0))


def test_lti_prepared_ahead_allocates_for_the_stream_and_runs_in_a_pipeline():
    x = _noise((1000, 2), seed=12, dtype=np.float32)
    notch = signal.iirnotch(50.0, 30.0, fs=500.0)
    p = sd.LTISystem.from_sos(SOS8) >> sd.LTISystem.from_tf(*notch)
    p.prepare(2, "float32")
    y = stream(p, x, [16] * 40)
    ref = signal.lfilter(*notch, signal.sosfilt(SOS8, x.astype(np.float64), axis=0), axis=0)
    assert_close_to_peak(y, ref, 5e-7)
