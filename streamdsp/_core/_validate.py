"""Argument checks shared by the blocks' constructors.

Each raises with the message format of the house style:
``"<Block>: expected <what>, got <what>"``.
"""
import math
import numbers

import numpy as np

#: Largest FFT the kernel plans (``SD_FFT_MAXN`` in ``_src/sd_fft.c``).
MAX_FFT = 2 ** 30

#: Largest size-like parameter (frames, strides, factors, windows).  What fits
#: in memory is checked when the buffers are allocated (``alloc_frames``);
#: this bound only keeps the blocks' own arithmetic on a size (``size + 1``,
#: ``2 * size``) inside a Py_ssize_t, so ``Delay(2**63)`` is refused here.
MAX_FRAMES = 2 ** 62 - 1


def _pow2(n):
    """n as 2**k when it is a power of two >= 1024 (how absurd sizes are typed)."""
    return f"2**{n.bit_length() - 1}" if n >= 1024 and n & (n - 1) == 0 else str(n)


def finite_float(block, name, value):
    """``value`` as a finite float, or TypeError/ValueError naming it."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{block}: expected {name} to be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{block}: expected {name} to be finite, got {value!r}")
    return v


def whole_number(block, name, value, minimum=0, maximum=None):
    """``value`` as an int in ``minimum .. maximum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{block}: expected {name} to be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{block}: expected {name} >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{block}: expected {name} <= {maximum}, got {value!r}")
    return int(value)


def frame_count(block, name, value, minimum=0):
    """A size-like parameter: ``whole_number`` in ``minimum .. MAX_FRAMES``."""
    v = whole_number(block, name, value, minimum)
    if v > MAX_FRAMES:
        raise ValueError(f"{block}: expected {name} < 2**62 (no buffer of more frames can be "
                         f"addressed), got {value!r}")
    return v


def fft_block_size(block, name, value, context=""):
    """A block size for a partitioned FFT engine: a power of two in 8 .. MAX_FFT // 2.

    The engine transforms ``2 * value`` points per block, and needs at
    least 16 of them (``PartitionedConvolution``).  ``context`` is added to
    the minimum's message (``" for method='fft'"``).
    """
    v = whole_number(block, name, value, minimum=1)
    if v & (v - 1):
        raise ValueError(f"{block}: expected {name} to be a power of two, got {v}")
    if v < 8:
        raise ValueError(f"{block}: expected {name} >= 8{context}, got {v}")
    if v > MAX_FFT // 2:
        raise ValueError(f"{block}: {name} {_pow2(v)} would need an FFT of {_pow2(2 * v)} points; "
                         f"expected {name} <= {_pow2(MAX_FFT // 2)} (FFTs of at most "
                         f"{_pow2(MAX_FFT)} points)")
    return v


def fft_points(block, what, frames):
    """The power-of-two FFT size (>= 8) holding ``frames``, or ValueError above MAX_FFT.

    ``what`` names the parameters ``frames`` comes from (``"window + max_lag"``).
    """
    n = 8
    while n < frames:
        n *= 2
    if n > MAX_FFT:
        raise ValueError(f"{block}: {what} = {frames} would need an FFT of {_pow2(n)} points; "
                         f"expected {what} <= {_pow2(MAX_FFT)}")
    return n


def coefficients(block, name, value, max_ndim=2):
    """A real, finite, non-empty coefficient array of 1..max_ndim dims (float64)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{block}: expected {name} to be an array of numbers, got {value!r:.40}")
    try:
        a = np.asarray(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{block}: expected {name} to be an array of numbers: {e}") from None
    if a.dtype.kind == "c":
        raise TypeError(f"{block}: complex {name} are not supported; got dtype {a.dtype}")
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{block}: expected {name} to be real numbers, got dtype {a.dtype}")
    if not 1 <= a.ndim <= max_ndim:
        shapes = "(n,)" if max_ndim == 1 else "(n,) or (n, channels)"
        raise ValueError(f"{block}: expected {name} of shape {shapes}, got shape {a.shape}")
    if a.shape[0] == 0 or a.size == 0:
        raise ValueError(f"{block}: expected at least one coefficient in {name}, got shape {a.shape}")
    a = np.array(a, dtype=np.float64, order="C")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{block}: expected finite {name}, got NaN or infinity")
    return a


def choice(block, name, value, options):
    """``value`` if it is one of ``options`` (strings), else ValueError listing them."""
    if value not in options:
        raise ValueError(f"{block}: expected {name} in {', '.join(repr(o) for o in options)}, got {value!r}")
    return value
