"""
streamdsp: streaming DSP blocks, compiled, chunk by chunk
=========================================================

Every block consumes chunks of shape ``(frames,)`` or ``(frames, channels)``
and carries its state from one chunk to the next, so that any split of a
signal gives the same result as one call.  Hot loops are compiled and run
without the GIL.

Blocks
------
Gain            -- multiply by a constant.
Delay           -- delay by a whole number of samples.
FIR             -- finite impulse response filter (direct or partitioned FFT).
Pipeline        -- blocks in series (what ``a >> b`` builds).
Block           -- base class of all blocks.

Sources and sinks
-----------------
ArraySource     -- an array in chunks.
FileSource      -- an audio file in chunks (libsndfile).
ArraySink       -- collect the output into an array.
FileSink        -- write the output to an audio file.
run             -- drive ``source >> ... >> sink`` to the end and flush.

Errors
------
StreamDSPError, ChannelMismatchError, StreamStateError, ChainSyntaxError,
PortAudioMissingError.
"""

from streamdsp._errors import (
    ChainSyntaxError,
    ChannelMismatchError,
    PortAudioMissingError,
    StreamDSPError,
    StreamStateError,
)
from streamdsp._core._block import Block
from streamdsp._blocks._pointwise import Delay, Gain
from streamdsp._blocks._fir import FIR
from streamdsp._graph._pipeline import Pipeline
from streamdsp._graph._flow import Flow, Sink, Source, run
from streamdsp._io._sources import ArraySource, FileSource
from streamdsp._io._sinks import ArraySink, FileSink

__version__ = "0.1.0"

__all__ = [
    "Block", "Gain", "Delay", "FIR", "Pipeline",
    "Source", "Sink", "Flow", "ArraySource", "FileSource", "ArraySink", "FileSink", "run",
    "StreamDSPError", "ChannelMismatchError", "StreamStateError", "ChainSyntaxError",
    "PortAudioMissingError",
]
