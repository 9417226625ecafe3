"""Execute notebooks top to bottom, with a per-cell timeout and one retry for a broken kernel.

``make notebooks`` re-executes every notebook in place, deterministically: each runs in a fresh
``python3`` kernel with ``notebooks/`` as its working directory; cell timing metadata and widget
state are not stored, and an explorer's output keeps only its static picture (the live widget
needs a kernel, and its model id is random), so re-running on an unchanged package leaves the
files byte-for-byte the same. ``bench/bench_notebooks.py`` times the same runs without writing.

    python tools/execute_notebooks.py notebooks/00_start_here.ipynb notebooks/01_challenges.ipynb

Failures are reported, never waited out: every code cell has :data:`CELL_TIMEOUT_S` (a notebook
may set its own in its metadata, ``{"distlab": {"cell_timeout_s": 60}}``). A cell that is still
running when its time is up fails the notebook. When the cause is the kernel channel, not the
cell (the kernel died, or it is idle and answers a ``kernel_info`` request but the reply to the
cell never came), the notebook is run once more from the start in a new kernel. Any failure
prints one line naming the notebook and the cell and makes the exit code 1.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Seconds a code cell may run: six times the whole notebook's budget (DESIGN.md: 20 s), so only
#: a hung cell or kernel reaches it.
CELL_TIMEOUT_S = 120
#: Seconds a kernel has to answer ``kernel_info`` after a cell timed out: an idle kernel answers
#: at once; a kernel still running the cell cannot.
PROBE_TIMEOUT_S = 10
#: Runs of one notebook at most: the first, and one retry when the kernel channel failed.
ATTEMPTS = 2


class NotebookFailed(Exception):
    """A notebook did not execute; the message names the notebook and the cell."""


class CellTimedOut(NotebookFailed):
    """A cell was still running when its time was up: the cell's fault, not retried."""


class KernelChannelError(NotebookFailed):
    """The kernel died or did not reply although idle: retried once in a new kernel."""


def cell_timeout_s(nb: Any) -> int:
    """The per-cell timeout of notebook ``nb``: its ``distlab.cell_timeout_s`` metadata, else
    :data:`CELL_TIMEOUT_S`.

    >>> cell_timeout_s(nbformat.v4.new_notebook(metadata={"distlab": {"cell_timeout_s": 30}}))
    30
    """
    value = nb.metadata.get("distlab", {}).get("cell_timeout_s", CELL_TIMEOUT_S)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3600:
        raise ValueError(f"cell_timeout_s={value!r} in the notebook metadata must be 1 to 3600 s")
    return value


def describe_cell(cell: Any, index: int) -> str:
    """``cell 7 (`first line of its source`)``, for messages.

    >>> describe_cell(nbformat.v4.new_code_cell("x = 1\\nprint(x)"), 7)
    'cell 7 (`x = 1`)'
    """
    lines = [ln for ln in str(cell.get("source", "")).splitlines() if ln.strip()]
    first = lines[0].strip() if lines else ""
    return f"cell {index} (`{first[:60]}{'...' if len(first) > 60 else ''}`)"


async def kernel_answers(kc: Any, wait_s: float) -> bool:
    """Whether the kernel behind client ``kc`` is alive and answers ``kernel_info`` within
    ``wait_s`` seconds (idle and reachable)."""
    if not await ensure_async(kc.is_alive()):
        return False
    msg_id = await ensure_async(kc.kernel_info())
    deadline = time.monotonic() + wait_s
    while True:
        try:
            remaining = max(0.0, deadline - time.monotonic())
            msg = await ensure_async(kc.shell_channel.get_msg(timeout=remaining))
        except Empty:
            return False
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return True


class CheckedClient(NotebookClient):
    """An nbclient ``NotebookClient`` whose cell failures say whose fault they are:
    :class:`CellTimedOut` (the kernel still runs the cell), :class:`KernelChannelError` (the
    kernel died, or is idle and the reply was lost) or nbclient's ``CellExecutionError``."""

    probe_timeout_s: float = PROBE_TIMEOUT_S
    notebook_name: str = "notebook"

    async def async_execute_cell(self, cell: Any, cell_index: int, *args: Any, **kwargs: Any):
        where = f"{self.notebook_name}: {describe_cell(cell, cell_index)}"
        try:
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        except DeadKernelError as exc:
            raise KernelChannelError(f"{where}: the kernel died while running it") from exc
        except CellTimeoutError as exc:
            timeout = self._get_timeout(cell)
            if await kernel_answers(self.kc, self.probe_timeout_s):
                raise KernelChannelError(
                    f"{where}: no reply within {timeout} s, although the kernel is idle"
                ) from exc
            raise CellTimedOut(
                f"{where}: timed out after {timeout} s (the kernel was still running it)"
            ) from exc


def run_once(
    path: Path,
    *,
    timeout_s: int | None = None,
    client_factory: Callable[..., Any] = CheckedClient,
    kernel_options: dict[str, Any] | None = None,
    label: str | None = None,
    **client_options: Any,
) -> tuple[Any, float]:
    """Execute the notebook at ``path`` (read afresh) in a new kernel; return it and the seconds
    it took. Raises :class:`NotebookFailed` (or a subclass) on any failure.

    ``timeout_s`` overrides the per-cell timeout; ``kernel_options`` go to the kernel's start
    (e.g. ``{"stderr": subprocess.DEVNULL}``); ``label`` names the notebook in messages (default:
    its path); other options go to the client.
    """
    label = label or str(path)
    nb = nbformat.read(path, as_version=4)
    client = client_factory(
        nb,
        timeout=timeout_s or cell_timeout_s(nb),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        **client_options,
    )
    client.notebook_name = label
    started = time.perf_counter()
    try:
        client.execute(**(kernel_options or {}))
    except CellExecutionError as exc:
        last = [ln for ln in str(exc).splitlines() if ln.strip()][-1:] or ["CellExecutionError"]
        raise NotebookFailed(f"{label}: a cell raised {last[0]}") from exc
    except NotebookFailed:
        raise
    except Exception as exc:  # kernel start-up and the like: the channel, not a cell
        raise KernelChannelError(f"{label}: {type(exc).__name__}: {exc}") from exc
    return nb, time.perf_counter() - started


def run(
    path: Path,
    *,
    attempts: int = ATTEMPTS,
    log: Callable[[str], Any] = print,
    **options: Any,
) -> tuple[Any, float, int]:
    """:func:`run_once`, run again (up to ``attempts`` runs in all) while the kernel channel is
    the cause. Returns the notebook, the seconds its successful run took and the runs made."""
    for attempt in range(1, attempts + 1):
        try:
            nb, elapsed = run_once(path, **options)
            return nb, elapsed, attempt
        except KernelChannelError as exc:
            if attempt == attempts:
                raise
            log(f"{exc}; running {options.get('label') or path} again in a new kernel")
    raise AssertionError("unreachable")  # pragma: no cover


def execute(path: Path, **options: Any) -> float:
    """Execute the notebook at ``path`` in place; return the wall time its run took, in seconds.

    Cell timing metadata and widget state are not stored (see the module docstring).
    """
    # nbclient's output-widget hook needs the state while running (it fails without it); the
    # state is dropped below, since model ids are random and a static view has no kernel.
    nb, elapsed, _runs = run(path, store_widget_state=True, **options)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
        if "outputs" in cell:
            cell.outputs = coalesce_streams(cell.outputs)
    nbformat.write(nb, path)
    return elapsed


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive outputs of one stream (stdout, stderr) into one.

    How a kernel's prints are cut into messages depends on timing; merged, a re-run on an
    unchanged package gives the same file.

    >>> from nbformat.v4 import new_output
    >>> outs = [new_output("stream", name="stdout", text="a\n"),
    ...         new_output("stream", name="stdout", text="b\n")]
    >>> [o.text for o in coalesce_streams(outs)]
    ['a\nb\n']
    """
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and last is not None
            and last.get("output_type") == "stream"
            and last.get("name") == output.get("name")
        ):
            last["text"] = last["text"] + output["text"]
        else:
            merged.append(output)
    return merged


def main(argv: list[str], *, execute_one: Callable[[Path], float] = execute) -> int:
    if not argv:
        print("usage: execute_notebooks.py NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    failed = []
    for name in argv:
        try:
            elapsed = execute_one(Path(name))
        except NotebookFailed as exc:
            print(f"FAILED {exc}", file=sys.stderr)
            failed.append(name)
            continue
        print(f"executed {name} in {elapsed:.1f} s")
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
