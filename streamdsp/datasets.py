"""Synthetic test signals to try streamdsp on: a speech-like voice and a concert-hall response.

They are made from seeded noise and simple physics, the same on every
machine, so that the README's tour and a new user's first script have
files to work on without a download.  The tests use real recordings
instead (Debian's ``alsa-utils`` voices and ``guitarix-common`` hall).

Examples
--------
>>> import soundfile as sf
>>> import streamdsp as sd
>>> voice = sd.datasets.speech()
>>> hall = sd.datasets.hall_ir()
>>> voice.shape, hall.shape, voice.dtype
((144000,), (86400, 2), dtype('float32'))
"""

import numpy as np

__all__ = ["speech", "hall_ir"]

# Formants (F1, F2, F3 in Hz) of five vowels of an adult male voice
# (Peterson & Barney 1952), which is what makes a pulse train sound like speech.
_VOWELS = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480),
           (570, 840, 2410)]
_FORMANT_BANDWIDTHS = (90.0, 110.0, 170.0)


def _resonator(f, bw, samplerate):
    """A two-pole resonance at ``f`` Hz, ``bw`` Hz wide, unit gain at DC: (b, a)."""
    r = np.exp(-np.pi * bw / samplerate)
    a = np.array([1.0, -2.0 * r * np.cos(2 * np.pi * f / samplerate), r * r])
    return np.array([a.sum()]), a


def speech(seconds=3.0, samplerate=48000, seed=0):
    """A speech-like test signal: voiced syllables, hissed consonants and pauses (mono float32).

    Each syllable is a glottal pulse train (its pitch gliding down from
    about 140 to 100 Hz over a phrase, with some jitter) shaped by the
    three formants of one of five vowels, under a syllable envelope of
    ~0.2 s; about half of them start with 50 ms of high-passed noise (an
    "s" or "f"); phrases are separated by short pauses.  The peak is 0.5.

    Parameters
    ----------
    seconds : float, optional
        Length (default 3 s).
    samplerate : int, optional
        Sample rate in Hz (default 48000).
    seed : int, optional
        Seed of the syllable order, pitch jitter and noise (default 0).

    Returns
    -------
    ndarray, shape (frames,), float32

    Examples
    --------
    >>> import numpy as np
    >>> import streamdsp as sd
    >>> x = sd.datasets.speech(seconds=1.0, samplerate=16000)
    >>> x.shape, float(np.max(np.abs(x)))
    ((16000,), 0.5)
    """
    from scipy.signal import butter, lfilter, sosfilt

    rng = np.random.default_rng(seed)
    n = int(round(seconds * samplerate))
    x = np.zeros(n)
    hiss = butter(4, 3000.0, btype="highpass", output="sos", fs=samplerate)
    t = 0.08
    syllable_in_phrase = 0
    while t < seconds - 0.25:
        length = rng.uniform(0.16, 0.26)
        a, m = int(t * samplerate), int(length * samplerate)
        m = min(m, n - a)
        if rng.random() < 0.5:                          # a consonant before the vowel
            k = min(int(0.05 * samplerate), n - a)
            noise = sosfilt(hiss, rng.standard_normal(k)) * np.hanning(k)
            x[a:a + k] += 0.25 * noise
            a += k // 2
            m = min(m, n - a)
        # pitch: a falling phrase contour with a little jitter
        f0 = 140.0 - 8.0 * syllable_in_phrase + rng.normal(0, 3) + \
            np.linspace(0, -10, m)
        phase = 2 * np.pi * np.cumsum(f0) / samplerate
        source = np.zeros(m)
        for h in range(1, int(4000 // f0.max()) + 1):   # a glottal spectrum, -12 dB/octave
            source += np.sin(h * phase) / h ** 2
        voiced = source
        for f, bw in zip(_VOWELS[rng.integers(len(_VOWELS))], _FORMANT_BANDWIDTHS):
            b, den = _resonator(f, bw, samplerate)
            voiced = lfilter(b, den, voiced)
        envelope = np.sin(np.pi * np.arange(m) / m) ** 1.5
        x[a:a + m] += voiced * envelope / (np.max(np.abs(voiced)) or 1.0)
        t += length + rng.uniform(0.02, 0.06)
        syllable_in_phrase += 1
        if syllable_in_phrase == 5:                      # end of a phrase: breathe
            t += rng.uniform(0.2, 0.35)
            syllable_in_phrase = 0
    peak = np.max(np.abs(x))
    return (0.5 / peak * x).astype(np.float32) if peak > 0 else x.astype(np.float32)


def hall_ir(seconds=1.8, samplerate=48000, channels=2, seed=1):
    """A synthetic concert-hall impulse response: reflections, then decaying filtered noise.

    After a 20 ms pre-delay come a dozen early reflections (up to 80 ms,
    different in each channel) and then a dense tail of noise decaying
    exponentially, by 60 dB over ``seconds`` below 4 kHz and 2.5 times
    faster above, as air and walls absorb the highs.  The channels are
    independent noise (a wide, decorrelated stereo hall).  There is no
    direct sound: this is the wet signal, to be mixed with the dry one.
    Each channel has unit energy, so a convolution keeps the loudness.

    Parameters
    ----------
    seconds : float, optional
        Reverberation time T60 below 4 kHz, and the length (default 1.8 s).
    samplerate : int, optional
        Sample rate in Hz (default 48000).
    channels : int, optional
        Channels (default 2, stereo).
    seed : int, optional
        Seed of the noise (default 1).

    Returns
    -------
    ndarray, shape (frames, channels), float32

    Examples
    --------
    >>> import numpy as np
    >>> import streamdsp as sd
    >>> ir = sd.datasets.hall_ir(seconds=0.5, samplerate=16000)
    >>> ir.shape, np.round(np.sum(ir.astype(float) ** 2, axis=0), 3)
    ((8000, 2), array([1., 1.]))
    """
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    n = int(round(seconds * samplerate))
    t = np.arange(n) / samplerate
    low = butter(4, 4000.0, output="sos", fs=samplerate)
    high = butter(4, 4000.0, btype="highpass", output="sos", fs=samplerate)
    ir = np.zeros((n, channels))
    start = int(0.020 * samplerate)
    for c in range(channels):
        noise = rng.standard_normal((2, n))
        tail = sosfilt(low, noise[0]) * np.exp(-6.91 * t / seconds) + \
            sosfilt(high, noise[1]) * np.exp(-6.91 * 2.5 * t / seconds)
        onset = np.clip((t - 0.020) / 0.06, 0.0, 1.0)   # the tail builds up over 60 ms
        ir[:, c] = 0.5 * tail * onset
        for _ in range(12):
            k = start + int(rng.uniform(0.0, 0.06) * samplerate)
            if k < n:
                ir[k, c] += rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 1.0) * \
                    np.exp(-6.91 * t[k] / seconds) * 0.2
    ir /= np.sqrt(np.sum(ir ** 2, axis=0))
    return ir.astype(np.float32)
