"""A live scope in the browser: waveform, spectrum, meters and stream counters of a RingBuffer.

Bokeh is imported when :func:`scope` is called, never with ``import
streamdsp`` (``pip install "streamdsp[scope]"`` installs it).  The page is
served by a Bokeh server running on its own thread and event loop; every
refresh reads the ring buffer (a lock-free reader) and the stream's
``stats()`` (atomic counters), so the audio thread never waits for the scope.
"""

import logging
import math
import threading

import numpy as np

VIEWS = ("wave", "spectrum", "meters", "stats")
_MIN_NFFT = 64


def _bokeh(who):
    try:
        import bokeh  # noqa: F401
    except ImportError:
        raise ImportError(f"{who}: the browser scope needs bokeh: pip install 'streamdsp[scope]' "
                          f"(or pip install bokeh)") from None


class _ClosedTabFilter(logging.Filter):
    """Drops Bokeh's warning for a redraw sent to a tab that was just closed (expected, not a fault)."""

    def filter(self, record):
        return record.getMessage() != "Failed sending message as connection was closed"


_CLOSED_TAB_FILTER = _ClosedTabFilter()


class Scope:
    """A running browser scope; what :func:`scope` returns.  Close it to stop the server."""

    def __init__(self, analyser, views, title, port):
        self._analyser = analyser
        self.views = views
        self._title = title
        self._loop = None
        self._server = None
        self._error = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(port,), name="streamdsp-scope",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(30.0):
            raise RuntimeError("scope: the Bokeh server did not start within 30 s")
        if self._error is not None:
            self._thread.join()
            raise self._error
        self.port = self._server.port
        self.url = f"http://127.0.0.1:{self.port}/"

    def _serve(self, port):
        try:
            import asyncio

            from bokeh.application import Application
            from bokeh.application.handlers.function import FunctionHandler
            from bokeh.server.server import Server

            from streamdsp._io._scope_page import make_document
            from tornado.ioloop import IOLoop

            # bokeh prints its warnings to stderr itself (its own handler)
            logging.getLogger("bokeh.server.views.ws").addFilter(_CLOSED_TAB_FILTER)
            asyncio.set_event_loop(asyncio.new_event_loop())
            self._loop = IOLoop.current()
            app = Application(FunctionHandler(
                lambda doc: make_document(doc, self._analyser, self.views, self._title)))
            self._server = _bind(Server, app, self._loop, port)
            self._server.start()
        except BaseException as e:
            self._error = e
            if self._loop is not None:
                self._loop.close(all_fds=True)
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.start()
        finally:
            self._loop.close(all_fds=True)

    def _shutdown(self):
        self._server.stop(wait=False)
        self._loop.stop()

    @property
    def running(self):
        """Whether the server still serves the page."""
        return self._thread.is_alive()

    @property
    def updates(self):
        """How many times the views' numbers were computed (all open pages share each computation)."""
        return self._analyser.updates

    def close(self):
        """Stop the server and its thread (open pages stop updating)."""
        if self._thread.is_alive() and self._loop is not None:
            self._loop.add_callback(self._shutdown)
            self._thread.join(30.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "serving " + self.url if self.running else "closed"
        return f"<Scope {state} views={self.views}>"


def _bind(Server, app, loop, port):
    """A Bokeh server on 127.0.0.1:``port`` (0: a free port), accepting pages from that address."""
    import socket

    for attempt in range(20):
        p = port
        if port == 0:
            # the websocket origin must name the port, so pick one first
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                p = s.getsockname()[1]
        try:
            return Server(app, io_loop=loop, address="127.0.0.1", port=p,
                          allow_websocket_origin=[f"127.0.0.1:{p}", f"localhost:{p}"],
                          # a closed tab's session (and its redraws) goes within 6 s, not Bokeh's 32
                          check_unused_sessions_milliseconds=1000,
                          unused_session_lifetime_milliseconds=5000)
        except OSError as e:
            if port != 0 or attempt == 19:
                raise OSError(e.errno, f"scope: cannot serve on 127.0.0.1:{p} ({e.strerror}); "
                                       f"give another port (0 picks a free one)") from None


def scope(ring, samplerate=None, views=VIEWS, *, stream=None, port=5006, refresh=15.0, window=0.05,
          nfft=4096, title="streamdsp scope"):
    """Serve a live scope of a :class:`RingBuffer` as a local web page.

    A Bokeh server on its own thread serves ``http://127.0.0.1:<port>/``;
    each open page redraws ``refresh`` times a second from the newest frames
    of ``ring`` and from ``stream.stats()``.  Both are read without a lock
    the writer could wait on, so the audio callback (or whatever writes the
    ring) never waits for the scope.

    Parameters
    ----------
    ring : RingBuffer
        What to look at, e.g. the ``monitor`` of an :class:`AudioStream`.
        It should hold at least ``max(window * samplerate, nfft)`` frames.
    samplerate : float, optional
        Frames per second of the ring (default: ``ring.samplerate``).
    views : sequence of {"wave", "spectrum", "meters", "stats"}, optional
        What the page shows, top to bottom: the last ``window`` seconds;
        the magnitude spectrum of the last ``nfft`` frames, in dBFS, with
        the frequency of the strongest component; peak and RMS level per
        channel over the last refresh interval; the stream's counters
        (callbacks, xruns, callback times).
    stream : AudioStream or AudioInput or AudioOutput, optional
        Anything with a ``stats()`` method, for the "stats" view.
    port : int, optional
        TCP port on 127.0.0.1 (default 5006, Bokeh's; 0 picks a free one).
    refresh : float, optional
        Redraws per second (default 15; 1 to 60).
    window : float, optional
        Seconds of waveform shown (default 0.05).
    nfft : int, optional
        FFT length of the spectrum (default 4096, a power of two).
    title : str, optional
        Page title.

    Returns
    -------
    Scope
        Its ``url``; ``close()`` (or ``with``) stops the server.

    Raises
    ------
    ImportError
        bokeh is not installed (``pip install "streamdsp[scope]"``).
    ValueError, TypeError
        A bad argument; OSError when the port is taken.

    Notes
    -----
    The scope runs Python on its own thread (about 10-15 % of one core at
    15 redraws a second, one or three pages alike: the pages share each
    computation), and the browser that shows it draws on its own.  A
    compiled graph's callback (``stream.gil_free``) never waits for it;
    a Python callback needs the GIL, which the scope's thread holds while it
    redraws, so expect late callbacks (xruns) there, more so when the
    browser busies the same cores (``benchmarks/scope_cpu.py`` measures
    both).

    The page also holds a data source named ``streamdsp-scope-readout``
    with the latest ``frames`` written, ``peak_hz``/``peak_db`` of the
    spectrum and the stream's ``callbacks``/``xruns``; from JavaScript:
    ``Bokeh.documents[0].get_model_by_name("streamdsp-scope-readout").data``.

    Examples
    --------
    >>> import streamdsp as sd
    >>> ring = sd.RingBuffer(1.0, samplerate=48000, channels=2)
    >>> stream = sd.AudioStream(sd.Gain(1.0), samplerate=48000, monitor=ring)  # doctest: +SKIP
    >>> with stream, sd.scope(ring, stream=stream) as s:  # doctest: +SKIP
    ...     print("open", s.url)
    ...     input("press Enter to stop")
    """
    from streamdsp._io._sinks import RingBuffer

    who = "scope"
    if not isinstance(ring, RingBuffer):
        raise TypeError(f"{who}: expected ring to be a RingBuffer, got {ring!r:.60}")
    if samplerate is None:
        samplerate = ring.samplerate
        if samplerate is None:
            raise ValueError(f"{who}: expected a samplerate (the ring buffer does not know its own yet)")
    if isinstance(samplerate, bool) or not isinstance(samplerate, (int, float, np.number)) \
            or not math.isfinite(samplerate) or samplerate <= 0:
        raise ValueError(f"{who}: expected samplerate > 0, got {samplerate!r}")
    if isinstance(views, str):
        views = (views,)
    views = tuple(views)
    unknown = [v for v in views if v not in VIEWS]
    if unknown or not views:
        raise ValueError(f"{who}: expected views from {VIEWS}, got {views!r}")
    if stream is not None and not callable(getattr(stream, "stats", None)):
        raise TypeError(f"{who}: expected stream to have a stats() method (an AudioStream), got {stream!r:.60}")
    if isinstance(port, bool) or not isinstance(port, (int, np.integer)) or not 0 <= port <= 65535:
        raise ValueError(f"{who}: expected port to be a whole number in 0..65535, got {port!r}")
    if isinstance(refresh, bool) or not isinstance(refresh, (int, float)) or not 1 <= refresh <= 60:
        raise ValueError(f"{who}: expected refresh between 1 and 60 per second, got {refresh!r}")
    if isinstance(window, bool) or not isinstance(window, (int, float)) or not 0 < window < math.inf:
        raise ValueError(f"{who}: expected window > 0 seconds, got {window!r}")
    if isinstance(nfft, bool) or not isinstance(nfft, (int, np.integer)) or nfft < _MIN_NFFT \
            or nfft & (nfft - 1):
        raise ValueError(f"{who}: expected nfft to be a power of two >= {_MIN_NFFT}, got {nfft!r}")
    _bokeh(who)
    from streamdsp._io._scope_analysis import Analyser

    analyser = Analyser(ring, float(samplerate), stream, float(window), int(nfft), 1.0 / refresh)
    return Scope(analyser, views, str(title), int(port))
