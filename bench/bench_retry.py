"""Per-call overhead of ``distlab.retry.RetryPolicy`` against tenacity, on calls that succeed.

Both decorate the same trivial function (``x + 1``) with the same intent: 3 attempts in all,
exponential backoff from 0.1 s capped at 1 s::

    @RetryPolicy(max_attempts=3, backoff=ExponentialBackoff(base=0.1, cap=1.0))
    @tenacity.retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.1, max=1.0))

Every call succeeds at once, so what is measured is the price of the wrapper on the path that
production code takes almost always. The bare function, the distlab-decorated one and the
tenacity-decorated one are timed in the same process, interleaved (each repeat times all three,
in a rotating order, ``calls`` calls each, with the garbage collector off as ``timeit`` does), and
the figures are medians over ``repeats`` repeats. Overhead = decorated time per call minus the
bare function's time per call.

    python bench/bench_retry.py              # prints the figures

The goal (issue 3) is distlab's overhead at most a fifth of tenacity's: ratio <= 0.2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from interleaved import interleaved_medians

from distlab.retry import ExponentialBackoff, RetryPolicy

MAX_RATIO = 0.2


def work(x: int) -> int:
    return x + 1


def _contenders() -> dict[str, Callable[[int], int]]:
    from tenacity import retry, stop_after_attempt, wait_exponential

    return {
        "bare": work,
        "distlab": RetryPolicy(max_attempts=3, backoff=ExponentialBackoff(base=0.1, cap=1.0))(work),
        "tenacity": retry(
            stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.1, max=1.0)
        )(work),
    }


def measure(calls: int = 20_000, repeats: int = 15) -> dict[str, Any]:
    """Median seconds per call of each contender and the overheads, in microseconds.

    Returns ``bare_us``, ``distlab_us``, ``tenacity_us`` (per call, medians),
    ``distlab_overhead_us``, ``tenacity_overhead_us``, ``ratio`` (distlab / tenacity overhead),
    ``calls``, ``repeats``.
    """
    contenders = _contenders()
    for fn in contenders.values():  # warm up, and check they agree
        assert [fn(i) for i in range(100)] == list(range(1, 101))
    med = interleaved_medians(contenders, calls, repeats)
    distlab_over = med["distlab"] - med["bare"]
    tenacity_over = med["tenacity"] - med["bare"]
    return {
        "bare_us": med["bare"] * 1e6,
        "distlab_us": med["distlab"] * 1e6,
        "tenacity_us": med["tenacity"] * 1e6,
        "distlab_overhead_us": distlab_over * 1e6,
        "tenacity_overhead_us": tenacity_over * 1e6,
        "ratio": distlab_over / tenacity_over,
        "calls": calls,
        "repeats": repeats,
    }


def main() -> None:
    fig = measure()
    ok = fig["ratio"] <= MAX_RATIO
    print(f"bare function       {fig['bare_us']:8.3f} µs per call")
    print(f"distlab overhead    {fig['distlab_overhead_us']:8.3f} µs per call")
    print(f"tenacity overhead   {fig['tenacity_overhead_us']:8.3f} µs per call")
    verdict = "PASS" if ok else "OVER"
    print(f"ratio               {fig['ratio']:8.3f}   (goal <= {MAX_RATIO})  {verdict}")


if __name__ == "__main__":
    main()
