"""Live audio: graphs inside a PortAudio stream, with no interpreter in the audio thread.

sounddevice (and through it PortAudio) is imported inside the functions that
open a stream, so that ``import streamdsp`` works on a machine without
PortAudio; opening a stream there raises :class:`PortAudioMissingError`.
"""

import math
import time

import numpy as np

from streamdsp._core._block import Block
from streamdsp._core._block import _python_level  # type: ignore[attr-defined]  # private, not in the stub
from streamdsp._core._endpoints import Sink, Source
from streamdsp._errors import (
    ChannelMismatchError,
    PortAudioMissingError,
    StreamDSPError,
    StreamStateError,
)

_PORTAUDIO_HINT = ("install it (Debian/Ubuntu: apt-get install libportaudio2; Fedora: dnf install "
                   "portaudio; macOS: brew install portaudio)")


# The C callback path hands PortAudio a raw function pointer through
# sounddevice's private _StreamBase (the public Stream always wraps a Python
# callback).  pyproject.toml pins the versions this was tested with, and
# tests/test_sounddevice_api.py fails loudly if a release changes it.
SOUNDDEVICE_TESTED = ">=0.4.6,<0.6"
_STREAMBASE_PARAMETERS = ("kind", "samplerate", "blocksize", "device", "channels", "dtype",
                          "latency", "callback", "userdata", "wrap_callback")


def _private_api_problem(sdm):
    """What of sounddevice's private API (``_StreamBase``, ``_ffi.cast``) is missing, or None."""
    import inspect

    base = getattr(sdm, "_StreamBase", None)
    if base is None:
        return "it has no _StreamBase"
    try:
        params = inspect.signature(base.__init__).parameters
    except (TypeError, ValueError) as e:
        return f"the signature of _StreamBase cannot be read ({e})"
    missing = [p for p in _STREAMBASE_PARAMETERS if p not in params]
    if missing:
        return f"_StreamBase takes no {', '.join(missing)}"
    if not callable(getattr(getattr(sdm, "_ffi", None), "cast", None)):
        return "it has no _ffi.cast"
    return None


def _sounddevice(who):
    """Import sounddevice, or say clearly what is missing or changed."""
    try:
        import sounddevice
    except OSError as e:
        raise PortAudioMissingError(
            f"{who}: the PortAudio library is not installed, so live audio cannot run; "
            f"{_PORTAUDIO_HINT} ({e})") from e
    except ImportError as e:
        raise ImportError(f"{who}: live audio needs the sounddevice package "
                          f"(pip install sounddevice): {e}") from e
    problem = _private_api_problem(sounddevice)
    if problem is not None:
        version = getattr(sounddevice, "__version__", "?")
        raise ImportError(
            f"{who}: expected sounddevice {SOUNDDEVICE_TESTED} (its private _StreamBase carries "
            f"streamdsp's C callback), got {version}, where {problem}; "
            f"pip install 'sounddevice{SOUNDDEVICE_TESTED}'")
    return sounddevice


# ---------------------------------------------------------------------------
# what runs where

def _children(block):
    from streamdsp._graph._graph import Graph
    from streamdsp._graph._pipeline import Pipeline

    if isinstance(block, Pipeline):
        return list(block.blocks)
    if isinstance(block, Graph):
        return [n.block for n in block.nodes if n.block is not None]
    return []


def python_blocks(graph):
    """The blocks in ``graph`` (recursively) that run Python code per chunk.

    A non-block callable counts as Python.  An empty list means the whole
    graph can run inside a C audio callback without the interpreter.
    """
    if not isinstance(graph, Block):
        return [graph]
    if _python_level(type(graph)):
        return [graph]
    found = []
    for b in _children(graph):
        found += python_blocks(b)
    return found


def _keeps_frame_count(graph):
    """Whether every block in ``graph`` emits as many frames as it takes (what a device output needs)."""
    if not isinstance(graph, Block):
        return True
    return graph.rate == 1 and all(_keeps_frame_count(b) for b in _children(graph))


def _refuse_rate_change(who, graph):
    """A graph that feeds a device must keep the frame count of every callback."""
    if not _keeps_frame_count(graph):
        raise ValueError(f"{who}: {graph!r} changes the sample rate (rate {graph.rate} overall, or "
                         f"inside), so its output cannot follow the device's callbacks frame for "
                         f"frame; use AudioInput for acquisition at another rate, or keep rate "
                         f"changes out of a live output chain")


def _python_runner(graph):
    """A function x -> y that runs ``graph`` with its Python blocks (the GIL fallback).

    Pipeline and Graph call their Python-level blocks themselves (with the
    GIL), so the graph's own ``process`` is the runner.
    """
    return graph.process if isinstance(graph, Block) else graph


# ---------------------------------------------------------------------------
# devices

def _pair(value):
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"expected one value or an (input, output) pair, got {value!r}")
        return value[0], value[1]
    return value, value


def _device_info(sdm, who, device, kind):
    try:
        return sdm.query_devices(device, kind)
    except (ValueError, sdm.PortAudioError) as e:
        which = f"{kind} device {device!r}" if device is not None else f"default {kind} device"
        raise ValueError(f"{who}: no usable {which} ({e}); 'streamdsp devices' lists them") from None


def _channels(who, kind, wanted, known, maximum):
    """Channels to open: what was asked, else what the graph needs, else up to 2."""
    if wanted is not None:
        if isinstance(wanted, bool) or not isinstance(wanted, (int, np.integer)) or wanted < 1:
            raise ValueError(f"{who}: expected {kind} channels to be a whole number >= 1, got {wanted!r}")
        ch = int(wanted)
    elif known:
        ch = int(known)
    else:
        ch = min(2, maximum)
    if ch > maximum:
        raise ValueError(f"{who}: expected at most {maximum} {kind} channels (what the device has), "
                         f"got {ch}")
    if ch < 1:
        raise ValueError(f"{who}: the {kind} device has no {kind} channels")
    return ch


def _prepare(who, graph, channels):
    try:
        graph.prepare(channels, "float32")
    except (ValueError, TypeError, StreamStateError) as e:
        raise type(e)(f"{who}: cannot run {graph!r} on {channels} float32 channels: {e}") from None


def _ffi_pointers(sdm, engine):
    ffi = sdm._ffi
    return (ffi.cast("PaStreamCallback *", engine.callback_address),
            ffi.cast("void *", engine.userdata_address))


# ---------------------------------------------------------------------------

class _Live:
    """What AudioStream, AudioInput and AudioOutput share: the stream, its engine, its counters."""

    _who = "Audio"
    _stream = None
    _engine = None
    _graph = None
    _gil_free = True
    _error = None

    def __reduce_ex__(self, protocol):
        raise TypeError(f"{type(self).__name__}: cannot be pickled or copied: it is a live audio "
                        f"device stream; pickle the blocks it runs instead (sd.save_state)")

    def _init_common(self, samplerate, blocksize, latency):
        from streamdsp._core._validate import whole_number

        self._blocksize = whole_number(self._who, "blocksize", blocksize, minimum=0)
        if samplerate is not None:
            from streamdsp._core._validate import finite_float
            samplerate = finite_float(self._who, "samplerate", samplerate)
            if samplerate <= 0:
                raise ValueError(f"{self._who}: expected samplerate > 0, got {samplerate!r}")
        self._samplerate_arg = samplerate
        self._latency_arg = latency

    # -- life cycle ------------------------------------------------------
    def start(self):
        """Start the stream (the first callback may run before this returns)."""
        if self._stream is None:
            raise StreamStateError(f"{self._who}: the stream is closed; make a new one")
        self._error = None
        self._stream.start()

    def stop(self):
        """Stop the stream after the buffers already queued have played.  Restart with :meth:`start`."""
        if self._stream is not None:
            self._stream.stop()

    def close(self):
        """Stop and close the stream; the graph stays as it is (call ``reset()`` on it to reuse it)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()
        # PortAudio calls nothing after Pa_CloseStream: the engine may go
        if stream is not None:
            self._final = self._snapshot(stream)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        if exc_type is None and self._error is not None:
            raise StreamDSPError(f"{self._who}: the graph failed in the audio callback: "
                                 f"{self._error!r}") from self._error

    def __del__(self):
        # never free the engine while PortAudio may still call into it
        try:
            self.close()
        except Exception:
            pass

    # -- state ----------------------------------------------------------
    @property
    def active(self):
        """Whether the stream is running."""
        return self._stream is not None and self._stream.active

    @property
    def closed(self):
        """Whether :meth:`close` was called."""
        return self._stream is None

    @property
    def gil_free(self):
        """Whether the audio callback runs without the Python interpreter (compiled graph)."""
        return self._gil_free

    @property
    def samplerate(self):
        """Frames per second of the stream (as PortAudio opened it)."""
        return self._samplerate

    @property
    def blocksize(self):
        """Frames per callback (0: whatever the host gives)."""
        return self._blocksize

    @property
    def device(self):
        """Device index (an (input, output) pair for AudioStream)."""
        return self._device

    @property
    def channels(self):
        """Device channels (an (input, output) pair for AudioStream)."""
        return self._device_channels

    @property
    def latency(self):
        """The stream's latency in seconds as PortAudio reports it ((input, output) for AudioStream)."""
        return self._stream_latency

    @property
    def graph(self):
        """The graph the stream runs (``None`` if it has none)."""
        return self._graph

    @property
    def graph_latency(self):
        """The graph's own latency in frames (0 without a graph)."""
        g = self._graph
        return int(g.latency) if isinstance(g, Block) else 0

    @property
    def paused(self):
        """While True the callback skips the graph (its state is kept) and plays silence."""
        return self._engine.paused if self._engine is not None else False

    @paused.setter
    def paused(self, value):
        if self._engine is not None:
            self._engine.paused = bool(value)

    @property
    def error(self):
        """The exception a Python graph raised in the callback, if any (the stream then stopped)."""
        return self._error

    def reset(self):
        """Forget the graph's history; done by the audio thread before its next buffer."""
        if self._engine is not None:
            self._engine.request_reset()
        if self._stream is None or not self._stream.active:
            if isinstance(self._graph, Block):
                self._graph.reset()
            if self._engine is not None:
                self._engine.py_take_reset()

    # -- counters -------------------------------------------------------
    def _snapshot(self, stream):
        s = self._engine.counters()
        sr = self._samplerate
        s.update({
            "period_s": (self._blocksize / sr) if self._blocksize else None,
            "latency_s": self._stream_latency,
            "graph_latency": self.graph_latency,
            "graph_latency_s": self.graph_latency / sr,
            "gil_free": self._gil_free,
            "samplerate": sr,
            "blocksize": self._blocksize,
            "active": bool(stream is not None and stream.active),
            "cpu_load": float(stream.cpu_load) if stream is not None and not stream.closed else 0.0,
        })
        return s

    def stats(self):
        """Counters of the stream so far, readable at any time (also after close).

        Returns
        -------
        dict
            ``callbacks``, ``frames``; ``xruns`` (callbacks whose status had
            an input over/underflow or output under/overflow flag) and each
            flag's count (``input_overflows``, ``output_underflows``...);
            ``max_callback_s``, ``mean_callback_s``, ``last_callback_s``
            (time spent inside the callback) and ``max_interval_s`` (longest
            gap between two callbacks); ``callback_time_histogram`` (a list
            of ``(upper_bound_s, count)``: how many callbacks took less than
            1 us, 2 us, 4 us ... and at least the bound before, non-empty
            buckets only); ``period_s`` (blocksize /
            samplerate); ``latency_s`` (the stream's reported latency),
            ``graph_latency`` (frames) and ``graph_latency_s``;
            ``gil_free``; ``samplerate``, ``blocksize``, ``active``,
            ``cpu_load`` (PortAudio's estimate); and, for AudioInput /
            AudioOutput, ``fifo_overflow_frames`` (frames dropped because
            the reader fell behind) / ``fifo_underflow_frames`` (frames of
            silence played because the writer fell behind).
        """
        if self._stream is None:
            return dict(getattr(self, "_final", None) or {})
        return self._snapshot(self._stream)

    def __repr__(self):
        state = "closed" if self.closed else ("active" if self.active else "stopped")
        return (f"<{type(self).__name__} {state} {self._samplerate:g} Hz blocksize={self._blocksize} "
                f"channels={self._device_channels} gil_free={self._gil_free}>")


class AudioStream(_Live):
    """Run a graph live: input device -> graph -> output device.

    A full-duplex PortAudio stream (through sounddevice) whose callback
    pushes every input buffer through ``graph`` and plays what comes out.
    When the graph is made of compiled streamdsp blocks (any block,
    ``a >> b`` chain, :class:`Graph` or :class:`Parallel`), the callback is
    C code that calls the compiled executor directly: the Python
    interpreter is never entered on the audio thread, so a busy main thread
    or a garbage collection cannot make it late (:attr:`gil_free` is
    True).  A graph with a Python-level block (a Python subclass with its
    own ``process``), or a plain Python callable ``f(x) -> y``, runs from
    an ordinary sounddevice callback instead, which needs the GIL
    (:attr:`gil_free` is False).

    Parameters
    ----------
    graph : Block or callable
        What to run; rate-preserving, one input, one output.  It is
        prepared (compiled, all memory allocated) for the input channels
        and float32 before the stream opens.
    samplerate : float, optional
        Default: the device's.
    blocksize : int, optional
        Frames per callback (default 256); 0 lets the host choose (lowest
        latency, variable sizes).
    device : int or str or pair, optional
        Device index or (part of its) name, or an (input, output) pair, as
        in sounddevice; default: the default devices.
    channels : int or pair, optional
        Input channels (or an (input, output) pair).  Default input: the
        graph's own channel count if its coefficients fix it, else up to 2.
        Default output: the graph's output channels; a mono graph output is
        copied to up to 2 device channels.
    latency : float or {"low", "high"} or pair, optional
        As in sounddevice (default: sounddevice's default).
    monitor : RingBuffer, optional
        Gets every frame the graph puts out (a float32 ring buffer; its
        channel count is fixed here if unset), for meters and scopes read
        from other threads.

    Raises
    ------
    PortAudioMissingError
        PortAudio is not installed.
    ValueError, StreamStateError
        The graph cannot run on these channels (or already streams others),
        changes the sample rate, or the device lacks the channels.

    See Also
    --------
    AudioInput, AudioOutput, swap, stats

    Notes
    -----
    Latency from input to output: ``latency[0] + latency[1]`` (what the
    host reports) plus :attr:`graph_latency` frames; on JACK with
    ``blocksize`` equal to the server's period, a loopback comes back two
    periods (plus the graph's latency) after it was played.

    The C callback reads the graph's parameters every buffer, so setting
    one from Python (``gain.gain = 0.5``) takes effect at the next buffer
    without a lock; the change is a step (no ramp).  :meth:`swap` replaces
    the whole graph with a crossfade (click-free).  :meth:`reset` and
    :attr:`paused` are atomic flags the audio thread acts on.  Nothing is
    allocated in the callback.  Counters (:meth:`stats`) are written by the
    audio thread and can be read at any time.

    .. note::
       The graph belongs to the stream while it is open.  Don't do this!
       ``graph.process(x)`` from Python while the stream runs it: blocks
       are not thread-safe.

    Examples
    --------
    >>> import time, streamdsp as sd
    >>> with sd.AudioStream(sd.Gain(0.5), device="loopback") as stream:  # doctest: +SKIP
    ...     time.sleep(1.0)
    ...     print(stream.gil_free, stream.stats()["xruns"])
    True 0
    """

    _who = "AudioStream"

    def __init__(self, graph, samplerate=None, blocksize=256, device=None, channels=None,
                 latency=None, monitor=None):
        from streamdsp._io._audio_rt import Engine

        who = self._who
        self._init_common(samplerate, blocksize, latency)
        if graph is None or not (isinstance(graph, Block) or callable(graph)):
            raise TypeError(f"{who}: expected a streamdsp block or graph (or a callable f(x) -> y), "
                            f"got {graph!r:.60}")
        sdm = _sounddevice(who)
        idev, odev = _pair(device)
        iinfo = _device_info(sdm, who, idev, "input")
        oinfo = _device_info(sdm, who, odev, "output")
        want_in, want_out = _pair(channels)
        self._gil_free = not python_blocks(graph)
        known = graph.channels if isinstance(graph, Block) else None
        ch_in = _channels(who, "input", want_in, known, iinfo["max_input_channels"])
        g_out = None
        if self._gil_free:
            _prepare(who, graph, ch_in)
            _refuse_rate_change(who, graph)
            g_out = graph.out_channels
        else:
            _refuse_rate_change(who, graph)
            runner = _python_runner(graph)
        guess = g_out or ch_in
        ch_out = _channels(who, "output", want_out, guess if guess > 1 else None,
                           oinfo["max_output_channels"])
        if g_out is not None and g_out not in (1, ch_out):
            raise ChannelMismatchError(f"{who}: the graph puts out {g_out} channels, "
                                       f"the output has {ch_out}")
        self._graph = graph
        if self._gil_free:
            self._engine = Engine("duplex", graph, ch_in, ch_out, ch_in, g_out, 0, monitor)
            cb, ud = _ffi_pointers(sdm, self._engine)
            self._stream = sdm._StreamBase(
                kind="duplex", samplerate=self._samplerate_arg, blocksize=self._blocksize,
                device=(idev, odev), channels=(ch_in, ch_out), dtype=("float32", "float32"),
                latency=latency, callback=cb, userdata=ud, wrap_callback=None)
        else:
            self._engine = Engine("duplex", None, ch_in, ch_out, 1, 1, 0, None)
            self._stream = sdm.Stream(
                samplerate=self._samplerate_arg, blocksize=self._blocksize, device=(idev, odev),
                channels=(ch_in, ch_out), dtype="float32", latency=latency,
                callback=self._python_callback(sdm, runner, monitor, ch_out))
        self._samplerate = float(self._stream.samplerate)
        self._device = tuple(self._stream.device)
        self._device_channels = (ch_in, ch_out)
        self._stream_latency = tuple(self._stream.latency)

    def _python_callback(self, sdm, runner, monitor, ch_out):
        engine = self._engine
        # what the callback runs; swap() puts the next one in "pending"
        state = self._py_state = {"run": runner, "graph": self._graph, "pending": None,
                                  "old": None, "fade": 0, "pos": 0}

        def output(run, indata, frames):
            y = np.asarray(run(indata), dtype=np.float32)
            if y.ndim == 1:
                y = y[:, None]
            if y.ndim != 2 or y.shape[1] not in (1, ch_out) or len(y) != frames:
                raise ChannelMismatchError(f"{self._who}: the graph put out shape {y.shape}, "
                                           f"expected ({frames}, {ch_out}) or ({frames}, 1)")
            return y

        def callback(indata, outdata, frames, time_info, status):
            t0 = engine.py_begin(status._flags)
            try:
                pending = state["pending"]
                if pending is not None:
                    state["pending"] = None
                    state["old"] = state["run"] if pending[2] > 0 and not engine.paused else None
                    state["run"], state["graph"], state["fade"] = pending
                    state["pos"] = 0
                if engine.py_take_reset():
                    for g in (state["graph"],):
                        if isinstance(g, Block):
                            g.reset()
                if engine.paused:
                    outdata.fill(0)
                    return
                y = output(state["run"], indata, frames)
                if state["old"] is not None:
                    old = output(state["old"], indata, frames)
                    pos, fade = state["pos"], state["fade"]
                    w = np.minimum(np.arange(pos + 1, pos + frames + 1) / fade, 1.0)[:, None]
                    y = (old + w * (y - old)).astype(np.float32)
                    state["pos"] = pos + frames
                    if state["pos"] >= fade:
                        state["old"] = None
                outdata[:] = y
                if monitor is not None:
                    monitor.write(y)
            except Exception as e:
                outdata.fill(0)
                self._error = e
                raise sdm.CallbackAbort from e
            finally:
                engine.py_end(t0, frames)
        return callback

    def swap(self, graph, crossfade=0.05):
        """Replace the graph while the stream runs, crossfading from the old one.

        The new graph is prepared here (all allocation happens in this
        thread); the audio thread takes it at the start of its next buffer
        and, for ``crossfade`` seconds, runs both graphs on the same input
        and mixes them along a linear ramp, old to new, so there is no
        click.  Then the old graph is dropped (it keeps its state).

        Parameters
        ----------
        graph : Block or callable
            Same input channels and the same output channels as the current
            graph.  A stream with a C callback takes compiled graphs only.
        crossfade : float, optional
            Seconds of the crossfade (0: switch at a buffer boundary).

        Notes
        -----
        The new graph starts with its own history (empty for a fresh
        graph): a new reverb's tail builds up from the swap on.  To keep the
        input history across an impulse-response change, a block must swap
        its coefficients itself (``Convolver``'s job).  Waits while an
        earlier swap is still fading.
        """
        from streamdsp._core._validate import finite_float

        who = f"{self._who}.swap"
        if self._stream is None:
            raise StreamStateError(f"{who}: the stream is closed")
        crossfade = finite_float(who, "crossfade", crossfade)
        if crossfade < 0:
            raise ValueError(f"{who}: expected crossfade >= 0 seconds, got {crossfade!r}")
        frames = int(round(crossfade * self._samplerate))
        ch_in, ch_out = self._device_channels
        if not self._gil_free:
            runner = _python_runner(graph)
            self._py_state["pending"] = (runner, graph, frames)
            self._graph = graph
            return
        if python_blocks(graph):
            raise TypeError(f"{who}: this stream runs a C callback, so the new graph must be made of "
                            f"compiled blocks (open a new stream for Python blocks)")
        _prepare(who, graph, ch_in)
        old_out = self._graph.out_channels
        if graph.out_channels != old_out or not _keeps_frame_count(graph):
            raise ChannelMismatchError(f"{who}: expected a rate-preserving graph with {old_out} output "
                                       f"channels, like the current one; got {graph!r}")
        deadline = time.monotonic() + 2.0 + 2 * crossfade
        while not self._engine.swap(graph, frames, self.active):
            if not self.active or time.monotonic() > deadline:
                self._engine.cancel_swap()
            else:
                time.sleep(max(self._blocksize, 64) / self._samplerate / 2)
        self._graph = graph

    @property
    def swapping(self):
        """Whether a :meth:`swap` is still on its way to the audio thread or fading."""
        if not self._gil_free:
            return self._py_state["pending"] is not None or self._py_state["old"] is not None
        return self._engine.swap_busy


class AudioInput(_Live, Source):
    """A live source: frames from an input device, for recording and acquisition.

    Iterating it starts the stream and yields float32 chunks of shape
    ``(frames, channels)`` as they arrive, so ``AudioInput(...) >> blocks
    >> sink`` driven by :func:`streamdsp.run` records through a filter into
    a file.  The audio callback is C: it copies each buffer (through
    ``graph`` first, if given) into a lock-free FIFO that the iterating
    thread drains, and into ``monitor``; it never waits for Python.

    Parameters
    ----------
    samplerate, blocksize, device, latency
        As for :class:`AudioStream` (one device).
    channels : int, optional
        Input channels (default: ``graph``'s if its coefficients fix them,
        else up to 2).
    graph : Block, optional
        Compiled blocks to run inside the callback (e.g. a decimator for
        acquisition).  Python blocks belong after the source instead:
        ``AudioInput() >> my_block >> sink``.
    seconds : float, optional
        Stop after this much audio has been yielded (then :attr:`frames`
        is known); default: until :meth:`stop` or :meth:`close`.
    monitor : RingBuffer, optional
        Gets every frame from the callback, to watch the latest audio from
        another thread while the stream records.
    buffer_seconds : float, optional
        Size of the FIFO (default 2 s): how long the iterating thread may
        stall before frames are dropped (counted in
        ``stats()["fifo_overflow_frames"]``).

    Examples
    --------
    >>> import streamdsp as sd
    >>> mic = sd.AudioInput(seconds=5.0, channels=1)  # doctest: +SKIP
    >>> sd.run(mic >> sd.Gain(2.0) >> sd.FileSink("take.flac", int(mic.samplerate)))  # doctest: +SKIP
    'take.flac'
    """

    _who = "AudioInput"

    def __init__(self, samplerate=None, blocksize=256, device=None, channels=None, latency=None,
                 graph=None, seconds=None, monitor=None, buffer_seconds=2.0):
        from streamdsp._core._validate import finite_float
        from streamdsp._io._audio_rt import Engine

        who = self._who
        self._init_common(samplerate, blocksize, latency)
        if seconds is not None:
            seconds = finite_float(who, "seconds", seconds)
            if seconds <= 0:
                raise ValueError(f"{who}: expected seconds > 0 (or None), got {seconds!r}")
        buffer_seconds = finite_float(who, "buffer_seconds", buffer_seconds)
        if buffer_seconds <= 0:
            raise ValueError(f"{who}: expected buffer_seconds > 0, got {buffer_seconds!r}")
        if graph is not None:
            if not isinstance(graph, Block):
                raise TypeError(f"{who}: expected graph to be a streamdsp block, got {graph!r:.60}")
            if python_blocks(graph):
                raise TypeError(f"{who}: graph= runs inside the audio callback, so it must be made of "
                                f"compiled blocks; put Python blocks after the source: "
                                f"AudioInput(...) >> block >> sink")
        sdm = _sounddevice(who)
        info = _device_info(sdm, who, device, "input")
        known = graph.channels if graph is not None else None
        ch = _channels(who, "input", channels, known, info["max_input_channels"])
        g_out = ch
        rate = 1
        if graph is not None:
            _prepare(who, graph, ch)
            g_out = graph.out_channels
            rate = graph.rate
        rate_guess = self._samplerate_arg or float(info["default_samplerate"])
        from streamdsp._io._audio_rt import PIECE
        piece_out = graph.max_out_frames(PIECE) if graph is not None else PIECE
        fifo = max(int(math.ceil(buffer_seconds * rate_guess * rate)), 4 * max(self._blocksize, piece_out))
        self._graph = graph
        self._engine = Engine("input", graph, ch, 0, ch, g_out, fifo, monitor)
        cb, ud = _ffi_pointers(sdm, self._engine)
        self._stream = sdm._StreamBase(
            kind="input", samplerate=self._samplerate_arg, blocksize=self._blocksize, device=device,
            channels=ch, dtype="float32", latency=latency, callback=cb, userdata=ud,
            wrap_callback=None)
        self._samplerate = float(self._stream.samplerate)
        self._device = self._stream.device
        self._device_channels = ch
        self._stream_latency = float(self._stream.latency)
        # what a Source tells its sinks
        self.samplerate = float(self._samplerate * rate)
        self.channels = g_out
        self.seconds = seconds
        self.frames = None if seconds is None else int(round(seconds * self.samplerate))

    # plain attributes here, as a Source has them: the rate, channels and
    # length of the chunks yielded (after ``graph``); the device's are in stats()
    samplerate = None
    channels = None
    frames = None

    def __iter__(self):
        if self._stream is None:
            raise StreamStateError(f"{self._who}: the stream is closed; make a new one")
        remaining = self.frames
        nap = max(self._blocksize, 64) / self._samplerate / 2
        if not self._stream.active:
            self.start()
        try:
            while remaining is None or remaining > 0:
                stream = self._stream
                chunk = self._engine.fifo_read(-1 if remaining is None else remaining)
                if len(chunk):
                    if remaining is not None:
                        remaining -= len(chunk)
                    yield chunk
                elif stream is None or not stream.active:
                    break
                else:
                    time.sleep(nap)
        finally:
            if self.frames is not None:
                self.stop()

    def read(self, frames=None):
        """Frames waiting in the FIFO now (at most ``frames``), without waiting: ``(k, channels)``."""
        return self._engine.fifo_read(-1 if frames is None else int(frames))

    def __rshift__(self, other):
        return Source.__rshift__(self, other)


class AudioOutput(_Live, Sink):
    """A live sink: plays the chunks written to it on an output device.

    ``source >> blocks >> AudioOutput()`` driven by :func:`streamdsp.run`
    plays a file through a filter at the device's pace: :meth:`write`
    queues frames in a lock-free FIFO and waits while it is full, the C
    audio callback takes them (through ``graph`` first, if given), and
    :meth:`close` (called by ``run`` at the end) waits until everything
    queued has been heard.

    Parameters
    ----------
    samplerate, blocksize, device, latency
        As for :class:`AudioStream` (one device).  Give ``samplerate`` =
        the source's rate: PortAudio does not resample.
    channels : int, optional
        Output channels (default: the graph's or the chunks' channels; mono
        is copied to up to 2 channels).
    graph : Block, optional
        Compiled blocks to run inside the callback.  Python blocks belong
        before the sink: ``source >> my_block >> AudioOutput()``.
    buffer_seconds : float, optional
        Size of the FIFO (default 0.5 s); playing starts once it is full
        (or at :meth:`close`).  Frames of silence played because the writer
        fell behind are counted in ``stats()["fifo_underflow_frames"]``.

    Examples
    --------
    >>> import streamdsp as sd
    >>> src = sd.FileSource("speech.wav")  # doctest: +SKIP
    >>> sd.run(src >> sd.Gain(0.5) >> sd.AudioOutput(samplerate=src.samplerate))  # doctest: +SKIP
    """

    _who = "AudioOutput"

    def __init__(self, samplerate=None, blocksize=256, device=None, channels=None, latency=None,
                 graph=None, buffer_seconds=0.5):
        from streamdsp._core._validate import finite_float

        who = self._who
        self._init_common(samplerate, blocksize, latency)
        self._buffer_seconds = finite_float(who, "buffer_seconds", buffer_seconds)
        if self._buffer_seconds <= 0:
            raise ValueError(f"{who}: expected buffer_seconds > 0, got {buffer_seconds!r}")
        if graph is not None:
            if not isinstance(graph, Block):
                raise TypeError(f"{who}: expected graph to be a streamdsp block, got {graph!r:.60}")
            if python_blocks(graph):
                raise TypeError(f"{who}: graph= runs inside the audio callback, so it must be made of "
                                f"compiled blocks; put Python blocks before the sink: "
                                f"source >> block >> AudioOutput(...)")
        self._graph = graph
        self._device_arg = device
        self._channels_arg = channels
        self._sdm = _sounddevice(who)
        self._info = _device_info(self._sdm, who, device, "output")
        self._fifo_ch = None
        self._samplerate = self._samplerate_arg or float(self._info["default_samplerate"])
        self._device = None
        self._device_channels = None
        self._stream_latency = None
        self._done = False
        if graph is not None and graph.channels:
            self._open(graph.channels)

    def _open(self, in_ch):
        from streamdsp._io._audio_rt import Engine

        who, graph = self._who, self._graph
        g_out = in_ch
        if graph is not None:
            _prepare(who, graph, in_ch)
            _refuse_rate_change(who, graph)
            g_out = graph.out_channels
        ch_out = _channels(who, "output", self._channels_arg, g_out if g_out > 1 else None,
                           self._info["max_output_channels"])
        if g_out not in (1, ch_out):
            raise ChannelMismatchError(f"{who}: {g_out} channels cannot feed {ch_out} output channels")
        fifo = max(int(math.ceil(self._buffer_seconds * self._samplerate)), 2 * max(self._blocksize, 256))
        self._engine = Engine("output", graph, 0, ch_out, in_ch, g_out, fifo, None)
        cb, ud = _ffi_pointers(self._sdm, self._engine)
        self._stream = self._sdm._StreamBase(
            kind="output", samplerate=self._samplerate_arg, blocksize=self._blocksize,
            device=self._device_arg, channels=ch_out, dtype="float32", latency=self._latency_arg,
            callback=cb, userdata=ud, wrap_callback=None)
        self._fifo_ch = in_ch
        self._samplerate = float(self._stream.samplerate)
        self._device = self._stream.device
        self._device_channels = ch_out
        self._stream_latency = float(self._stream.latency)

    def _check_open(self):
        if self._done:
            raise StreamStateError(f"{self._who}: the stream is closed; make a new one")

    def start(self):
        self._check_open()
        if self._stream is None:
            raise StreamStateError(f"{self._who}: nothing to play yet (the channel count comes "
                                   f"with the first chunk written)")
        _Live.start(self)

    def write(self, chunk):
        """Queue a chunk ``(frames,)`` or ``(frames, channels)``; waits while the FIFO is full."""
        self._check_open()
        a = np.asarray(chunk)
        if a.ndim not in (1, 2):
            raise ValueError(f"{self._who}: expected a chunk of shape (frames,) or (frames, channels), "
                             f"got shape {a.shape}")
        if a.dtype.kind not in "fiub":
            raise TypeError(f"{self._who}: expected real samples, got dtype {a.dtype}")
        a = np.ascontiguousarray(a if a.ndim == 2 else a[:, None], dtype=np.float32)
        if len(a) == 0:
            return
        if self._stream is None:
            self._open(a.shape[1])
        if a.shape[1] != self._fifo_ch:
            raise ChannelMismatchError(f"{self._who}: chunk has {a.shape[1]} channels but this stream "
                                       f"has {self._fifo_ch}; got shape {np.shape(chunk)}")
        nap = max(self._blocksize, 64) / self._samplerate
        start = 0
        while start < len(a):
            start += self._engine.fifo_write(a, start)
            if start < len(a):
                if not self._stream.active:
                    if not self._stream.stopped:
                        raise StreamStateError(f"{self._who}: the stream stopped while playing")
                    self.start()
                else:
                    time.sleep(nap)

    def close(self, wait=True):
        """Play what is queued (and the graph's latency), then stop and close.

        With ``wait=False``, stop at once and drop what is still queued.
        """
        if self._done:
            return
        self._done = True
        stream = self._stream
        if wait and stream is not None and not stream.closed:
            self._engine.set_eof()
            if self._engine.fifo_level and not stream.active and stream.stopped:
                stream.start()
            nap = max(self._blocksize, 64) / self._samplerate
            while self._engine.fifo_level and stream.active:
                time.sleep(nap)
            if stream.active:
                time.sleep(self.graph_latency / self._samplerate + self._stream_latency + 2 * nap)
        _Live.close(self)

    def result(self):
        """The stream's :meth:`stats` (what ``streamdsp.run`` returns for this sink)."""
        return self.stats()

    def stats(self):
        if self._engine is None:
            return {}
        return _Live.stats(self)

    def __repr__(self):
        if self._stream is None and not self._done:
            return f"<AudioOutput not yet opened {self._samplerate:g} Hz>"
        return _Live.__repr__(self)
