"""How long each notebook takes to execute top to bottom, in a fresh ``python3`` kernel.

The notebooks folder is copied to a temporary folder and each notebook runs there with nbclient
(kernel ``python3``, working directory the copy of ``notebooks/``, so relative paths inside the
folder work), so the committed notebooks are never touched. ``wall_s`` is the whole run as a
learner would see it with "Restart and Run All": kernel start plus every cell; ``cells_s`` is the
cells alone.

    python bench/bench_notebooks.py            # prints one line per notebook

Budget (DESIGN.md): each notebook under 20 s. Runs go through ``tools/execute_notebooks.py``: the
same per-cell timeout (minutes, not nbclient's) and one retry when the kernel channel failed, as
``make notebooks``; a notebook that times out or raises is reported as failed, with its cell, and
makes the exit code 1, never as a long execution.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BUDGET_S = 20.0
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "notebooks"
_TOOLS = Path(__file__).resolve().parents[1] / "tools"


def _runner() -> Any:
    """``tools/execute_notebooks.py``: the same timeouts and retry as ``make notebooks``."""
    if str(_TOOLS) not in sys.path:
        sys.path.insert(0, str(_TOOLS))
    import execute_notebooks

    return execute_notebooks


def run_notebook(path: Path, **options: Any) -> dict[str, Any]:
    """Execute the notebook at ``path`` (in its folder); return its timings, never write it back.

    Each cell has the runner's per-cell timeout; a timed-out or failing notebook has ``error``
    set (naming the cell) and no timings, and a kernel-channel failure is run once more
    (``runs`` counts the runs).
    """
    runner = _runner()
    first_cell: list[float] = []
    started = time.perf_counter()
    result: dict[str, Any] = {"wall_s": None, "cells_s": None, "code_cells": None, "runs": 0}
    result["error"] = None

    def on_start(cell: Any, cell_index: int) -> None:
        first_cell.append(time.perf_counter())

    def note_retry(message: str) -> None:
        nonlocal started
        result["retried"] = message
        started = time.perf_counter()  # the timed run is the one that completed
        first_cell.clear()

    try:
        nb, _elapsed, runs = runner.run(
            path,
            log=note_retry,
            on_cell_start=on_start,
            # The kernel's own stderr (ipykernel start-up warnings) would interleave with the table.
            kernel_options={"stderr": subprocess.DEVNULL},
            label=path.name,
            **options,
        )
    except runner.NotebookFailed as exc:
        result["error"] = str(exc)
        result["runs"] = 1 + ("retried" in result)
        return result
    ended = time.perf_counter()
    result.update(
        wall_s=ended - started,
        cells_s=ended - first_cell[0] if first_cell else None,
        code_cells=sum(c.cell_type == "code" for c in nb.cells),
        runs=runs,
    )
    return result


def measure(
    notebooks_dir: Path | None = None, only: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """``{notebook file name: figures}`` for every ``*.ipynb`` in ``notebooks_dir``, in name order.

    >>> figures = measure()  # doctest: +SKIP
    """
    source = Path(notebooks_dir or DEFAULT_DIR)
    names = sorted(p.name for p in source.glob("*.ipynb"))
    if only:
        names = [n for n in names if n in only or Path(n).stem in only]
    results: dict[str, dict[str, Any]] = {}
    if not names:
        return results
    with tempfile.TemporaryDirectory(prefix="distlab-bench-nb-") as tmp:
        copy = Path(tmp) / "notebooks"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for name in names:
            results[name] = run_notebook(copy / name)
    return results


if __name__ == "__main__":
    failed = 0
    for name, fig in measure().items():
        if fig["error"]:
            failed += 1
            print(f"{name:34}  FAILED {fig['error']}")
        else:
            print(f"{name:34} {fig['wall_s']:6.1f} s")
    sys.exit(1 if failed else 0)
