"""What IDEs and introspection see: signatures, help() and the shipped stubs.

The compiled classes get their signatures from the first lines of their
docstrings (``Name(params)`` then ``--``), written by hand: these tests hold
them to the ``__init__`` in the source, so the two cannot drift apart.
"""

import ast
import importlib.machinery
import importlib.util
import inspect
import pathlib
import pickle
import pydoc
import re
import sys

import numpy as np
import pytest
from scipy import signal

import streamdsp as sd

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Arguments without a default, one valid set per class; the test adds every
# parameter that has a default, by keyword, at that default.
REQUIRED = {
    "Block": {}, "Combiner": {}, "Pipeline": {}, "Graph": {},
    "Gain": {"g": 0.5}, "Delay": {"samples": 2}, "FIR": {"taps": [0.5, 0.5]},
    "Convolver": {"ir": np.ones(8)}, "Correlator": {"template": np.ones(4)},
    "DelayEstimator": {"window": 64}, "ChannelMixer": {"weights": np.eye(2)},
    "Downsample": {"stride": 2}, "MaxPool": {"size": 2}, "Decimate": {"factor": 2},
    "LTISystem": {"system": signal.dlti([1.0], [1.0, -0.5])},
    "SavitzkyGolay": {"window_length": 5, "polyorder": 2},
    "Parallel": {"*": (sd.Gain(1.0), sd.Gain(2.0))}, "Add": {}, "Multiply": {}, "Concatenate": {}, "Mix": {"weights": [1.0, 1.0]},
    "RingBuffer": {"seconds": 1.0},
}


def _is_compiled(cls):
    path = getattr(sys.modules[cls.__module__], "__file__", "") or ""
    return path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


# sd.datasets is a module of functions: its functions are the public objects
PUBLIC = [getattr(sd, name) for name in sd.__all__ if not inspect.ismodule(getattr(sd, name))] + \
    [getattr(sd.datasets, name) for name in sd.datasets.__all__]
# Exceptions keep the built-in constructor, which has no signature in the
# standard library either (inspect.signature(ValueError) fails too).
SIGNED = [o for o in PUBLIC if not (isinstance(o, type) and issubclass(o, BaseException))]
COMPILED = sorted({o for o in PUBLIC if isinstance(o, type) and _is_compiled(o)},
                  key=lambda c: c.__name__)


def _source_init(cls):
    """Parameters of ``cls.__init__`` as written in its .pyx, as an ast.arguments."""
    pyx = ROOT.joinpath(*cls.__module__.split(".")).with_suffix(".pyx")
    source = pyx.read_text()
    start = re.search(rf"^cdef class {cls.__name__}\b", source, re.M).end()
    end = re.search(r"^(?:cdef|cpdef|class|def)\b", source[start:], re.M)
    body = source[start:start + end.start()] if end else source[start:]
    m = re.search(r"^    def __init__\(self,?(.*?)\):", body, re.M | re.S)
    params = m.group(1) if m else ""
    return ast.parse(f"def f({params}): pass").body[0].args


def test_every_public_class_and_function_has_a_signature():
    assert len(SIGNED) >= 39
    for obj in SIGNED:
        inspect.signature(obj)      # raised ValueError for every compiled class before


def test_compiled_classes_are_the_expected_ones():
    names = {c.__name__ for c in COMPILED}
    # Graph and Parallel are plain Python builders over the compiled GraphExecutor
    assert {"Block", "FIR", "Pipeline", "Add", "Combiner", "Mix"} <= names
    assert names <= set(REQUIRED)


@pytest.mark.parametrize("cls", COMPILED, ids=lambda c: c.__name__)
def test_text_signature_matches_init_in_source(cls):
    sig = inspect.signature(cls)
    args = _source_init(cls)
    written = [a.arg for a in args.posonlyargs + args.args]
    assert [p.name for p in sig.parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD] == written
    assert [p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY] == \
        [a.arg for a in args.kwonlyargs]
    var = [p.name for p in sig.parameters.values() if p.kind is p.VAR_POSITIONAL]
    assert var == ([args.vararg.arg] if args.vararg else [])
    defaults = dict(zip(written[len(written) - len(args.defaults):],
                        [ast.literal_eval(d) for d in args.defaults]))
    defaults.update({a.arg: ast.literal_eval(d) for a, d in zip(args.kwonlyargs, args.kw_defaults)
                     if d is not None})
    assert {n: p.default for n, p in sig.parameters.items() if p.default is not p.empty} == defaults


@pytest.mark.parametrize("cls", COMPILED + [sd.RingBuffer], ids=lambda c: c.__name__)
def test_documented_defaults_construct_by_keyword(cls):
    sig = inspect.signature(cls)
    kwargs = dict(REQUIRED[cls.__name__])
    args = kwargs.pop("*", ())
    kwargs.update({n: p.default for n, p in sig.parameters.items() if p.default is not p.empty})
    block = cls(*args, **kwargs)
    assert type(block) is cls
    if isinstance(block, sd.FIR):
        np.testing.assert_allclose(block.process(np.array([1.0, 1.0, 0.0])), [0.5, 1.0, 0.5])


def test_signature_shows_in_help_and_leaves_the_docstring():
    text = pydoc.render_doc(sd.FIR, renderer=pydoc.plaintext)
    assert "FIR(taps, method='auto', block_size=None)" in text
    assert sd.FIR.__doc__.lstrip().startswith("Finite impulse response filter")
    assert "\n--\n" not in sd.FIR.__doc__
    assert str(inspect.signature(sd.FIR.process)) == "(self, x, out=None)"


@pytest.mark.parametrize("cls", COMPILED, ids=lambda c: c.__name__)
def test_help_hides_cython_pickling(cls):
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    assert "__reduce_cython__" not in text and "__setstate_cython__" not in text
    module_text = pydoc.render_doc(sys.modules[cls.__module__], renderer=pydoc.plaintext)
    assert "__test__" not in module_text


def test_blocks_pickle_through_the_one_mechanism_in_the_core():
    # Cython's generated pickling would copy C pointers (setup.py turns it
    # off); Block.__reduce_ex__ asks each block's hooks instead, and no
    # block pickles on its own terms (tests/test_pickle.py checks the state).
    for cls in COMPILED:
        if issubclass(cls, sd.Block) and cls is not sd.Block:
            assert "__reduce_ex__" not in vars(cls) and "__reduce__" not in vars(cls), cls
    fir = pickle.loads(pickle.dumps(sd.FIR([0.5, 0.5]), protocol=5))
    np.testing.assert_allclose(fir.process(np.array([1.0, 1.0, 0.0])), [0.5, 1.0, 0.5])


def test_no_public_method_is_documented_as_the_text_none():
    # Cython's clinic signatures leave the text "None" on an undocumented
    # function, which help() would then print.
    for cls in COMPILED:
        for name, member in vars(cls).items():
            if not name.startswith("_"):
                assert member.__doc__ != "None", f"{cls.__name__}.{name}"


def test_every_compiled_module_ships_a_stub_and_py_typed():
    pyx = sorted((ROOT / "streamdsp").glob("**/*.pyx"))
    assert len(pyx) >= 17
    for p in pyx:
        stub = p.with_suffix(".pyi")
        assert stub.exists(), f"{stub} missing: run tools/gen_stubs.py"
        ast.parse(stub.read_text())
    assert (ROOT / "streamdsp" / "py.typed").exists()
    package_data = re.search(r"\[tool\.setuptools\.package-data\]\n(.*?)\n\n",
                             (ROOT / "pyproject.toml").read_text(), re.S).group(1)
    assert '"**/*.pyi"' in package_data and '"py.typed"' in package_data


def test_stubs_declare_each_compiled_class_with_its_parameters():
    for cls in COMPILED:
        stub = ROOT.joinpath(*cls.__module__.split(".")).with_suffix(".pyi")
        tree = ast.parse(stub.read_text())
        node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
        init = [f for f in node.body if isinstance(f, ast.FunctionDef)
                and f.name in ("__init__", "__new__")]
        if not init:
            continue
        a = init[0].args
        names = [x.arg for x in a.args[1:]] + ([a.vararg.arg] if a.vararg else []) + \
            [x.arg for x in a.kwonlyargs]
        assert names == list(inspect.signature(cls).parameters), cls.__name__


def test_stubs_are_what_the_generator_writes_now():
    # The stubs copy signatures and docstrings from the compiled modules;
    # a change to either without `tools/gen_stubs.py` fails here.
    spec = importlib.util.spec_from_file_location("gen_stubs", ROOT / "tools" / "gen_stubs.py")
    gen_stubs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_stubs)
    assert gen_stubs.main(["--check"]) == 0
