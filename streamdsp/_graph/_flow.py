"""Flows: a source, blocks in series and a sink, built with ``>>``, driven by :func:`run`."""

from streamdsp._core._block import Block
from streamdsp._core._endpoints import Sink, Source


class Flow:
    """A source, the blocks it feeds in series, and a sink: what ``>>`` builds.

    Pass it to :func:`streamdsp.run`.  Either end may be missing while it
    is built (``block >> sink`` is a flow waiting for its source).
    """

    def __init__(self, source=None, blocks=(), sink=None):
        self.source = source
        self.blocks = list(blocks)
        self.sink = sink

    def __rshift__(self, other):
        return connect(self, other)

    def __rrshift__(self, other):
        return connect(other, self)

    @property
    def latency(self):
        """Frames the output lags, at the output rate (the blocks' latencies, scaled at each rate change)."""
        from streamdsp._graph._plan import chain_latency, whole_chain_latency
        return whole_chain_latency("Flow", chain_latency(self.blocks))

    def __repr__(self):
        parts = [repr(self.source) if self.source is not None else "?"]
        parts += [repr(b) for b in self.blocks]
        parts.append(repr(self.sink) if self.sink is not None else "?")
        return "<Flow " + " >> ".join(parts) + ">"


def _as_flow(x):
    if isinstance(x, Flow):
        return Flow(x.source, x.blocks, x.sink)
    if isinstance(x, Source):
        return Flow(source=x)
    if isinstance(x, Sink):
        return Flow(sink=x)
    if isinstance(x, Block):
        # keep the user's object (a Pipeline stays one), so that after
        # run() its state, channels and stats are the ones that streamed
        return Flow(blocks=[x])
    raise TypeError(f">>: expected a source, block or sink, got {type(x).__name__} {x!r:.60}")


def connect(a, b):
    """Join two pieces of a flow (what ``a >> b`` does when a source or sink is involved)."""
    fa, fb = _as_flow(a), _as_flow(b)
    if fa.sink is not None:
        raise TypeError(f">>: {fa.sink!r} is a sink and ends the flow; nothing can follow it")
    if fb.source is not None:
        raise TypeError(f">>: {fb.source!r} is a source and starts a flow; nothing can feed it")
    return Flow(fa.source, fa.blocks + fb.blocks, fb.sink)


def run(flow, progress=False, tail=False):
    """Drive a finite source through its blocks into its sink, then flush.

    Parameters
    ----------
    flow : Flow
        ``source >> block >> ... >> sink``.  Without a sink the output is
        collected as by :class:`ArraySink`.
    progress : bool or str, optional
        Show a progress bar (tqdm) on stderr; a string is used as its label.
    tail : bool, optional
        After the input, push the blocks' ``tail_frames`` (summed along the
        chain, in input frames) of zeros through before the flush, so that
        what rings on after the last input (a reverb, an FIR's last
        ``ntaps - 1`` frames, an IIR's decay) is written too.  The output
        then has ``tail_frames`` more frames (plus ``latency`` from the
        flush, as always): a FIR's whole ``np.convolve(x, taps)``.  Default:
        as many output frames as input (plus ``latency``).

    Returns
    -------
    result
        ``sink.result()``: the array for :class:`ArraySink`, the path for
        :class:`FileSink`.

    Notes
    -----
    The sink is closed when the run ends.  If the source, a block or the
    sink raises, the sink is aborted instead (its ``abort()``, where it has
    one, else ``close()``): a :class:`FileSink` then removes its temporary
    file and leaves the target as it was.  Ctrl-C (``KeyboardInterrupt``)
    counts as a failure too, except for a source that runs until stopped
    (an :class:`AudioInput`, or any source whose ``frames`` is ``None``):
    Ctrl-C is how such a recording ends, so the sink is closed and keeps
    what was written.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> x = np.arange(6.0)
    >>> sd.run(sd.ArraySource(x, chunk_size=4) >> sd.Gain(2.0) >> sd.ArraySink())
    array([ 0.,  2.,  4.,  6.,  8., 10.])
    >>> sd.run(sd.ArraySource(np.ones(3)) >> sd.FIR([1.0, 1.0]), tail=True)   # np.convolve
    array([1., 2., 2., 1.])
    """
    from streamdsp._graph._pipeline import Pipeline
    from streamdsp._io._sinks import ArraySink

    if not isinstance(flow, Flow):
        flow = _as_flow(flow)
    if flow.source is None:
        raise TypeError("run: expected a flow that starts with a source, e.g. sd.FileSource(path) >> ...")
    sink = flow.sink if flow.sink is not None else ArraySink()
    chain = flow.blocks[0] if len(flow.blocks) == 1 else Pipeline(*flow.blocks)
    if flow.source.samplerate:
        # sinks that need the rate of what they receive (RingBuffer) get it
        from streamdsp._graph._runner import _offer_samplerate
        _offer_samplerate(sink, float(flow.source.samplerate * (chain.rate if flow.blocks else 1)))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=flow.source.frames, unit="frames", unit_scale=True,
                   desc=progress if isinstance(progress, str) else None, leave=False)
    try:
        last = None
        for chunk in flow.source:
            sink.write(chain.process(chunk))
            last = chunk
            if bar is not None:
                bar.update(len(chunk))
        if tail and last is not None:
            _push_tail(chain, sink, last)
        sink.write(chain.flush())
    except BaseException as e:
        if bar is not None:
            bar.close()
        # Ctrl-C is how a recording ends: keep it; anything else is a failed job
        keep = isinstance(e, KeyboardInterrupt) and _is_recording(flow.source)
        try:
            (sink.close if keep else getattr(sink, "abort", sink.close))()
        except Exception:    # the first error is the one to report
            pass
        raise
    if bar is not None:
        bar.close()
    sink.close()
    return sink.result()


def _is_recording(source):
    """Whether ``source`` runs until stopped: live input, or no known length."""
    from streamdsp._io._audio import _Live
    return isinstance(source, _Live) or source.frames is None


def _push_tail(chain, sink, last):
    """Feed ``chain`` the zeros its tail needs, in chunks like ``last``, into ``sink``."""
    import numpy as np

    # input frames whose output covers the tail: ceil(tail * down / up)
    remaining = -(-chain.tail_frames * chain.down // chain.up)
    step = max(len(last), 4096)
    zeros = np.zeros((min(step, remaining),) + last.shape[1:], dtype=last.dtype)
    while remaining > 0:
        n = min(len(zeros), remaining)
        sink.write(chain.process(zeros[:n]))
        remaining -= n
