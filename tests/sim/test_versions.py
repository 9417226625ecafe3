"""Versions of a key (dots, causal contexts, siblings): merge is a join, and it keeps exactly the
versions no write saw."""

from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.sim.versions import CausalContext, KeyState, Version, merge_states

REPLICAS = ("a", "b", "c")

# an operation: ("write", replica, context source) or ("merge", into, from)
ops = st.lists(
    st.tuples(
        st.sampled_from(["write", "merge"]),
        st.integers(0, len(REPLICAS) - 1),
        st.integers(0, len(REPLICAS)),  # the last index: a blind write (empty context)
    ),
    max_size=25,
)


def _history(operations, conflicts):
    """Replay ``operations``; return the replicas' states, every version written and every
    context a write was made with."""
    states = [KeyState() for _ in REPLICAS]
    counters = dict.fromkeys(REPLICAS, 0)
    written, contexts = [], []
    for seq, (op, i, j) in enumerate(operations):
        if op == "merge":
            if j < len(REPLICAS):
                states[i] = merge_states(states[i], states[j], conflicts)
            continue
        node = REPLICAS[i]
        counters[node] += 1
        context = states[j].context if j < len(REPLICAS) else CausalContext()
        version = Version((float(seq), i, seq), (node, counters[node]), f"v{seq}")
        written.append(version)
        contexts.append(context)
        states[i] = merge_states(states[i], KeyState.of(version, context), conflicts)
    return states, written, contexts


@pytest.mark.parametrize("conflicts", ["siblings", "lww"])
@settings(max_examples=150, deadline=None)
@given(operations=ops)
def test_merge_is_commutative_associative_and_idempotent(conflicts, operations):
    (x, y, z), _, _ = _history(operations, conflicts)
    m = merge_states
    assert m(x, y, conflicts) == m(y, x, conflicts)
    assert m(m(x, y, conflicts), z, conflicts) == m(x, m(y, z, conflicts), conflicts)
    assert m(x, x, conflicts) == x


@settings(max_examples=200, deadline=None)
@given(operations=ops)
def test_siblings_keep_every_version_no_write_saw(operations):
    states, written, contexts = _history(operations, "siblings")
    everything = reduce(lambda a, b: merge_states(a, b, "siblings"), states, KeyState())
    seen = reduce(CausalContext.join, contexts, CausalContext())
    expected = [v for v in written if not seen.covers(v.dot)]
    assert list(everything.versions) == expected


@settings(max_examples=100, deadline=None)
@given(operations=ops)
def test_lww_keeps_the_greatest_stamp(operations):
    states, written, _ = _history(operations, "lww")
    everything = reduce(lambda a, b: merge_states(a, b, "lww"), states, KeyState())
    assert list(everything.versions) == ([max(written, key=lambda v: v.stamp)] if written else [])


def test_context_compacts_dots_seen_in_order():
    ctx = CausalContext().add(("a", 2)).add(("b", 1))
    assert ctx == CausalContext((("b", 1),), (("a", 2),))
    assert ctx.join(CausalContext((("a", 1),))) == CausalContext((("a", 2), ("b", 1)))
    assert not ctx.covers(("a", 1)) and ctx.covers(("a", 2))
