"""Uniformly partitioned overlap-save convolution with a frequency-domain delay line."""

from libc.math cimport log2
from libc.string cimport memcpy, memset

cimport numpy as cnp
import numpy as np

from streamdsp._core._snapshot cimport raw, unraw
from streamdsp._core._memory cimport alloc_frames, frames_of, aligned_free
from streamdsp._core._fft cimport (
    fft_plan,
    sd_fft_f32, sd_fft_f32_new, sd_fft_f32_free, sd_fft_f32_forward, sd_fft_f32_inverse,
    sd_fft_f32_mac_range,
    sd_fft_f64, sd_fft_f64_new, sd_fft_f64_free, sd_fft_f64_forward, sd_fft_f64_inverse,
    sd_fft_f64_mac_range,
)

from streamdsp._core._slicedfft cimport SlicedFFT
from streamdsp._core._validate import MAX_FFT

# Spread levels with FFTs of this many points or more run them sliced (a
# 2**13-point FFT takes ~12 us here, a period's mean at block 64 ~5 us).
SLICE_FROM = 32768

cnp.import_array()


# The transforms and the product of one partition, in either precision: the
# spectra are split (re at X, im at X + P items).

cdef inline void _forward(void* plan, bint f32, Py_ssize_t P, const char* x, char* X) noexcept nogil:
    if f32:
        sd_fft_f32_forward(<sd_fft_f32*>plan, <const float*>x, <float*>X, <float*>X + P)
    else:
        sd_fft_f64_forward(<sd_fft_f64*>plan, <const double*>x, <double*>X, <double*>X + P)


cdef inline void _inverse(void* plan, bint f32, Py_ssize_t P, const char* X, char* x) noexcept nogil:
    if f32:
        sd_fft_f32_inverse(<sd_fft_f32*>plan, <const float*>X, <const float*>X + P, <float*>x)
    else:
        sd_fft_f64_inverse(<sd_fft_f64*>plan, <const double*>X, <const double*>X + P, <double*>x)


cdef inline void _mac(bint f32, Py_ssize_t P, Py_ssize_t lo, Py_ssize_t hi, char* acc,
                      const char* X, const char* H) noexcept nogil:
    if f32:
        sd_fft_f32_mac_range(lo, hi, <float*>acc, <float*>acc + P, <const float*>X,
                             <const float*>X + P, <const float*>H, <const float*>H + P)
    else:
        sd_fft_f64_mac_range(lo, hi, <double*>acc, <double*>acc + P, <const double*>X,
                             <const double*>X + P, <const double*>H, <const double*>H + P)


cdef class PartitionedConvolution:
    """PartitionedConvolution(taps, channels, block_size, f32, slot_offset=0, owner=None, spread=False)
--

    Streaming convolution of every channel with long taps, latency ``block_size``.

    The taps are cut into ``nparts`` partitions of ``P = block_size``
    samples, each transformed once (FFT size 2P).  Every P input samples
    the newest 2P samples are transformed into the frequency-domain delay
    line, multiplied with the partition spectra and accumulated, and one
    inverse transform yields P output samples (overlap-save).

    Parameters
    ----------
    taps : ndarray, float64, shape (ntaps,) or (ntaps, channels)
    channels : int
    block_size : int
        Power of two >= 8.
    f32 : bool
        Compute in float32 (else float64).
    slot_offset : int, optional
        Delay the whole result by this many further blocks (the FDL keeps
        that many more input spectra).  A non-uniformly partitioned
        convolver uses it to place a segment of its filter at its offset.
    owner : Block or str, optional
        Whom errors name (the block this engine runs for); default the
        engine itself.
    spread : bool, optional
        Time-distributed: the forward transform, the products (in slices of
        at most 2048 bins) and the inverse transform of a block run as jobs
        released in proportion to the samples of the following block, and
        its output is emitted one block later, so the engine's work per call
        is about the same on every call instead of all of it landing on the
        call that completes a block.  Needs ``slot_offset >= 1`` (the block
        of delay comes out of it: the result is the same as without).

    Raises
    ------
    ValueError
        ``block_size`` not a power of two in ``8 .. MAX_FFT // 2`` (the FFT
        is ``2 * block_size`` points).
    MemoryError
        The buffers do not fit in the memory left (see ``alloc_frames``).
    """

    def __cinit__(self, *args, **kwargs):
        self._plan = NULL
        self._H = self._fdl = self._inbuf = self._outbuf = self._acc = self._time = NULL
        self._next = NULL
        self._sl = NULL
        self._sliced = None

    def __init__(self, taps, Py_ssize_t channels, Py_ssize_t block_size, bint f32,
                 Py_ssize_t slot_offset=0, owner=None, bint spread=False):
        cdef Py_ssize_t P = block_size, N, isz = 4 if f32 else 8
        cdef Py_ssize_t nsets, s, p, S, L, nr
        cdef cnp.ndarray seg, re, im
        cdef char* H
        if owner is None:
            owner = self
        if P < 8 or P & (P - 1) or P > MAX_FFT // 2:
            who = owner if isinstance(owner, str) else type(owner).__name__
            raise ValueError(f"{who}: expected block_size a power of two in 8 .. {MAX_FFT // 2} "
                             f"(an FFT of 2 * block_size <= {MAX_FFT} points), got {P}")
        if spread and slot_offset < 1:
            raise ValueError(f"PartitionedConvolution: expected slot_offset >= 1 with spread=True "
                             f"(the block of delay the spread work needs), got {slot_offset}")
        N = 2 * P
        taps = np.asarray(taps, dtype=np.float64)
        self.channels = channels
        self.block_size = P
        self.ntaps = taps.shape[0]
        self.nparts = (self.ntaps + P - 1) // P
        self.slot_offset = slot_offset
        self._nslots = self.nparts + slot_offset
        self._f32 = f32
        self._shared = taps.ndim == 1
        nsets = 1 if self._shared else channels
        # the plan's check counts the buffers below too (H, FDL, in/out, acc,
        # time), in Python ints: channels may be absurd (prepare(2**42))
        ch = <object>channels
        self.spread = spread
        self._S = N
        self._m0 = 0
        self._m1 = P
        self._nfj = 1
        if spread and N >= SLICE_FROM:
            # a spectrum in the sliced layout: re[L + 1], im[L + 1], position 0
            # unused so that every product is a plain complex one
            self._sliced = SlicedFFT(N, f32, owner)
            self._sl = <void*>self._sliced
            self._S = 2 * (self._sliced.length + 1)
            self._m0 = 1
            self._m1 = self._sliced.length + 1
            self._nfj = self._sliced.jobs
        S = self._S
        self._plan = fft_plan(owner, N, f32, (nsets * self.nparts + ch * self._nslots + 1) * S
                              + (ch + 1) * N + ch * P + (ch * (N + P) if spread else 0))
        self._inbuf = alloc_frames(owner, 2 * N if spread else N, channels, isz)
        self._H = alloc_frames(owner, frames_of(owner, self.nparts, S), nsets, isz)
        self._fdl = alloc_frames(owner, frames_of(owner, self._nslots, S), channels, isz)
        self._outbuf = alloc_frames(owner, P, channels, isz)
        self._acc = alloc_frames(owner, S, 1, isz)
        self._time = alloc_frames(owner, N, 1, isz)
        if spread:
            self._next = alloc_frames(owner, P, channels, isz)
        # Jobs per channel: the forward transform (_nfj jobs), nparts x nr
        # product slices, the inverse (_nfj jobs).  A transform weighs about
        # 0.55 log2(N) bins of product per bin (measured: FFT 2**17 ~ 10x a
        # product of 2**16 bins, 2**13 ~ 6x); sliced, about 1.6 times that.
        self._range = min(P, 2048)
        nr = (self._m1 - self._m0 + self._range - 1) // self._range
        self._njobs = channels * (2 * self._nfj + self.nparts * nr)
        self._wfft = 0.55 * P * log2(<double>N) * (1.6 if self._nfj > 1 else 1.0) / self._nfj
        self._total = channels * (2 * self._nfj * self._wfft + self.nparts * (self._m1 - self._m0))
        # Partition spectra, with the inverse transform's 1/N folded in.
        cols = taps.reshape(self.ntaps, -1)
        H = <char*>self._H
        memset(H, 0, nsets * self.nparts * S * isz)
        for s in range(nsets):
            for p in range(self.nparts):
                seg = np.zeros(N, dtype=np.float32 if f32 else np.float64)
                part = cols[p * P:(p + 1) * P, s] / N
                seg[:part.shape[0]] = part
                if self._sliced is not None:
                    L = self._sliced.length
                    re, im = self._sliced._forward_all(seg)
                    memcpy(H + ((s * self.nparts + p) * S + 1) * isz, cnp.PyArray_DATA(re), L * isz)
                    memcpy(H + ((s * self.nparts + p) * S + L + 2) * isz, cnp.PyArray_DATA(im),
                           L * isz)
                    continue
                re = np.empty(P, dtype=seg.dtype)
                im = np.empty(P, dtype=seg.dtype)
                if f32:
                    sd_fft_f32_forward(<sd_fft_f32*>self._plan, <const float*>cnp.PyArray_DATA(seg),
                                       <float*>cnp.PyArray_DATA(re), <float*>cnp.PyArray_DATA(im))
                else:
                    sd_fft_f64_forward(<sd_fft_f64*>self._plan, <const double*>cnp.PyArray_DATA(seg),
                                       <double*>cnp.PyArray_DATA(re), <double*>cnp.PyArray_DATA(im))
                memcpy(H + ((s * self.nparts + p) * N) * isz, cnp.PyArray_DATA(re), P * isz)
                memcpy(H + ((s * self.nparts + p) * N + P) * isz, cnp.PyArray_DATA(im), P * isz)
        self.reset()

    def __dealloc__(self):
        if self._plan != NULL:
            if self._f32:
                sd_fft_f32_free(<sd_fft_f32*>self._plan)
            else:
                sd_fft_f64_free(<sd_fft_f64*>self._plan)
        aligned_free(self._H)
        aligned_free(self._fdl)
        aligned_free(self._inbuf)
        aligned_free(self._outbuf)
        aligned_free(self._acc)
        aligned_free(self._time)
        aligned_free(self._next)

    def get_state(self):
        """The stream's state: input spectra (FDL), the recent inputs, the output due, positions.

        The filter spectra are derived from the taps and rebuilt by the
        constructor; the input spectra are kept as they are, so a restored
        engine continues bit for bit.  A spread engine first finishes the
        period's remaining jobs: they read only the previous block and the
        FDL, so running them now gives the very same output, and what is left
        to save is buffers, not a half-done transform.
        """
        cdef Py_ssize_t isz = 4 if self._f32 else 8, N = 2 * self.block_size
        if self.spread:
            self._work(1e300)
        state = {"fdl": raw(self._fdl, self.channels * self._nslots * self._S * isz),
                 "inbuf": raw(self._inbuf, self.channels * (2 * N if self.spread else N) * isz),
                 "outbuf": raw(self._outbuf, self.channels * self.block_size * isz),
                 "pos": self._pos, "head": self._head}
        if self.spread:
            state.update(next=raw(self._next, self.channels * self.block_size * isz),
                         seg=self._seg, pstart=self._pstart)
        return state

    def set_state(self, state):
        """Continue from a state :meth:`get_state` gave (same taps, channels, block size, dtype)."""
        cdef Py_ssize_t isz = 4 if self._f32 else 8, N = 2 * self.block_size
        owner = "PartitionedConvolution"
        if ("next" in state) != bool(self.spread):
            raise ValueError(f"{owner}: expected the state of an engine with spread={self.spread}, "
                             f"got one with spread={not self.spread}")
        unraw(self._fdl, self.channels * self._nslots * self._S * isz, state["fdl"], owner)
        unraw(self._inbuf, self.channels * (2 * N if self.spread else N) * isz, state["inbuf"], owner)
        unraw(self._outbuf, self.channels * self.block_size * isz, state["outbuf"], owner)
        self._pos = state["pos"]
        self._head = state["head"]
        if self.spread:
            unraw(self._next, self.channels * self.block_size * isz, state["next"], owner)
            self._seg = state["seg"]
            self._pstart = state["pstart"]
            self._job = self._njobs         # the period's jobs were run by get_state
            self._done = self._total

    cdef void reset(self) noexcept nogil:
        cdef Py_ssize_t isz = 4 if self._f32 else 8, N = 2 * self.block_size
        memset(self._fdl, 0, self.channels * self._nslots * self._S * isz)
        memset(self._inbuf, 0, self.channels * (2 * N if self.spread else N) * isz)
        memset(self._outbuf, 0, self.channels * self.block_size * isz)
        if self.spread:
            memset(self._next, 0, self.channels * self.block_size * isz)
        self._pos = 0
        self._head = 0
        # the first period works on the zero block: harmless, and keeps the
        # steady state free of a "nothing pending" case
        self._job = 0
        self._done = 0.0
        self._seg = 1
        self._pstart = 2 * self.block_size     # zeros that block 1 does not overwrite

    cdef Py_ssize_t run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        """Feed `frames` interleaved frames, write as many (lagging by P)."""
        return self._run(x, y, frames, False)

    cdef Py_ssize_t run_add(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil:
        """As run, but add the output to what y holds."""
        return self._run(x, y, frames, True)

    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames, bint add) noexcept nogil:
        cdef Py_ssize_t P = self.block_size, ch = self.channels, done = 0, m, c, i, inoff, mirror
        cdef const float* xf
        cdef float* yf
        cdef float* inf
        cdef float* outf
        cdef const double* xd
        cdef double* yd
        cdef double* ind
        cdef double* outd
        while done < frames:
            m = P - self._pos
            if m > frames - done:
                m = frames - done
            # where this block's samples go (spread: its block of the ring, and
            # block 0 once more after block 2)
            inoff = P + self._pos
            mirror = 0
            if self.spread:
                inoff = self._seg * P + self._pos
                mirror = 3 * P if self._seg == 0 else 0
            for c in range(ch):
                if self._f32:
                    xf = <const float*>x + done * ch + c
                    yf = <float*>y + done * ch + c
                    inf = <float*>self._inbuf + c * (4 * P if self.spread else 2 * P) + inoff
                    outf = <float*>self._outbuf + c * P + self._pos
                    for i in range(m):
                        inf[i] = xf[i * ch]
                    if mirror:
                        for i in range(m):
                            inf[mirror + i] = xf[i * ch]
                    if add:
                        for i in range(m):
                            yf[i * ch] += outf[i]
                    else:
                        for i in range(m):
                            yf[i * ch] = outf[i]
                else:
                    xd = <const double*>x + done * ch + c
                    yd = <double*>y + done * ch + c
                    ind = <double*>self._inbuf + c * (4 * P if self.spread else 2 * P) + inoff
                    outd = <double*>self._outbuf + c * P + self._pos
                    for i in range(m):
                        ind[i] = xd[i * ch]
                    if mirror:
                        for i in range(m):
                            ind[mirror + i] = xd[i * ch]
                    if add:
                        for i in range(m):
                            yd[i * ch] += outd[i]
                    else:
                        for i in range(m):
                            yd[i * ch] = outd[i]
            self._pos += m
            done += m
            if self.spread:
                if self._pos == P:
                    self._work(1e300)       # whatever is left, before the swap
                    self._turn()
                    self._pos = 0
                else:
                    self._work(self._total * self._pos / P)
            elif self._pos == P:
                self._block()
                self._pos = 0
        return frames

    cdef void _turn(self) noexcept nogil:
        """Spread mode, a block is in and the last one's jobs are done: swap them."""
        cdef void* t = self._outbuf
        self._outbuf = self._next
        self._next = t
        # the jobs transform the block just filled with the one before it
        self._pstart = (self._seg + 2) % 3 * self.block_size
        self._seg = (self._seg + 1) % 3
        self._head = self._head + 1
        if self._head == self._nslots:
            self._head = 0
        self._job = 0
        self._done = 0.0

    cdef void _work(self, double upto) noexcept nogil:
        """Run the jobs due once `upto` of the period's weight has come in.

        A job runs once the input has passed its midpoint: transforms, the
        heavy jobs, then fall at different calls for levels of different
        sizes instead of all on the call that starts the period.
        """
        cdef Py_ssize_t J = self._njobs // self.channels, k, nr, lo
        cdef double w
        nr = (self._m1 - self._m0 + self._range - 1) // self._range
        while self._job < self._njobs:
            k = self._job % J
            if k < self._nfj or k >= J - self._nfj:
                w = self._wfft
            else:
                # a product slice weighs its bins (the last one of a partition may be short)
                lo = ((k - self._nfj) % nr) * self._range
                w = <double>min(self._range, self._m1 - self._m0 - lo)
            if self._done + 0.5 * w > upto:
                break
            self._job_run(self._job)
            self._job += 1
            self._done += w

    cdef void _job_run(self, Py_ssize_t j) noexcept nogil:
        cdef Py_ssize_t P = self.block_size, N = 2 * P, isz = 4 if self._f32 else 8, S = self._S
        cdef Py_ssize_t nf = self._nfj, nr = (self._m1 - self._m0 + self._range - 1) // self._range
        cdef Py_ssize_t J = 2 * nf + self.nparts * nr
        cdef Py_ssize_t c = j // J, k = j % J, p, lo, hi, slot, h = S // 2
        cdef char* fdl = <char*>self._fdl + c * self._nslots * S * isz
        cdef char* H = <char*>self._H + (0 if self._shared else c) * self.nparts * S * isz
        cdef char* pend = <char*>self._inbuf + (c * 2 * N + self._pstart) * isz
        cdef char* acc = <char*>self._acc
        cdef char* X = fdl + self._head * S * isz
        cdef char* Hp
        if k < nf:
            if k == 0:
                memset(acc, 0, S * isz)
            if nf == 1:
                _forward(self._plan, self._f32, P, pend, X)
            else:
                (<SlicedFFT>self._sl).forward(pend, X + isz, X + (h + 1) * isz, k)
        elif k >= J - nf:
            if nf == 1:
                _inverse(self._plan, self._f32, P, acc, <char*>self._time)
                memcpy(<char*>self._next + c * P * isz, <char*>self._time + P * isz, P * isz)
            else:
                (<SlicedFFT>self._sl).inverse_tail(acc + isz, acc + (h + 1) * isz,
                                                   <char*>self._next + c * P * isz, k - (J - nf))
        else:
            p = (k - nf) // nr
            lo = self._m0 + ((k - nf) % nr) * self._range
            hi = min(lo + self._range, self._m1)
            # one block of the offset is the spread delay itself
            slot = (self._head - (self.slot_offset - 1) - p) % self._nslots
            if slot < 0:
                slot += self._nslots
            X = fdl + slot * S * isz
            Hp = H + p * S * isz
            _mac(self._f32, h, lo, hi, acc, X, Hp)

    cdef void _block(self) noexcept nogil:
        """A full block is in: transform it, multiply-accumulate, emit P samples."""
        cdef Py_ssize_t P = self.block_size, N = 2 * P, isz = 4 if self._f32 else 8
        cdef Py_ssize_t c, p, slot, hset
        cdef char* fdl
        cdef char* H
        cdef char* inb
        cdef char* acc = <char*>self._acc
        cdef char* X
        cdef char* Hp
        self._head = self._head + 1
        if self._head == self._nslots:
            self._head = 0
        for c in range(self.channels):
            fdl = <char*>self._fdl + c * self._nslots * N * isz
            hset = 0 if self._shared else c
            H = <char*>self._H + hset * self.nparts * N * isz
            inb = <char*>self._inbuf + c * N * isz
            X = fdl + self._head * N * isz
            _forward(self._plan, self._f32, P, inb, X)
            memset(acc, 0, N * isz)
            # partition p meets the input spectrum from p + slot_offset blocks ago
            slot = self._head - self.slot_offset
            if slot < 0:
                slot += self._nslots
            for p in range(self.nparts):
                X = fdl + slot * N * isz
                Hp = H + p * N * isz
                _mac(self._f32, P, 0, P, acc, X, Hp)
                slot = slot - 1 if slot > 0 else self._nslots - 1
            _inverse(self._plan, self._f32, P, acc, <char*>self._time)
            # overlap-save: the last P samples are the valid ones
            memcpy(<char*>self._outbuf + c * P * isz, <char*>self._time + P * isz, P * isz)
            memcpy(inb, inb + P * isz, P * isz)
