"""pytest configuration: hypothesis profiles and the `case` fixture over every block in the contract."""

import pytest

from _support import CASES


@pytest.fixture(params=CASES, ids=str)
def case(request):
    return request.param
