"""Pipelines: `>>`, the list interface, latency sums and flushing through the chain."""

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd
from _support import assert_close_to_peak, stream


def test_rshift_builds_a_flat_pipeline_whose_latency_is_the_sum():
    a = sd.FIR(np.ones(10), method="fft", block_size=16)
    b = sd.Gain(2.0)
    c = sd.FIR(np.ones(300), method="fft", block_size=64)
    p = a >> b >> c
    assert isinstance(p, sd.Pipeline)
    assert len(p) == 3 and p[0] is a and p[-1] is c
    assert p.latency == 16 + 64


def test_pipeline_equals_blocks_run_one_after_another():
    x = np.random.default_rng(0).standard_normal((3000, 2))
    make = lambda: [sd.FIR(np.hanning(40), method="fft", block_size=32), sd.Delay(3),
                    sd.FIR(np.hanning(7), method="direct"), sd.Gain(-1.0)]
    p = sd.Pipeline(*make())
    got = stream(p, x, [1, 0, 999, 1500])
    y = x
    lat = 0
    for b in make():
        y = stream(b, y, [])
        lat += b.latency
    # each flush pushes `latency` more frames; running the blocks one by one
    # flushes every block, so compare the part both cover
    assert got.shape == (3000 + p.latency, 2)
    assert_close_to_peak(got, y[:got.shape[0]], 1e-12)


def test_pipeline_flush_passes_held_back_output_through_later_blocks():
    taps = np.random.default_rng(1).standard_normal(50)
    p = sd.FIR(taps, method="fft", block_size=64) >> sd.FIR(taps, method="fft", block_size=16)
    x = np.random.default_rng(2).standard_normal(30)  # shorter than one block
    y = stream(p, x, [])
    ref = signal.lfilter(taps, 1.0, signal.lfilter(taps, 1.0, x))
    assert y.shape == (30 + 80,)
    assert_close_to_peak(y[80:], ref, 1e-11)


def test_pipeline_list_interface_before_streaming_only():
    p = sd.Pipeline()
    p.append(sd.Gain(2.0))
    p.insert(0, sd.Delay(1))
    assert [type(b).__name__ for b in p] == ["Delay", "Gain"]
    p.process(np.ones(4))
    with pytest.raises(RuntimeError, match="streaming"):
        p.append(sd.Gain(1.0))


def test_pipeline_refuses_the_same_block_twice():
    g = sd.Gain(2.0)
    with pytest.raises(ValueError, match="twice"):
        g >> sd.Delay(1) >> g


def test_pipeline_refuses_non_blocks():
    with pytest.raises(TypeError, match="Pipeline: expected a streamdsp block"):
        sd.Pipeline(sd.Gain(1.0), lambda x: x)


def test_empty_pipeline_is_identity():
    x = np.arange(10.0)
    np.testing.assert_array_equal(sd.Pipeline().process(x), x)


def test_pipeline_channel_error_names_the_block():
    p = sd.Gain(1.0) >> sd.FIR(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"block 1 \(FIR\)"):
        p.process(np.zeros((8, 3)))
    assert not p.prepared, "a failed setup leaves the pipeline unprepared"
    assert p.process(np.zeros((8, 2))).shape == (8, 2)


def test_pipeline_repr_lists_its_blocks():
    r = repr(sd.Gain(2.0) >> sd.Delay(1) >> sd.FIR([1.0, 2.0]))
    assert r.startswith("<Pipeline with 3 blocks: [<Gain") and "<FIR ntaps=2" in r
