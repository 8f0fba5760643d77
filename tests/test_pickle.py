"""Pickling and deep copies: every block continues its stream bit for bit.

The oracle is the uninterrupted run of the same block over the same
chunks: pickling (protocol 5) or copying mid-stream must change nothing.
"""

import copy
import os
import pickle
import signal as signals
import time

import numpy as np
import pytest
from hypothesis import given, strategies as st

import streamdsp as sd
from _support import CASES, TESTS_DIR, run_python_code, signal_for

FRAMES = 3000
HEAD = [700, 1, 0, 555]      # chunks before the snapshot, a 0- and a 1-frame one among them


def _channels_for(case, layout):
    return 3 if case.per_channel or layout == "multi" else 0


def _make(case, ch):
    return case.make(max(ch, 1))


def _frames(chunks):
    """Concatenate outputs (1-D or 2-D, some empty) as (frames, channels)."""
    chunks = [c.reshape(len(c), -1) for c in chunks if len(c)]
    return np.concatenate(chunks) if chunks else np.zeros((0, 1))


def _feed(block, x, sizes):
    out, i = [], 0
    for n in sizes:
        out.append(block.process(x[i:i + n]))
        i += n
    return out, i


def _pickled(b):
    return pickle.loads(pickle.dumps(b, protocol=5))


# blocks whose coefficients fix the channel count have no mono layout
LAYOUTS = [(case, layout) for case in CASES for layout in ("mono", "multi")
           if not (case.per_channel and layout == "mono")]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case, layout", LAYOUTS, ids=str)
def test_a_pickled_or_copied_block_continues_the_stream_bit_for_bit(case, dtype, layout):
    ch = _channels_for(case, layout)
    x = signal_for(FRAMES, ch, dtype)
    ref_block = _make(case, ch)
    ref = _frames(_feed(ref_block, x, HEAD + [FRAMES])[0] + [ref_block.flush()])
    for snapshot in (_pickled, copy.deepcopy):
        b = _make(case, ch)
        head, i = _feed(b, x, HEAD)
        resumed = snapshot(b)
        assert resumed is not b
        assert (resumed.latency, resumed.channels, resumed.prepared) == (b.latency, b.channels, True)
        got = _frames(head + [resumed.process(x[i:]), resumed.flush()])
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_fresh_block_pickles_as_configured_and_streams_like_the_original(case):
    ch = 3 if case.per_channel else 2
    x = signal_for(1500, ch, np.float64, seed=3)
    a, b = _make(case, ch), _pickled(_make(case, ch))
    assert not b.prepared and repr(b) == repr(a)
    np.testing.assert_array_equal(_frames([b.process(x), b.flush()]), _frames([a.process(x), a.flush()]))


@given(data=st.data())
def test_pickling_at_any_point_of_any_chunking_changes_nothing(data):
    case = data.draw(st.sampled_from(CASES), label="case")
    n = data.draw(st.integers(0, 1200), label="frames")
    sizes = data.draw(st.lists(st.integers(0, 300), max_size=8), label="chunks")
    cut = data.draw(st.integers(0, len(sizes)), label="pickled after chunk")
    x = signal_for(n, 2 if not case.per_channel else 3, np.float32, seed=7)
    ref_block = _make(case, 3)
    ref = _frames(_feed(ref_block, x, sizes + [n])[0] + [ref_block.flush()])
    b = _make(case, 3)
    out, i, k = [], 0, 0
    for size in sizes + [n]:
        if k == cut:
            b = _pickled(b)
        out.append(b.process(x[i:i + size]))
        i += size
        k += 1
    np.testing.assert_array_equal(_frames(out + [b.flush()]), ref)


def test_a_copy_is_independent_of_the_original():
    x = signal_for(2000, 2, np.float64)
    ref = sd.FIR(np.arange(1.0, 40.0), method="fft", block_size=16) >> sd.Delay(9)
    a = sd.FIR(np.arange(1.0, 40.0), method="fft", block_size=16) >> sd.Delay(9)
    ya = [a.process(x[:500])]
    yr = [ref.process(x[:500])]
    b = copy.deepcopy(a)
    b.process(np.full((800, 2), 1e6))      # disturbs the copy only
    b.reset()
    ya.append(a.process(x[500:]))
    yr.append(ref.process(x[500:]))
    np.testing.assert_array_equal(np.concatenate(ya), np.concatenate(yr))


def test_a_graph_with_two_inputs_pickles_mid_stream():
    def make():
        g = sd.Graph()
        a, b = g.input(), g.input()
        wet = a >> sd.FIR(np.r_[np.zeros(40), 1.0], method="fft", block_size=16)
        g.output(g.add(sd.Mix([0.5, 2.0]), wet, b >> sd.Gain(-1.0)))
        return g
    rng = np.random.default_rng(5)
    x0, x1 = rng.standard_normal((900, 2)), rng.standard_normal((900, 2))
    ref = make()
    yr = [ref.process_all(x0[:333], x1[:333]), ref.process_all(x0[333:], x1[333:])]
    g = make()
    y = [g.process_all(x0[:333], x1[:333])]
    g = _pickled(g)
    y.append(g.process_all(x0[333:], x1[333:]))
    for got, want in zip(y, yr):
        np.testing.assert_array_equal(np.concatenate(got), np.concatenate(want))


def test_a_combiner_keeps_the_frames_it_holds_over():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(300), rng.standard_normal(300)
    ref, m = sd.Add(), sd.Add()
    yr = [ref.process(a[:100], b[:60]), ref.process(a[100:], b[60:])]
    y = [m.process(a[:100], b[:60])]
    y.append(_pickled(m).process(a[100:], b[60:]))
    np.testing.assert_array_equal(np.concatenate(y), np.concatenate(yr))


class Accumulate(sd.Block):
    """A Python-level block with state in an attribute (a running sum)."""

    def __init__(self):
        self.total = 0.0

    def process(self, x, out=None):
        y = np.cumsum(x, axis=0) + self.total
        if len(x):
            self.total = float(y[-1])
        return y


def test_a_python_level_block_pickles_its_attributes_inside_a_pipeline():
    x = np.random.default_rng(3).standard_normal(500)
    ref = sd.Gain(2.0) >> Accumulate() >> sd.Delay(3)
    yr = np.concatenate([ref.process(x[:200]), ref.process(x[200:])])
    p = sd.Gain(2.0) >> Accumulate() >> sd.Delay(3)
    y = [p.process(x[:200])]
    y.append(_pickled(p).process(x[200:]))
    np.testing.assert_array_equal(np.concatenate(y), yr)


def test_pickles_hold_configuration_and_state_not_derived_spectra():
    # a 96000-tap Convolver mid-stream: the IR (768 kB) plus the stream's
    # history; the filter's partition spectra are rebuilt on load
    ir = np.random.default_rng(0).standard_normal(96000) * np.exp(-np.arange(96000) / 20000)
    conv = sd.Convolver(ir, block_size=256)
    fresh = len(pickle.dumps(conv, protocol=5))
    assert ir.nbytes < fresh < ir.nbytes + 4096
    conv.process(np.zeros(100, np.float32))
    size = len(pickle.dumps(conv, protocol=5))
    assert size < 4 * ir.nbytes, size     # spectra of the taps would double it again


@pytest.mark.parametrize("make", [
    lambda: sd.RingBuffer(1.0, samplerate=8000, channels=1),
    lambda: sd.Runner(sd.Flow(sd.ArraySource(np.zeros(10)), [sd.Gain(1.0)], sd.ArraySink())),
], ids=["RingBuffer", "Runner"])
def test_live_objects_refuse_naming_their_class(make):
    obj = make()
    name = type(obj).__name__
    with pytest.raises(TypeError, match=f"^{name}: cannot be pickled"):
        pickle.dumps(obj, protocol=5)
    with pytest.raises(TypeError, match=f"^{name}: cannot be pickled"):
        copy.deepcopy(obj)


def test_save_and_load_state_round_trip_with_info(tmp_path):
    x = signal_for(4000, 2, np.float32)
    make = lambda: sd.LTISystem.from_sos([[1.0, 0.3, 0.1, 1.0, -0.9, 0.2]]) >> sd.Decimate(3)
    ref = make()
    yr = np.concatenate([ref.process(x), ref.flush()])
    chain = make()
    y = [chain.process(x[:1234])]
    sd.save_state(chain, tmp_path / "c.state", info={"consumed": 1234})
    resumed, info = sd.load_state(tmp_path / "c.state", info=True)
    y += [resumed.process(x[info["consumed"]:]), resumed.flush()]
    np.testing.assert_array_equal(np.concatenate(y), yr)
    assert os.listdir(tmp_path) == ["c.state"]       # no temporary file left


def test_load_state_refuses_a_file_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "a").write_bytes(pickle.dumps([1, 2, 3]))
    (tmp_path / "b").write_bytes(b"not a pickle")
    for name in "ab":
        with pytest.raises(ValueError, match="load_state: expected a streamdsp checkpoint"):
            sd.load_state(tmp_path / name)
    with pytest.raises(TypeError, match="save_state: expected a streamdsp block"):
        sd.save_state([1], tmp_path / "c")


# A child that filters a long input in chunks, appending each output to a
# raw file and checkpointing after it.  Killed at any moment and started
# again, it resumes from the checkpoint: it first cuts the output back to
# the length the checkpoint recorded, so a chunk written after the last
# checkpoint is neither lost nor repeated.
_CHILD = r"""
import os, sys, numpy as np, streamdsp as sd
src, out, state = sys.argv[1:4]
x = np.load(src)
if os.path.exists(state):
    chain, (pos, written) = sd.load_state(state, info=True)
else:
    chain, pos, written = (sd.FIR(np.hanning(301), method="fft", block_size=64)
                           >> sd.LTISystem.from_sos([[0.2, 0.4, 0.2, 1.0, -0.5, 0.3]])
                           >> sd.Downsample(3)), 0, 0
with open(out, "ab") as f:
    f.truncate(written * x.shape[1] * 8)
    f.seek(0, 2)
    while pos < len(x):
        y = chain.process(x[pos:pos + 777])
        f.write(y.tobytes()); f.flush(); os.fsync(f.fileno())
        pos = min(pos + 777, len(x)); written += len(y)
        sd.save_state(chain, state, info=(pos, written))
    y = chain.flush()
    f.truncate(written * x.shape[1] * 8); f.seek(0, 2)
    f.write(y.tobytes())
print("done", written + len(y))
"""


def test_a_killed_run_resumes_from_its_checkpoint_with_no_sample_lost_or_repeated(tmp_path):
    import subprocess
    import sys
    from _support import python_env
    x = np.random.default_rng(11).standard_normal((1_500_000, 2))
    np.save(tmp_path / "x.npy", x)
    args = [str(tmp_path / n) for n in ("x.npy", "y.raw", "c.state")]
    kills, logs = 0, []
    # kill soon after a checkpoint exists (a late kill may find the run already done)
    for delay in (0.05, 0.2, 0.1, 0.0, 0.3):
        if kills >= 3:
            break
        child = subprocess.Popen([sys.executable, "-c", _CHILD, *args], cwd=TESTS_DIR, env=python_env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # kill it mid-run, once a checkpoint exists (not before: nothing to resume)
        t0 = time.monotonic()
        while not os.path.exists(args[2]) and child.poll() is None and time.monotonic() - t0 < 60:
            time.sleep(0.01)
        time.sleep(delay)
        if child.poll() is None:
            child.send_signal(signals.SIGKILL)
            kills += 1
        logs.append(child.communicate())
    done = run_python_code(_CHILD, *args, timeout=300)
    assert done.returncode == 0, (done.stderr, logs)
    assert kills >= 2, logs
    ref_chain = (sd.FIR(np.hanning(301), method="fft", block_size=64)
                 >> sd.LTISystem.from_sos([[0.2, 0.4, 0.2, 1.0, -0.5, 0.3]]) >> sd.Downsample(3))
    ref = [ref_chain.process(x[i:i + 777]) for i in range(0, len(x), 777)] + [ref_chain.flush()]
    ref = np.concatenate(ref)
    got = np.fromfile(args[1]).reshape(-1, 2)
    assert done.stdout.split() == ["done", str(len(ref))]
    np.testing.assert_array_equal(got, ref)


def test_a_configuration_pickle_loads_as_a_new_block_for_any_channel_count():
    from streamdsp._core._block import configuration_pickle
    chain = sd.FIR(np.hanning(9), method="fft", block_size=8) >> sd.Delay(2)
    chain.process(np.ones(50))
    fresh = pickle.loads(configuration_pickle(chain))
    assert not fresh.prepared and chain.prepared
    x = signal_for(300, 2, np.float64)
    ref = sd.FIR(np.hanning(9), method="fft", block_size=8) >> sd.Delay(2)
    np.testing.assert_array_equal(fresh.process(x), ref.process(x))
    assert pickle.loads(pickle.dumps(chain)).prepared      # an ordinary pickle keeps the stream


def test_a_flow_without_a_runner_pickles_and_runs_alike():
    x = signal_for(5000, 2, np.float32)
    make = lambda: (sd.ArraySource(x, chunk_size=512) >> sd.FIR(np.hanning(33), method="fft", block_size=16)
                    >> sd.SavitzkyGolay(9, 2) >> sd.ArraySink())
    np.testing.assert_array_equal(sd.run(pickle.loads(pickle.dumps(make(), protocol=5))), sd.run(make()))


@pytest.mark.parametrize("spread", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_long_convolver_pickled_in_the_middle_of_its_periods_continues_exactly(spread, dtype):
    # 300 000 taps at block 256: levels up to blocks of 16384 (FFTs of 2**15
    # points, sliced when spread), whose work runs across 64 calls; pickle
    # in the middle of such periods
    rng = np.random.default_rng(5)
    ir = rng.standard_normal((300_000, 2)) * np.exp(-np.arange(300_000) / 9000.0)[:, None]
    x = rng.standard_normal((90_000, 2)).astype(dtype)
    whole = sd.Convolver(ir, block_size=256, spread=spread)
    assert whole.plan[-1][0] == 16384
    want = np.concatenate([whole.process(x[i:i + 256]) for i in range(0, len(x), 256)])
    conv = sd.Convolver(ir, block_size=256, spread=spread)
    got, i = [], 0
    for cut in (16384 * 2 + 256 * 10 + 17, 16384 * 3 + 256 * 33 + 40, 16384 * 5 - 1):
        while i + 256 <= cut:
            got.append(conv.process(x[i:i + 256]))
            i += 256
        got.append(conv.process(x[i:cut]))
        i = cut
        conv = pickle.loads(pickle.dumps(conv, protocol=5))
    got.append(conv.process(x[i:]))
    assert conv.spread == spread
    np.testing.assert_array_equal(np.concatenate(got), want)
