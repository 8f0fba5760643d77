"""Graphs: building, alignment, errors at build time, multi-input/output, flush, stats, drawing."""

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd
from _support import assert_close_to_peak, stream


def test_dry_wet_of_a_latency_256_path_lines_up_sample_for_sample():
    ir = np.zeros(1000)
    ir[0] = 1.0                       # the wet path is an identity with latency 256
    g = sd.Graph()
    x = g.input()
    wet = x >> sd.FIR(ir, method="fft", block_size=256)
    g.output(g.add(sd.Add(), x >> sd.Gain(-1.0), wet))
    sig = np.random.default_rng(0).standard_normal(5000)
    y = stream(g, sig, [100, 1, 0, 3000])
    assert g.latency == 256
    assert np.max(np.abs(y)) < 1e-12, "dry (-x) and wet (+x) cancel exactly once aligned"


def test_alignment_delays_appear_in_the_dot_text():
    g = sd.Graph()
    x = g.input("mic")
    a = x >> sd.FIR(np.ones(300), method="fft", block_size=128)
    b = x >> sd.Gain(0.5)
    g.output(g.add(sd.Add(), a, b, name="sum"))
    dot = g.to_dot()
    assert '"mic" -> "FIR0"' in dot and 'label="delay 128"' in dot and '"sum" -> "out0"' in dot


def test_fan_out_nodes_read_the_same_buffer_and_process_once():
    g = sd.Graph(profile=True)
    x = g.input()
    shared = x >> sd.FIR(np.hanning(9))
    g.output(g.add(sd.Concatenate(), shared >> sd.Gain(1.0), shared >> sd.Gain(2.0)))
    y = g.process(np.ones(2000))
    assert y.shape == (2000, 2)
    np.testing.assert_allclose(y[:, 1], 2 * y[:, 0])
    st = g.stats()
    assert st["FIR0"]["frames"] == 2000 and st["FIR0"]["calls"] == 2   # 2 pieces of <= 1024
    assert st["FIR0"]["seconds"] > 0


def test_multi_input_multi_output_graph():
    g = sd.Graph()
    left, right = g.input("left"), g.input("right")
    prod = g.add(sd.Multiply(), left, right)
    g.output(prod)
    g.output(g.add(sd.Add(), left >> sd.Delay(2), right))
    a = np.arange(10.0)
    b = np.full(10, 2.0)
    y_prod, y_sum = g.process_all(a, b)
    np.testing.assert_array_equal(y_prod, 2 * a)
    np.testing.assert_array_equal(y_sum, np.r_[0, 0, a[:-2]] + 2)
    with pytest.raises(ValueError, match="one input and one output"):
        sd.Graph.process(g, a)


def test_process_all_names_the_bad_input_and_changes_nothing():
    # Graph.process_all validates like Combiner.process (Block._accept): the
    # error says which input, and a rejected first call fixes no dtype.
    g = sd.Graph()
    left, right = g.input("left"), g.input("right")
    g.output(g.add(sd.Add(), left, right))
    a = np.arange(4.0)
    with pytest.raises(TypeError, match=r"^Graph: input 1: complex samples are not supported"):
        g.process_all(a, a + 1j)
    assert not g.prepared
    (y,) = g.process_all(a.astype(np.float32), a)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, 2 * a)


def test_graph_flush_pushes_held_back_frames_through_later_nodes():
    taps = np.random.default_rng(3).standard_normal(40)
    g = sd.Graph()
    x = g.input()
    g.output(x >> sd.FIR(taps, method="fft", block_size=64) >> sd.FIR(taps, method="fft", block_size=16))
    sig = np.random.default_rng(4).standard_normal(30)   # shorter than a block
    y = stream(g, sig, [])
    assert y.shape == (30 + 80,)
    assert_close_to_peak(y[80:], signal.lfilter(taps, 1, signal.lfilter(taps, 1, sig)), 1e-11)


def test_a_cycle_is_refused_naming_the_nodes():
    g = sd.Graph()
    x = g.input()
    a = g.add(sd.Add(), x, name="a")
    b = a >> sd.Gain(0.5)
    with pytest.raises(ValueError, match="cycle .*a.*Gain0.*a"):
        g.connect(b, a)


def test_unconnected_and_miswired_nodes_are_refused_at_build_time():
    g = sd.Graph()
    x = g.input()
    lonely = g.add(sd.Gain(1.0), name="lonely")
    g.output(x >> sd.Gain(2.0))
    with pytest.raises(ValueError, match="lonely has no input"):
        g.process(np.ones(4))
    g2 = sd.Graph()
    x2 = g2.input()
    two = g2.add(sd.Gain(1.0), x2, x2 >> sd.Gain(2.0), name="two")
    g2.output(two)
    with pytest.raises(ValueError, match="two takes one input.*Add, Mix"):
        g2.latency
    g3 = sd.Graph()
    g3.input()
    with pytest.raises(ValueError, match="no output"):
        g3.process(np.ones(3))


def test_joining_branches_of_different_rates_is_an_error_at_build_time():
    if not hasattr(sd, "Downsample"):
        pytest.fail("Downsample is part of the 1x1 family issue and must exist")
    g = sd.Graph()
    x = g.input()
    g.output(g.add(sd.Add(), x >> sd.Downsample(2), x >> sd.Gain(1.0), name="join"))
    with pytest.raises(ValueError, match="join joins branches of different rates"):
        g.latency


def test_channel_mismatch_between_connected_nodes_names_them_and_changes_nothing():
    g = sd.Graph()
    x = g.input()
    g.output(g.add(sd.FIR(np.ones((3, 2))), x >> sd.Gain(1.0), name="stereo_fir"))
    with pytest.raises(ValueError, match="stereo_fir fed by Gain0"):
        g.process(np.zeros((5, 3)))
    assert not g.prepared
    assert g.process(np.zeros((5, 2))).shape == (5, 2)


def test_a_block_can_be_in_only_one_node():
    g = sd.Graph()
    x = g.input()
    gain = sd.Gain(1.0)
    g.add(gain, x)
    with pytest.raises(ValueError, match="already node"):
        g.add(gain, x)


def test_graph_cannot_change_while_streaming():
    g = sd.Graph()
    x = g.input()
    g.output(x >> sd.Gain(1.0))
    g.process(np.ones(3))
    with pytest.raises(RuntimeError, match="streaming"):
        g.add(sd.Gain(1.0), x)


def test_parallel_is_a_block_with_the_largest_latency():
    p = sd.Parallel(sd.FIR(np.ones(10), method="fft", block_size=32), sd.Gain(1.0),
                    sd.FIR(np.ones(10), method="fft", block_size=8))
    assert isinstance(p, sd.Block) and p.latency == 32
    with pytest.raises(ValueError, match="combine"):
        sd.Parallel(sd.Gain(1.0), combine="max")


def test_combiners_standalone_with_unequal_chunks_carry_the_rest():
    add = sd.Add()
    y1 = add.process(np.arange(5.0), np.arange(3.0))
    assert y1.tolist() == [0.0, 2.0, 4.0]
    y2 = add.process(np.arange(5.0, 7.0), np.arange(3.0, 7.0))
    assert y2.tolist() == [6.0, 8.0, 10.0, 12.0]
    mix = sd.Mix([2.0, -1.0])
    np.testing.assert_array_equal(mix.process(np.ones((4, 2)), np.ones((4, 1))), np.ones((4, 2)))
    with pytest.raises(ValueError, match="Mix: expected 2 input chunks"):
        mix.process(np.ones(4))


def test_graph_plot_writes_a_png(tmp_path):
    g = sd.Graph()
    x = g.input()
    g.output(g.add(sd.Add(), x >> sd.Gain(2.0), x >> sd.FIR(np.ones(500), method="fft", block_size=64)))
    path = g.plot(tmp_path / "g.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_graph_is_plain_python_over_the_compiled_executor():
    import inspect

    from streamdsp._graph._executor import GraphExecutor

    assert sd.Graph.__module__ == "streamdsp._graph._graph" and issubclass(sd.Graph, GraphExecutor)
    assert issubclass(sd.Parallel, sd.Graph)
    assert str(inspect.signature(sd.Graph)) == "(profile=False)"
    g = sd.Graph()
    x = g.input()
    g.output(x >> sd.Gain(2.0) >> sd.Delay(3))
    # a Python class over the executor still runs without the interpreter
    assert g.gil_free and sd.Parallel(sd.Gain(1.0), sd.Delay(2)).gil_free
    np.testing.assert_array_equal(g.process(np.arange(5.0)), 2.0 * np.r_[0.0, 0.0, 0.0, 0.0, 1.0])
