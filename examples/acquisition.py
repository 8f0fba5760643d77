#!/usr/bin/env python3
"""A long-running acquisition: 8 sensor channels at 10 kHz, filtered, recorded to FLAC, monitored live.

A simulated sensor thread produces 8 channels at 10 kHz, in real time:
on each channel a slowly swelling tone (30 + 40 * channel Hz), a DC offset,
2 kHz interference and white noise (streamdsp's Sine and Noise generators).
It pushes them in irregular chunks of 20-400 frames, as a device driver's
callback does, into a streamdsp Runner: a bounded queue and a processing
thread that runs

  * a 4th-order Butterworth band-pass 20-400 Hz (LTISystem from
    scipy.signal.butter(..., output="sos")), which removes the offset and
    the interference;
  * a Savitzky-Golay smoother (window 21, order 3);
  * a decimation by 4 to 2.5 kHz (polyphase anti-aliasing FIR);

and writes the result both to acquisition.flac in --out-dir (default ./streamdsp-out/; a FileSink
that brings the file's header up to date every second, so that even a
killed process leaves a valid file missing at most the last second) and
to a RingBuffer holding the last 5 s, which a monitor thread reads once a
second to print a level meter (RMS over the last second, dB re full scale,
per channel).

It runs for --seconds of signal (0: until Ctrl-C).  Ctrl-C (or SIGTERM)
stops it cleanly: the sensor stops, everything already queued is
processed, the filters are flushed into the file and the file is closed;
the summary checks that nothing was lost (frames pushed, processed and in
the file).

The processing thread uses a few percent of one core (see "busy" in the
summary): the filtering runs compiled, without the interpreter's lock.

Needs streamdsp, numpy, scipy and soundfile.  For example:

    python examples/acquisition.py                   # 10 s, or Ctrl-C
    python examples/acquisition.py --seconds 0 --out-dir rec   # until Ctrl-C
    python examples/acquisition.py --seconds 60 --speed 0      # as fast as possible
"""

import argparse
import os
import signal as signal_module
import sys
import threading
import time

import numpy as np
import soundfile
from scipy import signal

import streamdsp as sd

FS = 10000          # Hz, sensor rate
CHANNELS = 8
DECIMATION = 4
BAND = (20.0, 400.0)


def build_chain(notes):
    """The processing blocks, using what this streamdsp offers (notes say what was skipped)."""
    blocks = []
    if hasattr(sd, "LTISystem"):
        sos = signal.butter(4, BAND, btype="bandpass", output="sos", fs=FS)
        blocks.append(sd.LTISystem.from_sos(sos))
    else:
        taps = signal.firwin(401, BAND, pass_zero=False, fs=FS)
        blocks.append(sd.FIR(taps))
        notes.append("no sd.LTISystem here: band-pass as a 401-tap FIR instead")
    if hasattr(sd, "SavitzkyGolay"):
        blocks.append(sd.SavitzkyGolay(21, 3))
    else:
        notes.append("no sd.SavitzkyGolay here: smoothing skipped")
    if hasattr(sd, "Decimate"):
        blocks.append(sd.Decimate(DECIMATION))
        rate = FS // DECIMATION
    elif hasattr(sd, "Downsample"):
        blocks.append(sd.Downsample(DECIMATION))    # the band-pass already low-passed below 1250 Hz
        rate = FS // DECIMATION
        notes.append("no sd.Decimate here: plain Downsample after the band-pass")
    else:
        rate = FS
        notes.append("no sd.Decimate or sd.Downsample here: recording at the full rate")
    return blocks, rate


class Sensor(threading.Thread):
    """Pushes the simulated signal into the runner, in irregular chunks, paced to real time."""

    def __init__(self, runner, speed, frames=None, seed=0):
        super().__init__(name="sensor", daemon=True)
        self.runner, self.speed, self.limit = runner, speed, frames
        self.stop_event = threading.Event()
        self.frames = 0             # frames the runner accepted
        self.refused = 0
        self.rng = np.random.default_rng(seed)
        ch = np.arange(CHANNELS)
        block = 1000
        self.tones = iter(sd.Sine(30.0 + 40.0 * ch, FS, amplitude=0.3, chunk_size=block))
        self.swell = iter(sd.Sine(0.05 * (ch + 1), FS, amplitude=0.5, chunk_size=block))
        self.hum = iter(sd.Sine(2000.0, FS, amplitude=0.1, channels=CHANNELS, chunk_size=block))
        self.noise = iter(sd.Noise(FS, seed=seed, amplitude=0.02, channels=CHANNELS, chunk_size=block))
        self.offset = np.linspace(-0.2, 0.2, CHANNELS, dtype=np.float32)
        self.pending = np.zeros((0, CHANNELS), np.float32)

    def read(self, frames):
        while len(self.pending) < frames:
            x = next(self.tones) * (1.0 + next(self.swell)) + next(self.hum) + next(self.noise) + self.offset
            self.pending = np.concatenate([self.pending, x])
        x, self.pending = self.pending[:frames], self.pending[frames:]
        return x

    def run(self):
        t0 = time.monotonic()
        while not self.stop_event.is_set():
            k = int(self.rng.integers(20, 401))
            if self.limit is not None:
                k = min(k, self.limit - self.frames - self.refused)
                if k <= 0:
                    return
            chunk = self.read(k)
            try:
                self.runner.push(chunk)
            except sd.StreamStateError:      # the runner stopped (or failed): stop too
                return
            except sd.QueueFullError:        # overflow="raise": the chunk is lost, counted
                self.refused += len(chunk)
                continue
            self.frames += len(chunk)
            if self.speed > 0:
                ahead = t0 + self.frames / (FS * self.speed) - time.monotonic()
                if ahead > 0:
                    self.stop_event.wait(ahead)


def meter_line(ring, rate):
    """One line: per channel, RMS of the last second in dBFS and a bar."""
    data = ring.read()                      # up to 5 s, oldest first (a copy)
    if len(data) == 0:
        return "(no data yet)"
    last = data[-int(rate):]
    rms = np.sqrt(np.mean(np.square(last, dtype=np.float64), axis=0))
    db = 20 * np.log10(np.maximum(rms, 1e-9))
    bars = " ▁▂▃▄▅▆▇█"
    cells = [f"{bars[int(np.clip((d + 60) / 60 * 8, 0, 8))]}{d:6.1f}" for d in db]
    return f"{ring.frames_written / rate:7.1f} s |" + "|".join(cells) + "| dBFS"


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def monitor(ring, rate, stop_event):
    while not stop_event.wait(1.0):
        print(meter_line(ring, rate), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", metavar="S", type=float, default=10.0,
                        help="how long to acquire; 0 runs until Ctrl-C (default: %(default)s)")
    parser.add_argument("--out-dir", "--out", metavar="DIR", dest="out_dir", default="streamdsp-out",
                        help="folder for acquisition.flac (default: ./%(default)s/)")
    parser.add_argument("--speed", metavar="X", type=float, default=1.0,
                        help="sensor pace, times real time; 0: as fast as possible (default: %(default)s)")
    parser.add_argument("--overflow", choices=["block", "drop_oldest", "raise"], default="block",
                        help="what the runner's queue does when full (default: %(default)s: the sensor "
                             "waits, nothing is lost)")
    parser.add_argument("--queue-size", metavar="N", type=int, default=256,
                        help="chunks the queue holds (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.seconds < 0 or args.speed < 0:
        parser.exit(1, "ValueError: --seconds and --speed must be >= 0\n")

    notes = []
    blocks, rate = build_chain(notes)
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "acquisition.flac")
    recorder = sd.FileSink(path, rate, subtype="PCM_24", flush_every=1.0)
    ring = sd.RingBuffer(5.0, rate, channels=CHANNELS)
    runner = sd.Runner(sd.Flow(blocks=blocks, sink=sd.Tee(recorder, ring)), queue_size=args.queue_size,
                       overflow=args.overflow, samplerate=FS)
    for n in notes:
        print("note:", n)
    print(f"chain: {' >> '.join(type(b).__name__ for b in blocks)}; {CHANNELS} ch at {FS} Hz in, "
          f"{rate} Hz out -> {path}")
    print("Ctrl-C to stop" + (f" (or it stops after {args.seconds:g} s)" if args.seconds else ""))

    sensor = Sensor(runner, args.speed, frames=int(round(args.seconds * FS)) if args.seconds else None)
    stop_monitor = threading.Event()
    mon = threading.Thread(target=monitor, args=(ring, rate, stop_monitor), name="monitor", daemon=True)
    interrupted = False
    runner.start()
    sensor.start()
    mon.start()
    # SIGTERM (kill, a service manager) stops it as cleanly as Ctrl-C
    signal_module.signal(signal_module.SIGTERM, _interrupt)
    try:
        while sensor.is_alive():
            sensor.join(0.25)
    except KeyboardInterrupt:
        interrupted = True
        print("\nstopping cleanly...", flush=True)
    finally:
        sensor.stop_event.set()
        sensor.join()                  # no more pushes
        try:
            runner.stop()              # queued chunks processed, filters flushed, file closed
        finally:
            stop_monitor.set()
            mon.join()

    st = runner.stats()
    print(meter_line(ring, rate))
    info = soundfile.info(path)
    print(f"{'interrupted' if interrupted else 'done'}: pushed {sensor.frames} frames "
          f"({sensor.frames / FS:.2f} s), processed {st['frames']} in {st['chunks']} chunks, "
          f"dropped {st['dropped_frames'] + sensor.refused}; queue high-water {st['queue_high_water']} "
          f"of {args.queue_size}")
    print(f"busy {st['busy_s']:.3f} s of {st['elapsed_s']:.2f} s ({100 * st['busy_s'] / max(st['elapsed_s'], 1e-9):.1f}% "
          f"of a core), worst chunk {st['max_chunk_s'] * 1e3:.2f} ms")
    print(f"wrote {path}: {info.frames} frames x {info.channels} ch at {info.samplerate} Hz "
          f"({info.frames / info.samplerate:.2f} s, {info.format} {info.subtype})")
    if st["frames"] + st["dropped_frames"] != sensor.frames or info.frames != st["frames_out"]:
        print("LOST DATA: the counts above do not match", file=sys.stderr)
        return 1
    dropped = st["dropped_frames"] + sensor.refused
    if dropped:
        print(f"{dropped} frames dropped by overflow={args.overflow!r}; everything else was processed "
              f"and is in the file")
    else:
        print("nothing lost: every frame pushed was processed and is in the file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
