"""Graph overhead: 10 Gain nodes as a chain and as a fan-out/fan-in, against the same blocks
called by hand and a plain numpy version.

    pytest benchmarks/bench_graph.py --benchmark-enable

At these chunk sizes a Gain kernel costs tens of nanoseconds, so the graph's
time per node is its overhead per node (the issue's target: <= 0.3 us).
"""

import numpy as np
import pytest

import streamdsp as sd

CHUNKS = [64, 1024]
N = 10


def _chain_graph():
    g = sd.Graph()
    node = g.input()
    for _ in range(N):
        node = node >> sd.Gain(1.0001)
    g.output(node)
    return g


def _fan_graph():
    g = sd.Graph()
    x = g.input()
    branches = [x >> sd.Gain(1.0 + i * 1e-3) for i in range(N - 1)]
    g.output(g.add(sd.Add(), *branches))   # 9 gains + 1 join = 10 nodes
    return g


def _bench(benchmark, group, impl, n, fn):
    benchmark.group = f"graph {group} x{N} nodes chunk={n}"
    benchmark.extra_info.update(impl=impl, frames=n)
    for _ in range(3):
        fn()
    benchmark(fn)


@pytest.mark.parametrize("n", CHUNKS)
def bench_chain_graph(benchmark, n):
    x = np.ones(n, dtype=np.float32)
    out = np.empty_like(x)
    g = _chain_graph()
    _bench(benchmark, "chain", "streamdsp", n, lambda: g.process(x, out=out))


@pytest.mark.parametrize("n", CHUNKS)
def bench_chain_pipeline(benchmark, n):
    x = np.ones(n, dtype=np.float32)
    out = np.empty_like(x)
    p = sd.Pipeline(*[sd.Gain(1.0001) for _ in range(N)])
    _bench(benchmark, "chain", "streamdsp Pipeline", n, lambda: p.process(x, out=out))


@pytest.mark.parametrize("n", CHUNKS)
def bench_chain_by_hand(benchmark, n):
    x = np.ones(n, dtype=np.float32)
    a, b = np.empty_like(x), np.empty_like(x)
    gains = [sd.Gain(1.0001) for _ in range(N)]

    def step():
        gains[0].process(x, out=a)
        src, dst = a, b
        for g in gains[1:]:
            g.process(src, out=dst)
            src, dst = dst, src
        return src
    _bench(benchmark, "chain", "blocks called by hand", n, step)


@pytest.mark.parametrize("n", CHUNKS)
def bench_chain_numpy(benchmark, n):
    x = np.ones(n, dtype=np.float32)
    a = np.empty_like(x)
    g = np.float32(1.0001)

    def step():
        np.multiply(x, g, out=a)
        for _ in range(N - 1):
            np.multiply(a, g, out=a)
        return a
    _bench(benchmark, "chain", "numpy", n, step)


@pytest.mark.parametrize("n", CHUNKS)
def bench_fan_graph(benchmark, n):
    x = np.ones(n, dtype=np.float32)
    out = np.empty_like(x)
    g = _fan_graph()
    _bench(benchmark, "fan-out/fan-in", "streamdsp", n, lambda: g.process(x, out=out))


@pytest.mark.parametrize("n", CHUNKS)
def bench_fan_by_hand(benchmark, n):
    x = np.ones(n, dtype=np.float32)
    bufs = [np.empty_like(x) for _ in range(N - 1)]
    out = np.empty_like(x)
    gains = [sd.Gain(1.0 + i * 1e-3) for i in range(N - 1)]
    add = sd.Add()

    def step():
        for g, b in zip(gains, bufs):
            g.process(x, out=b)
        return add.process(*bufs, out=out)
    _bench(benchmark, "fan-out/fan-in", "blocks called by hand", n, step)


@pytest.mark.parametrize("n", CHUNKS)
def bench_fan_numpy(benchmark, n):
    x = np.ones(n, dtype=np.float32)
    gs = np.array([1.0 + i * 1e-3 for i in range(N - 1)], dtype=np.float32)
    out = np.empty_like(x)
    tmp = np.empty_like(x)

    def step():
        np.multiply(x, gs[0], out=out)
        for g in gs[1:]:
            np.multiply(x, g, out=tmp)
            np.add(out, tmp, out=out)
        return out
    _bench(benchmark, "fan-out/fan-in", "numpy", n, step)
