"""Real-browser test: every notebook run in JupyterLab, one explorer control moved, the plot seen to change.

JupyterLab is started on 127.0.0.1 with a random token and a fresh port, serving a temporary copy of
the notebooks (the committed ones are never modified), and Debian's Chromium is driven through
Playwright's sync API (never a downloaded browser). For each ``notebooks/*.ipynb`` the test:

1. opens it at ``/lab/tree/<nb>?token=...`` and waits for its kernel to be idle;
2. clears the saved outputs, runs all cells, and checks that every non-empty code cell got an
   execution count (a "Run All" can be silently dropped: it is retried once);
3. waits for the kernel to be idle with no ``[*]`` prompt left, and checks there is no error output;
4. finds the first explorer (a cell output holding a plot image inside an ipywidgets ``Output`` and a
   slider or dropdown beside it), moves the control and checks that the plot image changed and settled.

At least one notebook must contain an explorer. Run it alone with::

    .venv/bin/pytest -m browser tests/browser -v

Environment: ``DISTLAB_NOTEBOOKS`` (folder of notebooks, default ``<repo>/notebooks``),
``DISTLAB_CHROMIUM`` (browser binary, default ``/usr/bin/chromium``), ``DISTLAB_BROWSER_ARTIFACTS``
(folder for failure screenshots and the server log, default a temporary folder, printed on failure).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = Path(os.environ.get("DISTLAB_NOTEBOOKS") or REPO / "notebooks").resolve()
CHROMIUM = os.environ.get("DISTLAB_CHROMIUM") or "/usr/bin/chromium"
IN_CI = bool(os.environ.get("CI"))

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Bounded waits (seconds). Generous for a loaded 2-core machine, small enough to fail in minutes.
SERVER_START_S = 90
PAGE_READY_S = 90
RUN_START_S = 15  # how long a Run All may take to visibly start before it is retried
RUN_ALL_S = float(os.environ.get("DISTLAB_BROWSER_RUN_TIMEOUT", "150"))
EXPLORER_RENDER_S = 45
NO_EXPLORER_S = 4  # widget DOM unchanged this long and no explorer: the notebook has none
PLOT_CHANGE_S = 45
SETTLE_S = 1.0  # the image src must stay the same this long to count as settled

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


# --------------------------------------------------------------------------------------------
# JupyterLab server
# --------------------------------------------------------------------------------------------


class LabServer:
    """A JupyterLab server process and a tiny REST client for it."""

    def __init__(self, root: Path, port: int, token: str, proc: subprocess.Popen, log: Path):
        self.root, self.port, self.token, self.proc, self.log = root, port, token, proc, log
        self.base = f"http://127.0.0.1:{port}"
        # No proxy for loopback, whatever the environment says.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def api(self, method: str, path: str, timeout: float = 10) -> Any:
        req = urllib.request.Request(
            self.base + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with self._opener.open(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def url(self, notebook: str) -> str:
        # A workspace of its own, reset: Lab would otherwise restore the previous notebook's tab.
        workspace = "t-" + secrets.token_hex(4)
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def shutdown_kernels(self) -> None:
        """Delete every session and kernel so the next notebook starts from a clean server."""
        for kind in ("sessions", "kernels"):
            try:
                items = self.api("GET", f"/api/{kind}")
            except (OSError, ValueError):
                continue
            for item in items or []:
                try:
                    self.api("DELETE", f"/api/{kind}/{item['id']}", timeout=30)
                except (OSError, ValueError):
                    pass

    def stop(self) -> None:
        self.shutdown_kernels()
        if self.proc.poll() is None:
            _kill_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        _kill_group(self.proc, signal.SIGKILL)  # leftovers in the group (kernels), if any
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the server was started in its own session: pgid == pid
    except (ProcessLookupError, PermissionError):
        pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_lab_settings(settings_dir: Path) -> None:
    """User settings for a quiet, deterministic Lab: every cell kept in the DOM, no network checks."""
    files = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for rel, content in files.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("DISTLAB_BROWSER_ARTIFACTS") or tempfile.mkdtemp(prefix="distlab-browser-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def lab(artifacts_dir: Path) -> Iterator[LabServer]:
    """JupyterLab on 127.0.0.1 serving a temporary copy of the notebooks."""
    work = Path(tempfile.mkdtemp(prefix="distlab-lab-"))
    root = work / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for sub in ("config", "runtime", "settings", "workspaces", "ipython"):
        (work / sub).mkdir()
    _write_lab_settings(work / "settings")

    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(work / "config"),
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
        IPYTHONDIR=str(work / "ipython"),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
    )
    token = secrets.token_hex(24)
    port = _free_port()
    log = artifacts_dir / "jupyterlab.log"
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: kernel status, cell models
        "--LabApp.news_url=",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI and these machines run as root
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    server = LabServer(root, port, token, proc, log)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{server.log_tail()}")
            try:
                server.api("GET", "/api/status", timeout=2)
                break
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer /api/status in {SERVER_START_S} s:\n{server.log_tail()}")
                time.sleep(0.25)
        yield server
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Browser
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (CI is set, so this is a failure, not a skip)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        if IN_CI:
            pytest.fail(f"playwright is not installed: {exc}")
        pytest.skip(f"playwright is not installed: {exc}")
    pw = sync_playwright().start()
    try:
        # executable_path: Playwright never downloads a browser of its own.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()


# JavaScript run in the page. `window.jupyterapp` is exposed by --LabApp.expose_app_in_browser.
_JS_STATE = """
() => {
  const app = window.jupyterapp;
  const panel = app && app.shell && app.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.content || !panel.content.widgets) return null;
  const ctx = panel.sessionContext;
  const kernel = ctx.session && ctx.session.kernel;
  const cells = [];
  const errors = [];
  panel.content.widgets.forEach((cell, index) => {
    const m = cell.model;
    if (m.type !== 'code') return;
    const source = m.sharedModel.getSource();
    cells.push({index, count: m.executionCount, empty: source.trim() === ''});
    for (const out of m.outputs.toJSON()) {
      if (out.output_type === 'error') {
        errors.push(`cell ${index}: ${out.ename}: ${out.evalue}`);
      } else if (out.output_type === 'stream' && out.name === 'stderr') {
        const text = Array.isArray(out.text) ? out.text.join('') : String(out.text);
        if (text.includes('Traceback')) errors.push(`cell ${index} stderr: ${text.slice(0, 500)}`);
      }
    }
  });
  // Tracebacks rendered anywhere, including inside ipywidgets Output widgets (not in cell models).
  for (const el of document.querySelectorAll(
      '.jp-Notebook .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')) {
    if (el.textContent.includes('Traceback')) errors.push('rendered: ' + el.textContent.slice(0, 500));
  }
  const busyPrompts = [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]
      .filter(p => p.textContent.includes('[*]')).length;
  return {
    path: panel.context.path,
    ready: ctx.isReady,
    kernelId: kernel ? kernel.id : null,
    status: kernel ? kernel.status : null,
    dialog: !!document.querySelector('.jp-Dialog'),
    cells, errors, busyPrompts,
  };
}
"""

# Finds the first explorer and tags it (data-distlab-test) so locators can target it. An explorer is
# a top-level cell output holding a plot (an <img> inside an ipywidgets Output, or an Image widget)
# and a slider or dropdown outside the Output; sliders are preferred, then dropdowns not labelled
# "preset". An element with the class `distlab-explorer` is preferred when present.
_JS_FIND_EXPLORER = """
() => {
  for (const el of document.querySelectorAll('[data-distlab-test]')) el.removeAttribute('data-distlab-test');
  const controlsOf = root => {
    const inPlot = el => !!el.closest('.widget-output');
    const sliders = [...root.querySelectorAll('.widget-slider .noUi-handle')].filter(e => !inPlot(e));
    const drops = [...root.querySelectorAll('.widget-dropdown select')].filter(e => !inPlot(e));
    const label = e => {
      const box = e.closest('.widget-dropdown');
      const l = box && box.querySelector('.widget-label');
      return l ? l.textContent.trim() : '';
    };
    const dropdowns = drops.filter(d => !/preset/i.test(label(d))).concat(
        drops.filter(d => /preset/i.test(label(d))));
    return {sliders, dropdowns};
  };
  const hasPlot = root => !!root.querySelector('.widget-output img, img.widget-image');
  const marked = [...document.querySelectorAll('.jp-Notebook .distlab-explorer')];
  const tops = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-child')]
      .filter(el => !el.parentElement.closest('.jp-OutputArea-child'));
  for (const root of marked.concat(tops)) {
    if (!hasPlot(root)) continue;
    const {sliders, dropdowns} = controlsOf(root);
    let control = null, kind = null;
    if (sliders.length) { control = sliders[0]; kind = 'slider'; }
    else if (dropdowns.length) { control = dropdowns[0]; kind = 'dropdown'; }
    if (!control) continue;
    root.setAttribute('data-distlab-test', 'explorer');
    control.setAttribute('data-distlab-test', 'control');
    const cell = root.closest('.jp-Cell');
    const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
    return {kind, cell: cells.indexOf(cell)};
  }
  return null;
}
"""

_JS_WIDGET_SHAPE = """
() => {
  const nb = document.querySelector('.jp-Notebook');
  return nb ? [nb.querySelectorAll('.jupyter-widgets').length, nb.querySelectorAll('img').length,
               nb.querySelectorAll('.jp-OutputArea-child').length] : null;
}
"""

_JS_PLOT_SRC = """
() => {
  const root = document.querySelector('[data-distlab-test="explorer"]');
  const img = root && root.querySelector('.widget-output img, img.widget-image');
  return img ? img.getAttribute('src') : null;
}
"""


def _wait_for(
    what: str, predicate: Callable[[], Any], timeout_s: float, interval_s: float = 0.25
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


class NotebookPage:
    """One notebook open in JupyterLab."""

    def __init__(self, page: Any, name: str):
        self.page, self.name = page, name

    def state(self) -> dict | None:
        return self.page.evaluate(_JS_STATE)

    def wait_kernel_idle(self, timeout_s: float) -> dict:
        def idle() -> dict | None:
            s = self.state()
            if s and s["dialog"]:
                raise AssertionError(f"{self.name}: a dialog is open (missing kernel?)")
            return s if s and s["ready"] and s["status"] == "idle" else None

        return _wait_for(f"{self.name}: kernel idle", idle, timeout_s)

    def command(self, name: str) -> None:
        self.page.evaluate("name => window.jupyterapp.commands.execute(name)", name)

    def run_all(self) -> dict:
        """Clear outputs, Run All, verify every code cell ran (retry a dropped Run All once)."""
        self.command("notebook:clear-all-cell-outputs")
        _wait_for(
            f"{self.name}: outputs cleared",
            lambda: all(c["count"] is None for c in self.state()["cells"]),
            10,
        )
        for attempt in (1, 2):
            self.command("notebook:run-all-cells")
            started = self._wait_started()
            if started:
                break
            if attempt == 2:
                raise AssertionError(f"{self.name}: Run All did not start, twice")
        return self._wait_finished()

    def _wait_started(self) -> bool:
        deadline = time.monotonic() + RUN_START_S
        while time.monotonic() < deadline:
            s = self.state()
            if s["status"] == "busy" or s["busyPrompts"] or any(c["count"] for c in s["cells"]):
                return True
            time.sleep(0.2)
        return False

    def _wait_finished(self) -> dict:
        deadline = time.monotonic() + RUN_ALL_S
        stable_since = None
        while True:
            s = self.state()
            idle = s["status"] == "idle" and not s["busyPrompts"]
            if idle and s["errors"]:
                raise AssertionError(f"{self.name}: error output after Run All:\n" + "\n".join(s["errors"]))
            todo = [c["index"] for c in s["cells"] if not c["empty"] and c["count"] is None]
            if idle and not todo:
                # Idle can flicker between queued cells: require it to hold briefly.
                stable_since = stable_since or time.monotonic()
                if time.monotonic() - stable_since >= 0.75:
                    return s
            else:
                stable_since = None
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name}: Run All not finished after {RUN_ALL_S:.0f} s "
                    f"(kernel {s['status']}, cells without an execution count: {todo})"
                )
            time.sleep(0.25)

    def find_explorer(self) -> dict | None:
        """The first explorer (tagged in the DOM), or None once the widgets have stopped changing.

        Widgets render asynchronously after the kernel is idle, so an explorer may appear late; a
        notebook without one is recognised when the widget DOM has been still for NO_EXPLORER_S.
        """
        deadline = time.monotonic() + EXPLORER_RENDER_S
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            found = self.page.evaluate(_JS_FIND_EXPLORER)
            if found:
                return found
            shape = self.page.evaluate(_JS_WIDGET_SHAPE)
            if shape != last:
                last, since = shape, time.monotonic()
            elif time.monotonic() - since >= NO_EXPLORER_S:
                return None
            time.sleep(0.25)
        return None

    def plot_src(self) -> str | None:
        return self.page.evaluate(_JS_PLOT_SRC)

    def wait_plot_settled(self, differs_from: str | None, timeout_s: float) -> str:
        """Wait until the plot's src differs from `differs_from` and stays the same for SETTLE_S."""
        deadline = time.monotonic() + timeout_s
        last, since = None, time.monotonic()
        while True:
            src = self.plot_src()
            if src != last:
                last, since = src, time.monotonic()
            s = self.state()
            if (
                src
                and src != differs_from
                and time.monotonic() - since >= SETTLE_S
                and s["status"] == "idle"
            ):
                return src
            if time.monotonic() > deadline:
                changed = "changed" if src and src != differs_from else "did not change"
                raise AssertionError(f"{self.name}: explorer plot {changed} / did not settle in {timeout_s:.0f} s")
            time.sleep(0.2)

    def move_control(self, kind: str) -> str:
        control = self.page.locator('[data-distlab-test="control"]')
        control.scroll_into_view_if_needed()
        if kind == "slider":
            before = control.get_attribute("aria-valuenow")
            at_max = before is not None and before == control.get_attribute("aria-valuemax")
            control.focus()
            control.press("ArrowLeft" if at_max else "ArrowRight")
            _wait_for(
                f"{self.name}: slider value to change from {before}",
                lambda: control.get_attribute("aria-valuenow") != before,
                10,
            )
            return f"slider {before} -> {control.get_attribute('aria-valuenow')}"
        options = control.locator("option")
        values = [options.nth(i).get_attribute("value") for i in range(options.count())]
        current = control.input_value()
        choices = [v for v in values if v != current]
        assert choices, f"{self.name}: the explorer's dropdown has a single option"
        control.select_option(value=choices[0])
        return f"dropdown {current} -> {choices[0]}"


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_notebooks_exist() -> None:
    assert _notebook_names(), f"no notebooks found in {NOTEBOOKS} (set DISTLAB_NOTEBOOKS?)"


@pytest.mark.parametrize("notebook", _notebook_names())
def test_notebook_runs_and_explorer_reacts(
    notebook: str, lab: LabServer, browser: Any, artifacts_dir: Path
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    nb = NotebookPage(page, notebook)
    try:
        page.goto(lab.url(notebook), timeout=PAGE_READY_S * 1000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=PAGE_READY_S * 1000)
        state = nb.wait_kernel_idle(PAGE_READY_S)
        assert state["path"].endswith(notebook), f"opened {state['path']}, expected {notebook}"

        nb.run_all()
        _NOTEBOOKS_CHECKED.append(notebook)

        found = nb.find_explorer()
        if found is None:
            return  # a notebook without an explorer; test_some_notebook_has_an_explorer checks the set

        before = nb.wait_plot_settled(differs_from=None, timeout_s=PLOT_CHANGE_S)
        moved = nb.move_control(found["kind"])
        after = nb.wait_plot_settled(differs_from=before, timeout_s=PLOT_CHANGE_S)
        assert after != before
        errors = nb.state()["errors"]
        assert not errors, f"{notebook}: error output after moving a control:\n" + "\n".join(errors)
        _EXPLORERS_SEEN[notebook] = f"cell {found['cell']}: {moved}"
    except BaseException:
        shot = artifacts_dir / f"{Path(notebook).stem}.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
        except Exception:  # noqa: BLE001 - the original failure matters more
            pass
        print(f"\nscreenshot: {shot}\nserver log: {lab.log}\npage errors: {console_errors}")
        print(f"server log tail:\n{lab.log_tail()}")
        raise
    finally:
        context.close()
        lab.shutdown_kernels()


def test_some_notebook_has_an_explorer() -> None:
    """Runs after the per-notebook tests (definition order): at least one explorer must have reacted."""
    if not _NOTEBOOKS_CHECKED:
        pytest.fail("no notebook was run to completion in the browser, so no explorer was checked")
    assert _EXPLORERS_SEEN, (
        f"none of the notebooks run ({', '.join(_NOTEBOOKS_CHECKED)}) has an explorer the test could find: "
        "a cell output with a slider or dropdown and a plot image inside an ipywidgets Output"
    )
    print("explorers that reacted:", _EXPLORERS_SEEN)
