"""The simulated saga drivers and the network's duplicates."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlab.sim import (
    CourseSagaNode,
    Exponential,
    Network,
    SagaNode,
    World,
    order_saga,
    simulate_order_sagas,
)
from distlab.sim.sagas import ORDER_STEPS, Remote, end_state

# -- the network's duplicates ---------------------------------------------------------------


def _deliveries(duplicate, n=2000, seed=0, link=None):
    world = World(seed)
    net = Network(world, latency=0.01, duplicate=duplicate)
    net.add_node("a")
    b = net.add_node("b")
    if link:
        net.set_link("a", "b", **link)
    for i in range(n):
        net.send("a", "b", i)
    world.run()
    return world, len(b.inbox.items)


def test_no_duplicates_by_default():
    world, delivered = _deliveries(0.0, n=100)
    assert delivered == 100
    assert (world.events()["kind"] == "send").sum() == 100


def test_duplicates_are_delivered_twice_at_about_the_rate():
    world, delivered = _deliveries(0.2)
    assert 2000 * 1.15 < delivered < 2000 * 1.25
    events = world.events()
    copies = events.query("kind == 'send' and reason == 'duplicate'")
    assert len(copies) == delivered - 2000
    # every message, copies included, is sent once and then delivered or dropped once
    ends = events[events["kind"].isin(["deliver", "drop"])]["msg_id"]
    assert sorted(ends) == sorted(events.query("kind == 'send'")["msg_id"])


def test_duplicate_per_link_and_reset():
    _, delivered = _deliveries(0.0, n=500, link={"duplicate": 1.0})
    assert delivered == 1000
    world = World(0)
    net = Network(world, duplicate=0.5)
    net.add_node("a"), net.add_node("b")
    net.set_link("a", "b", duplicate=0.0)
    assert net.duplicate == 0.5 and "duplicate=0.5" in repr(net)


def test_duplicate_replies_reach_the_caller_once():
    from distlab.sim import call, respond

    world = World(1)
    net = Network(world, latency=0.01, duplicate=1.0)
    net.add_node("c")
    echo = net.add_node("echo")
    seen = []
    echo.on_message = lambda m: (seen.append(m.payload.body), respond(net, m, value="x"))
    proc = call(net, "c", "echo", "hi")
    world.run()
    assert proc.value.value == "x" and seen == ["hi", "hi"]


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_bad_duplicate(bad):
    with pytest.raises(ValueError, match="duplicate"):
        Network(World(), duplicate=bad)
    net = Network(World())
    net.add_node("a")
    with pytest.raises(ValueError, match="duplicate"):
        net.set_link("a", "a", duplicate=bad)


# -- the drivers ----------------------------------------------------------------------------


def _states(run):
    return run.end_states()["end_state"].tolist()


def test_both_drivers_complete_without_faults():
    for driver in ("course", "distlab"):
        assert _states(simulate_order_sagas(orders=5, driver=driver)) == ["completed"] * 5


@pytest.mark.parametrize("step", ORDER_STEPS[:-1])
def test_a_refused_step_is_compensated_by_both(step):
    for driver in ("course", "distlab"):
        ends = simulate_order_sagas(driver=driver, fail_step=step).end_states()
        assert ends["end_state"].tolist() == ["compensated"]


@pytest.mark.parametrize("step", ORDER_STEPS[:-1])
def test_a_crash_between_steps(step):
    course = simulate_order_sagas(driver="course", crash_after_step=step)
    assert _states(course) == ["half_done"]
    distlab = simulate_order_sagas(crash_after_step=step)
    assert _states(distlab) == ["completed"]
    assert distlab.orchestrator.recovered == 1 and distlab.orchestrator.crashes == 1
    lost = simulate_order_sagas(crash_after_step=step, log_lost_on_crash=True)
    assert _states(lost) == ["half_done"]


def test_duplicates_double_charge_without_keys_only():
    without = simulate_order_sagas(orders=100, duplicate=0.2, idempotency=False, seed=3)
    with_keys = simulate_order_sagas(orders=100, duplicate=0.2, seed=3)
    assert (without.end_states()["charges"] >= 2).sum() > 5
    assert (with_keys.end_states()["charges"] == 1).all()
    assert _states(with_keys) == ["completed"] * 100


def test_lost_reply_and_late_action():
    course = simulate_order_sagas(driver="course", lose_reply_step="charge_payment", retries=1)
    assert course.end_states()[["order", "charged"]].values.tolist() == [["CANCELLED", 1]]
    ours = simulate_order_sagas(lose_reply_step="charge_payment", retries=1)
    assert ours.end_states()[["order", "charged"]].values.tolist() == [["CANCELLED", 0]]
    ours_retried = simulate_order_sagas(lose_reply_step="charge_payment", retries=3)
    assert _states(ours_retried) == ["completed"]
    for tombstones, reserved in ((False, 1), (True, 0)):
        run = simulate_order_sagas(
            hold_step="reserve_stock", hold_s=2.0, retries=1, tombstones=tombstones
        )
        assert run.end_states()["reserved"].tolist() == [reserved]


def test_latency_as_a_distribution_and_keys_still_charge_once():
    fixed = simulate_order_sagas(orders=200, duplicate=0.3, seed=5)
    varied = simulate_order_sagas(orders=200, duplicate=0.3, latency_s=Exponential(0.05), seed=5)
    assert fixed.participants["payment"].effects != varied.participants["payment"].effects
    assert (varied.end_states()["charges"] == 1).all()
    assert _states(varied) == ["completed"] * 200


def test_same_seed_same_run():
    kw = dict(orders=20, loss=0.1, duplicate=0.1, crash_at=(0.5, 2.0), seed=7)
    a, b = simulate_order_sagas(**kw), simulate_order_sagas(**kw)
    assert a.participants["payment"].effects == b.participants["payment"].effects
    assert a.end_states().equals(b.end_states())


def test_nodes_and_saga_definition():
    saga = order_saga()
    assert [s.name for s in saga.steps] == list(ORDER_STEPS)
    with pytest.raises(TypeError, match="simulated node 'payment'"):
        saga.steps[2].action(None)
    assert repr(Remote("order")) == "Remote('order')"
    world = World()
    net = Network(world)
    assert isinstance(SagaNode(net, sagas=[saga]), SagaNode)
    assert isinstance(CourseSagaNode(net, name="course"), CourseSagaNode)
    assert end_state("COMPLETED", 1, 2, "completed") == "inconsistent"
    assert end_state(None, 0, 0, "stuck") == "stuck"


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(driver="saga"), ValueError),
        (dict(fail_step="ship"), ValueError),
        (dict(crash_after_step="ship"), ValueError),
        (dict(crash_at="1"), TypeError),
        (dict(crash_at=[-1]), ValueError),
        (dict(orders=0), ValueError),
        (dict(loss=2), ValueError),
        (dict(duplicate=-1), ValueError),
        (dict(timeout_s=0), ValueError),
        (dict(down_s=0), ValueError),
        (dict(retries=0), ValueError),
        (dict(idempotency="yes"), TypeError),
        (dict(seed=-1), ValueError),
        (dict(latency_s=-0.01), ValueError),
        (dict(latency_s="10ms"), TypeError),
    ],
)
def test_bad_input(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        simulate_order_sagas(**kwargs)


# -- the guarantee, under any schedule ------------------------------------------------------

_T = {step: f"T{i + 1}" for i, step in enumerate(ORDER_STEPS)}
_C = {step: f"C{i + 1}" for i, step in enumerate(ORDER_STEPS)}


def _allowed(n):
    forward = [f"T{i}" for i in range(1, n + 1)]
    done = {tuple(forward)}
    for j in range(n):
        done.add(tuple(forward[:j] + [f"C{i}" for i in range(j, 0, -1)]))
    return done


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    loss=st.floats(0.0, 0.3),
    duplicate=st.floats(0.0, 0.5),
    crashes=st.lists(st.floats(0.0, 6.0), max_size=3),
    down_s=st.floats(0.05, 3.0),
    fail_step=st.sampled_from([None, *ORDER_STEPS[:-1]]),
    orders=st.integers(1, 4),
    reorder=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_every_finished_saga_keeps_the_guarantee(
    loss, duplicate, crashes, down_s, fail_step, orders, reorder, seed
):
    run = simulate_order_sagas(
        orders=orders, loss=loss, duplicate=duplicate, crash_at=crashes, down_s=down_s,
        fail_step=fail_step, latency_s=Exponential(0.05) if reorder else 0.01, seed=seed,
    )  # fmt: skip
    effects = sorted((e for p in run.participants.values() for e in p.effects), key=lambda e: e[0])
    allowed = _allowed(len(ORDER_STEPS))
    for sid, result in run.orchestrator.results.items():
        assert result.status in ("completed", "compensated")
        seq = [(_T if op == "action" else _C)[step] for _t, s, step, op, _k in effects if s == sid]
        actions = [x for x in seq if x.startswith("T")]
        assert len(actions) == len(set(actions)), (sid, seq)  # no action took effect twice
        assert tuple(seq) in allowed, (sid, seq)
    # with the log surviving, every saga started ends (one started while down is never begun)
    assert set(run.orchestrator.results) == set(run.orchestrator.log.saga_ids())
