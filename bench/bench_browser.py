"""What a person feels when moving an explorer's slider: key press to new plot, in JupyterLab.

JupyterLab is started on a temporary notebook holding one cell per registered explorer
(``all_explorers()[name]()``: every explorer at its default settings) and driven in Chromium
through Playwright (``tools/lab_session.py``: the same server, browser and page helpers as the
browser test). For each explorer its slider (the first numeric slider, ``seed`` last, as in
``bench_explorers.py``) is focused and moved one step by an arrow key, ``moves`` times: away from
the default (at most ``_SPAN`` steps, or until the slider's end) and back, like a person trying a
few values. Each move is timed in the page with ``performance.now()``: from the ``keydown`` event
to the moment a ``MutationObserver`` sees the explorer's plot ``<img>`` with a new ``src``; the next
move starts once the kernel is idle again. A move to a value the explorer has not shown before is
"new"; one back to a value already shown is "seen" (an explorer may answer those from a cache), so
both are reported.

    python bench/bench_browser.py                 # one line per explorer
    python bench/bench_browser.py --explorer network --moves 8

Budget (DESIGN.md): median at most 150 ms, 90th percentile at most 250 ms, for every explorer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for _p in (str(REPO / "tools"), str(BENCH), str(REPO)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

BUDGET_MEDIAN_S = 0.150
BUDGET_P90_S = 0.250
MOVES = 8
_SPAN = 4  # steps away from the default before coming back
MOVE_TIMEOUT_S = 30.0
PAUSE_S = 0.3  # between moves, after the kernel is idle: a person's pace, and lets the page settle

# Tags the explorer of code cell `index` (its outermost widget box and its first slider handle)
# and installs a MutationObserver that records performance.now() whenever its plot <img> src
# changes; a keydown listener on the handle records when the key was pressed. A value is read from
# aria-valuetext: noUiSlider writes aria-valuenow with one decimal (0.1 and 0.15 both read "0.1").
_JS_ARM = """
(index) => {
  for (const el of document.querySelectorAll('[data-distlab-bench]')) {
    el.removeAttribute('data-distlab-bench');
  }
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
  const cell = cells[index];
  if (!cell) return {error: `no code cell ${index}`};
  const out = cell.querySelector('.jp-OutputArea');
  const plotImg = () => out.querySelector('.widget-output img, img.widget-image');
  const handle = [...out.querySelectorAll('.widget-slider .noUi-handle')]
      .find(e => !e.closest('.widget-output'));
  if (!handle || !plotImg()) return {error: 'no slider or no plot image yet'};
  handle.setAttribute('data-distlab-bench', 'control');
  if (window.__distlabBench && window.__distlabBench.observer) {
    window.__distlabBench.observer.disconnect();
  }
  const bench = {keyAt: null, changedAt: null, src: plotImg().getAttribute('src')};
  bench.observer = new MutationObserver(() => {
    const img = plotImg();
    const src = img && img.getAttribute('src');
    if (src && src !== bench.src) {
      bench.src = src;
      if (bench.changedAt === null) bench.changedAt = performance.now();
    }
  });
  bench.observer.observe(out, {subtree: true, childList: true, attributes: true,
                               attributeFilter: ['src']});
  handle.addEventListener('keydown', () => {
    bench.keyAt = performance.now(); bench.changedAt = null;
  }, {capture: true});
  window.__distlabBench = bench;
  return {value: handle.getAttribute('aria-valuetext')};
}
"""

_JS_READ = """
() => {
  const b = window.__distlabBench;
  const h = document.querySelector('[data-distlab-bench="control"]');
  return {keyAt: b.keyAt, changedAt: b.changedAt, value: h && h.getAttribute('aria-valuetext')};
}
"""

_JS_RESET = "() => { window.__distlabBench.keyAt = null; window.__distlabBench.changedAt = null; }"


def key_plan(steps_right: int, moves: int) -> list[str]:
    """Arrow keys for ``moves`` one-step moves: away from the default and back, on the side with
    room (right first), repeated as needed; ``steps_right`` is how many steps fit on the right.

    >>> key_plan(3, 8)
    ['ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowLeft', 'ArrowLeft', 'ArrowLeft', \
'ArrowRight', 'ArrowRight']
    """
    right = min(_SPAN, steps_right)
    if right > 0:
        cycle = ["ArrowRight"] * right + ["ArrowLeft"] * right
    else:  # at the maximum: go left and back
        cycle = ["ArrowLeft"] * _SPAN + ["ArrowRight"] * _SPAN
    return (cycle * (moves // len(cycle) + 1))[:moves]


def _notebook(names: list[str], path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("from distlab.widgets import all_explorers"))
    for name in names:
        nb.cells.append(nbformat.v4.new_code_cell(f"all_explorers()[{name!r}]()"))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


def _steps_right(control: Any) -> int:
    return int(round((control.max - control.value) / control.step))


def _plan(names: list[str], moves: int) -> dict[str, dict[str, Any]]:
    """For each explorer: the slider moved (name, as bench_explorers chooses) and the keys."""
    import contextlib
    import io

    import ipywidgets as widgets
    from bench_explorers import choose_control

    from distlab.widgets import all_explorers

    plans = {}
    for name in names:
        with contextlib.redirect_stdout(io.StringIO()):
            explorer = all_explorers()[name]()
        sliders = [
            n
            for n, c in explorer.controls.items()
            if isinstance(c, (widgets.IntSlider, widgets.FloatSlider, widgets.FloatLogSlider))
        ]
        chosen = choose_control(explorer.controls)
        if not sliders or chosen not in sliders:
            plans[name] = {"error": "no slider to move with a key"}
            continue
        # The first slider in the page is the first in the explorer's controls; bench_explorers'
        # choice (seed last) is the same unless seed comes first, which no explorer does.
        control = explorer.controls[sliders[0]]
        plans[name] = {
            "control": sliders[0],
            "keys": key_plan(_steps_right(control), moves),
        }
    return plans


def _time_moves(nb: Any, cell: int, keys: list[str]) -> dict[str, Any]:
    armed = nb.page.evaluate(_JS_ARM, cell)
    if "error" in armed:
        raise AssertionError(f"cell {cell}: {armed['error']}")
    handle = nb.page.locator('[data-distlab-bench="control"]')
    handle.scroll_into_view_if_needed()
    seen = {armed["value"]}
    times, new_times, values = [], [], []
    for key in keys:
        nb.page.evaluate(_JS_RESET)
        handle.focus()
        handle.press(key)
        deadline = time.monotonic() + MOVE_TIMEOUT_S
        while True:
            r = nb.page.evaluate(_JS_READ)
            if r["changedAt"] is not None and r["keyAt"] is not None:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"cell {cell}: no new plot {MOVE_TIMEOUT_S:.0f} s after {key}")
            time.sleep(0.01)
        elapsed = (r["changedAt"] - r["keyAt"]) / 1000.0
        times.append(elapsed)
        if r["value"] not in seen:
            new_times.append(elapsed)
        seen.add(r["value"])
        values.append(r["value"])
        nb.wait_kernel_idle(MOVE_TIMEOUT_S)
        time.sleep(PAUSE_S)
    return {"times_s": times, "new_times_s": new_times, "values": values}


def _p90(xs: list[float]) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def measure(
    moves: int = MOVES, only: list[str] | None = None, chromium_path: str | None = None
) -> dict[str, dict[str, Any]]:
    """``{explorer: figures}`` in seconds; ImportError/FileNotFoundError if Playwright/Chromium
    are missing, a failed explorer is ``{"error": msg}``.

    >>> figures = measure(moves=4, only=["network"])  # doctest: +SKIP
    """
    import lab_session

    from distlab.widgets import all_explorers

    chromium_path = (
        chromium_path or os.environ.get("DISTLAB_CHROMIUM") or lab_session.DEFAULT_CHROMIUM
    )
    if not Path(chromium_path).exists():
        raise FileNotFoundError(f"Chromium not found at {chromium_path}")
    import playwright.sync_api  # noqa: F401  (ImportError: the caller says why it is skipped)

    names = sorted(n for n in all_explorers() if not only or n in only)
    plans = _plan(names, moves)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="distlab-bench-browser-") as tmp:
        folder = Path(tmp) / "nb"
        folder.mkdir()
        _notebook(names, folder / "explorers.ipynb")
        with lab_session.lab_server(folder) as lab, lab_session.chromium(chromium_path) as browser:
            context = browser.new_context(viewport=lab_session.VIEWPORT)
            context.set_default_timeout(30_000)
            page = context.new_page()
            nb = lab_session.NotebookPage(page, "explorers.ipynb")
            nb.open(lab.url("explorers.ipynb"))
            nb.run_all()
            for cell, name in enumerate(names, start=1):
                plan = plans[name]
                if "error" in plan:
                    results[name] = plan
                    continue
                try:
                    lab_session.wait_for(
                        f"{name}: explorer rendered",
                        lambda cell=cell: "error" not in nb.page.evaluate(_JS_ARM, cell),
                        lab_session.EXPLORER_RENDER_S,
                    )
                    timed = _time_moves(nb, cell, plan["keys"])
                except AssertionError as exc:
                    results[name] = {"error": str(exc)}
                    continue
                times = timed["times_s"]
                results[name] = {
                    "control": plan["control"],
                    "moves": len(times),
                    "median_s": statistics.median(times),
                    "p90_s": _p90(times),
                    "max_s": max(times),
                    "median_new_s": statistics.median(timed["new_times_s"])
                    if timed["new_times_s"]
                    else None,
                    "new_moves": len(timed["new_times_s"]),
                    **timed,
                }
            context.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=MOVES)
    parser.add_argument("--explorer", action="append", metavar="NAME")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    figures = measure(moves=args.moves, only=args.explorer)
    for name, fig in figures.items():
        if "error" in fig:
            print(f"{name:20} ERROR {fig['error']}")
            continue
        new = fig["median_new_s"]
        print(
            f"{name:20} {fig['control']:>14}  median {1000 * fig['median_s']:6.0f} ms  "
            f"p90 {1000 * fig['p90_s']:6.0f} ms  max {1000 * fig['max_s']:6.0f} ms  "
            f"new values: median {1000 * new if new is not None else float('nan'):6.0f} ms "
            f"({fig['new_moves']} of {fig['moves']})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
