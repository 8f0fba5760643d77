"""Convolver specifics: partition plans, long IRs, files, latency modes, errors."""

import os

import numpy as np
import pytest
import soundfile
from scipy import signal

import streamdsp as sd
from _support import assert_close_to_peak, stream

GREATHALL = "/usr/share/gx_head/sounds/greathall.wav"   # Debian guitarix-common, 48 kHz stereo
SPEECH = "/usr/share/sounds/alsa/Front_Center.wav"       # Debian alsa-utils


def _need(path, package):
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: install Debian's {package} (.ci/run does)")


def test_long_ir_uses_growing_partitions_and_matches_fftconvolve():
    rng = np.random.default_rng(0)
    ir = rng.standard_normal(96000) * np.exp(-np.arange(96000) / 20000)
    conv = sd.Convolver(ir, block_size=256)
    blocks = [b for b, _, _ in conv.plan]
    assert len(blocks) >= 2 and blocks == sorted(blocks) and blocks[0] == 256
    # the head and the levels tile the IR exactly
    assert conv.plan[0][1] == 256 and conv.plan[-1][1] + conv.plan[-1][2] == 96000
    for (b0, o0, n0), (b1, o1, n1) in zip(conv.plan, conv.plan[1:]):
        assert o0 + n0 == o1
    x = rng.standard_normal(30000).astype(np.float32)
    y = stream(conv, x, [1, 255, 3000, 0, 17])
    assert y.dtype == np.float32 and conv.latency == 0
    assert_close_to_peak(y, signal.fftconvolve(x.astype(np.float64), ir)[:30000], 1e-5)


def test_latency_none_trades_the_direct_head_for_block_size_frames():
    ir = np.random.default_rng(1).standard_normal(5000)
    conv = sd.Convolver(ir, block_size=128, latency=None)
    assert conv.latency == 128
    x = np.random.default_rng(2).standard_normal(4000)
    y = stream(conv, x, [5, 1000])
    assert np.all(y[:128] == 0)
    assert_close_to_peak(y[128:], signal.fftconvolve(x, ir)[:4000], 1e-11)


def test_convolver_signal_shorter_than_block():
    ir = np.random.default_rng(3).standard_normal(2000)
    x = np.random.default_rng(4).standard_normal(10)
    for lat in (0, None):
        conv = sd.Convolver(ir, block_size=256, latency=lat)
        y = stream(conv, x, [3])
        assert_close_to_peak(y[conv.latency:], signal.fftconvolve(x, ir)[:10], 1e-11)


def test_ir_shorter_than_the_head_is_all_direct():
    conv = sd.Convolver([0.5, 0.25], block_size=64)
    assert conv.plan == []
    np.testing.assert_allclose(conv.process(np.array([1.0, 0.0, 2.0])), [0.5, 0.25, 1.0])


def test_reverb_tail_is_rendered_by_feeding_silence():
    ir = np.exp(-np.arange(4000) / 500.0)
    conv = sd.Convolver(ir, block_size=64)
    x = np.zeros(100)
    x[0] = 1.0
    head = conv.process(x)
    tail = conv.process(np.zeros(3900))
    assert_close_to_peak(np.concatenate([head, tail]), ir, 1e-12)


def test_from_file_reads_the_measured_hall_per_channel():
    _need(GREATHALL, "guitarix-common")
    conv = sd.Convolver.from_file(GREATHALL, block_size=256, samplerate=48000)
    ir, rate = soundfile.read(GREATHALL, dtype="float64")
    assert conv.samplerate == rate == 48000 and conv.channels == 2 and conv.ntaps == len(ir)
    x = np.random.default_rng(5).standard_normal((20000, 2)).astype(np.float32)
    y = stream(conv, x, [256, 1])
    ref = np.stack([signal.fftconvolve(x[:, c].astype(np.float64), ir[:, c])[:20000] for c in range(2)], 1)
    assert_close_to_peak(y, ref, 1e-5)


def test_from_file_refuses_another_sample_rate():
    _need(GREATHALL, "guitarix-common")
    with pytest.raises(ValueError, match="48000 Hz but the stream is at 44100 Hz; resample"):
        sd.Convolver.from_file(GREATHALL, samplerate=44100)


def test_from_file_missing_is_a_clear_error(tmp_path):
    with pytest.raises(OSError, match="Convolver: cannot read an impulse response"):
        sd.Convolver.from_file(tmp_path / "nope.wav")


def test_real_speech_through_the_real_hall():
    _need(GREATHALL, "guitarix-common")
    _need(SPEECH, "alsa-utils")
    src = sd.FileSource(SPEECH, chunk_size=512)
    conv = sd.Convolver.from_file(GREATHALL, samplerate=src.samplerate)
    upmix = sd.ChannelMixer([[1.0], [1.0]])       # the mono voice on both sides of the stereo hall
    wet = sd.run(src >> upmix >> conv)
    x, _ = soundfile.read(SPEECH, dtype="float32")
    ir, _ = soundfile.read(GREATHALL, dtype="float64")
    assert wet.shape == (len(x), 2)
    ref = np.stack([signal.fftconvolve(x.astype(np.float64), ir[:, c])[:len(x)] for c in range(2)], 1)
    assert_close_to_peak(wet, ref, 1e-5)


@pytest.mark.parametrize("bad,exc,words", [
    (dict(ir=[]), ValueError, "at least one"),
    (dict(ir=[1.0], block_size=100), ValueError, "power of two"),
    (dict(ir=[1.0], latency=5), ValueError, "latency 0"),
    (dict(ir=[1.0 + 2j]), TypeError, "complex"),
])
def test_bad_arguments_are_clear_errors(bad, exc, words):
    with pytest.raises(exc, match=words) as info:
        sd.Convolver(**bad)
    assert str(info.value).startswith("Convolver:")


def test_frequency_response_matches_freqz():
    ir = np.random.default_rng(6).standard_normal(300)
    w, h = sd.Convolver(ir).frequency_response(n=128, fs=48000)
    w0, h0 = signal.freqz(ir, 1, worN=128, fs=48000)
    np.testing.assert_allclose(w, w0)
    np.testing.assert_allclose(h, h0)


# --- time-distributed levels (issue 13) ------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402


def test_every_level_after_the_first_keeps_a_block_in_hand():
    # the slack a level needs to spread its work over the next block's calls
    for lat in (0, None):
        conv = sd.Convolver(np.ones(96000), block_size=64, latency=lat)
        first, *rest = conv.plan
        assert rest and first[0] == 64
        for B, off, n in rest:
            assert off + conv.latency >= 2 * B and (off + conv.latency) % B == 0


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(0, 3000), min_size=1, max_size=40),
       f32=st.booleans(), lat=st.sampled_from([0, None]))
def test_spread_levels_are_exact_over_any_chunking(cuts, f32, lat):
    # 0- and 1-frame chunks and chunks longer than a whole level block: the jobs
    # fall where the samples arrive, the result must not move
    rng = np.random.default_rng(7)
    ir = rng.standard_normal((6000, 2)) * np.exp(-np.arange(6000) / 1500)[:, None]
    x = rng.standard_normal((12000, 2))
    conv = sd.Convolver(ir, block_size=16, latency=lat)
    assert len(conv.plan) >= 3
    xi = x.astype(np.float32) if f32 else x
    y = stream(conv, xi, cuts + [0, 1, 1])[:len(x)]
    ref = np.stack([signal.fftconvolve(x[:, c], ir[:, c])[:len(x)] for c in range(2)], axis=1)
    ref = np.concatenate([np.zeros((conv.latency, 2)), ref])[:len(x)]
    assert_close_to_peak(y, ref, 1e-5 if f32 else 1e-11)


def test_spread_levels_restart_clean_after_reset():
    rng = np.random.default_rng(8)
    ir = rng.standard_normal(20000) * np.exp(-np.arange(20000) / 5000)
    conv = sd.Convolver(ir, block_size=32)
    x = rng.standard_normal(9000)
    first = stream(conv, x, [777, 1, 0, 4096])
    conv.process(rng.standard_normal(333))     # leaves jobs half done
    conv.reset()
    again = stream(conv, x, [5, 3000])
    np.testing.assert_array_equal(first, again)
    assert_close_to_peak(first[:9000], signal.fftconvolve(x, ir)[:9000], 1e-11)


@pytest.mark.parametrize("n", [8, 32768, 131072])
@pytest.mark.parametrize("f32", [False, True])
def test_sliced_fft_convolves_like_numpy(n, f32):
    # the four-step transform of the large spread levels, job by job: the
    # product of two spectra in its layout inverts to the circular convolution
    from streamdsp._core._slicedfft import SlicedFFT
    s = SlicedFFT(n, f32, "test")
    rng = np.random.default_rng(n)
    x, h = rng.standard_normal(n), rng.standard_normal(n)
    xr, xi = s._forward_all(x)
    hr, hi = s._forward_all(h)
    y = (xr + 1j * xi) * (hr + 1j * hi)
    got = s._inverse_tail_all(y.real, y.imag) / n
    ref = np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(h), n)[n // 2:]
    assert_close_to_peak(got, ref, 2e-6 if f32 else 1e-13)


@settings(max_examples=10, deadline=None)
@given(cuts=st.lists(st.integers(0, 20000), min_size=1, max_size=30))
def test_sliced_levels_are_exact_over_any_chunking(cuts):
    # levels of 16384 and more run their FFTs in slices
    rng = np.random.default_rng(9)
    ir = rng.standard_normal(96000) * np.exp(-np.arange(96000) / 15000)
    x = rng.standard_normal(90000)
    conv = sd.Convolver(ir, block_size=256)
    assert max(b for b, _, _ in conv.plan) >= 16384
    y = stream(conv, x, cuts + [0, 1])[:len(x)]
    assert_close_to_peak(y, signal.fftconvolve(x, ir)[:len(x)], 1e-11)


def test_spread_false_keeps_the_burst_plan_and_the_same_output():
    rng = np.random.default_rng(10)
    ir = rng.standard_normal(96000) * np.exp(-np.arange(96000) / 20000)
    burst = sd.Convolver(ir, block_size=256, spread=False)
    spread = sd.Convolver(ir, block_size=256)
    assert spread.spread and not burst.spread and burst.plan != spread.plan
    # no slack: each level starts as early as its block allows
    assert burst.plan[1][1] == burst.plan[1][0]
    x = rng.standard_normal(40000)
    a, b = stream(burst, x, [300, 1, 0]), stream(spread, x, [999, 5000])
    assert_close_to_peak(a, b, 1e-12)
    assert_close_to_peak(a[:40000], signal.fftconvolve(x, ir)[:40000], 1e-11)
