"""README.md stays true: its first commands are what CI runs, and its self-contained tour runs."""

import re
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
CI = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert first_block == ['pip install . && streamdsp demo', 'pip install ".[test]" && pytest']


def test_ci_runs_the_readme_test_command():
    # .ci/run picks the README's first 'pip install ... && pytest' line and evals it
    pattern = re.search(r"grep -m1 -E '(.+?)' README.md", CI).group(1)
    line = next(l for l in README.splitlines() if re.match(pattern.replace("\\s", " "), l))
    assert line == 'pip install ".[test]" && pytest'


def test_the_tour_of_a_block_and_a_chain_runs():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    namespace = {}
    exec(blocks[0], namespace)      # a block over random splits equals lfilter (it asserts)
    exec(blocks[1], namespace)      # a chain
    assert namespace["chain"].latency == sum(b.latency for b in namespace["chain"])


def test_the_checkpoint_batch_and_parallel_examples_run():
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README, re.S)
              if "sd.save_state" in b or "sd.parallel.apply" in b]
    assert len(blocks) == 2
    namespace = {}
    for b in blocks:
        exec(b, namespace)          # they assert what they show
    assert namespace["y"].shape == (200_000, 2)
