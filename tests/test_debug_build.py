"""The bounds-checked build (STREAMDSP_DEBUG_CYTHON=1) really checks the block contract.

Kept out of test_contract.py: other modules collect that file's functions as
per-case contract checks.
"""

import pytest


def test_debug_build_checks_the_frame_counts_of_every_kernel_call():
    # CI's STREAMDSP_DEBUG_CYTHON=1 run relies on Block.process/flush and the
    # Pipeline/Graph loops checking what _run/_flush return.  Whether this
    # build is such a build is read from the build itself (its generated C
    # has Cython's bounds checks), not from the environment of the test run.
    from pathlib import Path

    from streamdsp._core import _block

    c_file = Path(_block.__file__).with_name("_block.c")
    if not c_file.exists():
        pytest.skip("an installed build without its generated C")
    bounds_checked = any("__Pyx_RaiseBufferIndexError(" in p.read_text()
                         for p in Path(_block.__file__).parents[1].rglob("*.c")
                         if "_src" not in p.parts)
    assert _block._DEBUG_CHECKS is bounds_checked
