"""Argument checks shared by the blocks' constructors.

Each raises with the message format of the house style:
``"<Block>: expected <what>, got <what>"``.
"""
import math
import numbers

import numpy as np


def finite_float(block, name, value):
    """``value`` as a finite float, or TypeError/ValueError naming it."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{block}: expected {name} to be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{block}: expected {name} to be finite, got {value!r}")
    return v


def whole_number(block, name, value, minimum=0):
    """``value`` as an int >= minimum (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{block}: expected {name} to be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{block}: expected {name} >= {minimum}, got {value!r}")
    return int(value)


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
