# cython: language_level=3
"""Python-visible wrapper of the sd_fft real FFT kernel (tests, benchmarks).

Real-time code should not go through this class: cimport the C functions
from ``streamdsp._core._fft`` (see _fft.pxd) and call them directly.
"""
import numpy as np

cimport numpy as cnp
from libc.stdlib cimport free, malloc

cnp.import_array()


cdef char *_data(object a, int typenum, Py_ssize_t size, bint writable, str name) except NULL:
    """Data pointer of a C-contiguous ndarray of the given type and size."""
    if not cnp.PyArray_Check(a):
        raise TypeError(f"{name} must be a numpy array")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_TYPE(arr) != typenum:
        raise TypeError(f"{name} has dtype {arr.dtype}, expected {np.dtype(cnp.PyArray_TypeObjectFromType(typenum))}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"{name} must be C-contiguous")
    if cnp.PyArray_SIZE(arr) != size:
        raise ValueError(f"{name} must have {size} elements, got {cnp.PyArray_SIZE(arr)}")
    if writable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name} must be writeable")
    return <char *>cnp.PyArray_DATA(arr)


cdef class RealFFT:
    """RealFFT(n, dtype='float32')
--

    Planned n-point real FFT (n a power of two, 2 <= n <= 2**30).

    ``forward``/``inverse`` work in natural order and match ``np.fft.rfft`` /
    ``np.fft.irfft``.  ``forward_packed``/``inverse_packed`` call the raw C
    kernel on preallocated arrays (packed layout: re[0] = DC, im[0] =
    Nyquist, other bins permuted as ``bins()`` says; unscaled inverse) with
    the GIL released.  A plan is not reentrant.
    """
    cdef sd_fft_f32 *_p32
    cdef sd_fft_f64 *_p64
    cdef size_t *_bins
    cdef readonly Py_ssize_t n
    cdef readonly object dtype
    cdef int _rtype      # NPY_FLOAT32 / NPY_FLOAT64
    cdef int _ctype      # NPY_COMPLEX64 / NPY_COMPLEX128

    def __cinit__(self, Py_ssize_t n, dtype="float32"):
        self._p32 = NULL
        self._p64 = NULL
        self._bins = NULL
        dt = np.dtype(dtype)
        if n < 2 or (n & (n - 1)) != 0 or n > (1 << 30):
            raise ValueError(f"n must be a power of two in 2 .. 2**30 (the largest FFT), got {n}")
        self.n = n
        if dt == np.float32:
            self._rtype = cnp.NPY_FLOAT32
            self._ctype = cnp.NPY_COMPLEX64
            self._p32 = <sd_fft_f32*>fft_plan("RealFFT", n, True, n)
        elif dt == np.float64:
            self._rtype = cnp.NPY_FLOAT64
            self._ctype = cnp.NPY_COMPLEX128
            self._p64 = <sd_fft_f64*>fft_plan("RealFFT", n, False, n)
        else:
            raise TypeError(f"dtype must be float32 or float64, got {dt}")
        self.dtype = dt
        self._bins = <size_t *>malloc(<size_t>(n // 2) * sizeof(size_t))
        if self._bins == NULL:
            raise MemoryError()
        if self._p32 != NULL:
            sd_fft_f32_bins(self._p32, self._bins)
        else:
            sd_fft_f64_bins(self._p64, self._bins)

    def __dealloc__(self):
        if self._p32 != NULL:
            sd_fft_f32_free(self._p32)
        if self._p64 != NULL:
            sd_fft_f64_free(self._p64)
        free(self._bins)

    @property
    def half(self):
        return self.n // 2

    def bins(self):
        """bins()[p] = natural bin index held at packed position p (p >= 1).

        Position 0 holds DC (re) and Nyquist (im); bins()[0] is 0.
        """
        cdef Py_ssize_t h = self.n // 2, p
        out = np.empty(h, dtype=np.intp)
        cdef cnp.intp_t[::1] o = out
        for p in range(h):
            o[p] = <cnp.intp_t>self._bins[p]
        return out

    def forward_packed(self, x, re, im):
        """Raw kernel: x (n reals) -> re, im (n/2 each, packed layout)."""
        cdef Py_ssize_t h = self.n // 2
        cdef char *px = _data(x, self._rtype, self.n, False, "x")
        cdef char *pr = _data(re, self._rtype, h, True, "re")
        cdef char *pi = _data(im, self._rtype, h, True, "im")
        if self._p32 != NULL:
            with nogil:
                sd_fft_f32_forward(self._p32, <const float *>px, <float *>pr, <float *>pi)
        else:
            with nogil:
                sd_fft_f64_forward(self._p64, <const double *>px, <double *>pr, <double *>pi)

    def inverse_packed(self, re, im, x):
        """Raw kernel: packed re, im -> x (n reals), UNSCALED (n times)."""
        cdef Py_ssize_t h = self.n // 2
        cdef char *pr = _data(re, self._rtype, h, False, "re")
        cdef char *pi = _data(im, self._rtype, h, False, "im")
        cdef char *px = _data(x, self._rtype, self.n, True, "x")
        if self._p32 != NULL:
            with nogil:
                sd_fft_f32_inverse(self._p32, <const float *>pr, <const float *>pi, <float *>px)
        else:
            with nogil:
                sd_fft_f64_inverse(self._p64, <const double *>pr, <const double *>pi, <double *>px)

    def forward(self, x):
        """np.fft.rfft(x) for a length-n real x: n//2 + 1 complex bins."""
        cdef Py_ssize_t h = self.n // 2, p, k
        xa = np.ascontiguousarray(x, dtype=self.dtype)
        if xa.ndim != 1 or xa.shape[0] != self.n:
            raise ValueError(f"x must be 1-D of length {self.n}")
        re = np.empty(h, dtype=self.dtype)
        im = np.empty(h, dtype=self.dtype)
        self.forward_packed(xa, re, im)
        out = np.empty(h + 1, dtype=np.complex64 if self._p32 != NULL else np.complex128)
        cdef float[::1] r32, i32
        cdef double[::1] r64, i64
        cdef float complex[::1] o32
        cdef double complex[::1] o64
        if self._p32 != NULL:
            r32 = re
            i32 = im
            o32 = out
            o32[0] = r32[0]
            o32[h] = i32[0]
            for p in range(1, h):
                k = <Py_ssize_t>self._bins[p]
                o32[k].real = r32[p]
                o32[k].imag = i32[p]
        else:
            r64 = re
            i64 = im
            o64 = out
            o64[0] = r64[0]
            o64[h] = i64[0]
            for p in range(1, h):
                k = <Py_ssize_t>self._bins[p]
                o64[k].real = r64[p]
                o64[k].imag = i64[p]
        return out

    def inverse(self, X):
        """np.fft.irfft(X, n) for n//2 + 1 complex bins (scaled by 1/n)."""
        cdef Py_ssize_t h = self.n // 2, p, k
        Xa = np.ascontiguousarray(X, dtype=np.complex64 if self._p32 != NULL else np.complex128)
        if Xa.ndim != 1 or Xa.shape[0] != h + 1:
            raise ValueError(f"X must be 1-D of length {h + 1}")
        re = np.empty(h, dtype=self.dtype)
        im = np.empty(h, dtype=self.dtype)
        cdef float[::1] r32, i32
        cdef double[::1] r64, i64
        cdef const float complex[::1] c32
        cdef const double complex[::1] c64
        if self._p32 != NULL:
            r32 = re
            i32 = im
            c32 = Xa
            r32[0] = c32[0].real
            i32[0] = c32[h].real
            for p in range(1, h):
                k = <Py_ssize_t>self._bins[p]
                r32[p] = c32[k].real
                i32[p] = c32[k].imag
        else:
            r64 = re
            i64 = im
            c64 = Xa
            r64[0] = c64[0].real
            i64[0] = c64[h].real
            for p in range(1, h):
                k = <Py_ssize_t>self._bins[p]
                r64[p] = c64[k].real
                i64[p] = c64[k].imag
        x = np.empty(self.n, dtype=self.dtype)
        self.inverse_packed(re, im, x)
        x *= 1.0 / self.n
        return x


def mac(acc_re, acc_im, a_re, a_im, b_re, b_im):
    """acc += a * b over the packed layout (C sd_fft_*_mac), in place.

    All six arrays: same dtype (float32 or float64), same length n/2,
    C-contiguous; acc_* writeable.
    """
    if not cnp.PyArray_Check(acc_re):
        raise TypeError("acc_re must be a numpy array")
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>acc_re)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError("arrays must be float32 or float64")
    cdef Py_ssize_t h = cnp.PyArray_SIZE(<cnp.ndarray>acc_re)
    cdef char *ar = _data(acc_re, t, h, True, "acc_re")
    cdef char *ai = _data(acc_im, t, h, True, "acc_im")
    cdef char *xr = _data(a_re, t, h, False, "a_re")
    cdef char *xi = _data(a_im, t, h, False, "a_im")
    cdef char *yr = _data(b_re, t, h, False, "b_re")
    cdef char *yi = _data(b_im, t, h, False, "b_im")
    if t == cnp.NPY_FLOAT32:
        with nogil:
            sd_fft_f32_mac(<size_t>h, <float *>ar, <float *>ai, <const float *>xr,
                           <const float *>xi, <const float *>yr, <const float *>yi)
    else:
        with nogil:
            sd_fft_f64_mac(<size_t>h, <double *>ar, <double *>ai, <const double *>xr,
                           <const double *>xi, <const double *>yr, <const double *>yi)
