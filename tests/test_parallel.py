"""sd.parallel.apply: a chain over a chunked Dask array equals the single stream bit for bit."""

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import signal

import streamdsp as sd

RNG = np.random.default_rng(21)
IR = RNG.standard_normal(3000) * np.exp(-np.arange(3000) / 600)


def single_stream(make, x):
    """The oracle: one fresh chain over the whole array, latency dropped, flush kept."""
    chain = make()
    return np.concatenate([chain.process(x), chain.flush()])[chain.latency:]


CHAINS = {
    "FIR-direct": lambda: sd.FIR(np.hanning(41), method="direct"),
    "FIR-fft": lambda: sd.FIR(np.sinc(np.arange(-255, 256) / 4),
                              method="fft", block_size=64),
    "Convolver": lambda: sd.Convolver(IR, block_size=64, max_block=1024),
    "Convolver-latency": lambda: sd.Convolver(IR, block_size=128, latency=None),
    "SavitzkyGolay-interp": lambda: sd.SavitzkyGolay(31, 3),
    "SavitzkyGolay-mirror-fft": lambda: sd.SavitzkyGolay(301, 4, mode="mirror", method="fft"),
    "chain": lambda: (sd.FIR(np.hanning(511), method="fft", block_size=128)
                      >> sd.SavitzkyGolay(31, 3, mode="nearest") >> sd.Delay(7) >> sd.Gain(0.5)),
    "mixer": lambda: sd.FIR(np.hanning(9)) >> sd.ChannelMixer([[0.5, 0.5, 0.0], [0.0, 1.0, -1.0]]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CHAINS)
def test_time_chunks_give_the_single_stream_bit_for_bit(name, dtype):
    ch = 3
    x = RNG.standard_normal((20_011, ch)).astype(dtype)
    ref = single_stream(CHAINS[name], x)
    for chunks in [(5000, ch), ((1, 999, 4000, 7, 15_004), (1, 2)), (20_011, ch)]:
        y = sd.parallel.apply(CHAINS[name](), da.from_array(x, chunks=chunks))
        assert y.chunks[0] == da.from_array(x, chunks=chunks).chunks[0]
        got = y.compute(scheduler="threads")
        assert got.dtype == dtype
        np.testing.assert_array_equal(got[:, :ref.shape[1]] if got.ndim == 2 else got, ref)


def test_mono_and_the_savgol_edges_match_scipy():
    x = RNG.standard_normal(30_000)
    y = sd.parallel.apply(sd.SavitzkyGolay(51, 2, mode="mirror"), da.from_array(x, chunks=4096)).compute()
    np.testing.assert_allclose(y, signal.savgol_filter(x, 51, 2, mode="mirror"), atol=1e-12)


def test_an_iir_runs_exactly_per_group_of_channels():
    sos = signal.butter(8, 0.1, output="sos")
    make = lambda: sd.LTISystem.from_sos(sos)
    x = RNG.standard_normal((20_000, 4))
    y = sd.parallel.apply(make(), da.from_array(x, chunks=(20_000, 1))).compute()
    np.testing.assert_array_equal(y, single_stream(make, x))
    np.testing.assert_allclose(y, signal.sosfilt(sos, x, axis=0), atol=1e-12)
    with pytest.raises(ValueError, match="no finite support.*state scan, which is not implemented"):
        sd.parallel.apply(make() >> sd.Gain(2.0), da.from_array(x, chunks=(5000, 4)))


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 5e-6)])
@pytest.mark.parametrize("form", ["sos", "ss"])
def test_an_iir_along_time_by_the_state_scan_matches_one_stream(form, dtype, rtol):
    sos = signal.butter(8, 0.1, output="sos")
    if form == "sos":
        make = lambda: sd.LTISystem.from_sos(sos)
    else:
        # a 4th-order companion form: at 8th order its conditioning alone costs
        # 1e-10 (the scan multiplies by A**n; one stream's own error grows alike)
        sos = signal.butter(4, 0.1, output="sos")
        A, B, C, D = signal.zpk2ss(*signal.sos2zpk(sos))
        make = lambda: sd.LTISystem.from_ss(A, B, C, D)
    x = RNG.standard_normal((60_000, 3)).astype(dtype)
    x[30_000:] += 3.0                                   # a step: the state carries a lot
    ref = single_stream(make, x)
    for chunks in [(7000, 3), ((1, 2, 29_997, 30_000), (1, 2))]:
        y = sd.parallel.apply(make(), da.from_array(x, chunks=chunks)).compute()
        assert y.dtype == dtype
        assert np.max(np.abs(y - ref)) <= rtol * np.max(np.abs(ref))
    np.testing.assert_allclose(sd.parallel.apply(make(), da.from_array(x[:, 0], chunks=5000)).compute(),
                               signal.sosfilt(sos, x[:, 0].astype(np.float64)), atol=rtol * np.abs(ref).max())


def test_refusals_are_plain():
    x = da.zeros((1000, 2), chunks=(100, 1))
    with pytest.raises(ValueError, match="keeps the rate or lowers it"):
        sd.parallel.apply(sd.Downsample(2) >> sd.LTISystem.from_sos([[1, 0, 0, 1, -0.5, 0]]), x)
    with pytest.raises(ValueError, match="mixes channels"):
        sd.parallel.apply(sd.LTISystem.from_sos([[1, 0, 0, 1, -0.5, 0]])
                          >> sd.ChannelMixer([[1.0, 1.0]]), x.rechunk({0: -1}))
    with pytest.raises(TypeError, match="expected a dask array"):
        sd.parallel.apply(sd.Gain(1.0), np.zeros(10))


def test_the_chain_given_is_not_touched_and_the_result_is_lazy():
    fir = sd.FIR(np.ones(5))
    fir.process(np.ones(3))
    y = sd.parallel.apply(fir, da.ones((1000, 2), chunks=(100, 2)))
    assert isinstance(y, da.Array) and fir.channels == 1
    np.testing.assert_array_equal(y.compute()[4:-4], 5.0)


def test_on_a_dask_cluster_of_two_worker_processes(dask_client):
    x = RNG.standard_normal((50_000, 2))
    make = CHAINS["chain"]
    y = sd.parallel.apply(make(), da.from_array(x, chunks=(7000, 2)))
    np.testing.assert_array_equal(dask_client.compute(y).result(), single_stream(make, x))



@settings(max_examples=15)
@given(sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=8),
       name=st.sampled_from(["FIR-fft", "Convolver-latency", "chain", "SavitzkyGolay-mirror-fft"]))
def test_any_time_chunking_gives_the_single_stream(sizes, name):
    x = np.random.default_rng(len(sizes)).standard_normal((sum(sizes), 2)).astype(np.float32)
    y = sd.parallel.apply(CHAINS[name](), da.from_array(x, chunks=(tuple(sizes), 2)))
    np.testing.assert_array_equal(y.compute(scheduler="sync"), single_stream(CHAINS[name], x))


DECIMATING = {
    "FIR-Downsample": lambda: sd.FIR(np.hanning(31)) >> sd.Downsample(3),
    "SavitzkyGolay-Downsample-phase": lambda: sd.SavitzkyGolay(31, 3) >> sd.Downsample(3, phase=2),
    "MaxPool": lambda: sd.MaxPool(4, 2),
    "FIR-MaxPool-overlapping": lambda: sd.FIR(np.hanning(9)) >> sd.MaxPool(5, 3),
    "Decimate-FIR-fft": lambda: (sd.Decimate(4)
                                 >> sd.FIR(np.sinc(np.arange(-255, 256) / 4), method="fft", block_size=64)),
    "two-stages": lambda: (sd.FIR(np.hanning(101), method="fft", block_size=64) >> sd.Downsample(2)
                           >> sd.Convolver(np.hanning(700), block_size=64, max_block=256)
                           >> sd.Decimate(2, phase=1)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", DECIMATING)
def test_a_chain_that_lowers_the_rate_gives_the_single_stream_bit_for_bit(name, dtype):
    # time chunks that are not multiples of the decimation move to the one
    # below; the output splits at the same places divided by it
    x = RNG.standard_normal((20_011, 2)).astype(dtype)
    ref = single_stream(DECIMATING[name], x)
    D = DECIMATING[name]().down
    for sizes in [(5000,) * 4 + (11,), (1, 999, 4000, 7, 15_004), (20_011,)]:
        y = sd.parallel.apply(DECIMATING[name](), da.from_array(x, chunks=(sizes, (1, 1))))
        starts = np.cumsum((0,) + sizes)[:-1] // D * D // D
        assert list(np.cumsum((0,) + y.chunks[0])[:-1]) == sorted(set(starts.tolist()))
        got = y.compute(scheduler="threads")
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, ref)


@settings(max_examples=15)
@given(sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=8),
       name=st.sampled_from(sorted(DECIMATING)))
def test_any_time_chunking_of_a_decimating_chain_gives_the_single_stream(sizes, name):
    x = np.random.default_rng(len(sizes)).standard_normal(sum(sizes)).astype(np.float32)
    y = sd.parallel.apply(DECIMATING[name](), da.from_array(x, chunks=(tuple(sizes),)))
    np.testing.assert_array_equal(y.compute(scheduler="sync"), single_stream(DECIMATING[name], x))
