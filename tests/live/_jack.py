"""A private JACK server for the live-audio tests and benchmarks (see ../../../shared/LIVE_AUDIO.md).

JACK2 with its ``dummy`` backend is a real, clocked audio server that needs
no sound card; its ``loopback`` driver plays back, one period later, on its
capture ports whatever is sent to its playback ports.  Helpers here start
and stop such a server by its PID and rewire the PortAudio client's ports.
"""

import os
import shutil
import signal
import subprocess
import time
import uuid


class JackServer:
    """A jackd process: ``jackd -n NAME -L LOOPBACK -d dummy -r RATE -p PERIOD``."""

    def __init__(self, rate=48000, period=256, loopback=4, name=None):
        self.rate, self.period, self.loopback = rate, period, loopback
        self.name = name or f"streamdsp-test-{uuid.uuid4().hex[:10]}"
        self.proc = None
        self.log = b""

    def start(self, timeout=10.0):
        """Start it and wait until its loopback ports exist; RuntimeError with its output if not."""
        os.environ["JACK_DEFAULT_SERVER"] = self.name
        os.environ["JACK_NO_START_SERVER"] = "1"
        self.proc = subprocess.Popen(
            ["jackd", "-n", self.name, "-L", str(self.loopback), "-d", "dummy",
             "-r", str(self.rate), "-p", str(self.period)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if f"loopback:capture_{self.loopback}" in ports():
                return self
            time.sleep(0.05)
        self.stop()
        tail = self.log.decode(errors="replace")[-2000:]
        raise RuntimeError(f"jackd did not start (exit code {self.proc.returncode}):\n{tail}")

    def stop(self):
        """SIGTERM (SIGKILL after 10 s), collect its output.  Close PortAudio first (LIVE_AUDIO.md §5.2)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.log += self.proc.communicate(timeout=10)[0] or b""
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.log += self.proc.communicate()[0] or b""
        else:
            self.log += self.proc.stdout.read() or b""
        if os.environ.get("JACK_DEFAULT_SERVER") == self.name:
            del os.environ["JACK_DEFAULT_SERVER"]

    def xruns_logged(self):
        return self.log.decode(errors="replace").count("XRun")


def available():
    """Whether jackd and jack_lsp are on PATH."""
    return all(shutil.which(p) for p in ("jackd", "jack_lsp", "jack_connect", "jack_disconnect"))


def ports():
    """Every port of the server, one name each."""
    out = subprocess.run(["jack_lsp"], capture_output=True, text=True, timeout=10).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def connections():
    """{port: [ports it is connected to]}."""
    out = subprocess.run(["jack_lsp", "-c"], capture_output=True, text=True, timeout=10).stdout
    result, current = {}, None
    for line in out.splitlines():
        if not line.strip():
            continue
        if line[0].isspace():
            result[current].append(line.strip())
        else:
            current = line.strip()
            result[current] = []
    return result


def client_ports(prefix="PortAudio:"):
    """The PortAudio client's ports, split into ([in_*], [out_*]) in numeric order."""
    def num(p):
        return int(p.rsplit("_", 1)[1])
    ps = [p for p in ports() if p.startswith(prefix)]
    return (sorted((p for p in ps if ":in_" in p), key=num),
            sorted((p for p in ps if ":out_" in p), key=num))


def rewire(wiring, ports_to_clear):
    """Make the (source, destination) pairs the only connections of ``ports_to_clear``.

    Only the difference from what is connected now is changed (each change
    is one ``jack_connect``/``jack_disconnect`` call, about 0.1 s).
    """
    conns = connections()
    want = {frozenset(pair) for pair in wiring}
    have = {frozenset((p, q)) for p in ports_to_clear for q in conns.get(p, [])}
    for pair in have - want:
        subprocess.run(["jack_disconnect", *sorted(pair)], check=True, timeout=10)
    for src, dst in wiring:
        if frozenset((src, dst)) not in have:
            subprocess.run(["jack_connect", src, dst], check=True, timeout=10)
