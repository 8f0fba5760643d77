"""FIR specifics beyond the shared contract (tests/test_contract.py)."""

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd
from _support import assert_close_to_peak, stream


def test_fir_fft_latency_is_its_block_size():
    fir = sd.FIR(np.ones(100), method="fft", block_size=64)
    assert fir.latency == 64 and fir.block_size == 64
    assert sd.FIR(np.ones(100), method="direct").latency == 0


@pytest.mark.parametrize("ntaps", [1, 16, 128, 4096])
def test_fir_auto_picks_a_method_and_still_matches_lfilter(ntaps):
    taps = signal.firwin(ntaps, 0.3) if ntaps > 1 else np.array([0.7])
    fir = sd.FIR(taps)
    assert fir.method in ("direct", "fft")
    x = np.random.default_rng(ntaps).standard_normal(5000)
    y = stream(fir, x, [1, 100, 0, 2000])
    assert_close_to_peak(y[fir.latency:], signal.lfilter(taps, 1.0, x), 1e-11)


def test_fir_auto_prefers_direct_for_short_and_fft_for_long_filters():
    assert sd.FIR(np.ones(16)).method == "direct"
    assert sd.FIR(np.ones(20000)).method == "fft"


def test_fir_taps_longer_than_the_signal():
    taps = np.random.default_rng(1).standard_normal(3000)
    x = np.random.default_rng(2).standard_normal(500)
    for method in ("direct", "fft"):
        fir = sd.FIR(taps, method=method)
        y = stream(fir, x, [7])
        assert_close_to_peak(y[fir.latency:], signal.lfilter(taps, 1.0, x), 1e-11, method)


def test_fir_signal_shorter_than_one_block_is_all_in_flush():
    taps = np.random.default_rng(3).standard_normal(50)
    x = np.random.default_rng(4).standard_normal(10)
    fir = sd.FIR(taps, method="fft", block_size=256)
    head = fir.process(x)
    assert np.all(head == 0)
    tail = fir.flush()
    assert tail.shape == (256,)
    assert_close_to_peak(np.concatenate([head, tail])[256:], signal.lfilter(taps, 1.0, x), 1e-11)


def test_fir_per_channel_taps_fix_the_channel_count():
    fir = sd.FIR(np.ones((8, 3)))
    assert fir.channels == 3
    with pytest.raises(ValueError, match=r"FIR: .*3 channels.*coefficients"):
        fir.process(np.zeros((10, 2)))
    assert fir.channels == 3 and fir.dtype is None, "the rejected chunk changed nothing"


def test_fir_taps_are_read_only_and_copied():
    taps = np.array([1.0, 2.0, 3.0])
    fir = sd.FIR(taps)
    taps[0] = 100.0
    assert fir.taps[0] == 1.0
    with pytest.raises(ValueError):
        fir.taps[0] = 5.0


@pytest.mark.parametrize("bad,exc,words", [
    ([], ValueError, "at least one"),
    (np.zeros((2, 2, 2)), ValueError, "shape"),
    ([1 + 1j], TypeError, "complex"),
    ("abc", TypeError, "taps"),
    ([np.nan, 1.0], ValueError, "finite"),
])
def test_fir_bad_taps_are_clear_errors(bad, exc, words):
    with pytest.raises(exc, match=words) as info:
        sd.FIR(bad)
    assert str(info.value).startswith("FIR:")


def test_fir_bad_method_and_block_size():
    with pytest.raises(ValueError, match="method"):
        sd.FIR([1.0], method="fast")
    with pytest.raises(ValueError, match="power of two"):
        sd.FIR([1.0], method="fft", block_size=100)


def test_fir_frequency_response_matches_freqz():
    taps = signal.firwin(31, 0.25)
    w, h = sd.FIR(taps).frequency_response(n=256, fs=48000)
    w0, h0 = signal.freqz(taps, 1, worN=256, fs=48000)
    np.testing.assert_allclose(w, w0)
    np.testing.assert_allclose(h, h0)
    w2, h2 = sd.FIR(np.stack([taps, 2 * taps], 1)).frequency_response(n=64)
    assert h2.shape == (64, 2)
    np.testing.assert_allclose(h2[:, 1], 2 * h2[:, 0])


def test_fir_float32_stays_float32_and_is_accurate():
    taps = signal.firwin(101, 0.1)
    x = np.random.default_rng(5).standard_normal((4000, 2)).astype(np.float32)
    for method in ("direct", "fft"):
        fir = sd.FIR(taps, method=method)
        y = stream(fir, x, [333])
        assert y.dtype == np.float32
        assert_close_to_peak(y[fir.latency:], signal.lfilter(taps, 1.0, x.astype(np.float64), axis=0), 1e-5)


def test_fir_long_chunks_cross_the_internal_piece_size():
    taps = np.random.default_rng(6).standard_normal(40)
    x = np.random.default_rng(7).standard_normal((10000, 2))
    fir = sd.FIR(taps, method="direct")
    assert_close_to_peak(fir.process(x), signal.lfilter(taps, 1.0, x, axis=0), 1e-12)
