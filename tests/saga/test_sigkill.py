"""A real orchestrator process, killed with SIGKILL between two log writes (or inside a step),
and a new process that recovers from the SQLite file: the saga ends as an uninterrupted run
would, every effect taken once, every compensation run once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from saga_child import OWNER, Participant, make_saga

from distlab.saga import SagaOrchestrator, SagaRun, SQLiteLog
from distlab.saga import records as rec

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("saga_child.py")
EXPECTED = {
    "completes": ["job/T1", "job/T2", "job/T3", "job/T4"],
    "compensates": ["job/T1", "job/T2", "undo:job/T2", "undo:job/T1"],  # T3 refused: no effect
}
# every write of the saga that compensates (but its last, which ends it); a few of the other
KILL_POINTS = {"completes": [0, 3, 5, 6], "compensates": list(range(11))}


def _child(tmp_path, mode, kill_at, **kwargs):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(CHILD.parent)])}
    args = [sys.executable, str(CHILD), str(tmp_path / "log.db"), str(tmp_path / "p.db")]
    return subprocess.Popen(
        [*args, mode, str(kill_at)], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, **kwargs
    )


def _recover(tmp_path, mode, *, owner=OWNER, clock=None):
    participant = Participant(str(tmp_path / "p.db"))
    saga = make_saga(participant, mode)
    orchestrator = SagaOrchestrator(
        SQLiteLog(tmp_path / "log.db"), [saga], owner=owner, clock=clock
    )
    return orchestrator.recover(), participant.effects()


@pytest.mark.parametrize("mode", ["completes", "compensates"])
def test_sigkill_after_every_log_write_then_recover(tmp_path, mode):
    for kill_at in KILL_POINTS[mode]:
        where = tmp_path / f"{mode}-{kill_at}"
        where.mkdir()
        child = _child(where, mode, kill_at)
        child.communicate(timeout=60)
        assert child.returncode == -signal.SIGKILL, f"kill_at={kill_at}"
        results, effects = _recover(where, mode)
        assert [r.status for r in results] == [
            rec.COMPLETED if mode == "completes" else rec.COMPENSATED
        ], f"kill_at={kill_at}"
        assert effects == EXPECTED[mode], f"kill_at={kill_at}"


def test_sigkill_inside_a_step_then_another_node_recovers(tmp_path):
    """The parent kills the child while T2's action has taken effect but not returned; another
    orchestrator (a different owner) takes over once the dead one's lease has expired."""
    child = _child(tmp_path, "compensates", -1)
    assert child.stdout.readline().strip() == "ready"
    os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    results, effects = _recover(tmp_path, "compensates", owner="node-2")
    assert results == []  # node-1's lease (30 s) still runs
    later = lambda: time.time() + 60.0
    results, effects = _recover(tmp_path, "compensates", owner="node-2", clock=later)
    assert [r.status for r in results] == [rec.COMPENSATED]
    assert effects == EXPECTED["compensates"]
    records = SQLiteLog(tmp_path / "log.db").read("job")
    t2 = [(r.kind, r.attempt) for r in records if r.step == "T2" and r.kind.startswith("action")]
    # the attempt cut by the kill is run again as itself (same attempt, same key): one effect
    assert t2 == [(rec.ACTION_STARTED, 1), (rec.ACTION_ENDED, 1)]


def test_two_processes_recovering_one_file_never_run_a_saga_twice(tmp_path):
    """300 sagas left unfinished by a dead orchestrator; two processes recover the same file at
    once. Each saga is claimed by one of them (BEGIN IMMEDIATE on its lease row) and every
    action is called exactly once."""
    participant = Participant(str(tmp_path / "p.db"))
    saga = make_saga(participant, "completes")
    log = SQLiteLog(tmp_path / "log.db")
    sagas = 300
    for i in range(sagas):
        run = SagaRun.start(saga, f"job{i}", now=0.0)
        run.next(0.0)  # T1 started, never ran
        log.append(run.drain(), owner="dead", now=0.0, lease=1.0)
    children = [_child(tmp_path, "recover", 0, stdin=subprocess.PIPE) for _ in range(2)]
    assert [child.stdout.readline().strip() for child in children] == ["ready", "ready"]
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    finished = [int(child.communicate(timeout=120)[0]) for child in children]
    assert [child.returncode for child in children] == [0, 0]
    assert sum(finished) == sagas, finished
    assert min(finished) > 0, f"one process did everything: {finished}"
    assert log.unfinished() == []
    assert {log.status(f"job{i}") for i in range(sagas)} == {"completed"}
    calls = Counter(key for key, _ in participant.calls())
    assert len(calls) == 4 * sagas and set(calls.values()) == {1}
