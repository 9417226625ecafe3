"""The README's clocks example runs as written, and does what its comments say."""

import re
from pathlib import Path

from distlab.clocks import HLCTimestamp, Order

README = Path(__file__).resolve().parents[2] / "README.md"


def _code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Clocks and order\n", 1)[1].split("\n### ")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section has one Python example"
    return blocks[0]


def test_readme_clocks_example_runs_as_its_comments_say():
    ns: dict = {}
    exec(compile(_code(), "README.md (clocks and order)", "exec"), ns)
    assert ns["message"].compare(ns["received"]) is Order.BEFORE
    assert ns["alone"].compare(ns["received"]) is Order.CONCURRENT
    assert (ns["first"].time, ns["second"].time) == (1, 2)
    assert ns["hb"].time == HLCTimestamp(l=1000, c=1)
    commit = ns["commit"]
    assert round(commit.timestamp, 6) == 15.004
    assert abs(commit.wait - 2 * 0.004) < 1e-5
