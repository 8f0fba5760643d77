"""A real FFT cut into short jobs (four-step decomposition), for time-distributed convolution."""

from libc.string cimport memcpy

cimport numpy as cnp
import numpy as np

from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._fft cimport (
    fft_plan,
    sd_fft_f32, sd_fft_f32_free, sd_fft_f32_forward, sd_fft_f32_inverse, sd_fft_f32_bins,
    sd_fft_f64, sd_fft_f64_free, sd_fft_f64_forward, sd_fft_f64_inverse, sd_fft_f64_bins,
)

cnp.import_array()

ctypedef fused real:
    float
    double


cdef inline void _fwd(void* plan, real* x, real* re, real* im) noexcept nogil:
    if real is float:
        sd_fft_f32_forward(<sd_fft_f32*>plan, x, re, im)
    else:
        sd_fft_f64_forward(<sd_fft_f64*>plan, x, re, im)


cdef inline void _inv(void* plan, real* re, real* im, real* x) noexcept nogil:
    if real is float:
        sd_fft_f32_inverse(<sd_fft_f32*>plan, re, im, x)
    else:
        sd_fft_f64_inverse(<sd_fft_f64*>plan, re, im, x)


cdef class SlicedFFT:
    """SlicedFFT(n, f32, owner)
--

    N-point real FFT as N2 real column FFTs of N1 points, a twiddle, and
    N1/2 + 1 complex row FFTs of N2 points (each two real FFTs), run a few
    columns or rows per job, so that a transform of 2**17 points costs no
    call more than a few microseconds.

    The spectrum is in an own layout of ``length = (N1/2 + 1) N2`` plain
    complex values (rows k1 = 0 .. N1/2 of the N1 x N2 factorisation, the
    rest follows by symmetry); only elementwise products are taken in it.
    ``forward`` is unscaled, ``inverse_tail`` yields N times the last N/2
    samples of the inverse (the overlap-save output).
    """

    def __cinit__(self, *args, **kwargs):
        self._p1 = self._p2 = self._tw = self._B = self._D = self._t = NULL

    def __init__(self, Py_ssize_t n, bint f32, owner):
        cdef Py_ssize_t b = (<object>n).bit_length() - 1, isz = 4 if f32 else 8, r, n2
        cdef cnp.ndarray bins
        self.n = n
        self._f32 = f32
        self._n1 = 1 << ((b + 1) // 2)
        self._n2 = n // self._n1
        self._h1 = self._n1 // 2
        self._h2 = self._n2 // 2
        self.length = (self._h1 + 1) * self._n2
        # batches of at least 8 columns (rows) so that the strided passes move
        # whole runs of a cache line; about 4096 points per job
        self._gc = min(self._n2, max(8, 4096 // self._n1))
        self._gr = min(self._h1 + 1, max(8, 2048 // self._n2))
        self._ncj = (self._n2 + self._gc - 1) // self._gc
        self.jobs = self._ncj + (self._h1 + 1 + self._gr - 1) // self._gr
        self._p1 = fft_plan(owner, self._n1, f32, 4 * self.length + 2 * n)
        self._p2 = fft_plan(owner, self._n2, f32)
        self._tw = alloc_frames(owner, 2 * self.length, 1, isz)
        self._B = alloc_frames(owner, 2 * self.length, 1, isz)
        self._D = alloc_frames(owner, n, 1, isz)
        self._t = alloc_frames(owner, 2 * self._gc * self._n1 + (4 + 2 * self._gr) * self._n2, 1, isz)
        bins = np.zeros(self._h1, dtype=np.uintp)
        if f32:
            sd_fft_f32_bins(<sd_fft_f32*>self._p1, <size_t*>cnp.PyArray_DATA(bins))
        else:
            sd_fft_f64_bins(<sd_fft_f64*>self._p1, <size_t*>cnp.PyArray_DATA(bins))
        # row r holds k1 = bins[r] (r = 1 .. N1/2 - 1), row 0 DC, row N1/2 Nyquist
        k1 = np.concatenate([[0], bins[1:].astype(np.float64), [self._h1]])
        w = np.exp(-2j * np.pi * np.outer(k1, np.arange(self._n2)) / n).ravel()
        tw = np.concatenate([w.real, w.imag]).astype(np.float32 if f32 else np.float64)
        memcpy(self._tw, cnp.PyArray_DATA(tw), 2 * self.length * isz)

    def __dealloc__(self):
        if self._f32:
            sd_fft_f32_free(<sd_fft_f32*>self._p1)
            sd_fft_f32_free(<sd_fft_f32*>self._p2)
        else:
            sd_fft_f64_free(<sd_fft_f64*>self._p1)
            sd_fft_f64_free(<sd_fft_f64*>self._p2)
        aligned_free(self._tw)
        aligned_free(self._B)
        aligned_free(self._D)
        aligned_free(self._t)

    cdef void forward(self, const void* x, void* re, void* im, Py_ssize_t job) noexcept nogil:
        """Job `job` (0 .. jobs-1, in order) of the transform of N reals x into re/im[L]."""
        if self._f32:
            _forward_job(self, <float*>x, <float*>re, <float*>im, job)
        else:
            _forward_job(self, <double*>x, <double*>re, <double*>im, job)

    cdef void inverse_tail(self, const void* re, const void* im, void* y, Py_ssize_t job) noexcept nogil:
        """Job `job` (in order) of N x the last N/2 samples of the inverse of re/im[L] into y."""
        if self._f32:
            _inverse_job(self, <float*>re, <float*>im, <float*>y, job)
        else:
            _inverse_job(self, <double*>re, <double*>im, <double*>y, job)

    def _forward_all(self, x):
        """Whole forward transform (for the filter spectra and tests): complex array of L."""
        dt = np.float32 if self._f32 else np.float64
        x = np.ascontiguousarray(x, dtype=dt)
        re = np.empty(self.length, dtype=dt)
        im = np.empty(self.length, dtype=dt)
        for j in range(self.jobs):
            self.forward(cnp.PyArray_DATA(x), cnp.PyArray_DATA(re), cnp.PyArray_DATA(im), j)
        return re, im

    def _inverse_tail_all(self, re, im):
        """Whole inverse (tests): N x the last N/2 samples."""
        dt = np.float32 if self._f32 else np.float64
        re = np.ascontiguousarray(re, dtype=dt)
        im = np.ascontiguousarray(im, dtype=dt)
        y = np.empty(self.n // 2, dtype=dt)
        for j in range(self.jobs):
            self.inverse_tail(cnp.PyArray_DATA(re), cnp.PyArray_DATA(im), cnp.PyArray_DATA(y), j)
        return y


cdef void _forward_job(SlicedFFT s, real* x, real* Xre, real* Xim, Py_ssize_t job) noexcept nogil:
    cdef Py_ssize_t n1 = s._n1, n2 = s._n2, h1 = s._h1, h2 = s._h2, L = s.length
    cdef Py_ssize_t a, b, w, g, r, i, p
    cdef real* twr = <real*>s._tw
    cdef real* twi = twr + L
    cdef real* Br = <real*>s._B
    cdef real* Bi = Br + L
    cdef real* col = <real*>s._t                # gc columns of n1 samples
    cdef real* spec = col + s._gc * n1          # their packed spectra (re h1, im h1)
    cdef real* ur = spec + s._gc * n1
    cdef real* ui = ur + n2
    cdef real* tr = ui + n2
    cdef real* ti = tr + n2
    cdef real* src
    cdef real vr, vi, wr, wi, Rr, Ri, Ir, Ii
    if job < s._ncj:
        # columns n2 in [a, b): x[N2 n1 + n2] over n1, transformed, twiddled into rows;
        # a batch of columns reads and writes whole runs of a row at a time
        a = job * s._gc
        b = min(a + s._gc, n2)
        w = b - a
        for i in range(n1):
            src = x + n2 * i + a
            for g in range(w):
                col[g * n1 + i] = src[g]
        for g in range(w):
            _fwd(s._p1, col + g * n1, spec + g * n1, spec + g * n1 + h1)
        for g in range(w):
            Br[a + g] = spec[g * n1]
            Bi[a + g] = 0
            vr = spec[g * n1 + h1]                  # the column's Nyquist: row h1
            Br[h1 * n2 + a + g] = vr * twr[h1 * n2 + a + g]
            Bi[h1 * n2 + a + g] = vr * twi[h1 * n2 + a + g]
        for r in range(1, h1):
            for g in range(w):
                vr = spec[g * n1 + r]
                vi = spec[g * n1 + h1 + r]
                wr = twr[r * n2 + a + g]
                wi = twi[r * n2 + a + g]
                Br[r * n2 + a + g] = vr * wr - vi * wi
                Bi[r * n2 + a + g] = vr * wi + vi * wr
        return
    # rows: a complex FFT of N2 as two real ones, R = F(re), I = F(im), Z = R + iI;
    # position p of the packed halves gives Z at bins b(p) and N2 - b(p)
    a = (job - s._ncj) * s._gr
    b = min(a + s._gr, h1 + 1)
    for r in range(a, b):
        _fwd(s._p2, Br + r * n2, ur, ui)
        _fwd(s._p2, Bi + r * n2, tr, ti)
        i = r * n2
        Xre[i] = ur[0]
        Xim[i] = tr[0]
        Xre[i + h2] = ui[0]
        Xim[i + h2] = ti[0]
        for p in range(1, h2):
            Rr = ur[p]
            Ri = ui[p]
            Ir = tr[p]
            Ii = ti[p]
            Xre[i + p] = Rr - Ii
            Xim[i + p] = Ri + Ir
            Xre[i + h2 + p] = Rr + Ii
            Xim[i + h2 + p] = Ir - Ri


cdef void _inverse_job(SlicedFFT s, real* Xre, real* Xim, real* y, Py_ssize_t job) noexcept nogil:
    cdef Py_ssize_t n1 = s._n1, n2 = s._n2, h1 = s._h1, h2 = s._h2, L = s.length
    cdef Py_ssize_t a, b, w, g, c, r, i, p, r0, r1, nr = (h1 + 1 + s._gr - 1) // s._gr
    cdef real* twr = <real*>s._tw
    cdef real* twi = twr + L
    cdef real* Dr = <real*>s._D
    cdef real* Di = Dr + h1 * n2
    cdef real* col = <real*>s._t
    cdef real* spec = col + s._gc * n1
    cdef real* ur = spec + s._gc * n1
    cdef real* ui = ur + n2
    cdef real* tr = ui + n2
    cdef real* ti = tr + n2
    cdef real* rows = ti + n2                   # gr rows: b re (n2), b im (n2)
    cdef real* dst
    cdef real za, zb, zc, zd, vr, vi, wr, wi
    if job < nr:
        # rows first (the reverse order): Z -> R, I (packed) -> b = F^-1(R) + i F^-1(I),
        # then untwiddled into the packed N1-spectrum of every column
        a = job * s._gr
        b = min(a + s._gr, h1 + 1)
        for r in range(a, b):
            i = r * n2
            ur[0] = Xre[i]
            ui[0] = Xre[i + h2]
            tr[0] = Xim[i]
            ti[0] = Xim[i + h2]
            for p in range(1, h2):
                za = Xre[i + p]
                zb = Xim[i + p]
                zc = Xre[i + h2 + p]
                zd = Xim[i + h2 + p]
                ur[p] = 0.5 * (za + zc)
                ui[p] = 0.5 * (zb - zd)
                tr[p] = 0.5 * (zb + zd)
                ti[p] = 0.5 * (zc - za)
            _inv(s._p2, ur, ui, rows + (r - a) * 2 * n2)
            _inv(s._p2, tr, ti, rows + (r - a) * 2 * n2 + n2)
        # rows 0 and N1/2 are real after the twiddle: DC and Nyquist of the columns
        r0 = a if a > 0 else 1
        r1 = b if b <= h1 else h1
        for c in range(n2):
            if a == 0:
                Dr[c * h1] = rows[c]
            if b == h1 + 1:
                i = (h1 - a) * 2 * n2
                Di[c * h1] = rows[i + c] * twr[h1 * n2 + c] + rows[i + n2 + c] * twi[h1 * n2 + c]
            for r in range(r0, r1):
                i = (r - a) * 2 * n2
                vr = rows[i + c]
                vi = rows[i + n2 + c]
                wr = twr[r * n2 + c]
                wi = -twi[r * n2 + c]
                Dr[c * h1 + r] = vr * wr - vi * wi
                Di[c * h1 + r] = vr * wi + vi * wr
        return
    a = (job - nr) * s._gc
    b = min(a + s._gc, n2)
    w = b - a
    for g in range(w):
        _inv(s._p1, Dr + (a + g) * h1, Di + (a + g) * h1, col + g * n1)
    # overlap-save keeps samples N/2 .. N-1: n1 >= N1/2
    for i in range(h1, n1):
        dst = y + n2 * (i - h1) + a
        for g in range(w):
            dst[g] = col[g * n1 + i]
