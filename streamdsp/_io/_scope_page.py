"""The browser scope's page: one Bokeh document per open page, redrawn from the shared Analyser."""

import html
import math

from streamdsp._io._scope_analysis import envelope

_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _stats_html(a, samplerate, capacity):
    rows = [("frames written", f"{a['frames']:,}"),
            ("ring", f"{capacity:,} frames ({capacity / samplerate:.3g} s)")]
    s = a["stats"]
    if a["stats_error"]:
        rows.append(("stream", a["stats_error"]))
    elif s:
        period = s.get("period_s")
        rows += [("callbacks", f"{s.get('callbacks', 0):,}"),
                 ("xruns", str(s.get("xruns", 0))),
                 ("callback mean / last / max", "{:.3f} / {:.3f} / {:.3f} ms".format(
                     1e3 * s.get("mean_callback_s", 0.0), 1e3 * s.get("last_callback_s", 0.0),
                     1e3 * s.get("max_callback_s", 0.0))),
                 ("period", f"{1e3 * period:.3f} ms" if period else "host's choice"),
                 ("longest gap between callbacks", f"{1e3 * s.get('max_interval_s', 0.0):.3f} ms"),
                 ("cpu load (PortAudio)", f"{100 * s.get('cpu_load', 0.0):.1f} %"),
                 ("GIL-free callback", str(s.get("gil_free")))]
    else:
        rows.append(("stream", "none given (pass stream= for callback times and xruns)"))
    body = "".join(f"<tr><td style='padding-right:1em'>{html.escape(k)}</td>"
                   f"<td class='{html.escape(k.split()[0])}'><b>{html.escape(v)}</b></td></tr>"
                   for k, v in rows)
    return f"<table>{body}</table>"


def _readout_html(a):
    peak = ("peak {:.1f} Hz at {:.1f} dBFS".format(a["peak_hz"], a["peak_db"])
            if math.isfinite(a["peak_hz"]) else "no spectrum yet")
    return f"<span id='streamdsp-scope-readout'>frames {a['frames']:,} &middot; {peak}</span>"


def make_document(doc, analyser, views, title):
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, Div, Range1d
    from bokeh.plotting import figure

    sr = analyser.samplerate
    capacity = analyser.ring.capacity or 0
    readout = ColumnDataSource(name="streamdsp-scope-readout", data={
        "frames": [0], "peak_hz": [math.nan], "peak_db": [math.nan], "callbacks": [0],
        "xruns": [0], "max_callback_s": [0.0], "updates": [0]})
    heading = Div(text=f"<b>{html.escape(title)}</b>")
    text = Div(text="", name="streamdsp-scope-text")
    parts = [heading, text]
    wave = ColumnDataSource(name="streamdsp-scope-wave", data={"xs": [], "ys": [], "color": []})
    spec = ColumnDataSource(name="streamdsp-scope-spectrum", data={"xs": [], "ys": [], "color": []})
    meters = ColumnDataSource(name="streamdsp-scope-meters", data={
        "channel": [], "peak_db": [], "rms_db": [], "peak_left": [], "rms_left": []})
    stats = Div(text="", name="streamdsp-scope-stats")
    if "wave" in views:
        f = figure(height=220, sizing_mode="stretch_width", title="waveform",
                   x_axis_label="ms before now", y_range=Range1d(-1.05, 1.05), tools="", toolbar_location=None)
        f.multi_line("xs", "ys", color="color", source=wave)
        parts.append(f)
    if "spectrum" in views:
        f = figure(height=260, sizing_mode="stretch_width", title=f"spectrum ({analyser.nfft}-point Hann)",
                   x_axis_type="log", x_range=Range1d(max(sr / analyser.nfft, 10.0), sr / 2),
                   y_range=Range1d(-120, 6), x_axis_label="Hz", y_axis_label="dBFS",
                   tools="", toolbar_location=None)
        f.multi_line("xs", "ys", color="color", source=spec)
        parts.append(f)
    if "meters" in views:
        f = figure(height=140, sizing_mode="stretch_width", title="peak (light) and RMS (dark), dBFS",
                   x_range=Range1d(-60, 3), tools="", toolbar_location=None)
        f.hbar(y="channel", left="peak_left", right="peak_db", height=0.8, color="#9ecae1", source=meters)
        f.hbar(y="channel", left="rms_left", right="rms_db", height=0.5, color="#08519c", source=meters)
        f.yaxis.axis_label = "channel"
        f.yaxis.ticker = list(range(1, 33))
        parts.append(f)
    if "stats" in views:
        parts.append(stats)

    def update():
        a = analyser.get()
        data = a["data"]
        ch = data.shape[1]
        colors = [_COLORS[c % len(_COLORS)] for c in range(ch)]
        if "wave" in views:
            w = data[-analyser.window_frames:]
            idx, vals = envelope(w)
            t = (idx - len(w)) * (1e3 / sr)
            wave.data = {"xs": [t] * ch, "ys": [vals[:, c] for c in range(ch)], "color": colors}
        if "spectrum" in views:
            fr = a["freqs"][1:]
            spec.data = {"xs": [fr] * ch, "ys": [a["spectrum_db"][1:, c] for c in range(ch)],
                         "color": colors}
        if "meters" in views:
            meters.data = {"channel": list(range(1, ch + 1)), "peak_db": a["meter_peak_db"],
                           "rms_db": a["meter_rms_db"], "peak_left": [-60.0] * ch, "rms_left": [-60.0] * ch}
        if "stats" in views:
            stats.text = _stats_html(a, sr, capacity)
        s = a["stats"] or {}
        readout.data = {"frames": [a["frames"]], "peak_hz": [a["peak_hz"]], "peak_db": [a["peak_db"]],
                        "callbacks": [s.get("callbacks", 0)], "xruns": [s.get("xruns", 0)],
                        "max_callback_s": [s.get("max_callback_s", 0.0)], "updates": [analyser.updates]}
        text.text = _readout_html(a)

    # the readout lives in the document (not on the page) so a test can read it from JS
    doc.add_root(readout)
    doc.add_root(column(*parts, sizing_mode="stretch_width"))
    doc.title = title
    update()
    doc.add_periodic_callback(update, int(round(1000 * analyser.interval)))
