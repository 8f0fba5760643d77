"""Measure what streamdsp/_core/_costmodel.py assumes, on this machine, without storing it.

    python benchmarks/calibrate_costmodel.py

The measurement and the fit are those of ``streamdsp calibrate``
(streamdsp/_core/_calibrate.py); this prints every timing and the fitted
constants, for a new shipped set in ``_costmodel.SHIPPED`` (take the
medians of a few runs on an idle machine).
"""

from streamdsp._core import _calibrate


def main():
    constants = _calibrate.measure(print)
    for key, value in constants.items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
