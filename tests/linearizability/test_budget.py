"""Budgets: a deterministic step budget (max_steps) and a time limit that holds at any size."""

from __future__ import annotations

import itertools

import pytest

from distlab import History, Operation, check_linearizable
from distlab.linearizability.models import Register


def hard_history(writers: int = 14) -> History:
    """Concurrent writes, then two reads after all of them that disagree: refuting it means trying
    every subset of the writes (2^writers configurations)."""
    ops = [Operation(p, p, "write", None, p, None, "ok", 0.0, 100.0) for p in range(writers)]
    ops += [
        Operation(writers, 99, "read", None, None, 0, "ok", 101.0, 102.0),
        Operation(writers + 1, 99, "read", None, None, 1, "ok", 103.0, 104.0),
    ]
    return History(ops)


def test_max_steps_is_exact_and_deterministic():
    h = hard_history(8)
    full = check_linearizable(h, model="register")
    assert full.verdict == "not-linearizable" and full.steps > 100
    at = check_linearizable(h, model="register", max_steps=full.steps)
    assert at == full
    short = check_linearizable(h, model="register", max_steps=full.steps - 1)
    assert short.verdict == "unknown" and "max_steps" in short.explanation
    # the same input and budget give the same result, every time
    again = [check_linearizable(h, model="register", max_steps=full.steps // 2) for _ in range(3)]
    assert again[0].verdict == "unknown" and again[0] == again[1] == again[2]


def test_max_steps_counts_every_key():
    ops, i = [], 0
    for key in ("a", "b", "c"):
        for p in range(6):
            ops.append(Operation(i, p, "append", key, f"x{p}", None, "ok", 0.0, 10.0))
            i += 1
        ops.append(Operation(i, 99, "get", key, None, "x0x1x2x3x4x5", "ok", 11.0, 12.0))
        i += 1
    h = History(ops)
    full = check_linearizable(h, model="kv")
    assert full.verdict == "linearizable" and full.steps > 3
    assert check_linearizable(h, model="kv", max_steps=full.steps).verdict == "linearizable"
    short = check_linearizable(h, model="kv", max_steps=full.steps - 1)
    assert short.verdict == "unknown" and "unknown" in short.per_key.values()


def test_time_limit_on_an_injected_clock():
    ticks = itertools.count()
    r = check_linearizable(hard_history(), timeout_s=5, clock=lambda: float(next(ticks)))
    assert r.verdict == "unknown" and "time limit (timeout_s=5)" in r.explanation
    # the clock is read at least every few thousand units of work, not every few thousand steps
    assert r.steps < 5_000


def test_time_limit_is_read_while_preparing_a_large_history(monkeypatch):
    """Reliability 5: the clock was read only every 2,048 search steps, after preparing: 40,121
    operations with timeout_s=0.2 took 10 s. Now preparation stops to read the clock too."""
    n = 20_000
    h = History(
        Operation(i, i, "write", None, i % 7, None, "ok", float(i), float(i + n)) for i in range(n)
    )
    compiled = []
    original = Register.compile
    monkeypatch.setattr(
        Register, "compile", lambda self, op: compiled.append(op) or original(self, op)
    )
    t = iter([0.0] + [10.0] * 10**6)  # the time is up at the first look after the start
    r = check_linearizable(h, timeout_s=1, clock=lambda: next(t))
    assert r.verdict == "unknown" and r.steps == 0
    assert len(compiled) < n // 10  # it stopped early in the preparation


def test_time_limit_also_bounds_validation():
    n = 20_000
    ops = [Operation(i, i, "write", None, 1, None, "ok", float(i), float(i + 1)) for i in range(n)]
    t = iter([0.0] + [10.0] * 10**6)
    r = check_linearizable(ops, timeout_s=1, clock=lambda: next(t))
    assert r.verdict == "unknown" and "while reading the history" in r.explanation


def test_the_result_does_not_depend_on_the_clock():
    h = hard_history(6)
    slow = itertools.count(step=1e-3)
    a = check_linearizable(h, timeout_s=10**6, clock=lambda: next(slow))
    b = check_linearizable(h)
    assert a == b and a.verdict == "not-linearizable"
    assert "elapsed_s" not in repr(a) and a.summary() == b.summary()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_steps": 0}, ValueError, "max_steps=0 must be at least 1"),
        ({"max_steps": 2.5}, TypeError, "max_steps=2.5 must be an integer"),
        ({"max_steps": True}, TypeError, "max_steps=True must be an integer"),
        ({"timeout_s": "1"}, TypeError, "timeout_s='1' must be a number"),
        ({"timeout_s": float("nan")}, ValueError, "timeout_s=nan"),
        ({"timeout_s": -1}, ValueError, "timeout_s=-1 must be greater than 0"),
        ({"clock": 3}, TypeError, "clock=3 must be a function"),
    ],
)
def test_bad_budgets(kwargs, error, message):
    with pytest.raises(error, match=message):
        check_linearizable(History([]), **kwargs)
