"""pytest configuration: hypothesis profiles and the `case` fixture over every block in the contract."""

import os

# The tests pin the choices the cost model makes with the reference constants,
# on every machine and whatever `streamdsp calibrate` stored in this user's
# cache; set before streamdsp is imported, which reads them once.
os.environ["STREAMDSP_COSTMODEL"] = "x86-64-v4"

import pytest  # noqa: E402

from _support import CASES  # noqa: E402


@pytest.fixture(params=CASES, ids=str)
def case(request):
    return request.param
