"""``sd.batch``: many files through copies of one chain, on threads, processes or a Dask cluster.

Each input file runs through its own copy of the chain (a pickle of it,
made once) into one output file of the same name in ``out_dir``, written
under a temporary name and renamed when complete (:class:`FileSink`), so an
output that exists is complete and a second call skips it.  One job never
raises: it returns a record of what happened, so a bad file cannot stop the
batch.
"""

import os
import pickle
import sys
import time

from streamdsp._core._block import Block, configuration_pickle

_STATUSES = ("done", "skipped", "failed")


def _output_path(out_dir, path):
    return os.path.join(out_dir, os.path.basename(os.fspath(path)))


def _latency_of(block):
    """The chain's latency, or None where a rate change leaves it a fraction of a frame."""
    try:
        return block.latency
    except ValueError:
        return None


def _process_one(chain, path, out_path, chunk_size, tail, dtype, subtype):
    """Run one file; return its record.  Module level, so executors and Dask ship it by name."""
    import soundfile

    from streamdsp._chain import parse_chain
    from streamdsp._graph._flow import run
    from streamdsp._io._sinks import FileSink
    from streamdsp._io._sources import FileSource

    t0 = time.perf_counter()
    record = {"status": "failed", "frames": 0, "seconds": 0.0, "latency": None, "error": None,
              "output": out_path}
    try:
        src = FileSource(path, chunk_size=chunk_size, dtype=dtype)
        if isinstance(chain, bytes):
            block = pickle.loads(chain)
            block.reset()
        else:
            block = parse_chain(chain, samplerate=src.samplerate, channels=src.channels)
        # no flush every second: an output counts only once renamed at the end,
        # and a sync per second of audio per file serialises the threads on the disk
        sink = FileSink(out_path, src.samplerate / block.decimation, subtype=subtype, flush_every=None)
        run(src >> block >> sink, tail=tail)
        record.update(status="done", frames=soundfile.info(out_path).frames, latency=_latency_of(block))
    except Exception as e:
        record["error"] = f"{type(e).__name__}: {e}"
    record["seconds"] = time.perf_counter() - t0
    return record


def batch(chain, inputs, out_dir, client=None, executor=None, chunk_size=65536, on_error="record",
          progress=True, tail=False, dtype="float32", subtype=None):
    """Process many audio files, each through a fresh copy of ``chain``.

    Parameters
    ----------
    chain : Block or str
        A block (pickled once, and a copy reset per file) or a chain
        description as ``streamdsp process`` takes it (parsed per file, at
        its sample rate).
    inputs : iterable of str or path-like
        Audio files; their names must differ (one output each in ``out_dir``).
    out_dir : str or path-like
        Where the outputs go (created if missing), named as their inputs.
    client : distributed.Client, optional
        Run the files on this Dask cluster (a ``LocalCluster``, or a
        scheduler address given to ``Client``).  Its workers must be able
        to read the inputs and write ``out_dir``.
    executor : concurrent.futures.Executor, optional
        Run the files on this executor (a ``ProcessPoolExecutor``...).
        Default, without ``client``: threads of this process, as many as
        CPUs (the kernels release the GIL); no process is started.
    chunk_size : int, optional
        Frames per read.
    on_error : {"record", "raise"}, optional
        ``"record"``: a failing file is reported in its record and the
        others go on.  ``"raise"``: the first failure cancels the files not
        started and raises ``RuntimeError``.
    progress : bool, optional
        One line per finished file on stderr.
    tail : bool, optional
        As for :func:`run`: also write what rings on after the input.
    dtype : {"float32", "float64"}, optional
        The stream dtype the files are read in.
    subtype : str, optional
        libsndfile subtype of the outputs (default: the format's default).

    Returns
    -------
    dict
        ``{input path: record}``, in the order of ``inputs``; a record is a
        dict with ``status`` (``"done"``, ``"skipped"`` when its output
        already existed, ``"failed"``), ``frames`` (written), ``seconds``
        (wall time of the file), ``latency`` (of the chain, frames),
        ``error`` (text, or None) and ``output`` (its path).

    Examples
    --------
    >>> import os, tempfile, numpy as np, soundfile, streamdsp as sd
    >>> d = tempfile.mkdtemp()
    >>> for k in range(3):
    ...     soundfile.write(os.path.join(d, f"in{k}.wav"), np.full(1000, 0.1 * k), 8000)
    >>> paths = [os.path.join(d, f"in{k}.wav") for k in range(3)]
    >>> res = sd.batch(sd.Gain(2.0), paths, out_dir=os.path.join(d, "out"), progress=False)
    >>> [r["status"] for r in res.values()]
    ['done', 'done', 'done']
    >>> [r["status"] for r in sd.batch(sd.Gain(2.0), paths, os.path.join(d, "out"), progress=False).values()]
    ['skipped', 'skipped', 'skipped']
    """
    if on_error not in ("record", "raise"):
        raise ValueError(f"batch: expected on_error 'record' or 'raise', got {on_error!r}")
    if client is not None and executor is not None:
        raise ValueError("batch: expected client or executor, got both")
    if isinstance(chain, Block):
        spec = configuration_pickle(chain)
    elif isinstance(chain, str):
        from streamdsp._chain import parse_chain
        parse_chain(chain)      # a syntax error is the caller's, not one per file
        spec = chain
    else:
        raise TypeError(f"batch: expected a streamdsp block or a chain description, got "
                        f"{type(chain).__name__} {chain!r:.60}")
    inputs = [os.fspath(p) for p in inputs]
    out_dir = os.fspath(out_dir)
    outs = {}
    for p in inputs:
        o = _output_path(out_dir, p)
        if o in outs.values():
            other = next(k for k, v in outs.items() if v == o)
            raise ValueError(f"batch: expected inputs with different names, got {other!r} and {p!r} "
                             f"(both would write {o!r})")
        outs[p] = o
    os.makedirs(out_dir, exist_ok=True)

    results = {}
    todo = []
    for p in inputs:
        if os.path.exists(outs[p]):
            results[p] = {"status": "skipped", "frames": None, "seconds": 0.0, "latency": None,
                          "error": None, "output": outs[p]}
        else:
            todo.append(p)
    args = (chunk_size, tail, dtype, subtype)

    def report(p, rec):
        results[p] = rec
        if progress:
            print(f"[{len(results)}/{len(inputs)}] {p}: {rec['status']}"
                  + (f" ({rec['error']})" if rec["error"] else ""), file=sys.stderr)
        if rec["status"] == "failed" and on_error == "raise":
            raise RuntimeError(f"batch: {p}: {rec['error']}")

    if client is not None:
        from distributed import as_completed
        futures = {client.submit(_process_one, spec, p, outs[p], *args, pure=False): p for p in todo}
        try:
            for fut in as_completed(list(futures)):
                report(futures[fut], fut.result())
        finally:
            client.cancel(list(futures))
    else:
        import concurrent.futures      # here: it costs `import streamdsp` 5 ms
        own = executor is None
        ex = concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) if own else executor
        try:
            futures = {ex.submit(_process_one, spec, p, outs[p], *args): p for p in todo}
            try:
                for fut in concurrent.futures.as_completed(futures):
                    report(futures[fut], fut.result())
            finally:
                for fut in futures:
                    fut.cancel()
        finally:
            if own:
                ex.shutdown(wait=True)
    return {p: results[p] for p in inputs}
