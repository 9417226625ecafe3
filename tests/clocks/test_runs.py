"""Run: building, validating, vector and Lamport timestamps, ordered-or-concurrent queries."""

from __future__ import annotations

import pytest
from clock_runs import event_ids, run_of, schedules
from hypothesis import given, settings

from distlab.clocks import Order, Run, Step, local, receive, send


@pytest.fixture
def run():
    # a: send m1 ---------> b: receive m1, send m2 --> c: receive m2
    # a: local x (concurrent with everything on b after the receive, and with c)
    return Run(
        {
            "a": [send("m1"), local("x")],
            "b": [local(), receive("m1"), send("m2")],
            "c": [local(), receive("m2")],
        }
    )


def test_vector_timestamps(run):
    v = {e: t.as_dict() for e, t in run.vector_timestamps().items()}
    assert v[("a", 0)] == {"a": 1, "b": 0, "c": 0}
    assert v[("a", 1)] == {"a": 2, "b": 0, "c": 0}
    assert v[("b", 1)] == {"a": 1, "b": 2, "c": 0}
    assert v[("c", 1)] == {"a": 1, "b": 3, "c": 2}


def test_lamport_timestamps(run):
    times = {e: t.time for e, t in run.lamport_timestamps().items()}
    assert times == {
        ("a", 0): 1,
        ("a", 1): 2,
        ("b", 0): 1,
        ("b", 1): 2,
        ("b", 2): 3,
        ("c", 0): 1,
        ("c", 1): 4,
    }


def test_queries(run):
    assert run.order(("a", 0), ("c", 1)) is Order.BEFORE
    assert run.order(("c", 1), ("a", 0)) is Order.AFTER
    assert run.order(("b", 1), ("b", 1)) is Order.EQUAL
    assert run.concurrent(("a", 1), ("b", 1))
    assert run.happened_before(("b", 0), ("c", 1))
    assert not run.happened_before(("c", 0), ("b", 2))
    pairs = run.concurrent_pairs()
    assert (("a", 1), ("c", 1)) in pairs or (("c", 1), ("a", 1)) in pairs
    assert len(pairs) == len(set(pairs))


def test_event_ids_are_in_a_causal_order(run):
    ids = run.event_ids()
    assert len(ids) == len(run) == 7
    for i, e in enumerate(ids):
        assert not any(run.happened_before(f, e) for f in ids[i + 1 :])


def test_lost_messages_are_allowed():
    run = Run({"a": [send("lost"), local()], "b": [local()]})
    assert run.messages["lost"] == (("a", 0), None)


def test_from_records_and_empty_processes():
    rows = [
        {"process": "a", "kind": "send", "message": 7, "label": "hello"},
        {"process": "b", "kind": "local"},
        {"process": "b", "kind": "receive", "message": 7},
    ]
    run = Run.from_records(rows, processes=["z"])
    assert run.processes == ("z", "a", "b")
    assert run.step(("a", 0)) == Step("send", 7, "hello")
    assert run.vector_timestamps()[("b", 1)].as_dict() == {"z": 0, "a": 1, "b": 2}


@pytest.mark.parametrize(
    "processes, error, match",
    [
        ({}, ValueError, "at least one process"),
        ([("a", [])], TypeError, "must be a mapping"),
        ({"a": [receive("m")]}, ValueError, r"\['m'\] are received but never sent"),
        ({"a": [send("m"), send("m")]}, ValueError, "message 'm' is sent twice"),
        ({"a": [send("m")], "b": [receive("m"), receive("m")]}, ValueError, "received twice"),
        ({"a": [receive("m"), send("m")]}, ValueError, "impossible"),
        (
            {"a": [receive("x"), send("y")], "b": [receive("y"), send("x")]},
            ValueError,
            "impossible",
        ),
        ({"a": ["send m"]}, TypeError, "must be a Step"),
        ({"a": "local"}, TypeError, "must be a sequence of steps"),
        ({"": []}, ValueError, "non-empty process name"),
    ],
)
def test_bad_runs(processes, error, match):
    with pytest.raises(error, match=match):
        Run(processes)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: Step("gossip"), ValueError, "kind='gossip' is not one of"),
        (lambda: Step("local", "m"), ValueError, "a local step has no message"),
        (lambda: Step("send"), ValueError, "a send step needs a message id"),
        (lambda: Step("send", ["m"]), TypeError, "must be hashable"),
        (lambda: Step("local", None, 3), TypeError, "label=3 must be text"),
    ],
)
def test_bad_steps(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_event_ids(run):
    with pytest.raises(ValueError, match=r"first=\('a', 5\) is not an event of this run"):
        run.order(("a", 5), ("b", 0))
    with pytest.raises(ValueError, match="second='b0'"):
        run.order(("a", 0), "b0")


def test_bad_records():
    with pytest.raises(ValueError, match=r"records\[0\].*needs at least 'process' and 'kind'"):
        Run.from_records([{"kind": "local"}])
    with pytest.raises(ValueError, match="kind='tick'"):
        Run.from_records([{"process": "a", "kind": "tick"}])


def test_from_a_simulated_worlds_log():
    """The network's log (send, deliver, drop) becomes a run: lost messages are sends only."""
    from distlab.sim import Network, World

    world = World(seed=3)
    net = Network(world, latency=0.01, loss=0.3)
    for name in ("a", "b", "c"):
        net.add_node(name)
    for i in range(30):
        src, dst = ("a", "b", "c")[i % 3], ("b", "c", "a")[i % 3]
        net.send(src, dst, i)
    world.run()
    rows = world.events().to_dict("records")
    run = Run.from_records(
        rows,
        processes=("a", "b", "c"),
        kinds={"send": "send", "deliver": "receive"},
        process_key="node",
        message_key="msg_id",
    )
    sends = sum(r["kind"] == "send" for r in rows)
    delivered = sum(r["kind"] == "deliver" for r in rows)
    assert len(run) == sends + delivered and 0 < delivered < sends
    lost = [m for m, (_, got) in run.messages.items() if got is None]
    assert len(lost) == sends - delivered
    from distlab.clocks import check_shiviz, to_shiviz

    assert check_shiviz(to_shiviz(run)).ok


def test_from_records_bad_kinds():
    with pytest.raises(ValueError, match=r"kinds\['deliver'\]='recv' is not one of"):
        Run.from_records([], kinds={"deliver": "recv"})
    with pytest.raises(TypeError, match="kinds=.* must map"):
        Run.from_records([], kinds=[("send", "send")])


def test_plain_counts_and_times_are_what_the_timestamps_wrap(run):
    counts = run.vector_counts()
    assert counts[("c", 1)] == (1, 3, 2)
    assert {e: t.counts for e, t in run.vector_timestamps().items()} == counts
    times = run.lamport_times()
    assert times[("c", 1)] == 4 and times[("a", 1)] == 2
    assert {e: t.time for e, t in run.lamport_timestamps().items()} == times
    counts[("c", 1)] = (0, 0, 0)  # a copy: the run's own table is not changed
    assert run.vector_counts()[("c", 1)] == (1, 3, 2)


# -- a given order (the fast path): checked as it is used, the same stamps as the computed one --


@settings(max_examples=100, deadline=None)
@given(schedules(max_processes=4, max_steps=40))
def test_a_given_order_gives_the_same_stamps_as_the_computed_one(drawn):
    processes, schedule = drawn
    general = run_of(processes, schedule)
    fast = Run(general.steps, order=event_ids(processes, schedule))
    assert fast.event_ids() == event_ids(processes, schedule)
    assert fast.vector_counts() == general.vector_counts()
    assert fast.lamport_times() == general.lamport_times()
    assert fast.vector_timestamps() == general.vector_timestamps()


ORDERED = {"a": [send("m"), local()], "b": [receive("m")]}


@pytest.mark.parametrize(
    "order, message",
    [
        ([("b", 0), ("a", 0), ("a", 1)], r"receives 'm' before its send \('a', 0\)"),
        ([("a", 1), ("a", 0), ("b", 0)], r"next event of 'a' in this order must be \('a', 0\)"),
        ([("a", 0), ("a", 0), ("a", 1), ("b", 0)], r"must be \('a', 1\)"),
        ([("a", 0), ("b", 0)], r"order lacks events: .*'a': 1"),
        ([("a", 0), ("a", 1), ("b", 0), ("b", 1)], r"'b' has only 1 events"),
        ([("a", 0), ("z", 0)], r"order\[1\]=\('z', 0\) is not an event"),
        ([("a", 0), "a1"], r"order\[1\]='a1' is not an event"),
        ([("a", 0), ("a", True), ("b", 0)], r"must be \('a', 1\)"),
    ],
)
def test_a_wrong_order_is_refused_naming_the_event(order, message):
    with pytest.raises(ValueError, match=message):
        Run(ORDERED, order=order)


def test_order_must_be_a_list_of_events():
    with pytest.raises(TypeError, match="order="):
        Run(ORDERED, order="a0")
