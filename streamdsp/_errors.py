"""Exceptions raised by streamdsp.

They keep to the built-in types a caller would catch anyway: a bad channel
count is still a ``ValueError``, a stream that cannot be opened still a
``RuntimeError``.
"""

import queue


class StreamDSPError(Exception):
    """Base class of every error streamdsp raises on purpose."""


class ChannelMismatchError(StreamDSPError, ValueError):
    """A chunk or a connection has another channel count than the stream."""


def channel_hint(want, got):
    """How to turn ``got`` channels into the ``want`` a block takes: the end of an error message.

    Examples
    --------
    >>> channel_hint(2, 1)
    'to feed it 1 channel, upmix first: ChannelMixer([[1.0], [1.0]]) >> it'
    """
    if got == 1:
        return (f"to feed it 1 channel, upmix first: "
                f"ChannelMixer({[[1.0]] * want}) >> it")
    if want == 1:
        return (f"to feed it {got} channels, downmix first: "
                f"ChannelMixer([[{', '.join([f'{1 / got:.3g}'] * got)}]]) >> it, or make the "
                f"block for {got} channels")
    return f"put a ChannelMixer with weights of shape ({want}, {got}) before it"


class StreamStateError(StreamDSPError, RuntimeError):
    """An operation that the block's current state does not allow."""


class ChainSyntaxError(StreamDSPError, ValueError):
    """A ``--chain`` description names an unknown block or bad arguments."""


class PortAudioMissingError(StreamDSPError, OSError):
    """The PortAudio library is not installed, so live audio cannot run."""


class QueueFullError(StreamDSPError, queue.Full):
    """``Runner.push`` found the queue full (``overflow="raise"``, or a ``timeout`` ran out)."""
