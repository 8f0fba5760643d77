"""streamdsp: run streaming DSP chains on signals, files and live audio.

Start with 'streamdsp demo'.  A chain is blocks separated by '|', each name:arg,arg,...  For example:
  streamdsp process in.wav out.wav --chain "fir:taps.npy | gain:-6dB"
Run 'streamdsp <command> --help' for a command's options.
"""

import argparse
import inspect
import os
import sys
import textwrap
import time

import numpy as np

import streamdsp as sd
from streamdsp._chain import chain_help, parse_chain
from streamdsp._io._audio import _PORTAUDIO_HINT

# Demo defaults, used by the demo and shown in its --help.
DEMO_SAMPLERATE = 48000
DEMO_SECONDS = 4.0
DEMO_CUTOFF_HZ = 4000.0
DEMO_NUMTAPS = 255
DEMO_REVERB_SECONDS = 0.5
DEMO_CHUNK_SIZE = 1024
DEMO_GAIN = 1.25
# What `live --scope` keeps of the output to draw from (longer than the
# scope's 4096-frame spectrum at any common rate).
SCOPE_SECONDS = 1.0


def _fail(command, message, code):
    """Print ``streamdsp <command>: <message>`` on one line to stderr; return ``code``."""
    message = " ".join(str(message).split())
    print(f"streamdsp {command}: {message}", file=sys.stderr)
    return code


def _seconds(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < v <= 600:
        raise argparse.ArgumentTypeError(f"expected seconds in (0, 600], got {text!r}")
    return v


def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return v


def _port(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number in 0..65535, got {value}")
    return value


def _int_or_str(text):
    """Device given by number or by (part of its) name, as in sounddevice's examples."""
    try:
        return int(text)
    except ValueError:
        return text


def _speed(samples, samplerate, wall):
    """``'123x faster than real time'`` (or slower)."""
    if wall <= 0:
        return "faster than the clock can tell"
    ratio = samples / samplerate / wall
    if ratio >= 1:
        return f"{ratio:,.0f}x faster than real time" if ratio >= 10 else \
            f"{ratio:.1f}x faster than real time"
    return f"{1 / ratio:.1f}x slower than real time"


def _dbfs(peak):
    return "-inf dBFS" if peak <= 0 else f"{20 * np.log10(peak):+.1f} dBFS"


# ---------------------------------------------------------------------------
# demo

def synth_signal(seconds=DEMO_SECONDS, samplerate=DEMO_SAMPLERATE, seed=0):
    """A deterministic, voice/music-like test signal (mono float32).

    A sung melody (harmonic tones up to ~12 kHz with vibrato and smooth
    note envelopes), short bright noise bursts like consonants, and mains
    hum (50 Hz and harmonics), scaled to a peak of 0.8.  The last fifth is
    only hum, so that the demo's reverb tail can ring out.

    Examples
    --------
    >>> from streamdsp._cli import synth_signal
    >>> x = synth_signal(seconds=0.5, samplerate=16000)
    >>> x.shape, x.dtype, round(float(abs(x).max()), 3)
    ((8000,), dtype('float32'), 0.8)
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * samplerate))
    t = np.arange(n) / samplerate
    content = 0.8 * seconds
    x = np.zeros(n)

    # melody: notes of ~0.35 s, vibrato 5.5 Hz +-0.6 %, harmonics with 1/k amplitude
    notes = [220.0, 261.63, 329.63, 392.0, 329.63, 293.66, 246.94, 220.0]
    note_len = 0.35
    f0 = np.zeros(n)
    env = np.zeros(n)
    for i, start in enumerate(np.arange(0.0, content, note_len)):
        a, b = int(start * samplerate), min(n, int(min(start + note_len, content) * samplerate))
        if b <= a:
            continue
        f0[a:b] = notes[i % len(notes)]
        m = b - a
        ramp = min(m // 2, int(0.03 * samplerate)) or 1
        e = np.ones(m)
        e[:ramp] = np.linspace(0.0, 1.0, ramp)
        e[m - ramp:] = np.linspace(1.0, 0.0, ramp)
        env[a:b] = e * np.exp(-1.5 * np.arange(m) / samplerate)
    f0[f0 == 0] = notes[0]
    inst = f0 * (1 + 0.006 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(inst) / samplerate
    for k in range(1, 40):
        if k * notes[-1] * 1.5 > min(12000.0, samplerate / 2):
            break
        x += env * np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k
    x *= 0.35

    # consonant-like bursts: 40 ms of differentiated (bright) noise every ~0.7 s
    burst = int(0.04 * samplerate)
    for start in np.arange(0.1, content - 0.05, 0.7):
        a = int(start * samplerate)
        noise = np.diff(rng.standard_normal(burst + 1)) * np.hanning(burst)
        x[a:a + burst] += 0.15 * noise[:n - a]

    # hum
    x += 0.02 * np.sin(2 * np.pi * 50 * t) + 0.008 * np.sin(2 * np.pi * 150 * t + 0.3)
    peak = np.max(np.abs(x))
    return (0.8 / peak * x).astype(np.float32) if peak > 0 else x.astype(np.float32)


def synth_reverb_ir(seconds=DEMO_REVERB_SECONDS, samplerate=DEMO_SAMPLERATE, wet=0.3, seed=1):
    """A synthetic room: the direct sound, then exponentially decaying noise.

    The tail decays by 60 dB over ``seconds`` and starts after a 12 ms
    pre-delay; its energy is ``wet`` times that of the direct sound.
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * samplerate))
    t = np.arange(n) / samplerate
    tail = rng.standard_normal(n) * np.exp(-6.91 * t / seconds)
    tail[: int(0.012 * samplerate)] = 0.0
    tail *= np.sqrt(wet / np.sum(tail ** 2))
    tail[0] = 1.0
    return tail


def demo_chain(samplerate=DEMO_SAMPLERATE, cutoff_hz=DEMO_CUTOFF_HZ, numtaps=DEMO_NUMTAPS,
               reverb_seconds=DEMO_REVERB_SECONDS, gain=DEMO_GAIN):
    """The demo's chain: hum removal, a low-pass FIR, a convolution reverb, a gain.

    Returns ``(pipeline, description)``.  Every block is compiled and the
    reverb has no latency (its first partition is computed directly).

    Examples
    --------
    >>> from streamdsp._cli import demo_chain
    >>> chain, text = demo_chain(samplerate=16000, numtaps=31, reverb_seconds=0.1)
    >>> text
    'hum removal (80 Hz high-pass, 4th order), low-pass at 4000 Hz (31-tap FIR), 0.1 s convolution reverb (1600-tap Convolver, no latency), gain 1.25'
    >>> [type(b).__name__ for b in chain], chain.latency
    (['LTISystem', 'FIR', 'Convolver', 'Gain'], 0)
    """
    from scipy.signal import butter, firwin

    hum = sd.LTISystem.from_sos(butter(4, 80.0, btype="highpass", output="sos", fs=samplerate))
    lowpass = sd.FIR(firwin(numtaps, cutoff_hz, fs=samplerate), method="direct")
    ir = synth_reverb_ir(reverb_seconds, samplerate)
    reverb = sd.Convolver(ir, block_size=256)
    chain = hum >> lowpass >> reverb >> sd.Gain(gain)
    description = (f"hum removal (80 Hz high-pass, 4th order), "
                   f"low-pass at {cutoff_hz:g} Hz ({numtaps}-tap FIR), "
                   f"{reverb_seconds:g} s convolution reverb ({len(ir)}-tap Convolver, no latency), "
                   f"gain {gain:g}")
    return chain, description


def _plot(path, x, y, samplerate, cutoff_hz, title):
    """Waveforms, spectrograms and spectra of input and output, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.signal import welch

    t = np.arange(len(x)) / samplerate
    fig = plt.figure(figsize=(11, 8.5), layout="constrained")
    grid = fig.add_gridspec(3, 2)
    fmax = min(16000.0, samplerate / 2)
    for col, (sig, name) in enumerate([(x, "input"), (y, "output")]):
        ax = fig.add_subplot(grid[0, col])
        ax.plot(t, sig, lw=0.4, color="C0" if col == 0 else "C1")
        ax.set(title=f"{name} waveform", xlabel="time [s]", ylim=(-1, 1), xlim=(0, t[-1]))
        ax = fig.add_subplot(grid[1, col])
        ax.specgram(sig, NFFT=1024, Fs=samplerate, noverlap=512, cmap="magma", vmin=-140)
        ax.axhline(cutoff_hz, color="w", ls="--", lw=0.8)
        ax.set(title=f"{name} spectrogram", xlabel="time [s]", ylabel="frequency [Hz]",
               ylim=(0, fmax))
    ax = fig.add_subplot(grid[2, :])
    for sig, name in [(x, "input"), (y, "output")]:
        f, p = welch(sig.astype(np.float64), fs=samplerate, nperseg=4096)
        ax.semilogy(f, p + 1e-20, lw=0.8, label=name)
    ax.axvline(cutoff_hz, color="k", ls="--", lw=0.8, label=f"cutoff {cutoff_hz:g} Hz")
    ax.set(title="power spectral density (Welch)", xlabel="frequency [Hz]",
           ylabel="power [1/Hz]", xlim=(0, fmax))
    ax.legend()
    fig.suptitle(textwrap.fill(title, 100))   # the chain's description is long
    fig.savefig(path, dpi=90)
    plt.close(fig)


def cmd_demo(args):
    """Synthesise a test signal, run a real chain over it, write audio and a plot.

    The signal is a few seconds of a sung-like melody with vibrato, bright
    noise bursts and mains hum at 48 kHz, the same every run.  The chain,
    run chunk by chunk with streamdsp.run, is: hum removal (an 80 Hz
    4th-order Butterworth high-pass, LTISystem), a low-pass at 4 kHz (a
    255-tap FIR), a convolution reverb (a Convolver with a synthetic 0.5 s
    room response, no latency) and a gain of 1.25.  Writes demo_input.wav,
    demo_output.wav and demo.png (waveforms, spectrograms and spectra of
    both) into the output folder and prints what it did.
    """
    import soundfile

    samplerate = DEMO_SAMPLERATE
    x = synth_signal(args.seconds, samplerate)
    chain, description = demo_chain(samplerate)
    latency = chain.latency

    t0 = time.perf_counter()
    y = sd.run(sd.ArraySource(x, chunk_size=args.chunk_size) >> chain >> sd.ArraySink())
    wall = time.perf_counter() - t0
    y = y[latency:latency + len(x)]  # align with the input: drop the chain's latency

    os.makedirs(args.out, exist_ok=True)
    in_path = os.path.join(args.out, "demo_input.wav")
    out_path = os.path.join(args.out, "demo_output.wav")
    png_path = os.path.join(args.out, "demo.png")
    soundfile.write(in_path, x, samplerate, subtype="PCM_16")
    soundfile.write(out_path, y, samplerate, subtype="PCM_16")
    written = [in_path, out_path]
    plot_note = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        plot_note = "matplotlib is not installed, so no plot was made (pip install matplotlib)"
    else:
        _plot(png_path, x, y, samplerate, DEMO_CUTOFF_HZ,
              f"streamdsp demo: {description}")
        written.append(png_path)

    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    print(f"streamdsp demo: {description}")
    print(f"  chain  : {chain!r}")
    print(f"  signal : {len(x)} samples ({len(x) / samplerate:g} s at {samplerate} Hz, mono "
          f"float32), in chunks of {args.chunk_size}")
    print(f"  ran in : {wall:.3f} s wall time, {_speed(len(x), samplerate, wall)} "
          f"(latency {latency} samples, compensated)")
    print(f"  output : peak {_dbfs(peak)}{' (clipped in the 16-bit WAV)' if peak > 1 else ''}")
    print("  wrote  : " + "\n           ".join(written))
    if plot_note:
        print(f"  note   : {plot_note}")
    return 0


# ---------------------------------------------------------------------------
# process

class _AlignedSink(sd.Sink):
    """Drop the first ``skip`` frames, note the peak, and pass the rest to ``sink``."""

    def __init__(self, sink, skip):
        self.sink, self.skip, self.peak, self.frames = sink, skip, 0.0, 0
        self._empty = None

    def write(self, chunk):
        chunk = np.asarray(chunk)
        if self.skip:
            k = min(self.skip, len(chunk))
            self.skip -= k
            chunk = chunk[k:]
        if len(chunk) == 0:
            self._empty = chunk
            return
        self.peak = max(self.peak, float(np.max(np.abs(chunk))))
        self.frames += len(chunk)
        self.sink.write(chunk)

    def close(self):
        if self.frames == 0 and self._empty is not None:
            self.sink.write(self._empty)  # still create an (empty) file
        self.sink.close()

    def abort(self):
        self.sink.abort()

    def result(self):
        return self.sink.result()

    def __repr__(self):
        return f"<_AlignedSink skip={self.skip} {self.sink!r}>"


def _message(e):
    """One line for an error: streamdsp's own messages as they are, others with their type."""
    text = str(e)
    for prefix in ("FileSink: ", "FileSource: "):
        if text.startswith(prefix):
            return text[len(prefix):]
    if isinstance(e, (sd.StreamDSPError, OSError, ValueError, TypeError)) and text:
        return text
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def cmd_process(args):
    """Run a chain of blocks over an audio file and write the result.

    The chain is parsed and checked (blocks, arguments, files they name)
    before anything is written.  The output is aligned with the input: the
    chain's latency is dropped from its start (--keep-latency keeps it), so
    OUT has as many frames as IN and equals the offline result; with --tail
    the chain's tail (a reverb's ring-out, an FIR's ntaps - 1 frames) is
    written too.  OUT is written through a temporary file beside it and
    replaces an existing file (IN itself included) only when the whole run
    succeeded.  Its format comes from its extension; its subtype is the
    stream's float type where the format stores floats (WAV, AIFF: FLOAT,
    or DOUBLE for 32-bit and double input), else the format's default
    (FLAC: PCM_16), where samples beyond full scale are clipped, counted
    and reported.  Every failure is one line on stderr and exit status 2.
    """
    try:
        return _process(args)
    except KeyboardInterrupt:
        return _fail("process", f"interrupted; {args.output!r} was not written", 130)
    except Exception as e:    # anything unforeseen is still one line, not a traceback
        return _fail("process", _message(e), 2)


def cmd_batch(args):
    """Run a chain over many audio files, one output each in --out-dir.

    Each file runs through its own copy of the chain, on threads of this
    process (--workers, default one per CPU) or on the Dask cluster at
    --scheduler.  Outputs are written through a temporary file and renamed
    when complete; outputs that already exist are skipped, so a batch that
    was stopped can be run again to finish it.  A failing file is one line
    on stderr and does not stop the others.  Prints "N done, M skipped,
    K failed"; the exit status is 1 if any file failed, 2 if nothing could
    start (a bad chain, two inputs of the same name).
    """
    import concurrent.futures
    client = executor = None
    try:
        parse_chain(args.chain)
        if args.scheduler:
            from distributed import Client
            client = Client(args.scheduler)
        else:
            executor = concurrent.futures.ThreadPoolExecutor(args.workers or os.cpu_count() or 1)
        res = sd.batch(args.chain, args.inputs, out_dir=args.out_dir, client=client, executor=executor,
                       chunk_size=args.chunk_size, progress=not args.quiet, tail=args.tail,
                       subtype=args.subtype)
    except Exception as e:
        return _fail("batch", _message(e), 2)
    finally:
        if executor is not None:
            executor.shutdown()
        if client is not None:
            client.close()
    counts = {s: sum(r["status"] == s for r in res.values()) for s in ("done", "skipped", "failed")}
    for path, r in res.items():
        if r["status"] == "failed" and args.quiet:
            print(f"streamdsp batch: {path}: {r['error']}", file=sys.stderr)
    print(", ".join(f"{n} {s}" for s, n in counts.items()))
    return 1 if counts["failed"] else 0


def _process(args):
    import warnings

    import soundfile

    cmd = "process"
    try:
        source = sd.FileSource(args.input, chunk_size=args.chunk_size)
        info = soundfile.info(args.input)
        # float32 unless the file holds more precision than float32 keeps
        if info.subtype in ("PCM_32", "DOUBLE"):
            source = sd.FileSource(args.input, chunk_size=args.chunk_size, dtype="float64")
    except Exception as e:
        return _fail(cmd, _message(e), 2)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            chain = parse_chain(args.chain, samplerate=info.samplerate, channels=info.channels)
        except sd.ChainSyntaxError as e:
            return _fail(cmd, e, 2)
    for w in caught:
        _fail(cmd, f"warning: {w.message}", 0)

    out = args.output
    outdir = os.path.dirname(os.path.abspath(out))
    ext = os.path.splitext(out)[1][1:]
    formats = soundfile.available_formats()
    if ext.upper() not in formats:
        return _fail(cmd, f"expected OUT to end in an audio format's extension "
                          f"({', '.join(f.lower() for f in sorted(formats))}), got {out!r}", 2)
    fmt = ext.upper()
    subtype = args.subtype
    if subtype is not None:
        if not soundfile.check_format(fmt, subtype.upper()):
            return _fail(cmd, f"expected a subtype that {fmt} takes "
                              f"({', '.join(soundfile.available_subtypes(fmt))}), got {subtype!r}", 2)
        subtype = subtype.upper()
    if not os.path.isdir(outdir):
        return _fail(cmd, f"cannot write {out!r}: the folder {outdir!r} does not exist", 2)
    if not os.access(outdir, os.W_OK | os.X_OK):    # say so before the long part starts
        why = "is on a read-only file system" if os.statvfs(outdir).f_flag & os.ST_RDONLY else \
            "is not writable (permission denied)"
        return _fail(cmd, f"cannot write {out!r}: the folder {outdir!r} {why}", 2)

    latency = 0 if args.keep_latency else chain.latency
    file_sink = sd.FileSink(out, info.samplerate, subtype=subtype, format=fmt)
    sink = _AlignedSink(file_sink, latency)
    progress = False if args.quiet else os.path.basename(args.input)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sd.run(source >> chain >> sink, progress=progress, tail=args.tail)
    wall = time.perf_counter() - t0
    clipped = file_sink.stats()["clipped"]
    for w in caught:
        if not (clipped and "clipped" in str(w.message)):
            _fail(cmd, f"warning: {w.message}", 0)
    if clipped:
        _fail(cmd, f"warning: {clipped} samples were clipped to -1..1 in {out!r} ({fmt} "
                   f"{file_sink.subtype} holds integers; peak {_dbfs(file_sink.peak)}); write "
                   f"WAV or AIFF to keep them, or lower the gain", 0)

    if not args.quiet:
        written = soundfile.info(out)
        print(f"streamdsp process: {args.input} -> {out}")
        print(f"  chain  : {chain!r}")
        print(f"  ran    : {info.frames} frames x {info.channels} channel"
              f"{'s' if info.channels != 1 else ''} at {info.samplerate} Hz in {wall:.3f} s, "
              f"{_speed(info.frames, info.samplerate, wall)}")
        print(f"  latency: {chain.latency} samples, "
              f"{'kept' if args.keep_latency else 'compensated (output aligned with input)'}")
        if args.tail:
            print(f"  tail   : {chain.tail_frames} frames written after the input")
        clip = f" ({clipped} samples clipped: {written.subtype} holds -1..1)" if clipped else ""
        print(f"  output : {written.frames} frames, {written.format} {written.subtype}, "
              f"peak {_dbfs(sink.peak)}{clip}")
    return 0


# ---------------------------------------------------------------------------
# devices and live

def _import_sounddevice(cmd):
    """``(sounddevice, None)`` or ``(None, exit code)`` after saying what is missing."""
    try:
        import sounddevice
    except OSError as e:
        return None, _fail(cmd, f"the PortAudio library is missing; {_PORTAUDIO_HINT} ({e})", 1)
    except ImportError as e:
        return None, _fail(cmd, f"the sounddevice package is not installed "
                                f"(pip install sounddevice): {e}", 1)
    return sounddevice, None


def cmd_devices(args):
    """List the audio devices PortAudio sees (the default input/output are marked > and <)."""
    sounddevice, code = _import_sounddevice("devices")
    if sounddevice is None:
        return code
    devices = sounddevice.query_devices()
    if len(devices) == 0:
        apis = ", ".join(api["name"] for api in sounddevice.query_hostapis()) or "none"
        return _fail("devices", f"PortAudio found no audio devices (host APIs tried: {apis}): "
                                f"no sound card and no audio server is running. Start one (JACK: "
                                f"jackd -d alsa, or jackd -d dummy on a machine without a sound "
                                f"card; or PulseAudio/PipeWire), or connect a device, then run "
                                f"'streamdsp devices' again", 1)
    print(devices)
    return 0


def _format_stats(stats):
    parts = []
    for key, value in stats.items():
        if key.endswith("_s") and isinstance(value, float):
            parts.append(f"{key[:-2]}={value * 1e3:.3f} ms")
        else:
            parts.append(f"{key}={value}")
    return " ".join(parts)


def cmd_live(args):
    """Run a chain live from an input to an output device until Ctrl-C.

    Prints the stream's statistics (callbacks, frames, xruns, callback
    times) once a second.  With --scope, also serves a live scope of the
    chain's output (waveform, spectrum, meters, counters) on a local web
    page (needs bokeh: pip install "streamdsp[scope]").
    """
    cmd = "live"
    if args.list_devices:
        return cmd_devices(args)
    if args.chain is None:
        return _fail(cmd, "expected --chain \"...\" (or -l to list devices)", 2)
    try:
        chain = parse_chain(args.chain, samplerate=args.samplerate)
    except sd.ChainSyntaxError as e:
        hint = " (give --samplerate)" if "sample rate" in str(e) else ""
        return _fail(cmd, f"{e}{hint}", 2)
    AudioStream = sd.AudioStream
    scope = None
    try:
        samplerate, monitor = args.samplerate, None
        if args.scope:
            samplerate, monitor = _scope_ring(args)
        with AudioStream(chain, samplerate=samplerate, blocksize=args.blocksize,
                         device=args.device, monitor=monitor) as stream:
            where = "C callback, no GIL" if stream.gil_free else "Python callback (needs the GIL)"
            lat_in, lat_out = stream.latency
            print(f"streamdsp live: {chain!r}; {stream.samplerate:g} Hz, blocksize "
                  f"{stream.blocksize}, channels {stream.channels[0]} in / {stream.channels[1]} out, "
                  f"{where}; latency {lat_in * 1e3:.1f} ms in + {lat_out * 1e3:.1f} ms out + "
                  f"{stream.graph_latency} frames of graph; press Ctrl-C to stop", file=sys.stderr)
            if monitor is not None:
                scope = sd.scope(monitor, stream=stream, port=args.port)
                print(f"streamdsp live: scope at {scope.url}", file=sys.stderr, flush=True)
            keys = ("callbacks", "frames", "xruns", "mean_callback_s", "max_callback_s", "period_s")
            while True:
                time.sleep(1.0)
                stats = stream.stats()
                print(_format_stats({k: stats[k] for k in keys if stats.get(k) is not None}),
                      flush=True)
                if not stream.active:
                    break
        return _fail(cmd, "the audio stream stopped on its own (device gone?)", 1)
    except KeyboardInterrupt:
        return 0
    except sd.PortAudioMissingError as e:
        return _fail(cmd, e, 1)
    except Exception as e:
        return _fail(cmd, f"{type(e).__name__}: {e}", 1)
    finally:
        if scope is not None:
            scope.close()


def _scope_ring(args):
    """(samplerate, RingBuffer) for the scope: the ring must know the rate before the stream opens."""
    from streamdsp._io._audio import _device_info, _pair, _sounddevice
    from streamdsp._io._scope import _bokeh

    _bokeh("--scope")     # before any stream opens
    samplerate = args.samplerate
    if samplerate is None:
        sdm = _sounddevice("live")
        samplerate = float(_device_info(sdm, "live", _pair(args.device)[0], "input")["default_samplerate"])
    return samplerate, sd.RingBuffer(SCOPE_SECONDS, samplerate=samplerate)


# ---------------------------------------------------------------------------
# calibrate

def _constants_table(constants):
    rows = [f"    {k:<26} {v:10.4g}" for k, v in constants.items() if k != "correlator"]
    rows += [f"    correlator.{k:<15} {v:10.4g}" for k, v in constants["correlator"].items()]
    return "\n".join(rows)


def cmd_calibrate(args):
    """Measure this machine's FIR and FFT kernels so that method="auto" chooses right here.

    FIR(method="auto"), the Convolver's partition plan, SavitzkyGolay and the
    Correlator's engine rank their algorithms with a cost model.  Its shipped
    constants were measured on one machine per x86-64 level (AVX-512, AVX2);
    this command times the direct and the FFT kernels here (a few seconds),
    fits the model and stores the constants in the user's cache folder
    ($STREAMDSP_CACHE_DIR, else $XDG_CACHE_HOME/streamdsp, else
    ~/.cache/streamdsp), where every later 'import streamdsp' finds them.
    --show prints the constants in use and where they come from.
    """
    from streamdsp._core import _costmodel

    if args.show:
        print(f"streamdsp calibrate: cost model constants in use: {_costmodel.SOURCE}")
        print(_constants_table(_costmodel.ACTIVE))
        return 0
    from streamdsp._core import _calibrate

    t0 = time.perf_counter()
    say = None if args.quiet else (lambda text: print("  " + text, flush=True))
    try:
        constants = _calibrate.measure(say)
        path = _calibrate.save(constants)
    except OSError as e:
        return _fail("calibrate", f"cannot store the calibration: {e}", 1)
    print(f"streamdsp calibrate: measured in {time.perf_counter() - t0:.1f} s on an "
          f"{_costmodel.isa_level()} CPU; wrote {path}")
    print(_constants_table(constants))
    print("  used from the next 'import streamdsp' on (delete the file to go back to the "
          "shipped defaults)")
    return 0


# ---------------------------------------------------------------------------

def _first_line(doc):
    return doc.strip().splitlines()[0]


def _doc(func):
    return inspect.cleandoc(func.__doc__)


def make_parser():
    """The argparse parser of the ``streamdsp`` command."""
    parser = argparse.ArgumentParser(
        prog="streamdsp", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"streamdsp {sd.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    raw = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("demo", help=_first_line(cmd_demo.__doc__), description=_doc(cmd_demo),
                       formatter_class=raw)
    p.add_argument("--out", metavar="DIR", default="streamdsp-demo",
                   help="folder to write into (created if needed; default: %(default)s)")
    p.add_argument("--seconds", metavar="S", type=_seconds, default=DEMO_SECONDS,
                   help="length of the synthetic signal (default: %(default)s)")
    p.add_argument("--chunk-size", metavar="N", type=_positive_int, default=DEMO_CHUNK_SIZE,
                   help="frames per chunk (default: %(default)s)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("process", help=_first_line(cmd_process.__doc__),
                       description=_doc(cmd_process), formatter_class=raw,
                       epilog=chain_help() + "\n\nExamples:\n"
                       '  streamdsp process in.wav out.wav --chain "gain:-6dB"\n'
                       '  streamdsp process in.flac out.flac --chain "fir:taps.npy | delay:48"\n'
                       '  streamdsp process dry.wav wet.wav --chain "convolver:hall.wav | gain:0.5" --tail')
    p.add_argument("input", metavar="IN", help="audio file to read (any format libsndfile reads)")
    p.add_argument("output", metavar="OUT", help="audio file to write (format from its extension)")
    p.add_argument("--chain", required=True, help='blocks separated by "|", e.g. "fir:taps.npy | gain:0.5"')
    p.add_argument("--chunk-size", metavar="N", type=_positive_int, default=4096,
                   help="frames read per chunk (default: %(default)s)")
    p.add_argument("--subtype", metavar="S",
                   help="libsndfile subtype of OUT, e.g. PCM_16, PCM_24, FLOAT "
                        "(default: float where OUT's format stores it, else its default)")
    p.add_argument("--keep-latency", action="store_true",
                   help="keep the chain's latency at the start of OUT instead of dropping it")
    p.add_argument("--tail", action="store_true",
                   help="also write what rings on after IN ends (the chain's tail_frames: a "
                        "reverb's decay, an FIR's last ntaps-1 frames)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("batch", help=_first_line(cmd_batch.__doc__), description=_doc(cmd_batch),
                       formatter_class=raw, epilog=chain_help() + "\n\nExamples:\n"
                       '  streamdsp batch "gain:-6dB" archive/*.wav --out-dir quieter\n'
                       '  streamdsp batch "fir:taps.npy" *.flac --out-dir out --scheduler tcp://head:8786')
    p.add_argument("chain", metavar="CHAIN", help='blocks separated by "|", e.g. "fir:taps.npy | gain:0.5"')
    p.add_argument("inputs", metavar="IN", nargs="+", help="audio files to read")
    p.add_argument("--out-dir", required=True, metavar="D", help="folder for the outputs (created if needed)")
    p.add_argument("--scheduler", metavar="ADDR", help="address of a Dask scheduler to run the files on")
    p.add_argument("--workers", metavar="N", type=_positive_int,
                   help="threads of this process (default: one per CPU); ignored with --scheduler")
    p.add_argument("--chunk-size", metavar="N", type=_positive_int, default=65536,
                   help="frames read per chunk (default: %(default)s)")
    p.add_argument("--subtype", metavar="S", help="libsndfile subtype of the outputs, e.g. PCM_24, FLOAT")
    p.add_argument("--tail", action="store_true", help="also write what rings on after each input")
    p.add_argument("-q", "--quiet", action="store_true", help="no line per file while running")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("devices", help=_first_line(cmd_devices.__doc__),
                       description=_doc(cmd_devices), formatter_class=raw)
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("calibrate", help=_first_line(cmd_calibrate.__doc__),
                       description=_doc(cmd_calibrate), formatter_class=raw)
    p.add_argument("--show", action="store_true",
                   help="print the constants in use and where they come from, measure nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no line per measurement")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("live", help=_first_line(cmd_live.__doc__), description=_doc(cmd_live),
                       formatter_class=raw, epilog=chain_help())
    p.add_argument("-l", "--list-devices", action="store_true", help="list audio devices and exit")
    p.add_argument("--chain", help='blocks separated by "|", e.g. "gain:-6dB | delay:480"')
    p.add_argument("-d", "--device", type=_int_or_str, help="device (number or part of its name)")
    p.add_argument("-r", "--samplerate", type=float, help="sample rate (default: the device's)")
    p.add_argument("-b", "--blocksize", type=_positive_int, default=256,
                   help="frames per audio callback (default: %(default)s)")
    p.add_argument("--scope", action="store_true",
                   help="serve a live scope of the output on http://127.0.0.1:PORT/ (needs bokeh)")
    p.add_argument("--port", type=_port, default=5006,
                   help="the scope's port (default: %(default)s; 0 picks a free one)")
    p.set_defaults(func=cmd_live)
    return parser


def main(argv=None):
    """Run the ``streamdsp`` command line; return its exit code."""
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
