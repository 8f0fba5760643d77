"""Benchmark plumbing: every group pits streamdsp against its peers; ratios are printed at the end.

Run with ``pytest benchmarks --benchmark-enable`` (the unit-test config
disables benchmarks by default).  Each benchmark times exactly one call per
round on a chunk prepared in a fixture.  At the end of the session a table
gives, for every group, each peer's median time divided by streamdsp's
(> 1 means streamdsp is faster) and streamdsp's throughput.
"""

import os

import pytest


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    groups = {}
    for bench in session.benchmarks:
        if not bench.stats or not getattr(bench.stats, "median", None):
            continue
        groups.setdefault(bench.group or bench.fullname, []).append(bench)
    tr = terminalreporter
    tr.section("streamdsp vs peers (median; ratio = peer time / streamdsp time)")
    for group, benches in groups.items():
        ours = [b for b in benches if b.extra_info.get("impl") == "streamdsp"]
        if not ours:
            continue
        base = ours[0]
        t0 = base.stats.median
        frames = base.extra_info.get("frames")
        calls = base.extra_info.get("calls", 1)
        line = f"{group}: streamdsp {t0 * 1e6:.3f} us"
        if calls > 1:
            line += f" = {t0 / calls * 1e6:.3f} us per call"
        if frames:
            line += f" ({frames / t0 / 1e6:.1f} Msamples/s per channel)"
        tr.write_line(line)
        for b in benches:
            if b is base:
                continue
            impl = b.extra_info.get("impl", b.name)
            tr.write_line(f"    {impl:<28s} {b.stats.median * 1e6:10.3f} us   ratio {b.stats.median / t0:7.2f}x")


@pytest.fixture(autouse=True)
def _single_thread_blas(monkeypatch):
    # Peers get the same single core as streamdsp's kernels.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, os.environ.get(var, "1"))
