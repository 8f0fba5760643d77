"""Runner: drive a flow in a background thread, for acquisitions that run for days."""

import atexit
import sys
import threading
import time
import weakref
from collections import deque

import numpy as np

from streamdsp._core._validate import choice, whole_number
from streamdsp._errors import ChannelMismatchError, QueueFullError, StreamStateError
from streamdsp._graph._flow import Flow, _as_flow
from streamdsp._graph._flush import flush_chain
from streamdsp._graph._plan import rate_of

_OVERFLOW = ("block", "drop_oldest", "raise")


def _annotate(error, where):
    """Make the message of `error` say where it was raised (in place)."""
    args = getattr(error, "args", ())
    if args and isinstance(args[0], str) and not isinstance(error, KeyError):
        error.args = (f"{where}: {args[0]}",) + tuple(args[1:])
    if where not in str(error) and hasattr(error, "add_note"):
        error.add_note(f"raised by {where}")
    return error


def _offer_samplerate(sink, rate):
    """Tell a sink (and those inside a Tee) the rate of what it receives, if it wants it."""
    from streamdsp._io._sinks import Tee
    if isinstance(sink, Tee):
        for s in sink.sinks:
            _offer_samplerate(s, rate)
    elif hasattr(sink, "_bind_samplerate"):
        sink._bind_samplerate(rate)


_RUNNING: "weakref.WeakSet[Runner]" = weakref.WeakSet()


@atexit.register
def _stop_all_at_exit():
    # The worker is a daemon thread, so an interpreter that exits without
    # stop() would kill it mid-chunk; stop the runners cleanly instead
    # (queued chunks processed, blocks flushed, files closed).
    for r in list(_RUNNING):
        try:
            r.stop(timeout=30.0)
        except BaseException as e:     # pragma: no cover - reported, exit goes on
            print(f"streamdsp: {r!r} failed while stopping at exit: {type(e).__name__}: {e}", file=sys.stderr)


class Runner:
    """Drive a flow in a background thread: a source, or chunks pushed from outside.

    Two ways to feed it:

    - **pull**: ``Runner(source >> ... >> sink)`` iterates the source in the
      thread until it ends (or :meth:`stop` is called, for endless
      sources such as generators).
    - **push**: ``Runner(block >> ... >> sink)`` (a flow without a source)
      takes chunks from :meth:`push`, typically called by an acquisition
      callback in another thread, through a bounded queue; what happens
      when the queue is full is the ``overflow`` policy.

    At the end (the source ran out, or :meth:`stop`) every queued chunk is
    processed, the blocks are flushed into the sink and the sink is
    closed.  An exception raised by the source, any block or the sink
    stops the runner and is re-raised in the caller by :meth:`join`,
    :meth:`stop` or the ``with`` block, its message naming the stage that
    raised it.

    Parameters
    ----------
    flow : Flow, Block, Source or Sink
        What to run, usually built with ``>>``.  Without a sink the output
        is collected in an :class:`ArraySink` (:meth:`result`).
    queue_size : int, optional
        Chunks the push queue holds (push mode).
    overflow : {"block", "drop_oldest", "raise"}, optional
        When :meth:`push` finds the queue full: wait for room (the caller
        blocks; not for a real-time callback), drop the oldest queued
        chunk to make room (never blocks; the dropped chunks are counted),
        or raise :class:`QueueFullError` in the caller (the new chunk is
        dropped and counted).
    samplerate : float, optional
        Input samplerate, for the ``seconds`` counter; default: the
        source's, else the sink's over the blocks' rate (``up/down``).
    name : str, optional
        Name of the thread.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> with sd.Runner(sd.Gain(2.0) >> sd.ArraySink(), queue_size=8) as r:
    ...     for i in range(3):
    ...         r.push(np.full(4, float(i)))
    >>> r.result()
    array([0., 0., 0., 0., 2., 2., 2., 2., 4., 4., 4., 4.])
    >>> r.stats()["chunks"], r.stats()["frames"]
    (3, 12)

    An endless generator, stopped after a while:

    >>> import time
    >>> r = sd.Runner(sd.Sine(50.0, 1000) >> sd.Gain(0.5) >> sd.RingBuffer(1.0, 1000)).start()
    >>> time.sleep(0.05); r.stop()
    True
    >>> r.stats()["seconds"] > 0
    True
    """

    def __reduce_ex__(self, protocol):
        raise TypeError("Runner: cannot be pickled or copied: it drives a live thread and its "
                        "queues; pickle the blocks of its flow instead (sd.save_state)")

    def __init__(self, flow, queue_size=64, overflow="block", samplerate=None, name=None):
        from streamdsp._io._sinks import ArraySink

        f = _as_flow(flow)
        self.source = f.source
        self.blocks = list(f.blocks)
        self.sink = f.sink if f.sink is not None else ArraySink()
        self.queue_size = whole_number("Runner", "queue_size", queue_size, minimum=1)
        self.overflow = choice("Runner", "overflow", overflow, _OVERFLOW)
        self.samplerate = self._find_samplerate(samplerate)
        if self.samplerate:
            # sinks made without a samplerate (RingBuffer(seconds)) learn it
            _offer_samplerate(self.sink, self.samplerate * rate_of(self.blocks))
        self.name = name or "streamdsp-Runner"
        lock = threading.Lock()
        self._cond = threading.Condition(lock)    # state and queue; the worker waits here for chunks
        self._room = threading.Condition(lock)    # pushers blocked by a full queue wait here
        self._waiting_pushers = 0
        # wake blocked pushers once the queue is down to this, not at every
        # chunk taken: one thread switch per batch, not per chunk
        self._low_water = self.queue_size // 2
        self._queue = deque()
        self._state = "new"          # new -> running -> stopping -> done
        self._thread = None
        self._error = None
        self._error_reported = False
        self.failed_stage = None
        self._push_channels = None
        # counters
        self._chunks = 0
        self._frames = 0
        self._frames_out = 0
        self._out_1d = False         # the flush's output takes the layout of the chunks'
        self._busy = 0.0
        self._worst = 0.0
        self._drops = 0
        self._dropped_frames = 0
        self._high_water = 0
        self._t_start = None
        self._t_end = None

    def _find_samplerate(self, samplerate):
        if samplerate is not None:
            from streamdsp._core._validate import finite_float
            sr = finite_float("Runner", "samplerate", samplerate)
            if sr <= 0:
                raise ValueError(f"Runner: expected samplerate > 0, got {samplerate!r}")
            return sr
        if self.source is not None and getattr(self.source, "samplerate", None):
            return float(self.source.samplerate)
        sr = getattr(self.sink, "samplerate", None)
        if sr:
            return float(sr / rate_of(self.blocks))
        return None

    # ------------------------------------------------------------------
    # life cycle
    def start(self):
        """Start the processing thread; returns ``self``.  A runner starts once."""
        with self._cond:
            if self._state != "new":
                raise StreamStateError(f"Runner: already started ({self._state}); make a new Runner to run again")
            self._state = "running"
            self._t_start = time.perf_counter()
            self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
            _RUNNING.add(self)
            self._thread.start()
        return self

    def stop(self, timeout=None):
        """End the run cleanly and wait for it.

        Push mode: no more chunks are accepted; those queued are processed.
        Pull mode: the source is not read further.  Then the blocks are
        flushed into the sink and the sink is closed.  Re-raises an
        exception from the processing thread (see :meth:`join`).

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the thread (default: as long as it takes).

        Returns
        -------
        bool
            Whether the thread has finished.
        """
        with self._cond:
            if self._state == "new":
                self._state = "done"
                self.sink.close()
            elif self._state == "running":
                self._state = "stopping"
                self._cond.notify_all()
                self._room.notify_all()
        return self.join(timeout)

    def join(self, timeout=None):
        """Wait for the processing thread to end; re-raise its exception.

        In pull mode the thread ends when the source runs out; in push mode
        only after :meth:`stop`.  An exception raised in the thread by the
        source, a block or the sink is raised here (once), with the stage
        named in its message.

        Returns
        -------
        bool
            Whether the thread has finished (False if ``timeout`` ran out).
        """
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
            if t.is_alive():
                return False
        with self._cond:
            error = self._error if not self._error_reported else None
            self._error_reported = True
        if error is not None:
            raise error
        return True

    def __enter__(self):
        if self._state == "new":
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            # don't mask the exception of the with-body; the runner's own
            # error, if any, stays in `error`
            try:
                self.stop()
            except BaseException:
                pass
        return False

    @property
    def running(self):
        """Whether the processing thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def error(self):
        """The exception that stopped the thread, else ``None``."""
        return self._error

    def result(self):
        """The sink's result (the array for an :class:`ArraySink`, the path for a :class:`FileSink`)."""
        return self.sink.result()

    # ------------------------------------------------------------------
    # push mode
    def push(self, chunk, timeout=None):
        """Queue a chunk for processing (push mode).  The chunk is copied.

        Parameters
        ----------
        chunk : array_like, shape (frames,) or (frames, channels)
        timeout : float, optional
            ``overflow="block"`` only: raise :class:`QueueFullError` if
            there is still no room after this many seconds.

        Raises
        ------
        QueueFullError
            The queue is full and ``overflow="raise"`` (or the timeout ran
            out).
        StreamStateError
            The runner is not running (not started, stopped, or failed:
            the failure is the ``__cause__``).
        ValueError, TypeError
            A chunk that is not 1-D or 2-D real numbers, or whose channel
            count differs from the first pushed.
        """
        if self.source is not None:
            raise StreamStateError(f"Runner: this runner pulls its chunks from {self.source!r}; "
                                   f"push() is for flows without a source")
        if isinstance(chunk, (str, bytes)):
            raise TypeError(f"Runner.push: expected a numeric array of samples, got {type(chunk).__name__}")
        a = np.array(chunk, copy=True, order="C")
        if a.dtype.kind not in "fiub":
            raise TypeError(f"Runner.push: expected real samples, got dtype {a.dtype}")
        if a.ndim not in (1, 2):
            raise ValueError(f"Runner.push: expected a chunk of shape (frames,) or (frames, channels), got shape {a.shape}")
        ch = 1 if a.ndim == 1 else a.shape[1]
        if self._push_channels is None:
            self._push_channels = ch
        elif ch != self._push_channels:
            raise ChannelMismatchError(f"Runner.push: chunk has {ch} channels but the stream has "
                                       f"{self._push_channels} (fixed by the first chunk); got shape {a.shape}")
        with self._cond:
            self._check_running()
            if len(self._queue) >= self.queue_size:
                if self.overflow == "block":
                    deadline = None if timeout is None else time.monotonic() + timeout
                    self._waiting_pushers += 1
                    try:
                        while len(self._queue) >= self.queue_size and self._state == "running":
                            left = None if deadline is None else deadline - time.monotonic()
                            if left is not None and left <= 0:
                                self._drops += 1
                                self._dropped_frames += len(a)
                                raise QueueFullError(f"Runner.push: the queue stayed full ({self.queue_size} "
                                                     f"chunks) for {timeout} s; the chunk was dropped")
                            self._room.wait(left)
                    finally:
                        self._waiting_pushers -= 1
                    self._check_running()
                elif self.overflow == "drop_oldest":
                    old = self._queue.popleft()
                    self._drops += 1
                    self._dropped_frames += len(old)
                else:
                    self._drops += 1
                    self._dropped_frames += len(a)
                    raise QueueFullError(f"Runner.push: the queue is full ({self.queue_size} chunks, "
                                         f"overflow='raise'); the chunk was dropped")
            self._queue.append(a)
            if len(self._queue) > self._high_water:
                self._high_water = len(self._queue)
            self._cond.notify()

    def _check_running(self):
        if self._state != "running":
            why = {"new": "not started (call start() or use it in a with block)",
                   "stopping": "stopping", "done": "stopped"}[self._state]
            if self._error is not None:
                why = f"stopped by an error: {type(self._error).__name__}: {self._error}"
            raise StreamStateError(f"Runner: cannot push, the runner is {why}") from self._error

    # ------------------------------------------------------------------
    # the processing thread
    def _where(self, stage):
        n = len(self.blocks)
        if stage < 0:
            return f"Runner: the source {self.source!r}"
        if stage < n and n == 1:
            return f"Runner: the block {self.blocks[0]!r}"
        if stage < n:
            return f"Runner: block {stage} of {n} in the chain ({self.blocks[stage]!r})"
        return f"Runner: the sink {self.sink!r}"

    def _process(self, chunk):
        t0 = time.perf_counter()
        y = chunk
        stage = 0
        try:
            for b in self.blocks:
                y = b.process(y)
                stage += 1
            self.sink.write(y)
        except BaseException as e:
            raise _Failure(stage, e) from None
        dt = time.perf_counter() - t0
        self._chunks += 1
        self._frames += len(chunk)
        self._frames_out += len(y)
        self._out_1d = y.ndim == 1
        self._busy += dt
        if dt > self._worst:
            self._worst = dt

    def _flush_blocks(self):
        if not self.blocks:
            return
        y = flush_chain(self.blocks, np.zeros((0, 0)), on_failure=_raise_failure)
        if len(y):
            if y.shape[1] == 1 and self._out_1d:
                y = y.reshape(-1)
            try:
                self.sink.write(y)
            except BaseException as e:
                raise _Failure(len(self.blocks), e) from None
            self._frames_out += len(y)

    def _next_chunk(self):
        """The next queued chunk (push mode), or None when stopping and drained."""
        with self._cond:
            while not self._queue and self._state == "running":
                self._cond.wait()
            if not self._queue:
                return None
            chunk = self._queue.popleft()
            if self._waiting_pushers and len(self._queue) <= self._low_water:
                self._room.notify_all()
            return chunk

    def _work(self):
        try:
            if self.source is None:
                while True:
                    chunk = self._next_chunk()
                    if chunk is None:
                        break
                    self._process(chunk)
            else:
                it = iter(self.source)
                try:
                    while self._state == "running":
                        try:
                            chunk = next(it)
                        except StopIteration:
                            break
                        except BaseException as e:
                            raise _Failure(-1, e) from None
                        self._process(chunk)
                finally:
                    close = getattr(it, "close", None)
                    if close is not None:
                        close()
            self._flush_blocks()
            try:
                self.sink.close()
            except BaseException as e:
                raise _Failure(len(self.blocks), e) from None
        except _Failure as f:
            self._fail(f.stage, f.error)
        except BaseException as e:       # pragma: no cover - a bug in the runner itself
            self._fail(None, e)
        finally:
            with self._cond:
                self._state = "done"
                self._t_end = time.perf_counter()
                self._cond.notify_all()
                self._room.notify_all()
            _RUNNING.discard(self)

    def _fail(self, stage, error):
        if stage is not None:
            _annotate(error, self._where(stage))
            n = len(self.blocks)
            self.failed_stage = self.source if stage < 0 else (self.blocks[stage] if stage < n else self.sink)
        with self._cond:
            self._error = error
            self._state = "done"
            discarded = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
            self._room.notify_all()
        self._drops += len(discarded)
        self._dropped_frames += sum(len(c) for c in discarded)
        # keep what was written so far readable (a FileSink closes its file);
        # the first error is the one reported
        try:
            self.sink.close()
        except BaseException:
            pass

    # ------------------------------------------------------------------
    def stats(self):
        """Counters of the run so far (a new dict).

        Returns
        -------
        dict
            ``chunks``, ``frames`` (input frames processed), ``frames_out``,
            ``seconds`` (of signal processed; ``None`` if the samplerate is
            unknown), ``mean_chunk_s`` and ``max_chunk_s`` (time spent in the
            blocks and the sink per chunk), ``busy_s`` (their sum),
            ``elapsed_s`` (wall time since start), ``drops`` and
            ``dropped_frames`` (chunks lost to the overflow policy or
            discarded after a failure), ``queued`` (chunks waiting now),
            ``queue_high_water`` (most ever waiting), ``queue_size``,
            ``running``.
        """
        with self._cond:
            chunks = self._chunks
            end = self._t_end if self._t_end is not None else time.perf_counter()
            return {
                "chunks": chunks,
                "frames": self._frames,
                "frames_out": self._frames_out,
                "seconds": None if not self.samplerate else self._frames / self.samplerate,
                "mean_chunk_s": self._busy / chunks if chunks else 0.0,
                "max_chunk_s": self._worst,
                "busy_s": self._busy,
                "elapsed_s": 0.0 if self._t_start is None else end - self._t_start,
                "drops": self._drops,
                "dropped_frames": self._dropped_frames,
                "queued": len(self._queue),
                "queue_high_water": self._high_water,
                "queue_size": self.queue_size,
                "running": self._state in ("running", "stopping"),
            }

    def __repr__(self):
        mode = "pull" if self.source is not None else "push"
        return f"<Runner {mode} {self._state} {Flow(self.source, self.blocks, self.sink)!r}>"


def _raise_failure(stage, error):
    raise _Failure(stage, error) from None


class _Failure(Exception):
    """Internal: an exception and the stage (-1 source, i block, n sink) that raised it."""

    def __init__(self, stage, error):
        super().__init__(stage, error)
        self.stage = stage
        self.error = error
