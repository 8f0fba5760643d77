"""Parse the ``--chain`` syntax of the command line into a Pipeline.

A chain is blocks separated by ``|``, each ``name:arg,arg,...``; whitespace
around names, arguments and ``|`` is ignored, and names are case-insensitive::

    gain:0.5 | delay:480 | fir:taps.npy
    convolver:hall.wav | gain:-6dB
    butter:4,200-4000,bandpass | savgol:31,3
    highpass:80 | lowpass:4000 | bandpass:300,3400     (order 4 Butterworth)

Every element is checked, and every file it names is read, before the
chain is returned, so that a bad chain fails before any output is written.
Errors are :class:`~streamdsp.ChainSyntaxError` (a ``ValueError``) naming the
element by position and text, and saying why::

    chain element 2 of 2 'gian:0.5': unknown block 'gian'; expected one of
    bandpass, bandstop, butter, convolver, delay, fir, gain, highpass, lowpass, savgol
"""

import math
import os
import re
import warnings

import numpy as np

import streamdsp as _sd
from streamdsp._errors import ChainSyntaxError

__all__ = ["parse_chain", "chain_help", "BLOCKS"]


class _ArgError(Exception):
    """Why one element is bad; :func:`parse_chain` adds which element it is."""


# ---------------------------------------------------------------------------
# argument helpers

def _count(name, args, usage, least, most=None):
    most = least if most is None else most
    if not least <= len(args) <= most:
        want = str(least) if least == most else f"{least} to {most}"
        got = f"{len(args)}: {','.join(args)!r}" if args else "none"
        raise _ArgError(f"{name}: expected {want} argument{'s' if most != 1 else ''} "
                        f"({usage}), got {got}")


def _number(name, what, text):
    try:
        v = float(text)
    except ValueError:
        raise _ArgError(f"{name}: expected {what} to be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise _ArgError(f"{name}: expected {what} to be finite, got {text!r}")
    return v


def _integer(name, what, text, minimum):
    try:
        v = int(text)
    except ValueError:
        raise _ArgError(f"{name}: expected {what} to be a whole number, got {text!r}") from None
    if v < minimum:
        raise _ArgError(f"{name}: expected {what} >= {minimum}, got {text!r}")
    return v


def _existing_file(name, text):
    path = os.path.expanduser(text)
    if not path:
        raise _ArgError(f"{name}: expected a file name, got nothing")
    if not os.path.exists(path):
        raise _ArgError(f"{name}: expected an existing file, got {text!r} "
                        f"(not found; relative to {os.getcwd()!r})")
    if os.path.isdir(path):
        raise _ArgError(f"{name}: expected a file, got the directory {text!r}")
    return path


_NPY_MAGIC = b"\x93NUMPY"
_AUDIO_EXTENSIONS = (".wav", ".flac", ".aif", ".aiff", ".ogg", ".mp3", ".caf", ".w64", ".au", ".opus")


def _load_npy(name, path):
    # np.load takes any file that is not .npy for a pickle and says so;
    # that says nothing about the file, so look at its signature first
    try:
        with open(path, "rb") as f:
            head = f.read(len(_NPY_MAGIC))
    except OSError as e:
        raise _ArgError(f"{name}: cannot read {path!r}: {(e.strerror or str(e)).lower()}") from None
    if head.startswith(b"PK"):
        raise _ArgError(f"{name}: expected a .npy array file, got the archive {path!r} (.npz)")
    if head != _NPY_MAGIC:
        hint = ""
        if path.lower().endswith(_AUDIO_EXTENSIONS):
            hint = f"; for an impulse response in an audio file use convolver:{os.path.basename(path)}"
        raise _ArgError(f"{name}: expected a .npy array file, got {path!r}: "
                        f"not a .npy file (no .npy signature){hint}")
    try:
        a = np.load(path, allow_pickle=False)
    except ValueError as e:
        why = "it holds Python objects, not numbers" if "allow_pickle" in str(e) else str(e)
        raise _ArgError(f"{name}: expected a .npy array of numbers, got {path!r}: {why}") from None
    except (OSError, EOFError) as e:
        raise _ArgError(f"{name}: expected a .npy array file, got {path!r}: truncated or damaged "
                        f"({e})") from None
    return a


def _load_ir(name, path, samplerate):
    """An impulse response from an audio file (libsndfile) or a .npy array."""
    if path.lower().endswith(".npy"):
        return _load_npy(name, path)
    import soundfile

    try:
        ir, ir_rate = soundfile.read(path, dtype="float64", always_2d=False)
    except Exception as e:  # soundfile raises LibsndfileError/RuntimeError/TypeError
        raise _ArgError(f"{name}: expected an audio file or a .npy array, got {path!r} ({e})") from None
    if samplerate is not None and ir_rate != samplerate:
        warnings.warn(f"{name}: the impulse response {path!r} is at {ir_rate} Hz but the "
                      f"stream is at {samplerate:g} Hz; it is applied sample for sample, "
                      f"so it will sound {'shorter' if ir_rate > samplerate else 'longer'}",
                      stacklevel=3)
    return ir


def _check_coefficients(name, what, a, channels):
    if a.ndim not in (1, 2):
        raise _ArgError(f"{name}: expected {what} of shape (n,) or (n, channels), got shape {a.shape}")
    if a.ndim == 2 and channels is not None and a.shape[1] != channels:
        raise _ArgError(f"{name}: expected {what} for {channels} channel{'s' if channels != 1 else ''} "
                        f"(shape (n, {channels})) to match the input, got shape {a.shape}")


def _build(name, cls, *args, **kwargs):
    """``cls(*args)``, with the block's own ValueError/TypeError as an _ArgError."""
    try:
        return cls(*args, **kwargs)
    except (TypeError, ValueError, OverflowError, MemoryError) as e:
        msg = str(e)
        # a block's message already names it ("SavitzkyGolay: ..."): no second prefix
        named = msg.lower().startswith(name) or msg.startswith(f"{cls.__name__}:")
        raise _ArgError(msg if named else f"{name}: {msg}") from None


# ---------------------------------------------------------------------------
# one builder per block name: builder(args, samplerate, channels) -> Block

_MAX_DB = 20 * math.log10(np.finfo(np.float64).max)   # the largest level a float holds: 6165 dB


def _gain(args, samplerate, channels):
    _count("gain", args, "G", 1)
    text = args[0]
    m = re.fullmatch(r"(.*?)\s*db", text, flags=re.IGNORECASE)
    if m:
        db = _number("gain", "the gain in dB", m.group(1))
        try:
            g = 10.0 ** (db / 20.0)
        except OverflowError:
            raise _ArgError(f"gain: expected a level a float can hold (at most "
                            f"{_MAX_DB:.0f} dB), got {text!r}") from None
        return _build("gain", _sd.Gain, g)
    try:
        g = float(text)
    except ValueError:
        raise _ArgError(f"gain: expected G to be a number (0.5) or a level in dB (-6dB), "
                        f"got {text!r}") from None
    if not math.isfinite(g):
        raise _ArgError(f"gain: expected G to be finite, got {text!r}")
    return _build("gain", _sd.Gain, g)


def _delay(args, samplerate, channels):
    _count("delay", args, "N samples", 1)
    return _build("delay", _sd.Delay, _integer("delay", "N (samples)", args[0], 0))


def _fir(args, samplerate, channels):
    path = _existing_file("fir", ",".join(args))
    taps = _load_npy("fir", path)
    _check_coefficients("fir", "taps", taps, channels)
    return _build("fir", _sd.FIR, taps)


def _convolver(args, samplerate, channels):
    path = _existing_file("convolver", ",".join(args))
    ir = _load_ir("convolver", path, samplerate)
    _check_coefficients("convolver", "an impulse response", ir, channels)
    return _build("convolver", _sd.Convolver, ir)


def _savgol(args, samplerate, channels):
    _count("savgol", args, "WINDOW,ORDER", 2)
    window = _integer("savgol", "WINDOW (window_length)", args[0], 1)
    order = _integer("savgol", "ORDER (polyorder)", args[1], 0)
    if order >= window:
        raise _ArgError(f"savgol: expected ORDER < WINDOW, got ORDER={order}, WINDOW={window}")
    return _build("savgol", _sd.SavitzkyGolay, window, order)


_BTYPES = ("lowpass", "highpass", "bandpass", "bandstop")


def _butter(args, samplerate, channels):
    usage = "ORDER,CUTOFF_HZ[,btype], band cutoffs as LOW-HIGH"
    _count("butter", args, usage, 2, 3)
    order = _integer("butter", "ORDER", args[0], 1)
    band = re.fullmatch(r"\s*([^-\s][^-]*?)\s*-\s*(\S.*?)\s*", args[1])
    if len(args) == 3:
        btype = args[2].lower()
        if btype not in _BTYPES:
            raise _ArgError(f"butter: expected btype in {', '.join(_BTYPES)}, got {args[2]!r}")
    else:
        btype = "bandpass" if band else "lowpass"
    if btype in ("bandpass", "bandstop"):
        if not band:
            raise _ArgError(f"butter: expected the {btype} cutoff as LOW-HIGH in Hz "
                            f"(e.g. 300-3400), got {args[1]!r}")
        cutoff = (_number("butter", "LOW", band.group(1)), _number("butter", "HIGH", band.group(2)))
    else:
        if band:
            raise _ArgError(f"butter: expected one cutoff in Hz for a {btype}, got the range "
                            f"{args[1]!r} (a range needs btype bandpass or bandstop)")
        cutoff = _number("butter", "CUTOFF_HZ", args[1])
    return _design("butter", order, cutoff, btype, samplerate, args[1])


def _design(name, order, cutoff, btype, samplerate, text):
    """A Butterworth LTISystem (second-order sections) after checking the cutoffs."""
    if np.ndim(cutoff) and not 0 < cutoff[0] < cutoff[1]:
        raise _ArgError(f"{name}: expected 0 < LOW < HIGH, got {text!r}")
    if not np.ndim(cutoff) and cutoff <= 0:
        raise _ArgError(f"{name}: expected CUTOFF_HZ > 0, got {text!r}")
    if samplerate is None:
        raise _ArgError(f"{name}: needs the sample rate to design the filter, and none was given")
    nyquist = samplerate / 2.0
    if max(np.atleast_1d(cutoff)) >= nyquist:
        raise _ArgError(f"{name}: expected cutoffs below the Nyquist frequency "
                        f"({nyquist:g} Hz at {samplerate:g} Hz), got {text!r}")
    from scipy.signal import butter

    sos = butter(order, cutoff, btype=btype, output="sos", fs=samplerate)
    return _build(name, _sd.LTISystem.from_sos, sos)


_ALIAS_ORDER = 4


def _alias(btype):
    """``lowpass:CUTOFF_HZ[,ORDER]``, ``bandpass:LOW,HIGH[,ORDER]``...: ``butter`` by its type."""
    band = btype in ("bandpass", "bandstop")
    usage = "LOW,HIGH[,ORDER]" if band else "CUTOFF_HZ[,ORDER]"

    def build(args, samplerate, channels):
        nc = 2 if band else 1
        _count(btype, args, usage, nc, nc + 1)
        order = _integer(btype, "ORDER", args[nc], 1) if len(args) > nc else _ALIAS_ORDER
        if band:
            cutoff = (_number(btype, "LOW", args[0]), _number(btype, "HIGH", args[1]))
        else:
            cutoff = _number(btype, "CUTOFF_HZ", args[0])
        return _design(btype, order, cutoff, btype, samplerate, ",".join(args[:nc]))

    return (f"{btype}:{usage}", f"Butterworth {btype}, order {_ALIAS_ORDER} unless given "
            f"(as butter:ORDER,...,{btype})", build)


#: name -> (usage, one-line description, builder)
BLOCKS = {
    "gain": ("gain:G", "multiply by G (linear, or in dB: gain:-6dB)", _gain),
    "delay": ("delay:N", "delay by N samples", _delay),
    "fir": ("fir:TAPS.npy", "FIR filter with the taps in a .npy file, shape (n,) or (n, channels)",
            _fir),
    "convolver": ("convolver:IR_FILE", "convolve with an impulse response "
                  "(any audio file libsndfile reads, or .npy)", _convolver),
    "savgol": ("savgol:WINDOW,ORDER", "Savitzky-Golay smoother", _savgol),
    "butter": ("butter:ORDER,CUTOFF_HZ[,btype]", "Butterworth filter; btype lowpass (default), "
               "highpass, bandpass or bandstop; band cutoffs as LOW-HIGH", _butter),
    **{btype: _alias(btype) for btype in _BTYPES},
}


def chain_help():
    """The chain syntax and the blocks it knows, as text for ``--help``."""
    import textwrap

    width = max(len(u) for u, _, _ in BLOCKS.values())
    lines = ["A chain is blocks separated by '|', each name:arg,arg,...  Blocks:"]
    for usage, text, _ in BLOCKS.values():
        lines += textwrap.wrap(text, 78, initial_indent=f"  {usage:<{width}}  ",
                               subsequent_indent=" " * (width + 4))
    return "\n".join(lines)


def parse_chain(text, samplerate=None, channels=None):
    """Build the Pipeline a chain description names.

    Parameters
    ----------
    text : str
        Blocks separated by ``|``, each ``name:arg,arg,...``, for example
        ``"fir:taps.npy | gain:-6dB"``.  Whitespace is ignored around names,
        arguments and ``|``; names are case-insensitive.  Known blocks:
        ``gain:G`` (linear, or ``-6dB``), ``delay:N``, ``fir:TAPS.npy``,
        ``convolver:IR_FILE``, ``savgol:WINDOW,ORDER``,
        ``butter:ORDER,CUTOFF_HZ[,btype]``, and its short forms
        ``lowpass:CUTOFF_HZ[,ORDER]``, ``highpass:...``,
        ``bandpass:LOW,HIGH[,ORDER]``, ``bandstop:...`` (order 4 unless given).
    samplerate : float, optional
        Sample rate of the stream, needed by blocks designed in Hz
        (``butter``).
    channels : int, optional
        Channel count of the stream, if known: files of 2-D coefficients
        (``fir``, ``convolver``) must then have that many columns.

    Returns
    -------
    Pipeline
        One block per element, in order.

    Raises
    ------
    ChainSyntaxError
        For the first bad element: ``"chain element <i> of <n> '<text>':
        <why>"``.  The exception also has ``position`` (1-based),
        ``element`` (its text) and ``reason`` attributes.

    Examples
    --------
    >>> from streamdsp._chain import parse_chain
    >>> parse_chain("gain:0.5 | delay:2")
    <Pipeline with 2 blocks: [<Gain g=0.5 latency=0>, <Delay samples=2 latency=0>]>
    >>> parse_chain("gian:0.5")
    Traceback (most recent call last):
    ...
    streamdsp._errors.ChainSyntaxError: chain element 1 of 1 'gian:0.5': unknown block 'gian'; expected one of bandpass, bandstop, butter, convolver, delay, fir, gain, highpass, lowpass, savgol
    >>> parse_chain("gain:0.5 >> delay:2")
    Traceback (most recent call last):
    ...
    streamdsp._errors.ChainSyntaxError: chain element 1 of 1 'gain:0.5 >> delay:2': expected blocks separated by '|', got '>>' between them; write 'gain:0.5 | delay:2'
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_chain: expected the chain as a str, got {type(text).__name__} {text!r:.60}")
    if samplerate is not None:
        samplerate = float(samplerate)
        if not samplerate > 0:
            raise ValueError(f"parse_chain: expected samplerate > 0, got {samplerate!r}")
    if not text.strip():
        raise ChainSyntaxError("chain: expected at least one block (name:arg,...), got an empty chain")
    elements = text.split("|")
    n = len(elements)
    blocks = []
    for i, raw in enumerate(elements, start=1):
        element = raw.strip()
        try:
            blocks.append(_parse_element(element, samplerate, channels))
        except _ArgError as e:
            err = ChainSyntaxError(f"chain element {i} of {n} {element!r}: {e}")
            err.position, err.element, err.reason = i, element, str(e)
            raise err from None
    return _sd.Pipeline(*blocks)


def _check_separators(element):
    """Refuse ``gain:0.5 >> fir:x`` and ``gain:0.5, fir:x``, suggesting ``|``."""
    names = "|".join(sorted(BLOCKS, key=len, reverse=True))
    separator = re.compile(rf"\s*(>>|->|=>|,|;|&&)\s*(?=(?:{names})\s*:)", re.IGNORECASE)
    m = separator.search(element)
    if m:
        raise _ArgError(f"expected blocks separated by '|', got {m.group(1)!r} between them; "
                        f"write {separator.sub(' | ', element)!r}")


def _parse_element(element, samplerate, channels):
    if not element:
        raise _ArgError("expected a block (name:arg,...), got nothing (an extra '|'?)")
    _check_separators(element)
    name, colon, rest = element.partition(":")
    name = name.strip().lower()
    if name not in BLOCKS:
        raise _ArgError(f"unknown block {name!r}; expected one of {', '.join(sorted(BLOCKS))}")
    args = [a.strip() for a in rest.split(",")] if rest.strip() else []
    if any(not a for a in args) and name not in ("fir", "convolver"):
        raise _ArgError(f"{name}: expected {BLOCKS[name][0]}, got an empty argument in {rest.strip()!r}")
    return BLOCKS[name][2](args, samplerate, channels)
