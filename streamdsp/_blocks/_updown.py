"""UpMix and DownMix: the everyday channel changes, as named ChannelMixers.

They are ChannelMixers with their matrix written for them (so the compiled
kernel runs them, GIL-free); any other N -> M change is a ChannelMixer
with its own matrix.
"""

import numpy as np

from streamdsp._blocks._mixing import ChannelMixer
from streamdsp._core._validate import whole_number

# far beyond any audio interface; keeps a typo from asking for a huge matrix
_MAX_CHANNELS = 4096


class UpMix(ChannelMixer):
    """UpMix(channels=2)

    One channel in, the same signal on ``channels`` channels out (mono to
    stereo by default).

    Parameters
    ----------
    channels : int, optional
        Output channels, ``1 .. 4096``.

    Notes
    -----
    Latency 0.  Offline equivalent: ``np.repeat(x.reshape(-1, 1), channels,
    axis=1)``.  The same as ``ChannelMixer([[1.0]] * channels)``.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sd.UpMix(2).process(np.array([1.0, -0.5]))
    array([[ 1. ,  1. ],
           [-0.5, -0.5]])
    """

    def __init__(self, channels=2):
        n = whole_number("UpMix", "channels", channels, minimum=1, maximum=_MAX_CHANNELS)
        super().__init__(np.ones((n, 1)))

    def _config(self):
        return type(self), (self.out_channels,), {}



class DownMix(ChannelMixer):
    """DownMix(channels=2)

    ``channels`` channels in, their mean out on one channel (stereo to
    mono by default: ``(L + R) / 2``).

    Parameters
    ----------
    channels : int, optional
        Input channels, ``1 .. 4096``.

    Notes
    -----
    Latency 0.  Offline equivalent: ``x.mean(axis=1, keepdims=True)``
    (a 1-D result for a mono output).  The same as
    ``ChannelMixer([[1 / channels] * channels])``.

    Examples
    --------
    >>> import numpy as np, streamdsp as sd
    >>> sd.DownMix(2).process(np.array([[1.0, 0.0], [0.5, 0.5]]))
    array([[0.5],
           [0.5]])
    """

    def __init__(self, channels=2):
        n = whole_number("DownMix", "channels", channels, minimum=1, maximum=_MAX_CHANNELS)
        super().__init__(np.full((1, n), 1.0 / n))

    def _config(self):
        return type(self), (self.channels,), {}
