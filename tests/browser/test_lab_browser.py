"""Real-browser test: every notebook run in JupyterLab, an explorer control moved, its plot changes.

JupyterLab is started on 127.0.0.1 with a random token and a fresh port, serving a temporary copy of
the notebooks (the committed ones are never modified), and Debian's Chromium is driven through
Playwright's sync API (never a downloaded browser). For each ``notebooks/*.ipynb`` the test:

1. opens it at ``/lab/tree/<nb>?token=...`` and waits for its kernel to be idle;
2. clears the saved outputs, runs all cells, and checks that every non-empty code cell got an
   execution count (a "Run All" can be silently dropped: it is retried once);
3. waits for the kernel to be idle with no ``[*]`` prompt left, and checks there is no error
   output;
4. finds the first explorer (a cell output holding a plot image inside an ipywidgets ``Output``
   and a slider or dropdown beside it), moves the control and checks that the plot image changed
   and settled.

At least one notebook must contain an explorer. Run it alone with::

    .venv/bin/pytest -m browser tests/browser -v

The server, browser and page helpers live in ``tools/lab_session.py`` (shared with
``tools/screenshot_explorer.py``); ``conftest.py`` puts ``tools/`` on ``sys.path``.

Environment: ``DISTLAB_NOTEBOOKS`` (folder of notebooks, default ``<repo>/notebooks``),
``DISTLAB_CHROMIUM`` (browser binary, default ``/usr/bin/chromium``), ``DISTLAB_BROWSER_ARTIFACTS``
(folder for failure screenshots and the server log, default a temporary folder, printed on failure),
``DISTLAB_BROWSER_RUN_TIMEOUT`` (seconds a Run All may take, default 150).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lab_session
import pytest
from lab_session import LabError, LabServer, NotebookPage

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = Path(os.environ.get("DISTLAB_NOTEBOOKS") or REPO / "notebooks").resolve()
CHROMIUM = os.environ.get("DISTLAB_CHROMIUM") or lab_session.DEFAULT_CHROMIUM
IN_CI = bool(os.environ.get("CI"))
RUN_ALL_S = float(os.environ.get("DISTLAB_BROWSER_RUN_TIMEOUT", str(lab_session.RUN_ALL_S)))

if not Path(CHROMIUM).exists() and not IN_CI:
    pytest.skip(
        f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set DISTLAB_CHROMIUM); "
        "the browser test is skipped outside CI only",
        allow_module_level=True,
    )


def _notebook_names() -> list[str]:
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) if NOTEBOOKS.is_dir() else []


# Which notebooks showed an explorer that reacted (name -> description), for the final check.
_EXPLORERS_SEEN: dict[str, str] = {}
_NOTEBOOKS_CHECKED: list[str] = []


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(
        os.environ.get("DISTLAB_BROWSER_ARTIFACTS") or tempfile.mkdtemp(prefix="distlab-browser-")
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


# Module scope, not session: Playwright's sync API runs an event loop in the main thread while
# it is open, and every test after this module that calls asyncio.run() would fail.
@pytest.fixture(scope="module")
def lab(artifacts_dir: Path) -> Iterator[LabServer]:
    """JupyterLab on 127.0.0.1 serving a temporary copy of the notebooks (stopped, then removed)."""
    try:
        server = LabServer.start(NOTEBOOKS, log=artifacts_dir / "jupyterlab.log")
    except LabError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM} (CI is set, so this is a failure, not a skip)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        if IN_CI:
            pytest.fail(f"playwright is not installed: {exc}")
        pytest.skip(f"playwright is not installed: {exc}")
    with lab_session.chromium(CHROMIUM) as browser:
        yield browser


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_notebooks_exist() -> None:
    assert _notebook_names(), f"no notebooks found in {NOTEBOOKS} (set DISTLAB_NOTEBOOKS?)"


@pytest.mark.parametrize("notebook", _notebook_names())
def test_notebook_runs_and_explorer_reacts(
    notebook: str, lab: LabServer, browser: Any, artifacts_dir: Path
) -> None:
    context = browser.new_context(viewport=lab_session.VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    nb = NotebookPage(page, notebook, run_all_s=RUN_ALL_S)
    try:
        nb.open(lab.url(notebook))

        nb.run_all()
        _NOTEBOOKS_CHECKED.append(notebook)

        found = nb.find_explorer()
        if found is None:
            # A notebook without an explorer; test_some_notebook_has_an_explorer checks the set.
            return

        before = nb.wait_plot_settled(differs_from=None)
        moved = nb.move_control(found["kind"])
        after = nb.wait_plot_settled(differs_from=before)
        assert after != before
        errors = nb.state()["errors"]
        assert not errors, f"{notebook}: error output after moving a control:\n" + "\n".join(errors)
        _EXPLORERS_SEEN[notebook] = f"cell {found['cell']}: {moved}"
    except BaseException:
        shot = artifacts_dir / f"{Path(notebook).stem}.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
        except Exception:
            pass
        print(f"\nscreenshot: {shot}\nserver log: {lab.log}\npage errors: {console_errors}")
        print(f"server log tail:\n{lab.log_tail()}")
        raise
    finally:
        context.close()
        lab.shutdown_kernels()


def test_some_notebook_has_an_explorer() -> None:
    """Runs after the notebook tests (definition order): at least one explorer must have reacted."""
    if not _NOTEBOOKS_CHECKED:
        pytest.fail("no notebook was run to completion in the browser, so no explorer was checked")
    assert _EXPLORERS_SEEN, (
        f"none of the notebooks run ({', '.join(_NOTEBOOKS_CHECKED)}) has an explorer "
        "the test could find: "
        "a cell output with a slider or dropdown and a plot image inside an ipywidgets Output"
    )
    print("explorers that reacted:", _EXPLORERS_SEEN)
