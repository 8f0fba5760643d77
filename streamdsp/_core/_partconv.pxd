# Uniformly partitioned overlap-save convolution (UPOLS), the FFT engine
# behind FIR(method="fft") and the Convolver.
#
# For Cython use only.  `run` and `reset` are `noexcept nogil`, allocate
# nothing and touch no Python object: they may be called from an audio
# callback.  Not thread-safe (one stream, one thread).  With spread=True the
# work of a block is cut into jobs run as the following block's samples
# arrive, so every call does about the same work whatever its size.

cdef class PartitionedConvolution:
    cdef readonly Py_ssize_t channels
    cdef readonly Py_ssize_t block_size     # P: partition size = hop = latency
    cdef readonly Py_ssize_t nparts
    cdef readonly Py_ssize_t ntaps
    cdef readonly Py_ssize_t slot_offset    # extra delay, in blocks, before partition 0
    cdef Py_ssize_t _nslots                 # FDL slots: nparts + slot_offset
    cdef bint _f32
    cdef bint _shared                       # one filter for every channel
    cdef void* _plan                        # sd_fft_f32* or sd_fft_f64*
    cdef void* _H        # filter spectra: [set][part] x (re[P], im[P]), scaled 1/2P
    cdef void* _fdl      # per channel: [slot] x (re[P], im[P]) input spectra
    cdef void* _inbuf    # per channel: 2P samples (previous block, current block); spread: 4P
    cdef void* _outbuf   # per channel: P samples of output ready to emit
    cdef void* _acc      # re[P], im[P]
    cdef void* _time     # 2P samples of inverse transform
    cdef Py_ssize_t _pos   # frames of the current block filled so far
    cdef Py_ssize_t _head  # FDL slot of the newest input spectrum
    # Time-distributed mode (spread): a block's transforms and products run in
    # slices while the next block comes in, and its output is emitted one block
    # later; that block of delay comes out of slot_offset.
    cdef readonly bint spread
    # Spread mode keeps the input per channel as three blocks of P (block 0
    # mirrored after block 2) so that the previous two are always contiguous
    # for the transform while the next one comes in: no copies at the turn.
    cdef Py_ssize_t _seg   # block of the ring being filled
    cdef Py_ssize_t _pstart  # start of the 2P samples the jobs transform
    cdef void* _next       # per channel: P samples of output being computed
    cdef Py_ssize_t _job   # next job of the period (jobs: see _job_run)
    cdef Py_ssize_t _njobs
    cdef Py_ssize_t _range # bins per product slice
    cdef double _wfft      # weight of one transform, in product bins
    cdef double _done      # weight of the jobs run so far in this period
    cdef double _total     # weight of all jobs of a period
    cdef object _sliced    # SlicedFFT for large spread levels (else None)
    cdef void* _sl         # the same, for the nogil jobs
    cdef Py_ssize_t _S     # items per spectrum (FDL slot, filter partition, acc)
    cdef Py_ssize_t _m0, _m1   # spectrum positions the products run over
    cdef Py_ssize_t _nfj   # jobs per transform

    cdef Py_ssize_t run(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil
    cdef Py_ssize_t run_add(self, const void* x, void* y, Py_ssize_t frames) noexcept nogil
    cdef Py_ssize_t _run(self, const void* x, void* y, Py_ssize_t frames, bint add) noexcept nogil
    cdef void reset(self) noexcept nogil
    cdef void _block(self) noexcept nogil
    cdef void _turn(self) noexcept nogil
    cdef void _work(self, double upto) noexcept nogil
    cdef void _job_run(self, Py_ssize_t j) noexcept nogil
