"""Property tests (hypothesis) over random calls, outcomes and clock steps:

- the breaker agrees, state by state and admission by admission, with a naive model written
  straight from REFERENCES.md's rules (lists and brute-force rates, no ring, no fast path);
- OPEN never admits a call before its wait; HALF_OPEN never admits more than its permits;
- the counts always add up: admitted = recorded + ignored + in flight, rejected apart.
"""

from __future__ import annotations

import math

from breaker_fakes import FakeClock
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.breaker import CircuitBreaker, exponential_wait

SLOW = 1.0  # slow_call_duration in every configuration here


class Model:
    """The rules, naively: every outcome kept in a list; rates recomputed from scratch."""

    def __init__(self, cfg: dict, now: float) -> None:
        self.cfg = cfg
        self.state = "CLOSED"
        self.window: list[tuple[float, bool, bool]] = []  # (time, failed, slow) since CLOSED
        self.probes: list[tuple[bool, bool]] = []
        self.openings = 0
        self.open_until = math.nan
        self.half_since = math.nan
        self.permits = 0

    def _wait(self, n: int) -> float:
        wait = self.cfg["wait_in_open"]
        return wait(n) if callable(wait) else wait

    def _open(self, t: float) -> None:
        self.openings += 1
        self.open_until = t + self._wait(self.openings)
        self.state = "OPEN"

    def _half(self, t: float) -> None:
        self.state, self.half_since, self.permits, self.probes = "HALF_OPEN", t, 0, []

    def _close(self) -> None:
        self.state, self.window, self.openings = "CLOSED", [], 0

    def advance(self, now: float) -> None:
        mw = self.cfg["max_wait_in_half_open"]
        while True:
            if self.state == "OPEN" and self.cfg["automatic_transition"] and now > self.open_until:
                self._half(self.open_until)
            elif self.state == "HALF_OPEN" and mw is not None and now > self.half_since + mw:
                self._open(self.half_since + mw)
            else:
                return

    def acquire(self, now: float) -> bool:
        self.advance(now)
        if self.state == "OPEN":
            if not now > self.open_until:
                return False
            self._half(now)
        if self.state == "HALF_OPEN":
            if self.permits >= self.cfg["permitted_calls_in_half_open"]:
                return False
            self.permits += 1
        return True

    def in_window(self, now: float) -> list[tuple[float, bool, bool]]:
        n = self.cfg["window_size"]
        if self.cfg["window_type"] == "count":
            return self.window[-n:]
        return [o for o in self.window if math.floor(o[0]) > math.floor(now) - n]

    def minimum(self) -> int:
        m = self.cfg["minimum_calls"]
        return min(m, self.cfg["window_size"]) if self.cfg["window_type"] == "count" else m

    def over(self, outcomes: list) -> bool:
        failed = 100.0 * sum(o[-2] for o in outcomes) / len(outcomes)
        slow = 100.0 * sum(o[-1] for o in outcomes) / len(outcomes)
        return (
            failed >= self.cfg["failure_rate_threshold"]
            or slow >= self.cfg["slow_call_rate_threshold"]
        )

    def record(self, now: float, duration: float, failed: bool) -> None:
        self.advance(now)
        slow = duration > SLOW
        if self.state == "CLOSED":
            self.window.append((now, failed, slow))
            outcomes = self.in_window(now)
            if len(outcomes) >= self.minimum() and self.over(outcomes):
                self._open(now)
        elif self.state == "HALF_OPEN":
            self.probes.append((failed, slow))
            if len(self.probes) >= self.cfg["permitted_calls_in_half_open"]:
                if self.over(self.probes):
                    self._open(now)
                else:
                    self._close()

    def ignored(self, now: float) -> None:
        self.advance(now)
        if self.state == "HALF_OPEN" and self.permits > len(self.probes):
            self.permits -= 1

    def failure_rate(self, now: float) -> float | None:
        outcomes = self.in_window(now)
        if len(outcomes) < self.minimum() or not outcomes:
            return None
        return 100.0 * sum(o[1] for o in outcomes) / len(outcomes)


configs = st.fixed_dictionaries(
    {
        "failure_rate_threshold": st.sampled_from([25.0, 50.0, 100.0, 100 / 3]),
        "slow_call_rate_threshold": st.sampled_from([50.0, 100.0]),
        "minimum_calls": st.integers(1, 6),
        "window_type": st.sampled_from(["count", "time"]),
        "window_size": st.integers(1, 5),
        "wait_in_open": st.sampled_from([0.0, 3.0, exponential_wait(2.0, 2.0, 8.0)]),
        "permitted_calls_in_half_open": st.integers(1, 3),
        "max_wait_in_half_open": st.sampled_from([None, 2.0, 5.0]),
        "automatic_transition": st.booleans(),
    }
)
OUTCOMES = ["success", "failure", "slow success", "slow failure", "ignored", "other exception"]


def operations(outcomes=OUTCOMES, manual=False):
    kinds = [
        st.tuples(st.just("acquire")),
        st.tuples(st.just("finish"), st.integers(0, 9), st.sampled_from(outcomes)),
        st.tuples(st.just("advance"), st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 7.0])),
    ]
    if manual:
        kinds.append(
            st.tuples(
                st.just("manual"),
                st.sampled_from(["force_open", "disable", "metrics_only", "reset"]),
            )
        )
    return st.lists(st.one_of(*kinds), max_size=120)


def finish(b: CircuitBreaker, outcome: str) -> None:
    duration = 2.0 if outcome.startswith("slow") else 0.1
    if outcome.endswith("success"):
        b.on_success(b.clock(), duration)
    elif outcome.endswith("failure"):
        b.on_error(b.clock(), duration, ConnectionError("down"))
    elif outcome == "ignored":
        b.on_error(b.clock(), duration, KeyError("ignored"))
    else:
        b.on_error(b.clock(), duration, ValueError("not recorded as a failure: a success"))


def build(cfg: dict, clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(
        **cfg, slow_call_duration=SLOW, record_on=ConnectionError, ignore=KeyError, clock=clock
    )


@settings(max_examples=400)
@given(cfg=configs, ops=operations())
def test_the_breaker_agrees_with_a_naive_model_of_the_rules(cfg, ops):
    clock = FakeClock(0.0)
    b = build(cfg, clock)
    model = Model(cfg, clock.now)
    in_flight = 0
    for op in ops:
        if op[0] == "acquire":
            admitted = model.acquire(clock.now)
            assert b.try_acquire(clock.now) == admitted, (op, model.state)
            in_flight += admitted
        elif op[0] == "finish" and in_flight:
            in_flight -= 1
            outcome = op[2]
            if outcome == "ignored":
                model.ignored(clock.now)
            else:
                model.record(
                    clock.now,
                    2.0 if outcome.startswith("slow") else 0.1,
                    outcome.endswith("failure"),
                )
            finish(b, outcome)
        elif op[0] == "advance":
            clock.advance(op[1])
        model.advance(clock.now)
        m = b.metrics()
        assert m.state.value == model.state, op
        if model.state == "CLOSED":
            assert m.failure_rate == model.failure_rate(clock.now)
            assert m.window_calls == len(model.in_window(clock.now))


def _run_with_invariants(cfg, ops, *, manual=False):
    """Run ``ops``; after each, check that OPEN admitted nothing early and that the counts add
    up."""
    clock = FakeClock(0.0)
    b = build(cfg, clock)
    wait = cfg["wait_in_open"]
    in_flight = 0
    admitted = recorded = ignored = rejected = 0
    seen_events = 0
    openings = 0
    opened_at = deadline = math.nan
    for op in ops:
        if op[0] == "acquire":
            state_before = b.state.value
            ok = b.try_acquire(clock.now)
            state_after = b.state.value
            if ok:
                admitted += 1
                in_flight += 1
                # OPEN never admits: an admission leaves the breaker anything but OPEN
                assert state_after not in ("OPEN", "FORCED_OPEN")
                if state_before == "OPEN":
                    assert clock.now > deadline, "admitted before the wait was over"
            else:
                rejected += 1
        elif op[0] == "finish" and in_flight:
            in_flight -= 1
            if op[2] == "ignored":
                ignored += 1
            else:
                recorded += 1
            finish(b, op[2])
        elif op[0] == "advance":
            clock.advance(op[1])
        elif op[0] == "manual":
            getattr(b, op[1])()
            if op[1] == "reset":
                admitted, recorded, ignored, rejected = in_flight, 0, 0, 0
        # follow the transitions, checking each OPEN -> HALF_OPEN against its deadline
        events = b.events()
        for e in events[seen_events:]:
            if e.kind == "rejected":
                continue
            if e.state == "OPEN":
                openings += 1
                opened_at = e.time
                deadline = opened_at + (wait(openings) if callable(wait) else wait)
            elif e.state == "HALF_OPEN":
                if e.from_state == "OPEN":
                    assert e.time > deadline or (
                        cfg["automatic_transition"] and e.time == deadline
                    ), "HALF_OPEN before the wait was over"
            if e.state == "CLOSED" or e.state in ("FORCED_OPEN", "DISABLED", "METRICS_ONLY"):
                openings = 0
        seen_events = len(events)
        # counts add up
        m = b.metrics()
        assert (m.admitted, m.recorded, m.ignored, m.rejected, m.in_flight) == (
            admitted,
            recorded,
            ignored,
            rejected,
            in_flight,
        )
        assert m.admitted == m.recorded + m.ignored + m.in_flight
        assert m.recorded == m.successes + m.failures
        assert 0 <= m.window_calls and 0 <= m.window_failures <= m.window_calls


@settings(max_examples=300)
@given(cfg=configs, ops=operations())
def test_open_never_admits_a_call_before_its_wait(cfg, ops):
    _run_with_invariants(cfg, ops)


@settings(max_examples=300)
@given(cfg=configs, ops=operations(outcomes=["success", "failure", "slow success", "slow failure"]))
def test_half_open_never_admits_more_than_its_permits(cfg, ops):
    clock = FakeClock(0.0)
    b = build(cfg, clock)
    permits = cfg["permitted_calls_in_half_open"]
    in_flight = 0
    admissions = 0
    episodes = 0
    for op in ops:
        if op[0] == "acquire":
            ok = b.try_acquire(clock.now)
            in_flight += ok
        elif op[0] == "finish" and in_flight:
            in_flight -= 1
            finish(b, op[2])
        elif op[0] == "advance":
            clock.advance(op[1])
        halves = sum(1 for e in b.events() if e.kind == "transition" and e.state == "HALF_OPEN")
        if halves != episodes:
            episodes, admissions = halves, 0
        if op[0] == "acquire" and ok and b.state.value == "HALF_OPEN":
            admissions += 1
            assert admissions <= permits


@settings(max_examples=300)
@given(cfg=configs, ops=operations(manual=True))
def test_counts_always_add_up_with_rejections_ignores_and_operators(cfg, ops):
    _run_with_invariants(cfg, ops, manual=True)


@settings(max_examples=200)
@given(ops=operations())
def test_the_course_preset_keeps_its_counts_too(ops):
    clock = FakeClock(0.0)
    b = CircuitBreaker.consecutive(
        failures=2, wait_in_open=3.0, clock=clock, ignore=KeyError, record_on=ConnectionError
    )
    in_flight = 0
    for op in ops:
        if op[0] == "acquire":
            in_flight += b.try_acquire(clock.now)
        elif op[0] == "finish" and in_flight:
            in_flight -= 1
            finish(b, op[2])
        elif op[0] == "advance":
            clock.advance(op[1])
        m = b.metrics()
        assert m.in_flight == in_flight
        assert m.admitted == m.recorded + m.ignored + m.in_flight
