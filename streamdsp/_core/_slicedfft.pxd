# A real FFT of N points cut into short jobs (four-step: N = N1 x N2), for
# the time-distributed levels of the partitioned convolution.  For Cython use
# only; `forward` and `inverse_tail` are noexcept nogil and allocate nothing.
# Not reentrant (scratch inside).

cdef class SlicedFFT:
    cdef readonly Py_ssize_t n       # N
    cdef readonly Py_ssize_t length  # L = (N1/2 + 1) N2 complex values of a spectrum
    cdef readonly Py_ssize_t jobs    # jobs of one transform, either way
    cdef Py_ssize_t _n1, _n2, _h1, _h2, _gc, _gr, _ncj
    cdef bint _f32
    cdef void* _p1          # plan for N1 (columns)
    cdef void* _p2          # plan for N2 (rows)
    cdef void* _tw          # re[L], im[L]: W_N^(n2 k1(row)), row-major (row, n2)
    cdef void* _B           # re[L], im[L]: twiddled column spectra, row-major
    cdef void* _D           # re[h1 N2], im[h1 N2]: per column n2, a packed N1 spectrum
    cdef void* _t           # scratch: a batch of columns and their spectra, 4 packed
                            # halves of N2, a batch of rows

    cdef void forward(self, const void* x, void* re, void* im, Py_ssize_t job) noexcept nogil
    cdef void inverse_tail(self, const void* re, const void* im, void* y, Py_ssize_t job) noexcept nogil
