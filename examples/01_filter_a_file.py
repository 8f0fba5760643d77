#!/usr/bin/env python3
"""Low-pass an audio file with a streamed FIR filter, and say how fast it ran.

Reads INPUT (any format libsndfile reads) chunk by chunk, runs it through a
linear-phase FIR low-pass designed with scipy.signal.firwin, and writes
<name>_lowpass.<ext> (same format and subtype) into --out-dir (default:
./streamdsp-out/).  With no INPUT it first synthesises --seconds of a test
signal (a 440 Hz tone, a 6 kHz tone and white noise at 48 kHz), writes it as
synth_input.wav and filters that, so the example runs offline.

The FIR runs in direct form, whose latency is 0: the output lines up with
the input sample for sample and equals scipy.signal.lfilter(taps, 1, x).
On a 2-vCPU cloud machine it runs about 1000x faster than real time (101
taps, mono float32, 48 kHz; timed from reading the file to writing it).

Needs streamdsp, numpy, scipy and soundfile.  For example:

    python examples/01_filter_a_file.py speech.wav --cutoff 3000
    python examples/01_filter_a_file.py --seconds 2 --out-dir /tmp/out
"""

import argparse
import inspect
import os
import sys
import time

import numpy as np
import soundfile
from scipy.signal import firwin

import streamdsp as sd


def synthesize(path, seconds, samplerate=48000, seed=0):
    """Write a test signal: two tones and white noise (mono, float32 WAV)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * samplerate))) / samplerate
    x = (0.4 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 6000 * t)
         + 0.05 * rng.standard_normal(len(t)))
    soundfile.write(path, x.astype(np.float32), samplerate, subtype="FLOAT")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", metavar="INPUT", nargs="?",
                        help="audio file to filter (default: synthesise one)")
    parser.add_argument("--cutoff", metavar="HZ", type=float, default=2000.0,
                        help="cutoff frequency in Hz (default: %(default)s)")
    parser.add_argument("--numtaps", metavar="N", type=int, default=101,
                        help="FIR length, odd (default: %(default)s)")
    parser.add_argument("--out-dir", metavar="DIR", default="streamdsp-out",
                        help="folder for the output (default: ./%(default)s/)")
    parser.add_argument("--seconds", metavar="S", type=float, default=5.0,
                        help="length of the synthetic input (default: %(default)s)")
    # the default chunk size is the one FileSource itself uses
    chunk_default = inspect.signature(sd.FileSource).parameters["chunk_size"].default
    parser.add_argument("--chunk-size", metavar="N", type=int, default=chunk_default,
                        help="frames per chunk (default: %(default)s)")
    args = parser.parse_args(argv)

    if args.input and not os.path.isfile(args.input):
        parser.exit(1, f"FileNotFoundError: no such file: {args.input!r}\n")
    out_dir = args.out_dir
    os.makedirs(out_dir, exist_ok=True)
    path = args.input or synthesize(os.path.join(out_dir, "synth_input.wav"), args.seconds)

    try:
        source = sd.FileSource(path, chunk_size=args.chunk_size)
        info = soundfile.info(path)
        taps = firwin(args.numtaps, args.cutoff, fs=source.samplerate)
        lowpass = sd.FIR(taps, method="direct")
    except (OSError, ValueError, TypeError) as e:
        parser.exit(1, f"{type(e).__name__}: {e}\n")

    stem, ext = os.path.splitext(os.path.basename(path))
    out_path = os.path.join(out_dir, f"{stem}_lowpass{ext}")
    sink = sd.FileSink(out_path, source.samplerate, subtype=info.subtype, format=info.format)

    t0 = time.perf_counter()
    sd.run(source >> lowpass >> sink)
    wall = time.perf_counter() - t0

    seconds = info.frames / info.samplerate
    print(f"{path} -> {out_path}")
    print(f"low-pass at {args.cutoff:g} Hz ({args.numtaps} taps, latency {lowpass.latency}): "
          f"{seconds:.2f} s of audio ({info.channels} ch, {info.samplerate} Hz) in {wall:.4f} s, "
          f"{seconds / max(wall, 1e-9):.0f}x faster than real time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
