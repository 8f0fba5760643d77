"""Hand-written peers that stand for "competent compiled code called once per chunk".

As in shared/PERFORMANCE.md: plain numba loops with fastmath off, and a
textbook uniformly partitioned overlap-save with planned pyFFTW transforms.
Each keeps its own state between calls, like the blocks they are measured
against.
"""

import numpy as np

try:
    import numba
except ImportError:  # the bench extra is not installed
    numba = None

try:
    import pyfftw
except ImportError:
    pyfftw = None


if numba is not None:
    @numba.njit(cache=True, fastmath=False, boundscheck=False)
    def _numba_fir_kernel(hrev, buf, x, y):
        k_taps = hrev.shape[0]
        n = x.shape[0]
        buf[k_taps - 1:k_taps - 1 + n] = x
        y[:] = 0
        for k in range(k_taps):
            h = hrev[k]
            seg = buf[k:k + n]
            for i in range(n):
                y[i] += h * seg[i]
        buf[:k_taps - 1] = buf[n:n + k_taps - 1]


class NumbaFIR:
    """Direct FIR with history, outer loop over taps, inner over samples (vectorisable)."""

    def __init__(self, taps, max_chunk, dtype=np.float32):
        if numba is None:
            raise ImportError("numba is not installed (pip install '.[bench]')")
        self.hrev = np.ascontiguousarray(np.asarray(taps, dtype=dtype)[::-1])
        self.buf = np.zeros(len(taps) - 1 + max_chunk, dtype=dtype)

    def process(self, x, out):
        _numba_fir_kernel(self.hrev, self.buf, x, out)
        return out


class FFTWUPOLS:
    """Uniformly partitioned overlap-save, partition = chunk, planned pyFFTW, vecdot MAC."""

    def __init__(self, taps, block, dtype=np.float32):
        if pyfftw is None:
            raise ImportError("pyfftw is not installed (pip install '.[bench]')")
        cdt = np.complex64 if dtype == np.float32 else np.complex128
        taps = np.asarray(taps, dtype=np.float64)
        self.B = block
        self.P = -(-len(taps) // block)
        bins = block + 1
        self.tin = pyfftw.empty_aligned(2 * block, dtype=dtype)
        self.fout = pyfftw.empty_aligned(bins, dtype=cdt)
        self.fin = pyfftw.empty_aligned(bins, dtype=cdt)
        self.tout = pyfftw.empty_aligned(2 * block, dtype=dtype)
        flags = ("FFTW_MEASURE",)
        self.fwd = pyfftw.FFTW(self.tin, self.fout, flags=flags)
        self.inv = pyfftw.FFTW(self.fin, self.tout, direction="FFTW_BACKWARD", flags=flags)
        padded = np.zeros(self.P * block)
        padded[:len(taps)] = taps
        # bins x partitions, conjugated so that vecdot (which conjugates its
        # first argument) yields sum(H * X); each bin's partitions are contiguous
        H = np.fft.rfft(padded.reshape(self.P, block), n=2 * block, axis=1).T
        self.Hc = np.ascontiguousarray(H.conj().astype(cdt))
        self.fdl = np.zeros((bins, self.P), dtype=cdt)
        self.acc2 = np.zeros(bins, dtype=cdt)
        self.head = 0
        self.tin[:] = 0

    def process(self, x, out):
        B, P = self.B, self.P
        self.tin[:B] = self.tin[B:]
        self.tin[B:] = x
        self.fwd()
        self.head = (self.head - 1) % P
        h = self.head
        self.fdl[:, h] = self.fout
        # partition p meets fdl slot (head + p) % P: split the MAC at the ring's wrap
        np.vecdot(self.Hc[:, :P - h], self.fdl[:, h:], out=self.fin)
        if h:
            np.vecdot(self.Hc[:, P - h:], self.fdl[:, :h], out=self.acc2)
            self.fin += self.acc2
        self.inv()
        out[:] = self.tout[B:]
        return out


class NumpyUPOLS:
    """The textbook uniformly partitioned overlap-save with numpy.fft (partition = chunk)."""

    def __init__(self, taps, block, dtype=np.float32):
        taps = np.asarray(taps, dtype=np.float64)
        self.B = block
        self.P = -(-len(taps) // block)
        padded = np.zeros(self.P * block)
        padded[:len(taps)] = taps
        H = np.fft.rfft(padded.reshape(self.P, block), n=2 * block, axis=1).T
        cdt = np.complex64 if dtype == np.float32 else np.complex128
        self.Hc = np.ascontiguousarray(H.conj().astype(cdt))
        self.fdl = np.zeros((block + 1, self.P), dtype=cdt)
        self.acc = np.zeros(block + 1, dtype=cdt)
        self.acc2 = np.zeros(block + 1, dtype=cdt)
        self.buf = np.zeros(2 * block, dtype=dtype)
        self.head = 0

    def process(self, x, out):
        B, P = self.B, self.P
        self.buf[:B] = self.buf[B:]
        self.buf[B:] = x
        self.head = (self.head - 1) % P
        h = self.head
        self.fdl[:, h] = np.fft.rfft(self.buf)
        np.vecdot(self.Hc[:, :P - h], self.fdl[:, h:], out=self.acc)
        if h:
            np.vecdot(self.Hc[:, P - h:], self.fdl[:, :h], out=self.acc2)
            self.acc += self.acc2
        out[:] = np.fft.irfft(self.acc)[B:]
        return out


class ChunkedOAConvolve:
    """scipy.signal.oaconvolve per chunk, the overlap carried by hand."""

    def __init__(self, taps, dtype=np.float32):
        from scipy import signal
        self._oa = signal.oaconvolve
        self.taps = np.asarray(taps, dtype=dtype)
        self.tail = np.zeros(len(taps) - 1, dtype=dtype)

    def process(self, x, out):
        full = self._oa(x, self.taps)
        n = len(x)
        full[:len(self.tail)] += self.tail
        out[:] = full[:n]
        self.tail = full[n:]
        return out
