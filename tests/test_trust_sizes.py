"""Absurd sizes get a clear error naming the block, never a crash (issue 9, items 1, 4, 15, 16).

Calls that crashed (a wrapped buffer size overrun, a segfault in scipy's
design) or were OOM-killed before run in child processes, so that a crash is
a failure and not the end of the test session.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd
from _support import assert_close_to_peak, python_env, run_python_code, tolerance

# A child runs one call and prints the exception it raised (or "no error").
_CHILD = """
import resource, sys
import numpy as np, streamdsp as sd
if len(sys.argv) > 2:
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    exec(sys.argv[1])
except Exception as e:
    print(f"{type(e).__name__}|{e}")
else:
    print("no error")
"""


def _child(call, address_limit=None):
    """(exception type name, message) of ``call`` run in a child; asserts it did not crash."""
    args = [call] + ([address_limit] if address_limit else [])
    run = run_python_code(_CHILD, *args, timeout=300)
    assert run.returncode == 0, f"{call}: child died with {run.returncode}: {run.stderr[-2000:]}"
    kind, _, msg = run.stdout.strip().partition("|")
    return kind, msg


def _mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return None


# ---------------------------------------------------------------------------
# item 1: sizes that wrapped; every allocation goes through alloc_frames

@pytest.mark.parametrize("call, block, size", [
    ("sd.Delay(2**61).process(np.ones(5000))", "Delay", "2**61 frames x 1 channels x 8 bytes"),
    ("sd.MaxPool(2**61, stride=1).process(np.ones(100))", "MaxPool", "2**61 frames x 1 channels"),
    ("sd.Delay(2**59).process(np.ones((10, 8)))", "Delay", "2**59 frames x 8 channels x 8 bytes"),
    ("sd.Delay(2**20).prepare(2**42)", "Delay", "2**20 frames x 2**42 channels x 4 bytes"),
    ("sd.Delay(2**20).prepare(2**42, 'float64')", "Delay", "2**20 frames x 2**42 channels x 8"),
    ("sd.MaxPool(2**60, stride=3).process(np.ones((10, 4), np.float32))", "MaxPool", "2**60 frames"),
    ("sd.Decimate(2**40, taps=[1.0]).process(np.ones(4))", "Decimate", "2**40 frames"),
    ("(sd.Gain(1.0) >> sd.Delay(2**61)).process(np.ones(64))", "Delay", "2**61 frames"),
])
def test_wrapping_sizes_are_a_memory_error_naming_the_block(call, block, size):
    kind, msg = _child(call)
    assert kind == "MemoryError", msg
    assert msg.startswith(f"{block}: cannot allocate {size}"), msg


def test_a_request_beyond_the_free_memory_names_the_block_and_what_is_free():
    d = sd.Delay(10**12)
    with pytest.raises(MemoryError, match=r"^Delay: cannot allocate 1000000000000 frames x 1 "
                                          r"channels x 8 bytes \(7.28 TiB\): only .* of memory "
                                          r"is available$"):
        d.process(np.ones(5))
    with pytest.raises(MemoryError, match=r"^RingBuffer: cannot allocate 600000000000 frames x 2"):
        sd.RingBuffer(1e7, 48000, channels=2)


def test_a_refused_allocation_leaves_the_block_usable():
    d = sd.Delay(3)
    with pytest.raises(MemoryError, match="^Delay: cannot allocate 3 frames x 2\\*\\*62 channels"):
        d.prepare(2**62)
    x = np.arange(10.0)
    np.testing.assert_array_equal(d.process(x), np.concatenate([np.zeros(3), x[:7]]))


def _cli_process(tmp_path, chain, channels):
    """``streamdsp process`` over a short silent file with ``--chain chain``, in a child."""
    import soundfile as sf
    src = tmp_path / "in.wav"
    sf.write(str(src), np.zeros((4800, channels)), 48000)
    return subprocess.run([sys.executable, "-m", "streamdsp", "process", str(src),
                           str(tmp_path / "out.wav"), "--chain", chain],
                          env=python_env(), capture_output=True, text=True, timeout=300,
                          cwd=os.path.dirname(os.path.abspath(__file__)))


def test_cli_delay_of_2_to_the_61_is_a_one_line_error(tmp_path):
    run = _cli_process(tmp_path, "delay:2305843009213693952", 2)
    assert run.returncode in (1, 2), (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr
    assert "Delay: cannot allocate 2**61 frames x 2 channels" in run.stderr, run.stderr
    assert not (tmp_path / "out.wav").exists()


# ---------------------------------------------------------------------------
# sizes refused at construction (item 16): a ValueError naming the parameter

@pytest.mark.parametrize("make, message", [
    (lambda: sd.Delay(2**63), r"^Delay: expected samples < 2\*\*62 .*got 9223372036854775808$"),
    (lambda: sd.Delay(2**62), r"^Delay: expected samples < 2\*\*62"),
    (lambda: sd.MaxPool(2**64), r"^MaxPool: expected size < 2\*\*62"),
    (lambda: sd.MaxPool(4, stride=2**63), r"^MaxPool: expected stride < 2\*\*62"),
    (lambda: sd.Downsample(2**63), r"^Downsample: expected stride < 2\*\*62"),
    (lambda: sd.Decimate(2**63), r"^Decimate: expected factor < 2\*\*62"),
    (lambda: sd.FIR(np.ones(100), method="fft", block_size=4),
     r"^FIR: expected block_size >= 8 for method='fft', got 4$"),
    (lambda: sd.FIR(np.ones(100), method="fft", block_size=2**62),
     r"^FIR: block_size 2\*\*62 would need an FFT of 2\*\*63 points; expected block_size "
     r"<= 2\*\*29 \(FFTs of at most 2\*\*30 points\)$"),
    (lambda: sd.FIR(np.ones(100), method="fft", block_size=2**30), r"^FIR: block_size 2\*\*30 "),
    (lambda: sd.Correlator(np.ones(10), block_size=2**40),
     r"^Correlator: block_size 2\*\*40 would need an FFT of 2\*\*41 points"),
    (lambda: sd.Convolver(np.ones(10), block_size=2**31),
     r"^Convolver: block_size 2\*\*31 would need an FFT of 2\*\*32 points"),
    (lambda: sd.Convolver(np.ones(10), max_block=2**30),
     r"^Convolver: expected max_block <= 536870912, got 1073741824$"),
    (lambda: sd.DelayEstimator(2**62), r"^DelayEstimator: expected window < 2\*\*62"),
    (lambda: sd.DelayEstimator(2**40),
     r"^DelayEstimator: window \+ max_lag = 1649267441664 would need an FFT of 2\*\*41 points; "
     r"expected window \+ max_lag <= 2\*\*30$"),
    (lambda: sd.DelayEstimator(2**20, max_lag=2**62), r"^DelayEstimator: expected max_lag < 2\*\*62"),
    (lambda: sd.SavitzkyGolay(2**21 + 2, 3),
     r"^SavitzkyGolay: expected window_length <= 2097153, got 2097154$"),
])
def test_absurd_sizes_are_refused_at_construction(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_fft_block_sizes_at_the_limits_are_accepted():
    # the smallest block the partitioned engine runs, against scipy
    h = np.random.default_rng(1).standard_normal(40)
    x = np.random.default_rng(2).standard_normal(300)
    fir = sd.FIR(h, method="fft", block_size=8)
    y = np.concatenate([fir.process(x), fir.flush()])[8:]
    assert_close_to_peak(y, signal.lfilter(h, 1.0, x), tolerance(np.float64, fft=True))
    # the largest is accepted at construction (its memory is checked when it is prepared)
    assert sd.FIR(h, method="fft", block_size=2**29).latency == 2**29
    assert sd.DelayEstimator(2**29, max_lag=2**29 - 1).nfft == 2**30


def test_fft_wrapper_refuses_sizes_beyond_the_kernel():
    from streamdsp._core._fft import RealFFT
    with pytest.raises(ValueError, match=r"2 \.\. 2\*\*30"):
        RealFFT(2**31)


# ---------------------------------------------------------------------------
# item 4: the savgol design crashed the process

def test_savgol_absurd_window_is_refused_before_the_design():
    kind, msg = _child("sd.SavitzkyGolay(100000001, 3)")
    assert kind == "ValueError", msg
    assert msg == "SavitzkyGolay: expected window_length <= 2097153, got 100000001"


def test_savgol_longest_window_still_matches_scipy():
    K = 2**21 + 1
    sg = sd.SavitzkyGolay(K, 2, mode="constant")
    assert sg.window_length == K
    np.testing.assert_allclose(sg.coeffs[K // 2 - 3:K // 2 + 4],
                               signal.savgol_coeffs(K, 2, use="conv")[K // 2 - 3:K // 2 + 4],
                               rtol=1e-9)


def test_cli_savgol_absurd_window_is_a_one_line_error(tmp_path):
    run = _cli_process(tmp_path, "savgol:100000001,3", 1)
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr
    assert "expected window_length <= 2097153, got 100000001" in run.stderr
    # one line, the block named once (not "savgol: SavitzkyGolay: ...")
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "savgol: SavitzkyGolay" not in run.stderr


# ---------------------------------------------------------------------------
# item 15: buffers scale with what the block needs

_RSS = """
import resource, sys
import numpy as np, scipy.signal, streamdsp as sd
sd.Decimate(2).process(np.ones(4))          # imports and first-call costs out of the way
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
exec(sys.argv[1])
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


def test_decimate_by_48000_takes_megabytes_not_gigabytes():
    # was 1967 MB (factor x 512 frames per channel); the taps alone hold 960001
    # frames, and history for them is ntaps x 8 channels x 8 bytes = 61 MB
    run = run_python_code(_RSS, "sd.Decimate(48000).process(np.ones((10, 8)))", timeout=300)
    assert run.returncode == 0, run.stderr
    grown = int(run.stdout)
    assert grown < 200 * 2**20, f"Decimate(48000) on 8 channels grew the peak RSS by {grown / 2**20:.0f} MB"


@pytest.mark.parametrize("factor", [300, 5000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_decimate_with_fewer_outputs_per_pass_matches_scipy(factor, dtype):
    # factors above 256 compute fewer than 512 outputs per pass
    rng = np.random.default_rng(factor)
    x = rng.standard_normal((40 * factor + 17, 2)).astype(dtype)
    dec = sd.Decimate(factor, 4 * factor + 1)
    ys, i = [], 0
    for n in (1, factor - 1, 3 * factor + 5, 7, 20 * factor):
        ys.append(dec.process(x[i:i + n]))
        i += n
    ys.append(dec.process(x[i:]))
    y = np.concatenate(ys)
    ref = signal.lfilter(dec.taps, 1.0, x.astype(np.float64), axis=0)[::factor]
    assert y.dtype == dtype
    assert_close_to_peak(y, ref, 20 * tolerance(dtype))


def test_delay_estimator_too_large_for_the_machine_is_a_clear_memory_error():
    # An address-space limit keeps the child safe on any machine: if the free
    # memory check lets the request through, the allocation itself fails.
    kind, msg = _child("sd.DelayEstimator(2**28).process(np.ones((10, 2)))",
                       address_limit=6 * 2**30)
    assert kind == "MemoryError", msg
    assert msg.startswith("DelayEstimator: "), msg
    assert "2**29 points" in msg, msg


def test_delay_estimator_is_refused_before_its_memory_is_touched():
    # 2**30-point FFT in float64: the plan and buffers need 64 GiB
    avail = _mem_available()
    if avail is None or avail > 60 * 2**30:
        pytest.skip("needs a machine with less than 60 GiB free")
    run = run_python_code(_RSS, """
try:
    sd.DelayEstimator(2**29, max_lag=2**29 - 1).process(np.ones((10, 2)))
except MemoryError as e:
    print(e)
""", timeout=300)
    assert run.returncode == 0, run.stderr
    msg, grown = run.stdout.strip().rsplit("\n", 1)
    assert msg.startswith("DelayEstimator: cannot plan an FFT of 2**30 points with its buffers "
                          "(64 GiB): only "), msg
    assert int(grown) < 100 * 2**20


def test_convolver_allocation_error_names_the_convolver_not_its_head():
    # The Convolver's zero-latency head is a direct FIR inside it; the error
    # used to say "FIR: cannot allocate ...", a block the user never built.
    with pytest.raises(MemoryError, match=r"^Convolver: cannot allocate"):
        sd.Convolver(np.ones(10)).prepare(2**40)
