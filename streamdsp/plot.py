"""Plots of blocks and signals (needs matplotlib: ``pip install streamdsp[plot]``).

matplotlib is imported when a function is called, not with this module, so
``import streamdsp.plot`` works without it.  Every function returns the
matplotlib :class:`~matplotlib.figure.Figure` it drew on; save it with
``fig.savefig(path)``.

plot_response   -- magnitude (dB) and phase of a block's frequency response.
plot_impulse    -- a block's impulse response (coefficients, or measured).
plot_signals    -- waveforms and spectra of an input and an output.
impulse_response -- the impulse response plot_impulse draws, as an array.
"""

import numpy as np

__all__ = ["plot_response", "plot_impulse", "plot_signals", "impulse_response"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("streamdsp.plot needs matplotlib: pip install 'streamdsp[plot]' "
                          "(or pip install matplotlib)") from None
    return plt


def _columns(a):
    a = np.asarray(a)
    return a.reshape(len(a), -1)


def _axes_pair(ax, plt, nrows=2, figsize=(7, 5)):
    """(figure, [axes...]) from ``ax``: None (new figure), one Axes, or a sequence."""
    if ax is None:
        fig, axes = plt.subplots(nrows, 1, figsize=figsize, squeeze=False)
        return fig, list(axes[:, 0])
    if hasattr(ax, "plot"):
        return ax.figure, [ax]
    axes = list(ax)
    return axes[0].figure, axes


def plot_response(block_or_tuple, fs=None, ax=None, n=512, label=None):
    """Magnitude in dB and unwrapped phase of a frequency response.

    Parameters
    ----------
    block_or_tuple : block or (freqs, h)
        A block with ``frequency_response(n, fs=...)`` (FIR, Convolver,
        Correlator, LTISystem, SavitzkyGolay), or what such a call returns
        (``h`` may have one column per channel).
    fs : float, optional
        Sample rate: frequencies in Hz.  Else in rad/sample (or as given in
        the tuple).
    ax : Axes or (Axes, Axes), optional
        Where to draw: one Axes gets the magnitude only, a pair gets the
        magnitude and the phase.  Default: a new figure with both.
    n : int, optional
        Number of frequencies asked of a block.
    label : str, optional
        Legend label (``repr`` of the block by default).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import streamdsp as sd, streamdsp.plot
    >>> fig = streamdsp.plot.plot_response(sd.FIR([0.25, 0.5, 0.25]), fs=48000)
    >>> fig.savefig("response.png")       # doctest: +SKIP
    """
    plt = _pyplot()
    if isinstance(block_or_tuple, tuple):
        freqs, h = block_or_tuple
        name = label
    else:
        if not hasattr(block_or_tuple, "frequency_response"):
            raise TypeError(f"plot_response: expected a block with frequency_response() or a "
                            f"(freqs, h) tuple, got {type(block_or_tuple).__name__}")
        kw = {} if fs is None else {"fs": fs}
        freqs, h = block_or_tuple.frequency_response(n, **kw)
        name = label if label is not None else repr(block_or_tuple)
    freqs = np.asarray(freqs, dtype=np.float64)
    H = _columns(h)
    fig, axes = _axes_pair(ax, plt)
    mag = 20 * np.log10(np.maximum(np.abs(H), 1e-300))
    for c in range(H.shape[1]):
        lab = name if H.shape[1] == 1 else f"{name or 'channel'} [{c}]"
        axes[0].plot(freqs, mag[:, c], label=lab)
    unit = "Hz" if fs is not None else "rad/sample"
    axes[0].set_ylabel("magnitude (dB)")
    axes[0].grid(True, alpha=0.3)
    if np.all(np.isfinite(mag)) and mag.size:
        lo = max(float(np.min(mag)), float(np.max(mag)) - 120.0)
        axes[0].set_ylim(lo - 3, float(np.max(mag)) + 3)
    if name or H.shape[1] > 1:
        axes[0].legend(fontsize=7)
    if len(axes) > 1:
        phase = np.unwrap(np.angle(H), axis=0)
        for c in range(H.shape[1]):
            axes[1].plot(freqs, phase[:, c])
        axes[1].set_ylabel("phase (rad)")
        axes[1].grid(True, alpha=0.3)
        axes[1].set_xlabel(f"frequency ({unit})")
    else:
        axes[0].set_xlabel(f"frequency ({unit})")
    fig.tight_layout()
    return fig


def _coefficient_response(block, n):
    """The impulse response from a block's coefficients, or None."""
    if hasattr(block, "impulse") and callable(block.impulse):      # LTISystem
        return np.asarray(block.impulse(n if n is not None else 100)), "impulse()"
    for attr in ("taps", "ir", "coeffs"):                            # FIR, Convolver, SavitzkyGolay
        h = getattr(block, attr, None)
        if h is not None:
            h = np.asarray(h, dtype=np.float64)
            return (h if n is None else _fit(h, n)), attr
    t = getattr(block, "template", None)
    if t is not None:                                                # Correlator
        if getattr(block, "normalize", False):
            raise TypeError("plot_impulse: a normalised Correlator is not linear; plot "
                            "Correlator(template) (the raw matched filter) instead")
        h = np.asarray(t, dtype=np.float64)[::-1]
        return (h if n is None else _fit(h, n)), "template reversed"
    return None


def _fit(h, n):
    if len(h) >= n:
        return h[:n]
    return np.concatenate([h, np.zeros((n - len(h),) + h.shape[1:])])


def impulse_response(block, n=None):
    """A block's impulse response: from its coefficients, else measured.

    Measured by pushing a unit impulse (mono, float64) through a *fresh*
    block: pass a function that makes one (``lambda: sd.Gain(2) >>
    sd.Delay(3)``), since a block in use cannot be copied.  The response
    includes the block's latency.
    """
    got = None if callable(block) and not hasattr(block, "process") else _coefficient_response(block, n)
    if got is not None:
        return got[0]
    if callable(block) and not hasattr(block, "process"):
        fresh = block()
        n = 256 if n is None else int(n)
        x = np.zeros(n)
        if n:
            x[0] = 1.0
        head = _columns(fresh.process(x))
        tail = np.asarray(fresh.flush(), dtype=np.float64).reshape(-1, head.shape[1])
        y = np.concatenate([head, tail])
        return y.reshape(-1) if y.shape[1] == 1 else y
    raise TypeError(f"plot_impulse: {type(block).__name__} has no coefficients to plot and a "
                    f"block in use cannot be copied; pass a function that makes a fresh one, "
                    f"e.g. plot_impulse(lambda: {type(block).__name__}(...))")


def plot_impulse(block, n=None, ax=None, fs=None):
    """Draw a block's impulse response.

    Parameters
    ----------
    block : block or callable
        A block with coefficients (``taps``, ``ir``, ``coeffs``, a raw
        Correlator's ``template`` -- its reversed template -- or an
        ``impulse(n)`` method), or a function returning a fresh block,
        through which a unit impulse is pushed (latency included).
    n : int, optional
        Samples to show (default: all the coefficients, or 256 measured).
    ax : Axes, optional
    fs : float, optional
        Sample rate: time axis in seconds instead of samples.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, streamdsp as sd, streamdsp.plot
    >>> fig = streamdsp.plot.plot_impulse(sd.FIR(np.hanning(31)))
    >>> fig = streamdsp.plot.plot_impulse(lambda: sd.Gain(0.5) >> sd.Delay(3), n=16)
    """
    plt = _pyplot()
    h = _columns(impulse_response(block, n))
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3))
    else:
        fig = ax.figure
    t = np.arange(h.shape[0], dtype=np.float64)
    if fs is not None:
        t = t / float(fs)
    for c in range(h.shape[1]):
        lab = f"channel {c}" if h.shape[1] > 1 else None
        if h.shape[0] <= 128:
            ax.stem(t, h[:, c], basefmt=" ", label=lab)
        else:
            ax.plot(t, h[:, c], label=lab)
    ax.set_xlabel("time (s)" if fs is not None else "sample")
    ax.set_ylabel("amplitude")
    ax.set_title("impulse response" if callable(block) and not hasattr(block, "process")
                 else f"impulse response of {block!r}", fontsize=9)
    ax.grid(True, alpha=0.3)
    if h.shape[1] > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_signals(x, y=None, fs=1.0, labels=("input", "output"), ax=None, nperseg=1024):
    """Waveforms (top) and power spectra (bottom) of an input and an output.

    Parameters
    ----------
    x, y : array_like, shape (frames,) or (frames, channels)
        Signals at the same rate; ``y`` is optional.  Multichannel signals
        draw one line per channel.
    fs : float, optional
        Sample rate in Hz (time in seconds, frequency in Hz).
    labels : (str, str), optional
    ax : (Axes, Axes), optional
        Where to draw the waveforms and the spectra.  Default: a new figure.
    nperseg : int, optional
        Welch segment length for the spectra (``scipy.signal.welch``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, streamdsp as sd, streamdsp.plot
    >>> x = np.random.default_rng(0).standard_normal(48000)
    >>> y = sd.FIR(np.ones(8) / 8).process(x)
    >>> fig = streamdsp.plot.plot_signals(x, y, fs=48000)
    """
    from scipy import signal
    plt = _pyplot()
    fig, axes = _axes_pair(ax, plt, figsize=(8, 5.5))
    if len(axes) < 2:
        raise ValueError(f"plot_signals: expected two axes (waveforms, spectra), got {len(axes)}")
    fs = float(fs)
    for sig, lab in ((x, labels[0]), (y, labels[1])):
        if sig is None:
            continue
        a = _columns(np.asarray(sig, dtype=np.float64))
        t = np.arange(a.shape[0]) / fs
        for c in range(a.shape[1]):
            name = lab if a.shape[1] == 1 else f"{lab} [{c}]"
            axes[0].plot(t, a[:, c], label=name, linewidth=0.8)
            if a.shape[0] >= 2:
                f, p = signal.welch(a[:, c], fs=fs, nperseg=min(nperseg, a.shape[0]))
                axes[1].plot(f, 10 * np.log10(np.maximum(p, 1e-300)), label=name, linewidth=0.9)
    axes[0].set_xlabel("time (s)" if fs != 1.0 else "sample")
    axes[0].set_ylabel("amplitude")
    axes[0].legend(fontsize=7, loc="upper right")
    axes[0].grid(True, alpha=0.3)
    axes[1].set_xlabel("frequency (Hz)" if fs != 1.0 else "frequency (cycles/sample)")
    axes[1].set_ylabel("power spectral density (dB)")
    axes[1].legend(fontsize=7, loc="upper right")
    axes[1].grid(True, alpha=0.3)
    fig.tight_layout()
    return fig
