"""Ending a stream: the flush routine that Pipeline, Graph and Runner share.

A block's ``flush`` returns what it held back; the blocks after it have not
seen those frames yet, so each flush pushes what came before through the
block and then appends the block's own tail.
"""

import numpy as np

from streamdsp._core._block import reset_all


def flush_through(block, inputs):
    """Push the frames ``inputs`` through ``block``, then flush it.

    Parameters
    ----------
    block : Block
        A one-input block, or a multi-input one (``Add``, ``Mix``, ...)
        taking ``inputs`` in its input order.
    inputs : list of ndarray
        What the blocks before held back, one array per input, each of
        shape ``(frames, channels)`` (0 frames is fine).

    Returns
    -------
    ndarray
        Shape ``(frames, block.out_channels)``: the pushed frames' output,
        then the block's tail.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> from streamdsp._graph._flush import flush_through
    >>> fir = sd.FIR([1.0], method="fft", block_size=8)      # holds back 8 frames
    >>> fir.process(np.arange(1.0, 7.0))
    array([0., 0., 0., 0., 0., 0.])
    >>> flush_through(fir, [np.array([[7.0]])]).ravel()     # 1 frame pushed, then the tail
    array([0., 0., 1., 2., 3., 4., 5., 6., 7.])
    """
    och = block.out_channels
    head = block.process(*inputs) if any(len(x) for x in inputs) else None
    tail = block.flush()
    parts = [_as_frames(tail, och)] if head is None else [_as_frames(head, och), _as_frames(tail, och)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def flush_chain(blocks, y, on_failure=None):
    """End the stream of ``blocks`` in series, each tail pushed through the blocks after it.

    Parameters
    ----------
    blocks : sequence of Block
        In stream order.
    y : ndarray
        Frames held back before the first block, ``(frames, channels)``
        (usually 0 frames).
    on_failure : callable, optional
        ``on_failure(stage, error)`` is called when block ``stage``
        raises, after the reset; it may raise an error of its own instead.

    Returns
    -------
    ndarray
        ``(frames, channels)`` out of the last block.

    Notes
    -----
    A failure resets every block before the error propagates: the stream
    ends either way, and no block may carry it into the next one.
    """
    stage = 0
    try:
        for stage, b in enumerate(blocks):
            y = flush_through(b, [y])
    except BaseException as e:
        reset_all(blocks)
        if on_failure is not None:
            on_failure(stage, e)
        raise
    return y


def _as_frames(a, channels):
    """``a`` as ``(frames, channels)``; a 1-d array is one channel when ``channels`` is unknown."""
    if channels:
        return a.reshape(-1, channels)
    return a if a.ndim == 2 else a.reshape(len(a), 1)

