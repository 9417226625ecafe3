"""The README's staleness, session-guarantee and CRDT example runs as written, and does what its
comments say."""

SECTION = "### Staleness, session guarantees and CRDTs"


def test_readme_consistency_example_runs_as_its_comments_say(readme_examples):
    ns: dict = {}
    code = readme_examples(SECTION, 2)[0]
    exec(compile(code, "README.md (staleness, sessions, CRDTs)", "exec"), ns)
    assert abs(ns["visibility"].consistent_probability(0.0) - 0.974) < 0.01
    report = ns["report"]
    assert not report.ok("read_your_writes") and report.ok("monotonic_reads")
    assert "write 2" in report.violations[0].explanation
    a, b = ns["a"], ns["b"]
    assert a.merge(b).value == b.merge(a).merge(a).value == 3
    cart = ns["cart"]
    assert cart.remove("pen").merge(cart).elements == frozenset({"book"})


def test_readme_store_example_runs_as_its_comments_say(readme_examples):
    ns: dict = {}
    exec(compile(readme_examples(SECTION, 2)[1], "README.md (replicated stores)", "exec"), ns)
    assert ns["read"].value.result.values == ("a", "b")
    assert {v.value for v in ns["counters"].values("x").values()} == {3}
    lww = ns["ReplicatedStore"](ns["Network"](ns["World"](seed=1), latency=0.01), "leaderless",
                                nodes=3, r=1, w=1, conflicts="lww")  # fmt: skip
    for client, node, amount in (("c1", "n1", 1), ("c2", "n2", 2)):
        lww.attach_client(client, node)
        lww.request(client, "write", value=ns["GCounter"]().increment(client, amount))
    lww.world.run(until=1)
    assert lww.values("x")["n3"].value == 2
    summary = ns["failover"].summary
    assert summary["lost_acknowledged"].to_dict() == {"async": 4, "semi-sync": 0, "sync": 0}
    assert summary["write_median_s"].round(3).tolist() == [0.009, 0.099, 0.225]
    assert len(ns["failover"].lost) == 4
