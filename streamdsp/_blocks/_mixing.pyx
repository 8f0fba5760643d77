"""Channel mixing: the 1x1 convolution (ChannelMixer)."""

from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from libc.string cimport memcpy

cimport numpy as cnp
import numpy as np

from streamdsp._core._block cimport Block
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._validate import choice, coefficients

cnp.import_array()

cdef extern from "sd_mix.h" nogil:
    enum:
        SD_ACT_NONE
        SD_ACT_RELU
        SD_ACT_TANH
        SD_MIX_LANES_F32
        SD_MIX_LANES_F64
    void sd_mix_f32(const float* w, const float* bias, size_t nin, size_t nout, size_t ldw,
                    const float* x, size_t frames, float* y, int act)
    void sd_mix_f64(const double* w, const double* bias, size_t nin, size_t nout, size_t ldw,
                    const double* x, size_t frames, double* y, int act)
    void sd_act_f32(float* y, size_t n, int act)
    void sd_act_f64(double* y, size_t n, int act)
    void sd_bias_rows_f32(float* y, const float* bias, size_t frames, size_t nout)
    void sd_bias_rows_f64(double* y, const double* bias, size_t frames, size_t nout)

# BLAS as scipy links it (scipy.linalg.cython_blas), Fortran calling convention.
ctypedef void (*sgemm_t)(char* transa, char* transb, int* m, int* n, int* k, float* alpha,
                         float* a, int* lda, float* b, int* ldb, float* beta, float* c,
                         int* ldc) noexcept nogil
ctypedef void (*dgemm_t)(char* transa, char* transb, int* m, int* n, int* k, double* alpha,
                         double* a, int* lda, double* b, int* ldb, double* beta, double* c,
                         int* ldc) noexcept nogil

# Frames per BLAS call: the output tile (and its input) stay in L2 between
# the bias copy, the GEMM that accumulates onto it and the activation.
DEF _TILE = 512

# "auto" takes the register-blocked kernel while the weights are small (it
# reaches the FMA peak there and has no per-call BLAS overhead) and BLAS
# when they are large enough for its cache blocking to matter.  Measured on
# the project machine (AVX-512): the kernel is faster up to ~128 x 128.
_KERNEL_MAX_WEIGHTS = 128 * 128

_ACTIVATIONS = {None: SD_ACT_NONE, "relu": SD_ACT_RELU, "tanh": SD_ACT_TANH}


cdef void* _blas_function(str name) except NULL:
    """Address of a BLAS routine from scipy.linalg.cython_blas.

    Looked up only when a mixer first takes the BLAS path, so that importing
    streamdsp does not import scipy.linalg.
    """
    from scipy.linalg import cython_blas
    cap = cython_blas.__pyx_capi__[name]
    return PyCapsule_GetPointer(cap, PyCapsule_GetName(cap))


cdef class ChannelMixer(Block):
    """ChannelMixer(weights, bias=None, activation=None, method='auto')
--

    Mix channels with a weight matrix: the 1x1 convolution of a neural net.

    Every output frame is ``act(weights @ frame + bias)``, so ``in_channels``
    channels become ``out_channels`` (fewer, more or as many).

    Parameters
    ----------
    weights : array_like, shape (out_channels, in_channels)
        Mixing matrix; it fixes the input channel count.
    bias : array_like, shape (out_channels,), optional
        Added to every output frame.  Default: none.
    activation : {None, "relu", "tanh"}, optional
        Applied to every output sample after the bias.
    method : {"auto", "kernel", "blas"}, optional
        ``"kernel"`` runs a register-blocked SIMD kernel with bias and
        activation applied in registers; ``"blas"`` calls the GEMM of the
        BLAS scipy links (``scipy.linalg.cython_blas``) on tiles of frames,
        bias preloaded into the tile and the activation applied while the
        tile is in cache.  ``"auto"`` (default) takes the kernel for weight
        matrices up to 128 x 128, BLAS above.

    Notes
    -----
    Latency 0.  Offline equivalent::

        y = x @ weights.T + bias          # then np.maximum(y, 0) or np.tanh(y)

    ``channels`` is the input channel count, ``out_channels`` the output
    one.  A 1-D chunk (one input channel) gives a 1-D output only when
    ``out_channels == 1``.

    The BLAS path uses the threads of scipy's BLAS (OpenBLAS by default:
    ``OPENBLAS_NUM_THREADS``); it runs without the GIL.  The kernel path is
    single-threaded.  float32 streams are computed in float32 (fused
    multiply-adds), float64 streams in float64.  ``tanh`` is a vectorised
    rational/exponential approximation (Cephes) within a few ulp of
    ``np.tanh``.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> mid_side = sd.ChannelMixer([[0.5, 0.5], [0.5, -0.5]])
    >>> mid_side.process(np.array([[1.0, 0.0], [0.0, 1.0]]))
    array([[ 0.5,  0.5],
           [ 0.5, -0.5]])
    >>> sd.ChannelMixer([[1.0, -1.0]], activation="relu").process(np.array([[1.0, 2.0], [3.0, 1.0]]))
    array([[0.],
           [2.]])
    """

    cdef readonly object weights
    cdef readonly object bias
    cdef readonly object activation
    cdef readonly str method
    cdef Py_ssize_t _nin, _nout, _ldw
    cdef int _act
    cdef bint _blas, _has_bias
    cdef void* _w               # weights transposed, (nin, ldw), zero-padded columns
    cdef void* _b               # bias, ldw long
    cdef sgemm_t _sgemm
    cdef dgemm_t _dgemm

    def __cinit__(self, *args, **kwargs):
        self._w = NULL
        self._b = NULL
        self._sgemm = NULL
        self._dgemm = NULL

    def __init__(self, weights, bias=None, activation=None, method="auto"):
        w = coefficients("ChannelMixer", "weights", weights)
        if w.ndim != 2:
            raise ValueError(
                f"ChannelMixer: expected weights of shape (out_channels, in_channels), got shape {w.shape}")
        if activation is not None and not isinstance(activation, str):
            raise TypeError(f"ChannelMixer: expected activation None, 'relu' or 'tanh', got {activation!r}")
        choice("ChannelMixer", "activation", activation, tuple(_ACTIVATIONS))
        choice("ChannelMixer", "method", method, ("auto", "kernel", "blas"))
        self._nout, self._nin = w.shape[0], w.shape[1]
        if bias is not None:
            b = coefficients("ChannelMixer", "bias", bias, max_ndim=1)
            if b.shape != (self._nout,):
                raise ValueError(
                    f"ChannelMixer: expected bias of shape ({self._nout},) (one per output channel), "
                    f"got shape {b.shape}")
            b.setflags(write=False)
            self.bias = b
        self._has_bias = bias is not None
        if method == "auto":
            method = "kernel" if self._nin * self._nout <= _KERNEL_MAX_WEIGHTS else "blas"
        if method == "blas" and max(self._nin, self._nout) >= 2 ** 31 // _TILE:
            method = "kernel"   # BLAS takes int dimensions
        self.method = method
        self._blas = method == "blas"
        self._act = _ACTIVATIONS[activation]
        self.activation = activation
        w.setflags(write=False)
        self.weights = w
        self._in_ch = self._nin
        self._out_ch = self._nout

    def __dealloc__(self):
        aligned_free(self._w)
        aligned_free(self._b)

    cdef int _setup(self, Py_ssize_t channels) except -1:
        cdef Py_ssize_t lanes = SD_MIX_LANES_F32 if self._f32 else SD_MIX_LANES_F64
        cdef cnp.ndarray wt, b
        dt = np.float32 if self._f32 else np.float64
        self._out_ch = self._nout
        if self._blas:
            if self._f32:
                self._sgemm = <sgemm_t>_blas_function("sgemm")
            else:
                self._dgemm = <dgemm_t>_blas_function("dgemm")
        self._ldw = (self._nout + lanes - 1) // lanes * lanes
        wt = np.zeros((self._nin, self._ldw), dtype=dt)
        wt[:, :self._nout] = self.weights.T
        b = np.zeros(self._ldw, dtype=dt)
        if self._has_bias:
            b[:self._nout] = self.bias
        aligned_free(self._w)
        aligned_free(self._b)
        self._w = self._b = NULL
        self._w = alloc_frames(self, wt.size, 1, wt.itemsize)
        memcpy(self._w, cnp.PyArray_DATA(wt), wt.nbytes)
        self._b = alloc_frames(self, b.size, 1, b.itemsize)
        memcpy(self._b, cnp.PyArray_DATA(b), b.nbytes)
        return 0

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        if self._blas:
            if self._f32:
                self._run_sgemm(<const float*>x, <float*>y, frames)
            else:
                self._run_dgemm(<const double*>x, <double*>y, frames)
        elif self._f32:
            sd_mix_f32(<const float*>self._w, <const float*>self._b, self._nin, self._nout,
                       self._ldw, <const float*>x, frames, <float*>y, self._act)
        else:
            sd_mix_f64(<const double*>self._w, <const double*>self._b, self._nin, self._nout,
                       self._ldw, <const double*>x, frames, <double*>y, self._act)
        return frames

    # y^T = W x^T in column-major terms: A = the transposed weights as
    # stored, (nout x nin) column-major with lda = ldw; B = x^T (nin x n,
    # ldb = nin); C = y^T (nout x n, ldc = nout), preloaded with the bias.
    cdef void _run_sgemm(self, const float* x, float* y, Py_ssize_t frames) noexcept nogil:
        cdef char tn = b'N'
        cdef int m = <int>self._nout, k = <int>self._nin, n
        cdef int lda = <int>self._ldw, ldb = <int>self._nin, ldc = <int>self._nout
        cdef float alpha = 1.0, beta = 1.0 if self._has_bias else 0.0
        cdef Py_ssize_t done = 0, L
        cdef float* yt
        while done < frames:
            L = min(frames - done, _TILE)
            yt = y + done * self._nout
            if self._has_bias:
                sd_bias_rows_f32(yt, <const float*>self._b, L, self._nout)
            n = <int>L
            self._sgemm(&tn, &tn, &m, &n, &k, &alpha, <float*>self._w, &lda,
                        <float*>(x + done * self._nin), &ldb, &beta, yt, &ldc)
            sd_act_f32(yt, L * self._nout, self._act)
            done += L

    cdef void _run_dgemm(self, const double* x, double* y, Py_ssize_t frames) noexcept nogil:
        cdef char tn = b'N'
        cdef int m = <int>self._nout, k = <int>self._nin, n
        cdef int lda = <int>self._ldw, ldb = <int>self._nin, ldc = <int>self._nout
        cdef double alpha = 1.0, beta = 1.0 if self._has_bias else 0.0
        cdef Py_ssize_t done = 0, L
        cdef double* yt
        while done < frames:
            L = min(frames - done, _TILE)
            yt = y + done * self._nout
            if self._has_bias:
                sd_bias_rows_f64(yt, <const double*>self._b, L, self._nout)
            n = <int>L
            self._dgemm(&tn, &tn, &m, &n, &k, &alpha, <double*>self._w, &lda,
                        <double*>(x + done * self._nin), &ldb, &beta, yt, &ldc)
            sd_act_f64(yt, L * self._nout, self._act)
            done += L

    @property
    def in_channels(self):
        """Input channel count (fixed by the weights)."""
        return self._nin

    @property
    def out_channels(self):
        """Output channel count (fixed by the weights)."""
        return self._nout

    def _config(self):
        return type(self), (self.weights,), {"bias": self.bias, "activation": self.activation,
                                             "method": self.method}

    def _get_state(self):
        return None

    def _params(self):
        p = {"in_channels": self._nin, "out_channels": self._nout}
        if self.activation is not None:
            p["activation"] = self.activation
        p["method"] = self.method
        return p
