"""Running time of the linearizability checker (``distlab.check_linearizable``) on every fixture.

The fixtures are the 108 histories of ``../shared/data/histories`` (beside the checkout; the
environment variable ``DISTLAB_HISTORIES`` may point elsewhere): 102 Jepsen etcd logs checked as a
``cas-register`` and 6 key-value logs checked as ``kv``. Each is parsed once (parsing is not timed),
then checked once, in this process, without a time limit; its verdict is compared with
``expected.txt``.

Figures: ``total_s`` (sum of the checks), ``slowest`` and ``slowest_s`` (the slowest fixture),
``times`` (fixture -> seconds), ``wrong`` (fixtures whose verdict differs from the expected one).

Beside it, Porcupine (Go; DESIGN.md asks the checker to beat it on these histories): where a Go
toolchain is on PATH and ``PORCUPINE_DIR`` points to a checkout of
github.com/anishathalye/porcupine, its own tests of the same 108 histories run once, one at a time
(``go test -parallel 1``), and ``porcupine`` gives their time and the ratio ours / Porcupine's.
Porcupine's tests parse each log inside the timed test, so its time includes parsing (ours does
not): the ratio flatters Porcupine slightly. Elsewhere ``porcupine`` says why it was skipped.

    python bench/bench_linearizability.py
    PORCUPINE_DIR=~/src/porcupine python bench/bench_linearizability.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


#: Porcupine's tests of the 102 etcd logs and the 6 kv logs (porcupine_test.go).
PORCUPINE_TESTS = r"^(TestEtcdJepsen[0-9]{3}|TestKv(1Client|10Clients|50Clients)(Ok|Bad))$"


def porcupine() -> dict[str, Any]:
    """Porcupine's time on the same histories, or ``{"skipped": why}``."""
    go = shutil.which("go")
    checkout = os.environ.get("PORCUPINE_DIR")
    if go is None:
        return {"skipped": "no Go toolchain (`go` is not on PATH)"}
    if not checkout or not (Path(checkout).expanduser() / "porcupine_test.go").is_file():
        return {
            "skipped": "set PORCUPINE_DIR to a checkout of github.com/anishathalye/porcupine "
            f"(now {checkout!r})"
        }
    cmd = [go, "test", "-run", PORCUPINE_TESTS, "-count=1", "-parallel=1", "-json", "."]
    proc = subprocess.run(
        cmd, cwd=Path(checkout).expanduser(), capture_output=True, text=True, timeout=900
    )
    tests: dict[str, tuple[str, float]] = {}
    package_s = None
    for line in proc.stdout.splitlines():
        event = json.loads(line) if line.startswith("{") else {}
        if event.get("Action") in ("pass", "fail"):
            if event.get("Test"):
                tests[event["Test"]] = (event["Action"], float(event.get("Elapsed", 0.0)))
            else:
                package_s = float(event.get("Elapsed", 0.0))
    if not tests:
        return {"skipped": f"`go test` ran no Porcupine test: {proc.stderr.strip()[-300:]}"}
    return {
        "tests": len(tests),
        "total_s": package_s if package_s is not None else sum(e for _, e in tests.values()),
        "failed": sorted(t for t, (action, _) in tests.items() if action != "pass"),
    }


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
        "porcupine": porcupine(),
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
    go = fig["porcupine"]
    if "skipped" in go:
        print("Porcupine: skipped:", go["skipped"])
    else:
        print(
            f"Porcupine: {go['tests']} tests in {go['total_s']:.2f} s (parsing included); "
            f"ratio distlab / Porcupine = {fig['total_s'] / go['total_s']:.2f}"
            + (f"; FAILED {go['failed']}" if go["failed"] else "")
        )
