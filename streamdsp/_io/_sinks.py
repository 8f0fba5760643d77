"""Sinks: arrays, audio files, callbacks, ring buffers."""

import os

import numpy as np

from streamdsp._errors import StreamStateError
from streamdsp._graph._flow import Sink
from streamdsp._io import _ringbuffer

# libsndfile command that rewrites a file's header for the data written so far
_SFC_UPDATE_HEADER_NOW = 0x1060
# Containers whose header holds the data length, and which libsndfile
# rewrites on SFC_UPDATE_HEADER_NOW (checked: a copy taken mid-recording
# reads back whole).  Ogg must not get the command: its stream breaks.
_HEADER_FORMATS = frozenset({"WAV", "WAVEX", "RF64", "W64", "AIFF", "AU", "CAF", "NIST", "IRCAM"})


class ArraySink(Sink):
    """Collect every chunk; :meth:`result` returns them joined.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> s = sd.ArraySink()
    >>> s.write(np.ones(2)); s.write(np.zeros(1))
    >>> s.result()
    array([1., 1., 0.])
    """

    def __init__(self):
        self._chunks = []

    def write(self, chunk):
        self._chunks.append(np.array(chunk, copy=True))

    def result(self):
        """All chunks written so far, concatenated along frames."""
        chunks = [c for c in self._chunks if c.size] or self._chunks[:1]
        if not chunks:
            return np.zeros(0)
        ndim = max(c.ndim for c in chunks)
        if ndim == 2:
            ch = next(c.shape[1] for c in chunks if c.ndim == 2)
            chunks = [c.reshape(-1, ch) for c in chunks]
        return np.concatenate(chunks)

    @property
    def data(self):
        """Same as :meth:`result`."""
        return self.result()

    def __repr__(self):
        return f"<ArraySink chunks={len(self._chunks)}>"


class FileSink(Sink):
    """Write chunks to an audio file through libsndfile, safe against a kill.

    The file is opened at the first chunk, when its channel count is known.
    Every ``flush_every`` seconds of audio the header is brought up to date
    and the data pushed to the operating system (:meth:`flush`), so that a
    process killed in the middle of a long recording leaves a valid file
    holding everything up to the last flush.

    Parameters
    ----------
    path : str or path-like
    samplerate : int
    subtype : str, optional
        libsndfile subtype (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``...);
        default: the format's default (WAV: PCM_16).
    format : str, optional
        Container format; default from the file extension.
    flush_every : float or None, optional
        Seconds of audio between flushes (default 1.0); ``None`` flushes
        only at :meth:`close`.

    Attributes
    ----------
    frames : int
        Frames written so far.
    frames_flushed : int
        Frames that a reader of the file would find if the process died now.

    Notes
    -----
    What a flush does depends on the format.  Formats with the data length
    in their header (WAV, WAVEX, RF64, W64, AIFF, AU, CAF, NIST, IRCAM) get
    the header rewritten (libsndfile's ``SFC_UPDATE_HEADER_NOW``: its
    ``sf_write_sync``, which is ``SoundFile.flush()``, alone leaves a WAV
    header saying 0 frames) and are then synced.  FLAC keeps its length in
    the STREAMINFO block, which libFLAC writes only when the file is
    closed; the flush writes there the number of samples already encoded
    (the encoder holds back up to one block, 4096 frames at libsndfile's
    settings, which the next flush covers).  A FLAC killed before its
    first block was encoded holds no audio.  Ogg (Vorbis, Opus) and MP3
    are synced but not readable until closed: :attr:`frames_flushed` stays
    0 for them; record to FLAC for a compressed file that survives a kill.
    WAV cannot exceed 4 GiB: for recordings of days use FLAC or
    ``format="RF64"``.

    Examples
    --------
    >>> import numpy as np, soundfile, streamdsp as sd, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "y.flac")
    >>> sd.run(sd.ArraySource(np.zeros((100, 2))) >> sd.FileSink(path, 8000))  # doctest: +ELLIPSIS
    '...y.flac'
    >>> soundfile.info(path).frames
    100
    """

    def __init__(self, path, samplerate, subtype=None, format=None, flush_every=1.0):
        import soundfile

        self.path = str(path)
        try:
            self.samplerate = int(samplerate)
        except (TypeError, ValueError):
            raise TypeError(f"FileSink: expected samplerate to be a whole number, got {samplerate!r}") from None
        if self.samplerate <= 0:
            raise ValueError(f"FileSink: expected samplerate > 0, got {samplerate!r}")
        fmt = format
        if fmt is None and "." in os.path.basename(self.path):
            fmt = self.path.rsplit(".", 1)[-1]
        if fmt is None or fmt.upper() not in soundfile.available_formats():
            raise ValueError(f"FileSink: cannot tell the audio format of {self.path!r}; "
                             f"give format= (one of {', '.join(sorted(soundfile.available_formats()))})")
        if subtype is not None and not soundfile.check_format(fmt, subtype):
            raise ValueError(f"FileSink: format {fmt!r} does not take subtype {subtype!r}")
        if flush_every is not None:
            from streamdsp._core._validate import finite_float
            flush_every = finite_float("FileSink", "flush_every", flush_every)
            if flush_every <= 0:
                raise ValueError(f"FileSink: expected flush_every > 0 seconds (or None), got {flush_every!r}")
        self.format = fmt.upper()
        self.subtype = subtype
        self.flush_every = flush_every
        self._flush_frames = None if flush_every is None else max(1, int(round(flush_every * self.samplerate)))
        self._file = None
        self._closed = False
        self._last_flush = 0
        self.frames = 0
        self.frames_flushed = 0

    def write(self, chunk):
        import soundfile

        if self._closed:
            raise StreamStateError(f"FileSink: {self.path!r} is closed; make a new sink to write again")
        chunk = np.asarray(chunk)
        if self._file is None:
            channels = 1 if chunk.ndim == 1 else chunk.shape[1]
            self._file = soundfile.SoundFile(self.path, "w", self.samplerate, channels,
                                             self.subtype, format=self.format)
        if len(chunk):
            self._file.write(chunk)
            self.frames += len(chunk)
            if self._flush_frames is not None and self.frames - self._last_flush >= self._flush_frames:
                self.flush()

    def flush(self):
        """Make everything written so far durable: header, data, sync.

        Called every ``flush_every`` seconds of audio by :meth:`write`;
        call it yourself at any time.  Sets :attr:`frames_flushed`.
        """
        import soundfile

        if self._file is None or self._closed:
            return
        f = self._file
        self._last_flush = self.frames
        if self.format in _HEADER_FORMATS:
            soundfile._snd.sf_command(f._file, _SFC_UPDATE_HEADER_NOW, soundfile._ffi.NULL, 0)
            f.flush()
            self.frames_flushed = self.frames
        elif self.format == "FLAC":
            f.flush()
            self.frames_flushed = self._patch_flac_length()
        elif self.format == "RAW":      # no header: the data is the file
            f.flush()
            self.frames_flushed = self.frames
        else:                           # Ogg, MP3...: synced, but readable only once closed
            f.flush()

    def _patch_flac_length(self):
        """Write the count of samples already encoded into STREAMINFO; return it."""
        fd = os.open(self.path, os.O_RDWR)
        try:
            head = os.pread(fd, 26, 0)
            # "fLaC", then the STREAMINFO block (type 0): min/max block size
            # at bytes 8-11, rate/channels/bits/total samples at bytes 18-25
            if len(head) < 26 or head[:4] != b"fLaC" or head[4] & 0x7F != 0:
                return self.frames_flushed
            blocksize = int.from_bytes(head[10:12], "big")
            if blocksize == 0 or self.frames == 0:
                return self.frames_flushed
            # libFLAC encodes a block once it holds blocksize + 1 samples
            encoded = (self.frames - 1) // blocksize * blocksize
            if encoded <= self.frames_flushed:
                return self.frames_flushed
            word = int.from_bytes(head[18:26], "big")
            word = (word & ~((1 << 36) - 1)) | encoded
            os.pwrite(fd, word.to_bytes(8, "big"), 18)
            os.fsync(fd)
        finally:
            os.close(fd)
        return encoded

    def close(self):
        if self._file is not None and not self._closed:
            self._file.close()
            self.frames_flushed = self.frames
        self._closed = True

    def result(self):
        """The path written."""
        return self.path

    def __repr__(self):
        return f"<FileSink {self.path!r} {self.samplerate} Hz>"


class CallbackSink(Sink):
    """Hand every chunk to a function: ``fn(chunk)``.

    Parameters
    ----------
    fn : callable
        Called with each output chunk (an array the sink does not keep;
        copy it to keep it).  Its return value is ignored.
    on_close : callable, optional
        Called with no argument when the stream ends.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sums = []
    >>> sd.run(sd.ArraySource(np.arange(6.0), chunk_size=4) >> sd.Gain(2.0)
    ...        >> sd.CallbackSink(lambda c: sums.append(float(c.sum()))))
    >>> sums    # the last chunk is what flush() gave: nothing, for a Gain
    [12.0, 18.0, 0.0]
    """

    def __init__(self, fn, on_close=None):
        if not callable(fn):
            raise TypeError(f"CallbackSink: expected fn to be callable, got {fn!r:.60}")
        if on_close is not None and not callable(on_close):
            raise TypeError(f"CallbackSink: expected on_close to be callable or None, got {on_close!r:.60}")
        self.fn = fn
        self.on_close = on_close

    def write(self, chunk):
        self.fn(chunk)

    def close(self):
        if self.on_close is not None:
            self.on_close()

    def __repr__(self):
        name = getattr(self.fn, "__qualname__", None) or repr(self.fn)
        return f"<CallbackSink {name}>"


class Tee(Sink):
    """Write every chunk to several sinks, in order.

    Parameters
    ----------
    *sinks : Sink
        Each gets every chunk; :meth:`close` closes them all (all of them
        even if one fails; the first error is raised).

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> a, ring = sd.ArraySink(), sd.RingBuffer(2.0, samplerate=1)
    >>> sd.run(sd.ArraySource(np.arange(3.0)) >> sd.Tee(a, ring))
    [array([0., 1., 2.]), array([1., 2.], dtype=float32)]
    """

    def __init__(self, *sinks):
        if not sinks:
            raise ValueError("Tee: expected at least one sink, got none")
        for s in sinks:
            if not isinstance(s, Sink):
                raise TypeError(f"Tee: expected streamdsp sinks, got {type(s).__name__} {s!r:.60}")
        self.sinks = list(sinks)

    def write(self, chunk):
        for s in self.sinks:
            s.write(chunk)

    def close(self):
        error = None
        for s in self.sinks:
            try:
                s.close()
            except BaseException as e:   # close the others, then raise
                error = error or e
        if error is not None:
            raise error

    def result(self):
        """The sinks' results, in order."""
        return [s.result() for s in self.sinks]

    def __repr__(self):
        return f"<Tee {', '.join(map(repr, self.sinks))}>"


class RingBuffer(_ringbuffer.RingBuffer, Sink):
    __doc__ = _ringbuffer.RingBuffer.__doc__

    def result(self):
        """What :meth:`read` returns: the newest frames kept."""
        return self.read()
