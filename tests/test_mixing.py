"""ChannelMixer specifics beyond the shared contract (tests/test_contract.py)."""

import re

import numpy as np
from scipy import signal
import pytest
from hypothesis import given, strategies as st

import streamdsp as sd
from _support import assert_close_to_peak, python_env, run_python_code, stream

METHODS = ["kernel", "blas"]
SHAPES = [(16, 64), (5, 3), (3, 1), (1, 4), (33, 20), (17, 17), (40, 130)]


def _offline(x, w, bias=None, activation=None):
    """The API.md oracle in float64: act(x @ w.T + bias), and the pre-activation."""
    w = np.asarray(w)
    pre = np.asarray(x, dtype=np.float64).reshape(len(x), w.shape[1]) @ w.T
    if bias is not None:
        pre = pre + bias
    if activation == "relu":
        return np.maximum(pre, 0.0), pre
    if activation == "tanh":
        return np.tanh(pre), pre
    return pre, pre


def _tol(dtype, nin):
    # float32 sums of nin products: rounding grows with the number of terms
    return 5e-6 * max(1.0, np.sqrt(nin / 4)) if dtype == np.float32 else 1e-12


def _check(y, x, w, bias, activation, dtype):
    ref, pre = _offline(x, w, bias, activation)
    # relative to the pre-activation peak: tanh squashes the output, not the rounding
    peak = max(np.max(np.abs(pre)) if pre.size else 0.0, 1e-30)
    err = np.max(np.abs(y.reshape(ref.shape) - ref)) if ref.size else 0.0
    assert err <= _tol(dtype, w.shape[1]) * peak, f"max error {err:.3g} vs pre-activation peak {peak:.3g}"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[1]}to{s[0]}")
def test_mixer_matches_matmul_bias_activation(shape, activation, dtype, method):
    nout, nin = shape
    rng = np.random.default_rng(nout * 100 + nin)
    w = rng.standard_normal(shape)
    bias = rng.standard_normal(nout)
    x = rng.standard_normal((1301, nin)).astype(dtype)
    mixer = sd.ChannelMixer(w, bias=bias, activation=activation, method=method)
    assert mixer.method == method
    y = stream(mixer, x, [0, 1, 7, 8, 9, 600])   # register-block edges and a BLAS tile edge
    assert y.dtype == dtype and y.shape == (1301, nout)
    _check(y, x, w, bias, activation, dtype)


@pytest.mark.parametrize("method", METHODS)
def test_mixer_without_bias_is_a_plain_matrix_product(method):
    rng = np.random.default_rng(3)
    w = rng.standard_normal((6, 4))
    x = rng.standard_normal((777, 4))
    y = sd.ChannelMixer(w, method=method).process(x)
    assert_close_to_peak(y, x @ w.T, 1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_mixer_kernel_and_blas_agree_on_chunks_longer_than_a_tile(method):
    rng = np.random.default_rng(4)
    w, b = rng.standard_normal((24, 48)), rng.standard_normal(24)
    x = rng.standard_normal((5000, 48)).astype(np.float32)
    y = sd.ChannelMixer(w, b, "tanh", method=method).process(x)
    _check(y, x, w, b, "tanh", np.float32)


def test_mixer_mono_input_gives_2d_output_when_it_has_several_outputs():
    w = np.array([[1.0], [-2.0], [0.5]])
    x = np.arange(5.0)
    m = sd.ChannelMixer(w)
    y = m.process(x)
    assert y.shape == (5, 3)
    assert_close_to_peak(y, x[:, None] * w[:, 0], 0)
    assert m.flush().shape == (0, 3)


def test_mixer_mono_to_mono_keeps_the_1d_layout():
    m = sd.ChannelMixer([[2.0]], bias=[1.0])
    y = m.process(np.array([1.0, 2.0, 3.0]))
    assert y.shape == (3,)
    assert_close_to_peak(y, 2.0 * np.array([1.0, 2.0, 3.0]) + 1.0, 0)


def test_mixer_many_to_one_of_2d_input_stays_2d():
    m = sd.ChannelMixer([[1.0, 1.0, 1.0]])
    y = m.process(np.ones((4, 3)))
    assert y.shape == (4, 1)
    assert np.all(y == 3.0)


def test_mixer_channels_is_the_input_count_and_known_before_any_chunk():
    m = sd.ChannelMixer(np.ones((5, 3)))
    assert m.channels == 3 and m.in_channels == 3
    assert m.out_channels == 5
    assert m.latency == 0 and m.decimation == 1
    m.process(np.zeros((2, 3), dtype=np.float32))
    assert m.channels == 3 and m.out_channels == 5


def test_mixer_rejects_a_chunk_with_another_channel_count_and_changes_nothing():
    m = sd.ChannelMixer(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"ChannelMixer: .*3 channels.*coefficients"):
        m.process(np.zeros((10, 2)))
    assert m.dtype is None and m.channels == 3
    with pytest.raises(ValueError, match="ChannelMixer"):
        m.process(np.zeros(10))          # mono into a 3-input mixer


def test_mixer_out_argument_with_a_different_channel_count():
    w = np.random.default_rng(5).standard_normal((4, 2))
    x = np.random.default_rng(6).standard_normal((50, 2)).astype(np.float32)
    m = sd.ChannelMixer(w)
    out = np.full((50, 4), np.nan, dtype=np.float32)
    assert m.process(x, out=out) is out
    _check(out, x, w, None, None, np.float32)
    with pytest.raises(ValueError, match=r"shape \(50, 4\)"):
        m.process(x, out=np.zeros((50, 2), dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mixer_tanh_matches_numpy_over_the_whole_range(dtype):
    x = np.concatenate([np.linspace(-25, 25, 100001), np.geomspace(1e-30, 1, 200),
                        -np.geomspace(1e-30, 1, 200), [0.0, -0.0, 0.6249999, 0.625, 0.6250001, 9.5, 10.0,
                                                        19.5, 20.0, 1e4, -1e4, np.inf, -np.inf]]).astype(dtype)
    y = sd.ChannelMixer([[1.0]], activation="tanh").process(x)
    ref = np.tanh(x.astype(np.float64))
    ulp = np.finfo(dtype).eps
    err = np.abs(y.astype(np.float64) - ref)
    assert np.all(err <= 4 * ulp * np.maximum(np.abs(ref), np.finfo(dtype).tiny)), \
        f"max relative error {np.max(err / np.maximum(np.abs(ref), 1e-300)):.3g}"
    assert y[-2] == 1.0 and y[-1] == -1.0


@pytest.mark.parametrize("activation", ["relu", "tanh", None])
@pytest.mark.parametrize("method", METHODS)
def test_mixer_nan_propagates_like_numpy(activation, method):
    x = np.array([[1.0, np.nan], [-1.0, 2.0], [np.inf, 1.0]])
    w = np.array([[1.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    y = sd.ChannelMixer(w, activation=activation, method=method).process(x)
    ref, _ = _offline(x, w, None, activation)      # 0 * nan is nan, inf - inf too
    assert np.array_equal(np.isnan(y), np.isnan(ref)) and np.isnan(y).any()
    assert np.array_equal(y[~np.isnan(ref)], ref[~np.isnan(ref)])


def test_mixer_relu_zeroes_exactly_the_negative_outputs():
    w = np.array([[1.0, -1.0]])
    x = np.array([[3.0, 1.0], [1.0, 3.0], [2.0, 2.0]])
    y = sd.ChannelMixer(w, bias=[0.5], activation="relu").process(x)
    assert np.array_equal(y, [[2.5], [0.0], [0.5]])


def test_mixer_auto_takes_the_kernel_for_small_and_blas_for_large_weights():
    assert sd.ChannelMixer(np.ones((16, 64))).method == "kernel"
    assert sd.ChannelMixer(np.ones((128, 128))).method == "kernel"
    assert sd.ChannelMixer(np.ones((256, 256))).method == "blas"


def test_mixer_weights_and_bias_are_read_only_copies():
    w = np.ones((2, 2))
    b = np.zeros(2)
    m = sd.ChannelMixer(w, bias=b)
    w[0, 0] = 5.0
    b[0] = 5.0
    assert m.weights[0, 0] == 1.0 and m.bias[0] == 0.0
    with pytest.raises(ValueError):
        m.weights[0, 0] = 2.0
    assert sd.ChannelMixer(w).bias is None


BAD_ARGS = [
    ({"weights": [1.0, 2.0]}, ValueError, "shape (out_channels, in_channels)"),
    ({"weights": np.ones((2, 2, 2))}, ValueError, "shape"),
    ({"weights": [[np.nan, 1.0]]}, ValueError, "finite"),
    ({"weights": [[1j, 1.0]]}, TypeError, "complex"),
    ({"weights": "ab"}, TypeError, "weights"),
    ({"weights": np.ones((3, 2)), "bias": np.ones(2)}, ValueError, "bias of shape (3,)"),
    ({"weights": np.ones((3, 2)), "bias": np.ones((3, 1))}, ValueError, "bias"),
    ({"weights": np.ones((3, 2)), "activation": "sigmoid"}, ValueError, "'relu'"),
    ({"weights": np.ones((3, 2)), "activation": 1}, TypeError, "activation"),
    ({"weights": np.ones((3, 2)), "method": "fast"}, ValueError, "method"),
]


@pytest.mark.parametrize("kwargs,exc,words", BAD_ARGS, ids=[str(i) for i in range(len(BAD_ARGS))])
def test_mixer_bad_arguments_are_rejected_clearly(kwargs, exc, words):
    with pytest.raises(exc) as info:
        sd.ChannelMixer(**kwargs)
    assert "ChannelMixer" in str(info.value) and words in str(info.value), str(info.value)


@given(data=st.data())
def test_mixer_non_square_streaming_invariance(data):
    nin = data.draw(st.integers(1, 20), label="in")
    nout = data.draw(st.integers(1, 20), label="out")
    method = data.draw(st.sampled_from(METHODS), label="method")
    act = data.draw(st.sampled_from([None, "relu", "tanh"]), label="activation")
    frames = data.draw(st.integers(0, 300), label="frames")
    sizes = data.draw(st.lists(st.integers(0, 40), max_size=8), label="chunk sizes")
    rng = np.random.default_rng(nin * 31 + nout)
    w, b = rng.standard_normal((nout, nin)), rng.standard_normal(nout)
    x = rng.standard_normal((frames, nin)).astype(np.float32)
    whole = sd.ChannelMixer(w, b, act, method=method).process(x)
    split = stream(sd.ChannelMixer(w, b, act, method=method), x, sizes)
    assert split.shape == whole.shape == (frames, nout)
    if method == "kernel":
        # every frame is computed alike whatever the chunking: bit for bit
        # (a BLAS may pick other kernels for other sizes: tolerance only)
        assert np.array_equal(split, whole)
    _check(split, x, w, b, act, np.float32)


def test_mixer_in_a_pipeline_changes_the_channel_count():
    w = np.random.default_rng(8).standard_normal((2, 4))
    x = np.random.default_rng(9).standard_normal((300, 4))
    pipe = sd.ChannelMixer(w, activation="relu") >> sd.Gain(2.0)
    y = stream(pipe, x, [100]).reshape(-1, 2)
    assert_close_to_peak(y, 2.0 * np.maximum(x @ w.T, 0), 1e-12)


def test_mixer_repr_names_shape_and_activation():
    r = repr(sd.ChannelMixer(np.ones((3, 2)), activation="tanh"))
    assert "ChannelMixer" in r and "in_channels=2" in r and "out_channels=3" in r and "'tanh'" in r


_LEVEL_SCRIPT = """
import numpy as np, streamdsp as sd
rng = np.random.default_rng(0)
for dtype, tol in ((np.float32, 2e-5), (np.float64, 1e-12)):
    for nout, nin in ((16, 64), (5, 3), (33, 20), (3, 1)):
        w, b = rng.standard_normal((nout, nin)), rng.standard_normal(nout)
        x = rng.standard_normal((301, nin)).astype(dtype)
        pre = x.astype(np.float64) @ w.T + b
        for act, ref in ((None, pre), ("relu", np.maximum(pre, 0)), ("tanh", np.tanh(pre))):
            for method in ("kernel", "blas"):
                m = sd.ChannelMixer(w, b, act, method=method)
                y = np.concatenate([m.process(x[:9]), m.process(x[9:])])
                err = np.max(np.abs(y - ref)) / np.max(np.abs(pre))
                assert err < tol, (dtype, nout, nin, act, method, err)
for act in ("relu", "tanh"):
    y = sd.ChannelMixer([[1.0]], activation=act).process(np.array([np.nan, -1.0, 2.0, np.inf]))
    assert np.isnan(y[0]) and not np.isnan(y[1:]).any()
print("ok")
"""


@pytest.mark.parametrize("level", ["0", "1"])
def test_mixer_kernels_of_the_lower_instruction_set_levels(level):
    # the kernel is compiled for AVX-512, AVX2 and baseline and picked at run
    # time; STREAMDSP_ISA_LEVEL caps the choice, so this machine runs them all
    run = run_python_code(_LEVEL_SCRIPT, env=python_env(STREAMDSP_ISA_LEVEL=level))
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


@pytest.mark.parametrize("want, got", [(2, 1), (1, 3)])
def test_a_channel_mismatch_says_which_mixer_fixes_it(want, got):
    # a block whose coefficients fix `want` channels, fed `got`: the message
    # names the ChannelMixer to put before it, and that mixer does fix it
    rng = np.random.default_rng(7)
    ir = rng.standard_normal((64, want))      # (64, 1): one channel, not one per channel
    x = rng.standard_normal((500, got))
    with pytest.raises(sd.ChannelMismatchError, match=r"expected \d channels \(fixed by its "
                       r"coefficients\), got \d; .*mix first: ChannelMixer") as err:
        sd.Convolver(ir).process(x)
    mixer_text = re.search(r"(ChannelMixer\(.*?\]\]\))", str(err.value)).group(1)
    chain = eval(mixer_text, {"ChannelMixer": sd.ChannelMixer}) >> sd.Convolver(ir)
    y = chain.process(x)
    mixed = x @ np.array(eval(mixer_text[len("ChannelMixer("):-1])).T
    ref = signal.fftconvolve(mixed, ir, axes=0)[:500]
    np.testing.assert_allclose(y.reshape(500, -1), ref, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_upmix_copies_one_channel_and_downmix_averages(dtype, channels):
    x = np.random.default_rng(channels).standard_normal(1000).astype(dtype)
    up = sd.UpMix(channels)
    y = np.concatenate([up.process(c) for c in np.array_split(x, 7)])
    np.testing.assert_array_equal(y.reshape(1000, -1), np.repeat(x[:, None], channels, axis=1))
    assert (up.channels, up.out_channels, up.gil_free) == (1, channels, True)
    z = sd.DownMix(channels).process(y)
    np.testing.assert_allclose(z.reshape(-1), x, rtol=1e-6 if dtype == np.float32 else 1e-15)


def test_upmix_feeds_a_stereo_hall_from_a_mono_voice():
    rng = np.random.default_rng(2)
    ir = rng.standard_normal((300, 2)) * np.exp(-np.arange(300) / 50.0)[:, None]
    x = rng.standard_normal(2000)
    y = (sd.UpMix(2) >> sd.Convolver(ir, block_size=64)).process(x)
    np.testing.assert_allclose(y, signal.fftconvolve(np.stack([x, x], 1), ir, axes=0)[:2000], atol=1e-9)


@pytest.mark.parametrize("make, words", [
    (lambda: sd.UpMix(0), "UpMix: expected channels >= 1, got 0"),
    (lambda: sd.DownMix(5000), "DownMix: expected channels <= 4096, got 5000"),
    (lambda: sd.UpMix(2.5), "UpMix: expected channels to be a whole number"),
])
def test_upmix_and_downmix_refuse_bad_channel_counts(make, words):
    with pytest.raises((ValueError, TypeError), match=re.escape(words)):
        make()


def test_upmix_refuses_a_stereo_input_naming_itself():
    up = sd.UpMix(2)
    with pytest.raises(sd.ChannelMismatchError, match="UpMix: expected 1 channel"):
        up.process(np.zeros((10, 2)))
    assert up.process(np.ones(3)).shape == (3, 2)      # unchanged by the refusal
