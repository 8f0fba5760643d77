"""Convolver: non-uniformly partitioned convolution for long impulse responses."""

from cpython.mem cimport PyMem_Malloc, PyMem_Free

import numpy as np

from streamdsp._core._block cimport Block
from streamdsp._core._partconv cimport PartitionedConvolution
from streamdsp._core._costmodel import convolver_plan
from streamdsp._core._validate import MAX_FFT, coefficients, fft_block_size, whole_number


cdef class Convolver(Block):
    """Convolver(ir, block_size=256, latency=0, max_block=65536, samplerate=None, spread=True)
--

    Convolution with a long impulse response (reverb, room and cabinet IRs).

    The impulse response is cut into partitions that grow along it: small
    ones at the head keep the latency low, large ones in the tail keep the
    cost per sample low.  Each size runs a uniformly partitioned
    overlap-save with a frequency-domain delay line; the partition plan is
    chosen by the cost model (calibrated on this machine by ``streamdsp
    calibrate``, else the shipped constants for the CPU's x86-64 level;
    ``streamdsp calibrate --show`` says which).  With
    ``latency=0`` (the default) the first ``block_size`` taps are computed
    directly in the time domain, so the output has no delay at all.

    Parameters
    ----------
    ir : array_like, shape (n,) or (n, channels)
        Impulse response: 1-D for the same one on every channel, 2-D for one
        per channel (fixes the channel count).  Used as given (not
        normalised).
    block_size : int, optional
        Smallest partition (a power of two, ``8 .. 2**29``: partitions of
        B frames run FFTs of 2B points, at most ``2**30``); the latency with
        ``latency=None``.
    latency : {0, None}, optional
        ``0``: no delay (direct head).  ``None``: ``block_size`` frames of
        latency and no direct head, which is cheaper.
    max_block : int, optional
        Largest partition the plan may use (``block_size .. 2**29``).
    spread : bool, optional
        Time-distributed levels (the default, for live audio): every level
        after the first starts one of its blocks later and does its
        transforms and products in slices as the samples of its next block
        arrive, so every call does about the same work; without it the
        whole work of a level lands on the call that completes its block
        (slowest call ~100x the mean for a 10 s hall) but the mean is lower
        (the spread mean is about 1.3-1.8x, see benchmarks/bench_convolver.py):
        use it offline.  The output is the same either way.

    Attributes
    ----------
    ir : ndarray
        The impulse response (read-only, float64).
    plan : list of (block, offset, length)
        The partition levels chosen, after the direct head.
    samplerate : float or None
        The impulse response's rate when it came from a file.

    Notes
    -----
    Latency: 0, or ``block_size`` with ``latency=None``.
    Offline equivalent: ``scipy.signal.fftconvolve(x, ir, axes=0)[:len(x)]``
    per channel.

    Examples
    --------
    >>> import numpy as np, scipy.signal, streamdsp as sd
    >>> ir = np.exp(-np.arange(5000) / 800.0) * np.random.default_rng(0).standard_normal(5000)
    >>> x = np.random.default_rng(1).standard_normal(3000)
    >>> conv = sd.Convolver(ir, block_size=128)
    >>> y = np.concatenate([conv.process(c) for c in np.array_split(x, 7)])
    >>> np.allclose(y, scipy.signal.fftconvolve(x, ir)[:3000])
    True
    """

    cdef readonly object ir
    cdef readonly Py_ssize_t block_size
    cdef readonly object plan
    cdef readonly object samplerate
    cdef bint _zero_latency
    cdef readonly bint spread
    cdef Py_ssize_t _max_block
    cdef Block _head            # direct FIR over the first block_size taps
    cdef list _levels           # PartitionedConvolution per level (keeps them alive)
    cdef void** _lv             # the same, for the nogil loop
    cdef Py_ssize_t _nlv
    cdef object _plan_full      # levels with their FDL slot offsets

    def __cinit__(self, *args, **kwargs):
        self._lv = NULL
        self._nlv = 0

    def __init__(self, ir, block_size=256, latency=0, max_block=65536, samplerate=None, spread=True):
        h = coefficients("Convolver", "ir", ir)
        bs = fft_block_size("Convolver", "block_size", block_size)
        if latency not in (0, None):
            raise ValueError(f"Convolver: expected latency 0 (direct head) or None "
                             f"(block_size frames, cheaper), got {latency!r}")
        mb = whole_number("Convolver", "max_block", max_block, minimum=bs, maximum=MAX_FFT // 2)
        self.block_size = bs
        self._zero_latency = latency == 0
        self._max_block = mb
        self._latency = 0 if self._zero_latency else bs
        if h.ndim == 2:
            self._in_ch = h.shape[1]
        h.setflags(write=False)
        self.ir = h
        self.spread = bool(spread)
        levels, _ = convolver_plan(h.shape[0], bs, self._zero_latency, mb, slack=self.spread)
        self.plan = [(B, off, n) for B, off, n, _ in levels]
        self._plan_full = levels
        self.samplerate = samplerate

    def __dealloc__(self):
        _free(self._lv)

    @classmethod
    def from_file(cls, path, block_size=256, latency=0, samplerate=None, max_block=65536, spread=True):
        """Read an impulse response from an audio file (libsndfile).

        Parameters
        ----------
        path : str or path-like
        samplerate : float, optional
            The stream's rate.  A file at another rate is an error (resample
            it first, e.g. with ``scipy.signal.resample_poly``).
        block_size, latency, max_block, spread
            As for :class:`Convolver`.

        Returns
        -------
        Convolver
            Mono files give a 1-D IR (every channel alike), multichannel
            files one IR per channel.
        """
        import soundfile
        try:
            data, rate = soundfile.read(str(path), dtype="float64", always_2d=False)
        except Exception as e:
            raise OSError(f"Convolver: cannot read an impulse response from {str(path)!r}: {e}") from None
        if samplerate is not None and float(samplerate) != float(rate):
            raise ValueError(f"Convolver: the impulse response {str(path)!r} is at {rate} Hz but the "
                             f"stream is at {samplerate} Hz; resample it first "
                             f"(scipy.signal.resample_poly)")
        return cls(data, block_size=block_size, latency=latency, max_block=max_block, samplerate=rate,
                   spread=spread)

    cdef int _setup(self, Py_ssize_t channels) except -1:
        from streamdsp._blocks._fir import FIR
        self._out_ch = channels
        h = self.ir
        self._head = None
        if self._zero_latency:
            self._head = FIR(h[:self.block_size], method="direct")
            try:
                self._head._prepare(channels, self._dtype)
            except (MemoryError, ValueError) as e:
                # the head is an implementation detail: the user built a Convolver
                raise type(e)(str(e).replace("FIR:", "Convolver:", 1)) from None
        self._levels = []
        for B, off, n, slot in self._plan_full:
            # levels with a block in hand spread their work over the calls
            self._levels.append(PartitionedConvolution(h[off:off + n], channels, B, self._f32, slot,
                                                      owner=self, spread=self.spread and slot >= 1))
        _free(self._lv)
        self._lv = NULL
        self._lv = _alloc_ptrs(len(self._levels))
        for i, lv in enumerate(self._levels):
            self._lv[i] = <void*>lv
        self._nlv = len(self._levels)
        return 0

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t i = 0
        if self._head is not None:
            self._head._run(x, y, frames)
        else:
            (<PartitionedConvolution>self._lv[0]).run(x, y, frames)
            i = 1
        while i < self._nlv:
            (<PartitionedConvolution>self._lv[i]).run_add(x, y, frames)
            i += 1
        return frames

    cdef void _reset(self) noexcept nogil:
        cdef Py_ssize_t i
        if self._head is not None:
            self._head._reset()
        for i in range(self._nlv):
            (<PartitionedConvolution>self._lv[i]).reset()

    @property
    def ntaps(self):
        """Length of the impulse response."""
        return self.ir.shape[0]

    @property
    def tail_frames(self):
        """``len(ir) - 1``: the reverb tail after the last input (see :func:`streamdsp.run`)."""
        return self.ir.shape[0] - 1

    def frequency_response(self, n=512, fs=None, whole=False):
        """Frequency response of the impulse response (``scipy.signal.freqz`` conventions).

        ``fs`` defaults to the file's sample rate when the IR came from a file.
        """
        from streamdsp._core._response import fir_response
        return fir_response(self.ir, n, fs if fs is not None else self.samplerate, whole)

    # pickling (see Block._config): the engines carry the history
    def _config(self):
        return type(self), (self.ir,), dict(block_size=self.block_size,
                                             latency=0 if self._zero_latency else None,
                                             max_block=self._max_block, samplerate=self.samplerate,
                                             spread=self.spread)

    def _get_state(self):
        return {"head": self._head._get_state() if self._head is not None else None,
                "levels": [lv.get_state() for lv in self._levels]}

    def _set_state(self, state):
        if len(state["levels"]) != len(self._levels):
            raise ValueError(f"Convolver: expected the state of {len(self._levels)} partition levels, "
                             f"got {len(state['levels'])}")
        if self._head is not None:
            self._head._set_state(state["head"])
        for lv, s in zip(self._levels, state["levels"]):
            lv.set_state(s)

    def _params(self):
        return {"ntaps": self.ir.shape[0], "block_size": self.block_size,
                "levels": "+".join(f"{-(-n // B)}x{B}" for B, _, n in self.plan)}


cdef void** _alloc_ptrs(Py_ssize_t n) except NULL:
    cdef void** p = <void**>PyMem_Malloc(max(n, 1) * sizeof(void*))
    if p == NULL:
        raise MemoryError()
    return p


cdef void _free(void** p) noexcept:
    PyMem_Free(p)
