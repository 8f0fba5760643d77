"""The README's live-audio block, run as written against the test's JACK server.

JACK's default PortAudio device is ``system`` (2 in, 2 out), where the
stereo hall of the tour plays; the block's files come from the README's
blocks before it, run in the same fresh folder.
"""

import ast

import pytest

from _support import is_live_block, readme_python_blocks, run_python_code, python_env

pytestmark = pytest.mark.live


def test_the_readmes_live_block_runs_as_written(jack_server, tmp_path):
    blocks = readme_python_blocks()
    live = [i for i, code in enumerate(blocks) if is_live_block(code)]
    assert live, "the README has no live-audio block"
    for i, code in enumerate(blocks[:live[-1] + 1]):
        r = run_python_code(code, cwd=tmp_path, env=python_env(), timeout=120)
        assert r.returncode == 0, f"README python block {i + 1} failed:\n{code}\n{r.stderr}"
    # the last block run is the live one: it printed gil_free, then the stats
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "True"
    stats = ast.literal_eval(lines[-1])
    assert stats["callbacks"] > 0.5 * 5 * 48000 / 256      # ~5 s of 256-frame periods
    assert stats["frames"] == stats["callbacks"] * 256
