"""Running time of the linearizability checker (``distlab.check_linearizable``) on every fixture.

The fixtures are the 108 histories of ``../shared/data/histories`` (beside the checkout; the
environment variable ``DISTLAB_HISTORIES`` may point elsewhere): 102 Jepsen etcd logs checked as a
``cas-register`` and 6 key-value logs checked as ``kv``. Each is parsed once (parsing is not timed),
then checked once, in this process, without a time limit; its verdict is compared with
``expected.txt``.

Figures: ``total_s`` (sum of the checks), ``slowest`` and ``slowest_s`` (the slowest fixture),
``times`` (fixture -> seconds), ``wrong`` (fixtures whose verdict differs from the expected one).

    python bench/bench_linearizability.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from distlab.history import History
from distlab.linearizability import check_linearizable

REPO = Path(__file__).resolve().parents[1]


def histories_dir() -> Path:
    """Where the fixtures are: $DISTLAB_HISTORIES, else ../shared/data/histories beside the
    checkout."""
    env = os.environ.get("DISTLAB_HISTORIES")
    return Path(env) if env else REPO.parent / "shared" / "data" / "histories"


def load(folder: Path | None = None) -> list[tuple[str, History, str, str]]:
    """(file name, history, model, expected verdict) for every line of expected.txt."""
    folder = folder or histories_dir()
    out = []
    for line in (folder / "expected.txt").read_text().split("\n"):
        if not line.strip():
            continue
        name, expected = line.split()
        if name.startswith("etcd"):
            out.append(
                (name, History.from_jepsen_log(folder / "etcd" / name), "cas-register", expected)
            )
        else:
            out.append((name, History.from_edn(folder / "kv" / name), "kv", expected))
    return out


def measure(folder: Path | None = None) -> dict[str, Any]:
    fixtures = load(folder)
    times: dict[str, float] = {}
    wrong: dict[str, str] = {}
    for name, history, model, expected in fixtures:
        t = time.perf_counter()
        verdict = check_linearizable(history, model=model).verdict
        times[name] = time.perf_counter() - t
        if verdict != expected:
            wrong[name] = f"{verdict} (expected {expected})"
    slowest = max(times, key=times.__getitem__)
    return {
        "fixtures": len(times),
        "total_s": sum(times.values()),
        "slowest": slowest,
        "slowest_s": times[slowest],
        "times": times,
        "wrong": wrong,
    }


if __name__ == "__main__":
    fig = measure()
    ranked = sorted(fig["times"].items(), key=lambda kv: -kv[1])
    print(
        f"{fig['fixtures']} fixtures in {fig['total_s']:.2f} s; "
        f"slowest {fig['slowest']} {fig['slowest_s']:.2f} s"
    )
    for name, s in ranked[:10]:
        print(f"  {name:16} {s:8.3f} s")
    print("wrong verdicts:", fig["wrong"] or "none")
