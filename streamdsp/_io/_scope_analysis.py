"""What the browser scope shows, computed from a ring buffer's newest frames (numpy only).

Shared by every open page of a :func:`streamdsp.scope`: the numbers are
computed at most once per refresh, on the scope's server thread.
"""

import math
import threading
import time

import numpy as np

FLOOR_DB = -120.0           # what silence reads (log of zero)
MIN_SPECTRUM_FRAMES = 64    # fewer frames than this give no spectrum
MAX_WAVE_POINTS = 2000      # per channel; longer windows are drawn as min/max pairs


def _columns(x, dtype=None):
    """``x`` as (frames, channels); 1-D is one channel."""
    x = np.asarray(x, dtype=dtype)
    return x if x.ndim == 2 else x.reshape(-1, 1)


def _db(x):
    """20 log10(x), with silence at the floor instead of -inf."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.maximum(20.0 * np.log10(x), FLOOR_DB)


def spectrum(frames, samplerate, nfft):
    """Magnitude spectrum (dBFS) of the newest ``nfft`` frames, and the strongest component's frequency.

    A Hann window scaled so that a full-scale sine reads 0 dBFS.  The peak
    is sought above the DC bin's main lobe (bins 0 and 1) and refined by a
    parabola through the log magnitudes of the three bins around it: for a
    pure tone, within 0.02 bin in frequency and 0.35 dB in level.

    Returns
    -------
    freqs : ndarray (nfft // 2 + 1,)
    db : ndarray (nfft // 2 + 1, channels)
    peak_hz, peak_db : float, per the loudest channel (nan without enough frames)
    """
    x = _columns(frames, np.float64)[-nfft:]
    freqs = np.fft.rfftfreq(nfft, 1.0 / samplerate)
    if len(x) < MIN_SPECTRUM_FRAMES:
        return freqs, np.full((len(freqs), x.shape[1]), FLOOR_DB), math.nan, math.nan
    # fewer frames than nfft (the stream has just started): window what there is, zero-pad
    w = np.hanning(len(x))
    mag = np.abs(np.fft.rfft(x * w[:, None], n=nfft, axis=0)) * (2.0 / w.sum())
    db = _db(mag)
    # a DC offset leaks into bin 1 through the Hann main lobe: the peak is sought above it
    ch = int(np.argmax(mag[2:].max(axis=0)))
    k = 2 + int(np.argmax(mag[2:, ch]))
    peak_hz, peak_db = k * samplerate / nfft, float(db[k, ch])
    if k < len(freqs) - 1:
        a, b, c = db[k - 1, ch], db[k, ch], db[k + 1, ch]
        den = a - 2 * b + c
        if den < 0:
            delta = 0.5 * (a - c) / den
            peak_hz = (k + delta) * samplerate / nfft
            peak_db = float(b - 0.25 * (a - c) * delta)
    return freqs, db, float(peak_hz), peak_db


def levels(frames):
    """Per-channel peak and RMS in dBFS of ``frames`` (the floor for no frames)."""
    x = _columns(frames, np.float64)
    if len(x) == 0:
        ch = x.shape[1]
        return np.full(ch, FLOOR_DB), np.full(ch, FLOOR_DB)
    return _db(np.abs(x).max(axis=0)), _db(np.sqrt(np.mean(x * x, axis=0)))


def envelope(frames, max_points=MAX_WAVE_POINTS):
    """(index, values) to draw ``frames`` with at most ``max_points`` points per channel.

    Longer stretches become the minimum and maximum of equal buckets, in
    time order, so that a peak between two drawn points is never lost.
    """
    x = _columns(frames)
    n = len(x)
    if n <= max_points:
        return np.arange(n, dtype=np.float64), x
    size = -(-n // (max_points // 2))       # frames per bucket, so that at most max_points remain
    buckets = n // size
    start = n - buckets * size              # fewer than size frames, the oldest, left out
    used = x[start:].reshape(buckets, size, -1)
    values = np.empty((2 * buckets, x.shape[1]), dtype=x.dtype)
    values[0::2], values[1::2] = used.min(axis=1), used.max(axis=1)
    index = start + np.repeat(np.arange(buckets) * size, 2) + np.tile([0, size - 1], buckets)
    return index.astype(np.float64), values


class Analyser:
    """The views' numbers, computed at most once per refresh however many pages are open."""

    def __init__(self, ring, samplerate, stream, window, nfft, interval):
        self.ring, self.samplerate, self.stream = ring, samplerate, stream
        self.window_frames = max(2, int(round(window * samplerate)))
        self.meter_frames = max(1, int(round(interval * samplerate)))
        self.nfft = nfft
        self.interval = interval
        self.lock = threading.Lock()
        self.latest = None
        self.updates = 0

    def get(self):
        with self.lock:
            now = time.monotonic()
            if self.latest is None or now - self.latest["time"] >= 0.5 * self.interval:
                self.latest = self._compute(now)
                self.updates += 1
            return self.latest

    def _compute(self, now):
        need = max(self.window_frames, self.nfft, self.meter_frames)
        data, start = self.ring.read(need, return_start=True)
        data = _columns(data)
        freqs, db, peak_hz, peak_db = spectrum(data, self.samplerate, self.nfft)
        peak, rms = levels(data[-self.meter_frames:])
        result = {
            "time": now, "data": data, "start": int(start), "frames": int(start) + len(data),
            "freqs": freqs, "spectrum_db": db, "peak_hz": peak_hz, "peak_db": peak_db,
            "meter_peak_db": peak, "meter_rms_db": rms, "stats": None, "stats_error": None,
        }
        if self.stream is not None:
            try:
                result["stats"] = self.stream.stats()
            except Exception as e:      # a closed or broken stream must not stop the page
                result["stats_error"] = f"{type(e).__name__}: {e}"
        return result
