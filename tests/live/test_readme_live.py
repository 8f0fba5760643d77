"""The README's live-audio block, run as written against the test's JACK server.

JACK's default PortAudio device is ``system`` (2 in, 2 out), where the
stereo hall of the tour plays; the block's files come from the README's
blocks before it, run in the same fresh folder.
"""

import ast

import pytest

from _support import is_live_block, readme_python_blocks, run_python_code, python_env

pytestmark = pytest.mark.live


def run_through_live_block(tmp_path, which):
    """Run the README's blocks in order up to its live block number ``which``; its result."""
    blocks = readme_python_blocks()
    live = [i for i, code in enumerate(blocks) if is_live_block(code)]
    assert len(live) == 2, "the README has a live effect and a scope block"
    for i, code in enumerate(blocks[:live[which] + 1]):
        if is_live_block(code) and i != live[which]:
            continue
        r = run_python_code(code, cwd=tmp_path, env=python_env(), timeout=120)
        r = run_python_code(code, cwd=tmp_path, env=python_env(), timeout=120)
        assert r.returncode == 0, f"README python block {i + 1} failed:\n{code}\n{r.stderr}"
    return r


def test_the_readmes_live_block_runs_as_written(jack_server, tmp_path):
    r = run_through_live_block(tmp_path, 0)
    # the last block run is the live one: it printed gil_free, then the stats
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "True"
    stats = ast.literal_eval(lines[-1])
    assert stats["callbacks"] > 0.5 * 5 * 48000 / 256      # ~5 s of 256-frame periods
    assert stats["frames"] == stats["callbacks"] * 256


def test_the_readmes_scope_block_runs_as_written(jack_server, tmp_path):
    r = run_through_live_block(tmp_path, 1)
    assert r.stdout.strip().splitlines()[-1] == "open http://127.0.0.1:5006/"
