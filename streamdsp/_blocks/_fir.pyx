"""FIR filters: a direct-form kernel and a partitioned FFT path."""

from libc.string cimport memcpy, memmove, memset

cimport numpy as cnp
import numpy as np

from streamdsp._core._block cimport Block, DT_F32
from streamdsp._core._snapshot cimport raw, unraw
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._partconv cimport PartitionedConvolution
from streamdsp._core._validate import coefficients, choice, fft_block_size, whole_number
from streamdsp._core._costmodel import fir_method, fft_partition

cnp.import_array()

from streamdsp._core._firkernel cimport SD_FIR_PAD, fir_kernel
from streamdsp._core._types cimport real_t

# Frames the direct kernel works on at a time: the working buffer per channel
# is ntaps - 1 + _SUB samples, and the shift of the history after each piece
# costs ntaps - 1 copies, small next to ntaps * _SUB multiply-adds.
DEF _SUB = 1024


cdef class FIR(Block):
    """FIR(taps, method='auto', block_size=None)
--

    Finite impulse response filter, streamed chunk by chunk.

    Parameters
    ----------
    taps : array_like, shape (ntaps,) or (ntaps, channels)
        The impulse response.  1-D taps filter every channel alike; 2-D taps
        give each channel its own filter and fix the channel count.
    method : {"auto", "direct", "fft"}, optional
        ``"direct"`` runs the convolution sum in a vectorised kernel with
        no latency.  ``"fft"`` runs uniformly partitioned overlap-save with
        partitions of ``block_size`` frames and a latency of ``block_size``.
        ``"auto"`` (default) takes whichever the cost model says is
        cheaper for ``ntaps``: with the constants ``streamdsp calibrate``
        measured on this machine if it was run, else the shipped ones for
        the CPU's x86-64 level (``streamdsp calibrate --show`` says which).
    block_size : int, optional
        Partition size of the FFT path (a power of two, ``8 .. 2**29``: the
        FFT has ``2 * block_size`` points, at most ``2**30``).  Default:
        chosen by the cost model from ``ntaps``.

    Notes
    -----
    Latency: 0 for ``direct``, ``block_size`` for ``fft``.
    Offline equivalent (after dropping the first ``latency`` frames of
    ``concatenate([process(x), flush()])``)::

        scipy.signal.lfilter(taps, 1.0, x, axis=0)

    The FFT path rounds differently from the direct sum (float32: about
    1e-6 of the signal's peak).

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> fir = sd.FIR([0.5, 0.5])
    >>> fir.process(np.array([1.0, 1.0, 0.0]))
    array([0.5, 1. , 0.5])
    """

    cdef readonly object taps
    cdef readonly str method
    cdef Py_ssize_t _ntaps
    cdef bint _shared           # one filter for every channel
    cdef Py_ssize_t _block_size
    # direct path
    cdef void* _hr              # reversed taps, per channel (or one set)
    cdef void* _lin             # per channel: ntaps-1 history + _SUB + pad
    cdef Py_ssize_t _lin_len
    # fft path
    cdef PartitionedConvolution _conv

    def __cinit__(self, *args, **kwargs):
        self._hr = NULL
        self._lin = NULL

    def __init__(self, taps, method="auto", block_size=None):
        h = coefficients("FIR", "taps", taps)
        choice("FIR", "method", method, ("auto", "direct", "fft"))
        self._ntaps = h.shape[0]
        self._shared = h.ndim == 1
        if not self._shared:
            self._in_ch = h.shape[1]
        if block_size is not None:
            block_size = whole_number("FIR", "block_size", block_size, minimum=1)
            if block_size & (block_size - 1):
                raise ValueError(f"FIR: expected block_size to be a power of two, got {block_size}")
        if method == "auto":
            method = fir_method(self._ntaps)
        self.method = method
        if method == "fft":
            if block_size is not None:
                fft_block_size("FIR", "block_size", block_size, context=" for method='fft'")
            self._block_size = block_size or fft_partition(self._ntaps)
            self._latency = self._block_size
        else:
            self._block_size = 0
            self._latency = 0
        h.setflags(write=False)
        self.taps = h

    def __dealloc__(self):
        aligned_free(self._hr)
        aligned_free(self._lin)

    cdef int _setup(self, Py_ssize_t channels) except -1:
        cdef Py_ssize_t nsets = 1 if self._shared else channels
        cdef Py_ssize_t isz = 4 if self._f32 else 8
        cdef cnp.ndarray hr
        self._out_ch = channels
        if self.method == "fft":
            self._conv = PartitionedConvolution(self.taps, channels, self._block_size, self._f32, owner=self)
            return 0
        aligned_free(self._hr)
        aligned_free(self._lin)
        self._hr = NULL
        self._lin = NULL
        hr = np.ascontiguousarray(
            np.broadcast_to(self.taps.reshape(self._ntaps, -1), (self._ntaps, nsets))[::-1].T,
            dtype=np.float32 if self._f32 else np.float64)
        self._hr = alloc_frames(self, hr.size, 1, hr.itemsize)
        memcpy(self._hr, cnp.PyArray_DATA(hr), hr.nbytes)
        self._lin_len = self._ntaps - 1 + _SUB + SD_FIR_PAD
        self._lin = alloc_frames(self, self._lin_len, channels, isz)
        return 0

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        if self._conv is not None:
            return self._conv.run(x, y, frames)
        if self._f32:
            _run_direct(<const float*>x, <float*>y, frames, self._in_ch, self._ntaps,
                        <float*>self._lin, self._lin_len, <const float*>self._hr, self._shared)
        else:
            _run_direct(<const double*>x, <double*>y, frames, self._in_ch, self._ntaps,
                        <double*>self._lin, self._lin_len, <const double*>self._hr, self._shared)
        return frames

    cdef void _reset(self) noexcept nogil:
        if self._conv is not None:
            self._conv.reset()
        elif self._lin != NULL:
            memset(self._lin, 0, self._lin_len * self._in_ch * (4 if self._f32 else 8))

    @property
    def ntaps(self):
        """Number of taps."""
        return self._ntaps

    @property
    def tail_frames(self):
        """``ntaps - 1``: the frames a sample keeps ringing after it (see :func:`streamdsp.run`)."""
        return self._ntaps - 1

    @property
    def block_size(self):
        """Partition size of the FFT path, or ``None`` for the direct form."""
        return self._block_size or None

    def frequency_response(self, n=512, fs=None, whole=False):
        """Frequency response of the taps, as ``scipy.signal.freqz`` gives it.

        Parameters
        ----------
        n : int, optional
            Number of frequencies.
        fs : float, optional
            Sample rate; frequencies are in Hz when given, else rad/sample.
        whole : bool, optional
            Whole circle instead of 0..Nyquist.

        Returns
        -------
        freqs : ndarray, shape (n,)
        h : ndarray, shape (n,) or (n, channels)
            Complex response, one column per channel for 2-D taps.
        """
        from streamdsp._core._response import fir_response
        return fir_response(self.taps, n, fs, whole)

    def _config(self):
        return type(self), (self.taps,), {"method": self.method, "block_size": self._block_size or None}

    def _get_state(self):
        if self._conv is not None:
            return self._conv.get_state()
        return raw(self._lin, self._lin_len * self._in_ch * (4 if self._f32 else 8))

    def _set_state(self, state):
        if self._conv is not None:
            self._conv.set_state(state)
        else:
            unraw(self._lin, self._lin_len * self._in_ch * (4 if self._f32 else 8), state, self)

    def _params(self):
        p = {"ntaps": self._ntaps, "method": self.method}
        if self._block_size:
            p["block_size"] = self._block_size
        return p


cdef void _run_direct(const real_t* x, real_t* y, Py_ssize_t frames, Py_ssize_t ch, Py_ssize_t K,
                      real_t* lin_all, Py_ssize_t lin_len, const real_t* hr_all,
                      bint shared) noexcept nogil:
    """Direct form over interleaved frames, _SUB at a time, per channel.

    Each channel's working buffer holds its last K - 1 inputs followed by the
    new ones, so the kernel walks forward with stride 1.
    """
    cdef Py_ssize_t done = 0, L, c, i
    cdef real_t* lin
    cdef const real_t* hr
    while done < frames:
        L = frames - done
        if L > _SUB:
            L = _SUB
        for c in range(ch):
            lin = lin_all + c * lin_len
            hr = hr_all + (0 if shared else c * K)
            if ch == 1:
                memcpy(lin + K - 1, x + done, L * sizeof(real_t))
            else:
                for i in range(L):
                    lin[K - 1 + i] = x[(done + i) * ch + c]
            fir_kernel(hr, K, lin, L, y + done * ch + c, ch)
            memmove(lin, lin + L, (K - 1) * sizeof(real_t))
        done += L
