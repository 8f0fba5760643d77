"""Downsample, MaxPool and Decimate specifics beyond the shared contract."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal

import streamdsp as sd
from _support import assert_close_to_peak, python_env, run_python_code, stream


def _pieces(block, x, sizes):
    """The outputs of process() for each chunk (the rest in one chunk), and of flush()."""
    outs, i = [], 0
    for n in sizes:
        outs.append(block.process(x[i:i + n]))
        i += n
    outs.append(block.process(x[i:]))
    return outs, block.flush()


def pool_reference(x, size, stride):
    """Slow reference: the maximum of every window that starts inside x (partial ones last)."""
    return np.array([x[k:k + size].max(axis=0) for k in range(0, len(x), stride)]).reshape(
        -1, *x.shape[1:])


# ----------------------------------------------------------------------------------------------
# Downsample

@pytest.mark.parametrize("channels", [0, 1, 3, 5])
@pytest.mark.parametrize("stride,phase", [(1, 0), (2, 0), (2, 1), (3, 2), (7, 4), (64, 63)])
def test_downsample_equals_slicing_over_any_chunking(stride, phase, channels):
    rng = np.random.default_rng(stride * 10 + phase)
    x = rng.standard_normal((1000,) if channels == 0 else (1000, channels)).astype(np.float32)
    ds = sd.Downsample(stride, phase=phase)
    y = stream(ds, x, [0, 1, 2, 3, 100, 5, 0, 77])
    assert np.array_equal(y, x[phase::stride])


def test_downsample_each_chunk_returns_what_out_frames_promise():
    ds = sd.Downsample(3, phase=1)
    x = np.arange(20.0)
    got = [ds.process(x[a:b]) for a, b in [(0, 1), (1, 2), (2, 4), (4, 5), (5, 11), (11, 20)]]
    # x[1::3] = 1, 4, 7, 10, 13, 16, 19
    assert [g.tolist() for g in got] == [[], [1.0], [], [4.0], [7.0, 10.0], [13.0, 16.0, 19.0]]


def test_downsample_reset_restarts_the_phase():
    ds = sd.Downsample(4, phase=2)
    ds.process(np.arange(5.0))
    ds.reset()
    assert np.array_equal(ds.process(np.arange(10.0)), np.arange(10.0)[2::4])


def test_downsample_properties_latency_and_flush():
    ds = sd.Downsample(5, phase=3)
    assert (ds.stride, ds.phase, ds.decimation, ds.latency) == (5, 3, 5, 0)
    ds.process(np.ones(12))
    assert ds.flush().shape == (0,)
    assert "stride=5" in repr(ds) and "phase=3" in repr(ds)


@pytest.mark.parametrize("kwargs,exc,words", [
    ({"stride": 0}, ValueError, "stride >= 1"),
    ({"stride": 2.0}, TypeError, "whole number"),
    ({"stride": True}, TypeError, "whole number"),
    ({"stride": 3, "phase": 3}, ValueError, "0 <= phase < stride"),
    ({"stride": 3, "phase": -1}, ValueError, "phase >= 0"),
])
def test_downsample_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc) as info:
        sd.Downsample(**kwargs)
    assert "Downsample" in str(info.value) and words in str(info.value), str(info.value)


# ----------------------------------------------------------------------------------------------
# MaxPool

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [1, 2, 5, 32])
def test_maxpool_stride_equal_size_is_reshape_max(size, dtype):
    x = np.random.default_rng(size).standard_normal((size * 37, 2)).astype(dtype)
    mp = sd.MaxPool(size)
    assert mp.stride == size
    outs, tail = _pieces(mp, x, [3, 0, 1, size * 5 + 2])
    y = np.concatenate(outs)
    assert np.array_equal(y, x.reshape(-1, size, 2).max(1))
    assert tail.shape == (0, 2), "nothing held back when the signal ends on a window boundary"


def test_maxpool_trailing_partial_window_comes_only_at_flush():
    x = np.array([1.0, 5.0, 2.0, 0.0, 4.0, -3.0, 7.0, -1.0])
    mp = sd.MaxPool(3)
    assert mp.process(x).tolist() == [5.0, 4.0]
    assert mp.flush().tolist() == [7.0]          # max of the partial window [7, -1]
    assert mp.flush().shape == (0,), "flush resets"


@pytest.mark.parametrize("size,stride", [(4, 1), (5, 2), (7, 3), (8, 7), (256, 1), (100, 33)])
def test_maxpool_overlapping_full_windows_equal_sliding_window_view(size, stride):
    x = np.random.default_rng(size + stride).standard_normal((3000, 3))
    mp = sd.MaxPool(size, stride=stride)
    outs, tail = _pieces(mp, x, [1, 0, size - 1, 2 * size + 1, 17])
    full = np.concatenate(outs)
    ref = sliding_window_view(x, size, axis=0)[::stride].max(-1)
    assert np.array_equal(full, ref)
    # flush: every window that started but did not complete, oldest first
    starts = [k for k in range(0, len(x), stride) if k + size > len(x)]
    assert np.array_equal(tail, np.array([x[k:].max(0) for k in starts]).reshape(-1, 3))
    assert len(tail) == -(-len(x) // stride) - len(ref)


@pytest.mark.parametrize("size,stride", [(3, 5), (1, 4), (4, 9)])
def test_maxpool_with_gaps_between_windows(size, stride):
    x = np.random.default_rng(stride).standard_normal(1001)
    y = stream(sd.MaxPool(size, stride=stride), x, [2, 3, 0, 50])
    assert np.array_equal(y, pool_reference(x, size, stride))


def test_maxpool_flush_in_a_gap_emits_nothing():
    mp = sd.MaxPool(2, stride=5)
    assert mp.process(np.arange(4.0)).tolist() == [1.0]    # window [0, 1]; frames 2, 3: gap
    assert mp.flush().shape == (0,)
    mp.process(np.arange(6.0))                              # frame 5 starts the next window
    assert mp.flush().tolist() == [5.0]


def test_maxpool_signal_shorter_than_one_window_is_all_in_flush():
    x = np.array([[1.0, -2.0], [3.0, -4.0]])
    mp = sd.MaxPool(10, stride=3)
    assert mp.process(x).shape == (0, 2)
    assert np.array_equal(mp.flush(), [[3.0, -2.0]])        # one window started (at frame 0)


@given(data=st.data())
def test_maxpool_any_size_stride_and_split_matches_the_reference(data):
    size = data.draw(st.integers(1, 40), label="size")
    stride = data.draw(st.integers(1, 45), label="stride")
    channels = data.draw(st.sampled_from([0, 1, 3]), label="channels")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    frames = data.draw(st.integers(0, 400), label="frames")
    sizes = data.draw(st.lists(st.integers(0, 90), max_size=10), label="chunk sizes")
    rng = np.random.default_rng(size * 1000 + stride)
    shape = (frames,) if channels == 0 else (frames, channels)
    # few distinct values, so that ties are common
    x = rng.integers(-5, 5, shape).astype(dtype)
    y = stream(sd.MaxPool(size, stride=stride), x, sizes)
    assert np.array_equal(y.reshape(-1, *x.shape[1:]), pool_reference(x, size, stride))


def test_maxpool_out_frames_per_chunk_are_the_windows_each_chunk_completes():
    mp = sd.MaxPool(4, stride=2)
    x = np.arange(12.0)
    counts = [len(mp.process(x[a:b])) for a, b in [(0, 3), (3, 4), (4, 5), (5, 9), (9, 12)]]
    # windows end at frames 3, 5, 7, 9, 11
    assert counts == [0, 1, 0, 2, 2]


@pytest.mark.parametrize("size,stride", [(4, 4), (6, 2), (3, 7)])
def test_maxpool_nan_in_a_window_gives_nan_as_numpy_max(size, stride):
    x = np.random.default_rng(0).standard_normal(200)
    x[[10, 11, 57, 150]] = np.nan
    y = stream(sd.MaxPool(size, stride=stride), x, [13, 1, 40])
    ref = pool_reference(x, size, stride)
    assert np.array_equal(np.isnan(y), np.isnan(ref)) and np.isnan(y).any()
    assert np.array_equal(y[~np.isnan(y)], ref[~np.isnan(ref)])


def test_maxpool_handles_infinities():
    x = np.array([-np.inf, -np.inf, -np.inf, 1.0, np.inf, -np.inf, -np.inf, -np.inf])
    for stride in (1, 2, 4):
        assert np.array_equal(stream(sd.MaxPool(3, stride=stride), x, [2]), pool_reference(x, 3, stride))


def test_maxpool_reset_in_the_middle_of_a_window():
    mp = sd.MaxPool(5, stride=2)
    mp.process(np.full(7, 100.0))
    mp.reset()
    x = np.random.default_rng(1).standard_normal(40)
    assert np.array_equal(stream(mp, x, [3]), pool_reference(x, 5, 2))


def test_maxpool_properties_and_errors():
    mp = sd.MaxPool(8, stride=3)
    assert (mp.size, mp.stride, mp.decimation, mp.latency) == (8, 3, 3, 0)
    assert "size=8" in repr(mp) and "stride=3" in repr(mp)
    for kwargs, exc, words in [({"size": 0}, ValueError, "size >= 1"),
                               ({"size": 4, "stride": 0}, ValueError, "stride >= 1"),
                               ({"size": 2.5}, TypeError, "whole number")]:
        with pytest.raises(exc) as info:
            sd.MaxPool(**kwargs)
        assert "MaxPool" in str(info.value) and words in str(info.value)


# ----------------------------------------------------------------------------------------------
# Decimate

def test_decimate_default_design_is_scipy_decimates_fir():
    for q in (2, 3, 8):
        dec = sd.Decimate(q)
        assert dec.ntaps == 20 * q + 1
        assert np.allclose(dec.taps, signal.firwin(20 * q + 1, 1.0 / q, window="hamming"), rtol=0, atol=0)
        assert (dec.factor, dec.decimation, dec.latency, dec.phase) == (q, q, 0, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [0, 1, 4])
@pytest.mark.parametrize("factor,phase", [(2, 0), (2, 1), (3, 0), (5, 3), (16, 9)])
def test_decimate_equals_lfilter_then_slicing(factor, phase, channels, dtype):
    rng = np.random.default_rng(factor * 7 + phase)
    x = rng.standard_normal((4000,) if channels == 0 else (4000, channels)).astype(dtype)
    dec = sd.Decimate(factor, phase=phase)
    y = stream(dec, x, [0, 1, factor - 1, 2, 333, 0, 1500])
    ref = signal.lfilter(dec.taps, 1.0, x.astype(np.float64), axis=0)[phase::factor]
    assert y.dtype == dtype
    assert_close_to_peak(y, ref, 5e-6 if dtype == np.float32 else 1e-12)


def test_decimate_long_chunks_span_several_internal_passes():
    x = np.random.default_rng(2).standard_normal((50000, 2))
    dec = sd.Decimate(2, ntaps=101)
    y = dec.process(x)
    assert y.shape == (25000, 2)
    assert_close_to_peak(y, signal.lfilter(dec.taps, 1.0, x, axis=0)[::2], 1e-12)


@pytest.mark.parametrize("ntaps", [1, 2, 3, 7, 50])
def test_decimate_custom_taps_of_any_length(ntaps):
    taps = np.random.default_rng(ntaps).standard_normal(ntaps)
    x = np.random.default_rng(3).standard_normal(777)
    dec = sd.Decimate(4, taps=taps, phase=1)
    assert dec.ntaps == ntaps
    y = stream(dec, x, [5, 6, 7])
    assert_close_to_peak(y, signal.lfilter(taps, 1.0, x)[1::4], 1e-12)


def test_decimate_taps_longer_than_the_signal():
    taps = np.random.default_rng(4).standard_normal(500)
    x = np.random.default_rng(5).standard_normal(90)
    y = stream(sd.Decimate(3, taps=taps), x, [10, 1])
    assert_close_to_peak(y, signal.lfilter(taps, 1.0, x)[::3], 1e-12)


def test_decimate_design_parameters_are_passed_to_firwin():
    dec = sd.Decimate(4, 33, window=("kaiser", 8.0))
    assert np.array_equal(dec.taps, signal.firwin(33, 0.25, window=("kaiser", 8.0)))


def test_decimate_factor_one_is_the_identity():
    x = np.random.default_rng(6).standard_normal((100, 2))
    dec = sd.Decimate(1)
    assert dec.ntaps == 1
    assert np.array_equal(stream(dec, x, [10]), x)


def test_decimate_attenuates_what_would_alias():
    # a tone above the new Nyquist frequency (0.25 of fs for factor 2) comes out at < -40 dB
    fs, n = 48000, 48000
    t = np.arange(n) / fs
    tone = np.sin(2 * np.pi * 15000 * t)
    y = sd.Decimate(2).process(tone)
    assert np.sqrt(np.mean(y[1000:] ** 2)) < 0.01 * np.sqrt(np.mean(tone ** 2))
    low = np.sin(2 * np.pi * 1000 * t)
    y = sd.Decimate(2).process(low)
    assert np.sqrt(np.mean(y[1000:] ** 2)) > 0.95 * np.sqrt(np.mean(low ** 2))


def test_decimate_each_chunk_returns_the_kept_frames_it_completes():
    dec = sd.Decimate(3, taps=[1.0], phase=2)
    x = np.arange(10.0)
    got = [dec.process(x[a:b]).tolist() for a, b in [(0, 2), (2, 3), (3, 8), (8, 10)]]
    assert got == [[], [2.0], [5.0], [8.0]]
    assert dec.flush().shape == (0,)


def test_decimate_frequency_response_is_freqz_of_its_taps():
    dec = sd.Decimate(3)
    w, h = dec.frequency_response(256, fs=48000)
    w_ref, h_ref = signal.freqz(dec.taps, 1.0, worN=256, fs=48000)
    assert np.allclose(w, w_ref) and np.allclose(h, h_ref)


def test_decimate_reset_forgets_history():
    dec = sd.Decimate(2, taps=np.ones(9))
    dec.process(np.full(5, 100.0))
    dec.reset()
    x = np.random.default_rng(7).standard_normal(50)
    assert_close_to_peak(stream(dec, x, [3]), signal.lfilter(np.ones(9), 1.0, x)[::2], 1e-12)


@pytest.mark.parametrize("kwargs,exc,words", [
    ({"factor": 0}, ValueError, "factor >= 1"),
    ({"factor": 2, "phase": 2}, ValueError, "0 <= phase < factor"),
    ({"factor": 2, "taps": [1.0, 2.0], "ntaps": 5}, ValueError, "either taps or a design"),
    ({"factor": 2, "taps": [[1.0], [2.0]]}, ValueError, "shape (n,)"),
    ({"factor": 2, "taps": [np.inf]}, ValueError, "finite"),
    ({"factor": 2, "ntaps": 0}, ValueError, "ntaps >= 1"),
    ({"factor": 2, "window": "nosuchwindow"}, ValueError, "cannot design"),
    ({"factor": 1, "ntaps": 5}, ValueError, "factor=1"),
])
def test_decimate_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc) as info:
        sd.Decimate(**kwargs)
    assert "Decimate" in str(info.value) and words in str(info.value), str(info.value)


# ----------------------------------------------------------------------------------------------
# rates in pipelines (what the graph layer relies on)

def test_multirate_blocks_chain_in_a_pipeline():
    x = np.random.default_rng(8).standard_normal((2000, 2))
    dec = sd.Decimate(2, ntaps=31)
    pipe = sd.Decimate(2, ntaps=31) >> sd.MaxPool(5, stride=3) >> sd.Downsample(2, phase=1)
    y = stream(pipe, x, [1, 100, 0, 7])
    ref = pool_reference(signal.lfilter(dec.taps, 1.0, x, axis=0)[::2], 5, 3)[1::2]
    assert_close_to_peak(y, ref, 1e-12)


@given(st.lists(st.integers(0, 50), max_size=12))
def test_out_frames_predicts_every_chunk_exactly(sizes):
    # process() sizes its output by _out_frames before the kernel runs; a
    # kernel writing a different count would corrupt or leave garbage, so
    # the output of each chunk must equal the slice of the one-shot output
    x = np.random.default_rng(9).standard_normal(sum(sizes) + 5)
    for make in (lambda: sd.Downsample(3, 2), lambda: sd.Decimate(3, taps=[1.0, 0.5], phase=1),
                 lambda: sd.MaxPool(4, 3), lambda: sd.MaxPool(3, 4)):
        whole = make().process(x)
        b, i, j = make(), 0, 0
        for n in sizes + [5]:
            y = b.process(x[i:i + n])
            assert np.array_equal(y, whole[j:j + len(y)])
            i, j = i + n, j + len(y)
        assert j == len(whole)


_LEVEL_SCRIPT = """
import numpy as np, streamdsp as sd
rng = np.random.default_rng(0)
def ref(x, size, stride):
    return np.array([x[k:k + size].max(axis=0) for k in range(0, len(x), stride)]).reshape(-1, *x.shape[1:])
for dtype in (np.float32, np.float64):
    for shape in ((997,), (997, 3)):
        x = rng.standard_normal(shape).astype(dtype)
        x[[5, 400, 401]] = np.nan
        for size, stride in ((64, 1), (33, 5), (7, 7), (40, 3), (3, 9), (1, 1)):
            mp = sd.MaxPool(size, stride)
            y = np.concatenate([mp.process(x[:100]), mp.process(x[100:]), mp.flush()])
            r = ref(x, size, stride)
            assert y.shape == r.shape and np.array_equal(np.isnan(y), np.isnan(r)), (size, stride)
            assert np.array_equal(y[~np.isnan(y)], r[~np.isnan(r)]), (size, stride)
print("ok")
"""


@pytest.mark.parametrize("level", ["0", "1"])
def test_maxpool_kernels_of_the_lower_instruction_set_levels(level):
    # the pooling kernels are compiled for AVX-512, AVX2 and baseline and
    # picked at run time; STREAMDSP_ISA_LEVEL caps the choice
    run = run_python_code(_LEVEL_SCRIPT, env=python_env(STREAMDSP_ISA_LEVEL=level))
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
