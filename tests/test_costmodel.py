"""The one FFT cost model (streamdsp/_core/_costmodel.py) and the choices it makes.

The expected choices were recorded before the Correlator's and the Convolver's
own copies of the formula were folded into it; a change to the model that
moves them should be deliberate (and recalibrated), not a side effect.
"""

import math

import pytest

from streamdsp._core import _costmodel as cm


@pytest.mark.parametrize("taps, method, partition", [
    (16, "direct", 32), (100, "direct", 256), (1000, "fft", 1024),
    (5000, "fft", 8192), (40000, "fft", 8192),
])
def test_fir_choices_are_pinned(taps, method, partition):
    assert cm.fir_method(taps) == method
    assert cm.fft_partition(taps) == partition


@pytest.mark.parametrize("ntaps, block, zero_latency, levels", [
    (1000, 64, True, [(64, 64, 192), (256, 256, 744)]),
    (1000, 64, False, [(64, 0, 192), (256, 192, 808)]),
    (48000, 128, True, [(128, 128, 896), (1024, 1024, 7168), (8192, 8192, 39808)]),
    (200000, 512, False, [(512, 0, 3584), (4096, 3584, 28672), (32768, 32256, 167744)]),
])
def test_convolver_plans_are_pinned(ntaps, block, zero_latency, levels):
    got, _ = cm.convolver_plan(ntaps, block, zero_latency)
    assert [lv[:3] for lv in got] == levels


def test_every_estimate_is_the_one_transform_formula():
    # uniform overlap-save: one transform pair of 2P points per P samples
    P, taps = 256, 1000
    pair = 2 * cm.FFT_NS_PER_POINT_LOG * 2 * P * math.log2(2 * P) + cm.FFT_NS_PER_BLOCK
    assert cm.fft_cost(taps, P) == pytest.approx(pair / P + cm.MAC_NS_PER_BIN * 4)
    levels, cost = cm.convolver_plan(5000, 256, True)
    head = cm.DIRECT_NS_FIXED + cm.DIRECT_NS_PER_TAP * 256
    assert cost == pytest.approx(head + sum(cm.fft_cost(n, B) for B, _, n, _ in levels))
    c = cm.CORRELATOR_NS
    assert cm.correlator_block_ns(1024) == pytest.approx(
        2 * c["per_nlogn"] * 1024 * 10 + c["per_point"] * 1024 + c["per_block"])
    plan = [(B, off, n) for B, off, n, _ in levels]
    want = c["direct_per_tap"] * 256 + sum(
        cm.correlator_block_ns(2 * B) / B + c["mac_per_bin"] * -(-n // B) for B, _, n in plan)
    assert cm.correlator_partitioned_ns(plan, 256, 5000) == pytest.approx(want)
