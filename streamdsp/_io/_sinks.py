"""Finite sinks: arrays and audio files."""

import numpy as np

from streamdsp._graph._flow import Sink


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
    """Write chunks to an audio file through libsndfile.

    The file is opened at the first chunk, when its channel count is known.

    Parameters
    ----------
    path : str or path-like
    samplerate : int
    subtype : str, optional
        libsndfile subtype (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``...);
        default: the format's default (WAV: PCM_16).
    format : str, optional
        Container format; default from the file extension.

    Examples
    --------
    >>> import numpy as np, soundfile, streamdsp as sd, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "y.flac")
    >>> sd.run(sd.ArraySource(np.zeros((100, 2))) >> sd.FileSink(path, 8000))  # doctest: +ELLIPSIS
    '...y.flac'
    >>> soundfile.info(path).frames
    100
    """

    def __init__(self, path, samplerate, subtype=None, format=None):
        import soundfile

        self.path = str(path)
        try:
            self.samplerate = int(samplerate)
        except (TypeError, ValueError):
            raise TypeError(f"FileSink: expected samplerate to be a whole number, got {samplerate!r}") from None
        if self.samplerate <= 0:
            raise ValueError(f"FileSink: expected samplerate > 0, got {samplerate!r}")
        fmt = format
        if fmt is None and "." in self.path:
            fmt = self.path.rsplit(".", 1)[-1]
        if fmt is None or fmt.upper() not in soundfile.available_formats():
            raise ValueError(f"FileSink: cannot tell the audio format of {self.path!r}; "
                             f"give format= (one of {', '.join(sorted(soundfile.available_formats()))})")
        if subtype is not None and not soundfile.check_format(fmt, subtype):
            raise ValueError(f"FileSink: format {fmt!r} does not take subtype {subtype!r}")
        self.format = fmt.upper()
        self.subtype = subtype
        self._file = None
        self.frames = 0

    def write(self, chunk):
        import soundfile

        chunk = np.asarray(chunk)
        if self._file is None:
            channels = 1 if chunk.ndim == 1 else chunk.shape[1]
            self._file = soundfile.SoundFile(self.path, "w", self.samplerate, channels,
                                             self.subtype, format=self.format)
        if len(chunk):
            self._file.write(chunk)
            self.frames += len(chunk)

    def close(self):
        if self._file is not None:
            self._file.close()

    def result(self):
        """The path written."""
        return self.path

    def __repr__(self):
        return f"<FileSink {self.path!r} {self.samplerate} Hz>"
