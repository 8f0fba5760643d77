"""Modules imported on first use, so that ``import streamdsp`` stays fast.

``scipy.signal`` alone takes 0.6 s to import; blocks need it only to design
or convert coefficients when they are built, never to run.
"""
import importlib


class LazyModule:
    """Stand-in for a module that imports it on first attribute access.

    Parameters
    ----------
    name : str
        The module's dotted name.

    Examples
    --------
    >>> signal = LazyModule("scipy.signal")
    >>> signal.butter(2, 0.5)[0].shape
    (3,)
    """

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self):
        return f"<lazily imported module {self._name!r}>"
