"""The README's staleness, session-guarantee and CRDT example runs as written, and does what its
comments say."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Staleness, session guarantees and CRDTs\n", 1)[1].split("\n### ")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section has one Python example"
    return blocks[0]


def test_readme_consistency_example_runs_as_its_comments_say():
    ns: dict = {}
    exec(compile(_code(), "README.md (staleness, sessions, CRDTs)", "exec"), ns)
    assert abs(ns["visibility"].consistent_probability(0.0) - 0.974) < 0.01
    report = ns["report"]
    assert not report.ok("read_your_writes") and report.ok("monotonic_reads")
    assert "write 2" in report.violations[0].explanation
    a, b = ns["a"], ns["b"]
    assert a.merge(b).value == b.merge(a).merge(a).value == 3
    cart = ns["cart"]
    assert cart.remove("pen").merge(cart).elements == frozenset({"book"})
