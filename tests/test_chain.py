"""The ``--chain`` parser (streamdsp/_chain.py), in process."""

import doctest
import re

import numpy as np
import pytest
import soundfile
from scipy import signal

import streamdsp as sd
import streamdsp._chain as chain_module
from streamdsp import ChainSyntaxError
from streamdsp._chain import BLOCKS, chain_help, parse_chain

RNG = np.random.default_rng(1234)


def stream(block, x, chunk=100):
    """``concatenate([process(c) for c in chunks] + [flush()])``."""
    out = [block.process(x[i:i + chunk]) for i in range(0, len(x), chunk)]
    out.append(block.flush())
    return np.concatenate([o.reshape(-1, *x.shape[1:]) for o in out])


def aligned(block, x, chunk=100):
    """The stream's output with the block's latency dropped: what the offline call gives."""
    y = stream(block, x, chunk)
    assert len(y) == len(x) + block.latency
    return y[block.latency:]


@pytest.fixture
def taps_file(tmp_path):
    taps = RNG.standard_normal(17)
    path = tmp_path / "taps.npy"
    np.save(path, taps)
    return path, taps


# ---------------------------------------------------------------------------
# valid chains

def test_parse_gain_delay_fir(taps_file, monkeypatch):
    path, taps = taps_file
    monkeypatch.chdir(path.parent)
    p = parse_chain("gain:0.25 | delay:7 | fir:taps.npy")
    assert isinstance(p, sd.Pipeline)
    assert [type(b) for b in p] == [sd.Gain, sd.Delay, sd.FIR]
    assert p[0].gain == 0.25
    assert p[1].samples == 7
    np.testing.assert_array_equal(p[2].taps, taps)


def test_gain_in_db_is_converted_to_linear():
    for text, db in [("-6dB", -6.0), ("+3.5 db", 3.5), ("0DB", 0.0), ("-120dB", -120.0)]:
        (g,) = parse_chain(f"gain:{text}")
        assert g.gain == pytest.approx(10 ** (db / 20), rel=1e-15)


def test_whitespace_and_name_case_are_ignored(taps_file):
    path, taps = taps_file
    p = parse_chain(f"  GAIN : 2 |delay:  3|   Fir :{path}  ")
    assert [type(b) for b in p] == [sd.Gain, sd.Delay, sd.FIR]
    assert (p[0].gain, p[1].samples) == (2.0, 3)


def test_parsed_chain_runs_like_the_offline_equivalent(taps_file):
    path, taps = taps_file
    x = RNG.standard_normal(1000)
    y = aligned(parse_chain(f"gain:-6dB | delay:3 | fir:{path}"), x, chunk=37)
    delayed = np.concatenate([np.zeros(3), x[:-3]])
    expected = signal.lfilter(taps, 1.0, 10 ** (-6 / 20) * delayed)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_fir_with_2d_taps_filters_each_channel_with_its_column(tmp_path):
    taps = RNG.standard_normal((9, 2))
    np.save(tmp_path / "taps2.npy", taps)
    (fir,) = parse_chain(f"fir:{tmp_path / 'taps2.npy'}", channels=2)
    assert fir.channels == 2
    x = RNG.standard_normal((500, 2))
    y = aligned(fir, x)
    for c in range(2):
        np.testing.assert_allclose(y[:, c], signal.lfilter(taps[:, c], 1.0, x[:, c]),
                                   rtol=1e-12, atol=1e-12)


def test_fir_path_may_contain_commas(tmp_path):
    path = tmp_path / "taps,v2.npy"
    np.save(path, np.array([1.0, -1.0]))
    (fir,) = parse_chain(f"fir:{path}")
    np.testing.assert_array_equal(fir.taps, [1.0, -1.0])


@pytest.mark.parametrize("ext", ["wav", "npy"])
def test_convolver_matches_fftconvolve(tmp_path, ext):
    ir = RNG.standard_normal((300, 2)) * np.exp(-np.arange(300) / 60.0)[:, None]
    ir = ir.astype(np.float32).astype(np.float64)   # exactly representable in a FLOAT wav
    path = tmp_path / f"ir.{ext}"
    if ext == "wav":
        soundfile.write(path, ir, 8000, subtype="FLOAT")
    else:
        np.save(path, ir)
    (conv,) = parse_chain(f"convolver:{path}", samplerate=8000, channels=2)
    x = RNG.standard_normal((2000, 2))
    y = aligned(conv, x, chunk=173)
    for c in range(2):
        expected = signal.fftconvolve(x[:, c], ir[:, c])[:len(x)]
        np.testing.assert_allclose(y[:, c], expected, atol=1e-10 * np.max(np.abs(expected)))


def test_convolver_warns_when_the_ir_has_another_samplerate(tmp_path):
    soundfile.write(tmp_path / "ir.wav", np.ones(16) / 16, 44100)
    with pytest.warns(UserWarning, match="44100 Hz but the stream is at 48000 Hz"):
        parse_chain(f"convolver:{tmp_path / 'ir.wav'}", samplerate=48000)


def test_savgol_matches_savgol_filter():
    (sg,) = parse_chain("savgol:11,3")
    x = RNG.standard_normal(400)
    np.testing.assert_allclose(aligned(sg, x), signal.savgol_filter(x, 11, 3), atol=1e-10)


@pytest.mark.parametrize("text, args", [
    ("butter:4,1000", (4, 1000.0, "lowpass")),
    ("butter:2,500,highpass", (2, 500.0, "highpass")),
    ("butter:3,300-3400", (3, (300.0, 3400.0), "bandpass")),
    ("butter:2, 1000 - 2000 , bandstop", (2, (1000.0, 2000.0), "bandstop")),
    # the short forms: order 4 unless given
    ("lowpass:4000", (4, 4000.0, "lowpass")),
    ("highpass:80", (4, 80.0, "highpass")),
    ("HighPass: 80, 2", (2, 80.0, "highpass")),
    ("bandpass:300,3400", (4, (300.0, 3400.0), "bandpass")),
    ("bandstop:45,55,6", (6, (45.0, 55.0), "bandstop")),
])
def test_butter_matches_sosfilt(text, args):
    (bw,) = parse_chain(text, samplerate=16000)
    order, cutoff, btype = args
    sos = signal.butter(order, cutoff, btype=btype, output="sos", fs=16000)
    x = RNG.standard_normal(3000)
    np.testing.assert_allclose(aligned(bw, x), signal.sosfilt(sos, x), rtol=1e-9, atol=1e-12)


def test_convolver_is_the_partitioned_convolver(tmp_path):
    ir = np.random.default_rng(9).standard_normal(700)
    np.save(tmp_path / "ir.npy", ir)
    (conv,) = parse_chain(f"convolver:{tmp_path / 'ir.npy'}")
    assert isinstance(conv, sd.Convolver) and conv.latency == 0
    x = RNG.standard_normal(2000)
    np.testing.assert_allclose(aligned(conv, x), signal.fftconvolve(x, ir)[:2000], atol=1e-10)


# ---------------------------------------------------------------------------
# errors

def test_error_names_position_text_and_reason():
    with pytest.raises(ChainSyntaxError) as excinfo:
        parse_chain("gain:1 | delay:2 |  gian:0.5 ")
    e = excinfo.value
    assert isinstance(e, ValueError)
    assert str(e).startswith("chain element 3 of 3 'gian:0.5': unknown block 'gian'")
    assert (e.position, e.element) == (3, "gian:0.5")
    assert "unknown block 'gian'" in e.reason


def test_unknown_block_lists_every_known_block():
    with pytest.raises(ChainSyntaxError) as excinfo:
        parse_chain("reverb:big")
    known = re.search(r"expected one of (.*)$", str(excinfo.value)).group(1)
    assert known.split(", ") == sorted(BLOCKS)
    assert set(BLOCKS) >= {"gain", "delay", "fir", "convolver", "savgol", "butter"}


@pytest.mark.parametrize("text, position, why", [
    ("gain", 1, "gain: expected 1 argument (G), got none"),
    ("gain:", 1, "gain: expected 1 argument (G), got none"),
    ("gain:0.5,2", 1, "gain: expected 1 argument (G), got 2: '0.5,2'"),
    ("gain:loud", 1, "gain: expected G to be a number (0.5) or a level in dB (-6dB), got 'loud'"),
    ("gain:inf", 1, "gain: expected G to be finite, got 'inf'"),
    ("gain:xdB", 1, "gain: expected the gain in dB to be a number, got 'x'"),
    ("gain:1 | delay:1.5", 2, "delay: expected N (samples) to be a whole number, got '1.5'"),
    ("delay:-1", 1, "delay: expected N (samples) >= 0, got '-1'"),
    ("delay:1,2", 1, "delay: expected 1 argument (N samples), got 2"),
    ("delay:4,", 1, "delay: expected delay:N, got an empty argument in '4,'"),
    ("savgol:11", 1, "savgol: expected 2 arguments (WINDOW,ORDER), got 1"),
    ("savgol:11,x", 1, "savgol: expected ORDER (polyorder) to be a whole number, got 'x'"),
    ("savgol:5,5", 1, "savgol: expected ORDER < WINDOW, got ORDER=5, WINDOW=5"),
    ("butter:4", 1, "butter: expected 2 to 3 arguments"),
    ("butter:0,100", 1, "butter: expected ORDER >= 1, got '0'"),
    ("butter:4,abc", 1, "butter: expected CUTOFF_HZ to be a number, got 'abc'"),
    ("butter:4,-5", 1, "butter: expected CUTOFF_HZ > 0, got '-5'"),
    ("butter:4,100,notch", 1, "butter: expected btype in lowpass, highpass, bandpass, bandstop, "
                              "got 'notch'"),
    ("butter:4,100,bandpass", 1, "butter: expected the bandpass cutoff as LOW-HIGH in Hz"),
    ("butter:4,200-100", 1, "butter: expected 0 < LOW < HIGH, got '200-100'"),
    ("butter:4,100-200,highpass", 1, "butter: expected one cutoff in Hz for a highpass, "
                                     "got the range '100-200'"),
    ("butter:4,30000", 1, "butter: expected cutoffs below the Nyquist frequency "
                          "(24000 Hz at 48000 Hz), got '30000'"),
    ("lowpass:4000,8,2", 1, "lowpass: expected 1 to 2 arguments (CUTOFF_HZ[,ORDER]), got 3"),
    ("bandpass:3400", 1, "bandpass: expected 2 to 3 arguments (LOW,HIGH[,ORDER])"),
    ("bandpass:3400,300", 1, "bandpass: expected 0 < LOW < HIGH, got '3400,300'"),
    ("highpass:-80", 1, "highpass: expected CUTOFF_HZ > 0, got '-80'"),
    ("lowpass:30000", 1, "lowpass: expected cutoffs below the Nyquist frequency"),
    ("lowpass:4000,0", 1, "lowpass: expected ORDER >= 1, got '0'"),
    # separators other than '|' are named, and the fixed chain given
    ("gain:0.5 >> fir:x.npy", 1, "expected blocks separated by '|', got '>>' between them; "
                                 "write 'gain:0.5 | fir:x.npy'"),
    ("gain:0.5, fir:x.npy", 1, "expected blocks separated by '|', got ',' between them; "
                               "write 'gain:0.5 | fir:x.npy'"),
    ("gain:0.5; lowpass:100 -> delay:3", 1, "write 'gain:0.5 | lowpass:100 | delay:3'"),
    ("gain:1 |", 2, "expected a block (name:arg,...), got nothing"),
    ("| gain:1", 1, "expected a block (name:arg,...), got nothing"),
    ("fir:", 1, "fir: expected a file name, got nothing"),
])
def test_bad_element_is_named_with_the_reason(text, position, why):
    with pytest.raises(ChainSyntaxError) as excinfo:
        parse_chain(text, samplerate=48000)
    elements = text.split("|")
    element = elements[position - 1].strip()
    prefix = f"chain element {position} of {len(elements)} {element!r}: "
    assert str(excinfo.value).startswith(prefix)
    assert why in str(excinfo.value)


def test_butter_needs_the_samplerate():
    with pytest.raises(ChainSyntaxError, match="butter: needs the sample rate"):
        parse_chain("butter:4,1000")


def test_missing_file_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("fir", "convolver"):
        with pytest.raises(ChainSyntaxError) as excinfo:
            parse_chain(f"gain:1 | {name}:nothere.npy")
        msg = str(excinfo.value)
        assert msg.startswith(f"chain element 2 of 2 '{name}:nothere.npy': ")
        assert f"{name}: expected an existing file, got 'nothere.npy'" in msg
        assert str(tmp_path) in msg   # says where relative paths are looked up


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(ChainSyntaxError, match="fir: expected a file, got the directory"):
        parse_chain(f"fir:{tmp_path}")


def test_fir_file_that_is_not_npy(tmp_path):
    (tmp_path / "taps.npy").write_text("0.1 0.2 0.3\n")
    with pytest.raises(ChainSyntaxError, match=r"fir: expected a \.npy array file, got"):
        parse_chain(f"fir:{tmp_path / 'taps.npy'}")


def test_fir_npz_archive_is_refused(tmp_path):
    np.savez(tmp_path / "taps.npz", taps=np.ones(3))
    with pytest.raises(ChainSyntaxError, match="fir: expected a .npy array file, got the archive"):
        parse_chain(f"fir:{tmp_path / 'taps.npz'}")


def test_fir_3d_taps_are_refused(tmp_path):
    np.save(tmp_path / "t.npy", np.ones((3, 2, 2)))
    with pytest.raises(ChainSyntaxError, match=r"fir: expected taps of shape \(n,\) or "
                                               r"\(n, channels\), got shape \(3, 2, 2\)"):
        parse_chain(f"fir:{tmp_path / 't.npy'}")


def test_fir_invalid_taps_report_the_block_error(tmp_path):
    np.save(tmp_path / "t.npy", np.array([1.0, np.nan]))
    with pytest.raises(ChainSyntaxError, match="FIR: expected finite taps"):
        parse_chain(f"fir:{tmp_path / 't.npy'}")


def test_2d_coefficients_must_match_the_channel_count(tmp_path):
    np.save(tmp_path / "t.npy", np.ones((4, 3)))
    with pytest.raises(ChainSyntaxError,
                       match=r"fir: expected taps for 2 channels \(shape \(n, 2\)\) to match "
                             r"the input, got shape \(4, 3\)"):
        parse_chain(f"fir:{tmp_path / 't.npy'}", channels=2)


def test_convolver_unreadable_ir(tmp_path):
    (tmp_path / "ir.wav").write_bytes(b"not audio")
    with pytest.raises(ChainSyntaxError, match="convolver: expected an audio file or a .npy array"):
        parse_chain(f"convolver:{tmp_path / 'ir.wav'}")


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_empty_chain(text):
    with pytest.raises(ChainSyntaxError, match="expected at least one block"):
        parse_chain(text)


def test_chain_must_be_a_string():
    with pytest.raises(TypeError, match="parse_chain: expected the chain as a str, got list"):
        parse_chain(["gain:1"])


def test_samplerate_must_be_positive():
    with pytest.raises(ValueError, match="parse_chain: expected samplerate > 0"):
        parse_chain("gain:1", samplerate=0)


def test_chain_help_names_every_block():
    text = chain_help()
    for usage, _, _ in BLOCKS.values():
        assert usage in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_docstring_examples_run():
    result = doctest.testmod(chain_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 2
    assert result.failed == 0
