"""The ends of a flow: :class:`Source` and :class:`Sink`, the base classes of every source and sink.

They live in ``_core``, below both ``_io`` (which implements them) and
``_graph`` (which composes and drives them), so that neither package has to
import the other to define its classes.  Like :class:`Block`, they hand
``>>`` to the composition layer at call time.
"""


class Source:
    """Something that yields chunks: files, arrays, generators, live input.

    Subclasses implement ``__iter__`` (yield chunks of shape ``(frames,)`` or
    ``(frames, channels)``) and set ``samplerate`` (``None`` if unknown),
    ``channels`` and ``frames`` (total length, ``None`` if endless or
    unknown).
    """

    samplerate = None
    channels = None
    frames = None

    def __iter__(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def __rshift__(self, other):
        from streamdsp._graph._flow import connect
        return connect(self, other)


class Sink:
    """Something chunks are written to.

    Subclasses implement ``write(chunk)``; ``close()`` ends the stream and
    ``result()`` gives whatever the sink has to show for it.
    """

    def write(self, chunk):  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self):
        pass

    def result(self):
        return None

    def __rrshift__(self, other):
        from streamdsp._graph._flow import connect
        return connect(other, self)
