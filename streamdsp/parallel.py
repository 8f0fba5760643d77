"""Exact parallel runs of a chain over a long Dask array (``sd.parallel.apply``).

A stream's output at any time depends on a bounded stretch of input for
blocks of finite support (FIR, Convolver, SavitzkyGolay, Delay, Gain,
ChannelMixer): each time chunk is computed by a fresh copy of the chain fed
that stretch first (the halo), and the halo's outputs are thrown away.  The
halo starts at a multiple of the chain's FFT block, so every partitioned
engine sees its blocks where the single stream saw them and computes the
very same sums: the result equals the single-stream run bit for bit, not
just within rounding.  Blocks without a finite support (LTISystem) run
exactly per group of channels; asked to split such a chain along time,
``apply`` refuses rather than approximate.

Dask is imported only when ``apply`` runs (``pip install "streamdsp[dask]"``).
"""

import pickle

import numpy as np

from streamdsp._blocks._convolver import Convolver
from streamdsp._blocks._fir import FIR
from streamdsp._blocks._mixing import ChannelMixer
from streamdsp._blocks._pointwise import Delay, Gain
from streamdsp._blocks._savgol import SavitzkyGolay
from streamdsp._core._block import Block, configuration_pickle
from streamdsp._graph._pipeline import Pipeline

__all__ = ["apply", "support"]

# SavitzkyGolay's FFT engine picks its block among the powers of two up to
# this; a multiple of it is a multiple of whichever it picked.
_SAVGOL_MAX_BLOCK = 8192


def support(block):
    """``(frames, period)`` a block's output needs beyond its latency, or None if unbounded.

    ``frames``: how much earlier input an output frame depends on (after
    the block's latency); ``period``: the FFT block its engines work in
    (1 for direct forms).  A chain adds the frames and takes the largest
    period (all are powers of two).

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sd.parallel.support(sd.FIR(np.ones(64), method="fft", block_size=32) >> sd.Gain(2.0))
    (63, 32)
    >>> sd.parallel.support(sd.LTISystem.from_sos([[1, 0, 0, 1, -0.5, 0]])) is None
    True
    """
    if isinstance(block, Pipeline):
        frames, period = 0, 1
        for b in block:
            s = support(b)
            if s is None:
                return None
            frames, period = frames + s[0], max(period, s[1])
        return frames, period
    if isinstance(block, (Gain, Delay, ChannelMixer)):
        return 0, 1
    if isinstance(block, FIR):
        return block.ntaps - 1, block.block_size or 1
    if isinstance(block, Convolver):
        return block.ntaps - 1, max(B for B, _, _ in block.plan)
    if isinstance(block, SavitzkyGolay):
        return block.window_length, _SAVGOL_MAX_BLOCK if block.method == "fft" else 1
    return None


def _run_stretch(blob, x, skip, frames, last):
    """A fresh copy of the chain over x; the ``frames`` aligned outputs after ``skip``."""
    chain = pickle.loads(blob)
    y = chain.process(x)
    if last:
        y = np.concatenate([y, chain.flush()])
    return y[skip:skip + frames]


def _channel_independent(chain):
    blocks = list(chain) if isinstance(chain, Pipeline) else [chain]
    return all(isinstance(b, Block) and not isinstance(b, ChannelMixer) and b.channels is None
               for b in blocks)


def apply(chain, x):
    """Run ``chain`` over the Dask array ``x`` in parallel, exactly as one stream would.

    Parameters
    ----------
    chain : Block
        A block or Pipeline of rate-preserving blocks.  It is not changed:
        every task runs a copy.
    x : dask.array.Array, shape (frames,) or (frames, channels)
        Time on axis 0, chunked along time (and along channels, for chains
        without a finite support).

    Returns
    -------
    dask.array.Array
        Lazy, with ``x``'s shape and chunks: the aligned output (the
        chain's latency dropped, its flush included), equal bit for bit to
        ``np.concatenate([chain.process(x), chain.flush()])[chain.latency:]``
        of a fresh chain on the whole array.  ``.compute()`` it, or write
        it with ``to_zarr``; a ``distributed.Client`` in scope runs it on
        its cluster.

    Raises
    ------
    ValueError
        A chain without finite support (LTISystem) split along time, a
        chain that changes the rate, or a chain that mixes channels split
        along channels.

    Examples
    --------
    >>> import numpy as np, dask.array as da, streamdsp as sd
    >>> x = np.random.default_rng(0).standard_normal((10_000, 2))
    >>> fir = sd.FIR(np.hanning(101), method="fft", block_size=64)
    >>> y = sd.parallel.apply(fir, da.from_array(x, chunks=(2500, 2))).compute()
    >>> ref = sd.FIR(np.hanning(101), method="fft", block_size=64)
    >>> bool(np.array_equal(y, np.concatenate([ref.process(x), ref.flush()])[ref.latency:]))
    True
    """
    import dask
    import dask.array as da

    if not isinstance(chain, Block):
        raise TypeError(f"parallel.apply: expected a streamdsp block, got {type(chain).__name__}")
    if not isinstance(x, da.Array):
        raise TypeError(f"parallel.apply: expected a dask array, got {type(x).__name__}")
    if x.ndim not in (1, 2):
        raise ValueError(f"parallel.apply: expected (frames,) or (frames, channels), got shape {x.shape}")
    if chain.decimation != 1:
        raise ValueError(f"parallel.apply: expected a chain that keeps the rate, got decimation "
                         f"{chain.decimation} ({chain!r:.80})")
    fresh = pickle.loads(configuration_pickle(chain))
    fresh.reset()       # a Python-level block's attributes
    blob = pickle.dumps(fresh, protocol=5)
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    n, lat = x.shape[0], chain.latency
    sup = support(chain)
    time_chunks = x.chunks[0]
    if sup is None:
        if len(time_chunks) > 1:
            raise ValueError(
                f"parallel.apply: {chain!r:.80} has no finite support (an IIR filter remembers all "
                f"of its input), so splitting it along time would need the state scan, which is "
                f"not implemented; give x one chunk along time (x.rechunk({{0: -1}})) and split "
                f"the channels instead")
        if x.ndim == 2 and len(x.chunks[1]) > 1 and not _channel_independent(chain):
            raise ValueError(f"parallel.apply: {chain!r:.80} mixes channels or fixes their count; "
                             f"give x one chunk along channels")
        cols = np.cumsum((0,) + x.chunks[1]) if x.ndim == 2 else (0, None)
        parts = []
        for j in range(len(cols) - 1):
            piece = x[:, cols[j]:cols[j + 1]] if x.ndim == 2 else x
            job = dask.delayed(_run_stretch, pure=True)(blob, piece.astype(dtype, copy=False), lat, n, True)
            shape = (n,) + piece.shape[1:]
            parts.append(da.from_delayed(job, shape, dtype))
        return da.concatenate(parts, axis=1) if x.ndim == 2 else parts[0]

    if x.ndim == 2 and len(x.chunks[1]) > 1:
        x = x.rechunk({1: -1})
    halo, period = lat + sup[0], sup[1]
    starts = np.cumsum((0,) + time_chunks)
    parts = []
    for k in range(len(time_chunks)):
        c, e = int(starts[k]), int(starts[k + 1])
        # back to a block boundary of the single stream, one block more: the
        # oldest input spectrum an engine keeps is of that block and the one before
        s0 = max(c - halo - period, 0) // period * period
        end = min(e + lat, n)
        stretch = x[s0:end].astype(dtype, copy=False)
        job = dask.delayed(_run_stretch, pure=True)(blob, stretch, c + lat - s0, e - c, end == n)
        parts.append(da.from_delayed(job, (e - c,) + x.shape[1:], dtype))
    return da.concatenate(parts, axis=0)
