"""streamdsp.plot: figures saved as PNGs in tmp_path, their axes holding the data they claim
(freqz magnitude and phase, the coefficients or the measured impulse response, the waveforms
and Welch spectra)."""

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd
from _support import run_python_code

matplotlib = pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import streamdsp.plot as sdplot  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _save(fig, path):
    fig.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    return data


def _lines(ax):
    return [(np.asarray(l.get_xdata(), dtype=float), np.asarray(l.get_ydata(), dtype=float))
            for l in ax.get_lines()]


def test_plot_module_imports_without_touching_matplotlib():
    code = ("import sys, streamdsp.plot; "
            "assert 'matplotlib' not in sys.modules, 'imported eagerly'; print('ok')")
    proc = run_python_code(code)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_plot_response_of_a_correlator_is_freqz_of_the_reversed_template(tmp_path):
    template = np.random.default_rng(0).standard_normal(40)
    fig = sdplot.plot_response(sd.Correlator(template), fs=8000.0, n=256)
    _save(fig, tmp_path / "resp.png")
    mag_ax, phase_ax = fig.axes[:2]
    f, h = signal.freqz(template[::-1], 1.0, worN=256, fs=8000.0)
    (fx, mag), = _lines(mag_ax)
    (px, phase), = _lines(phase_ax)
    np.testing.assert_allclose(fx, f)
    np.testing.assert_allclose(mag, 20 * np.log10(np.abs(h)), atol=1e-9)
    np.testing.assert_allclose(phase, np.unwrap(np.angle(h)), atol=1e-9)
    assert "Hz" in phase_ax.get_xlabel() and "dB" in mag_ax.get_ylabel()


def test_plot_response_of_a_tuple_with_columns_on_given_axes(tmp_path):
    taps = np.random.default_rng(1).standard_normal((16, 2))
    w, h = sd.FIR(taps).frequency_response(128)
    fig, ax = plt.subplots()
    assert sdplot.plot_response((w, h), ax=ax) is fig
    _save(fig, tmp_path / "cols.png")
    lines = _lines(ax)
    assert len(lines) == 2
    for c in range(2):
        ref = 20 * np.log10(np.abs(signal.freqz(taps[:, c], 1.0, worN=128)[1]))
        np.testing.assert_allclose(lines[c][1], ref, atol=1e-9)


def test_plot_response_refuses_what_has_no_response():
    with pytest.raises(TypeError, match="frequency_response"):
        sdplot.plot_response(np.ones(4))


def test_plot_impulse_of_coefficients(tmp_path):
    taps = signal.firwin(31, 0.2)
    fig = sdplot.plot_impulse(sd.FIR(taps))
    _save(fig, tmp_path / "fir.png")
    ax = fig.axes[0]
    # stem plot: the markers line holds the taps
    (t, v), = [l for l in _lines(ax) if len(l[0]) == 31][:1]
    np.testing.assert_array_equal(t, np.arange(31))
    np.testing.assert_allclose(v, taps)


def test_plot_impulse_of_a_raw_correlator_is_the_reversed_template(tmp_path):
    template = np.random.default_rng(2).standard_normal(300)
    fig = sdplot.plot_impulse(sd.Correlator(template), fs=1000.0)
    _save(fig, tmp_path / "corr.png")
    (t, v), = _lines(fig.axes[0])
    np.testing.assert_allclose(v, template[::-1])
    np.testing.assert_allclose(t, np.arange(300) / 1000.0)
    with pytest.raises(TypeError, match="not linear"):
        sdplot.plot_impulse(sd.Correlator(template, normalize=True))


def test_plot_impulse_measured_through_a_fresh_block(tmp_path):
    fig = sdplot.plot_impulse(lambda: sd.Gain(0.5) >> sd.Delay(3), n=16)
    _save(fig, tmp_path / "measured.png")
    (t, v), = [l for l in _lines(fig.axes[0]) if len(l[0]) == 16][:1]
    expected = np.zeros(16)
    expected[3] = 0.5
    np.testing.assert_allclose(v, expected)


def test_plot_impulse_includes_latency_of_a_measured_block():
    h = sdplot.impulse_response(lambda: sd.FIR(np.r_[1.0, 2.0, 3.0], method="fft", block_size=8), n=10)
    assert len(h) == 10 + 8
    np.testing.assert_allclose(h[8:11], [1.0, 2.0, 3.0], atol=1e-12)


def test_plot_impulse_of_a_block_in_use_without_coefficients_says_what_to_do():
    with pytest.raises(TypeError, match="fresh one"):
        sdplot.plot_impulse(sd.Gain(2.0))


def test_plot_signals_draws_waveforms_and_welch_spectra(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4000, 2))
    y = sd.FIR(np.ones(8) / 8).process(x)
    fig = sdplot.plot_signals(x, y, fs=8000.0, nperseg=512)
    _save(fig, tmp_path / "signals.png")
    wave_ax, spec_ax = fig.axes[:2]
    waves = _lines(wave_ax)
    assert len(waves) == 4
    np.testing.assert_allclose(waves[0][0], np.arange(4000) / 8000.0)
    np.testing.assert_allclose(waves[1][1], x[:, 1])
    np.testing.assert_allclose(waves[3][1], y[:, 1])
    f, p = signal.welch(y[:, 0], fs=8000.0, nperseg=512)
    spectra = _lines(spec_ax)
    np.testing.assert_allclose(spectra[2][0], f)
    np.testing.assert_allclose(spectra[2][1], 10 * np.log10(p))
    assert [t.get_text() for t in wave_ax.get_legend().get_texts()] == \
        ["input [0]", "input [1]", "output [0]", "output [1]"]


def test_plot_signals_input_only():
    fig = sdplot.plot_signals(np.sin(np.arange(500) / 5.0))
    assert len(_lines(fig.axes[0])) == 1 and len(_lines(fig.axes[1])) == 1
