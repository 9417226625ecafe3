"""The README's clocks example runs as written, and does what its comments say."""

from distlab.clocks import HLCTimestamp, Order


def test_readme_clocks_example_runs_as_its_comments_say(readme_examples):
    ns: dict = {}
    (code,) = readme_examples("### Clocks and order", 1)
    exec(compile(code, "README.md (clocks and order)", "exec"), ns)
    assert ns["message"].compare(ns["received"]) is Order.BEFORE
    assert ns["alone"].compare(ns["received"]) is Order.CONCURRENT
    assert (ns["first"].time, ns["second"].time) == (1, 2)
    assert ns["hb"].time == HLCTimestamp(l=1000, c=1)
    commit = ns["commit"]
    assert round(commit.timestamp, 6) == 15.004
    assert abs(commit.wait - 2 * 0.004) < 1e-5
