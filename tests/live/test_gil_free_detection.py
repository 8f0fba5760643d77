"""Which graphs can run in the C callback: every block compiled, none with a Python ``process``.

No audio server needed: this is the decision AudioStream makes before it
opens a stream (``gil_free``), checked on its own.
"""

import numpy as np

import streamdsp as sd
from streamdsp._io._audio import python_blocks


class PyGain(sd.Block):
    def process(self, x, out=None):
        return 2 * np.asarray(x)


class Hall(sd.FIR):
    """A Python subclass that only configures a compiled block: still compiled."""

    def __init__(self):
        super().__init__(np.r_[1.0, 0.5, 0.25], method="direct")


def test_compiled_blocks_chains_and_graphs_need_no_interpreter():
    g = sd.Graph()
    x = g.input()
    g.output(g.add(sd.Add(2), g.add(sd.Gain(1.0), x), g.add(sd.Delay(3) >> Hall(), x)))
    for graph in (sd.Gain(1.0), sd.FIR([1.0, 2.0]) >> sd.Delay(2), Hall(),
                  sd.Parallel(sd.Gain(0.5), sd.FIR(np.ones(4), method="fft") >> sd.Gain(2.0)), g):
        assert python_blocks(graph) == [], graph


def test_python_blocks_are_found_wherever_they_are():
    inner = PyGain()
    assert python_blocks(inner) == [inner]
    chain = sd.Gain(1.0) >> (sd.Delay(1) >> inner)
    assert python_blocks(chain) == [inner]
    par = sd.Parallel(sd.Gain(1.0), PyGain())
    assert [type(b) for b in python_blocks(par)] == [PyGain]
    fn = lambda a: a  # noqa: E731
    assert python_blocks(fn) == [fn]


def test_graph_with_python_blocks_gets_a_gil_runner_not_a_refusal():
    # The GIL fallback used to refuse a Graph holding Python blocks ("cannot
    # run live yet"); graphs run them themselves now, so the runner is theirs.
    from streamdsp._io._audio import _python_runner

    par = sd.Parallel(sd.Gain(1.0), PyGain())
    x = np.arange(8, dtype=np.float32)
    np.testing.assert_array_equal(_python_runner(par)(x), 3 * x)
