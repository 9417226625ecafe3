"""CRDT properties: the merge laws on reachable states, and convergence under any delivery
order, loss then resend, and duplication (hypothesis)."""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distlab.crdt import (
    GCounter,
    LWWRegister,
    MVRegister,
    ORSet,
    PNCounter,
    merge_law_violations,
)

REPLICAS = ("a", "b", "c")


def apply(name, state, replica, op):
    kind, x, y = op
    if name == "g_counter":
        return state.increment(replica, x)
    if name == "pn_counter":
        return state.increment(replica, x) if kind else state.decrement(replica, x)
    if name == "lww_register":
        return state.assign(x, timestamp=y, replica=replica)
    if name == "mv_register":
        return state.assign(x, replica)
    return state.add(x, replica) if kind else state.remove(x)


INITIAL = {
    "g_counter": GCounter,
    "pn_counter": PNCounter,
    "lww_register": LWWRegister,
    "mv_register": lambda: MVRegister(REPLICAS),
    "or_set": ORSet,
}
OPS = st.tuples(st.booleans(), st.integers(0, 4), st.integers(0, 6))
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("op"), st.integers(0, 2), OPS),
        st.tuples(st.just("send"), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("deliver"), st.integers(0, 10**6), st.booleans()),  # True: duplicate
        st.tuples(st.just("drop"), st.integers(0, 10**6), st.none()),
    ),
    max_size=40,
)


def run(name, steps):
    """Replicas apply ops and send states over a network that reorders, duplicates and loses
    messages; returns the replicas' states, every state seen, and every op applied."""
    states = [INITIAL[name]() for _ in REPLICAS]
    in_flight, seen, ops = [], [], []
    for step in steps:
        kind, i, j = step
        if kind == "op":
            states[i] = apply(name, states[i], REPLICAS[i], j)
            ops.append((REPLICAS[i], j))
        elif kind == "send":
            in_flight.append((states[i], j))
        elif in_flight:
            k = i % len(in_flight)
            state, to = in_flight[k] if kind == "deliver" and j else in_flight.pop(k)
            if kind == "deliver":
                states[to] = states[to].merge(state)
        seen.extend(states)
    return states, seen + [s for s, _ in in_flight], ops


def resend_all(states):
    """Loss then resend: every replica sends its state to every other, in one order."""
    for i in range(len(states)):
        for j in range(len(states)):
            states[j] = states[j].merge(states[i])
    return states


@pytest.mark.parametrize("name", sorted(INITIAL))
@given(steps=STEPS)
def test_replicas_converge(name, steps):
    states, _, ops = run(name, steps)
    final = resend_all(list(states))
    assert all(s == final[0] for s in final)
    # any other delivery order of the same final states gives the same state
    assert resend_all(list(reversed(states)))[0] == final[0]
    check_value(name, final[0], ops)


def check_value(name, state, ops):
    if name == "g_counter":
        assert state.value == sum(op[1][1] for op in ops)
    elif name == "pn_counter":
        assert state.value == sum(x if up else -x for _, (up, x, _) in ops)
    elif name == "lww_register" and ops:
        best = max(ops, key=lambda op: (op[1][2], op[0], json.dumps(op[1][1])))
        assert state.value == best[1][1]
    elif name == "mv_register":
        assert set(state.values) <= {x for _, (_, x, _) in ops}
        assert bool(state.values) == bool(ops)
    elif name == "or_set":
        assert state.elements <= {x for _, (add, x, _) in ops if add}


@pytest.mark.parametrize("name", sorted(INITIAL))
@given(steps=STEPS)
def test_merge_is_commutative_associative_idempotent(name, steps):
    _, seen, _ = run(name, steps)
    distinct = list(dict.fromkeys(seen))[-8:]
    if distinct:
        assert merge_law_violations(lambda a, b: a.merge(b), distinct) == []


@pytest.mark.parametrize("name", sorted(INITIAL))
@given(steps=STEPS)
def test_states_survive_json_and_pickle(name, steps):
    states, _, _ = run(name, steps)
    for s in states:
        again = type(s).from_json(s.to_json())
        assert again == s and hash(again) == hash(s)
        assert pickle.loads(pickle.dumps(s)) == s
        assert json.loads(s.to_json())["type"] == s.TYPE
