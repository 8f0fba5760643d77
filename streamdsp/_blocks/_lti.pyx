"""Linear time-invariant systems: cascaded second-order sections and state space."""

import warnings

cimport numpy as cnp
import numpy as np
from libc.string cimport memcpy, memset

from streamdsp._core._block cimport Block
from streamdsp._core._snapshot cimport raw, unraw
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._validate import coefficients, finite_float, whole_number
from streamdsp._blocks._lti_design import (
    NAME, decay_frames, signal, delay_sections, describe, fs_arg, normalized_sos, real_matrix, real_vector,
    roots_arg, section_poles, ss_arrays, tf_to_sos, zpk_to_sos)
from streamdsp._errors import StreamStateError

cnp.import_array()

cdef extern from "sd_sos.h" nogil:
    enum: SD_SOS_GROUP
    enum: SD_SOS_WORK
    void sd_sos_f32(const double* co, size_t nsec, double* st, size_t nch,
                    const float* x, float* y, size_t frames, double* work)
    void sd_sos_f64(const double* co, size_t nsec, double* st, size_t nch,
                    const double* x, double* y, size_t frames, double* work)
    void sd_ss_f32(const double* A, const double* B, const double* C, double D, size_t N,
                   double* st, double* tmp, size_t nch, const float* x, float* y, size_t frames)
    void sd_ss_f64(const double* A, const double* B, const double* C, double D, size_t N,
                   double* st, double* tmp, size_t nch, const double* x, double* y, size_t frames)


# ----------------------------------------------------------------------------

cdef class LTISystem(Block):
    """LTISystem(system, fs=None)
--

    A linear time-invariant system, streamed chunk by chunk.

    The same single-input single-output system filters every channel of
    the stream, each channel with its own state.

    Parameters
    ----------
    system : scipy.signal.dlti or scipy.signal.lti
        A discrete system (``TransferFunction``, ``ZerosPolesGain`` or
        ``StateSpace`` with ``dt``), run as ``scipy.signal.dlsim`` runs it; or
        a continuous one, discretised at ``fs`` by the bilinear transform
        (``scipy.signal.bilinear``, ``bilinear_zpk`` or ``cont2discrete(...,
        method="bilinear")``, without prewarping).
    fs : float, optional
        Sample rate in Hz.  Required for a continuous system.  For a discrete
        one it only labels frequencies (the default of
        :meth:`frequency_response`) and must equal ``1 / system.dt`` when the
        system has a ``dt``: a discrete system cannot be moved to another rate.

    Attributes
    ----------
    form : {"sos", "ss"}
        How the system runs: cascaded second-order sections or state space.
    sos : ndarray, shape (n_sections, 6)
        The sections (``a0 = 1``; a copy, ready for ``scipy.signal.sosfilt``,
        which refuses read-only arrays), or None for state space.
    ss : tuple of ndarray
        ``(A, B, C, D)`` for state space (copies of shapes (N, N), (N, 1),
        (1, N), (1, 1)), or None.
    fs : float or None
        The sample rate, when known.
    poles : ndarray of complex
        Poles of the system as it runs.
    stable : bool
        Whether every pole lies strictly inside the unit circle.

    Warns
    -----
    RuntimeWarning
        At construction, when a pole lies on or outside the unit circle.

    Notes
    -----
    Latency 0.  Transfer functions, zeros/poles/gain and sections run as
    cascaded second-order sections in transposed direct form II, the
    recursion of ``scipy.signal.sosfilt``; state-space systems run as state
    space (``s[n+1] = A s[n] + B x[n]``, ``y[n] = C s[n] + D x[n]``, the
    recursion of ``dlsim``; O(N^2) per sample; not converted, because turning
    a state-space system into sections needs its eigenvalues and is not
    exact).  Offline equivalents (``concatenate([process(x), flush()])``)::

        from_sos(sos)          scipy.signal.sosfilt(sos, x, axis=0)
        from_tf(b, a)          scipy.signal.lfilter(b, a, x, axis=0)
        from_zpk(z, p, k)      scipy.signal.sosfilt(zpk2sos(z, p, k), x, axis=0)
        from_ss(A, B, C, D)    scipy.signal.dlsim((A, B, C, D, 1), x)[1]  (per channel)
        LTISystem(dlti)        scipy.signal.dlsim(dlti, x)[1]             (per channel)

    Conventions: ``from_tf`` takes ``b`` and ``a`` as ``lfilter`` does, in
    powers of z^-1, whereas a ``dlti`` transfer function lists powers of z
    in descending order, so its numerator shorter than its denominator is a
    delay (the two agree when ``len(b) == len(a)``).  Likewise ``from_zpk``
    is the filter ``zpk2sos(z, p, k)`` describes (the convention of
    ``butter(..., output="zpk")``), whereas ``dlti(z, p, k)`` with fewer zeros
    than poles lags it by ``len(p) - len(z)`` samples.

    Transfer functions: one of order <= 2 runs as one section with its own
    coefficients; a longer one is split into sections through the roots of
    ``b`` and ``a`` (as ``tf2sos`` does, minus its quirks: leading zeros of
    ``b`` are kept as a delay).  When poles cluster (high orders, low
    cutoffs) those roots, like the filter ``(b, a)`` itself, are sensitive
    to rounding, and the block then agrees with ``lfilter`` to about 1e-6
    of the peak rather than to rounding (``butter(6, 0.01)`` as ``(b, a)``:
    5e-6).  Design such filters with ``output="sos"``, which runs exactly.

    Precision: the state and all arithmetic are float64 for every stream;
    float32 streams are widened on input and rounded once on output.  A
    float32 state would buy no measurable speed here (the same number of
    vector operations per frame, the same recursion chain) and is the
    classic source of error for high-order and low-cutoff filters: a 0.5 Hz
    high-pass at 500 Hz computed with a float32 state is off by ~2e-4 of the
    peak, by ~4e-8 (the float32 output rounding) here.  Where the CPU has
    fused multiply-add the recursion uses it, so results differ from
    scipy's by rounding (a few units in the last place, no less accurate).

    Speed: the section state stays in registers and channels are the vector
    lanes (8 at a time), so a call costs a fraction of a microsecond at
    chunks of 1-64 frames, where ``scipy.signal.sosfilt`` spends 20-30 us
    in its Python layer.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> from scipy import signal
    >>> lp = sd.LTISystem.from_sos(signal.butter(4, 0.2, output="sos"))
    >>> x = np.random.default_rng(0).standard_normal(1000)
    >>> y = np.concatenate([lp.process(x[:300]), lp.process(x[300:])])
    >>> bool(np.allclose(y, signal.sosfilt(lp.sos, x)))
    True
    >>> sd.LTISystem.from_tf([1.0], [1.0, -0.5]).impulse(4)
    array([1.   , 0.5  , 0.25 , 0.125])
    """

    cdef readonly str form
    cdef readonly object fs
    cdef object _sos            # (nsec, 6) float64, or None
    cdef object _ss             # (A, B, C, D) float64, or None
    cdef object _poles
    cdef Py_ssize_t _nsec       # sections (sos form)
    cdef Py_ssize_t _order      # state dimension N (ss form)
    cdef bint _is_ss
    cdef double* _co            # sos: nsec x (b0, b1, b2, a1, a2); ss: A, B, C
    cdef double _D
    cdef double* _st            # state: sos (nsec, 2, channels); ss (N, channels)
    cdef Py_ssize_t _st_len
    cdef double* _work          # sos: a float64 piece between passes; ss: (N + 1, channels)
    cdef Py_ssize_t _tail       # tail_frames once computed, else -1

    def __cinit__(self, *args, **kwargs):
        self._tail = -1
        self._co = NULL
        self._st = NULL
        self._work = NULL
        self._st_len = 0

    def __init__(self, system, fs=None):
        form, data, fs = describe(system, fs_arg(fs))
        if form == "ss":
            A, B, C, D = data
            self._configure_ss(A, B, C, D, fs, True)
        else:
            self._configure_sos(data, fs, True)

    def __dealloc__(self):
        aligned_free(self._co)
        aligned_free(self._st)
        aligned_free(self._work)

    # ------------------------------------------------------------------
    # constructors

    @classmethod
    def from_sos(cls, sos, fs=None):
        """Second-order sections ``(n_sections, 6)``, as ``scipy.signal.sosfilt`` takes them.

        Sections whose ``a0`` is not 1 are divided by it.  ``fs`` labels
        frequencies only (see the class docstring).
        """
        cdef LTISystem self = cls.__new__(cls)
        self._configure_sos(normalized_sos(sos), fs_arg(fs), True)
        return self

    @classmethod
    def from_tf(cls, b, a, fs=None):
        """Numerator ``b`` and denominator ``a`` in powers of z^-1, as ``scipy.signal.lfilter`` takes them."""
        cdef LTISystem self = cls.__new__(cls)
        b = real_vector("b", b)
        a = real_vector("a", a)
        fs = fs_arg(fs)
        self._configure_sos(tf_to_sos(b, a), fs, True)
        return self

    @classmethod
    def from_zpk(cls, z, p, k, fs=None):
        """Zeros, poles and gain: the filter ``scipy.signal.zpk2sos(z, p, k)`` describes.

        Complex zeros and poles must come in conjugate pairs (a real system).
        """
        cdef LTISystem self = cls.__new__(cls)
        z = roots_arg("z", z)
        p = roots_arg("p", p)
        kk = finite_float(NAME, "k", k)
        fs = fs_arg(fs)
        self._configure_sos(zpk_to_sos(z, p, kk), fs, True)
        return self

    @classmethod
    def from_ss(cls, A, B, C, D, fs=None):
        """State space ``s[n+1] = A s[n] + B x[n]``, ``y[n] = C s[n] + D x[n]`` (one input, one output)."""
        cdef LTISystem self = cls.__new__(cls)
        A, B, C, D = ss_arrays(A, B, C, D)
        self._configure_ss(A, B, C, D, fs_arg(fs), True)
        return self

    cdef int _configure_sos(self, sos, fs, bint warn) except -1:
        cdef cnp.ndarray co
        self._check_not_streaming()
        sos = np.array(sos, dtype=np.float64, order="C")
        if not np.all(np.isfinite(sos)):
            raise ValueError(f"{NAME}: the system's sections are not finite (NaN or infinity)")
        sos.setflags(write=False)
        co = np.ascontiguousarray(sos[:, [0, 1, 2, 4, 5]])
        aligned_free(self._co)
        self._co = NULL
        self._co = <double*>alloc_frames(self, co.size, 1, sizeof(double))
        memcpy(self._co, cnp.PyArray_DATA(co), co.nbytes)
        self.form = "sos"
        self._sos = sos
        self._ss = None
        self.fs = fs
        self._is_ss = False
        self._nsec = sos.shape[0]
        self._poles = section_poles(sos)
        if warn:
            self._warn_if_unstable()
        return 0

    cdef int _configure_ss(self, A, B, C, double D, fs, bint warn) except -1:
        cdef Py_ssize_t N = A.shape[0]
        self._check_not_streaming()
        cdef cnp.ndarray co = np.ascontiguousarray(np.concatenate([A.ravel(), B, C]), dtype=np.float64)
        aligned_free(self._co)
        self._co = NULL
        self._co = <double*>alloc_frames(self, co.size, 1, sizeof(double))
        if co.nbytes:
            memcpy(self._co, cnp.PyArray_DATA(co), co.nbytes)
        self._D = D
        self._order = N
        self._is_ss = True
        self.form = "ss"
        self._sos = None
        mats = (A.copy(), B.reshape(N, 1).copy(), C.reshape(1, N).copy(), np.array([[D]]))
        for m in mats:
            m.setflags(write=False)
        self._ss = mats
        self.fs = fs
        self._poles = np.linalg.eigvals(A).astype(complex) if N else np.zeros(0, dtype=complex)
        if warn:
            self._warn_if_unstable()
        return 0

    cdef int _check_not_streaming(self) except -1:
        # the state was sized for the system it was prepared with
        if self._ready:
            raise StreamStateError(f"{NAME}: cannot change the system of a block that is "
                                   f"streaming; make a new block")
        return 0

    def _warn_if_unstable(self):
        mags = np.abs(self._poles)
        bad = int(np.count_nonzero(mags >= 1.0))
        if bad:
            warnings.warn(
                f"{NAME}: the system is not stable: {bad} pole{'s' if bad > 1 else ''} on or "
                f"outside the unit circle (largest |p| = {mags.max():.6g}); its output may grow "
                f"without bound", RuntimeWarning, stacklevel=1)

    # ------------------------------------------------------------------
    # block hooks

    cdef int _setup(self, Py_ssize_t channels) except -1:
        cdef Py_ssize_t n
        aligned_free(self._st)
        aligned_free(self._work)
        self._st = NULL
        self._work = NULL
        if self._is_ss:
            self._st = <double*>alloc_frames(self, self._order, channels, sizeof(double))
            self._work = <double*>alloc_frames(self, self._order + 1, channels, sizeof(double))
            n = self._order * channels
        else:
            self._st = <double*>alloc_frames(self, 2 * self._nsec, channels, sizeof(double))
            n = 2 * self._nsec * channels
            if self._nsec > SD_SOS_GROUP:
                self._work = <double*>alloc_frames(self, SD_SOS_WORK, 1, sizeof(double))
        self._st_len = n
        self._out_ch = channels
        return 0

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t N = self._order
        if self._is_ss:
            if self._f32:
                sd_ss_f32(self._co, self._co + N * N, self._co + N * N + N, self._D, N,
                          self._st, self._work, self._in_ch, <const float*>x, <float*>y, frames)
            else:
                sd_ss_f64(self._co, self._co + N * N, self._co + N * N + N, self._D, N,
                          self._st, self._work, self._in_ch, <const double*>x, <double*>y, frames)
        elif self._f32:
            sd_sos_f32(self._co, self._nsec, self._st, self._in_ch,
                       <const float*>x, <float*>y, frames, self._work)
        else:
            sd_sos_f64(self._co, self._nsec, self._st, self._in_ch,
                       <const double*>x, <double*>y, frames, self._work)
        return frames

    cdef void _reset(self) noexcept nogil:
        if self._st != NULL:
            memset(self._st, 0, self._st_len * sizeof(double))

    # ------------------------------------------------------------------
    # properties and analysis

    @property
    def sos(self):
        """The sections, shape (n_sections, 6) with ``a0 = 1`` (a copy), or None for state space."""
        return None if self._sos is None else self._sos.copy()

    @property
    def ss(self):
        """``(A, B, C, D)`` of shapes (N, N), (N, 1), (1, N), (1, 1) (copies), or None for sections."""
        return None if self._ss is None else tuple(m.copy() for m in self._ss)

    @property
    def poles(self):
        """Poles of the system as it runs (complex; a copy)."""
        return self._poles.copy()

    @property
    def stable(self):
        """True when every pole lies strictly inside the unit circle."""
        return bool(np.all(np.abs(self._poles) < 1.0))

    cdef LTISystem _twin(self):
        """A fresh block of the same system (no state, no stream, no warning)."""
        cdef LTISystem t = LTISystem.__new__(LTISystem)
        if self._is_ss:
            A, B, C, D = self._ss
            t._configure_ss(A, B.ravel(), C.ravel(), float(D[0, 0]), self.fs, False)
        else:
            t._configure_sos(self._sos, self.fs, False)
        return t

    @property
    def tail_frames(self):
        """Frames until the impulse response stays below -120 dB of its peak.

        At most ``2**20`` (about 22 s at 48 kHz), which is also the answer
        for a system that does not decay (a pole on or outside the unit
        circle).  Computed once, from the impulse response.
        """
        if self._tail < 0:
            self._tail = decay_frames(self._poles, self.impulse)
        return self._tail

    def impulse(self, n=100):
        """The first ``n`` samples of the impulse response (float64).

        Computed by a fresh copy of the block: the stream's state is not
        touched.  Equals ``scipy.signal.dimpulse`` of the same system.
        """
        n = whole_number(NAME, "n", n)
        x = np.zeros(n)
        if n:
            x[0] = 1.0
        return self._twin().process(x)

    def step(self, n=100):
        """The first ``n`` samples of the step response (float64).

        Computed by a fresh copy of the block: the stream's state is not
        touched.  Equals ``scipy.signal.dstep`` of the same system.
        """
        n = whole_number(NAME, "n", n)
        return self._twin().process(np.ones(n))

    def frequency_response(self, n=512, fs=None, whole=False):
        """Frequency response, as ``scipy.signal.freqz_sos`` / ``freqz`` give it.

        Parameters
        ----------
        n : int, optional
            Number of frequencies, equally spaced from 0 up to (not
            including) Nyquist, or the whole circle with ``whole``.
        fs : float, optional
            Sample rate: frequencies in Hz.  Default: the block's own
            :attr:`fs` if it has one, else frequencies in rad/sample.
        whole : bool, optional
            Whole unit circle instead of 0..Nyquist.

        Returns
        -------
        freqs : ndarray, shape (n,)
        h : ndarray of complex, shape (n,)
        """
        n = whole_number(NAME, "n", n, minimum=1)
        fs = self.fs if fs is None else fs_arg(fs)
        if not self._is_ss:
            kw = {} if fs is None else {"fs": fs}
            return signal.freqz_sos(self._sos, worN=n, whole=bool(whole), **kw)
        A, B, C, D = self._ss
        N = A.shape[0]
        w = np.linspace(0.0, 2 * np.pi if whole else np.pi, n, endpoint=False)
        h = np.full(n, D[0, 0], dtype=complex)
        if N:
            zI = np.exp(1j * w)[:, None, None] * np.eye(N)
            s = np.linalg.solve(zI - A, np.broadcast_to(B, (n, N, 1)))
            h += (C @ s)[:, 0, 0]
        return (w if fs is None else w * fs / (2 * np.pi)), h

    def _config(self):
        data = self._ss if self._is_ss else self._sos
        return _rebuilt, (type(self), data, self.fs), {}

    def _get_state(self):
        return raw(self._st, self._st_len * sizeof(double))

    def _set_state(self, state):
        unraw(self._st, self._st_len * sizeof(double), state, self)

    def _params(self):
        p = {"form": self.form}
        if self._is_ss:
            p["order"] = self._order
        else:
            p["sections"] = self._nsec
        if self.fs is not None:
            p["fs"] = self.fs
        return p


def _rebuilt(cls, data, fs):
    """An LTISystem from its normalized sections or state-space matrices (see LTISystem._config)."""
    cdef LTISystem self = cls.__new__(cls)
    if isinstance(data, tuple):
        A, B, C, D = data
        self._configure_ss(A, B.ravel(), C.ravel(), float(D[0, 0]), fs, False)
    else:
        self._configure_sos(data, fs, False)
    return self
