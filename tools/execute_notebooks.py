"""Re-execute notebooks in place, deterministically (used by ``make notebooks``).

Each notebook runs top to bottom in a fresh ``python3`` kernel with ``notebooks/`` as its working
directory. Cell timing metadata and widget state are not stored, and an explorer's output keeps
only its static picture (the live widget needs a kernel, and its model id is random), so
re-running on an unchanged package leaves the files byte-for-byte the same.

    python tools/execute_notebooks.py notebooks/00_start_here.ipynb notebooks/01_challenges.ipynb
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def execute(path: Path, timeout_s: int = 300) -> float:
    """Execute the notebook at ``path`` in place; return the wall time it took, in seconds."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    client = NotebookClient(
        nb,
        timeout=timeout_s,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        # nbclient's output-widget hook needs the state while running (it fails without it);
        # the state is dropped below, since model ids are random and a static view has no kernel.
        store_widget_state=True,
    )
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: execute_notebooks.py NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    for name in argv:
        elapsed = execute(Path(name))
        print(f"executed {name} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
