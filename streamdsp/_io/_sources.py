"""Finite sources: arrays and audio files."""

import os

import numpy as np

from streamdsp._core._endpoints import Source
from streamdsp._core._validate import whole_number


class ArraySource(Source):
    """Yield an array in chunks.

    Parameters
    ----------
    x : array_like, shape (frames,) or (frames, channels)
    chunk_size : int, optional
        Frames per chunk (the last one may be shorter).
    samplerate : float, optional
        Carried along for sinks that need it.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> [c.tolist() for c in sd.ArraySource(np.arange(5.0), chunk_size=2)]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    """

    def __init__(self, x, chunk_size=1024, samplerate=None):
        x = np.asarray(x)
        if x.ndim not in (1, 2):
            raise ValueError(f"ArraySource: expected shape (frames,) or (frames, channels), got {x.shape}")
        self.x = x
        self.chunk_size = whole_number("ArraySource", "chunk_size", chunk_size, minimum=1)
        self.samplerate = samplerate
        self.channels = 1 if x.ndim == 1 else x.shape[1]
        self.frames = x.shape[0]

    def __iter__(self):
        for i in range(0, self.frames, self.chunk_size):
            yield self.x[i:i + self.chunk_size]

    def __repr__(self):
        return f"<ArraySource shape={self.x.shape} chunk_size={self.chunk_size}>"


class FileSource(Source):
    """Read an audio file in chunks through libsndfile (any format it reads).

    Parameters
    ----------
    path : str or path-like
    chunk_size : int, optional
        Frames per chunk.
    dtype : {"float32", "float64", "int16", "int32"}, optional
        Sample type handed downstream (float in -1..1 for float types,
        raw PCM for integer types).

    Attributes
    ----------
    samplerate, channels, frames : from the file's header.

    Examples
    --------
    >>> import numpy as np, soundfile, streamdsp as sd, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.wav")
    >>> soundfile.write(path, np.zeros(1000, dtype=np.float32), 8000)
    >>> src = sd.FileSource(path, chunk_size=400)
    >>> src.samplerate, src.channels, [len(c) for c in src]
    (8000, 1, [400, 400, 200])
    """

    def __init__(self, path, chunk_size=4096, dtype="float32"):
        import soundfile

        self.path = str(path)
        self.chunk_size = whole_number("FileSource", "chunk_size", chunk_size, minimum=1)
        if dtype not in ("float32", "float64", "int16", "int32"):
            raise ValueError(f"FileSource: expected dtype float32, float64, int16 or int32, got {dtype!r}")
        self.dtype = dtype
        # libsndfile calls a missing file a "System error": say what it is
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"FileSource: cannot read {self.path!r}: no such file")
        if os.path.isdir(self.path):
            raise IsADirectoryError(f"FileSource: cannot read {self.path!r}: it is a folder")
        try:
            info = soundfile.info(self.path)
        except Exception as e:  # soundfile raises LibsndfileError / RuntimeError
            raise OSError(f"FileSource: cannot read {self.path!r} as audio: {e}") from None
        self.samplerate = info.samplerate
        self.channels = info.channels
        self.frames = info.frames if info.frames > 0 else None

    def __iter__(self):
        import soundfile

        with soundfile.SoundFile(self.path) as f:
            while True:
                chunk = f.read(self.chunk_size, dtype=self.dtype)
                if len(chunk) == 0:
                    return
                yield chunk

    def __repr__(self):
        return f"<FileSource {self.path!r} {self.samplerate} Hz {self.channels} ch>"
