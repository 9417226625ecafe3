"""How long each notebook takes to execute top to bottom, in a fresh ``python3`` kernel.

The notebooks folder is copied to a temporary folder and each notebook runs there with nbclient
(kernel ``python3``, working directory the copy of ``notebooks/``, so relative paths inside the
folder work), so the committed notebooks are never touched. ``wall_s`` is the whole run as a learner
would see it with "Restart and Run All": kernel start plus every cell; ``cells_s`` is the cells alone.

    python bench/bench_notebooks.py            # prints one line per notebook

Budget (DESIGN.md): each notebook under 20 s.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

BUDGET_S = 20.0
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(path: Path, timeout_s: int = 600) -> dict[str, Any]:
    """Execute the notebook at ``path`` (in its folder); return its timings, never write it back."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    first_cell: list[float] = []
    client = NotebookClient(
        nb,
        timeout=timeout_s,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        on_cell_start=lambda cell, cell_index: first_cell or first_cell.append(time.perf_counter()),
    )
    started = time.perf_counter()
    error = None
    try:
        # The kernel's own stderr (ipykernel start-up warnings) would interleave with the table.
        client.execute(stderr=subprocess.DEVNULL)
    except CellExecutionError as exc:
        # The first line of nbclient's message is the failing cell; the last lines name the error.
        lines = [ln for ln in _ANSI.sub("", str(exc)).splitlines() if ln.strip()]
        error = lines[-1] if lines else "CellExecutionError"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    ended = time.perf_counter()
    return {
        "wall_s": ended - started,
        "cells_s": ended - first_cell[0] if first_cell else None,
        "code_cells": sum(c.cell_type == "code" for c in nb.cells),
        "error": error,
    }


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
    for name, fig in measure().items():
        status = f"ERROR {fig['error']}" if fig["error"] else ""
        print(f"{name:34} {fig['wall_s']:6.1f} s  {status}")
