"""Checkpoints of a chain's state: ``save_state`` / ``load_state``.

A checkpoint file is a pickle (protocol 5) of one dict::

    {"format": "streamdsp-state", "version": 1, "chain": <block>, "info": <anything>}

The block pickles its configuration and the history of its stream (see
``Block.__reduce_ex__``), so the chain loaded continues the stream exactly
where the saved one stood.  Like any pickle, load only files you trust.
"""

import os
import pickle

from streamdsp._core._block import Block

_FORMAT = "streamdsp-state"
_VERSION = 1


def save_state(chain, path, info=None):
    """Write ``chain`` with its stream state to ``path``, atomically.

    The file is written next to ``path`` and renamed over it once complete
    and flushed to disk, so a process killed while saving leaves the
    previous checkpoint intact.

    Parameters
    ----------
    chain : Block
        Any block, Pipeline or Graph, fresh or mid-stream.
    path : str or path-like
    info : object, optional
        Anything picklable kept alongside (e.g. how many input frames the
        chain has consumed); :func:`load_state` returns it with ``info=True``.

    Examples
    --------
    >>> import os, tempfile, numpy as np, streamdsp as sd
    >>> x = np.random.default_rng(0).standard_normal(1000)
    >>> chain = sd.FIR(np.ones(8) / 8) >> sd.Gain(2.0)
    >>> head = chain.process(x[:600])
    >>> path = os.path.join(tempfile.mkdtemp(), "chain.state")
    >>> sd.save_state(chain, path, info=600)
    >>> resumed, done = sd.load_state(path, info=True)
    >>> rest = resumed.process(x[done:])
    >>> ref = (sd.FIR(np.ones(8) / 8) >> sd.Gain(2.0)).process(x)
    >>> bool(np.array_equal(np.concatenate([head, rest]), ref))
    True
    """
    if not isinstance(chain, Block):
        raise TypeError(f"save_state: expected a streamdsp block, got {type(chain).__name__} {chain!r:.60}")
    data = pickle.dumps({"format": _FORMAT, "version": _VERSION, "chain": chain, "info": info}, protocol=5)
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_state(path, info=False):
    """Read a chain written by :func:`save_state`; it continues its stream exactly.

    Parameters
    ----------
    path : str or path-like
    info : bool, optional
        Return ``(chain, info)`` instead of the chain alone.

    Raises
    ------
    ValueError
        The file is not a streamdsp checkpoint.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            d = pickle.load(f)
        except (pickle.UnpicklingError, EOFError) as e:
            raise ValueError(f"load_state: expected a streamdsp checkpoint in {path!r}, got a file "
                             f"that does not unpickle ({e})") from None
    if not isinstance(d, dict) or d.get("format") != _FORMAT:
        raise ValueError(f"load_state: expected a streamdsp checkpoint in {path!r}, got "
                         f"{type(d).__name__} {d!r:.60}")
    if d.get("version") != _VERSION:
        raise ValueError(f"load_state: expected checkpoint version {_VERSION} in {path!r}, "
                         f"got {d.get('version')!r}")
    return (d["chain"], d["info"]) if info else d["chain"]
