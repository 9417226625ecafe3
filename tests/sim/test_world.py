"""World: clock, generator, event log."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from distlab.sim import EVENT_COLUMNS, Network, World


def test_defaults():
    world = World()
    assert world.seed == 0
    assert isinstance(world.rng, np.random.Generator)
    assert world.now == 0.0
    assert world.log_messages is True
    assert "World(seed=0" in repr(world)


def test_rng_is_seeded():
    assert World(seed=5).rng.random() == np.random.default_rng(5).random()


def test_run_until_advances_clock_and_until_now_is_noop():
    world = World()
    world.run(until=2.5)
    assert world.now == 2.5
    world.run(until=2.5)
    assert world.now == 2.5


def test_run_until_idle_and_until_event():
    world = World()
    env = world.env

    def proc():
        yield env.timeout(3)
        world.log("done")

    p = env.process(proc())
    world.run(until=p)
    assert world.now == 3.0
    world.run()
    assert world.events()["kind"].tolist() == ["done"]


def test_log_fixed_and_extra_columns_in_first_seen_order():
    world = World()
    world.log("a", node="x", msg_id=3, reason="r", detail="d", src="s", dst="t")
    world.env.run(until=1)
    world.log("b", request_id=7, outcome="ok")
    world.log("c", latency=0.5, request_id=8)
    df = world.events()
    assert list(df.columns) == [*EVENT_COLUMNS, "request_id", "outcome", "latency"]
    assert df["time"].tolist() == [0.0, 1.0, 1.0]
    assert df.loc[0, "src"] == "s" and df.loc[0, "msg_id"] == 3
    assert str(df["msg_id"].dtype) == "Int64"
    assert str(df["request_id"].dtype) == "Int64"
    assert df["request_id"].isna().tolist() == [True, False, False]
    assert pd.isna(df.loc[0, "latency"]) and df.loc[2, "latency"] == 0.5
    assert df.loc[1, "node"] is None or pd.isna(df.loc[1, "node"])


def test_empty_events_still_have_the_columns():
    df = World().events()
    assert list(df.columns) == list(EVENT_COLUMNS)
    assert df.empty


def test_log_messages_off_keeps_other_kinds():
    world = World(log_messages=False)
    net = Network(world)
    net.add_node("a")
    net.add_node("b")
    net.send("a", "b", 1)
    net.crash("b")
    world.run()
    assert world.events()["kind"].tolist() == ["crash"]


def test_records_are_the_raw_log_and_log_messages_is_fixed_at_creation():
    world = World(log_messages=False)
    world.log("hello", node="a")
    assert world.records == ((0, "hello", "a", None, None, None, None, None, None),)
    assert world.record_count == 1 and len(world.cells) == 9
    with pytest.raises(AttributeError):
        world.log_messages = True  # the network reads it once, when it is made
    assert world.log_messages is False


def _tracked_objects_kept(log_messages: bool, messages: int) -> int:
    """How many more garbage-collector-tracked objects exist after ``messages`` messages."""
    world = World(seed=3, log_messages=log_messages)
    net = Network(world, latency=0.01)
    for name in ("a", "b"):
        net.add_node(name).on_message = lambda msg: None
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        before = gc.get_count()[0]
        for _ in range(messages):
            net.send("a", "b", None)
        world.run()
        kept = gc.get_count()[0] - before
    finally:
        if was_enabled:
            gc.enable()
    assert world.record_count == (2 * messages if log_messages else 0)
    return kept


def test_message_records_leave_no_object_for_the_garbage_collector():
    # A kept tuple per record made the collector run every few hundred messages and pass over
    # the whole heap on long runs; the flat log keeps cells only. Counted, not timed: the young
    # generation's count is allocations minus frees of tracked objects, compared with the same
    # run without a message log.
    extra = _tracked_objects_kept(True, 5_000) - _tracked_objects_kept(False, 5_000)
    assert extra < 500, f"{extra} tracked objects kept by 10,000 log records"
