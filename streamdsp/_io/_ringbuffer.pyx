"""RingBuffer: the latest seconds of a stream, lock-free, readable from other threads."""

from libc.stdint cimport int64_t
from libc.string cimport memcpy

cimport numpy as cnp
import numpy as np

from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._validate import finite_float, whole_number
from streamdsp._errors import ChannelMismatchError, StreamStateError

cnp.import_array()

from streamdsp._core._atomic cimport (
    sd_load_acquire_i64, sd_load_relaxed_i64, sd_store_release_i64, sd_store_relaxed_i64,
    sd_fence_acquire, sd_fence_release, sd_cpu_relax,
)


cdef class RingBuffer:
    """RingBuffer(seconds, samplerate=None, channels=None, dtype='float32')
--

    The latest ``seconds`` of a stream, readable from other threads.

    A sink for a monitor, a plot or a trigger that wants "the last N
    seconds" while the stream keeps running: the processing thread writes
    every chunk, and any number of other threads call :meth:`read` at any
    time to get a copy of the newest frames, in time order.

    Parameters
    ----------
    seconds : float
        How much of the stream is kept: ``ceil(seconds * samplerate)``
        frames (:attr:`capacity`).
    samplerate : float, optional
        Frames per second of the stream written to it.  May be left out
        when a :class:`Runner` drives the flow from a source whose rate it
        knows (it tells the ring buffer); otherwise the first
        :meth:`write` is an error.
    channels : int, optional
        Channel count; default: fixed by the first chunk written.
    dtype : {"float32", "float64"}, optional
        Sample type stored (chunks are converted to it).

    Notes
    -----
    Lock-free: one writer and any number of readers, and no lock the
    writer could wait on, so it can be fed from a real-time audio callback
    (compiled code calls ``write_nogil`` without the GIL).  The writer
    publishes a 64-bit count of the frames it has started writing before it
    overwrites anything, and a count of the frames completely written after
    the copy (C11 atomics, release/acquire).  A reader copies the newest
    frames, then checks that the writer has not overwritten them meanwhile
    and copies again if it has; it never returns torn or out-of-order data.
    The buffer holds a guard of extra frames (a quarter of the capacity, at
    least 1024) so that a full-length read survives writes that land while
    it copies.

    .. note::
       One writer at a time.  Don't do this!  Two threads calling
       :meth:`write` on one ring buffer: give each stream its own.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> ring = sd.RingBuffer(1.0, samplerate=4)
    >>> ring.write(np.arange(6.0)); ring.frames_written
    6
    >>> ring.read()
    array([2., 3., 4., 5.], dtype=float32)
    >>> ring.read(2)
    array([4., 5.], dtype=float32)
    """

    def __cinit__(self, *args, **kwargs):
        self._buf = NULL
        self._channels = 0
        self._req_channels = 0
        self._rate = 0.0
        self._capacity = 0
        self._slots = 0
        self._begin = 0
        self._end = 0
        self._one_d = False

    def __init__(self, seconds, samplerate=None, channels=None, dtype="float32"):
        self.seconds = finite_float("RingBuffer", "seconds", seconds)
        if self.seconds <= 0:
            raise ValueError(f"RingBuffer: expected seconds > 0, got {seconds!r}")
        if dtype not in ("float32", "float64", np.float32, np.float64):
            raise ValueError(f"RingBuffer: expected dtype 'float32' or 'float64', got {dtype!r}")
        self.dtype = np.dtype(dtype)
        self._itemsize = self.dtype.itemsize
        if channels is not None:
            self._req_channels = whole_number("RingBuffer", "channels", channels, minimum=1)
        if samplerate is not None:
            self._set_rate(samplerate)

    def __dealloc__(self):
        aligned_free(self._buf)

    cdef int _set_rate(self, object samplerate) except -1:
        cdef double rate = finite_float("RingBuffer", "samplerate", samplerate)
        cdef double cap
        if rate <= 0:
            raise ValueError(f"RingBuffer: expected samplerate > 0, got {samplerate!r}")
        cap = np.ceil(self.seconds * rate - 1e-9)
        if cap > 2.0 ** 40:
            raise ValueError(f"RingBuffer: {self.seconds!r} s at {samplerate!r} Hz is too long to keep in memory")
        self._capacity = max(<Py_ssize_t>cap, 1)
        self._slots = self._capacity + max(self._capacity // 4, 1024)
        self._rate = rate
        if self._req_channels:
            self._allocate(self._req_channels)
        return 0

    def _bind_samplerate(self, samplerate):
        """Set the samplerate if the constructor was not given one (Runner does, from its source)."""
        if self._rate == 0.0:
            self._set_rate(samplerate)

    cdef int _allocate(self, Py_ssize_t channels) except -1:
        self._buf = <char*>alloc_frames(self, self._slots, channels, self._itemsize)
        self._frame_bytes = channels * self._itemsize
        self._channels = channels
        return 0

    # ------------------------------------------------------------------
    cdef void write_nogil(self, const void* x, Py_ssize_t frames) noexcept nogil:
        cdef int64_t w, first
        cdef Py_ssize_t m, slot, run
        cdef Py_ssize_t fb = self._frame_bytes
        cdef const char* src = <const char*>x
        if frames <= 0 or self._channels == 0:
            return
        w = sd_load_relaxed_i64(&self._end)        # only this thread writes it
        m = frames if frames < self._slots else self._slots
        src += (frames - m) * fb               # older frames would be overwritten at once
        first = w + frames - m
        # Announce the overwrite before doing it: readers that copied the
        # old contents of these slots will see it and copy again.
        sd_store_relaxed_i64(&self._begin, w + frames)
        sd_fence_release()
        slot = first % self._slots
        run = self._slots - slot
        if run > m:
            run = m
        memcpy(self._buf + slot * fb, src, run * fb)
        if run < m:
            memcpy(self._buf, src + run * fb, (m - run) * fb)
        sd_store_release_i64(&self._end, w + frames)

    cdef Py_ssize_t read_nogil(self, void* out, Py_ssize_t frames, int64_t* start) noexcept nogil:
        cdef int64_t e, s, first
        cdef Py_ssize_t k, slot, run
        cdef Py_ssize_t fb = self._frame_bytes
        cdef char* dst = <char*>out
        if self._channels == 0:
            start[0] = 0
            return 0
        while True:
            e = sd_load_acquire_i64(&self._end)
            k = frames
            if k > self._capacity:
                k = self._capacity
            if k > e:
                k = <Py_ssize_t>e
            first = e - k
            slot = first % self._slots
            run = self._slots - slot
            if run > k:
                run = k
            memcpy(dst, self._buf + slot * fb, run * fb)
            if run < k:
                memcpy(dst + run * fb, self._buf, (k - run) * fb)
            sd_fence_acquire()
            s = sd_load_relaxed_i64(&self._begin)
            if s - self._slots <= first:      # nothing we copied was overwritten
                start[0] = first
                return k
            sd_cpu_relax()

    # ------------------------------------------------------------------
    def write(self, chunk):
        """Append a chunk, shape ``(frames,)`` or ``(frames, channels)``.

        The oldest frames beyond :attr:`capacity` are forgotten.  Call it
        from one thread only (the stream's).
        """
        cdef cnp.ndarray a
        cdef Py_ssize_t ch, n
        if isinstance(chunk, (str, bytes)):
            raise TypeError(f"RingBuffer: expected a numeric array of samples, got {type(chunk).__name__}")
        a0 = np.asarray(chunk)
        if a0.dtype.kind not in "fiub":
            kind = "complex samples are not supported" if a0.dtype.kind == "c" else "expected real samples"
            raise TypeError(f"RingBuffer: {kind}; got dtype {a0.dtype}")
        if a0.ndim not in (1, 2):
            raise ValueError(f"RingBuffer: expected a chunk of shape (frames,) or (frames, channels), "
                             f"got shape {a0.shape}")
        if a0.shape == (0,):
            return      # an empty 1-D chunk (a flush with nothing held) says nothing of channels
        ch = 1 if a0.ndim == 1 else a0.shape[1]
        if self._channels == 0:
            if ch < 1:
                raise ValueError(f"RingBuffer: expected at least 1 channel, got shape {a0.shape}")
            if self._req_channels and ch != self._req_channels:
                raise ChannelMismatchError(
                    f"RingBuffer: chunk has {ch} channel{'s' if ch != 1 else ''} but this buffer has "
                    f"{self._req_channels}; got shape {a0.shape}")
            if self._rate == 0.0:
                raise StreamStateError("RingBuffer: samplerate unknown, so its length in frames is too; "
                                       "give samplerate= (a Runner sets it from its source)")
            self._allocate(ch)
        elif ch != self._channels:
            raise ChannelMismatchError(
                f"RingBuffer: chunk has {ch} channel{'s' if ch != 1 else ''} but this buffer has "
                f"{self._channels}; got shape {a0.shape}")
        self._one_d = a0.ndim == 1
        a = np.ascontiguousarray(a0, dtype=self.dtype)
        n = a.shape[0]
        with nogil:
            self.write_nogil(cnp.PyArray_DATA(a), n)

    def read(self, frames=None, *, return_start=False):
        """A copy of the newest frames, oldest first.

        Parameters
        ----------
        frames : int, optional
            How many frames (default: all that are kept).  Fewer come back
            while fewer have been written.
        return_start : bool, optional
            Also return the index of the first frame returned in the whole
            stream (its time is ``start / samplerate``).

        Returns
        -------
        data : ndarray, shape (k, channels), or (k,) if the last chunk written was 1-D
        start : int
            Only with ``return_start=True``.

        Notes
        -----
        Safe to call from any thread while the stream is written.
        """
        cdef Py_ssize_t want, k
        cdef int64_t start = 0
        cdef cnp.ndarray out
        cdef void* p
        if frames is None:
            want = self._capacity
        else:
            if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)):
                raise TypeError(f"RingBuffer: expected frames to be a whole number, got {frames!r}")
            if frames < 0:
                raise ValueError(f"RingBuffer: expected frames >= 0, got {frames!r}")
            want = min(frames, self._capacity)
        ch = self._channels
        if ch == 0:
            out = np.zeros(0, dtype=self.dtype)
            return (out, 0) if return_start else out
        want = min(want, self.frames_written)
        out = np.empty((want, ch), dtype=self.dtype)
        p = cnp.PyArray_DATA(out)
        with nogil:
            k = self.read_nogil(p, want, &start)
        if self._one_d and ch == 1:
            out = out.reshape(-1)
        # k == want: the written count only grows, so the newest `want` frames exist
        return (out, int(start)) if return_start else out

    # ------------------------------------------------------------------
    @property
    def frames_written(self):
        """Frames written since the buffer was made (a 64-bit counter)."""
        return sd_load_acquire_i64(&self._end)

    @property
    def capacity(self):
        """Frames kept: ``ceil(seconds * samplerate)`` (``None`` until the samplerate is known)."""
        return self._capacity or None

    @property
    def samplerate(self):
        """Frames per second, or ``None`` until known."""
        return self._rate or None

    @property
    def channels(self):
        """Channel count once known, else ``None``."""
        return self._channels or self._req_channels or None

    def __len__(self):
        """Frames a full :meth:`read` returns now."""
        return int(min(self.frames_written, self._capacity))

    def __reduce_ex__(self, protocol):
        raise TypeError(f"{type(self).__name__}: cannot be pickled or copied: it is memory shared "
                        f"between one writer and its readers; pickle what read() returns instead")

    def __repr__(self):
        ch = f" {self.channels} ch" if self.channels else ""
        rate = f" at {self._rate:g} Hz" if self._rate else ""
        return f"<RingBuffer {self.seconds:g} s{rate}{ch} {self.dtype} written={self.frames_written}>"
