"""Random executions for the property tests: a schedule of steps in real-time order, the Run it
makes, and happened-before computed independently of any clock (reachability in the graph of
program order and messages)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from distlab.clocks import Run, Step


@dataclass(frozen=True)
class Scheduled:
    """One step of a schedule: who, what, which message, at which true time (integer ticks)."""

    process: str
    kind: str
    message: int | None
    time: int


@st.composite
def schedules(draw, *, max_processes=4, max_steps=40, max_tick=3, min_processes=1):
    """A random execution: each step a local event, a send to a random process, or the receipt
    of a message in flight to that process (any order, so not FIFO); some messages are lost."""
    n = draw(st.integers(min_processes, max_processes))
    processes = [f"p{i}" for i in range(n)]
    steps = draw(st.integers(0, max_steps))
    in_flight: list[tuple[int, str]] = []
    schedule = []
    now = 0
    next_message = 0
    for _ in range(steps):
        now += draw(st.integers(0, max_tick))
        p = draw(st.sampled_from(processes))
        mine = [m for m in in_flight if m[1] == p]
        kinds = ["local", "send", "receive"] if mine else ["local", "send"]
        kind = draw(st.sampled_from(kinds))
        message = None
        if kind == "send":
            message = next_message
            next_message += 1
            in_flight.append((message, draw(st.sampled_from(processes))))
        elif kind == "receive":
            picked = draw(st.sampled_from(mine))
            in_flight.remove(picked)
            message = picked[0]
        schedule.append(Scheduled(p, kind, message, now))
    return processes, schedule


def run_of(processes, schedule) -> Run:
    steps: dict[str, list[Step]] = {p: [] for p in processes}
    for s in schedule:
        steps[s.process].append(Step(s.kind, s.message))
    return Run(steps)


def event_ids(processes, schedule):
    """The (process, index) of each scheduled step, in schedule order."""
    seen = dict.fromkeys(processes, 0)
    ids = []
    for s in schedule:
        ids.append((s.process, seen[s.process]))
        seen[s.process] += 1
    return ids


def reachability(processes, schedule) -> dict[tuple, set[tuple]]:
    """For each event, the set of events it happened before (transitive closure by DFS)."""
    ids = event_ids(processes, schedule)
    succ: dict[tuple, list[tuple]] = {e: [] for e in ids}
    last: dict[str, tuple] = {}
    sent: dict[int, tuple] = {}
    for s, e in zip(schedule, ids):
        if s.process in last:
            succ[last[s.process]].append(e)
        last[s.process] = e
        if s.kind == "send":
            sent[s.message] = e
        elif s.kind == "receive":
            succ[sent[s.message]].append(e)
    closure = {}
    for start in ids:
        seen: set[tuple] = set()
        stack = list(succ[start])
        while stack:
            e = stack.pop()
            if e not in seen:
                seen.add(e)
                stack.extend(succ[e])
        closure[start] = seen
    return closure
