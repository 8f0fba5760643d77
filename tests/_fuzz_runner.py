"""The child side of tests/test_fuzz.py: run fuzz scenarios, each in a process of its own.

A scenario is plain JSON, so that a crash report is a line anybody can paste::

    {"make": "sd.Delay(2**61)",
     "ops": [["process", ["np.ones(5000)"], null], ["flush", [], null]],
     "gain": null, "absmax": null, "select": true, "finite": true}

``make`` and every argument are Python expressions (``*expr`` spreads a
list over several arguments) over ``np``, ``sd``,
``signal`` (scipy.signal), ``nan`` and ``inf``; the third item of a
``process`` op is the ``out=`` expression.  ``gain``/``absmax`` (expressions
over the block ``b``) bound the output by ``gain * peak(|input|) + absmax``
while every input since the last reset was finite; ``select`` says every
output sample is 0 or one of the input samples (Delay, Downsample, ...);
``finite`` says finite input must give finite output.

``serve()`` is a fork server: it imports streamdsp once, then reads one
scenario per line on stdin, forks a process for it (so that a segfault,
an abort or memory corruption only ends that process) and answers one
verdict per line on stdout: ``{"ok": true}`` or ``{"ok": false, "why": ...}``.
It needs ``fork`` (Linux, macOS).
"""

import json
import math
import os
import re
import resource
import select
import signal as _signal
import sys
import tempfile
import time

import numpy as np
import scipy.signal

import streamdsp as sd

# What a block may raise for bad parameters, bad chunks or too much memory.
# A bare OverflowError is a defect (issue 9, item 16): it names nothing.
ALLOWED = (ValueError, TypeError, MemoryError, NotImplementedError, sd.StreamStateError)
CONTAINERS = ("Pipeline", "Parallel", "Graph", "Combiner")
NAMESPACE = {"np": np, "sd": sd, "signal": scipy.signal, "nan": math.nan, "inf": math.inf}
# Address space a scenario may add to the server's.  No sane scenario needs
# a tenth of it; a block asking for gigabytes (Decimate(48000) on 8 channels
# wanted 1.95 GB) must refuse with an error that names it (issue 9, item 15)
# instead of taking the machine down.
MEMORY_LIMIT = 1 << 30


def repro(sc, upto=None):
    """The scenario, up to call ``upto``, as a one-liner that needs only numpy and streamdsp (and scipy.signal)."""
    parts = [f"b = {sc['make']}"]
    for op, args, out in sc["ops"][:None if upto is None else upto + 1]:
        call = ", ".join(args + ([f"out={out}"] if out else []))
        parts.append(f"b.{op}({call})")
    body = "; ".join(parts)
    head = "import numpy as np, streamdsp as sd"
    if "signal." in body:
        head += "; from scipy import signal"
    if re.search(r"\b(nan|inf)\b", body.replace("np.nan", "").replace("np.inf", "")):
        head += "; from math import nan, inf"
    return f"{head}; {body}"


def _names(sc):
    """Class names an error message of this scenario may name."""
    found = set(re.findall(r"sd\.(\w+)", sc["make"]))
    if ">>" in sc["make"] or found & set(CONTAINERS):
        found.update(CONTAINERS)
    return found


def _failure(step, what):
    return {"ok": False, "step": step, "why": what}


def _check_error(e, names, step):
    """None if ``e`` is an acceptable refusal, else a failure verdict."""
    msg = str(e)
    kind = type(e).__name__
    if not isinstance(e, ALLOWED) or isinstance(e, OverflowError):
        return _failure(step, f"raised {kind}: {msg[:300]}")
    if not any(n in msg for n in names):
        return _failure(step, f"{kind} does not name the block ({'/'.join(sorted(names))}): {msg[:300]!r}")
    return None


def _as_array(a):
    """``a`` as the block would read it, or None if it is not numeric."""
    try:
        a = np.asarray(a)
    except (TypeError, ValueError):
        return None
    return a if a.dtype.kind in "fiub" else None


def _finite_values(arrays):
    """The real input samples (as float64) that were handed over, or None if some are not finite."""
    vals = []
    for a in map(_as_array, arrays):
        if a is not None:
            v = a.astype(np.float64).ravel()
            if not np.all(np.isfinite(v)):
                return None
            vals.append(v)
    return np.concatenate(vals) if vals else np.zeros(0)


def _check_output(y, st, sc, step, out, xs):
    """Look at one returned array; return a failure verdict or None."""
    if not isinstance(y, np.ndarray):
        return _failure(step, f"returned {type(y).__name__}, not an array")
    if out is not None and y is not out:
        return _failure(step, "with out= it did not return out")
    if y.dtype not in (np.float32, np.float64):
        return _failure(step, f"returned dtype {y.dtype}")
    if y.ndim not in (1, 2):
        return _failure(step, f"returned shape {y.shape}")
    if (xs and all(isinstance(x, np.ndarray) and x.ndim == 1 for x in xs) and y.ndim == 2
            and y.shape[1] == 1):
        return _failure(step, f"1-D input gave output of shape {y.shape}")
    if not st["clean"] or y.size == 0:
        return None
    v = y.astype(np.float64)
    if sc.get("finite") and not np.all(np.isfinite(v)):
        bad = v[~np.isfinite(v)]
        return _failure(step, f"finite input gave {bad.size} non-finite outputs (first {bad[0]!r})")
    if st["limit"] is not None:
        lim = st["limit"](st["peak"])
        top = float(np.max(np.abs(v)))
        big = 3e38 if y.dtype == np.float32 else 1e300
        if lim < big and not top <= lim:
            return _failure(step, f"output peak {top:.6g} exceeds the bound {lim:.6g} for input peak "
                                  f"{st['peak']:.6g} (garbage?)")
    if sc.get("oracle") and st["aligned"]:
        want = _ORACLES[sc["oracle"]]([_as_array(x).astype(y.dtype) for x in xs], st["b"])
        tol = (1e-5 if y.dtype == np.float32 else 1e-12) * max(1.0, float(np.max(np.abs(want), initial=0)))
        if want.shape != y.shape or not np.all(np.abs(want - y) <= tol):
            return _failure(step, f"output differs from {sc['oracle']} of the inputs: got {y.ravel()[:4]}, "
                                  f"expected {want.ravel()[:4]} (shape {y.shape} vs {want.shape})")
    if sc.get("select"):
        seen = np.concatenate([np.zeros(1, y.dtype)] + [s.astype(y.dtype) for s in st["seen"]])
        stray = ~np.isin(y.ravel(), seen)
        if np.any(stray):
            return _failure(step, f"{int(stray.sum())} output samples are neither 0 nor an input sample "
                                  f"(first {y.ravel()[stray][0]!r}): uninitialised memory?")
    return None


def _columns(xs):
    return [x.reshape(len(x), -1) for x in xs]


def _broadcast(xs, fold):
    width = max(c.shape[1] for c in _columns(xs))
    y = fold([np.broadcast_to(c, (len(c), width)) for c in _columns(xs)])
    return y.ravel() if all(x.ndim == 1 for x in xs) else y


# What a combiner called on its own returns while its inputs arrive with equal frame counts.
_ORACLES = {
    "sum": lambda xs, b: _broadcast(xs, lambda cs: sum(cs[1:], cs[0].copy())),
    "product": lambda xs, b: _broadcast(xs, lambda cs: np.prod(np.stack(cs), axis=0)),
    "weighted sum": lambda xs, b: _broadcast(
        xs, lambda cs: sum((w * c for w, c in zip(b.weights.astype(cs[0].dtype)[1:], cs[1:])),
                           b.weights.astype(cs[0].dtype)[0] * cs[0])),
    "concatenation": lambda xs, b: (np.concatenate(_columns(xs), axis=1)
                                    if not all(x.ndim == 1 for x in xs) or len(xs) > 1 else xs[0]),
}


def _state(b):
    """What a refused call must leave as it was (API.md: nothing of the state changes)."""
    return {k: repr(getattr(b, k, None)) for k in ("channels", "dtype", "prepared", "latency")}


def run_scenario(sc, progress=lambda step: None):
    """Run one scenario in this process; return its verdict."""
    names = _names(sc)
    ns = dict(NAMESPACE)
    progress(-1)
    try:
        b = eval(sc["make"], ns)
    except Exception as e:
        return _check_error(e, names, -1) or {"ok": True, "returned": 0}
    ns["b"] = b
    # aligned: every call so far gave all inputs the same frame count (nothing carried)
    st = {"clean": True, "peak": 0.0, "seen": [], "limit": None, "b": b, "aligned": True}
    returned = 0      # calls that returned (how deep the scenario got: for statistics)
    if sc.get("gain") or sc.get("absmax"):
        # evaluated at each check: Add's input count is fixed by its first chunk
        st["limit"] = lambda peak: (float(eval(sc.get("gain") or "0", ns)) * peak
                                    + float(eval(sc.get("absmax") or "0", ns))) * (1 + 1e-4) + 1e-30
    for step, (op, args, out_expr) in enumerate(sc["ops"]):
        try:
            xs = []
            for a in args:     # "*expr" spreads a list: many inputs of a combiner
                xs.extend(eval(a[1:], ns) if a.startswith("*") else [eval(a, ns)])
            out = eval(out_expr, ns) if out_expr else None
        except Exception as e:
            return _failure(step, f"harness: argument failed: {type(e).__name__}: {e}")
        progress(step)
        before = _state(b)
        try:
            if op == "process":
                y = b.process(*xs) if out is None else b.process(*xs, out=out)
            elif op == "flush":
                y = b.flush()
            elif op == "reset":
                y = b.reset()
            elif op == "prepare":
                y = b.prepare(*xs)
            else:
                return _failure(step, f"harness: unknown op {op!r}")
        except Exception as e:
            bad = _check_error(e, names, step)
            if bad:
                return bad
            if op != "flush" and _state(b) != before:
                return _failure(step, f"the refused call changed the block's state from {before} to "
                                      f"{_state(b)}: {type(e).__name__}: {str(e)[:200]}")
            continue
        returned += 1
        if op in ("flush", "reset"):
            if op == "flush":
                bad = _check_output(y, st, sc, step, None, [])
                if bad:
                    return bad
            st.update(clean=True, peak=0.0)
            continue
        if op == "process":
            if len({len(_as_array(x)) for x in xs}) > 1:
                st["aligned"] = False
            vals = _finite_values(xs)
            if vals is None:
                st["clean"] = False
            else:
                st["seen"].append(vals)
                if vals.size:
                    st["peak"] = max(st["peak"], float(np.max(np.abs(vals))))
            bad = _check_output(y, st, sc, step, out, xs)
            if bad:
                return bad
    return {"ok": True, "returned": returned}


def run_forked(sc, timeout):
    """run_scenario in a forked process: a crash, a hang or an exception there is a verdict here."""
    r, w = os.pipe()
    err = tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:                                   # the scenario's own process
        try:
            os.close(r)
            os.dup2(err.fileno(), 2)
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            vm = int(re.search(r"VmSize:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024 \
                if os.path.exists("/proc/self/status") else 0
            if vm:
                resource.setrlimit(resource.RLIMIT_AS, (vm + MEMORY_LIMIT, hard))
            v = run_scenario(sc, lambda step: os.write(w, f"{step}\n".encode()))
        except BaseException as e:                 # noqa: B036 - anything escaping is a verdict
            v = _failure(None, f"harness: {type(e).__name__}: {e}")
        try:
            os.write(w, (json.dumps(v) + "\n").encode())
        finally:
            os._exit(0)
    os.close(w)
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([r], [], [], left)[0]:
            os.kill(pid, _signal.SIGKILL)
            break
        chunk = os.read(r, 65536)
        if not chunk:
            break
        buf += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    lines = buf.decode(errors="replace").splitlines()
    step = next((int(l) for l in reversed(lines) if re.fullmatch(r"-?\d+", l)), None)
    err.seek(0)
    stderr = err.read().decode(errors="replace").strip()[-400:]
    err.close()
    if time.monotonic() >= deadline:
        return _failure(step, f"hung: no verdict within {timeout} s")
    if os.WIFSIGNALED(status):
        sig = _signal.Signals(os.WTERMSIG(status)).name
        return _failure(step, f"crashed with {sig}" + (f"; stderr: {stderr}" if stderr else ""))
    if lines and lines[-1].startswith("{"):
        return json.loads(lines[-1])
    return _failure(step, f"exited with status {os.WEXITSTATUS(status)} and no verdict"
                          + (f"; stderr: {stderr}" if stderr else ""))


def serve(timeout):
    """Answer one verdict line per scenario line on stdin, until stdin closes."""
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(run_forked(json.loads(line), timeout)), flush=True)
