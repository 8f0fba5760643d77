"""Sinks: arrays, audio files, callbacks, ring buffers."""

import errno
import os
import stat
import tempfile
import warnings

import numpy as np

from streamdsp._core._endpoints import Sink
from streamdsp._errors import ChannelMismatchError, StreamStateError
from streamdsp._io import _ringbuffer

# libsndfile command that rewrites a file's header for the data written so far
_SFC_UPDATE_HEADER_NOW = 0x1060
# Containers whose header holds the data length, and which libsndfile
# rewrites on SFC_UPDATE_HEADER_NOW (checked: a copy taken mid-recording
# reads back whole).  Ogg must not get the command: its stream breaks.
_HEADER_FORMATS = frozenset({"WAV", "WAVEX", "RF64", "W64", "AIFF", "AU", "CAF", "NIST", "IRCAM"})
# Subtypes that keep samples beyond -1..1: floats, and the lossy codecs,
# which code floats (a 1.59 peak read back as 1.64 Vorbis, 1.65 Opus, 1.61
# MP3, measured).  Every other subtype stores integers and clips.
_UNCLIPPED_SUBTYPES = frozenset({"FLOAT", "DOUBLE", "VORBIS", "OPUS",
                                 "MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III"})


def _chunk_channels(who, chunk):
    """Channels of a ``(frames,)`` or ``(frames, channels)`` chunk."""
    if chunk.ndim not in (1, 2):
        raise ValueError(f"{who}: expected a chunk of shape (frames,) or (frames, channels), "
                         f"got shape {chunk.shape}")
    return 1 if chunk.ndim == 1 else chunk.shape[1]


def _check_channels(who, chunk, channels, what):
    """Refuse a chunk whose channel count differs from the stream's (empty chunks pass)."""
    got = _chunk_channels(who, chunk)
    if channels is not None and got != channels and len(chunk):
        raise ChannelMismatchError(f"{who}: chunk has {got} channel{'s' if got != 1 else ''} but "
                                   f"{what} has {channels} (fixed by the first chunk); "
                                   f"got shape {chunk.shape}")
    return got


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
        self._channels = None

    def write(self, chunk):
        chunk = np.array(chunk, copy=True)
        channels = _check_channels("ArraySink", chunk, self._channels, "the stream")
        if len(chunk) and self._channels is None:
            self._channels = channels
        self._chunks.append(chunk)

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

    The file is written under a temporary name beside the target
    (:attr:`temp_path`, ``<name>.<random>.part``) and renamed over the
    target only by :meth:`close`: the target, even a file the same run is
    reading, is never truncated while the job runs, and a job that fails
    (:meth:`abort`, which :func:`streamdsp.run` calls on an error) leaves
    it as it was.  The file is opened at the first chunk, when its channel
    count and dtype are known.  Every ``flush_every`` seconds of audio the
    header is brought up to date and the data pushed to the operating
    system (:meth:`flush`), so that a process killed in the middle of a
    long recording leaves a valid file, :attr:`temp_path`, holding
    everything up to the last flush.

    Parameters
    ----------
    path : str or path-like
    samplerate : int, optional
        Frames per second, a whole number (audio files store an integer
        rate): ``44100.0`` is taken, ``44100.7`` refused.  Default: the
        rate of what the sink receives, which :func:`streamdsp.run` and
        :class:`Runner` take from the source (divided by the chain's rate
        change); a sink fed without one refuses its first chunk.
    subtype : str, optional
        libsndfile subtype (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``...).
        Default: the stream's own sample type where the format stores it
        (``FLOAT`` for float32 and ``DOUBLE`` for float64 chunks in WAV,
        AIFF, CAF, W64, RF64..., ``PCM_16``/``PCM_32`` for int16/int32), else
        the format's default (FLAC: ``PCM_16``).
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
        Frames that a reader of :attr:`temp_path` would find if the process
        died now (all of them in :attr:`path` once closed).
    clipped : int
        Samples beyond -1..1 written to a subtype that stores integers
        (clipped there); see :meth:`stats`.
    temp_path : str or None
        The file being written: set at the first chunk, ``None`` again once
        :meth:`close` renamed it to :attr:`path` or :meth:`abort` removed it.

    Warns
    -----
    RuntimeWarning
        Once, at :meth:`close`, when samples were clipped, with their count
        and the peak.

    Notes
    -----
    Float chunks are written as float where the format holds floats, so a
    reverb peaking above full scale is kept exactly.  Integer subtypes
    (``PCM_*``, FLAC) hold -1..1 only: libsndfile clips what lies beyond,
    and the sink counts those samples.  Lossy codecs (Vorbis, Opus, MP3)
    code floats and keep such peaks.

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
    >>> path = os.path.join(tempfile.mkdtemp(), "y.wav")
    >>> sd.run(sd.ArraySource(np.full((100, 2), 1.5)) >> sd.FileSink(path, 8000))  # doctest: +ELLIPSIS
    '...y.wav'
    >>> soundfile.info(path).subtype, float(soundfile.read(path)[0].max())   # float64 in, DOUBLE out
    ('DOUBLE', 1.5)
    >>> src = sd.ArraySource(np.zeros(100), samplerate=16000)
    >>> sink = sd.FileSink(os.path.join(tempfile.mkdtemp(), "z.flac"))   # the rate comes from src
    >>> _ = sd.run(src >> sd.Gain(0.5) >> sink); soundfile.info(sink.path).samplerate
    16000
    """

    def __init__(self, path, samplerate=None, subtype=None, format=None, flush_every=1.0):
        import soundfile

        self.path = str(path)
        self.samplerate = None if samplerate is None else _whole_rate(samplerate)
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
        self.subtype = None if subtype is None else subtype.upper()
        self.flush_every = flush_every
        self._flush_frames = None
        if self.samplerate is not None:
            self._bind_samplerate(self.samplerate)
        self._file = None
        self._closed = False
        self._last_flush = 0
        self._channels = None
        self._counts_clips = False
        self.temp_path = None
        self.frames = 0
        self.frames_flushed = 0
        self.clipped = 0
        self.peak = 0.0

    def _bind_samplerate(self, rate):
        """Take the stream's rate (from run/Runner) when none was given; a given one stays."""
        if self.samplerate is None:
            self.samplerate = _whole_rate(rate)
        if self.flush_every is not None:
            self._flush_frames = max(1, int(round(self.flush_every * self.samplerate)))

    def _open(self, chunk, channels):
        import soundfile

        if self.samplerate is None:
            raise StreamStateError(
                f"FileSink: expected a sample rate for {self.path!r}, got none; give "
                f"FileSink(path, samplerate) or feed it with streamdsp.run(source >> ... >> sink) "
                f"from a source that has one")

        if self.subtype is None:
            self.subtype = _subtype_for(self.format, chunk.dtype)
        self._counts_clips = self.subtype not in _UNCLIPPED_SUBTYPES
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            fd, tmp = tempfile.mkstemp(prefix=os.path.basename(self.path) + ".", suffix=".part",
                                       dir=folder)
        except OSError as e:
            raise _os_error(e, f"cannot write {self.path!r}", folder) from None
        try:
            os.fchmod(fd, _new_file_mode(self.path))
        finally:
            os.close(fd)
        try:
            self._file = soundfile.SoundFile(tmp, "w", self.samplerate, channels, self.subtype,
                                             format=self.format)
        except BaseException as e:
            os.unlink(tmp)
            if isinstance(e, Exception):
                raise _write_error(e, f"cannot write {self.path!r}", folder) from None
            raise
        self.temp_path = tmp
        self._channels = channels

    def write(self, chunk):
        """Append a chunk of shape ``(frames,)`` or ``(frames, channels)``."""
        if self._closed:
            raise StreamStateError(f"FileSink: {self.path!r} is closed; make a new sink to write again")
        chunk = np.asarray(chunk)
        channels = _check_channels("FileSink", chunk, self._channels, repr(self.path))
        if self._file is None:
            self._open(chunk, channels)
        if len(chunk):
            if chunk.dtype.kind == "f":
                self._note_level(chunk)
            try:
                self._file.write(chunk)
            except Exception as e:
                raise self._failed(e, "writing") from None
            self.frames += len(chunk)
            if self._flush_frames is not None and self.frames - self._last_flush >= self._flush_frames:
                self.flush()

    def _note_level(self, chunk):
        # max and min rather than abs(): no copy of every chunk just to measure it
        peak = float(max(chunk.max(), -chunk.min()))
        if peak > self.peak:
            self.peak = peak
        if peak > 1.0 and self._counts_clips:
            self.clipped += int(np.count_nonzero(chunk > 1.0) + np.count_nonzero(chunk < -1.0))

    def _failed(self, e, doing):
        folder = os.path.dirname(os.path.abspath(self.path))
        return _write_error(e, f"{doing} {self.path!r} failed after {self.frames} frames", folder,
                            self._file)

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
        try:
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
        except Exception as e:
            raise self._failed(e, "flushing") from None

    def _patch_flac_length(self):
        """Write the count of samples already encoded into STREAMINFO; return it."""
        fd = os.open(self.temp_path, os.O_RDWR)
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
        """Finish the file and rename it to :attr:`path` (replacing what was there).

        Warns (``RuntimeWarning``) if samples were clipped.  If finishing
        fails (a full disk), the temporary file is removed, the target is
        left as it was and the error raised.
        """
        if self._closed:
            return
        self._closed = True
        if self._file is None:
            return
        try:
            self._file.close()
            os.replace(self.temp_path, self.path)
        except Exception as e:
            self._discard()
            raise self._failed(e, "finishing") from None
        self.temp_path = None
        self.frames_flushed = self.frames
        if self.clipped:
            warnings.warn(f"FileSink: {self.clipped} samples written to {self.path!r} were clipped to "
                          f"-1..1 (peak {self.peak:.4g}, {20 * np.log10(self.peak):+.1f} dBFS; "
                          f"{self.format} {self.subtype} holds integers); write WAV or AIFF, which "
                          f"keep float samples, or lower the level", RuntimeWarning, stacklevel=2)

    def abort(self):
        """End without writing: remove the temporary file; :attr:`path` stays as it was."""
        if self._closed:
            return
        self._closed = True
        if self._file is not None:
            try:
                self._file.close()
            except Exception:    # a full disk, say: the file goes anyway
                pass
            self._discard()

    def _discard(self):
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass
        self.temp_path = None

    def __del__(self):
        if getattr(self, "temp_path", None) and not getattr(self, "_closed", True):
            try:
                warnings.warn(f"FileSink: {self.path!r} was never closed; what was written is in "
                              f"{self.temp_path!r} (close() the sink, or use sd.run or a with block)",
                              ResourceWarning, source=self)
            except Exception:    # interpreter shutdown
                pass

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.close()
        else:
            self.abort()

    def stats(self):
        """Counters of what was written (a new dict).

        Returns
        -------
        dict
            ``frames``, ``frames_flushed``, ``clipped`` (samples beyond
            -1..1 written to an integer subtype) and ``peak`` (largest
            ``|sample|`` of the float chunks written).
        """
        return {"frames": self.frames, "frames_flushed": self.frames_flushed,
                "clipped": self.clipped, "peak": self.peak}

    def result(self):
        """The path written."""
        return self.path

    def __repr__(self):
        rate = "rate from its source" if self.samplerate is None else f"{self.samplerate} Hz"
        return f"<FileSink {self.path!r} {rate}>"


def _whole_rate(samplerate):
    """A sample rate as an int; whole floats (44100.0) pass, 44100.7 does not."""
    import numbers

    if isinstance(samplerate, bool) or not isinstance(samplerate, numbers.Real):
        raise TypeError(f"FileSink: expected samplerate to be a whole number, got {samplerate!r}")
    if not (np.isfinite(samplerate) and float(samplerate) == int(samplerate)):
        raise ValueError(f"FileSink: expected samplerate to be a whole number of Hz (audio files "
                         f"store an integer rate), got {samplerate!r}")
    if samplerate <= 0:
        raise ValueError(f"FileSink: expected samplerate > 0, got {samplerate!r}")
    return int(samplerate)


def _subtype_for(fmt, dtype):
    """The subtype that stores ``dtype`` as it is in ``fmt``, else the format's default."""
    import soundfile

    wanted = {"f": ["DOUBLE", "FLOAT"] if dtype.itemsize == 8 else ["FLOAT"],
              "i": {2: ["PCM_16"], 4: ["PCM_32"]}.get(dtype.itemsize, [])}.get(dtype.kind, [])
    for subtype in wanted:
        if soundfile.check_format(fmt, subtype):
            return subtype
    return soundfile.default_subtype(fmt)


def _new_file_mode(path):
    """The target's permissions if it exists, else what the umask gives a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _os_error(e, what, folder):
    """``e`` (an OSError) as the same kind of error, saying what could not be done."""
    if e.errno == errno.ENOENT and not os.path.isdir(folder):
        why = f"the folder {folder!r} does not exist"
    elif e.errno == errno.ENOSPC:
        why = f"the disk is full (no space left in {folder!r})"
    else:
        why = f"{(e.strerror or str(e)).lower()} ({folder!r})"
    err = type(e)(f"FileSink: {what}: {why}")
    err.errno = e.errno
    return err


def _write_error(e, what, folder, sf=None):
    """An error of libsndfile or the OS while writing, as an OSError saying what failed.

    libsndfile reports a failed system call as "System error."; its own
    ``sf_strerror`` of the file holds the system's reason, and a full disk
    is told by the free space left.
    """
    import soundfile

    if isinstance(e, OSError):
        return _os_error(e, what, folder)
    if isinstance(e, soundfile.LibsndfileError) and "System error" in str(e):
        reason = ""
        if sf is not None and not sf.closed:
            reason = soundfile._ffi.string(soundfile._snd.sf_strerror(sf._file)).decode("utf-8", "replace")
            reason = reason.replace("System error :", "").strip().rstrip(".")
        try:
            full = os.statvfs(folder).f_bavail == 0
        except OSError:
            full = False
        if full:
            err = OSError(f"FileSink: {what}: the disk is full (no space left in {folder!r})")
            err.errno = errno.ENOSPC
            return err
        return OSError(f"FileSink: {what}: the system refused the write"
                       f"{': ' + reason if reason and 'System error' not in reason else ''}")
    if isinstance(e, (ValueError, TypeError)) and not isinstance(e, soundfile.SoundFileError):
        return (TypeError if isinstance(e, TypeError) else ValueError)(f"FileSink: {what}: {e}")
    return OSError(f"FileSink: {what}: {e}")


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

    def abort(self):
        """End a failed stream: each sink is aborted (closed if it cannot abort)."""
        for s in self.sinks:
            try:
                getattr(s, "abort", s.close)()
            except Exception:
                pass

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
