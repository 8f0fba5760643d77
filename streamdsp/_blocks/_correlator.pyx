"""Correlator: a streaming matched filter, raw or normalised, with threshold events."""

from collections import namedtuple

from libc.math cimport isfinite
from libc.stdint cimport int64_t
from libc.string cimport memcpy, memmove, memset

cimport numpy as cnp
import numpy as np

from streamdsp._core._block cimport Block
from streamdsp._core._history cimport planes_push
from streamdsp._core._snapshot cimport raw, raw_all, unraw, unraw_all
from streamdsp._core._memory cimport alloc_frames, aligned_free
from streamdsp._core._fft cimport (
    fft_plan,
    sd_fft_f32, sd_fft_f32_new, sd_fft_f32_free, sd_fft_f32_forward,
    sd_fft_f64, sd_fft_f64_new, sd_fft_f64_free, sd_fft_f64_forward,
)
from streamdsp._core import _costmodel
from streamdsp._core._validate import choice, coefficients, fft_block_size, finite_float, whole_number

cnp.import_array()

# fir_kernel computes sum_k hr[k] * buf[n + k]: with hr = the template itself
# that is the correlation (the FIR passes its taps reversed).
from streamdsp._core._firkernel cimport SD_FIR_PAD, fir_kernel
from streamdsp._core._types cimport real_t
# the two jobs the block composes, besides its engines
from streamdsp._blocks._corrchunk cimport _corr_fft, _ends_finite, _ingest
from streamdsp._blocks._corrdetect cimport (
    EV_CAP, _consumed, _Detect, _EventQueue, _EventRec, _finish, _pending, _scan,
)
from streamdsp._blocks._corrstats cimport _exact_sums, _norm_lin, _norm_ring, _NormState, _rebase


# Frames per pass of the partitioned engine when normalising (scratch size).
DEF _SUB = 1024
# Output pieces of the direct-only engine.
DEF _DIRECT_CAP = 1024

cdef enum:
    ENG_CHUNK = 0         # overlap-save over each chunk (+ direct pieces)
    ENG_PARTITIONED = 1   # the Convolver: partitions of block_size

# method="auto": templates shorter than AUTO_HYBRID_MIN only use the chunk
# engine (dot products win at any chunk size); up to AUTO_CHUNK_MAX both
# engines are kept and the cheaper one for the chunks seen runs; longer
# templates only use the partitioned engine (the chunk engine's transforms
# would be too large to keep around).
AUTO_HYBRID_MIN = 256
AUTO_CHUNK_MAX = 65536

# The chunk engine ranks its direct pieces against FFT sizes without the
# GIL, so the Correlator's calibration of the cost model is copied into C
# doubles once.
cdef double _NS_DIRECT_PER_TAP = _costmodel.CORRELATOR_NS["direct_per_tap"]
cdef double _NS_DIRECT_FIXED = _costmodel.CORRELATOR_NS["direct_fixed"]

Event = namedtuple("Event", ["index", "lag", "score", "channel"], module="streamdsp")
Event.__doc__ = """A detection of :class:`Correlator`.

index : int
    Absolute sample index (since the start of the stream or the last
    reset) of the peak score: the last sample of the best-matching window.
lag : int
    ``index - (len(template) - 1)``: where the template starts in the input.
score : float
    The peak score (Pearson coefficient when normalised, else the raw
    correlation).
channel : int
"""

cdef class Correlator(Block):
    """Correlator(template, normalize=False, threshold=None, method='auto', block_size=None, distance=None)
--

    Streaming matched filter: cross-correlation of the input with a template.

    Each output sample scores the window of the last ``len(template)``
    input samples against the template: the raw correlation, or with
    ``normalize=True`` the Pearson correlation coefficient.  With
    ``threshold`` the block also reports detections (see :meth:`events`).

    Parameters
    ----------
    template : array_like, shape (m,) or (m, channels)
        The pattern to find: 1-D for every channel, 2-D for one per channel
        (fixes the channel count).
    normalize : bool, optional
        Output the Pearson coefficient of each length-m window with the
        template, in [-1, 1]: 0 where the window is constant and before the
        first full window, NaN where it holds a NaN or Inf sample.  Computed
        from the correlation with the mean-removed template and running sums
        of the window (float64, compensated, recomputed exactly every few
        windows): no per-window recomputation, and stable over hours of input
        with any DC offset.
    threshold : float, optional
        Report a detection for every excursion of the score (normalised or
        raw) to ``>= threshold``: see :meth:`events`.
    method : {"auto", "direct", "fft", "partitioned"}, optional
        ``"direct"``: dot products only (rounds like ``lfilter``).
        ``"fft"``: the *chunk engine* with transforms only -- every chunk is
        correlated by overlap-save transforms sized for it, the template's
        ``m - 1`` samples of history carried.  ``"partitioned"``: a
        zero-latency non-uniformly partitioned :class:`Convolver` of the
        reversed template, whose cost per sample does not depend on the
        chunk size.  ``"auto"`` (default): the chunk engine cuts every chunk
        into pieces and computes each by dot products or by the transform
        size the cost model finds cheapest (its constants: see
        ``streamdsp calibrate --show``; a 4096-frame chunk runs at FFT
        speed, a 1-frame chunk at dot-product speed); for templates of 256
        to 65536 samples the partitioned engine is kept ready too, and the
        block switches to whichever the chunk sizes seen lately make
        cheaper (small live blocks: partitioned; large chunks: chunk
        engine).  A switch hands the last m samples over, so it costs about
        one template length of work, and it is only made once the savings
        have paid for it.  Templates longer than 65536 use
        ``"partitioned"``.
    block_size : int, optional
        Smallest partition of the partitioned engine (a power of two,
        ``8 .. 2**29``; default 256).  Giving it selects ``"partitioned"``
        under ``"auto"``.
    distance : int, optional
        Merge detections whose peaks are fewer than ``distance`` samples
        apart into the one with the highest score (as the ``distance`` of
        ``scipy.signal.find_peaks``): one event per occurrence even where
        the correlation of a band-pass template oscillates around the
        threshold.  Events then come out up to ``distance`` samples late.

    Attributes
    ----------
    template : ndarray
        The template (read-only, float64).
    method : str
        ``"auto"``, ``"direct"``, ``"fft"`` or ``"partitioned"`` (as given,
        or as ``"auto"`` resolved for a long template or a ``block_size``).
    engine : str
        The engine running now: ``"chunk"`` or ``"partitioned"``.
    dropped_events : int
        Detections lost because the queue was full (4096 events); drain it
        with :meth:`events` often enough.

    Notes
    -----
    Latency: 0 (every engine; the partitioned one computes its first
    partition directly).  Offline equivalent, per channel::

        scipy.signal.correlate(x, template, mode="full")[:len(x)]

    that is ``y[t] = sum_k template[k] * x[t - m + 1 + k]``: the peak comes
    at the *last* sample of the occurrence, ``t = start + m - 1``.
    Normalised: ``y[t] = pearsonr(x[t-m+1 : t+1], template)`` for
    ``t >= m - 1`` (0 for a constant window), 0 before.  The frequency
    response is that of the reversed template (the filter the raw
    correlation applies).  The transforms of the chunk engine follow the
    chunks, so two splits of a stream agree to FFT rounding (float32: about
    1e-6 of the peak), not bit for bit; ``"direct"`` and ``"partitioned"``
    are split-exact.  The normalised score is as accurate as its window is
    well conditioned: for windows whose spread is tiny next to their values
    (a 2-sample template on noisy data, say) expect errors of
    ``eps * sum(u**2) / sum((u - mean)**2)``.

    Non-finite input: a NaN or Inf sample spoils exactly the ``m`` windows
    that hold it, in every engine (normalised score NaN; raw score NaN or
    +-Inf), and the scores are exact again from the first window free of
    it.  The running sums leave such samples out and count them, instead
    of carrying a NaN for good; a transform that saw one (it smears it over
    all its outputs) is redone by dot products.  A NaN score is below any
    threshold: it ends an excursion.

    Detections: each excursion of the score to ``>= threshold`` gives one
    event, at its highest score (the first such sample on ties), reported
    once the score falls back below the threshold -- or by ``flush()`` if
    the stream ends while it is above.  With ``distance``, an event is held
    until no peak within ``distance`` samples of it can come, and absorbs
    the weaker ones in that range (chained: each comparison is with the
    event kept so far).  ``reset()`` forgets an excursion in progress and a
    held event, but not the events already queued.

    Examples
    --------
    >>> import numpy as np, scipy.signal, streamdsp as sd
    >>> rng = np.random.default_rng(0)
    >>> template = rng.standard_normal(64)
    >>> x = 0.5 * rng.standard_normal(4000)
    >>> x[1000:1064] += template
    >>> c = sd.Correlator(template, normalize=True, threshold=0.6)
    >>> y = np.concatenate([c.process(part) for part in np.array_split(x, 9)])
    >>> [(e.lag, e.channel) for e in c.events()]
    [(1000, 0)]
    >>> raw = sd.Correlator(template).process(x)
    >>> np.allclose(raw, scipy.signal.correlate(x, template)[:4000])
    True
    """

    Event = Event

    cdef readonly object template
    cdef readonly bint normalize
    cdef readonly object threshold
    cdef readonly str method
    cdef readonly Py_ssize_t block_size
    cdef Py_ssize_t _m
    cdef bint _shared
    cdef int _engine
    cdef bint _hybrid           # auto: both engines, switched by cost
    cdef double _credit         # ns the other engine would have saved lately
    cdef double _part_ns        # partitioned engine: estimated ns per sample
    cdef double _switch_ns      # estimated cost of a switch
    cdef bint _use_fft          # chunk engine: FFT sizes planned
    cdef bint _force_fft        # chunk engine: never direct pieces
    cdef bint _use_direct       # chunk engine: direct pieces allowed
    # chunk engine
    cdef Py_ssize_t _nfft
    cdef Py_ssize_t _fft_n[8]
    cdef double _fft_cost[8]
    cdef void* _plans[8]
    cdef bint _plans_f32
    cdef void* _spec[8]         # per size: [set] x (re[N/2], im[N/2]) of the reversed template / N
    cdef void* _coef            # [set] x m: the template (mean removed when normalising)
    cdef void* _lin             # per channel: _A spare, 1 + m - 1 history, _cap new, pad
    cdef Py_ssize_t _lin_len
    cdef Py_ssize_t _A          # elements before lin (64 bytes; lin[-1] lives there)
    cdef Py_ssize_t _cap        # most new samples per piece
    cdef void* _X
    cdef void* _acc
    cdef void* _T
    # partitioned engine
    cdef Block _conv
    cdef void* _scratch         # _SUB frames of u = x - off
    cdef void* _discard         # _SUB frames of output thrown away (switching engines)
    cdef void* _ring            # per channel: the window's m samples of u
    cdef Py_ssize_t _rpos
    cdef double* _suf           # per set: suf[j] = sum of the last j samples of the centred template
    cdef double* _reb_d         # per channel: how far the offset moved at the last rebase
    cdef int64_t _reb_t         # ... and when
    # normalisation
    cdef _NormState* _st
    cdef double* _hn            # per set
    cdef bint _started
    cdef int64_t _since         # samples since the sums were last recomputed
    cdef int64_t _recompute     # ... how often they are
    cdef int64_t _t             # absolute index of the next output
    # detection
    cdef bint _detect
    cdef double _thr
    cdef _Detect* _det
    cdef int64_t _distance
    cdef _EventQueue _q

    def __cinit__(self, *args, **kwargs):
        cdef int i
        for i in range(8):
            self._plans[i] = NULL
            self._spec[i] = NULL
        self._nfft = 0
        self._coef = self._lin = self._X = self._acc = self._T = NULL
        self._scratch = self._ring = self._discard = NULL
        self._suf = self._reb_d = NULL
        self._st = NULL
        self._hn = NULL
        self._det = NULL
        self._q.evs = NULL
        self._q.head = self._q.tail = 0
        self._q.dropped = 0

    def __init__(self, template, normalize=False, threshold=None, method="auto", block_size=None,
                 distance=None):
        h = coefficients("Correlator", "template", template)
        choice("Correlator", "method", method, ("auto", "direct", "fft", "partitioned"))
        if not isinstance(normalize, (bool, np.bool_)):
            raise TypeError(f"Correlator: expected normalize to be True or False, got {normalize!r}")
        if block_size is not None:
            block_size = fft_block_size("Correlator", "block_size", block_size)
            if method == "auto":
                method = "partitioned"
            elif method != "partitioned":
                raise ValueError(f"Correlator: block_size applies to method='partitioned', "
                                 f"got method={method!r}")
        self._m = h.shape[0]
        if method == "auto" and self._m > AUTO_CHUNK_MAX:
            method = "partitioned"
        self.method = method
        self._hybrid = method == "auto" and self._m >= AUTO_HYBRID_MIN
        self.block_size = (block_size or 256) if method == "partitioned" or self._hybrid else 0
        self._engine = ENG_PARTITIONED if method == "partitioned" else ENG_CHUNK
        self._use_fft = method in ("auto", "fft")
        self._force_fft = method == "fft"
        self._use_direct = method in ("auto", "direct")
        self._shared = h.ndim == 1
        if not self._shared:
            self._in_ch = h.shape[1]
        self.normalize = bool(normalize)
        if self.normalize:
            cols = h.reshape(self._m, -1)
            flat = np.ptp(cols, axis=0) == 0
            if np.any(flat):
                raise ValueError(f"Correlator: expected a template that is not constant with "
                                 f"normalize=True (the Pearson coefficient is undefined), got a "
                                 f"constant {'template' if self._shared else 'column ' + str(int(np.argmax(flat)))}")
        self.threshold = None
        self._detect = threshold is not None
        if self._detect:
            self._thr = finite_float("Correlator", "threshold", threshold)
            self.threshold = self._thr
        self._distance = 0
        if distance is not None:
            if not self._detect:
                raise ValueError("Correlator: distance applies to detections; give a threshold too")
            self._distance = whole_number("Correlator", "distance", distance, minimum=1)
        if self._detect and self._q.evs == NULL:
            self._q.evs = <_EventRec*>alloc_frames(self, EV_CAP, 1, sizeof(_EventRec))
        # every engine computes the head without delay
        self._latency = 0
        h.setflags(write=False)
        self.template = h
        self._recompute = max(4 * self._m, 16384)

    def __dealloc__(self):
        self._free()
        aligned_free(self._q.evs)

    cdef void _free(self) noexcept:
        cdef int i
        for i in range(self._nfft):
            if self._plans[i] != NULL:
                if self._plans_f32:
                    sd_fft_f32_free(<sd_fft_f32*>self._plans[i])
                else:
                    sd_fft_f64_free(<sd_fft_f64*>self._plans[i])
            self._plans[i] = NULL
            aligned_free(self._spec[i])
            self._spec[i] = NULL
        self._nfft = 0
        aligned_free(self._coef)
        aligned_free(self._lin)
        aligned_free(self._X)
        aligned_free(self._acc)
        aligned_free(self._T)
        aligned_free(self._scratch)
        aligned_free(self._discard)
        aligned_free(self._ring)
        aligned_free(self._suf)
        aligned_free(self._reb_d)
        aligned_free(self._st)
        aligned_free(self._hn)
        aligned_free(self._det)
        self._coef = self._lin = self._X = self._acc = self._T = NULL
        self._scratch = self._ring = self._discard = NULL
        self._suf = self._reb_d = NULL
        self._st = NULL
        self._hn = NULL
        self._det = NULL
        self._conv = None

    # ------------------------------------------------------------------
    cdef int _setup(self, Py_ssize_t channels) except -1:
        cdef Py_ssize_t m = self._m, isz = 4 if self._f32 else 8
        cdef Py_ssize_t nsets = 1 if self._shared else channels
        cdef Py_ssize_t N, j, s, nmax
        cdef cnp.ndarray seg, re, im
        cdef char* spec
        self._free()
        self._out_ch = channels
        dt = np.float32 if self._f32 else np.float64
        cols = self.template.reshape(m, -1).astype(np.float64)
        if self.normalize:
            cols = cols - cols.mean(axis=0)
            hn = np.sqrt(np.sum(cols * cols, axis=0))
            self._hn = <double*>alloc_frames(self, 1, nsets, sizeof(double))
            for s in range(nsets):
                self._hn[s] = hn[s]
            self._st = <_NormState*>alloc_frames(self, 1, channels, sizeof(_NormState))
        if self._detect:
            self._det = <_Detect*>alloc_frames(self, 1, channels, sizeof(_Detect))
        if self._engine == ENG_PARTITIONED or self._hybrid:
            self._setup_partitioned(channels, cols)
            if not self._hybrid:
                self._reset()
                return 0
        # chunk engine: template (for direct pieces), FFT sizes, linear buffers
        coef = np.ascontiguousarray(cols.T, dtype=dt)        # [set] x m
        self._coef = alloc_frames(self, coef.size, 1, coef.itemsize)
        memcpy(self._coef, cnp.PyArray_DATA(coef), coef.nbytes)
        self._A = 64 // isz
        if self._use_fft:
            N = 16
            while N < 2 * m:
                N *= 2
            nmax = max(N, 16384)
            while N <= 8 * max(2 * m, 16) and N <= nmax and self._nfft < 8:
                self._fft_n[self._nfft] = N
                self._fft_cost[self._nfft] = _costmodel.correlator_block_ns(N)
                self._nfft += 1
                N *= 2
            nmax = self._fft_n[self._nfft - 1]
            self._cap = nmax - (m - 1)
            self._plans_f32 = self._f32
            for j in range(self._nfft):
                N = self._fft_n[j]
                self._plans[j] = fft_plan(self, N, self._f32)
                self._spec[j] = alloc_frames(self, N, nsets, isz)
                spec = <char*>self._spec[j]
                for s in range(nsets):
                    seg = np.zeros(N, dtype=dt)
                    seg[:m] = cols[::-1, s] / N
                    re = np.empty(N // 2, dtype=dt)
                    im = np.empty(N // 2, dtype=dt)
                    if self._f32:
                        sd_fft_f32_forward(<sd_fft_f32*>self._plans[j], <const float*>cnp.PyArray_DATA(seg),
                                           <float*>cnp.PyArray_DATA(re), <float*>cnp.PyArray_DATA(im))
                    else:
                        sd_fft_f64_forward(<sd_fft_f64*>self._plans[j], <const double*>cnp.PyArray_DATA(seg),
                                           <double*>cnp.PyArray_DATA(re), <double*>cnp.PyArray_DATA(im))
                    memcpy(spec + s * N * isz, cnp.PyArray_DATA(re), (N // 2) * isz)
                    memcpy(spec + (s * N + N // 2) * isz, cnp.PyArray_DATA(im), (N // 2) * isz)
            self._X = alloc_frames(self, nmax, 1, isz)
            self._acc = alloc_frames(self, nmax, 1, isz)
            self._T = alloc_frames(self, nmax, 1, isz)
        else:
            self._cap = _DIRECT_CAP
        # lin[-1] is the sample leaving the window; lin[0 : m-1] the history
        self._lin_len = self._A + m - 1 + self._cap + SD_FIR_PAD
        self._lin_len = (self._lin_len + self._A - 1) // self._A * self._A
        self._lin = alloc_frames(self, self._lin_len, channels, isz)
        self._reset()
        return 0

    cdef int _setup_partitioned(self, Py_ssize_t channels, object cols) except -1:
        cdef Py_ssize_t m = self._m, isz = 4 if self._f32 else 8
        cdef Py_ssize_t nsets = 1 if self._shared else channels, s, j
        from streamdsp._blocks._convolver import Convolver
        ir = np.ascontiguousarray(cols[::-1] if not self._shared else cols[::-1, 0])
        self._conv = Convolver(ir, block_size=self.block_size)
        self._conv._prepare(channels, self._dtype)
        # its cost per sample, for the hybrid's choice
        ns = _costmodel.correlator_partitioned_ns(self._conv.plan, self.block_size, m)
        self._part_ns = ns
        self._switch_ns = m * (ns + 2.0)
        if self.normalize or self._hybrid:
            self._scratch = alloc_frames(self, _SUB, channels, isz)
            self._ring = alloc_frames(self, m, channels, isz)
        if self._hybrid:
            self._discard = alloc_frames(self, _SUB, channels, isz)
        if self.normalize:
            self._reb_d = <double*>alloc_frames(self, 1, channels, sizeof(double))
            self._suf = <double*>alloc_frames(self, m + 1, nsets, sizeof(double))
            for s in range(nsets):
                suf = np.concatenate([[0.0], np.cumsum(cols[::-1, s])])
                for j in range(m + 1):
                    self._suf[s * (m + 1) + j] = suf[j]
        return 0

    cdef void _reset(self) noexcept nogil:
        cdef Py_ssize_t c, isz = 4 if self._f32 else 8
        cdef Py_ssize_t ch = self._in_ch
        self._t = 0
        self._since = 0
        self._started = False
        self._rpos = 0
        self._reb_t = 0
        self._credit = 0.0
        if self._hybrid:
            self._engine = ENG_CHUNK
        if self._reb_d != NULL:
            memset(self._reb_d, 0, ch * sizeof(double))
        if self._conv is not None:
            self._conv._reset()
        if self._lin != NULL:
            memset(self._lin, 0, ch * self._lin_len * isz)
        if self._ring != NULL:
            memset(self._ring, 0, ch * self._m * isz)
        if self._st != NULL:
            for c in range(ch):
                self._st[c].s1 = self._st[c].c1 = self._st[c].s2 = self._st[c].c2 = 0.0
                self._st[c].nbad = 0
                self._st[c].reanchor = 0
                self._st[c].prev = 0.0
                self._st[c].run = 0
                self._st[c].off = 0.0
                self._st[c].hn = self._hn[0 if self._shared else c]
        if self._det != NULL:
            memset(self._det, 0, ch * sizeof(_Detect))

    # ------------------------------------------------------------------
    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t c, ch = self._in_ch
        cdef double x0
        if frames <= 0:
            return 0
        if self.normalize and not self._started:
            # u = x - (first sample): keeps a DC offset out of the float32
            # correlation; the zeros of the empty history stand for it.  A
            # non-finite first sample would make every u NaN: offset 0 then.
            for c in range(ch):
                x0 = (<const float*>x)[c] if self._f32 else (<const double*>x)[c]
                self._st[c].off = x0 if isfinite(x0) else 0.0
                self._st[c].prev = self._st[c].off
                self._st[c].run = 0
            self._started = True
        if self._hybrid:
            self._pick(frames)
        if self._engine == ENG_PARTITIONED:
            self._run_partitioned(x, y, frames)
        else:
            self._run_chunk(x, y, frames)
        return frames

    # ------------------------------------------------------------------
    # the hybrid: run whichever engine is cheaper for the chunks seen lately
    cdef double _chunk_cost(self, Py_ssize_t frames) noexcept nogil:
        """Estimated ns of the chunk engine for `frames` (the pieces it would cut)."""
        cdef Py_ssize_t L
        cdef int j
        cdef double ns = 0.0
        while frames > 0:
            ns += self._choose(frames, &L, &j)
            frames -= L
        return ns

    cdef void _pick(self, Py_ssize_t frames) noexcept nogil:
        """Switch engines once the other one would have saved more than a switch costs
        (ski rental: never more than twice the cost of the better choice)."""
        cdef double chunk = self._chunk_cost(frames), part = self._part_ns * frames
        cdef double gain = (chunk - part) if self._engine == ENG_CHUNK else (part - chunk)
        if self._t == 0:      # both engines are still empty: switching is free
            if gain > 0:
                self._engine = ENG_PARTITIONED if self._engine == ENG_CHUNK else ENG_CHUNK
            self._credit = 0.0
            return
        self._credit += gain
        if self._credit < 0.0:
            self._credit = 0.0
        if self._credit > self._switch_ns:
            if self._engine == ENG_CHUNK:
                self._to_partitioned()
            else:
                self._to_chunk()
            self._credit = 0.0

    cdef void _to_chunk(self) noexcept nogil:
        """The ring's window becomes the chunk engine's history."""
        cdef Py_ssize_t c, k, p, m = self._m, isz = 4 if self._f32 else 8
        cdef char* lin
        cdef char* ring
        for c in range(self._in_ch):
            lin = <char*>self._lin + (c * self._lin_len + self._A - 1) * isz
            ring = <char*>self._ring + c * m * isz
            p = self._rpos
            memcpy(lin, ring + p * isz, (m - p) * isz)
            memcpy(lin + (m - p) * isz, ring, p * isz)
        self._engine = ENG_CHUNK

    cdef void _to_partitioned(self) noexcept nogil:
        """The chunk engine's history goes into the ring and, through a reset
        convolver, into its delay lines (its outputs are thrown away)."""
        cdef Py_ssize_t c, i, m = self._m, ch = self._in_ch, isz = 4 if self._f32 else 8
        cdef Py_ssize_t done = 0, L
        cdef char* lin
        for c in range(ch):
            lin = <char*>self._lin + (c * self._lin_len + self._A - 1) * isz
            memcpy(<char*>self._ring + c * m * isz, lin, m * isz)
        self._rpos = 0
        self._conv._reset()
        while done < m - 1:
            L = m - 1 - done
            if L > _SUB:
                L = _SUB
            for c in range(ch):
                lin = <char*>self._lin + (c * self._lin_len + self._A + done) * isz
                if self._f32:
                    for i in range(L):
                        (<float*>self._scratch)[i * ch + c] = (<float*>lin)[i]
                else:
                    for i in range(L):
                        (<double*>self._scratch)[i * ch + c] = (<double*>lin)[i]
            self._conv._run(self._scratch, self._discard, L)
            done += L
        if self._reb_d != NULL:
            memset(self._reb_d, 0, ch * sizeof(double))
        self._engine = ENG_PARTITIONED

    cdef double _choose(self, Py_ssize_t r, Py_ssize_t* L, int* j) noexcept nogil:
        """The piece to compute next: L outputs by FFT size j (-1: direct); its cost."""
        cdef Py_ssize_t m = self._m, Lk, k, blocks
        cdef double best = 1e300, cost
        j[0] = -1
        L[0] = r if r < self._cap else self._cap
        if self._use_direct:
            blocks = (L[0] + 63) // 64
            best = (_NS_DIRECT_FIXED + _NS_DIRECT_PER_TAP * m * 64 * blocks) / L[0]
        for k in range(self._nfft):
            Lk = self._fft_n[k] - (m - 1)
            if Lk > r:
                Lk = r
            cost = self._fft_cost[k] / Lk
            if cost < best:
                best = cost
                j[0] = <int>k
                L[0] = Lk
            if Lk == r:
                break     # larger sizes would cost more for the same outputs
        return best * L[0]

    cdef void _run_chunk(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t ch = self._in_ch, m = self._m, isz = 4 if self._f32 else 8
        cdef Py_ssize_t done = 0, L, c, N = 0, set_
        cdef int j
        cdef char* lin
        cdef const char* xc
        cdef char* yc
        cdef const char* H = NULL
        cdef const char* coef
        cdef void* plan = NULL
        cdef double off
        cdef _NormState* st
        while done < frames:
            self._choose(frames - done, &L, &j)
            if j >= 0:
                N = self._fft_n[j]
                plan = self._plans[j]
            if self.normalize and self._since >= self._recompute:
                for c in range(ch):
                    lin = <char*>self._lin + (c * self._lin_len + self._A - 1) * isz
                    if self._f32:
                        _rebase(<float*>lin, m, &self._st[c])
                    else:
                        _rebase(<double*>lin, m, &self._st[c])
                self._since = 0
            for c in range(ch):
                set_ = 0 if self._shared else c
                lin = <char*>self._lin + (c * self._lin_len + self._A) * isz
                if self.normalize and self._st[c].reanchor:
                    # a NaN/Inf has left the window: sums from its samples
                    self._st[c].reanchor = 0
                    if self._f32:
                        _exact_sums(<float*>lin - 1, m, &self._st[c])
                    else:
                        _exact_sums(<double*>lin - 1, m, &self._st[c])
                xc = <const char*>x + (done * ch + c) * isz
                yc = <char*>y + (done * ch + c) * isz
                coef = <const char*>self._coef + set_ * m * isz
                if j >= 0:
                    H = <const char*>self._spec[j] + set_ * N * isz
                off = self._st[c].off if self.normalize else 0.0
                if self._f32:
                    _ingest(<float*>lin + m - 1, <const float*>xc, ch, L, off)
                    if j >= 0:
                        _corr_fft(<float*>lin, m, L, N, plan, <const float*>H, <float*>self._X,
                                  <float*>self._acc, <float*>self._T, <float*>yc, ch)
                    if j < 0 or not _ends_finite(<const float*>yc, L, ch):
                        fir_kernel(<const float*>coef, m, <const float*>lin, L, <float*>yc, ch)
                    if self.normalize:
                        _norm_lin(<const float*>lin, m, <const float*>xc, ch, <float*>yc, L,
                                  &self._st[c], self._t)
                else:
                    _ingest(<double*>lin + m - 1, <const double*>xc, ch, L, off)
                    if j >= 0:
                        _corr_fft(<double*>lin, m, L, N, plan, <const double*>H, <double*>self._X,
                                  <double*>self._acc, <double*>self._T, <double*>yc, ch)
                    if j < 0 or not _ends_finite(<const double*>yc, L, ch):
                        fir_kernel(<const double*>coef, m, <const double*>lin, L, <double*>yc, ch)
                    if self.normalize:
                        _norm_lin(<const double*>lin, m, <const double*>xc, ch, <double*>yc, L,
                                  &self._st[c], self._t)
                if self._detect:
                    _scan(&self._q, &self._det[c], self._thr, self._distance, self._f32,
                          yc, ch, L, self._t, c)
                # keep the last m samples (m - 1 of history and the one leaving next)
                memmove(lin - isz, lin + (L - 1) * isz, m * isz)
            self._t += L
            self._since += L
            done += L

    cdef void _run_partitioned(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        cdef Py_ssize_t ch = self._in_ch, m = self._m, isz = 4 if self._f32 else 8
        cdef Py_ssize_t done = 0, L, c, i, pos = 0
        cdef const char* xc
        cdef char* yc
        cdef char* ring
        cdef const double* suf
        cdef double off
        if not self.normalize:
            self._conv._run(x, y, frames)
            if self._ring != NULL:
                self._keep_window(x, frames)
            if self._detect:
                for c in range(ch):
                    _scan(&self._q, &self._det[c], self._thr, self._distance, self._f32,
                          <char*>y + c * isz, ch, frames, self._t, c)
            self._t += frames
            return
        while done < frames:
            L = frames - done
            if L > _SUB:
                L = _SUB
            if self._since >= self._recompute:
                # the ring holds the window (in any order): rebase it, and
                # correct the convolver's outputs that still see the old offset
                for c in range(ch):
                    ring = <char*>self._ring + c * m * isz
                    off = self._st[c].off
                    if self._f32:
                        _rebase(<float*>ring, m, &self._st[c])
                    else:
                        _rebase(<double*>ring, m, &self._st[c])
                    self._reb_d[c] = self._st[c].off - off
                self._reb_t = self._t
                self._since = 0
            for c in range(ch):
                xc = <const char*>x + (done * ch + c) * isz
                if self._st[c].reanchor:
                    # a NaN/Inf has left the window: sums from its samples
                    self._st[c].reanchor = 0
                    ring = <char*>self._ring + c * m * isz
                    if self._f32:
                        _exact_sums(<float*>ring, m, &self._st[c])
                    else:
                        _exact_sums(<double*>ring, m, &self._st[c])
                if self._f32:
                    for i in range(L):
                        (<float*>self._scratch)[i * ch + c] = (<const float*>xc)[i * ch] - <float>self._st[c].off
                else:
                    for i in range(L):
                        (<double*>self._scratch)[i * ch + c] = (<const double*>xc)[i * ch] - self._st[c].off
            yc = <char*>y + done * ch * isz
            self._conv._run(self._scratch, yc, L)
            for c in range(ch):
                xc = <const char*>x + (done * ch + c) * isz
                ring = <char*>self._ring + c * m * isz
                suf = self._suf + (0 if self._shared else c) * (m + 1)
                if self._f32:
                    pos = _norm_ring(<float*>ring, self._rpos, m, <const float*>self._scratch + c,
                                     <const float*>xc, ch, <float*>yc + c, L, &self._st[c], self._t,
                                     suf, self._reb_d[c], self._reb_t)
                else:
                    pos = _norm_ring(<double*>ring, self._rpos, m, <const double*>self._scratch + c,
                                     <const double*>xc, ch, <double*>yc + c, L, &self._st[c], self._t,
                                     suf, self._reb_d[c], self._reb_t)
                if self._detect:
                    _scan(&self._q, &self._det[c], self._thr, self._distance, self._f32,
                          yc + c * isz, ch, L, self._t, c)
            self._rpos = pos
            self._t += L
            self._since += L
            done += L

    cdef void _keep_window(self, const void* x, Py_ssize_t frames) noexcept nogil:
        """Raw samples into the ring (the hybrid may hand them to the chunk engine)."""
        if self._f32:
            self._rpos = planes_push(<float*>self._ring, self._m, self._rpos, <const float*>x,
                                     frames, self._in_ch)
        else:
            self._rpos = planes_push(<double*>self._ring, self._m, self._rpos, <const double*>x,
                                     frames, self._in_ch)

    # ------------------------------------------------------------------
    # detection
    cdef Py_ssize_t _flush(self, void* y) noexcept nogil:
        # latency 0: nothing held back but an excursion still above the threshold
        cdef Py_ssize_t c
        if self._det != NULL:
            for c in range(self._in_ch):
                _finish(&self._q, &self._det[c], self._distance, c)
        return 0

    def events(self):
        """Return and clear the detections made so far.

        Returns
        -------
        list of Event
            ``Event(index, lag, score, channel)`` namedtuples in the order
            they were completed (by channel within one chunk).  Empty
            without a ``threshold``.

        Notes
        -----
        Safe to call from another thread than the one running
        :meth:`process` (a single-producer single-consumer queue of 4096
        events; when it is full new events are counted in
        :attr:`dropped_events` instead).
        """
        cdef Py_ssize_t head, tail, k
        cdef _EventRec* e
        cdef Py_ssize_t lag = self._m - 1
        out = []
        if self._q.evs == NULL:
            return out
        head = self._q.head
        tail = _pending(&self._q)
        for k in range(head, tail):
            e = &self._q.evs[k & (EV_CAP - 1)]
            out.append(Event(int(e.index), int(e.index - lag), float(e.score), int(e.channel)))
        _consumed(&self._q, tail)
        return out

    @property
    def distance(self):
        """Samples within which detections are merged, or ``None``."""
        return int(self._distance) or None

    @property
    def dropped_events(self):
        """Detections lost because the event queue (4096) was full."""
        return int(self._q.dropped)

    @property
    def ntaps(self):
        """Length of the template."""
        return self._m

    @property
    def tail_frames(self):
        """``len(template) - 1`` for the raw correlation (``correlate(x, t, "full")``
        has that many frames past the input); 0 with ``normalize=True``, whose
        score of a window reaching past the input would score padding, not signal."""
        return 0 if self.normalize else self._m - 1

    @property
    def engine(self):
        """The engine running now: ``"chunk"`` (dot products and transforms over
        each chunk) or ``"partitioned"`` (the convolver).  ``method="auto"``
        switches between them as the chunk sizes call for."""
        return "partitioned" if self._engine == ENG_PARTITIONED else "chunk"

    def frequency_response(self, n=512, fs=None, whole=False):
        """Frequency response of the matched filter (the reversed template).

        As ``scipy.signal.freqz(template[::-1], 1, worN=n, whole=whole, fs=fs)``,
        one column per channel for a 2-D template.  With ``normalize=True``
        this is still the response of the raw correlation, the linear part
        of the block.

        Returns
        -------
        freqs : ndarray, shape (n,)
        h : ndarray of complex, shape (n,) or (n, channels)
        """
        from streamdsp._core._response import fir_response
        n = whole_number("Correlator", "n", n, minimum=1)
        if fs is not None:
            fs = finite_float("Correlator", "fs", fs)
        return fir_response(self.template[::-1], n, fs, whole)

    # pickling (see Block._config): the history, the running sums, the
    # detector and the events not yet read; the template spectra are rebuilt
    def _config(self):
        return type(self), (self.template,), dict(
            normalize=self.normalize, threshold=self.threshold, method=self.method,
            block_size=self.block_size if self.method == "partitioned" else None,
            distance=self._distance or None)

    def _buffers(self):
        """(address, bytes) of every buffer the stream fills."""
        cdef Py_ssize_t ch = self._in_ch, isz = 4 if self._f32 else 8
        return [(<Py_ssize_t>self._lin, ch * self._lin_len * isz if self._lin != NULL else 0),
                (<Py_ssize_t>self._ring, ch * self._m * isz if self._ring != NULL else 0),
                (<Py_ssize_t>self._reb_d, ch * sizeof(double) if self._reb_d != NULL else 0),
                (<Py_ssize_t>self._st, ch * sizeof(_NormState) if self._st != NULL else 0),
                (<Py_ssize_t>self._det, ch * sizeof(_Detect) if self._det != NULL else 0),
                (<Py_ssize_t>self._q.evs, EV_CAP * sizeof(_EventRec) if self._q.evs != NULL else 0)]

    def _get_state(self):
        return {"buffers": raw_all(self._buffers()),
                "conv": self._conv._get_state() if self._conv is not None else None,
                "counters": (self._t, self._since, self._started, self._rpos, self._reb_t, self._credit,
                             self._engine, self._q.head, self._q.tail, self._q.dropped)}

    def _set_state(self, state):
        unraw_all(self._buffers(), state["buffers"], self)
        if self._conv is not None:
            self._conv._set_state(state["conv"])
        (self._t, self._since, self._started, self._rpos, self._reb_t, self._credit,
         self._engine, self._q.head, self._q.tail, self._q.dropped) = state["counters"]

    def _params(self):
        p = {"ntaps": self._m, "method": self.method}
        if self.normalize:
            p["normalize"] = True
        if self._detect:
            p["threshold"] = self._thr
        if self._distance:
            p["distance"] = self._distance
        return p
