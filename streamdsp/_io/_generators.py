"""Signal generators: sources that synthesise a sine, a chirp or noise.

Every generator is a :class:`~streamdsp.Source`: iterating it yields chunks
of ``chunk_size`` frames (the last one shorter when ``duration`` is given),
and each new iteration starts the signal again from its beginning.  With
``duration=None`` the signal never ends (``frames`` is ``None``), which is
what a long-running :class:`~streamdsp.Runner` or a soak test wants.

The samples do not depend on the chunk size: sample ``n`` is the same
whichever chunks it arrives in.
"""

import functools
import math
from fractions import Fraction

import numpy as np

from streamdsp._core._endpoints import Source
from streamdsp._core._validate import choice, finite_float, whole_number

# Frames of white noise drawn at a time: a constant, so that the random
# stream (and hence every sample) does not depend on the chunk size.
_NOISE_BLOCK = 4096
# Frames of noise run through a colouring filter before the first sample,
# so that pink and brown noise are stationary from sample 0.
_NOISE_PREROLL = 16384


def _per_channel(cls, name, value, channels=None):
    """A scalar or a 1-D sequence of finite floats, as a float64 array of shape (k,)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{cls}: expected {name} to be a real number or a sequence of them, got {value!r}")
    a = np.asarray(value)
    if a.dtype.kind not in "fiub" or a.ndim > 1:
        raise TypeError(f"{cls}: expected {name} to be a real number or a 1-D sequence of them, got {value!r:.60}")
    a = np.atleast_1d(a.astype(np.float64))
    if a.size == 0:
        raise ValueError(f"{cls}: expected at least one value in {name}, got {value!r}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{cls}: expected {name} to be finite, got {value!r}")
    return a


class _Generator(Source):
    """What every generator shares: rate, length, layout, chunking, dtype."""

    start = 0   # index of the first sample (Sine and Chirp take it as a parameter)

    def _init_common(self, samplerate, duration, channels, chunk_size, dtype):
        cls = type(self).__name__
        self.samplerate = finite_float(cls, "samplerate", samplerate)
        if self.samplerate <= 0:
            raise ValueError(f"{cls}: expected samplerate > 0, got {samplerate!r}")
        if duration is None:
            self.duration = None
            self.frames = None
        else:
            self.duration = finite_float(cls, "duration", duration)
            if self.duration < 0:
                raise ValueError(f"{cls}: expected duration >= 0 seconds (or None: endless), got {duration!r}")
            self.frames = int(round(self.duration * self.samplerate))
        if channels is not None:
            channels = whole_number(cls, "channels", channels, minimum=1)
        self.channels = channels
        self.chunk_size = whole_number(cls, "chunk_size", chunk_size, minimum=1)
        if dtype not in ("float32", "float64", np.float32, np.float64):
            raise ValueError(f"{cls}: expected dtype 'float32' or 'float64', got {dtype!r}")
        self.dtype = np.dtype(dtype)

    def _channels_from(self, *arrays):
        """Fix self.channels from per-channel parameter arrays (length 1 or channels)."""
        cls = type(self).__name__
        lengths = {len(a) for a in arrays if len(a) > 1}
        if len(lengths) > 1:
            raise ValueError(f"{cls}: per-channel parameters have different lengths {sorted(lengths)}")
        k = lengths.pop() if lengths else 1
        if self.channels is None:
            self.channels = k
        elif k not in (1, self.channels):
            raise ValueError(f"{cls}: expected per-channel parameters of length {self.channels} "
                             f"(channels={self.channels}), got length {k}")

    def _shape(self, frames):
        return (frames,) if self.channels == 1 else (frames, self.channels)

    def _render(self, start, frames):
        """Samples start .. start+frames-1 as float64 of shape (frames, channels)."""
        raise NotImplementedError  # pragma: no cover

    def __iter__(self):
        n = self.start
        end = None if self.frames is None else n + self.frames
        while end is None or n < end:
            k = self.chunk_size if end is None else min(self.chunk_size, end - n)
            y = self._render(n, k)
            yield y.astype(self.dtype, copy=False).reshape(self._shape(k))
            n += k

    def _describe(self):
        length = "endless" if self.frames is None else f"{self.duration:g} s"
        return f"{self.samplerate:g} Hz {self.channels} ch {length}"


class Sine(_Generator):
    """A sine wave, exact over any length of stream.

    ``amplitude * sin(2*pi*frequency*n/samplerate + phase)`` for sample
    ``n = 0, 1, ...``.

    Parameters
    ----------
    frequency : float or sequence of float
        Hz.  A sequence gives one frequency per channel.
    samplerate : float
        Samples per second.
    duration : float or None, optional
        Seconds (``round(duration * samplerate)`` frames); ``None`` (the
        default) never ends.
    amplitude : float or sequence of float, optional
        Peak value (per channel if a sequence).
    phase : float or sequence of float, optional
        Phase of sample 0, in radians (per channel if a sequence).
    channels : int, optional
        Channel count; default: the length of the per-channel parameters,
        1 if they are all scalars.  Mono streams yield 1-D chunks.
    chunk_size : int, optional
        Frames per chunk.
    dtype : {"float32", "float64"}, optional
        Sample type of the chunks (computed in float64 either way).
    start : int, optional
        Index of the first sample: ``Sine(..., start=n)`` yields what a
        stream from 0 yields from sample ``n`` on (resume a stream, or look
        at a window of a very long one).

    Notes
    -----
    The phase of each sample is computed from its integer index, never by
    adding a phase increment sample after sample: the fractional number of
    cycles at the start of every chunk is computed exactly (rational
    arithmetic on the float values of ``frequency`` and ``samplerate``), so
    the wave is as accurate at sample 10**12 as at sample 0 and is
    continuous across chunks.  Offline equivalent (float64, to rounding):
    ``amplitude * np.sin(2 * np.pi * frequency * np.arange(n) / samplerate + phase)``.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> s = sd.Sine(1000.0, 8000, duration=0.001, chunk_size=5, dtype="float64")
    >>> [c.round(3).tolist() for c in s]
    [[0.0, 0.707, 1.0, 0.707, 0.0], [-0.707, -1.0, -0.707]]
    """

    def __init__(self, frequency, samplerate, duration=None, amplitude=1.0, phase=0.0, channels=None,
                 chunk_size=1024, dtype="float32", start=0):
        self._init_common(samplerate, duration, channels, chunk_size, dtype)
        self.frequency = _per_channel("Sine", "frequency", frequency)
        self.amplitude = _per_channel("Sine", "amplitude", amplitude)
        self.phase = _per_channel("Sine", "phase", phase)
        self._channels_from(self.frequency, self.amplitude, self.phase)
        k = max(len(self.frequency), len(self.amplitude), len(self.phase))
        self.frequency, self.amplitude, self.phase = (
            np.broadcast_to(a, (k,)).copy() for a in (self.frequency, self.amplitude, self.phase))
        self.start = whole_number("Sine", "start", start)
        # cycles per sample, exactly, as a fraction p/q of two integers
        fs = Fraction(self.samplerate)
        self._ratio = [Fraction(float(f)) / fs for f in self.frequency]
        self._cps = self.frequency / self.samplerate      # the same, rounded: within a chunk

    def _render(self, start, frames):
        k = np.arange(frames, dtype=np.float64)
        ch = len(self.frequency)
        out = np.empty((frames, ch))
        for c in range(ch):
            r = self._ratio[c]
            # whole cycles before `start` dropped exactly: 0 <= frac0 < 1
            frac0 = float((r.numerator * start % r.denominator) / r.denominator)
            cyc = frac0 + self._cps[c] * k
            cyc -= np.floor(cyc)
            out[:, c] = np.sin(2 * np.pi * cyc + self.phase[c])
        out *= self.amplitude
        if ch == 1 and self.channels > 1:
            out = np.repeat(out, self.channels, axis=1)
        return out

    def __repr__(self):
        f = self.frequency[0] if len(self.frequency) == 1 else self.frequency.tolist()
        return f"<Sine {f} Hz at {self._describe()}>"


class Chirp(_Generator):
    """A frequency sweep, sample for sample what ``scipy.signal.chirp`` gives.

    Parameters
    ----------
    f0 : float
        Frequency (Hz) at time 0.
    f1 : float
        Frequency (Hz) at time ``duration``.
    duration : float
        Seconds; the sweep has ``round(duration * samplerate)`` frames and
        reaches ``f1`` at ``t = duration`` (scipy's ``t1``).
    samplerate : float
        Samples per second.
    method : {"linear", "quadratic", "logarithmic", "hyperbolic"}, optional
        How the frequency moves from ``f0`` to ``f1`` (see
        ``scipy.signal.chirp``).
    amplitude : float, optional
        Peak value.
    phase : float, optional
        Phase offset in radians (scipy's ``phi`` is in degrees:
        ``phi=np.degrees(phase)``).
    channels : int, optional
        The same sweep on every channel.  Mono streams yield 1-D chunks.
    chunk_size : int, optional
        Frames per chunk.
    dtype : {"float32", "float64"}, optional
        Sample type of the chunks (computed in float64 either way).
    start : int, optional
        Index of the first sample (see :class:`Sine`).

    Notes
    -----
    Offline equivalent (bit for bit in float64)::

        t = np.arange(round(duration * samplerate)) / samplerate
        amplitude * scipy.signal.chirp(t, f0, duration, f1, method, phi=np.degrees(phase))

    Each chunk evaluates the sweep at its own times ``n / samplerate``, so
    there is no drift however the stream is cut.

    Examples
    --------
    >>> import numpy as np, scipy.signal, streamdsp as sd
    >>> c = sd.Chirp(100.0, 2000.0, 1.0, 8000, dtype="float64", chunk_size=333)
    >>> y = np.concatenate(list(c))
    >>> t = np.arange(8000) / 8000
    >>> np.array_equal(y, scipy.signal.chirp(t, 100.0, 1.0, 2000.0))
    True
    """

    _METHODS = ("linear", "quadratic", "logarithmic", "hyperbolic")

    def __init__(self, f0, f1, duration, samplerate, method="linear", amplitude=1.0, phase=0.0, channels=1,
                 chunk_size=1024, dtype="float32", start=0):
        if duration is None:
            raise TypeError("Chirp: expected duration in seconds (the sweep reaches f1 at t=duration), got None")
        self._init_common(samplerate, duration, channels, chunk_size, dtype)
        self.f0 = finite_float("Chirp", "f0", f0)
        self.f1 = finite_float("Chirp", "f1", f1)
        self.method = choice("Chirp", "method", method, self._METHODS)
        if self.duration <= 0:
            raise ValueError(f"Chirp: expected duration > 0 seconds, got {duration!r}")
        if method in ("logarithmic", "hyperbolic") and (self.f0 == 0 or self.f1 == 0):
            raise ValueError(f"Chirp: method={method!r} needs nonzero f0 and f1, got f0={f0!r}, f1={f1!r}")
        if method == "logarithmic" and self.f0 * self.f1 <= 0:
            raise ValueError(f"Chirp: method='logarithmic' needs f0 and f1 of the same sign, got f0={f0!r}, f1={f1!r}")
        self.amplitude = finite_float("Chirp", "amplitude", amplitude)
        self.phase = finite_float("Chirp", "phase", phase)
        self.start = whole_number("Chirp", "start", start)

    def _render(self, start, frames):
        from scipy.signal import chirp

        t = np.arange(start, start + frames, dtype=np.float64) / self.samplerate
        y = chirp(t, self.f0, self.duration, self.f1, self.method, phi=math.degrees(self.phase))
        if self.amplitude != 1.0:
            y = self.amplitude * y
        return np.repeat(y[:, None], self.channels, axis=1)

    def __repr__(self):
        return f"<Chirp {self.f0:g}->{self.f1:g} Hz {self.method} at {self._describe()}>"


def _pink_filter():
    # A 3-pole/3-zero fit of 1/f power (-3 dB/octave) within about 0.3 dB
    # over the top 9-10 octaves (J. O. Smith, "Spectral Audio Signal
    # Processing", "Example: Synthesis of 1/f Noise (Pink Noise)").
    b = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
    a = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])
    return b, a


def _brown_filter():
    # Leaky integrator: 1/f^2 power (-6 dB/octave) above f = fs * 1e-3 / (2 pi),
    # flat below, so that the walk stays bounded however long it runs.
    return np.array([1.0]), np.array([1.0, -0.999])


@functools.lru_cache(maxsize=None)
def _power_gain(color):
    """Output variance of the colouring filter for unit-variance white noise: sum of h**2."""
    from scipy.signal import lfilter
    b, a = _pink_filter() if color == "pink" else _brown_filter()
    impulse = np.zeros(1 << 18)      # both impulse responses are below 1e-100 by its end
    impulse[0] = 1.0
    return float(np.sum(lfilter(b, a, impulse) ** 2))


class Noise(_Generator):
    """Gaussian noise, white, pink or brown, reproducible from a seed.

    Parameters
    ----------
    samplerate : float
        Samples per second.
    duration : float or None, optional
        Seconds; ``None`` (the default) never ends.
    seed : int, sequence of int or None, optional
        Seed of the NumPy ``default_rng`` the samples come from.  The same
        seed gives the same samples whatever the chunk size.  ``None``
        draws a fresh seed (kept in :attr:`seed`, so iterating again
        repeats the same noise).
    color : {"white", "pink", "brown"}, optional
        Power spectrum: flat; 1/f (-3 dB per octave); 1/f**2 (-6 dB per
        octave, above ``samplerate / 6283``, flat below so that it stays
        bounded).
    amplitude : float, optional
        Standard deviation (RMS) of each channel.
    channels : int, optional
        Independent noise on each channel.  Mono streams yield 1-D chunks.
    chunk_size : int, optional
        Frames per chunk.
    dtype : {"float32", "float64"}, optional
        Sample type of the chunks (computed in float64 either way).

    Notes
    -----
    White noise is, sample for sample::

        np.random.default_rng(seed).standard_normal((frames, channels)) * amplitude

    Pink and brown noise run white noise through a fixed IIR filter (``b``,
    ``a`` in ``Noise.filter``), scaled to unit variance, after a pre-roll
    of 16384 frames so that the noise is stationary from the first sample::

        w = np.random.default_rng(seed).standard_normal((16384 + frames, channels))
        amplitude * scale * scipy.signal.lfilter(b, a, w, axis=0)[16384:]

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> n = sd.Noise(48000, duration=0.01, seed=7, dtype="float64", chunk_size=100)
    >>> x = np.concatenate(list(n))
    >>> np.array_equal(x, np.random.default_rng(7).standard_normal(480))
    True
    """

    _COLORS = ("white", "pink", "brown")

    def __init__(self, samplerate, duration=None, seed=None, color="white", amplitude=1.0, channels=1,
                 chunk_size=1024, dtype="float32"):
        self._init_common(samplerate, duration, channels, chunk_size, dtype)
        self.color = choice("Noise", "color", color, self._COLORS)
        self.amplitude = finite_float("Noise", "amplitude", amplitude)
        if seed is None:
            seed = np.random.SeedSequence().entropy
        if isinstance(seed, (np.random.Generator, np.random.BitGenerator)):
            raise TypeError("Noise: expected seed to be None, an int or a sequence of ints, got a random "
                            "generator (its state would advance between iterations); pass an int")
        try:
            np.random.default_rng(seed)
        except (TypeError, ValueError) as e:
            raise TypeError(f"Noise: expected seed to be None, an int or a sequence of ints, got {seed!r}: {e}") from None
        self.seed = seed
        if self.color == "white":
            self.filter = None
            self._scale = self.amplitude
        else:
            self.filter = _pink_filter() if self.color == "pink" else _brown_filter()
            self._scale = self.amplitude / math.sqrt(_power_gain(self.color))

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        ch = self.channels
        zi = None
        if self.filter is not None:
            from scipy.signal import lfilter
            b, a = self.filter
            zi = np.zeros((max(len(a), len(b)) - 1, ch))
            for _ in range(_NOISE_PREROLL // _NOISE_BLOCK):
                _, zi = lfilter(b, a, rng.standard_normal((_NOISE_BLOCK, ch)), axis=0, zi=zi)
        pending = np.zeros((0, ch))
        left = self.frames
        while left is None or left > 0:
            k = self.chunk_size if left is None else min(self.chunk_size, left)
            parts = [pending]
            have = len(pending)
            while have < k:
                w = rng.standard_normal((_NOISE_BLOCK, ch))
                if zi is not None:
                    w, zi = lfilter(b, a, w, axis=0, zi=zi)
                parts.append(w)
                have += _NOISE_BLOCK
            buf = np.concatenate(parts) if len(parts) > 1 else pending
            chunk, pending = buf[:k], buf[k:]
            y = chunk * self._scale
            yield y.astype(self.dtype, copy=False).reshape(self._shape(k))
            if left is not None:
                left -= k

    def __repr__(self):
        return f"<Noise {self.color} seed={self.seed} at {self._describe()}>"
