"""Rational rates (API.md "Rates"): a 3/2 block through every container.

``ThreeHalves`` is a test block, not shipped: a stateful Python-level block
with ``up/down = 3/2`` whose output ``k`` is ``x[j] + 0.5 x[j - 1]`` with
``j = floor(2k / 3)`` (a zero-order-hold resampler with one frame of memory).
It follows the rate rule (``floor(N * 3 / 2)`` frames after ``N`` input
frames), so containers know its output count before it runs.
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import signal

import streamdsp as sd
from _support import assert_close_to_peak, tolerance


class ThreeHalves(sd.Block):
    def __init__(self):
        super().__init__(up=3, down=2)
        self.reset()

    @property
    def tail_frames(self):
        return 2        # the outputs at j == N read the last input as x[j - 1]

    def reset(self):
        self._n_in = 0          # input frames so far
        self._n_out = 0         # output frames so far
        self._hist = None       # the last two input frames (rows), for j and j - 1

    def process(self, x, out=None):
        x = np.asarray(x)
        two_d = x.ndim == 2
        x2 = x if two_d else x.reshape(len(x), 1)
        dtype = np.float32 if x.dtype == np.float32 else np.float64
        if self._hist is None:
            self._hist = np.zeros((2, x2.shape[1]), dtype)
        seen = np.concatenate([self._hist, x2.astype(dtype)])     # rows: index - n_in + 2
        total = (self._n_in + len(x2)) * 3 // 2
        k = np.arange(self._n_out, total)
        j = 2 * k // 3 - self._n_in + 2
        y = seen[j] + dtype(0.5) * seen[j - 1]
        # before the stream began, x[-1] is 0
        y[(2 * k // 3) == 0] = seen[j[(2 * k // 3) == 0]]
        self._n_in += len(x2)
        self._n_out = total
        self._hist = seen[-2:].copy()
        return y if two_d else y.reshape(-1)


def oracle(x):
    """ThreeHalves on the whole signal at once."""
    x2 = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    k = np.arange(len(x2) * 3 // 2)
    j = 2 * k // 3
    prev = np.where((j > 0)[:, None], x2[np.maximum(j - 1, 0)], 0.0)
    return x2[j] + 0.5 * prev


def chunked(block, x, sizes):
    """concat(process(chunk) ..., flush()) over the split of x into sizes (then the rest)."""
    outs, i = [], 0
    ch = 1 if x.ndim == 1 else x.shape[1]
    for n in list(sizes) + [len(x)]:
        c = x[i:i + n]
        i += len(c)
        outs.append(as_frames(block.process(c), ch))
    outs.append(as_frames(block.flush(), ch))
    return np.concatenate(outs)


def as_frames(a, channels):
    a = np.asarray(a)
    return a.reshape(a.size // channels, channels)


def noise(frames, channels, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal((frames, max(channels, 1))).astype(dtype)
    return x[:, 0] if channels == 0 else x


SPLITS = st.lists(st.one_of(st.just(0), st.just(1), st.integers(0, 1500)), max_size=8)


def test_the_test_block_follows_the_rate_rule():
    b = ThreeHalves()
    assert (b.up, b.down, b.rate, b.decimation) == (3, 2, Fraction(3, 2), Fraction(2, 3))
    assert [b.max_out_frames(n) for n in (0, 1, 2, 3, 1024)] == [0, 2, 3, 5, 1536]
    x = noise(101, 0, np.float64)
    np.testing.assert_allclose(chunked(ThreeHalves(), x, [1, 0, 3]).ravel(), oracle(x).ravel())


def test_rates_are_reduced_fractions_and_checked():
    assert (sd.Downsample(4).up, sd.Downsample(4).down, sd.Gain(2.0).rate) == (1, 4, 1)

    class SixFour(sd.Block):
        def __init__(self):
            super().__init__(up=6, down=4)
    assert (SixFour().up, SixFour().down) == (3, 2)
    for bad, words in [(dict(up=0), "up"), (dict(down=-2), "down"), (dict(up=1.5), "up"),
                       (dict(up=2 ** 40), "at most")]:
        with pytest.raises((TypeError, ValueError), match=words):
            sd.Block(**bad)
    with pytest.raises(ValueError, match="frames"):
        sd.Gain(1.0).max_out_frames(-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [0, 1, 2])
@given(sizes=SPLITS)
def test_pipeline_around_a_3_2_block_matches_the_oracle_for_any_split(dtype, channels, sizes):
    x = noise(2500, channels, dtype, seed=len(sizes))
    taps = [1.0, -0.5, 0.25]
    p = sd.Gain(2.0) >> ThreeHalves() >> sd.FIR(taps, method="direct")
    assert p.rate == Fraction(3, 2) and p.max_out_frames(1000) == 1500
    got = chunked(p, x, sizes)
    want = signal.lfilter(taps, 1.0, oracle(2.0 * x.astype(np.float64)), axis=0)
    assert_close_to_peak(got, want, tolerance(dtype), f"split {sizes}")


def test_pipeline_pieces_that_grow_fit_its_buffers():
    # five 3/2 stages: 1024 frames in become ~7776 inside; 2.5 pieces' worth in one call
    blocks = [ThreeHalves() for _ in range(5)]
    p = sd.Pipeline(*blocks)
    x = noise(2600, 2, np.float64)
    y = chunked(p, x, [2600])
    want = x
    for _ in blocks:
        want = oracle(want)
    assert p.rate == Fraction(243, 32)
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)


def test_pipeline_back_to_the_input_rate():
    p = ThreeHalves() >> sd.Downsample(3)      # 3/2 * 1/3 = 1/2
    x = noise(999, 1, np.float64)
    y = chunked(p, x, [10, 0, 1, 500])
    assert p.rate == Fraction(1, 2)
    np.testing.assert_allclose(y, oracle(x)[::3], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(sizes=SPLITS)
def test_graph_joins_branches_at_equal_rates_after_a_rational_change(dtype, sizes):
    # branch a lags by 8 input frames before the 3/2 change: 12 frames after it,
    # so the graph delays branch b by 12 output frames to line them up
    g = sd.Graph()
    x_in = g.input()
    a = x_in >> sd.FIR([1.0], method="fft", block_size=8) >> ThreeHalves()
    b = x_in >> ThreeHalves() >> sd.Gain(-0.5)
    g.output(g.add(sd.Add(), a, b))
    assert g.latency == 12 and g.rate == Fraction(3, 2) and (g.up, g.down) == (3, 2)
    x = noise(1800, 2, dtype, seed=len(sizes))
    got = chunked(g, x, sizes)
    o = oracle(x.astype(np.float64))
    assert got.shape == (len(o) + 12, 2)
    assert np.all(got[:12] == 0)
    assert_close_to_peak(got[12:], 0.5 * o, tolerance(dtype, fft=True), f"split {sizes}")


def test_graph_refuses_a_fraction_of_a_frame_with_a_hint():
    g = sd.Graph()
    x_in = g.input()
    a = x_in >> sd.SavitzkyGolay(3, 1, mode="nearest") >> ThreeHalves()   # latency 1 -> 3/2
    b = x_in >> ThreeHalves()
    g.output(g.add(sd.Add(), a, b))
    with pytest.raises(ValueError, match=r"3/2 frames.*change the rate before the blocks with latency"):
        g.process(np.zeros(10))


def test_graph_refuses_to_join_different_rates():
    g = sd.Graph()
    x_in = g.input()
    g.output(g.add(sd.Add(), x_in >> ThreeHalves(), x_in >> sd.Gain(1.0)))
    with pytest.raises(ValueError, match="different rates.*3/2"):
        g.process(np.zeros(10))


def test_graph_tail_and_run_tail_count_at_the_raised_rate():
    taps = np.ones(5)
    chain = ThreeHalves() >> sd.FIR(taps, method="direct")
    assert chain.tail_frames == 2 + 4
    x = noise(300, 0, np.float64)
    y = sd.run(sd.ArraySource(x, chunk_size=64) >> ThreeHalves() >> sd.FIR(taps, method="direct")
               >> sd.ArraySink(), tail=True)
    # 4 input frames of zeros push the 6 tail frames out at the raised rate
    assert len(y) == 450 + 6
    want = np.convolve(oracle(np.r_[x, np.zeros(4)]).ravel(), taps)[:456]
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    g = sd.Graph()
    g.output(g.input() >> ThreeHalves() >> sd.FIR(taps, method="direct"))
    assert g.tail_frames == 6


@pytest.mark.parametrize("sizes", [[0, 1, 1, 700], [1] * 40, [1500]])
def test_runner_pushes_through_a_3_2_block(sizes, tmp_path):
    x = noise(1600, 2, np.float32)
    path = tmp_path / "up.wav"
    ring = sd.RingBuffer(1.0)
    sink = sd.Tee(sd.FileSink(path, samplerate=48000), ring)
    r = sd.Runner(ThreeHalves() >> sd.Gain(0.5) >> sink, samplerate=32000).start()
    i = 0
    for n in sizes + [len(x)]:
        r.push(x[i:i + n])
        i += min(n, len(x) - i)
    r.stop()
    import soundfile
    y, rate = soundfile.read(path, dtype="float32")
    assert ring.samplerate == 48000, "the sinks are told the rate after the 3/2 change"
    assert_close_to_peak(y, 0.5 * oracle(x), tolerance(np.float32))


def test_run_gives_the_sink_the_raised_rate():
    ring = sd.RingBuffer(1.0)
    sd.run(sd.ArraySource(np.zeros(100), chunk_size=7, samplerate=16000) >> ThreeHalves() >> ring)
    assert ring.samplerate == 24000


def test_a_device_output_refuses_a_rate_change_anywhere_inside():
    from streamdsp._io._audio import _keeps_frame_count
    assert _keeps_frame_count(sd.Gain(1.0) >> sd.FIR([1.0, 2.0]))
    assert not _keeps_frame_count(ThreeHalves() >> sd.Downsample(3) >> sd.Gain(1.0))
    assert not _keeps_frame_count(sd.Parallel(sd.Gain(1.0), sd.Gain(2.0)) >> ThreeHalves())


@pytest.mark.parametrize("first", [1, 5, 700])
def test_a_3_2_pipeline_pickled_mid_stream_continues_exactly(first):
    import pickle
    x = noise(3001, 2, np.float32, seed=first)
    whole = chunked(sd.Gain(2.0) >> ThreeHalves() >> sd.FIR([1.0, -0.5, 0.25]), x, [first, 333])
    p = sd.Gain(2.0) >> ThreeHalves() >> sd.FIR([1.0, -0.5, 0.25])
    head = as_frames(p.process(x[:first]), 2)
    q = pickle.loads(pickle.dumps(p, protocol=5))     # an odd input count: the 3/2 count carries over
    rest = chunked(q, x[first:], [333])
    np.testing.assert_array_equal(np.concatenate([head, rest]), whole)


def test_a_latency_before_a_rate_change_counts_at_the_output_rate():
    # SavitzkyGolay(31, 3) holds back 30 frames; after Downsample(3) that is 10
    x = noise(3000, 1, np.float64, seed=3)
    chains = [sd.SavitzkyGolay(31, 3) >> sd.Downsample(3),
              sd.Gain(1.0) >> (sd.SavitzkyGolay(31, 3) >> sd.Downsample(3))]
    g = sd.Graph()
    g.output(g.input() >> sd.SavitzkyGolay(31, 3) >> sd.Downsample(3))
    want = signal.savgol_filter(x, 31, 3, axis=0)[::3]
    for p in chains:
        assert p.latency == g.latency == 10
        got = chunked(p, x, [7, 1, 0, 500])[p.latency:]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    flow = sd.ArraySource(x, 48000) >> chains[0] >> sd.ArraySink()
    assert flow.latency == 10
    # scaled up by a 3/2 block as well
    assert (sd.SavitzkyGolay(31, 3) >> ThreeHalves()).latency == 45


def test_a_latency_that_a_rate_change_leaves_fractional_is_refused_with_the_fix():
    p = sd.SavitzkyGolay(31, 3) >> sd.Downsample(4)      # 30 / 4 frames: no alignment exists
    with pytest.raises(ValueError, match=r"Pipeline: the output lags by 15/2 frames.*change the "
                                         r"rate before the blocks with latency"):
        p.latency
    assert (sd.Downsample(4) >> sd.SavitzkyGolay(31, 3)).latency == 30    # the fix it names
    held = sd.SavitzkyGolay(31, 3) >> sd.Downsample(4)
    assert len(held.process(np.zeros(64))) == 16    # it still streams; only the alignment is undefined
