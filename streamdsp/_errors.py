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


class StreamStateError(StreamDSPError, RuntimeError):
    """An operation that the block's current state does not allow."""


class ChainSyntaxError(StreamDSPError, ValueError):
    """A ``--chain`` description names an unknown block or bad arguments."""


class PortAudioMissingError(StreamDSPError, OSError):
    """The PortAudio library is not installed, so live audio cannot run."""


class QueueFullError(StreamDSPError, queue.Full):
    """``Runner.push`` found the queue full (``overflow="raise"``, or a ``timeout`` ran out)."""
