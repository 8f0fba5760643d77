#!/usr/bin/env python3
"""Record from an input device through a filter into a FLAC file, with a live level meter.

    input device --> AudioInput --> high-pass (Butterworth, LTISystem) --> FileSink (FLAC)
                         |
                         +--> RingBuffer (last 2 s) --> meter thread (peak / RMS, dBFS)

The audio callback is C code: it copies each buffer into a lock-free FIFO
and into the ring buffer, and never waits for Python.  The main thread
drains the FIFO through the filter into the file (streamdsp.run); a
second thread reads the ring buffer twice a second and prints a level
meter per channel.  A high-pass at --highpass Hz (4th-order Butterworth
from scipy.signal.butter, as second-order sections) removes rumble and DC.
The FLAC file's header is brought up to date every second, so a killed
recording stays readable.

It records for --seconds (default 10; 0: until Ctrl-C) into record.flac in
--out-dir (default: ./streamdsp-out/).  At the end it prints what it
recorded and the stream's counters (xruns, frames dropped because the
writer fell behind).

Needs streamdsp, numpy, scipy, soundfile, and PortAudio (Debian:
libportaudio2) with an input device.  For example:

    python examples/record.py -l                      # list the devices
    python examples/record.py -d 1 -c 2 --seconds 30 --out-dir takes
"""

import argparse
import os
import sys
import threading

import numpy as np
from scipy import signal

import streamdsp as sd


def int_or_str(text):
    """Device given by number or by (part of its) name, as in sounddevice's examples."""
    try:
        return int(text)
    except ValueError:
        return text


def dbfs(v):
    return f"{20 * np.log10(v):6.1f}" if v > 0 else "  -inf"


def meter(ring, stop, every=0.5):
    """Print peak and RMS of the last ``every`` seconds per channel until ``stop`` is set."""
    n = int(every * ring.samplerate)
    while not stop.wait(every):
        x = ring.read(n)
        if len(x) == 0:
            continue
        x = x.reshape(len(x), -1)
        parts = [f"ch{c + 1} peak {dbfs(np.abs(x[:, c]).max())} rms {dbfs(np.sqrt(np.mean(x[:, c] ** 2)))}"
                 for c in range(x.shape[1])]
        print("  " + " | ".join(parts) + " dBFS", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-l", "--list-devices", action="store_true", help="list audio devices and exit")
    parser.add_argument("-d", "--device", type=int_or_str, help="input device (number or part of its name)")
    parser.add_argument("-c", "--channels", type=int, help="input channels (default: up to 2)")
    parser.add_argument("-r", "--samplerate", type=float, help="sample rate (default: the device's)")
    parser.add_argument("-b", "--blocksize", type=int, default=256,
                        help="frames per audio callback (default: %(default)s)")
    parser.add_argument("--highpass", metavar="HZ", type=float, default=40.0,
                        help="high-pass cutoff in Hz (default: %(default)s)")
    parser.add_argument("--seconds", metavar="S", type=float, default=10.0,
                        help="how long to record; 0: until Ctrl-C (default: %(default)s)")
    parser.add_argument("--out-dir", metavar="DIR", default="streamdsp-out",
                        help="folder for record.flac (default: ./%(default)s/)")
    args = parser.parse_args(argv)

    if args.list_devices:
        try:
            import sounddevice
        except OSError as e:
            parser.exit(1, f"PortAudioMissingError: {e} (Debian/Ubuntu: apt-get install libportaudio2)\n")
        print(sounddevice.query_devices())
        return 0
    if args.seconds < 0:
        parser.error(f"expected --seconds >= 0, got {args.seconds}")

    try:
        rate = args.samplerate
        if rate is None:                       # the device's own rate
            try:
                import sounddevice
            except OSError as e:
                raise sd.PortAudioMissingError(f"{e}; install PortAudio (Debian/Ubuntu: apt-get "
                                               f"install libportaudio2)") from None
            rate = sounddevice.query_devices(args.device, "input")["default_samplerate"]
        ring = sd.RingBuffer(2.0, samplerate=rate)
        mic = sd.AudioInput(samplerate=rate, blocksize=args.blocksize, device=args.device,
                            channels=args.channels, seconds=args.seconds or None, monitor=ring)
        sos = signal.butter(4, args.highpass, btype="highpass", fs=rate, output="sos")
        highpass = sd.LTISystem.from_sos(sos)
    except Exception as e:
        hint = ("\n(no usable audio device: -l lists them; a machine without a sound card can run "
                "a JACK server, e.g. jackd -d dummy -r 48000)") if "device" in str(e).lower() else ""
        parser.exit(1, f"{type(e).__name__}: {e}{hint}\n")

    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "record.flac")
    sink = sd.FileSink(path, int(rate), subtype="PCM_24")
    length = f"{args.seconds:g} s" if args.seconds else "until Ctrl-C"
    print(f"recording {mic.channels} channel(s) at {rate:g} Hz, {length}, high-pass "
          f"{args.highpass:g} Hz -> {path}")
    stop = threading.Event()
    watcher = threading.Thread(target=meter, args=(ring, stop), daemon=True)
    watcher.start()
    try:
        sd.run(mic >> highpass >> sink)
    except KeyboardInterrupt:
        sink.close()
    finally:
        stop.set()
        watcher.join()
        stats = mic.stats()
        mic.close()
    print(f"wrote {path}: {sink.frames} frames ({sink.frames / rate:.2f} s); {stats['xruns']} xruns, "
          f"{stats['fifo_overflow_frames']} frames dropped, worst callback "
          f"{stats['max_callback_s'] * 1e3:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
