"""Per-call overhead of ``distlab.breaker.CircuitBreaker`` on the closed path, against pybreaker
and circuitbreaker, on calls that succeed.

All three decorate the same trivial function (``x + 1``) with their defaults, apart from the
opening threshold and the wait, which are the course's (5 failures, 60 s) for the two baselines::

    @distlab.breaker.CircuitBreaker()          # failure rate >= 50 % over the last 100 calls
    @pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    @circuitbreaker.circuit(failure_threshold=5, recovery_timeout=60)

Every call succeeds, so the breakers stay CLOSED: what is measured is the price of the wrapper on
the path that production code takes almost always. distlab does more on that path than either
baseline: it times every call (two clock readings, for the slow-call rate), records it in a
sliding window, and is thread-safe without holding its lock during the call (pybreaker holds its
lock around the call; circuitbreaker takes no lock at all). Also reported, not judged: the
``breaker.call(fn, x)`` form of distlab and pybreaker, and distlab with a time window.

The contenders are timed in the same process, interleaved (each repeat times all of them, in a
rotating order, ``calls`` calls each, with the garbage collector off as ``timeit`` does); the
figures are medians over ``repeats`` repeats. Overhead = time per call minus the bare function's.

    python bench/bench_breaker.py              # prints the figures

The goal (issue 4) is distlab's overhead at most half of pybreaker's: ratio <= 0.5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from interleaved import interleaved_medians

from distlab.breaker import CircuitBreaker

MAX_RATIO = 0.5


def work(x: int) -> int:
    return x + 1


def _contenders() -> dict[str, Callable[[int], int]]:
    import circuitbreaker
    import pybreaker

    distlab_breaker = CircuitBreaker(name="bench")
    distlab_call_breaker = CircuitBreaker(name="bench-call")
    py_breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    py_call_breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    return {
        "bare": work,
        "distlab": distlab_breaker(work),
        "pybreaker": py_breaker(work),
        "circuitbreaker": circuitbreaker.circuit(failure_threshold=5, recovery_timeout=60)(work),
        # reported only
        "distlab .call": lambda x: distlab_call_breaker.call(work, x),
        "pybreaker .call": lambda x: py_call_breaker.call(work, x),
        "distlab time window": CircuitBreaker(window_type="time", window_size=60)(work),
        "bare lambda": lambda x: work(x),  # the baseline of the two `.call` lambdas
    }


def measure(calls: int = 20_000, repeats: int = 15) -> dict[str, Any]:
    """Median microseconds per call of each contender, and the overheads.

    Returns ``bare_us``, ``<name>_us`` and ``<name>_overhead_us`` for ``distlab``, ``pybreaker``,
    ``circuitbreaker``, ``distlab_call``, ``pybreaker_call`` (the ``.call`` forms, measured
    against a lambda calling the bare function) and ``distlab_time`` (a time window), then
    ``ratio`` (distlab / pybreaker overhead: the goal), ``ratio_circuitbreaker`` (distlab /
    circuitbreaker, reported), ``calls`` and ``repeats``.
    """
    contenders = _contenders()
    for fn in contenders.values():  # warm up, and check they agree
        assert [fn(i) for i in range(200)] == list(range(1, 201))
    med = {
        name: seconds * 1e6
        for name, seconds in interleaved_medians(contenders, calls, repeats).items()
    }
    keys = {
        "distlab": "distlab",
        "pybreaker": "pybreaker",
        "circuitbreaker": "circuitbreaker",
        "distlab .call": "distlab_call",
        "pybreaker .call": "pybreaker_call",
        "distlab time window": "distlab_time",
    }
    fig: dict[str, Any] = {"bare_us": med["bare"], "bare_lambda_us": med["bare lambda"]}
    for name, key in keys.items():
        base = med["bare lambda"] if name.endswith(".call") else med["bare"]
        fig[f"{key}_us"] = med[name]
        fig[f"{key}_overhead_us"] = med[name] - base
    fig["ratio"] = fig["distlab_overhead_us"] / fig["pybreaker_overhead_us"]
    fig["ratio_circuitbreaker"] = fig["distlab_overhead_us"] / fig["circuitbreaker_overhead_us"]
    fig["ratio_call"] = fig["distlab_call_overhead_us"] / fig["pybreaker_call_overhead_us"]
    fig["calls"] = calls
    fig["repeats"] = repeats
    return fig


def main() -> None:
    fig = measure()
    ok = fig["ratio"] <= MAX_RATIO
    print(f"bare function                  {fig['bare_us']:8.3f} µs per call")
    print(f"distlab overhead               {fig['distlab_overhead_us']:8.3f} µs per call")
    print(f"pybreaker overhead             {fig['pybreaker_overhead_us']:8.3f} µs per call")
    print(f"circuitbreaker overhead        {fig['circuitbreaker_overhead_us']:8.3f} µs per call")
    print(
        f"ratio distlab/pybreaker        {fig['ratio']:8.3f}   (goal <= {MAX_RATIO})  "
        f"{'PASS' if ok else 'OVER'}"
    )
    print(f"ratio distlab/circuitbreaker   {fig['ratio_circuitbreaker']:8.3f}   (reported)")
    print(
        f"distlab .call overhead         {fig['distlab_call_overhead_us']:8.3f} µs per call"
        f"   (pybreaker .call {fig['pybreaker_call_overhead_us']:.3f})"
    )
    print(f"distlab time window overhead   {fig['distlab_time_overhead_us']:8.3f} µs per call")


if __name__ == "__main__":
    main()
