"""Exact parallel runs of a chain over a long Dask array (``sd.parallel.apply``).

A stream's output at any time depends on a bounded stretch of input for
blocks of finite support (FIR, Convolver, SavitzkyGolay, Delay, Gain,
ChannelMixer, and Downsample, Decimate, MaxPool lowering the rate among
them): each time chunk is computed by a fresh copy of the chain fed
that stretch first (the halo), and the halo's outputs are thrown away.  The
halo starts at a multiple of the chain's FFT block, so every partitioned
engine sees its blocks where the single stream saw them and computes the
very same sums: the result equals the single-stream run bit for bit, not
just within rounding.  An LTISystem (no finite support) runs bit for bit
per group of channels, and along time by the three-pass state scan (each
chunk from rest, a scan of the chunks' state maps, a correction pass), which
is exact up to rounding (float64: ~1e-15 of the peak for an 8th-order
Butterworth in sections).  Any other chain without finite support split
along time is refused rather than approximated.

Dask is imported only when ``apply`` runs (``pip install "streamdsp[dask]"``).
"""

import math
import pickle

import numpy as np

from streamdsp._blocks._convolver import Convolver
from streamdsp._blocks._fir import FIR
from streamdsp._blocks._lti import LTISystem
from streamdsp._blocks._mixing import ChannelMixer
from streamdsp._blocks._multirate import Decimate, Downsample, MaxPool
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


def _run_chunk(blob, history, pieces, frames, last, skip):
    """One time chunk: a fresh chain fed ``history`` (outputs dropped), then ``pieces`` into the result.

    The pieces are views of the input's blocks, so nothing is concatenated;
    their outputs are written straight into the result (``out=``), and the
    flush fills what the input no longer covers (from its frame ``skip``:
    a chunk that starts within the latency of the end).
    """
    chain = pickle.loads(blob)
    for h in history:
        chain.process(h)
    y = None
    pos = 0
    for p in pieces:
        if y is None:   # a chunk of no frames tells the output's shape (a mixer changes it)
            y = np.empty((frames,) + chain.process(p[:0]).shape[1:], p.dtype)
        chain.process(p, out=y[pos:pos + len(p)])
        pos += len(p)
    if last and pos < frames:
        tail = chain.flush()
        if y is None:
            y = np.empty((frames,) + tail.shape[1:], tail.dtype)
        y[pos:] = tail[skip:skip + frames - pos]
    return y


def _views(x, a, b, starts):
    """x[a:b] as views of x's blocks (split where its time chunks meet)."""
    cuts = [a] + [int(t) for t in starts if a < t < b] + [b]
    return [x[lo:hi] for lo, hi in zip(cuts[:-1], cuts[1:]) if hi > lo]


def _channel_independent(chain):
    blocks = list(chain) if isinstance(chain, Pipeline) else [chain]
    return all(isinstance(b, Block) and not isinstance(b, ChannelMixer) and b.channels is None
               for b in blocks)


def _zero_state_pass(blob, x):
    """Pass 1 of the scan: chunk ``x`` from rest; its output and final state (float64 per channel)."""
    lti = pickle.loads(blob)
    y = lti.process(x)
    return y, _state_of(lti, x.shape[1] if x.ndim == 2 else 1)


def _state_of(lti, channels):
    return np.frombuffer(lti._get_state(), np.float64).reshape(-1, channels).copy()


def _transition(blob, frames, dtype, channels):
    """The state map of ``frames`` samples of silence, A**frames, by repeated squaring.

    A is read off the block itself: one sample of silence from each basis
    state (every channel alike: the coefficients are shared).
    """
    lti = pickle.loads(blob)
    lti.prepare(channels, dtype)
    d = len(lti._get_state()) // 8 // channels
    A = np.empty((d, d))
    zero = np.zeros((1, channels), dtype)
    for i in range(d):
        s = np.zeros((d, channels))
        s[i] = 1.0
        lti.reset()
        lti._set_state(s.tobytes())
        lti.process(zero)
        A[:, i] = _state_of(lti, channels)[:, 0]
    return np.linalg.matrix_power(A, frames)


def _corrected(blob, y0, state):
    """Pass 3: add the response to silence from the chunk's true initial state."""
    lti = pickle.loads(blob)
    lti.prepare(y0.shape[1] if y0.ndim == 2 else 1, y0.dtype)
    lti._set_state(np.ascontiguousarray(state).tobytes())
    return y0 + lti.process(np.zeros_like(y0))


def _state_scan(blob, x, dtype):
    """An LTISystem along time: zero-state chunks, a scan of their state maps, a correction pass.

    Linear superposition (Levien 2019; dask's cumreduction in spirit): a
    chunk's output is its output from rest plus the response to silence
    from the state the chunks before it leave, and that state is
    ``z_k + A**n_k @ S_k``.  Exact up to rounding, not bit for bit.
    """
    import dask
    import dask.array as da

    channels = x.shape[1] if x.ndim == 2 else 1
    parts, states, sizes = [], [], x.chunks[0]
    for k, n in enumerate(sizes):
        piece = x.blocks[k].astype(dtype, copy=False)
        job = dask.delayed(_zero_state_pass, nout=2)(blob, piece)
        parts.append(job[0])
        states.append(job[1])
    maps = {n: dask.delayed(_transition, pure=True)(blob, n, dtype, channels) for n in set(sizes)}

    def scan(states, maps_by_size):
        s = np.zeros_like(states[0])
        out = []
        for z, n in zip(states, sizes):
            out.append(s)
            s = z + maps_by_size[n] @ s
        return out

    initial = dask.delayed(scan, nout=len(sizes))(states, maps)
    out = []
    for k, n in enumerate(sizes):
        job = dask.delayed(_corrected)(blob, parts[k], initial[k])
        out.append(da.from_delayed(job, (n,) + x.shape[1:], dtype))
    return da.concatenate(out, axis=0)


def _decimating_plan(chain):
    """Halo, alignment and a frame counter for a chain that lowers the rate, or None.

    Returns ``(halo, align, count)``: ``halo`` input frames of history any
    output needs (latencies and supports, each scaled to the chain's input
    frames), ``align`` a multiple of every block's FFT period and of every
    decimation so far (a copy started on a multiple of it sees every block
    in the phase the single stream saw), and ``count(n)``, the frames that
    ``process`` + ``flush`` give over ``n`` input frames.
    """
    blocks = list(chain) if isinstance(chain, Pipeline) else [chain]
    halo, align, d, steps = 0, 1, 1, []
    for b in blocks:
        if isinstance(b, (Downsample, Decimate)):
            stride, phase = (b.stride, b.phase) if isinstance(b, Downsample) else (b.factor, b.phase)
            extra = b.ntaps - 1 if isinstance(b, Decimate) else 0
            steps.append(lambda n, s=stride, p=phase: max(0, -(-(n - p) // s)))
        elif isinstance(b, MaxPool):
            stride, extra = b.stride, b.size - 1
            steps.append(lambda n, s=stride: -(-n // s))
        else:
            sup = support(b)
            if sup is None or b.rate != 1:
                return None
            stride, extra = 1, sup[0] + b.latency
            align = math.lcm(align, sup[1] * d)
            steps.append(lambda n, lat=b.latency: n + lat)
        halo += extra * d
        d *= stride
        align = math.lcm(align, d)

    def count(n):
        for step in steps:
            n = step(n)
        return n
    return halo, align, count


def _apply_decimating(chain, x, blob, dtype, plan):
    """A chain that lowers the rate, along time: each output chunk from a copy fed its halo first."""
    import dask
    import dask.array as da

    halo, align, count = plan
    D = chain.down
    n, lat = x.shape[0], chain.latency
    total = count(n) - lat
    # time chunks start on multiples of the decimation, so outputs split there too
    cuts = sorted({int(c) // D * D for c in np.cumsum((0,) + x.chunks[0])[:-1]} | {n})
    probe = pickle.loads(blob).process(np.zeros((0,) + x.shape[1:], dtype))
    xs = x.astype(dtype, copy=False)
    parts = []
    for c, e in zip(cuts[:-1], cuts[1:]):
        first, end = c // D, (e // D if e < n else total)
        if end <= first:
            continue
        s0 = max(c - halo - align, 0) // align * align
        stop = min(n, e + halo + (lat + 1) * D + align)
        # copy output j is the single stream's output s0 / D + j
        job = dask.delayed(_run_stretch, pure=True)(blob, xs[s0:stop], first + lat - s0 // D,
                                                     end - first, stop == n)
        parts.append(da.from_delayed(job, (end - first,) + probe.shape[1:], dtype))
    if not parts:
        return da.zeros((max(total, 0),) + probe.shape[1:], dtype)
    return da.concatenate(parts, axis=0)


def apply(chain, x):
    """Run ``chain`` over the Dask array ``x`` in parallel, exactly as one stream would.

    Parameters
    ----------
    chain : Block
        A block or Pipeline of rate-preserving blocks, or one that lowers
        the rate with Downsample, Decimate or MaxPool among blocks of
        finite support (time chunks then start on multiples of the
        decimation: a chunk boundary moves down to one).  It is not
        changed: every task runs a copy.
    x : dask.array.Array, shape (frames,) or (frames, channels)
        Time on axis 0, chunked along time (and along channels, for chains
        without a finite support).  A lone LTISystem chunked along time
        runs by the state scan: equal to the single stream up to rounding,
        not bit for bit.

    Returns
    -------
    dask.array.Array
        Lazy, with ``x``'s shape and chunks (for a chain that lowers the
        rate: its output frames, chunks split where ``x``'s are, divided by
        the decimation): the aligned output (the
        chain's latency dropped, its flush included), equal bit for bit to
        ``np.concatenate([chain.process(x), chain.flush()])[chain.latency:]``
        of a fresh chain on the whole array.  ``.compute()`` it, or write
        it with ``to_zarr``; a ``distributed.Client`` in scope runs it on
        its cluster.

    Raises
    ------
    ValueError
        A chain without finite support split along time (other than a lone
        LTISystem), a chain that raises the rate, or a chain that mixes
        channels split along channels.

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
    plan = None
    if chain.rate != 1:
        plan = _decimating_plan(chain) if chain.up == 1 else None
        if plan is None:
            raise ValueError(f"parallel.apply: expected a chain that keeps the rate or lowers it with "
                             f"Downsample, Decimate or MaxPool after blocks of finite support, got "
                             f"rate {chain.rate} ({chain!r:.80})")
    fresh = pickle.loads(configuration_pickle(chain))
    fresh.reset()       # a Python-level block's attributes
    blob = pickle.dumps(fresh, protocol=5)
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    if plan is not None:
        if x.ndim == 2 and len(x.chunks[1]) > 1:
            x = x.rechunk({1: -1})
        return _apply_decimating(chain, x, blob, dtype, plan)
    n, lat = x.shape[0], chain.latency
    sup = support(chain)
    time_chunks = x.chunks[0]
    if sup is None:
        if len(time_chunks) > 1 and isinstance(chain, LTISystem):
            if x.ndim == 2 and len(x.chunks[1]) > 1:
                x = x.rechunk({1: -1})
            return _state_scan(blob, x, dtype)
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
    xs = x.astype(dtype, copy=False)
    parts = []
    for k in range(len(time_chunks)):
        c, e = int(starts[k]), int(starts[k + 1])
        # back to a block boundary of the single stream, one block more: the
        # oldest input spectrum an engine keeps is of that block and the one before
        s0 = max(c - halo - period, 0) // period * period
        # stream outputs [c + lat, e + lat) are this chunk's aligned outputs
        first, end = min(c + lat, n), min(e + lat, n)
        history = _views(xs, s0, first, starts)
        pieces = _views(xs, first, end, starts)
        job = dask.delayed(_run_chunk, pure=True)(blob, history, pieces, e - c, e + lat > n,
                                                  max(c + lat - n, 0))
        parts.append(da.from_delayed(job, (e - c,) + x.shape[1:], dtype))
    return da.concatenate(parts, axis=0)
