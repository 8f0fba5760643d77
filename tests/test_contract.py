"""The block contract of API.md sections 1-2, run over every block in conftest.CASES."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from _support import (CASES, assert_close_to_peak, case_tolerance, expected_stream, signal_for,
                      stream)

LAYOUTS = [0, 1, 2]  # 0: (n,), 1: (n, 1), 2: (n, 2)


def _channels(layout):
    return max(layout, 1)


def _check_against_oracle(case, block, x, y):
    """y = concat(process..., flush): `latency` zeros, then the offline result."""
    lat = block.latency
    if not case.multirate:
        assert y.shape[0] == x.shape[0] + lat, "rate-preserving: len(x) + latency frames"
    assert np.all(y[:lat] == 0), "a block's first `latency` frames are zeros"
    assert_close_to_peak(y, expected_stream(case, block, x), case_tolerance(case, x.dtype), case.name)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_offline_oracle(case, layout, dtype):
    x = signal_for(700, layout, dtype)
    block = case.make(_channels(layout))
    y = stream(block, x, [0, 1, 250, 0, 3])
    assert y.dtype == dtype, "float32 is computed in float32, float64 in float64"
    if block.out_channels == block.channels:
        assert y.ndim == x.ndim, "1-D in, 1-D out; 2-D in, 2-D out"
    _check_against_oracle(case, block, x, y)


@pytest.mark.parametrize("case", CASES, ids=str)
@given(data=st.data())
def test_streaming_invariance_over_random_splits(case, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    layout = data.draw(st.sampled_from(LAYOUTS), label="layout")
    frames = data.draw(st.integers(0, 600), label="frames")
    sizes = data.draw(st.lists(st.one_of(st.just(0), st.just(1), st.integers(0, 200)), max_size=12),
                      label="chunk sizes")
    x = signal_for(frames, layout, dtype, seed=frames)
    one_call = stream(case.make(_channels(layout)), x, [])
    block = case.make(_channels(layout))
    split = stream(block, x, sizes)
    assert split.shape == one_call.shape
    assert_close_to_peak(split, one_call, case_tolerance(case, dtype), f"{case.name} split {sizes}")
    _check_against_oracle(case, block, x, split)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_integer_pcm_is_computed_in_float64_on_raw_values(case, layout):
    x = (signal_for(300, layout, np.float64) * 1000).astype(np.int16)
    block = case.make(_channels(layout))
    y = stream(block, x, [100])
    assert y.dtype == np.float64
    _check_against_oracle(case, block, x, y)


def test_non_contiguous_and_fortran_input(case):
    base = signal_for(800, 2, np.float64)
    x_strided = base[::2]                      # every other frame
    x_fortran = np.asfortranarray(base[:400])  # column-major
    for x in (x_strided, x_fortran):
        b1, b2 = case.make(2), case.make(2)
        assert_close_to_peak(stream(b1, x, [33]), stream(b2, np.ascontiguousarray(x), [33]), 0)


def test_later_chunks_are_converted_to_the_streams_dtype(case):
    x = signal_for(200, 1, np.float32)
    b = case.make(1)
    y1 = b.process(x[:100])
    y2 = b.process(x[100:].astype(np.float64))   # converted to float32
    assert y1.dtype == y2.dtype == np.float32
    ref = case.make(1)
    assert_close_to_peak(np.concatenate([y1, y2]), ref.process(x), case_tolerance(case, np.float32))


def test_zero_length_chunks_return_zero_length_output(case):
    b = case.make(2)
    y = b.process(np.zeros((0, 2), dtype=np.float32))
    assert y.shape == (0, b.out_channels) and y.dtype == np.float32
    assert b.channels == 2
    assert b.process(np.zeros((0, 2), dtype=np.float32)).shape == (0, b.out_channels)


BAD_CHUNKS = [
    ("three channels", lambda: np.zeros((10, 3)), ValueError, "channel"),
    ("3-D", lambda: np.zeros((10, 2, 1)), ValueError, "shape"),
    ("string", lambda: "hello", TypeError, "str"),
    ("list of strings", lambda: ["a", "b"], TypeError, "dtype"),
    ("complex", lambda: np.ones((10, 2), dtype=complex), TypeError, "complex"),
    ("0-D", lambda: np.float64(1.0), ValueError, "shape"),
]


@pytest.mark.parametrize("what,bad,exc,words", BAD_CHUNKS, ids=[b[0] for b in BAD_CHUNKS])
def test_bad_chunk_is_rejected_clearly_and_changes_nothing(case, what, bad, exc, words):
    x = signal_for(400, 2, np.float64)
    good = case.make(2)
    expect = stream(good, x, [150])
    b = case.make(2)
    first = b.process(x[:150])
    with pytest.raises(exc) as info:
        b.process(bad())
    msg = str(info.value)
    assert words in msg, msg
    assert type(b).__name__ in msg, f"the message names the block: {msg}"
    rest = b.process(x[150:])
    got = np.concatenate([first, rest, b.flush()])
    assert_close_to_peak(got, expect, 0, f"{case.name} after rejecting {what}")


def test_reset_forgets_history_but_keeps_channels_and_dtype(case):
    x = signal_for(300, 2, np.float32)
    b = case.make(2)
    b.process(x)
    b.reset()
    assert b.channels == 2 and b.dtype == np.float32
    fresh = case.make(2)
    assert_close_to_peak(stream(b, x, [10]), stream(fresh, x, [10]), 0)


def test_noise_then_silence_has_a_tail_only_if_not_reset(case):
    noise = signal_for(300, 0, np.float64)
    silence = np.zeros(200)
    b = case.make(1)
    head = b.process(noise)
    tail = b.process(silence)
    expected = expected_stream(case, b, np.concatenate([noise, silence]))
    n = len(head)
    assert_close_to_peak(tail, expected[n:n + len(tail)], case_tolerance(case, np.float64))
    assert np.any(tail != 0) or not np.any(expected[n:n + len(tail)]), "the history carried over"
    b.reset()
    assert np.all(b.process(silence) == 0)


def test_out_argument_is_written_and_returned(case):
    x = signal_for(257, 2, np.float32)
    b, ref = case.make(2), case.make(2)
    expected = ref.process(x)
    out = np.full(expected.shape, np.nan, dtype=np.float32)
    y = b.process(x, out=out)
    assert y is out
    assert_close_to_peak(out, expected, 0)


def test_out_argument_of_the_wrong_shape_or_dtype_is_rejected(case):
    x = signal_for(64, 2, np.float32)
    b = case.make(2)
    b.process(x)
    with pytest.raises(ValueError, match="shape"):
        b.process(x, out=np.zeros((63, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="dtype"):
        b.process(x, out=np.zeros((64, 2), dtype=np.float64))


def test_out_may_be_the_input_array(case):
    x = signal_for(300, 2, np.float64)
    b, ref = case.make(2), case.make(2)
    expected = ref.process(x)
    buf = x.copy()
    if expected.shape != x.shape:
        # a shape-changing block cannot write over its input: a clear error
        with pytest.raises(ValueError, match=f"{type(b).__name__}: expected out of shape"):
            b.process(buf, out=buf)
        np.testing.assert_array_equal(buf, x)
        return
    y = b.process(buf, out=buf)
    assert y is buf
    assert_close_to_peak(buf, expected, 0)


def test_flush_before_any_chunk_is_empty(case):
    assert case.make(1).flush().shape[0] == 0


def test_repr_names_the_block_and_its_latency(case):
    b = case.make(2)
    r = repr(b)
    assert type(b).__name__ in r and f"latency={b.latency}" in r
