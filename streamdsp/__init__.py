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
Convolver       -- long impulse responses (reverb): non-uniform partitions, zero latency.
Correlator      -- matched filter: cross-correlation or Pearson score, threshold events.
DelayEstimator  -- lag between the two channels of a stream (GCC-PHAT), one value per hop.
ChannelMixer    -- mix channels with a weight matrix (1x1 convolution, bias, activation).
UpMix, DownMix  -- mono to N channels (copies), N channels to mono (their mean).
Downsample      -- keep every stride-th frame.
Decimate        -- anti-aliasing FIR and downsampling, polyphase.
MaxPool         -- maximum over (possibly overlapping) windows, strided.
LTISystem       -- IIR filters and LTI systems (second-order sections or state space).
SavitzkyGolay   -- Savitzky-Golay smoothing/differentiation with scipy's edge modes.
Pipeline        -- blocks in series (what ``a >> b`` builds).

Graphs
------
Graph           -- blocks connected as a DAG; joins aligned by latency; a block itself.
Parallel        -- the same input through several branches, summed or stacked.
Add, Multiply   -- sum / product of several streams.
Mix             -- weighted sum of several streams.
Concatenate     -- stack the channels of several streams.
Block           -- base class of all blocks.

Sources and sinks
-----------------
ArraySource     -- an array in chunks.
FileSource      -- an audio file in chunks (libsndfile).
ArraySink       -- collect the output into an array.
FileSink        -- write the output to an audio file (kept valid if the process dies).
Sine            -- a sine wave (endless or of a duration), exact over any length.
Chirp           -- a frequency sweep, as scipy.signal.chirp.
Noise           -- seeded white, pink or brown Gaussian noise.
CallbackSink    -- hand every output chunk to a function.
RingBuffer      -- the latest seconds of a stream, readable from other threads (lock-free).
Tee             -- write every chunk to several sinks.
run             -- drive ``source >> ... >> sink`` to the end and flush.
Runner          -- drive a flow in a background thread, pulled or pushed (bounded queue).

Live audio (needs PortAudio)
----------------------------
AudioStream     -- run a graph live, input device -> graph -> output device (C callback, no GIL).
AudioInput      -- frames from an input device, as a source (recording, acquisition).
AudioOutput     -- play chunks on an output device, as a sink.
scope           -- a live scope of a RingBuffer in the browser (needs bokeh: streamdsp[scope]).

Data
----
datasets        -- synthetic test signals: a speech-like voice, a stereo concert-hall response.

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
from streamdsp._blocks._convolver import Convolver
from streamdsp._blocks._correlator import Correlator
from streamdsp._blocks._delayest import DelayEstimator
from streamdsp._blocks._mixing import ChannelMixer
from streamdsp._blocks._updown import DownMix, UpMix
from streamdsp._blocks._multirate import Decimate, Downsample, MaxPool
from streamdsp._blocks._lti import LTISystem
from streamdsp._blocks._savgol import SavitzkyGolay
from streamdsp._graph._pipeline import Pipeline
from streamdsp._blocks._combine import Add, Combiner, Concatenate, Mix, Multiply
from streamdsp._graph._graph import Graph, Parallel
from streamdsp._core._endpoints import Sink, Source
from streamdsp._graph._flow import Flow, run
from streamdsp._io._sources import ArraySource, FileSource
from streamdsp._io._sinks import ArraySink, FileSink
from streamdsp._io._generators import Chirp, Noise, Sine
from streamdsp._io._sinks import CallbackSink, RingBuffer, Tee
from streamdsp._graph._runner import QueueFullError, Runner
from streamdsp._io._audio import AudioInput, AudioOutput, AudioStream
from streamdsp._io._scope import scope
from streamdsp import datasets
from streamdsp._checkpoint import load_state, save_state
from streamdsp._batch import batch
from streamdsp import parallel

__version__ = "0.1.0"

__all__ = [
    "Block", "Gain", "Delay", "FIR", "Convolver", "Correlator", "DelayEstimator", "Pipeline",
    "ChannelMixer", "UpMix", "DownMix", "Downsample", "MaxPool", "Decimate",
    "LTISystem",
    "SavitzkyGolay",
    "Graph", "Parallel", "Add", "Multiply", "Mix", "Concatenate", "Combiner",
    "Source", "Sink", "Flow", "ArraySource", "FileSource", "ArraySink", "FileSink", "run",
    "StreamDSPError", "ChannelMismatchError", "StreamStateError", "ChainSyntaxError",
    "PortAudioMissingError",
    "Sine", "Chirp", "Noise", "CallbackSink", "RingBuffer", "Tee", "Runner", "QueueFullError",
    "AudioStream", "AudioInput", "AudioOutput", "scope",
    "datasets", "save_state", "load_state", "batch",
]
