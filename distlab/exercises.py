"""Check functions for the notebooks' exercises.

Each ``check_*`` function takes the learner's answer and returns a :class:`Check`: whether the
answer holds and why, printed as one short paragraph. An answer left as ``None`` is reported as
not answered yet, never as wrong. Checks that need an experiment run it themselves, seeded.

>>> check_round_trip(loss=0.1, answer=0.81)
✅ Right: a round trip needs both messages to arrive, (1 - 0.1)² = 0.81.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from dataclasses import dataclass

from distlab._validate import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_probability,
    check_seed,
)

__all__ = [
    "Check",
    "check_amplification",
    "check_breaker_settings",
    "check_budget_pattern",
    "check_call_success",
    "check_failures_to_open",
    "check_full_jitter",
    "check_growing_wait",
    "check_half_open_rule",
    "check_history_verdict",
    "check_loss_for_target",
    "check_majority",
    "check_partition_pairs",
    "check_quorum_sizes",
    "check_retry_settings",
    "check_round_trip",
    "check_sides_accepting",
    "check_timed_out_that_ran",
    "check_timeout_for_target",
    "check_workers_for_slow_dependency",
    "compare_prediction",
    "RefundPayments",
    "check_idempotent_refund",
    "check_recovery_end_state",
    "check_save_point_sequence",
    "TRIP_STEPS",
    "check_pivot",
    "TRIP_ORDER_STEPS",
    "check_trip_order",
    "RECEIVE_RULE_RUNS",
    "check_vector_receive",
    "check_vector_order",
    "check_commit_wait",
    "MERGE_KINDS",
    "MERGE_RUNS",
    "check_merge",
    "ROUTING_QUESTION",
    "ROUTING_GUARANTEES",
    "check_routing_guarantees",
    "QUORUM_TARGET_TRIALS",
    "check_quorum_for_target",
    "compare_convergence_guess",
]


@dataclass(frozen=True)
class Check:
    """The verdict on one answer: ``passed`` (``None`` when not answered yet) and a message."""

    passed: bool | None
    message: str

    def __bool__(self) -> bool:
        return bool(self.passed)

    def __repr__(self) -> str:
        mark = {True: "✅ Right:", False: "❌ Not yet:", None: "✏️ Not answered yet:"}[self.passed]
        return f"{mark} {self.message}"


def _unanswered(hint: str) -> Check:
    return Check(None, f"replace None with your answer. {hint}")


def check_round_trip(loss: float, answer: float | None) -> Check:
    """What share of request/response round trips succeed when each message is lost with ``loss``?

    >>> check_round_trip(0.2, 0.8)
    ❌ Not yet: 0.8 counts one message, but a round trip is two: the request and the response.
    """
    loss = check_probability("loss", loss)
    if answer is None:
        return _unanswered("Hint: both the request and the response must arrive.")
    answer = _lenient_share(answer, example="0.5")
    if isinstance(answer, Check):
        return answer
    expected = (1 - loss) ** 2
    if math.isclose(answer, expected, abs_tol=0.005):
        return Check(
            True, f"a round trip needs both messages to arrive, (1 - {loss:g})² = {expected:.3g}."
        )
    if math.isclose(answer, 1 - loss, abs_tol=0.005) and loss > 0:
        return Check(
            False,
            f"{answer:g} counts one message, but a round trip is two: "
            "the request and the response.",
        )
    return Check(
        False, f"{answer:g} is not it; each of the two messages survives with 1 - {loss:g}."
    )


_TIMEOUT_CHOICES = ("it ran", "it did not run", "unknown")


def check_partition_pairs(nodes: int, groups: list[int], answer: int | None) -> Check:
    """During a partition into groups of the given sizes, how many ordered (sender, receiver)
    pairs of distinct nodes can still exchange messages?

    >>> check_partition_pairs(5, [3, 2], 8)
    ✅ Right: only pairs inside one group can talk: 3·2 + 2·1 = 8 of the 20 ordered pairs.
    """
    nodes = check_int("nodes", nodes, 2, 10_000)
    if isinstance(groups, (str, bytes)) or not isinstance(groups, (list, tuple)):
        raise TypeError(f"groups={groups!r} must be a list of group sizes, e.g. [3, 2]")
    sizes = [check_int(f"groups[{i}]", g, 1, nodes) for i, g in enumerate(groups)]
    if sum(sizes) != nodes:
        raise ValueError(f"groups={groups} must add up to nodes={nodes}")
    if answer is None:
        return _unanswered(
            "Hint: a message gets through only if sender and receiver share a group."
        )
    answer = _lenient_count(answer, example="8")
    if isinstance(answer, Check):
        return answer
    expected = sum(g * (g - 1) for g in sizes)
    total = nodes * (nodes - 1)
    terms = " + ".join(f"{g}·{g - 1}" for g in sizes)
    if answer == expected:
        return Check(
            True,
            f"only pairs inside one group can talk: {terms} = {expected} of the {total} "
            "ordered pairs.",
        )
    return Check(
        False, f"{answer} is not it; count the pairs inside each group (out of {total} in all)."
    )


def check_timeout_for_target(
    mean_service_s: float, round_trip_s: float, target: float, answer: float | None
) -> Check:
    """Smallest timeout (s) for which at most ``target`` of calls to a healthy service time out,
    when its work takes Exponential(``mean_service_s``) and the network adds ``round_trip_s``.

    Accepted within 5 % above the exact value, since a timeout a little above the minimum is
    still a good answer; below it is too tight.

    >>> check_timeout_for_target(0.05, 0.01, 0.01, 0.24)
    ✅ Right: P(timeout) = exp(-(t - 0.01) / 0.05) ≤ 0.01 needs t ≥ 0.24 s; 0.24 s gives 0.01.
    """
    mean_service_s = check_number("mean_service_s", mean_service_s, 0.0, min_inclusive=False)
    round_trip_s = check_number("round_trip_s", round_trip_s, 0.0)
    target = check_number("target", target, 0.0, 1.0, min_inclusive=False, max_inclusive=False)
    if answer is None:
        return _unanswered("Hint: for an exponential, P(work > x) = exp(-x / mean).")
    answer = _lenient_seconds(answer, example="0.3")
    if isinstance(answer, Check):
        return answer
    exact = round_trip_s - mean_service_s * math.log(target)
    share = math.exp(-max(0.0, answer - round_trip_s) / mean_service_s)
    formula = f"P(timeout) = exp(-(t - {round_trip_s:g}) / {mean_service_s:g})"
    if exact - 0.0005 <= answer <= exact * 1.05:
        return Check(
            True,
            f"{formula} ≤ {target:g} needs t ≥ {exact:.2f} s; {answer:g} s gives {share:.2g}.",
        )
    if answer < exact:
        return Check(
            False,
            f"with {answer:g} s, {share:.1%} of calls time out; {target:.1%} is the most allowed.",
        )
    return Check(
        False,
        f"{answer:g} s works but waits longer than needed when the service really is down; "
        "go lower.",
    )


def check_workers_for_slow_dependency(answer: int | None, *, seed: int = 0) -> Check:
    """With D slow (notebook 01's defaults), the fewest caller workers that keep the 99th
    percentile latency of requests to the healthy service A under 0.5 s. The check runs
    :func:`~distlab.experiments.challenges.partial_failures` with ``answer`` and ``answer - 1``.
    """
    seed = check_seed(seed)
    if answer is None:
        return _unanswered("Try partial_failures('slow', workers=...) and look at its summary.")
    answer = _lenient_count(answer, example="6")
    if isinstance(answer, Check):
        return answer
    if not 1 <= answer <= 200:
        return Check(False, f"{answer} workers: give a number of workers from 1 to 200.")
    from distlab.experiments.challenges import partial_failures

    def p99_of_a(workers: int) -> float:
        summary = partial_failures("slow", workers=workers, seed=seed).summary
        return float(summary.loc["A", "p99_latency_s"])

    enough = p99_of_a(answer)
    if enough >= 0.5:
        return Check(
            False, f"with {answer} workers, A's p99 latency is {enough:.2f} s: still too slow."
        )
    fewer = p99_of_a(answer - 1) if answer > 1 else math.inf
    if fewer < 0.5:
        return Check(
            False,
            f"{answer} workers is enough, but {answer - 1} already keeps A's p99 at {fewer:.2f} s.",
        )
    return Check(
        True,
        f"{answer} workers keep A's p99 at {enough:.2f} s ({fewer:.2f} s with one fewer). Every "
        "worker D holds is one A cannot use: extra capacity only hides a slow dependency.",
    )


def check_amplification(max_attempts: int, layers: int, answer: int | None) -> Check:
    """Every one of ``layers`` layers makes up to ``max_attempts`` attempts at the layer below;
    the bottom always fails. How many requests reach the bottom for one user request?

    >>> check_amplification(3, 5, 243)
    ✅ Right: each layer multiplies by 3: 3^5 = 243 requests at the bottom for one at the top.
    """
    attempts = check_int("max_attempts", max_attempts, 1, 100)
    layers = check_int("layers", layers, 1, 100)
    if answer is None:
        return _unanswered("Hint: each layer turns one request from above into several below.")
    answer = check_int("answer", answer, 0)
    expected = attempts**layers
    if answer == expected:
        return Check(
            True,
            f"each layer multiplies by {attempts}: {attempts}^{layers} = {expected} requests at "
            "the bottom for one at the top.",
        )
    if answer == attempts * layers:
        return Check(False, "the attempts multiply from layer to layer; they do not add up.")
    return Check(
        False,
        f"{answer} is not it; try it with amplification(layers={layers}, max_attempts={attempts}).",
    )


def check_retry_settings(
    strategy: str | None, max_attempts: int | None, base_s: float | None, cap_s: float | None
) -> Check:
    """Settings for ten clients facing a service that is down for 5 s: no call may give up, no
    call may last more than 10 s, and the clients must not retry in lockstep (use jitter).

    The check runs :func:`~distlab.experiments.retries.timeline` with your settings over three
    seeds.
    """
    if strategy is None or max_attempts is None or base_s is None:
        return _unanswered(
            "Fill in strategy, max_attempts, base_s (and cap_s, or None for no cap)."
        )
    from distlab.experiments.retries import timeline

    if strategy in ("none", "constant", "exponential"):
        return Check(False, f'"{strategy}" has no jitter: the ten clients would retry in lockstep.')
    longest, give_ups = 0.0, 0
    for seed in range(3):
        attempts_df = timeline(
            strategy,
            clients=10,
            max_attempts=max_attempts,
            base_s=base_s,
            cap_s=cap_s,
            outage_s=5.0,
            seed=seed,
        ).frame
        calls = attempts_df.groupby(["client", "call"]).agg(
            start=("start", "min"), end=("end", "max")
        )
        longest = max(longest, float((calls["end"] - calls["start"]).max()))
        give_ups += int(attempts_df["gave_up"].sum())
    if give_ups:
        return Check(
            False,
            f"{give_ups} calls gave up before the service came back: more "
            "attempts, or longer waits.",
        )
    if longest > 10.0:
        return Check(
            False, f"the longest call took {longest:.1f} s: cap the waits, or fewer attempts."
        )
    return Check(
        True,
        f"no call gave up and the longest took {longest:.1f} s, with jittered "
        "waits that keep the clients apart.",
    )


def check_failures_to_open(
    successes_first: int,
    window_size: int,
    minimum_calls: int,
    threshold: float,
    answer: int | None,
) -> Check:
    """A fresh count-window breaker records ``successes_first`` successes, then only failures.
    How many failures until it opens? The check runs a real
    :class:`~distlab.breaker.CircuitBreaker`.

    >>> check_failures_to_open(6, 20, 10, 50, 6)  # doctest: +ELLIPSIS
    ✅ Right: after 6 successes, the 6th failure makes 6 of 12 calls (50%), with at least 10 ...
    """
    from distlab.breaker import BreakerState, CircuitBreaker

    successes_first = check_int("successes_first", successes_first, 0, 10_000)
    window_size = check_int("window_size", window_size, 1, 10_000)
    minimum_calls = check_int("minimum_calls", minimum_calls, 1, 10_000)
    threshold = check_number("threshold", threshold, 0.0, 100.0, min_inclusive=False)
    breaker = CircuitBreaker(
        failure_rate_threshold=threshold,
        minimum_calls=minimum_calls,
        window_size=window_size,
        wait_in_open=60,
    )
    if answer is None:
        return _unanswered("Hint: it needs both the minimum number of calls and the rate.")
    answer = check_int("answer", answer, 0)
    for _ in range(successes_first):
        breaker.try_acquire(0.0)
        breaker.on_success(0.0, 0.01)
    failures = 0
    while breaker.state_at(0.0) is not BreakerState.OPEN:
        if failures > 10 * window_size:  # it cannot open (only possible with odd settings)
            break
        breaker.try_acquire(0.0)
        breaker.on_error(0.0, 0.01)
        failures += 1
    metrics = breaker.metrics(0.0)
    if answer == failures:
        calls, failed = metrics.window_calls, metrics.window_failures
        return Check(
            True,
            f"after {successes_first} successes, the {_ordinal(failures)} failure "
            f"makes {failed} of {calls} calls ({failed / calls:.0%}), with at least "
            f"{min(minimum_calls, window_size)} recorded: it opens.",
        )
    return Check(
        False,
        f"{answer} is not it; the rate counts the window's calls, and nothing is "
        "decided below the minimum.",
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def check_growing_wait(
    initial: float, multiplier: float, maximum: float, openings: int, answer: float | None
) -> Check:
    """With ``wait_in_open=exponential_wait(initial, multiplier, maximum)``, how long does the
    breaker stay OPEN the ``openings``-th time it opens in a row?

    >>> check_growing_wait(10, 2, 60, 4, 60)
    ✅ Right: 10, 20, 40, then capped at 60: the 4th opening in a row waits 60 s.
    """
    from distlab.breaker import exponential_wait

    wait = exponential_wait(initial, multiplier, maximum)
    openings = check_int("openings", openings, 1, 100)
    if answer is None:
        return _unanswered("Hint: it multiplies each time, up to the maximum.")
    answer = check_number("answer", answer, 0.0)
    waits = [wait(n) for n in range(1, openings + 1)]
    if math.isclose(answer, waits[-1]):
        steps = [f"{w:g}" for w in waits]
        if openings > 1 and waits[-1] == maximum and waits[-2] * multiplier > maximum:
            steps[-1] = f"then capped at {waits[-1]:g}"
        return Check(
            True,
            f"{', '.join(steps)}: the {_ordinal(openings)} opening in a row waits {waits[-1]:g} s.",
        )
    return Check(False, f"{answer:g} s is not it; list the waits one opening after another.")


def check_breaker_settings(
    slow_call_rate_threshold: float | None,
    slow_call_duration_s: float | None,
    permitted_calls_in_half_open: int | None,
    wait_in_open_s: float | None,
) -> Check:
    """Settings for notebook 03's dependency (up, down 10-30 s, 25 times slower 30-100 s,
    recovering with little capacity 100-200 s, up after 200 s): the breaker must open on the
    slow phase (a slow call there takes about 2.5 s), let at most 3 probes through per
    half-open, and be CLOSED again within 15 s of the dependency being up (by 215 s).

    The check runs :func:`~distlab.experiments.breakers.transitions` with the recommended
    breaker and your four settings, over three seeds.
    """
    if None in (
        slow_call_rate_threshold,
        slow_call_duration_s,
        permitted_calls_in_half_open,
        wait_in_open_s,
    ):
        return _unanswered("Fill in all four settings; try them in the breaker explorer first.")
    from distlab.experiments.breakers import transitions

    slow_call_rate_threshold = check_number(
        "slow_call_rate_threshold", slow_call_rate_threshold, 0.0, 100.0, min_inclusive=False
    )
    slow_call_duration_s = check_number("slow_call_duration_s", slow_call_duration_s, 0.0, 3600.0)
    permitted_calls_in_half_open = check_int(
        "permitted_calls_in_half_open", permitted_calls_in_half_open, 1, 1000
    )
    wait_in_open_s = check_number("wait_in_open_s", wait_in_open_s, 0.0, 3600.0)
    settings = {
        "slow_call_rate_threshold": slow_call_rate_threshold,
        "slow_call_duration": slow_call_duration_s,
        "permitted_calls_in_half_open": permitted_calls_in_half_open,
        "wait_in_open": wait_in_open_s,
    }
    for seed in range(3):
        problem = _breaker_settings_problem(transitions(breaker=settings, seed=seed))
        if problem:
            return Check(False, f"seed {seed}: {problem}")
    return Check(
        True,
        "it opens on the slow calls, probes gently, and closes soon after the "
        "dependency is back, on all three seeds.",
    )


def _breaker_settings_problem(result) -> str | None:
    """What is wrong with one run of :func:`check_breaker_settings`, if anything."""
    moves = result.transitions
    threshold = result.thresholds["slow_call_rate_threshold"]
    opened_on_slow = moves[
        (moves["state"] == "OPEN")
        & (moves["time"].between(30, 100))
        & (moves["slow_call_rate"] >= threshold)
    ]
    if not len(opened_on_slow):
        return (
            "the breaker never opened on slow calls between 30 s and 100 s: is a 2.5 s call "
            "slow by your setting?"
        )
    calls = result.frame
    admitted = calls[(calls["state"] == "HALF_OPEN") & (calls["outcome"] != "rejected")]
    per_half_open = _admitted_per_half_open(result.states, admitted)
    if per_half_open > 3:
        return (
            f"{per_half_open} calls went through in one half-open period; at most 3 were allowed."
        )
    states = result.states
    state_at_215 = states[(states["start"] <= 215) & (states["end"] > 215)]["state"]
    if len(state_at_215) and state_at_215.iloc[0] != "CLOSED":
        return (
            f"at 215 s the breaker is still {state_at_215.iloc[0]}: a shorter wait in OPEN "
            "closes it sooner."
        )
    return None


def _admitted_per_half_open(states, admitted) -> int:
    most = 0
    for band in states[states["state"] == "HALF_OPEN"].itertuples(index=False):
        inside = admitted[(admitted["start"] >= band.start) & (admitted["start"] < band.end)]
        most = max(most, len(inside))
    return most


def check_majority(nodes: int, answer: int | None) -> Check:
    """How many nodes make a majority quorum of a cluster of ``nodes`` nodes?

    >>> check_majority(5, 3)
    ✅ Right: floor(5 / 2) + 1 = 3: any two sets of 3 of the 5 nodes share at least one node.
    """
    nodes = check_int("nodes", nodes, 1)
    if answer is None:
        return _unanswered("Hint: two quorums must always share a node.")
    if isinstance(answer, bool) or not isinstance(answer, int) or answer < 1:
        return Check(False, f"answer with a whole number of nodes, at least 1 (not {answer!r}).")
    expected = nodes // 2 + 1
    if answer > nodes:
        return Check(
            False,
            f"a quorum of {answer} can never form in a cluster of {nodes} nodes: no write "
            "would ever succeed. Two quorums must share a node, and no more is needed.",
        )
    if answer == expected:
        return Check(
            True,
            f"floor({nodes} / 2) + 1 = {expected}: any two sets of {expected} of "
            f"the {nodes} nodes share at least one node.",
        )
    if answer < expected:
        return Check(
            False,
            f"two disjoint groups of {answer} can exist in {nodes} nodes: both "
            "sides of a partition could then reach quorum.",
        )
    return Check(
        False, f"{answer} works but is more than needed: it loses availability for nothing."
    )


# -- notebook 06 (CAP): sides that accept writes, quorum sizes, reading a history --------------

_VERDICTS = ("linearizable", "not-linearizable")


def _count_or_none(answer: object) -> int | None:
    """``answer`` as a non-negative count, or ``None`` when it is not one (no exception)."""
    if isinstance(answer, bool) or not isinstance(answer, int) or answer < 0:
        return None
    return answer


def check_sides_accepting(sides: list[int], answer: tuple[int, int] | None) -> Check:
    """A cluster is cut into groups of ``sides`` nodes (e.g. ``[3, 2, 2]`` for 7 nodes). How many
    groups accept writes ``(with the course's CPDatabase, with majority quorums of the whole
    cluster)``? The answer is a pair of counts.

    >>> check_sides_accepting([3, 2, 2], (3, 0))  # doctest: +ELLIPSIS
    ✅ Right: the course's store counts its quorum over the nodes each group can reach, ...
    >>> check_sides_accepting([3, 2, 2], 3)  # doctest: +ELLIPSIS
    ❌ Not yet: answer with a pair of counts, (course, majority), e.g. (1, 1).
    """
    if isinstance(sides, (str, bytes)) or not isinstance(sides, (list, tuple)) or not sides:
        raise TypeError(f"sides={sides!r} must be a list of group sizes, e.g. [3, 2, 2]")
    sizes = [check_int(f"sides[{i}]", s, 1, 15) for i, s in enumerate(sides)]
    nodes = sum(sizes)
    if answer is None:
        return _unanswered("Give a pair (course, majority): two counts of groups.")
    pair = tuple(answer) if isinstance(answer, (tuple, list)) else None
    counts = None if pair is None else [_count_or_none(a) for a in pair]
    if counts is None or len(counts) != 2 or None in counts:
        return Check(False, "answer with a pair of counts, (course, majority), e.g. (1, 1).")
    majority = nodes // 2 + 1
    course = sum(1 for s in sizes if s >= s // 2 + 1)  # every group: the bug
    strict = sum(1 for s in sizes if s >= majority)
    if tuple(counts) == (course, strict):
        none = (
            " No group holds one, so nothing is written anywhere until the network heals."
            if (strict == 0)
            else ""
        )
        return Check(
            True,
            "the course's store counts its quorum over the nodes each group can reach, "
            f"floor(s / 2) + 1 of s, which every group reaches: {course} groups accept writes "
            f"that do not see each other. A majority of the whole cluster is {majority} of "
            f"{nodes}: {strict} group(s) hold one.{none}",
        )
    hints = []
    if counts[0] != course:
        hints.append(
            "for the course's store, compute floor(s / 2) + 1 for a group of s nodes and "
            "compare it with s"
        )
    if counts[1] != strict:
        hints.append(f"for majority quorums, a group needs {majority} of all {nodes} nodes")
    return Check(False, "; ".join(hints) + ".")


def check_quorum_sizes(
    nodes: int, unreachable: int, read_quorum: int | None, write_quorum: int | None
) -> Check:
    """Choose ``read_quorum`` (R) and ``write_quorum`` (W) for ``nodes`` replicas so that every
    read quorum shares a node with every write quorum, writes still succeed while
    ``unreachable`` nodes cannot be reached, and reads ask as few nodes as possible.

    >>> check_quorum_sizes(5, 1, 2, 4)  # doctest: +ELLIPSIS
    ✅ Right: W = 4 = 5 - 1 still forms with 1 node(s) unreachable, and R = 2 is the smallest ...
    """
    nodes = check_int("nodes", nodes, 1, 15)
    unreachable = check_int("unreachable", unreachable, 0, nodes - 1)
    if read_quorum is None or write_quorum is None:
        return _unanswered("Set both read_quorum and write_quorum to whole numbers of nodes.")
    r, w = _count_or_none(read_quorum), _count_or_none(write_quorum)
    if r is None or w is None or not (1 <= r <= nodes and 1 <= w <= nodes):
        return Check(
            False,
            f"read_quorum and write_quorum are whole numbers of nodes, from 1 to {nodes} "
            f"(got {read_quorum!r} and {write_quorum!r}).",
        )
    if r + w <= nodes:
        return Check(
            False,
            f"R + W = {r + w} is not more than {nodes}: a read can ask {r} nodes that are all "
            f"outside a write's {w}, and miss it entirely.",
        )
    if w > nodes - unreachable:
        return Check(
            False,
            f"with {unreachable} node(s) unreachable only {nodes - unreachable} answer, fewer "
            f"than W = {w}: writes stop. (W = {nodes}, every node, is the course's banking "
            "store.)",
        )
    best_r = nodes - (nodes - unreachable) + 1
    if r > best_r:
        return Check(
            False,
            f"R = {r} and W = {w} meet both targets, but reads can ask fewer nodes: raise W "
            "as far as the unreachable nodes allow, then R only needs to make R + W exceed "
            f"{nodes}.",
        )
    return Check(
        True,
        f"W = {w} = {nodes} - {unreachable} still forms with {unreachable} node(s) "
        f"unreachable, and R = {r} is the smallest with R + W > {nodes}. Overlap makes a read "
        "see the latest write; for linearizable reads it must also write back what it read "
        "(ABD).",
    )


def check_history_verdict(history, answer: str | None) -> Check:
    """Is ``history`` (a :class:`distlab.history.History` of a single register) linearizable?
    ``"linearizable"`` or ``"not-linearizable"``; the package's checker decides, and its order
    or explanation is the feedback.

    >>> from distlab.history import History, Operation
    >>> h = History([Operation(0, 0, "write", None, 1, None, "ok", 0.0, 1.0),
    ...              Operation(1, 1, "read", None, None, None, "ok", 1.5, 2.0)])
    >>> check_history_verdict(h, "not-linearizable")  # doctest: +ELLIPSIS
    ✅ Right: the checker says not-linearizable. Not linearizable: #1 process 1: read ...
    """
    from distlab.history import History
    from distlab.linearizability import check_linearizable

    if not isinstance(history, History):
        raise TypeError(f"history={history!r} must be a distlab.history.History")
    allowed = " or ".join(repr(v) for v in _VERDICTS)
    if answer is None:
        return _unanswered(f"Answer {allowed}.")
    if not isinstance(answer, str) or answer.strip().lower().replace(" ", "-") not in _VERDICTS:
        return Check(False, f"answer {allowed} (a string), not {answer!r}.")
    answer = answer.strip().lower().replace(" ", "-")
    result = check_linearizable(history, model="register")
    if answer == result.verdict:
        return Check(True, f"the checker says {result.verdict}. {result.explanation}")
    if result.verdict == "linearizable":
        hint = (
            "there is an order that works: put one point in each bar (an info bar, outcome "
            "unknown, may take effect anywhere after its start, or never) so each read returns "
            "the latest write before it."
        )
    else:
        hint = (
            "try to place one point in each bar, in every order real time allows: some read "
            "finds no place where the register holds the value it returned (a failed write "
            "never takes effect; a read returns the latest write placed before it)."
        )
    return Check(False, hint)

    return Check(False, f"{answer} is a real choice: it says what to give up during a partition.")


# --- Notebooks 00 (start here) and 01 (challenges): answers read leniently, new exercises ---
#
# A learner's answer that is nearly right in form ("0.81" as text, 81 for 81 %, "Unknown",
# True) gets a Check that says what is allowed, never a traceback. The helpers below return
# either the cleaned answer or that Check.


def _not_a_number(answer: object, example: str) -> Check | None:
    """A Check for an answer that is not a plain number, or None when it is one."""
    if isinstance(answer, bool):
        return Check(False, f"{answer} is a yes/no value; the answer is a number, e.g. {example}.")
    if isinstance(answer, (str, bytes)):
        try:
            float(answer)
        except ValueError:
            return Check(False, f"{answer!r} is text; the answer is a number, e.g. {example}.")
        return Check(
            False, f"{answer!r} is text; write the number without quotes: answer = {answer}."
        )
    if not isinstance(answer, (int, float)) and not hasattr(answer, "__float__"):
        return Check(False, f"{answer!r} is not a number; the answer is one, e.g. {example}.")
    try:
        finite = math.isfinite(float(answer))
    except OverflowError:  # an int beyond any float, e.g. 10**400 (too long to print, past 4300
        # digits: Python refuses to convert such an int to text)
        return Check(False, f"that number is too large to compare (beyond any float); give a "
                            f"measured value, e.g. {example}.")  # fmt: skip
    if not finite:
        return Check(False, f"{answer!r} is not a finite number; give one, e.g. {example}.")
    return None


def _lenient_share(answer: object, example: str = "0.5") -> float | Check:
    """``answer`` as a share in [0, 1], or a Check saying what is allowed (81 for 81 %, text)."""
    problem = _not_a_number(answer, example)
    if problem is not None:
        return problem
    value = float(answer)
    if 1 < value <= 100:
        return Check(
            False,
            f"{value:g} looks like a percentage; give a share between 0 and 1: "
            f"{value:g} % is {value / 100:g}.",
        )
    if not 0 <= value <= 1:
        return Check(False, f"{value:g} is not a share; give a number between 0 and 1.")
    return value


def _lenient_count(answer: object, example: str = "8") -> int | Check:
    """``answer`` as a whole number >= 0 (8.0 is 8), or a Check saying what is allowed."""
    problem = _not_a_number(answer, example)
    if problem is not None:
        return problem
    value = float(answer)
    if value < 0 or value != int(value):
        return Check(False, f"{value:g} is not a count; give a whole number, e.g. {example}.")
    return int(value)


def _lenient_seconds(answer: object, example: str = "0.3") -> float | Check:
    """``answer`` as a positive number of seconds, or a Check saying what is allowed."""
    problem = _not_a_number(answer, example)
    if problem is not None:
        return problem
    value = float(answer)
    if value <= 0:
        return Check(False, f"{value:g} s is not a timeout; give a positive number of seconds.")
    return value


def check_call_success(messages: int, loss: float, answer: float | None) -> Check:
    """A call needs ``messages`` messages to arrive (4 through a gateway: request in, request on,
    answer back, answer out), each lost with ``loss``. What share of calls succeed?

    >>> check_call_success(4, 0.1, 0.6561)
    ✅ Right: all 4 messages must arrive: (1 - 0.1)^4 = 0.656. Every hop multiplies the risk.
    >>> check_call_success(4, 0.1, 0.81)
    ❌ Not yet: 0.81 is a direct round trip (two messages); this call needs 4 to arrive.
    """
    messages = check_int("messages", messages, 1, 100)
    loss = check_probability("loss", loss)
    if answer is None:
        return _unanswered("Hint: every one of the messages must arrive.")
    answer = _lenient_share(answer, example="0.5")
    if isinstance(answer, Check):
        return answer
    expected = (1 - loss) ** messages
    if math.isclose(answer, expected, abs_tol=0.005):
        return Check(
            True,
            f"all {messages} messages must arrive: (1 - {loss:g})^{messages} = {expected:.3g}. "
            "Every hop multiplies the risk.",
        )
    for fewer in range(1, messages):
        if loss > 0 and math.isclose(answer, (1 - loss) ** fewer, abs_tol=0.005):
            what = "one message" if fewer == 1 else f"{fewer} messages"
            if fewer == 2:
                what = "a direct round trip (two messages)"
            return Check(False, f"{answer:g} is {what}; this call needs {messages} to arrive.")
    if loss > 0 and math.isclose(answer, 1 - messages * loss, abs_tol=0.005):
        return Check(
            False,
            f"{answer:g} subtracts the losses; chances of surviving multiply: "
            f"each message survives with {1 - loss:g}.",
        )
    return Check(
        False, f"{answer:g} is not it; each of the {messages} messages survives with {1 - loss:g}."
    )


def check_loss_for_target(target: float, answer: float | None) -> Check:
    """The largest loss per message for which at least ``target`` of request/response round
    trips succeed. Answers up to 5 % below the exact limit pass (a round number is fine).

    >>> check_loss_for_target(0.99, 0.005)  # doctest: +ELLIPSIS
    ✅ Right: (1 - 0.005)² = 0.990 ≥ 0.99; the limit is 1 - √0.99 = 0.00501. ...
    """
    target = check_number("target", target, 0.0, 1.0, min_inclusive=False, max_inclusive=False)
    if answer is None:
        return _unanswered("Hint: a round trip succeeds with (1 - loss)²; solve for loss.")
    answer = _lenient_share(answer, example="0.02")
    if isinstance(answer, Check):
        return answer
    exact = 1 - math.sqrt(target)
    share = (1 - answer) ** 2
    if exact * 0.95 <= answer <= exact * 1.001:
        return Check(
            True,
            f"(1 - {answer:g})² = {share:.3f} ≥ {target:g}; the limit is 1 - √{target:g} = "
            f"{exact:.3g}. Half the loss budget per message: a round trip spends it twice.",
        )
    if math.isclose(answer, 1 - target, rel_tol=0.01):
        return Check(
            False,
            f"with {answer:g} lost per message, only {share:.4f} of round trips succeed: "
            f"{answer:g} is the budget for one message, and a round trip is two.",
        )
    if answer > exact:
        return Check(
            False, f"with {answer:g} lost per message, {share:.4f} of round trips succeed: too few."
        )
    return Check(
        False,
        f"{answer:g} works ({share:.4f} succeed) but is stricter than needed; find the largest.",
    )


def check_timed_out_that_ran(timeout_s: float, answer: float | None, *, seed: int = 0) -> Check:
    """Of the requests that timed out in notebook 01's payments experiment (work
    Exponential(0.3 s), 10 ms each way, 10 % of messages lost) run with ``timeout_s``, what share
    had run at the server? The check runs 5,000 requests and accepts within 0.06 of what they show.
    """
    timeout_s = check_number("timeout_s", timeout_s, 0.0, 3600.0, min_inclusive=False)
    seed = check_seed(seed)
    if answer is None:
        return _unanswered(
            "Hint: which timed-out requests never ran? Compare their share with all timeouts."
        )
    answer = _lenient_share(answer, example="0.3")
    if isinstance(answer, Check):
        return answer
    from distlab import outcomes
    from distlab.experiments.challenges import timeout_ambiguity

    frame = timeout_ambiguity(requests=5000, timeout_s=timeout_s, seed=seed).frame
    timed_out = frame[frame["outcome"] == outcomes.TIMEOUT]
    ran = int(timed_out["executed"].sum())
    measured = ran / len(timed_out)
    shown = (
        f"of 5,000 requests with a {timeout_s:g} s timeout, {len(timed_out)} timed out and "
        f"{ran} of those ran: {measured:.2f}."
    )
    if abs(answer - measured) <= 0.06:
        return Check(
            True,
            f"{shown} Only a request lost on the way never runs (10 % of all requests); a lost "
            "or late answer looks the same to the caller, so a longer timeout cannot remove the "
            "doubt: retrying a timed-out charge often charges twice.",
        )
    if answer < measured:
        return Check(
            False,
            f"{answer:g} is too low. Which timeouts never ran? Only those whose request was "
            "lost (10 % of all requests); every other timeout ran.",
        )
    return Check(
        False,
        f"{answer:g} is too high. A request lost on the way (10 % of all requests) times out "
        "without running; what share of all the timeouts is that?",
    )


def compare_prediction(
    guess: float | None,
    measured: float,
    *,
    what: str,
    tolerance: float = 0.1,
    share: bool | None = None,
    unit: str | None = None,
    out_of: int | None = None,
) -> Check:
    """Show the learner's ``guess``, written down before a run, beside what the run ``measured``.

    A guess within ``tolerance`` (relative) of the measured value counts as right; ``None`` says
    no guess was written and still shows the result. When the run measures a share, a guess
    above 1 and up to 100, or text like ``"28%"``, is read as a percentage and said so.
    ``share`` says whether ``measured`` is a share: ``None`` (the default) takes any value
    strictly between 0 and 1 for one; pass ``share=False`` for a count or a time that happens
    to be below 1 (seconds), so a guess of 2 stays 2. Numbers are shown rounded (3 significant
    digits below 1, 4 above). ``unit="s"`` says ``measured`` is in seconds: a guess 100 times too
    big or more asks whether it is in milliseconds. ``unit="count"`` says the question asks how
    many (of ``out_of``, when given): a guess between 0 and 1 asks whether it is a share.
    A ``unit`` says ``measured`` is not a share (``share=True`` with one is refused), and
    ``out_of`` is only for ``unit="count"``.

    >>> compare_prediction(800, 633, what="calls that got their answer")
    ❌ Not yet: you guessed 800 calls that got their answer; the run shows 633 (26 % off).
    >>> compare_prediction(28, 0.273, what="of the later writes lost")  # doctest: +ELLIPSIS
    ✅ Right: 28 read as 28 % = 0.28 (the run measures a share between 0 and 1): you guessed ...
    >>> compare_prediction(2.0, 0.415581, what="seconds to converge", share=False)
    ❌ Not yet: you guessed 2 seconds to converge; the run shows 0.416 (381 % off).
    >>> compare_prediction(800, 2.027, what="s ahead", unit="s")  # doctest: +ELLIPSIS
    ❌ Not yet: you guessed 800 s ahead; ... off). Is 800 in milliseconds? The question asks ...
    >>> compare_prediction(0.83, 83, what="pairs", unit="count", out_of=96)  # doctest: +ELLIPSIS
    ❌ Not yet: you guessed 0.83 pairs; ... Is 0.83 a share? ... how many (0.83 x 96 ~ 80).
    """
    measured = check_number("measured", measured)
    tolerance = check_number("tolerance", tolerance, 0.0, 1.0)
    share, out_of = _share_and_unit(measured, share, unit, out_of)
    if guess is None:
        return Check(
            None,
            f"no guess written (the run shows {_shown(measured)} {what}); next time, write your "
            "guess before you run the cell.",
        )
    note = ""
    if share and isinstance(guess, str) and guess.strip().endswith("%"):
        text = guess.strip().removesuffix("%").strip()
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            return Check(False, f"{guess!r} is not a number; the answer is a share, e.g. 0.05.")
        guess, note = value / 100, f"{text} % is {value / 100:g}: "
    problem = _not_a_number(guess, example="0.05" if share else "500")
    if problem is not None:
        return problem
    guess = float(guess)
    if share and 1.0 < guess <= 100.0:
        note = (
            f"{guess:g} read as {guess:g} % = {guess / 100:g} (the run measures a share between "
            "0 and 1): "
        )
        guess /= 100
    elif share and guess > 100.0:
        return Check(
            False, f"{guess:g} is not a share: the run measures one between 0 and 1, e.g. 0.05."
        )
    off = abs(guess - measured) / abs(measured) if measured else abs(guess)
    verdict = (
        f"you guessed {_shown(guess)} {what}; the run shows {_shown(measured)} "
        f"({off * 100:.0f} % off)."
    )
    if off > tolerance:
        verdict += _unit_hint(guess, measured, unit, out_of)
    return Check(off <= tolerance, note + verdict)


def _share_and_unit(
    measured: float, share: bool | None, unit: str | None, out_of: object
) -> tuple[bool, float | None]:
    """:func:`compare_prediction`'s ``share`` (``None`` resolved) and ``out_of``, validated."""
    if unit not in (None, "s", "count"):
        raise ValueError(f"unit={unit!r} must be None, 's' (seconds) or 'count' (how many)")
    if out_of is not None:
        if unit != "count":
            raise ValueError(f"out_of={out_of!r} is only for unit='count', not unit={unit!r}")
        out_of = check_number("out_of", out_of, 0.0, math.inf, min_inclusive=False)
    if share is None:  # seconds or a count are never a share, whatever their value
        return unit is None and 0.0 < measured < 1.0, out_of
    share = check_bool("share", share)
    if share and unit is not None:
        raise ValueError(
            f"share=True and unit={unit!r}: a share has no unit; pass one or the other"
        )
    if share and not 0.0 <= measured <= 1.0:
        raise ValueError(f"measured={measured!r} is not a share (0 to 1) but share=True")
    return share, out_of


def _unit_hint(guess: float, measured: float, unit: str | None, out_of: float | None) -> str:
    """A question about the unit of a wrong ``guess`` when its scale suggests one (milliseconds
    for seconds, a share for a count), else ``""``."""
    if unit == "s" and measured > 0 and guess >= 100 * measured:
        return (
            f" Is {_shown(guess)} in milliseconds? The question asks for seconds: "
            f"{_shown(guess)} ms is {guess / 1000:g} s."
        )
    if unit == "count" and 0 < guess <= 1 and (guess < 1 or measured >= 10):
        times = f" ({guess:g} x {out_of:g} ~ {round(guess * out_of)})" if out_of else ""
        return f" Is {guess:g} a share? The question asks how many{times}."
    return ""


def _shown(x: float) -> str:
    """``x`` rounded for a message: 3 significant digits below 1, 4 from 1, whole from 1000."""
    if abs(x) >= 1000:
        return f"{x:.0f}"
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.4g}"


# -- Notebooks 02 (retries) and 03 (circuit breakers): exercises answered by code or a prediction --


_JITTER_SAMPLES = 400


def _call_learner(function, *args):
    """Run the learner's function; return ``(value, None)`` or ``(None, feedback)``."""
    try:
        return function(*args), None
    except Exception as exc:  # the learner's code: report, never raise
        return None, f"your function raised {type(exc).__name__}: {exc}"


def _jitter_problem(function, n: int, base: float, cap: float, rng) -> str | None:
    ceiling = min(cap, base * 2 ** (n - 1))
    waits = []
    for _ in range(_JITTER_SAMPLES):
        wait, problem = _call_learner(function, n, base, cap, rng)
        if problem:
            return f"{problem} (for n={n}, base={base:g}, cap={cap:g})."
        if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not math.isfinite(wait):
            return f"for n={n} your function returned {wait!r}; return a wait in seconds (a float)."
        waits.append(float(wait))
    low, high, mean = min(waits), max(waits), sum(waits) / len(waits)
    where = (
        f"for retry n={n} (base={base:g}, cap={cap:g}, "
        f"ceiling min(cap, base·2^(n-1)) = {ceiling:g})"
    )
    if high - low < 1e-9:
        return f"{where} every wait was {low:g}: that is no jitter; draw it with rng.uniform(a, b)."
    if low < -1e-12 or high > ceiling + 1e-9:
        doubled = min(cap, base * 2**n)
        if high > cap + 1e-9:
            hint = " Apply the cap: no wait may exceed it."
        elif high <= doubled + 1e-9 and high > ceiling:
            hint = " Your waits reach base·2^n: the first retry waits up to base, so use n - 1."
        else:
            hint = ""
        return (
            f"{where} your waits ran from {low:.3g} to {high:.3g}, outside [0, {ceiling:g}].{hint}"
        )
    if mean > 0.65 * ceiling:
        return (
            f"{where} your waits averaged {mean:.3g}, but full jitter draws uniformly from "
            f"[0, {ceiling:g}], so they should average about {ceiling / 2:.3g} (that is equal "
            "jitter, or a narrower range)."
        )
    if mean < 0.35 * ceiling or high < 0.8 * ceiling:
        return (
            f"{where} your waits averaged {mean:.3g} and never passed {high:.3g}; full jitter "
            f"uses the whole range [0, {ceiling:g}]."
        )
    return None


def check_full_jitter(function) -> Check:
    """Write ``full_jitter(n, base, cap, rng)``: the wait before retry ``n`` (1, 2, ...) with full
    jitter, drawn with ``rng.uniform(low, high)``. The check calls it many times for several
    retries, bases and caps, and compares the waits with U(0, min(cap, base·2^(n-1))).

    >>> check_full_jitter(lambda n, base, cap, rng: rng.uniform(0, min(cap, base * 2 ** (n - 1))))
    ... # doctest: +ELLIPSIS
    ✅ Right: ...
    """
    import numpy as np

    if function is None:
        return _unanswered("Write the function, then pass it: check_full_jitter(full_jitter).")
    if not callable(function):
        return Check(
            False,
            f"{function!r} is not a function; pass the function itself "
            "(check_full_jitter(full_jitter), no parentheses after its name).",
        )
    rng = np.random.default_rng(2015)
    for n, base, cap in ((1, 1.0, 20.0), (3, 1.0, 20.0), (4, 0.5, 2.0), (7, 1.0, 20.0)):
        problem = _jitter_problem(function, n, base, cap, rng)
        if problem:
            return Check(False, problem)
    return Check(
        True,
        "your waits are uniform between 0 and min(cap, base·2^(n-1)) for every retry tried: "
        "clients that failed together now retry at different instants.",
    )


def check_budget_pattern(
    max_tokens: float, token_ratio: float, pattern: str, answer: int | None
) -> Check:
    """A full :class:`~distlab.retry.RetryBudget` sees attempts in a repeating ``pattern`` of
    ``"f"`` (failed) and ``"s"`` (succeeded). After how many failed attempts does it first refuse
    a retry? The check replays the pattern on a real ``RetryBudget``.

    >>> check_budget_pattern(10, 0.8, "ffs", 8)  # doctest: +ELLIPSIS
    ✅ Right: ...
    """
    from distlab.retry import RetryBudget

    max_tokens = check_number("max_tokens", max_tokens, 0.0, 100.0, min_inclusive=False)
    budget = RetryBudget(max_tokens, token_ratio)  # checks token_ratio
    if (
        not isinstance(pattern, str)
        or not 0 < len(pattern) <= 20
        or set(pattern) - {"f", "s"}
        or "f" not in pattern
    ):
        raise ValueError(
            f"pattern={pattern!r} must be a string of up to 20 'f' and 's' with at least one 'f'"
        )
    if answer is None:
        return _unanswered("Hint: follow the tokens: -1 per failure, +token_ratio per success.")
    if isinstance(answer, bool) or not isinstance(answer, int):
        return Check(False, f"{answer!r} is not a count; answer a whole number of failed attempts.")
    failures, trace, refused = 0, [], False
    while not refused:
        for outcome in pattern:
            if outcome == "s":
                budget.on_success()
                continue
            budget.on_failure()
            failures += 1
            trace.append(f"{budget.tokens:g}")
            if not budget.allows_retry():
                refused = True
                break
        # A cycle that ends full again repeats forever; otherwise each cycle drains at least a
        # thousandth of a token (the budget's unit), so the loop ends.
        if not refused and budget.tokens >= budget.max_tokens:
            return Check(
                answer == 0,
                "with this pattern the successes refill the budget as fast as failures drain "
                "it: it never refuses (answer 0 for never).",
            )
    drain_only = math.ceil(budget.max_tokens / 2)
    path = ", ".join(trace[:12]) + (" ..." if len(trace) > 12 else "")
    if answer == failures:
        return Check(
            True,
            f"the tokens after each failure run {path}; after failure {failures} they are at or "
            f"below {budget.max_tokens / 2:g}, so the next retry is refused.",
        )
    if answer == drain_only and drain_only != failures:
        return Check(
            False,
            f"{answer} is what failures alone would give; each success gives back "
            f"{budget.token_ratio:g} of a token, so it lasts longer.",
        )
    return Check(False, f"{answer} is not it; track the tokens step by step from {max_tokens:g}.")


_STATE_WORDS = ("CLOSED", "OPEN", "HALF_OPEN")


def _half_open_cases():
    """(permitted, threshold, probe outcomes so far), every outcome sequence up to the limit."""
    from itertools import product

    for permitted, threshold in ((1, 50.0), (3, 50.0), (4, 50.0), (3, 30.0), (5, 60.0)):
        for length in range(permitted + 1):
            for outcomes in product(("ok", "error"), repeat=length):
                yield permitted, threshold, list(outcomes)


def _breaker_verdict(permitted: int, threshold: float, outcomes: list[str]) -> str:
    """What distlab's CircuitBreaker does: open it, reach HALF_OPEN, feed the probes."""
    from distlab.breaker import CircuitBreaker

    breaker = CircuitBreaker(
        failure_rate_threshold=threshold,
        minimum_calls=1,
        window_size=1,
        wait_in_open=1.0,
        permitted_calls_in_half_open=permitted,
    )
    breaker.try_acquire(0.0)
    breaker.on_error(0.0, 0.0)
    for _ in range(permitted):  # every permitted probe is admitted; some may not be back yet
        breaker.try_acquire(2.0)
    for outcome in outcomes:
        (breaker.on_success if outcome == "ok" else breaker.on_error)(2.0, 0.0)
    return breaker.state_at(2.0).value


def check_half_open_rule(function) -> Check:
    """Write ``half_open_rule(outcomes, permitted, threshold)``: a breaker in HALF_OPEN admitted
    ``permitted`` probes; ``outcomes`` lists those that came back so far (``"ok"`` or
    ``"error"``). Return the state it should be in: ``"HALF_OPEN"``, ``"OPEN"`` or ``"CLOSED"``.
    The check compares your function with distlab's ``CircuitBreaker`` on every sequence of
    outcomes for several ``permitted`` and ``threshold`` (percent) values.

    >>> def rule(outcomes, permitted, threshold):
    ...     if len(outcomes) < permitted:
    ...         return "HALF_OPEN"
    ...     rate = 100 * outcomes.count("error") / permitted
    ...     return "OPEN" if rate >= threshold else "CLOSED"
    >>> check_half_open_rule(rule)  # doctest: +ELLIPSIS
    ✅ Right: ...
    """
    if function is None:
        return _unanswered(
            "Write the function, then pass it: check_half_open_rule(half_open_rule)."
        )
    if not callable(function):
        return Check(
            False,
            f"{function!r} is not a function; pass the function itself "
            "(check_half_open_rule(half_open_rule), no parentheses after its name).",
        )
    tried = 0
    for permitted, threshold, outcomes in _half_open_cases():
        mine, problem = _call_learner(function, list(outcomes), permitted, threshold)
        case = f"with permitted={permitted}, threshold={threshold:g} and outcomes={outcomes}"
        if problem:
            return Check(False, f"{problem} {case}.")
        word = getattr(mine, "value", mine)
        if not isinstance(word, str) or word.upper() not in _STATE_WORDS:
            return Check(
                False,
                f"{case} your function returned {mine!r}; return one of "
                + ", ".join(repr(w) for w in _STATE_WORDS)
                + ".",
            )
        expected = _breaker_verdict(permitted, threshold, outcomes)
        tried += 1
        if word.upper() == expected:
            continue
        if len(outcomes) < permitted and word.upper() != "HALF_OPEN":
            why = (
                "only some probes are back: the breaker waits for all of them before it decides "
                "(one early success closing it is the course's rule, and lets every caller in)."
            )
        else:
            errors = outcomes.count("error")
            why = (
                f"all {permitted} probes are back, {errors} failed: a failure rate of "
                f"{100 * errors / permitted:g} %, and the breaker opens at or above the threshold."
            )
        return Check(False, f"{case} your rule says {word.upper()}, the breaker {expected}: {why}")
    return Check(
        True,
        f"your rule agrees with distlab's CircuitBreaker on all {tried} cases: it waits for every "
        "permitted probe, then opens if their failure rate is at or above the threshold and "
        "closes otherwise.",
    )


# -- Notebook 04 (sagas): an idempotent refund, recovery after a crash, save-points -----------


class RefundPayments:
    """The payment service of :func:`check_idempotent_refund`: one customer's money, the
    charges that took effect, and a record the refund may keep.

    - ``balance``: the customer's money (100 at the start; a charge takes 30);
    - ``charged``: idempotency key -> amount, for every charge that took effect;
    - ``refunded``: a set of keys, the refund's own record. The charge service refuses a charge
      whose key is in it: that is how a tombstone works here;
    - ``give_back(amount)``: pay ``amount`` back to the customer (every call moves money).

    >>> payments = RefundPayments()
    >>> payments.charge("o1/charge", 30.0), payments.balance
    (True, 70.0)
    >>> payments.refunded.add("o2/charge"); payments.charge("o2/charge", 30.0)  # a tombstone
    False
    """

    def __init__(self, balance: float = 100.0) -> None:
        self.balance = float(balance)
        self.charged: dict[str, float] = {}
        self.refunded: set[str] = set()
        self.given_back: list[float] = []

    def charge(self, key: str, amount: float) -> bool:
        """The charge action's side (the check calls it): True if it took effect now; a key
        charged before or in ``refunded`` is not charged again."""
        if key in self.refunded or key in self.charged:
            return False
        self.balance -= amount
        self.charged[key] = amount
        return True

    def give_back(self, amount: float) -> None:
        """Pay ``amount`` back to the customer."""
        self.balance += float(amount)
        self.given_back.append(float(amount))


class _Crash(BaseException):
    """The orchestrator's process dies here (like SystemExit: no step catches it)."""


class _LearnerFailed(Exception):
    """The learner's refund raised: the saga sees a failed compensation."""


#: (name, what happens to the charge, how the refund is delivered), see check_idempotent_refund.
_REFUND_SCENARIOS = (
    ("the pivot declines", "charged", "once"),
    ("the refund is delivered twice", "charged", "twice"),
    ("the orchestrator crashes right after the refund", "charged", "crash"),
    ("the charge's reply is lost", "reply lost", "once"),
    ("the charge's request is late", "late", "once"),
)
_AMOUNT = 30.0


def _refund_run(function, what_happens: str, delivery: str) -> dict:
    """One order saga (charge, then a pivot that declines) with the learner's refund."""
    from distlab.retry import ConstantBackoff, RetryPolicy
    from distlab.saga import PIVOT, InMemoryLog, Saga, SagaOrchestrator, Step

    payments = RefundPayments()
    raised: list[str] = []
    crashed = [False]

    def charge(ctx):
        if what_happens == "late":
            raise TimeoutError("no answer from payment (the request is still on its way)")
        payments.charge(ctx.key, ctx.data["amount"])
        if what_happens == "reply lost":
            raise TimeoutError("no answer from payment (the reply was lost)")
        return "charged"

    def decline(ctx):
        raise RuntimeError("fraud check declined the order")

    def refund(ctx):
        for _ in range(2 if delivery == "twice" else 1):
            try:
                function(ctx, payments)
            except Exception as exc:  # the learner's code: report it, the saga sees a failure
                raised.append(f"{type(exc).__name__}: {exc}")
                raise _LearnerFailed(str(exc)) from None
        if delivery == "crash" and not crashed[0]:
            crashed[0] = True
            raise _Crash

    saga = Saga(
        "order",
        [Step("charge", action=charge, compensation=refund), Step("approve", decline, kind=PIVOT)],
        compensation_retry=RetryPolicy(max_attempts=3, backoff=ConstantBackoff(0.0)),
    )
    log = InMemoryLog()

    def orchestrator():
        return SagaOrchestrator(log, [saga], owner="orders", clock=lambda: 0.0, sleep=lambda s: 0)

    try:
        status = orchestrator().run(saga, {"amount": _AMOUNT}, saga_id="o1").status
    except _Crash:  # a new orchestrator process, on the same log
        status = orchestrator().recover()[0].status
    late = what_happens == "late" and payments.charge("o1/charge", _AMOUNT)
    return {"payments": payments, "status": status, "raised": raised, "late": late}


def _refund_problem(name: str, what_happens: str, run: dict) -> str | None:
    payments, back = run["payments"], run["payments"].given_back
    was_charged = what_happens != "late"
    if run["raised"]:
        where = "" if was_charged else " for a charge that never took effect"
        return (
            f"{name}: your refund raised {run['raised'][0]}{where}; the saga is "
            f"{run['status']}, waiting for an operator. A compensation must succeed whatever "
            "happened to its action"
        )
    if not was_charged and back:
        return (
            f"{name}: the charge never took effect, yet your refund gave back "
            f"{sum(back):g}: a refund of a charge that never happened (look the key up in "
            "payments.charged)"
        )
    if run["late"]:
        return (
            f"{name}: your refund found nothing to refund, but left no tombstone, so the "
            f"late charge took effect after the order was cancelled (balance {payments.balance:g} "
            "instead of 100). Add ctx.key to payments.refunded even when there is nothing to give "
            "back"
        )
    if was_charged and len(back) > 1:
        return (
            f"{name}: your refund gave back {' + '.join(f'{b:g}' for b in back)} for one "
            f"charge of {_AMOUNT:g}: a double refund (record ctx.key in payments.refunded and "
            "skip a key already there)"
        )
    if was_charged and not back:
        hint = (
            " (its reply was lost, so ctx.result is None: ask payments.charged, not ctx.result)"
            if what_happens == "reply lost"
            else ""
        )
        return f"{name}: the charge of {_AMOUNT:g} took effect but was not refunded{hint}"
    if payments.balance != 100.0:
        return (
            f"{name}: the customer ends with {payments.balance:g} instead of 100 (gave back "
            f"{sum(back):g} for a charge of {_AMOUNT:g})"
        )
    return None


def check_idempotent_refund(function) -> Check:
    """Write ``refund(ctx, payments)``: the compensation of a saga's ``charge`` step. ``ctx`` is
    the saga's :class:`~distlab.saga.StepContext` (``ctx.key``: the charge's idempotency key,
    ``ctx.data["amount"]``: the amount, ``ctx.result``: the charge's reply, ``None`` if none
    came); ``payments`` a :class:`RefundPayments`. The check runs an order saga through
    :class:`~distlab.saga.SagaOrchestrator` five ways (declined; the refund delivered twice; the
    orchestrator killed right after the refund and a new one recovering from the log; the
    charge's reply lost after the card was charged; the charge's request arriving after the
    refund) and says what went wrong in each.

    >>> def refund(ctx, payments):
    ...     if ctx.key in payments.refunded:
    ...         return
    ...     payments.refunded.add(ctx.key)
    ...     if ctx.key in payments.charged:
    ...         payments.give_back(payments.charged[ctx.key])
    >>> check_idempotent_refund(refund)  # doctest: +ELLIPSIS
    ✅ Right: in all 5 runs the customer ends with 100...
    >>> check_idempotent_refund(lambda ctx, payments: payments.give_back(ctx.data["amount"]))
    ... # doctest: +ELLIPSIS
    ❌ Not yet: 3 of 5 runs went wrong. (1) the refund is delivered twice: ...
    """
    if function is None:
        return _unanswered("Write the function, then pass it: check_idempotent_refund(refund).")
    if not callable(function):
        return Check(
            False,
            f"{function!r} is not a function; pass the function itself "
            "(check_idempotent_refund(refund), no parentheses after its name).",
        )
    first = _refund_run(function, "charged", "once")
    if first["raised"] and first["raised"][0].startswith("TypeError"):
        return Check(
            False,
            f"your function raised {first['raised'][0]}; the saga calls it as "
            "refund(ctx, payments).",
        )
    problems = []
    for name, what_happens, delivery in _REFUND_SCENARIOS:
        problem = _refund_problem(name, what_happens, _refund_run(function, what_happens, delivery))
        if problem:
            problems.append(problem)
    if problems:
        listed = " ".join(f"({i}) {p}." for i, p in enumerate(problems, start=1))
        return Check(
            False, f"{len(problems)} of {len(_REFUND_SCENARIOS)} runs went wrong. {listed}"
        )
    return Check(
        True,
        f"in all {len(_REFUND_SCENARIOS)} runs the customer ends with 100, with one refund "
        "for each charge that took effect, none for the charge that never did, and the late "
        "charge refused by your tombstone. Duplicates, crashes and lost replies cannot make "
        "this compensation do harm.",
    )


_END_WORDS = ("completed", "compensated", "stuck", "half_done")


def _in_flight_crash_run(save_points: str) -> dict:
    """distlab's order saga, run locally: the orchestrator dies while charge_payment is in
    flight (the card is charged, the reply not yet logged); a new one recovers from the log."""
    from distlab.saga import (
        RETRIABLE,
        IdempotencyStore,
        InMemoryLog,
        Saga,
        SagaOrchestrator,
        Step,
    )

    store = IdempotencyStore(clock=lambda: 0.0)
    effects: list[str] = []
    crashed = [False]

    def participant(op: str):
        def call(ctx):
            if op == "undo":
                store.compensate(ctx.key, lambda _r: effects.append(f"undo {ctx.step}"))
                return None
            result = store.run(ctx.key, lambda: effects.append(ctx.step) or ctx.step)
            if ctx.step == "charge_payment" and not crashed[0]:
                crashed[0] = True
                raise _Crash  # charged; the orchestrator dies before it logs the reply
            return result

        return call

    names = ("create_order", "reserve_stock", "charge_payment")
    steps = [Step(n, action=participant("do"), compensation=participant("undo")) for n in names]
    steps.append(Step("complete_order", action=participant("do"), kind=RETRIABLE))
    saga = Saga("order", steps, save_points="every" if save_points == "every" else ())
    log = InMemoryLog()

    def orchestrator():
        return SagaOrchestrator(log, [saga], owner="orders", clock=lambda: 0.0, sleep=lambda s: 0)

    try:
        orchestrator().run(saga, saga_id="o1")
    except _Crash:
        pass
    status = orchestrator().recover()[0].status
    return {"status": status, "effects": effects}


def _end_word(answer: object) -> str | Check:
    """The learner's end state as one of _END_WORDS, or a Check saying what is allowed."""
    if not isinstance(answer, str):
        return Check(
            False,
            f"{answer!r} is not an end state; answer one of "
            + ", ".join(repr(w) for w in _END_WORDS)
            + ".",
        )
    word = answer.strip().lower().replace("-", "_").replace(" ", "_")
    if word in ("pending", "half_done", "halfdone"):
        return Check(
            False,
            f"{answer!r} is the course's saga, which keeps nothing: its orders stay PENDING after "
            "a crash. distlab's log tells the new orchestrator that charge_payment was started "
            "and never answered.",
        )
    if word not in _END_WORDS:
        return Check(
            False,
            f"{answer!r} is not one of " + ", ".join(repr(w) for w in _END_WORDS) + ".",
        )
    return word


def check_recovery_end_state(save_points: str, answer: str | None) -> Check:
    """distlab's order saga (create_order, reserve_stock, charge_payment: compensatable;
    complete_order: retriable) with ``save_points`` ``"every"`` (the default: resume where the
    crash left off) or ``"none"`` (the paper's plain backward recovery). The orchestrator dies
    while ``charge_payment`` is in flight: the card is charged, the reply not yet logged. A new
    orchestrator recovers the saga from the log. How does the order end: ``"completed"``,
    ``"compensated"``, ``"stuck"`` or ``"half_done"``? The check runs it.

    >>> check_recovery_end_state("none", "compensated")  # doctest: +ELLIPSIS
    ✅ Right: ...
    >>> check_recovery_end_state("every", "half_done")  # doctest: +ELLIPSIS
    ❌ Not yet: 'half_done' is the course's saga...
    """
    save_points = check_choice("save_points", save_points, ("every", "none"))
    if answer is None:
        return _unanswered(
            "Hint: what does the log say about charge_payment, and where may recovery resume?"
        )
    word = _end_word(answer)
    if isinstance(word, Check):
        return word
    run = _in_flight_crash_run(save_points)
    status, effects = run["status"], run["effects"]
    charges = effects.count("charge_payment")
    if word == status and status == "completed":
        return Check(
            True,
            "completed. With a save-point before every step, the new orchestrator re-sends "
            "charge_payment with the same idempotency key; the payment service answers from its "
            f"record, so the card is charged {'once' if charges == 1 else f'{charges} times'} in "
            "all, and the saga goes on: " + ", ".join(effects) + ".",
        )
    if word == status:
        return Check(
            True,
            "compensated. With no save-point to resume from, a saga found unfinished before "
            "its last compensatable step (charge_payment, refundable here) has ended is "
            "compensated (backward recovery), from the step in flight backwards: its "
            "compensation was registered before the action, so the charge the "
            "orchestrator never heard of is refunded too: " + ", ".join(effects) + ".",
        )
    if word == "stuck":
        return Check(
            False,
            "stuck needs a compensation (or a retriable step) that keeps failing; nothing fails "
            "here, the orchestrator only dies.",
        )
    if word == "completed":
        return Check(
            False,
            "with save_points='none' recovery cannot resume in the middle: the charge, the last "
            "step that may fail, has not ended in the log, and it has a compensation (a "
            "refund), so recovery goes backwards. (Had the charge been the pivot with no "
            "refund, recovery would have sent it again with its key instead.)",
        )
    return Check(
        False,
        "a save-point before every step lets recovery resume where the crash left off: the step "
        "in flight is sent again with the same key, and nothing needs undoing.",
    )


def _compensation_count_mistake(compensations: object, count: int, sequence_right: bool):
    """What is wrong with the learner's count of compensations (None: nothing, or not given)."""
    if compensations is None:
        return None
    if isinstance(compensations, bool) or not isinstance(compensations, int):
        return (
            f"compensations={compensations!r} is not a count; write a whole number, e.g. "
            "compensations=2 (or leave it out)."
        )
    if sequence_right and compensations != count:
        return (
            f"the sequence is right, but it has {count} compensations, not {compensations}: "
            "count the C's."
        )
    return None


def _parse_sequence(answer: object) -> list[str] | None:
    """``"T1 T2 C2"``, ``"t1, t2, c2"`` or ``["T1", "T2", "C2"]`` as tokens; None if not."""
    if isinstance(answer, str):
        tokens = answer.replace(",", " ").replace("->", " ").split()
    elif isinstance(answer, (list, tuple)) and all(isinstance(t, str) for t in answer):
        tokens = list(answer)
    else:
        return None
    tokens = [t.strip().upper() for t in tokens]
    if not tokens or not all(len(t) > 1 and t[0] in "TC" and t[1:].isdigit() for t in tokens):
        return None
    return tokens


def _save_point_sequence(steps: int, save_points: tuple[str, ...], crashes: tuple[str, ...]):
    """The executed sequence of T1..Tn with ``save_points``, crashing after each of
    ``crashes`` once, run on the saga library (a new SagaRun from the log after each crash)."""
    from distlab.saga import Finished, InMemoryLog, RunAction, Saga, SagaRun, Step, Wait

    executed: list[str] = []
    names = [f"T{i}" for i in range(1, steps + 1)]

    def record(prefix: str):
        return lambda ctx: executed.append(prefix + ctx.step[1:])

    saga = Saga(
        "paper",
        [Step(n, record("T"), record("C") if n != names[-1] else None) for n in names],
        save_points=save_points,
    )
    log, pending = InMemoryLog(), list(crashes)
    run = SagaRun.start(saga, "s", now=0.0)

    def write():
        records = run.drain()
        if records:
            log.append(records, owner="o", now=0.0, lease=1.0)

    while True:
        command = run.next(0.0)
        write()
        if isinstance(command, Finished):
            return executed
        if isinstance(command, Wait):  # pragma: no cover - nothing fails, nothing waits
            continue
        if isinstance(command, RunAction):
            run.action_ended(0.0, result=command.step.action(command.context))
        else:
            command.step.compensation(command.context)
            run.compensation_ended(0.0)
        write()
        if pending and isinstance(command, RunAction) and command.step.name == pending[0]:
            pending.pop(0)
            run = SagaRun.from_log(saga, log.read("s"))
            run.recover(0.0)


def _check_step_names(**names_of: object) -> None:
    """Each argument a tuple of step names of T1..T6 (crashes: T1..T5)."""
    names = tuple(f"T{i}" for i in range(1, 7))
    for param, value in names_of.items():
        allowed = names[:-1] if param == "crashes_after" else names
        if isinstance(value, str) or not isinstance(value, (tuple, list)):
            raise TypeError(f"{param}={value!r} must be a tuple of step names")
        for name in value:
            check_choice(param, name, allowed)


def _known_sequence_mistake(tokens, expected, save_points, crashes_after) -> str | None:
    """Feedback for the usual wrong sequences, or None."""
    paper = ["T1", "T2", "C2", "T2", "T3", "T4", "T5", "C5", "C4", "T4", "T5", "T6"]
    if tokens == paper and expected != paper:
        return (
            "that is the paper's example (save-points after T1 and T3, crashes after T2 and "
            f"T5); here the save-points are after {' and '.join(save_points)} and the crashes "
            f"after {' and '.join(crashes_after)}."
        )
    if tokens == [t for t in expected if t.startswith("T")]:
        return (
            "you have every action but no compensation: before a step runs again after a "
            "crash, what it did is undone (C), from the latest step back to the save-point."
        )
    if tokens == [f"T{i}" for i in range(1, 7)]:
        return (
            "that is a run without crashes (or with a save-point after every step); here a "
            "crash finds steps done since the last save-point."
        )
    return None


def check_save_point_sequence(
    save_points: tuple[str, ...],
    crashes_after: tuple[str, ...],
    answer: object,
    *,
    compensations: object = None,
) -> Check:
    """The saga T1..T6 (C1..C5; T6 has no compensation) with save-points after the steps named
    in ``save_points``; the orchestrator crashes right after each step of ``crashes_after``
    (once each) and a new one recovers from the log. Which steps and compensations run, in
    order? Answer as ``"T1 T2 C2 ..."``, and, if you like, how many ``compensations`` run (a
    whole number). The check runs the saga library.

    >>> check_save_point_sequence(("T1", "T3"), ("T2", "T5"),
    ...                           "T1 T2 C2 T2 T3 T4 T5 C5 C4 T4 T5 T6")  # doctest: +ELLIPSIS
    ✅ Right: ...
    >>> check_save_point_sequence(("T1", "T3"), ("T2", "T5"),
    ...                           "T1 T2 C2 T2 T3 T4 T5 C5 C4 T4 T5 T6", compensations=2)
    ❌ Not yet: the sequence is right, but it has 3 compensations, not 2: count the C's.
    """
    _check_step_names(save_points=save_points, crashes_after=crashes_after)
    save_points, crashes_after = tuple(save_points), tuple(crashes_after)
    if answer is None:
        return _unanswered(
            "Hint: after each crash, undo the steps done since the last save-point, then go on."
        )
    tokens = _parse_sequence(answer)
    if tokens is None:
        return Check(
            False,
            f"{answer!r} is not a sequence; write the steps that run as T1, T2 ... and the "
            "compensations as C1, C2 ..., separated by spaces, e.g. 'T1 T2 C2 T2'.",
        )
    expected = _save_point_sequence(6, save_points, crashes_after)
    count = sum(1 for t in expected if t.startswith("C"))
    wrong_count = _compensation_count_mistake(compensations, count, tokens == expected)
    if wrong_count:
        return Check(False, wrong_count)
    if tokens == expected:
        return Check(
            True,
            f"{' '.join(expected)}: {count} compensations, {len(expected) - count} actions. "
            "Each crash undoes only the steps done since the last save-point, and the saga "
            "goes forward again from there.",
        )
    known = _known_sequence_mistake(tokens, expected, save_points, crashes_after)
    if known:
        return Check(False, known)
    same = 0
    while same < min(len(tokens), len(expected)) and tokens[same] == expected[same]:
        same += 1
    wrote = tokens[same] if same < len(tokens) else "nothing more"
    where = (
        f"your first {same} are right, then you wrote {wrote}"
        if same
        else f"the saga starts with {expected[0]}"
    )
    return Check(
        False,
        f"{where}. Rule: a crash right after a step leaves the saga at that step; recovery "
        "compensates back to the last save-point at or before it, in reverse order, then runs "
        "forward from there.",
    )


#: The trip saga of check_pivot: (step, what may make it fail, whether it can be undone).
TRIP_STEPS = (
    ("create_trip", None, "cancel the trip record"),
    ("book_flight", "no seats left", "cancel the booking, free of charge"),
    ("book_hotel", "fully booked", "cancel the booking, free of charge"),
    ("capture_payment", "card declined", None),
    ("issue_tickets", None, None),
    ("email_itinerary", None, None),
)


def check_pivot(answer: str | None) -> Check:
    """The trip saga of :data:`TRIP_STEPS`, in order: create_trip (cannot fail; undo: cancel the
    record), book_flight (may fail: no seats; undo: cancel), book_hotel (may fail: fully booked;
    undo: cancel), capture_payment (may fail: card declined; cannot be undone by the saga),
    issue_tickets and email_itinerary (cannot fail for a business reason, cannot be undone).
    Which step is the pivot? The check builds the saga with your pivot and says why it holds or
    not.

    >>> check_pivot("capture_payment")  # doctest: +ELLIPSIS
    ✅ Right: ...
    >>> check_pivot("issue_tickets")  # doctest: +ELLIPSIS
    ❌ Not yet: capture_payment comes before issue_tickets...
    """
    from distlab.saga import COMPENSATABLE, PIVOT, RETRIABLE, Saga, Step

    names = [name for name, _fails, _undo in TRIP_STEPS]
    if answer is None:
        return _unanswered(
            "Hint: the pivot is the last step that may still fail for a business reason."
        )
    if not isinstance(answer, str) or answer.strip() not in names:
        return Check(
            False,
            f"{answer!r} is not a step of this saga; answer one of "
            + ", ".join(repr(n) for n in names)
            + ".",
        )
    pivot = names.index(answer.strip())
    for i, (name, fails, undo) in enumerate(TRIP_STEPS):
        if i < pivot and undo is None:
            return Check(
                False,
                f"{name} comes before {answer.strip()}, so it would have to be compensatable "
                f"(undone if {answer.strip()}, the go/no-go step, said no), but it cannot be "
                "undone. The pivot is the last step that may fail for a business reason.",
            )
        if i > pivot and fails is not None:
            return Check(
                False,
                f"{name} comes after {answer.strip()} and may still fail ({fails}), but after "
                "the pivot the saga must complete: every later step must be retriable, sure "
                "to succeed in the end.",
            )
    kinds = [COMPENSATABLE] * pivot + [PIVOT] + [RETRIABLE] * (len(names) - pivot - 1)
    saga = Saga(
        "trip",
        [
            Step(n, action=str, compensation=str if k == COMPENSATABLE else None, kind=k)
            for n, k in zip(names, kinds)
        ],
    )
    return Check(
        True,
        f"{answer.strip()}: the last step that may fail for a business reason, and one the saga "
        "cannot undo. Before it every step can be compensated; after it every step is retried "
        "until it succeeds. distlab accepts the saga: "
        + ", ".join(f"{s.name} {s.kind}" for s in saga.steps)
        + ".",
    )


#: The trip saga of check_trip_order, in the order its first author wrote it: (step, what may
#: make it fail, how the saga undoes it, the steps that must come before it).
TRIP_ORDER_STEPS = (
    ("create_trip", None, "cancel the trip record", ()),
    ("capture_payment", "card declined", None, ("create_trip",)),
    ("book_flight", "no seats left", "cancel the booking, free of charge", ("create_trip",)),
    ("book_hotel", "fully booked", "cancel the booking, free of charge", ("create_trip",)),
    ("issue_tickets", None, None, ("book_flight", "capture_payment")),
    ("email_itinerary", None, None, ("issue_tickets", "book_hotel")),
)


def check_trip_order(answer: object) -> Check:
    """The trip saga of :data:`TRIP_ORDER_STEPS` cannot run in the order it was written: a step
    that cannot be undone (``capture_payment``) comes before steps that may still fail. Give an
    order of the six steps that makes it a valid saga (each step after the ones it needs); the
    check builds it with distlab (compensatable steps, the pivot, retriable steps) and says why
    it holds or not.

    >>> check_trip_order(["create_trip", "book_flight", "book_hotel", "capture_payment",
    ...                   "issue_tickets", "email_itinerary"])  # doctest: +ELLIPSIS
    ✅ Right: ...
    >>> check_trip_order([s for s, *_ in TRIP_ORDER_STEPS])  # doctest: +ELLIPSIS
    ❌ Not yet: capture_payment cannot be undone, but book_hotel comes after it...
    """
    from distlab.saga import COMPENSATABLE, PIVOT, RETRIABLE, Saga, Step

    names = [name for name, *_ in TRIP_ORDER_STEPS]
    info = {name: (fails, undo, needs) for name, fails, undo, needs in TRIP_ORDER_STEPS}
    if answer is None:
        return _unanswered(
            "Hint: a step the saga cannot undo must come after every step that may still fail."
        )
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    if not isinstance(answer, (list, tuple)) or sorted(map(str, answer)) != sorted(names):
        return Check(
            False,
            f"{answer!r} is not an order of the six steps; answer a list of each of "
            + ", ".join(repr(n) for n in names)
            + " once.",
        )
    order = [str(a) for a in answer]
    for i, name in enumerate(order):
        missing = [need for need in info[name][2] if need not in order[:i]]
        if missing:
            return Check(
                False,
                f"{name} needs {' and '.join(missing)} done first (it uses what "
                f"{'they produce' if len(missing) > 1 else 'it produces'}); move it later.",
            )
    last_fail = max(i for i, name in enumerate(order) if info[name][0] is not None)
    for name in order[:last_fail]:
        if info[name][1] is None:
            later = order[last_fail]
            return Check(
                False,
                f"{name} cannot be undone, but {later} comes after it and may still fail "
                f"({info[later][0]}): the saga could then neither finish nor take {name} back. "
                "Move every step that cannot be undone after the last step that may fail.",
            )
    kinds = [COMPENSATABLE] * last_fail + [PIVOT] + [RETRIABLE] * (len(order) - last_fail - 1)
    saga = Saga(
        "trip",
        [
            Step(n, action=str, compensation=str if k == COMPENSATABLE else None, kind=k)
            for n, k in zip(order, kinds)
        ],
    )
    return Check(
        True,
        f"{order[last_fail]} is now the last step that may fail, so it is the pivot: every step "
        "before it can be undone if it says no, and every step after it cannot fail and is "
        "retried until it succeeds. distlab accepts the saga: "
        + ", ".join(f"{s.name} {s.kind}" for s in saga.steps)
        + ". Rule: steps that cannot be undone go after the go/no-go step, never before.",
    )


# -- Notebook 07 (time and order): the vector clock's receive rule, ordered or concurrent --

#: How many random runs check_vector_receive drives the learner's rule through.
RECEIVE_RULE_RUNS = 60


def _random_clock_run(rng, processes: tuple[str, ...]):
    """A random run: each step a local event, a send to another process, or the receipt of a
    message in flight to its process (in any order, so not FIFO); the order it happened in is
    given to the run, which checks it."""
    from distlab.clocks import Run, local, receive, send

    steps: dict[str, list] = {p: [] for p in processes}
    order, in_flight = [], []
    for k in range(int(rng.integers(8, 18))):
        p = processes[int(rng.integers(len(processes)))]
        mine = [m for m in in_flight if m[1] == p]
        roll = rng.random()
        if mine and roll < 0.5:
            message = mine[int(rng.integers(len(mine)))]
            in_flight.remove(message)
            step = receive(message[0])
        elif roll < 0.85:
            others = [q for q in processes if q != p]
            in_flight.append((f"m{k}", others[int(rng.integers(len(others)))]))
            step = send(f"m{k}")
        else:
            step = local()
        order.append((p, len(steps[p])))
        steps[p].append(step)
    return Run(steps, order=order)


def _causal_past(run) -> dict:
    """Each event's causal past, from program order and messages alone (no clock)."""
    past: dict = {}
    for event in run.event_ids():
        seen: set = set()
        for before in run.predecessors(event):
            seen |= past[before] | {before}
        past[event] = seen
    return past


def _event_name(run, event) -> str:
    step = run.step(event)
    name = _event_name_only(event)
    if step.kind == "send":
        return f"{name} (sends a message to {run.messages[step.message][1][0]})"
    if step.kind == "receive":  # a message is named by the event that sent it
        return (
            f"{name} (receives the message {_event_name_only(run.messages[step.message][0])} sent)"
        )
    return f"{name} (local)"


def _event_name_only(event) -> str:
    """``event`` as the figures of notebook 07 name it: process, then index (``"a:2"``)."""
    return f"{event[0]}:{event[1]}"


def _fmt(clock: dict) -> str:
    """A clock with its entries in process order, whatever order the learner built it in."""
    return "{" + ", ".join(f"{k!r}: {clock[k]}" for k in sorted(clock, key=str)) + "}"


def _clock_problem(got: object, processes: tuple[str, ...]) -> str | None:
    if not isinstance(got, dict):
        return f"returned {got!r}; return the new clock, a dict like local"
    if set(got) != set(processes):
        return (
            f"returned a clock with the entries {sorted(map(str, got))}; keep exactly one entry "
            f"per process: {sorted(processes)}"
        )
    for q, count in got.items():
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
            return f"returned {q!r}: {count!r}; every entry is a count of events, an int >= 0"
    return None


def _learner_clocks(rule, run):
    """Each event's clock, ticking locally for local events and sends and calling ``rule`` on
    receives: ``(clocks, None)``, or ``(None, problem)`` on the first unusable answer."""
    zero = dict.fromkeys(run.processes, 0)
    clocks, last, receipts = {}, {p: dict(zero) for p in run.processes}, []
    for event in run.event_ids():
        process = event[0]
        step = run.step(event)
        if step.kind == "receive":
            local_, message = dict(last[process]), dict(clocks[run.messages[step.message][0]])
            got, problem = _call_learner(rule, dict(local_), dict(message), process)
            problem = problem or _clock_problem(got, run.processes)
            if problem:
                return None, (
                    f"at {_event_name(run, event)}, with local={_fmt(local_)} and "
                    f"message={_fmt(message)}, "
                    f"your function {problem.removeprefix('your function ')}."
                )
            receipts.append((event, local_, message, dict(got)))
            clock = dict(got)
        else:
            clock = dict(last[process])
            clock[process] += 1
        clocks[event] = last[process] = clock
    return (clocks, receipts), None


def _clock_order(a: dict, b: dict) -> str:
    low = all(a[k] <= b[k] for k in a)
    high = all(a[k] >= b[k] for k in a)
    return "equal" if low and high else "before" if low else "after" if high else "concurrent"


_RECEIVE_MISTAKES = {
    "no_tick": "you merge but forget to count the receipt itself: add 1 to your own entry "
    "(clock[me] += 1) after taking the max, or the receive gets the same clock as an event "
    "before it.",
    "wholesale": "you take the sender's vector wholesale, so the receiver forgets its own "
    "past: keep your entries and take the max entry by entry with the message's.",
    "added": "you add the two vectors: an entry counts the events of one process, seen "
    "directly or through others, so the same events counted twice inflate it; take the max.",
    "partial": "some entries are below the max of local and message: the message also carries "
    "what the sender learned from others (not only its own entry); take the max for every "
    "process, then add 1 to your own.",
    "own_step": "your own entry does not count the receipt as one event: an entry counts the "
    "events of its process, so the receive's own entry is the max of the two, plus exactly 1.",
}


def _receive_mistakes(local_: dict, message: dict, me: str, got: dict) -> list[str]:
    """The typical mistakes ``got`` may come from on one receipt (several when they coincide
    there; none if it is the rule)."""
    merged = {k: max(local_[k], message[k]) for k in local_}
    right = {**merged, me: merged[me] + 1}
    if got == right:
        return []
    added = {k: local_[k] + message[k] for k in local_}
    found = [
        _RECEIVE_MISTAKES[name]
        for name, fits in (
            ("no_tick", got == merged),
            ("wholesale", got in (message, {**message, me: message[me] + 1},
                                  {**message, me: local_[me] + 1})),
            ("added", got in (added, {**added, me: added[me] + 1})),
            ("partial", any(got[k] < merged[k] for k in local_ if k != me)),
        )
        if fits
    ]  # fmt: skip
    if not found and {**got, me: right[me]} == right:  # only the own entry is off
        found = [_RECEIVE_MISTAKES["own_step"]]
    return found or [
        f"with local={_fmt(local_)} and message={_fmt(message)} your receive's clock was "
        f"{_fmt(got)}: take the max entry by entry, then add 1 to your own entry."
    ]


def _receive_hint(receipts: list) -> str:
    """The mistake of the first receipt that tells one apart, else of the first wrong one."""
    found = [m for r in receipts if (m := _receive_mistakes(r[1], r[2], r[0][0], r[3]))]
    if not found:
        return "your clocks misorder some events."
    return next((m[0] for m in found if len(m) == 1), found[0][0])


def _first_wrong_pair(run, clocks: dict):
    """The first pair of events (in the order they happened) the clocks order otherwise than
    happened-before: ``(e, f, truth, said)``, or None."""
    past = _causal_past(run)
    events = run.event_ids()
    for i, e in enumerate(events):
        for f in events[i + 1 :]:  # f never happened before e: it comes later in this order
            truth = "before" if e in past[f] else "concurrent"
            said = _clock_order(clocks[e], clocks[f])
            if said != truth:
                return e, f, truth, said
    return None


_SAID = {
    "before": "say it happened before",
    "after": "say it happened after",
    "equal": "are equal, as if they were one event",
    "concurrent": "say they are concurrent",
}


def check_vector_receive(receive) -> Check:
    """Write the vector clock's receive rule, ``receive(local, message, me) -> dict``: ``local``
    is process ``me``'s clock before the receipt, ``message`` the clock the sender attached
    (both ``{process: count}``), the result the clock of the receive event. The check drives it
    through :data:`RECEIVE_RULE_RUNS` random runs of 3 or 4 processes (local events and sends
    tick their own entry) and compares the order the clocks give every pair of events with
    happened-before computed from the messages alone.

    >>> def receive(local, message, me):
    ...     clock = {p: max(local[p], message[p]) for p in local}
    ...     clock[me] += 1
    ...     return clock
    >>> check_vector_receive(receive)  # doctest: +ELLIPSIS
    ✅ Right: ...
    >>> check_vector_receive(lambda local, message, me: {**message, me: local[me] + 1})
    ... # doctest: +ELLIPSIS
    ❌ Not yet: you take the sender's vector wholesale...
    """
    import numpy as np

    if receive is None:
        return _unanswered(
            "Write the function, then pass it: check_vector_receive(receive). Hint: merge, "
            "then count the receipt."
        )
    if not callable(receive):
        return Check(
            False,
            f"{receive!r} is not a function; pass the function itself "
            "(check_vector_receive(receive), no parentheses after its name).",
        )
    rng = np.random.default_rng(1978)
    for k in range(RECEIVE_RULE_RUNS):
        run = _random_clock_run(rng, ("a", "b", "c", "d")[: 3 + k % 2])
        found, problem = _learner_clocks(receive, run)
        if problem:
            return Check(False, problem)
        clocks, receipts = found
        wrong = _first_wrong_pair(run, clocks)
        if wrong is not None:
            e, f, truth, said = wrong
            hint = _receive_hint(receipts)
            relation = "happened before" if truth == "before" else "is concurrent with"
            return Check(
                False,
                f"{hint} In random run {k + 1}, {_event_name(run, e)} {relation} "
                f"{_event_name(run, f)}, but your clocks {_fmt(clocks[e])} and "
                f"{_fmt(clocks[f])} {_SAID[said]}.",
            )
        # the order can come out right from clocks that count wrongly (own entry + 2)
        for event, local_, message, got in receipts:
            mistakes = _receive_mistakes(local_, message, event[0], got)
            if mistakes:
                return Check(
                    False,
                    f"{mistakes[0]} In random run {k + 1}, at {_event_name(run, event)}, with "
                    f"local={_fmt(local_)} and message={_fmt(message)}, yours was {_fmt(got)}.",
                )
    return Check(
        True,
        f"on {RECEIVE_RULE_RUNS} random runs your clocks order exactly the pairs of events that "
        "happened before one another and call every other pair concurrent: the max entry by "
        "entry carries everything the sender knew, and your own + 1 counts the receipt.",
    )


def _vector_argument(name: str, value: object) -> dict:
    if not isinstance(value, dict) or not value:
        raise TypeError(f"{name}={value!r} must be a vector timestamp: a dict {{process: count}}")
    for process, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"{name}[{process!r}]={count!r} must be an int >= 0")
    return value


def check_vector_order(first: dict, second: dict, answer: str | None) -> Check:
    """How do the events stamped ``first`` and ``second`` (vector timestamps of one cluster, as
    ``{process: count}``) relate: ``"before"`` (first happened before second; ``"happened
    before"`` is read as ``"before"``), ``"after"``, ``"concurrent"`` or ``"equal"``? A wrong
    answer is told one entry to read again, never the relation.

    >>> check_vector_order({"a": 2, "b": 0}, {"a": 2, "b": 1}, "before")  # doctest: +ELLIPSIS
    ✅ Right: ...
    >>> check_vector_order({"a": 3, "b": 0}, {"a": 1, "b": 2}, "after")  # doctest: +ELLIPSIS
    ❌ Not yet: look at 'b': first has 0, second 2; is any entry of first larger?
    """
    first, second = _vector_argument("first", first), _vector_argument("second", second)
    if set(first) != set(second):
        raise ValueError(
            f"first and second must be timestamps of one cluster: {sorted(first)} != "
            f"{sorted(second)}"
        )
    words = ("before", "after", "concurrent", "equal")
    if answer is None:
        return _unanswered("Hint: compare entry by entry, not the sums.")
    said = " ".join(answer.lower().replace("-", " ").split()) if isinstance(answer, str) else answer
    if isinstance(said, str) and said.startswith(("happened ", "happens ")):
        said = said.split(" ", 1)[1]  # "happened before" is "before"
    if said not in words:
        return Check(False, f"{answer!r}: answer one of {', '.join(map(repr, words))}.")
    truth = _clock_order(first, second)
    bigger = [k for k in first if first[k] > second[k]]
    smaller = [k for k in first if first[k] < second[k]]
    if said == truth:
        reasons = {
            "before": "every entry of first is <= second's and one is smaller: second's "
            "process had heard, directly or through others, of every event first knew of.",
            "after": "every entry of second is <= first's and one is smaller: first's process "
            "had heard of every event second knew of.",
            "equal": "the same counts: in one run, the same event.",
        }
        if truth == "concurrent":
            return Check(
                True,
                f"each has seen an event the other has not ({bigger[0]!r} is ahead in first, "
                f"{smaller[0]!r} in second), so neither happened before the other.",
            )
        return Check(True, reasons[truth])
    return Check(False, _vector_order_hint(first, second, said, bigger, smaller))


def _vector_order_hint(first: dict, second: dict, said: str, bigger: list, smaller: list) -> str:
    """Feedback on a wrong answer: one entry to read again, never the relation itself."""
    if not bigger and not smaller:
        return "read the entries again: does any entry of first differ from second's?"
    # The entry that contradicts what was said: "before" cannot hold where first is bigger,
    # "after" where first is smaller; "concurrent" and "equal" are contradicted by any entry
    # the pair does not share a direction with.
    if said == "before" and bigger:
        k, question = bigger[0], "is any entry of first smaller?"
    elif said == "after" and smaller:
        k, question = smaller[0], "is any entry of first larger?"
    elif bigger and smaller:  # concurrent, said equal: any entry that differs
        k, question = bigger[0], "and in the other entries?"
    else:  # ordered one way, said concurrent or equal (a wrong direction is caught above)
        k = (smaller or bigger)[0]
        side = "larger" if smaller else "smaller"
        question = f"is any entry of first {side}?"
    hint = f"look at {k!r}: first has {first[k]}, second {second[k]}; {question}"
    low, high = sum(first.values()), sum(second.values())
    if (said, low < high, low > high) in (("before", True, False), ("after", False, True)):
        hint += " (Compare entry by entry: the sums order nothing.)"
    return hint


def check_commit_wait(
    uncertainty_s: float, answer: float | None, *, above_latest_s: float = 0.0
) -> Check:
    """TrueTime says the time is ``[now - eps, now + eps]`` with ``eps = uncertainty_s``. A
    commit at clock reading ``now`` takes the timestamp ``s = now + eps + above_latest_s``
    (``TT.now().latest``, or above it by ``above_latest_s`` when a two-phase commit's participant,
    its clock ahead within eps, proposed a larger prepare timestamp). For how long (seconds)
    must it wait before anyone may see it, so that every transaction that starts afterwards, on
    any node, gets a larger timestamp? The check
    runs the commit with :class:`distlab.clocks.TrueTime` at that uncertainty. Feedback never
    states the wait; an answer of 1 or more is probably in milliseconds, and is said so.

    >>> check_commit_wait(0.004, 0.008)  # doctest: +ELLIPSIS
    ✅ Right: ...
    >>> check_commit_wait(0.004, 0.004)  # doctest: +ELLIPSIS
    ❌ Not yet: after 0.004 s your clock has reached s...
    >>> check_commit_wait(0.006, 0.015, above_latest_s=0.003)  # doctest: +ELLIPSIS
    ✅ Right: ...
    """
    from distlab.clocks import TrueTime

    eps = check_number("uncertainty_s", uncertainty_s, 1e-6, 10.0)
    above = check_number("above_latest_s", above_latest_s, 0.0, 10.0)
    if answer is None:
        return _unanswered("Hint: the clock of the next transaction may be behind the true time.")
    problem = _not_a_number(answer, example="0.01")
    if problem is not None:
        return problem
    answer = float(answer)
    if answer < 0:
        return Check(False, f"{answer:g} s: a wait cannot be negative; give seconds, e.g. 0.01.")
    if answer >= 1.0 > 2 * eps + above:
        return Check(
            False,
            f"{answer:g} s is a second or more: is that milliseconds? The answer is in "
            f"seconds: {answer:g} ms is {answer / 1000:g} s.",
        )
    now = 10.0
    truetime = TrueTime(drift=0.0, base_uncertainty=eps)
    s = truetime.interval(now).latest + above
    wait = truetime.visible_at(s) - now  # until now - eps > s
    # The rule is strict (now - eps > s): no shorter wait is right, a slightly longer one is.
    if wait * (1 - 1e-9) <= answer <= wait * 1.02:
        extra = f" + {above:g} s (s lies that far above latest)" if above else ""
        return Check(
            True,
            f"{wait:g} s = 2 x {eps:g} s{extra}: once now - eps > s, the true time has certainly "
            "passed s. A transaction starting anywhere after that reads an interval that "
            "contains the true time, which has passed s, so its latest end, the timestamp it "
            "takes, is larger than s. Every commit pays at least 2 eps: Spanner keeps eps small "
            "with GPS and atomic clocks.",
        )
    if answer > wait:
        return Check(
            False,
            f"{answer:g} s is safe but longer than needed: every transaction pays it. Wait only "
            "until the earliest possible true time, now - eps, has passed s.",
        )
    seen = now + answer  # the true time may be eps behind; a clock eps behind that stamps +eps
    where = (
        f"committing at clock {now:g} s takes s = {s:g} s and becomes visible at clock "
        f"{seen:g} s, when the true time may be only {seen - eps:g} s; a transaction starting "
        f"then on a node whose clock is {eps:g} s behind reads {seen - 2 * eps:g} s and takes "
        f"the timestamp {seen - eps:g} s, smaller than s, though it started after the commit."
    )
    if math.isclose(now + answer, s, rel_tol=0.0, abs_tol=1e-9 + 0.02 * wait):
        return Check(
            False,
            f"after {answer:g} s your clock has reached s, but the true time may still be up to "
            f"eps behind it: {where} Wait until now - eps > s.",
        )
    return Check(False, f"{answer:g} s is too short: {where} Wait until now - eps > s.")


# -- notebook 05: write the merge of a replicated value --------------------------------------

#: The replicated values :func:`check_merge` knows: a grow-only counter and a cart with
#: tombstones.
MERGE_KINDS = ("counter", "cart")
#: How many random delivery schedules :func:`check_merge` replays to see the replicas converge.
MERGE_RUNS = 30
_MERGE_REPLICAS = ("r1", "r2", "r3")
_MERGE_ITEMS = ("book", "phone", "mug", "lamp")


#: The function name each kind's exercise asks for (exercise 1: ``merge``, 2: ``merge_cart``).
_MERGE_NAMES = {"counter": "merge", "cart": "merge_cart"}
_MERGE_KIND_ALIASES = {
    "counter": "counter", "gcounter": "counter", "g_counter": "counter",
    "grow_only_counter": "counter", "cart": "cart", "2p_set": "cart", "2pset": "cart",
    "two_phase_set": "cart", "shopping_cart": "cart",
}  # fmt: skip


def _merge_kind(kind: object) -> str | Check:
    """The kind ``kind`` names (any case, ``-`` or space for ``_``), or feedback saying what is
    allowed."""
    key = str(kind).strip().lower().replace("-", "_").replace(" ", "_")
    if isinstance(kind, str) and key in _MERGE_KIND_ALIASES:
        return _MERGE_KIND_ALIASES[key]
    return Check(
        False,
        f"kind={kind!r} is not a kind this check knows: use kind='counter' (exercise 1, the "
        "grow-only counter) or kind='cart' (exercise 2, the cart with tombstones).",
    )


def _merge_view(kind: str, state):
    """What a state shows, for comparing: a cart's ``added`` without its removed items (an item
    removed is out for good, so keeping it in ``added`` or not is the same cart)."""
    if kind == "counter":
        return state
    return {"added": state["added"] - state["removed"], "removed": state["removed"]}


def _merge_empty(kind: str):
    return {} if kind == "counter" else {"added": frozenset(), "removed": frozenset()}


def _merge_union(kind: str, a, b):
    """The right merge, on normalised states."""
    if kind == "counter":
        return {k: max(a.get(k, 0), b.get(k, 0)) for k in sorted({*a, *b})}
    return {"added": a["added"] | b["added"], "removed": a["removed"] | b["removed"]}


def _merge_join(kind: str, a, b):
    """The right merge, as :func:`_merge_view` shows it."""
    return _merge_view(kind, _merge_union(kind, a, b))


def _merge_states(kind: str, rng) -> list:
    """Distinct states three replicas reach by random updates and (right) merges, empty first."""
    replicas = [_merge_empty(kind) for _ in _MERGE_REPLICAS]
    seen = [_merge_empty(kind)]
    while len(seen) < 10:
        i, j = (int(x) for x in rng.integers(len(replicas), size=2))
        if rng.random() < 0.35 and i != j:
            replicas[i] = _merge_union(kind, replicas[i], replicas[j])
        elif kind == "counter":
            name = _MERGE_REPLICAS[i]
            replicas[i] = {**replicas[i], name: replicas[i].get(name, 0) + int(rng.integers(1, 3))}
        else:
            state = replicas[i]
            visible = sorted(state["added"] - state["removed"])
            if visible and rng.random() < 0.4:
                item = visible[int(rng.integers(len(visible)))]
                replicas[i] = {**state, "removed": state["removed"] | {item}}
            else:
                item = _MERGE_ITEMS[int(rng.integers(len(_MERGE_ITEMS)))]
                replicas[i] = {**state, "added": state["added"] | {item}}
        if replicas[i] not in seen:
            seen.append(replicas[i])
    return seen


def _merge_show(kind: str, state) -> str:
    if kind == "counter":
        return repr(dict(state))

    def items(part) -> str:  # sorted: a set's own order changes from one process to the next
        return "{" + ", ".join(map(repr, sorted(part))) + "}" if part else "set()"

    return f"{{'added': {items(state['added'])}, 'removed': {items(state['removed'])}}}"


def _merge_normal(kind: str, got):
    """``(state, None)`` from the learner's result, or ``(None, problem)``."""
    from collections.abc import Mapping, Set

    if not isinstance(got, Mapping):
        shape = "a dict {replica: count}" if kind == "counter" else (
            "a dict {'added': set, 'removed': set}")  # fmt: skip
        return None, f"returned {got!r}; return the merged state, {shape}"
    if kind == "counter":
        out = {}
        for key, count in got.items():
            if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
                return None, f"returned {key!r}: {count!r}; every count is an int >= 0"
            if count:
                out[str(key)] = int(count)
        return dict(sorted(out.items())), None
    if set(got) != {"added", "removed"}:
        return None, f"returned keys {sorted(map(str, got))}; keep exactly 'added' and 'removed'"
    for key in ("added", "removed"):
        if not isinstance(got[key], Set):
            return None, f"returned {key}={got[key]!r}; each part is a set of items"
    state = {"added": frozenset(got["added"]), "removed": frozenset(got["removed"])}
    return _merge_view(kind, state), None


def _merge_call(kind: str, merge, a, b):
    """The learner's merge of copies of ``a`` and ``b``, normalised; a merge that changes its
    arguments in place is a problem (a replica's state is held elsewhere too)."""

    def copy(s):
        return dict(s) if kind == "counter" else {"added": set(s["added"]),
                                                    "removed": set(s["removed"])}  # fmt: skip

    given = (copy(a), copy(b))
    got, problem = _call_learner(merge, *given)
    changed = [(name, mine) for name, mine, s in zip(("first", "second"), given, (a, b))
               if mine != s]  # fmt: skip
    if problem is None and changed:
        name, mine = changed[0]
        try:
            became = _merge_show(kind, mine)
        except (KeyError, TypeError, AttributeError):
            became = repr(mine)
        problem = (
            f"changed its {name} argument in place (it became {became}): a replica's state is "
            "also held elsewhere (sent, cached, compared), so leave a and b as they are and "
            "return a new state"
        )
    if problem is None:
        got, problem = _merge_normal(kind, got)
    if problem:
        show = _merge_show
        return None, (f"merge({show(kind, a)}, {show(kind, b)}) "
                      f"{problem.removeprefix('your function ')}.")  # fmt: skip
    return got, None


def _merge_table(kind: str, merge, states) -> tuple[dict, str | None]:
    table = {}
    for i, a in enumerate(states):
        for j, b in enumerate(states):
            got, problem = _merge_call(kind, merge, a, b)
            if problem:
                return {}, problem
            table[i, j] = got
    return table, None


def _merge_mistake(kind: str, states, table) -> str | None:
    """The typical mistakes, most specific first: sum, one side, tombstones, lost and invented
    updates."""
    show = lambda s: _merge_show(kind, s)
    pairs = [(i, j) for i in range(len(states)) for j in range(len(states)) if i != j]
    for i, a in enumerate(states):
        doubled = {k: 2 * v for k, v in a.items()} if kind == "counter" else None
        if doubled and max(a.values()) >= 2 and table[i, i] == doubled:  # not just max + 1
            return (
                f"you add the counts, so a state merged with itself (a redelivery) counts "
                f"twice: merge({show(a)}, {show(a)}) gave {show(table[i, i])}, but the replicas "
                "saw each increment once. Each entry already includes what the other side may "
                "have seen\x00take the max entry by entry"
            )
    for side, name in ((0, "first"), (1, "second")):
        if all(table[i, j] == _merge_view(kind, states[(i, j)[side]]) for i, j in pairs):
            i, j = next((i, j) for i, j in pairs if i and j and states[i] != states[j])
            return (
                f"your merge returns its {name} argument unchanged: merge({show(states[i])}, "
                f"{show(states[j])}) gave {show(table[i, j])}, so what the other replica saw "
                "is lost (and two replicas that swap states swap values forever). Combine both."
            )
    for i, j in pairs:
        join, got = _merge_join(kind, states[i], states[j]), table[i, j]
        where = f"merge({show(states[i])}, {show(states[j])}) gave {show(got)}"
        if kind == "cart":
            lost = sorted(join["removed"] - got["removed"])
            if lost:
                back = " and it is back in the cart" if lost[0] in got["added"] else ""
                return (
                    f"{where}: the tombstone of {lost[0]!r} is gone{back}, as in Dynamo's union "
                    "merge of carts. A removal must survive the merge\x00union the removed sets "
                    "as well as the added ones"
                )
            missing = sorted(join["added"] - got["added"])
            extra = sorted((got["added"] - join["added"]) | (got["removed"] - join["removed"]))
        else:
            missing = [k for k in join if got.get(k, 0) < join[k]]
            extra = [k for k in got if got[k] > join.get(k, 0)]
        if missing:
            what = "increments of" if kind == "counter" else "the add of"
            fix = "the max for every replica" if kind == "counter" else "the union of the sets"
            return (f"{where}: it loses {what} {missing[0]!r} that one side had seen. A merge "
                    f"keeps everything either side has seen\x00take {fix}")  # fmt: skip
        if extra:
            return (f"{where}: it holds more for {extra[0]!r} than either side had. A merge "
                    "must not invent updates nobody made.")  # fmt: skip
    return None


def _merge_law_problem(kind: str, merge, states) -> str | None:
    from distlab.crdt import merge_law_violations

    def normal(a, b):
        got, problem = _merge_call(kind, merge, a, b)
        if problem:
            raise ValueError(problem)
        return got

    try:
        found = merge_law_violations(normal, [_merge_view(kind, s) for s in states[:6]])
    except TypeError as exc:
        return str(exc.__cause__ or exc)
    if not found:
        return None
    v = found[0]
    args = ", ".join(_merge_show(kind, s) for s in v.states)
    left, right = _merge_show(kind, v.left), _merge_show(kind, v.right)
    return f"your merge is not {v.law}: on {args} the two sides give {left} and {right}."


def _merge_convergence(kind: str, merge, states, rng) -> str | None:
    """Replicas that receive the same states in random orders, some twice, must end equal."""
    for run in range(MERGE_RUNS):
        picked = [states[int(k)] for k in rng.choice(len(states), size=4, replace=False)]
        target = _merge_empty(kind)
        for s in picked:
            target = _merge_join(kind, target, s)
        for _replica in range(3):
            order = [picked[int(k)] for k in rng.permutation(4)]
            order += [order[int(k)] for k in rng.integers(4, size=2)]  # two redeliveries
            state = _merge_empty(kind)
            for incoming in order:
                state, problem = _merge_call(kind, merge, state, incoming)
                if problem:
                    return problem
            if state != target:
                shown = ", ".join(_merge_show(kind, s) for s in order)
                return (f"in delivery run {run + 1} a replica that received {shown} (in that "
                        f"order) ended with {_merge_show(kind, state)}, not "
                        f"{_merge_show(kind, target)}.")  # fmt: skip
    return None


def check_merge(merge, kind: str = "counter") -> Check:
    """Write ``merge(a, b)`` for a state-based replicated value; the check property-tests it.

    ``kind="counter"``: a grow-only counter, a state ``{replica: count}`` in which each replica
    counts only its own increments (the value is the sum). ``kind="cart"``: a cart with
    tombstones, ``{"added": set, "removed": set}`` (the items shown are added minus removed; an
    item once removed stays removed: a 2P-set). The check draws states that three replicas
    reach by updates and merges (seeded), then tests that your merge keeps everything either
    side has seen and invents nothing, is commutative, associative and idempotent, and that
    replicas receiving the same states in :data:`MERGE_RUNS` random orders, with redeliveries,
    end equal. Typical mistakes (a sum, one side kept, tombstones dropped) get a hint and a
    counterexample, and from the second wrong answer of a kind the rule as well. ``kind`` is
    read in any case (``"Counter"``, ``"g-counter"``, ``"2P-set"``); an unknown kind, a merge
    that changes its arguments in place, or the other exercise's merge gets feedback, never a
    traceback. A cart merge may keep removed items in ``added`` or drop them: the cart shown
    is the same.

    >>> def merge(a, b):
    ...     return {r: max(a.get(r, 0), b.get(r, 0)) for r in a.keys() | b.keys()}
    >>> check_merge(merge)  # doctest: +ELLIPSIS
    ✅ Right: ...
    >>> check_merge(lambda a, b: {r: a.get(r, 0) + b.get(r, 0) for r in a.keys() | b.keys()})
    ... # doctest: +ELLIPSIS
    ❌ Not yet: you add the counts...
    >>> check_merge(lambda a, b: {"added": a["added"] | b["added"], "removed": set()}, "cart")
    ... # doctest: +ELLIPSIS
    ❌ Not yet: merge(...) gave ...: the tombstone of 'lamp' is gone and it is back in the cart...
    """
    kind = _merge_kind(kind)
    if isinstance(kind, Check):
        return kind
    name = _MERGE_NAMES[kind]
    if merge is None:
        return _unanswered(
            f"Write {name}(a, b), then pass it: check_merge({name}, kind={kind!r}). Hint: what "
            "must hold if the same state arrives twice?"
        )
    if not callable(merge):
        return Check(False, f"{merge!r} is not a function; pass the function itself "
                            f"(check_merge({name}, kind={kind!r}), no parentheses after its "
                            "name).")  # fmt: skip
    problem, states = _merge_problem(kind, merge)
    if problem:
        other = next(k for k in MERGE_KINDS if k != kind)
        if _merge_problem(other, merge)[0] is None:
            return Check(False, f"this function is a right merge for kind={other!r} (exercise "
                                f"{MERGE_KINDS.index(other) + 1}), not for kind={kind!r}: did "
                                f"you pass {_MERGE_NAMES[other]} instead of {name}?")  # fmt: skip
        return Check(False, _graded(kind, problem))
    why = ("the max entry by entry" if kind == "counter"
           else "the union of the added sets and of the removed sets (or an equivalent that "
           "drops removed items from `added`)")  # fmt: skip
    return Check(
        True,
        f"on {len(states)} reachable states your merge keeps everything either side saw and "
        f"nothing more, and it is commutative, associative and idempotent; {3 * MERGE_RUNS} "
        f"replicas fed the same states in random orders, with redeliveries, all converged. That "
        f"is {why}: the least state above both, so delivery order and duplicates do not matter.",
    )


#: Wrong answers seen per exercise, keyed ``(exercise, kind)``: ``("merge", kind)`` for
#: :func:`check_merge`, ``("routing", fault)`` for :func:`check_routing_guarantees`. A first
#: miss gets a hint; the second and later say more.
_MISSES: Counter = Counter()


def _miss(exercise: str, kind: str, second: str) -> str | None:
    """Count a wrong answer to ``exercise`` (``kind``): on the first, the note that a second
    miss shows ``second``; from the second on, ``None`` (say it all)."""
    _MISSES[exercise, kind] += 1
    if _MISSES[exercise, kind] >= 2:
        return None
    return f"Stuck? Run the check again: a second miss {second}."


def _graded(kind: str, problem: str) -> str:
    """``problem`` with its rule (after ``\\x00``) on the second miss and later; on the first,
    the hint alone."""
    note = _miss("merge", kind, "shows the rule")
    if "\x00" not in problem:
        return problem
    hint, rule = problem.split("\x00", 1)
    return f"{hint}: {rule}." if note is None else f"{hint}. {note}"


def _merge_problem(kind: str, merge) -> tuple[str | None, list]:
    """The first problem the property tests find in ``merge`` for ``kind`` (``None``: none),
    and the states they drew."""
    import numpy as np

    rng = np.random.default_rng(2011)
    states = _merge_states(kind, rng)
    table, problem = _merge_table(kind, merge, states)
    problem = (
        problem
        or _merge_mistake(kind, states, table)
        or _merge_law_problem(kind, merge, states)
        or _merge_convergence(kind, merge, states, rng)
    )
    return problem, states


#: The routings and the guarantees :func:`check_routing_guarantees` asks about.
ROUTING_QUESTION = ("primary", "any", "sticky")
ROUTING_GUARANTEES = ("read_your_writes", "monotonic_reads")
_GUARANTEE_ALIASES = {
    "ryw": "read_your_writes",
    "read your writes": "read_your_writes",
    "read-your-writes": "read_your_writes",
    "mr": "monotonic_reads",
    "monotonic reads": "monotonic_reads",
    "monotonic-reads": "monotonic_reads",
}
_ROUTING_WHY = {
    "primary": "every read goes where every write went first: the primary has applied each "
    "write before it acknowledges it, so a read sees the session's writes, and every later "
    "read sees at least as much (while the primary lives).",
    "any": "a read may go to a replica that has not yet applied the session's write (read your "
    "writes broken) and the next read to a replica further behind than the one before "
    "(monotonic reads broken).",
    "sticky": "one replica applies the writes in log order and never forgets one, so a later "
    "read there sees at least what an earlier one saw (monotonic reads kept); but the write "
    "went to the primary, and the sticky replica may not have applied it yet when the session "
    "reads (read your writes broken).",
}


def _guarantee_set(routing: str, said: object) -> set[str] | str:
    items = [said] if isinstance(said, str) else said
    if not isinstance(items, (list, tuple, set, frozenset)):
        return f"answer[{routing!r}] = {said!r}: give a list of guarantee names ([] for none)."
    names = set()
    for item in items:
        key = str(item).strip().lower()
        key = _GUARANTEE_ALIASES.get(key, key.replace(" ", "_").replace("-", "_"))
        if key not in ROUTING_GUARANTEES:
            allowed = ", ".join(map(repr, ROUTING_GUARANTEES))
            return f"answer[{routing!r}] names {item!r}: the guarantees asked about are {allowed}."
        names.add(key)
    return names


#: What each routing does when the primary crashes (``fault="primary-crash"``).
_ROUTING_WHY_CRASH = {
    "primary": "the new primary lacks the writes the old one acknowledged last, so a session "
    "reads back an older value than its own write (read your writes broken) and, if it had "
    "read the lost value from the old primary, goes back in time (monotonic reads broken, in "
    "some seeds only: reading the primary is no shelter from a failover).",
    "any": "as without a fault: a replica behind the session's write, and the next read at a "
    "replica further behind, break both.",
    "sticky": "the replicas apply one log in order and the most advanced is promoted, so the "
    "session's replica never has to forget a write it applied: monotonic reads hold through "
    "the failover; read your writes breaks as without a fault (its replica lags the primary "
    "the write went to).",
}
#: The seeds :func:`check_routing_guarantees` runs, per fault: under the crash, 8, since the
#: primary's monotonic-reads break needs a session that read a write the failover then lost
#: (2 of the first 8 seeds).
_ROUTING_SEEDS = {"none": (0, 1), "primary-crash": tuple(range(8))}
#: Hints for a guarantee left out, keyed (routing, guarantee), under either fault: the first
#: miss gets the hint, the second names the guarantee.
_ROUTING_HINTS = {
    ("primary", "read_your_writes"): "think of a write the old primary acknowledged just before "
    "the crash, and where the session reads it back",
    ("primary", "monotonic_reads"): "think of a session that read its own write from the old "
    "primary just before the crash",
    ("any", "read_your_writes"): "think of a replica that has not yet applied the session's write",
    ("any", "monotonic_reads"): "think of two reads in a row, at two replicas that have applied "
    "different amounts of the log",
    ("sticky", "read_your_writes"): "the write goes to the primary: has the session's replica "
    "applied it when the session reads?",
}


def _routing_notes(wrong, said, broken, where: str, named: bool) -> list[str]:
    """What is wrong per routing: hints, or the guarantees when ``named``."""
    notes = []
    for r in wrong:
        extra, missing = sorted(said[r] - broken[r]), sorted(broken[r] - said[r])
        if named:
            parts = [f"{g} is broken {where}" for g in missing]
            parts += [f"no session breaks {g} {where}" for g in extra]
        else:
            parts = [_ROUTING_HINTS.get((r, g), "one guarantee it breaks is missing")
                     for g in missing]  # fmt: skip
            parts += ["one guarantee you name holds in every session"] if extra else []
        notes.append(f"{r}: {'; '.join(parts)}. Think of where its reads go and what that node "
                     "has applied.")  # fmt: skip
    return notes


def check_routing_guarantees(answer: dict | None, *, fault: str = "none") -> Check:
    """Clients write their own record at the primary of a primary/replica store with
    asynchronous replication, then read it back, routed ``"primary"``, ``"any"`` (a random
    replica per read) or ``"sticky"`` (always the same replica). Which of read-your-writes and
    monotonic reads does each routing **break** (in some session)? Answer
    ``{"primary": [...], "any": [...], "sticky": [...]}`` with names of
    :data:`ROUTING_GUARANTEES`. ``fault`` is ``"none"`` or ``"primary-crash"`` (the primary
    crashes mid-run and a replica is promoted). The check runs
    :func:`~distlab.experiments.read_routing.read_routing` (2 seeds without a fault, 8 with
    the crash: a guarantee broken in any of them counts) and
    :func:`distlab.sessions.check_sessions` decides. A first wrong answer gets a hint per
    routing; a second names the guarantees.

    >>> check_routing_guarantees({"primary": [], "any": ["read_your_writes"], "sticky": []})
    ... # doctest: +ELLIPSIS
    ❌ Not yet: any: ...
    """
    from distlab.experiments.read_routing import read_routing

    fault = check_choice("fault", fault, tuple(_ROUTING_SEEDS))
    if answer is None:
        return _unanswered(
            'Answer {"primary": [...], "any": [...], "sticky": [...]}, each list naming the '
            'guarantees that routing breaks ("read_your_writes", "monotonic_reads"; [] for none).'
        )
    if not isinstance(answer, dict) or set(answer) != set(ROUTING_QUESTION):
        return Check(False, f"{answer!r}: answer a dict with the keys 'primary', 'any' and "
                            "'sticky', each a list of guarantee names ([] for none).")  # fmt: skip
    said = {}
    for routing in ROUTING_QUESTION:
        names = _guarantee_set(routing, answer[routing])
        if isinstance(names, str):
            return Check(False, names)
        said[routing] = names
    broken = {routing: set() for routing in ROUTING_QUESTION}
    for seed in _ROUTING_SEEDS[fault]:
        summary = read_routing(list(ROUTING_QUESTION), cycles=20, seed=seed, fault=fault).summary
        for routing in ROUTING_QUESTION:
            for g in ROUTING_GUARANTEES:
                if summary.loc[routing, f"sessions_{g}"] > 0:
                    broken[routing].add(g)
    why = _ROUTING_WHY if fault == "none" else _ROUTING_WHY_CRASH
    label = "(no fault)" if fault == "none" else "(primary crash)"
    where = f"in the runs {label}"
    wrong = [r for r in ROUTING_QUESTION if said[r] != broken[r]]
    if not wrong:
        return Check(True, f"the runs agree {label}. " + " ".join(
            f"{r}: {why[r]}" for r in ROUTING_QUESTION))  # fmt: skip
    note = _miss("routing", fault, "names the guarantees")
    notes = _routing_notes(wrong, said, broken, where, named=note is None)
    return Check(False, " ".join(notes + ([note] if note else [])))


def compare_convergence_guess(guess_s: object, converge_s: float, *, horizon_s: float) -> Check:
    """The learner's guess of the time to converge (seconds, or ``float("inf")`` for never)
    beside a run that watched for ``horizon_s`` seconds and converged after ``converge_s``
    (NaN or infinite: not within the horizon). When the run did not converge, a guess of
    never or of more than the horizon is right; any other number is not. When it did, the
    guess is compared as :func:`compare_prediction` does (within 10 %), and a guess of never
    is not right. ``converge_s`` beyond ``horizon_s`` is refused.

    >>> compare_convergence_guess(float("inf"), float("nan"), horizon_s=20.0)
    ✅ Right: you guessed never; the run shows: not converged within 20 s.
    >>> compare_convergence_guess(5, float("nan"), horizon_s=20.0)
    ❌ Not yet: you guessed 5 s; the run shows: not converged within 20 s.
    >>> compare_convergence_guess("never", 4.2, horizon_s=20.0)
    ❌ Not yet: you guessed never; the run converged after 4.2 s (it watched 20 s).
    """
    horizon_s = check_number("horizon_s", horizon_s, 0.0, min_inclusive=False)
    if isinstance(converge_s, bool) or not isinstance(converge_s, numbers.Real):
        raise TypeError(f"converge_s={converge_s!r}: give the run's time in seconds (NaN: none)")
    if isinstance(guess_s, str) and guess_s.strip().lower() in ("never", "inf", "infinity"):
        guess_s = math.inf
    never = isinstance(guess_s, float) and math.isinf(guess_s) and guess_s > 0
    if math.isfinite(converge_s):
        converge_s = check_number("converge_s", converge_s, 0.0)
        if converge_s > horizon_s:
            raise ValueError(
                f"converge_s={converge_s!r} is beyond horizon_s={horizon_s!r}: a run converges "
                "within the time it watched (NaN: it did not)"
            )
        if never:
            return Check(
                False,
                f"you guessed never; the run converged after {_shown(converge_s)} s "
                f"(it watched {horizon_s:g} s).",
            )
        return compare_prediction(guess_s, converge_s, what="s to converge", share=False)
    shows = f"the run shows: not converged within {horizon_s:g} s"
    if guess_s is None:
        return Check(None, f"no guess written ({shows}); next time, write your guess first.")
    if not never:
        problem = _not_a_number(guess_s, example='float("inf")')
        if problem is not None:
            return problem
    guess_s = float(guess_s)
    said = "never" if math.isinf(guess_s) else f"{_shown(guess_s)} s"
    return Check(guess_s > horizon_s, f"you guessed {said}; {shows}.")


# -- notebook 05: choose a quorum that meets a staleness target ------------------------------

#: The trials per quorum :func:`check_quorum_for_target` runs (all quorums on the same draws).
QUORUM_TARGET_TRIALS = 100_000


def _quorum_pair(answer: object, nodes: int) -> tuple[int, int] | Check:
    """``(R, W)`` from ``answer`` (a pair or ``{"R": .., "W": ..}``), or feedback."""
    if isinstance(answer, dict):
        keys = {str(k).strip().lower(): v for k, v in answer.items()}
        answer = (keys.get("r", keys.get("read_quorum")), keys.get("w", keys.get("write_quorum")))
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return Check(False, f"{answer!r}: answer a pair (R, W), e.g. (2, 2).")
    pair = []
    for name, value in zip("RW", answer):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            return Check(False, f"{name}={value!r}: R and W are whole numbers, e.g. (2, 2).")
        if not 1 <= value <= nodes:
            return Check(False, f"{name}={value}: with N = {nodes}, R and W are 1 to {nodes}.")
        pair.append(int(value))
    return pair[0], pair[1]


def check_quorum_for_target(
    answer: tuple[int, int] | None,
    *,
    model: str = "LNKD-DISK",
    nodes: int = 3,
    t_ms: float = 10.0,
    target: float = 0.999,
) -> Check:
    """Choose ``(R, W)`` for ``nodes`` replicas on the latency preset ``model`` so that at
    least ``target`` of reads started ``t_ms`` after the commit see the write, at the lowest
    write + read latency at the 99.9th percentile. The check runs the WARS Monte Carlo
    (:func:`distlab.pbs.t_visibility_quorums`, :data:`QUORUM_TARGET_TRIALS` trials, seed 0)
    for every ``(R, W)`` and compares.

    >>> check_quorum_for_target((1, 1))  # doctest: +ELLIPSIS
    ❌ Not yet: R=1 W=1: ... of reads are consistent 10 ms after the commit, below 99.9 %...
    """
    import numpy as np

    from distlab import pbs

    model = check_choice("model", model, tuple(pbs.PRESETS))
    nodes = check_int("nodes", nodes, 1, 9)
    t_ms = check_number("t_ms", t_ms, 0.0)
    target = check_probability("target", target)
    if answer is None:
        return _unanswered(
            f"Answer a pair (R, W) for N = {nodes}, e.g. (2, 2); try candidates with "
            "pbs.t_visibility(..., latencies=True) first."
        )
    pair = _quorum_pair(answer, nodes)
    if isinstance(pair, Check):
        return pair
    quorums = [(r, w) for r in range(1, nodes + 1) for w in range(1, nodes + 1)]
    runs = pbs.t_visibility_quorums(
        model, nodes=nodes, quorums=quorums, trials=QUORUM_TARGET_TRIALS, seed=0
    )
    share = {q: vis.consistent_probability(t_ms) for q, vis in runs.items()}
    cost = {
        q: float(np.quantile(v.write_latencies, 0.999) + np.quantile(v.read_latencies, 0.999))
        for q, v in runs.items()
    }
    meets = [q for q in quorums if share[q] >= target]
    best = min(meets, key=lambda q: cost[q])
    r, w = pair
    goal = f"{100 * target:g} %"
    mine = f"R={r} W={w}: {100 * share[pair]:.2f} % of reads are consistent {t_ms:g} ms after"
    mine += " the commit"
    if share[pair] < target:
        return Check(False, f"{mine}, below {goal}. Which delays does a larger R or W "
                            "wait for, and which are short on this model?")  # fmt: skip
    if pair != best:
        return Check(False, f"{mine}, and the write + read p99.9 is {cost[pair]:.1f} ms; "
                            f"another choice meets the target for less. On {model}, which is "
                            "slow: reaching a write quorum or a read quorum?")  # fmt: skip
    return Check(True, f"{mine}, at {cost[pair]:.1f} ms for write + read at p99.9, the "
                       f"cheapest that meets {goal}. A larger read quorum is cheap where "
                       "reads are fast and writes slow: it finds the write on more replicas "
                       "without waiting for the write's slow tail.")  # fmt: skip
