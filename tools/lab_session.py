"""Drive a real JupyterLab in Debian's Chromium: code shared by the browser test and screenshots.

Used by ``tests/browser/test_lab_browser.py`` (every notebook run, an explorer control moved, the
plot seen to change) and ``tools/screenshot_explorer.py`` (the README's ``docs/explorer.png``).

* :class:`LabServer` starts JupyterLab on 127.0.0.1 (a free port, a random token, temporary config,
  runtime, settings, workspace and IPython folders, ``--allow-root`` when run as root) serving a
  temporary *copy* of the notebooks, so the repository's ``notebooks/`` is never written to; it
  waits for ``/api/status``, and :meth:`LabServer.stop` shuts the kernels down, kills the server's
  process group and removes the temporary folder. :func:`lab_server` wraps both in a ``with``
  block.
* :func:`chromium` launches Chromium through Playwright's sync API with ``executable_path``
  (Playwright never downloads a browser of its own) and the flags a container needs.
* :class:`NotebookPage` drives one notebook through ``window.jupyterapp`` (exposed by
  ``--LabApp.expose_app_in_browser``): run all cells (retrying a dropped Run All once), wait for
  the kernel to be idle with every code cell run and no error output, find an explorer and its plot
  image, move a control, wait for the plot to change and settle.

Nothing here imports pytest; failures are :class:`LabError` (server) or ``AssertionError`` (page).
Playwright is imported only by :func:`chromium`, so callers can decide what a missing Playwright
means.
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
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}

# Bounded waits (seconds). Generous for a loaded 2-core machine, small enough to fail in minutes.
SERVER_START_S = 90
PAGE_READY_S = 90
RUN_START_S = 15  # how long a Run All may take to visibly start before it is retried
RUN_ALL_S = 150
EXPLORER_RENDER_S = 45
NO_EXPLORER_S = 4  # widget DOM unchanged this long and no explorer: the notebook has none
PLOT_CHANGE_S = 45
SETTLE_S = 1.0  # the image src must stay the same this long to count as settled


class LabError(RuntimeError):
    """JupyterLab could not be started (it exited, or did not answer in time)."""


def wait_for(
    what: str, predicate: Callable[[], Any], timeout_s: float, interval_s: float = 0.25
) -> Any:
    """Poll `predicate` until it returns a truthy value, return that; AssertionError on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


# --------------------------------------------------------------------------------------------
# JupyterLab server
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the server was started in its own session: pgid == pid
    except (ProcessLookupError, PermissionError):
        pass


def _write_lab_settings(settings_dir: Path) -> None:
    """Settings for a quiet, deterministic Lab: every cell kept in the DOM, no network checks."""
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


class LabServer:
    """A JupyterLab server process serving a temporary copy of the notebooks; a tiny REST client."""

    def __init__(self, work: Path, port: int, token: str, proc: subprocess.Popen, log: Path):
        self.work, self.root = work, work / "notebooks"
        self.port, self.token, self.proc, self.log = port, token, proc, log
        self.base = f"http://127.0.0.1:{port}"
        # No proxy for loopback, whatever the environment says.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @classmethod
    def start(
        cls,
        notebooks: Path,
        log: Path | None = None,
        prefix: str = "distlab-lab-",
        start_timeout_s: float = SERVER_START_S,
    ) -> LabServer:
        """Copy `notebooks` to a temporary folder, start JupyterLab on it and wait for /api/status.

        The server's output goes to `log` (default: inside the temporary folder, removed by stop()).
        Raises LabError, after stopping everything, if the server exits or does not answer in time.
        """
        work = Path(tempfile.mkdtemp(prefix=prefix))
        try:
            root = work / "notebooks"
            shutil.copytree(notebooks, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            for sub in ("config", "runtime", "settings", "workspaces", "ipython"):
                (work / sub).mkdir()
            _write_lab_settings(work / "settings")
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise

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
        log = log or work / "jupyterlab.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            # window.jupyterapp: commands, kernel status, cell models
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI and these machines run as root
        try:
            with open(log, "wb") as log_file:
                proc = subprocess.Popen(
                    cmd, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        server = cls(work, port, token, proc, log)
        try:
            server._wait_ready(start_timeout_s)
        except BaseException:
            server.stop()  # the LabError already holds the log's tail
            raise
        return server

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise LabError(
                    f"JupyterLab exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                self.api("GET", "/api/status", timeout=2)
                return
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    raise LabError(
                        f"JupyterLab did not answer /api/status in {timeout_s:.0f} s:\n"
                        f"{self.log_tail()}"
                    ) from None
                time.sleep(0.25)

    def api(self, method: str, path: str, timeout: float = 10) -> Any:
        """Call the server's REST API with the token; the decoded JSON body, or None if empty."""
        req = urllib.request.Request(
            self.base + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with self._opener.open(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def url(self, notebook: str) -> str:
        """The URL opening `notebook` in a fresh, reset workspace (no tab restored from before)."""
        workspace = "t-" + secrets.token_hex(4)
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines of the server's output."""
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
        """Shut the kernels down, kill the server's process group, remove the temporary folder."""
        try:
            if self.proc.poll() is None:
                self.shutdown_kernels()
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
        finally:
            shutil.rmtree(self.work, ignore_errors=True)


@contextmanager
def lab_server(
    notebooks: Path, log: Path | None = None, prefix: str = "distlab-lab-"
) -> Iterator[LabServer]:
    """LabServer.start(...) for the length of a ``with`` block, stopped even if the block fails."""
    server = LabServer.start(notebooks, log=log, prefix=prefix)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# Browser
# --------------------------------------------------------------------------------------------


@contextmanager
def chromium(executable: str = DEFAULT_CHROMIUM) -> Iterator[Any]:
    """A headless Playwright Browser on the given Chromium binary, closed (with Playwright) on exit.

    ImportError if Playwright is missing; FileNotFoundError if the binary is.
    """
    if not Path(executable).exists():
        raise FileNotFoundError(f"Chromium not found at {executable}")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        # executable_path: Playwright never downloads a browser of its own.
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
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
    if (el.textContent.includes('Traceback')) {
      errors.push('rendered: ' + el.textContent.slice(0, 500));
    }
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
# "preset". An element with the class `distlab-explorer` is preferred when present. With a `title`,
# only an explorer whose <h3> reads exactly that counts, and the tagged element is its outermost
# widget box (title, controls and plot, without the output prompt). The preset dropdown, if any, is
# tagged too.
_JS_FIND_EXPLORER = """
(title) => {
  for (const el of document.querySelectorAll('[data-distlab-test]')) {
    el.removeAttribute('data-distlab-test');
  }
  const inPlot = el => !!el.closest('.widget-output');
  const label = e => {
    const box = e.closest('.widget-dropdown');
    const l = box && box.querySelector('.widget-label');
    return l ? l.textContent.trim() : '';
  };
  const controlsOf = root => {
    const sliders = [...root.querySelectorAll('.widget-slider .noUi-handle')]
        .filter(e => !inPlot(e));
    const drops = [...root.querySelectorAll('.widget-dropdown select')].filter(e => !inPlot(e));
    const dropdowns = drops.filter(d => !/preset/i.test(label(d))).concat(
        drops.filter(d => /preset/i.test(label(d))));
    return {sliders, dropdowns, preset: drops.find(d => /^preset$/i.test(label(d))) || null};
  };
  const hasPlot = root => !!root.querySelector('.widget-output img, img.widget-image');
  const marked = [...document.querySelectorAll('.jp-Notebook .distlab-explorer')];
  const tops = [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-child')]
      .filter(el => !el.parentElement.closest('.jp-OutputArea-child'));
  let roots = marked.concat(tops);
  if (title !== null && title !== undefined) {
    roots = roots.map(r => {
      const box = r.classList.contains('widget-vbox') ? r : r.querySelector('.widget-vbox');
      const h = box && box.querySelector('h3');
      return h && h.textContent.trim() === title ? box : null;
    }).filter(Boolean);
  }
  for (const root of roots) {
    if (!hasPlot(root)) continue;
    const {sliders, dropdowns, preset} = controlsOf(root);
    let control = null, kind = null;
    if (sliders.length) { control = sliders[0]; kind = 'slider'; }
    else if (dropdowns.length) { control = dropdowns[0]; kind = 'dropdown'; }
    if (!control) continue;
    root.setAttribute('data-distlab-test', 'explorer');
    control.setAttribute('data-distlab-test', 'control');
    if (preset && preset !== control) preset.setAttribute('data-distlab-test', 'preset');
    const cell = root.closest('.jp-Cell');
    const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
    return {kind, cell: cells.indexOf(cell), preset: !!preset};
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

# The tagged explorer's plot image src, once the image has loaded.
_JS_PLOT_SRC = """
() => {
  const root = document.querySelector('[data-distlab-test="explorer"]');
  const img = root && root.querySelector('.widget-output img, img.widget-image');
  return img && img.complete && img.naturalWidth > 0 ? img.getAttribute('src') : null;
}
"""

# A slider handle's exact value and whether it is at the slider's maximum. noUiSlider (ipywidgets'
# slider) writes aria-valuenow, -valuemin and -valuemax with toFixed(1), one decimal: a step of 0.05
# from 0.1 to 0.15 leaves aria-valuenow at "0.1". aria-valuetext is the value as the slider formats
# it (rounded to its step), and the slider's API knows its range exactly.
_JS_SLIDER = """
(handle) => {
  const target = handle.closest('.noUi-target');
  const api = target && target.noUiSlider;
  const value = handle.getAttribute('aria-valuetext');
  const max = api && api.options && api.options.range ? Number(api.options.range.max) : NaN;
  const atMax = Number.isNaN(max)
      ? handle.getAttribute('aria-valuenow') === handle.getAttribute('aria-valuemax')
      : Number(value) >= max;
  return {value, atMax};
}
"""

EXPLORER = '[data-distlab-test="explorer"]'
CONTROL = '[data-distlab-test="control"]'
PRESET = '[data-distlab-test="preset"]'


class NotebookPage:
    """One notebook open in JupyterLab, driven through ``window.jupyterapp``.

    Failures raise AssertionError.
    """

    def __init__(self, page: Any, name: str, run_all_s: float = RUN_ALL_S):
        self.page, self.name, self.run_all_s = page, name, run_all_s

    def open(self, url: str, timeout_s: float = PAGE_READY_S) -> dict:
        """Go to `url`, wait for the notebook and an idle kernel; check it is the right notebook."""
        self.page.goto(url, timeout=timeout_s * 1000)
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=timeout_s * 1000)
        state = self.wait_kernel_idle(timeout_s)
        assert state["path"].endswith(self.name), f"opened {state['path']}, expected {self.name}"
        return state

    def state(self) -> dict | None:
        """Kernel status, code cells (execution counts), error outputs and busy prompts, or None."""
        return self.page.evaluate(_JS_STATE)

    def wait_kernel_idle(self, timeout_s: float) -> dict:
        """Wait for the notebook's kernel to be ready and idle; fail at once if a dialog opens."""

        def idle() -> dict | None:
            s = self.state()
            if s and s["dialog"]:
                raise AssertionError(f"{self.name}: a dialog is open (missing kernel?)")
            return s if s and s["ready"] and s["status"] == "idle" else None

        return wait_for(f"{self.name}: kernel idle", idle, timeout_s)

    def command(self, name: str) -> None:
        """Execute a JupyterLab command by id (e.g. ``notebook:run-all-cells``)."""
        self.page.evaluate("name => window.jupyterapp.commands.execute(name)", name)

    def run_all(self) -> dict:
        """Clear outputs, Run All, verify every code cell ran with no error.

        A dropped Run All is retried once.
        """
        self.command("notebook:clear-all-cell-outputs")
        wait_for(
            f"{self.name}: outputs cleared",
            lambda: all(c["count"] is None for c in self.state()["cells"]),
            10,
        )
        for attempt in (1, 2):
            self.command("notebook:run-all-cells")
            if self._wait_started():
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
        deadline = time.monotonic() + self.run_all_s
        stable_since = None
        while True:
            s = self.state()
            idle = s["status"] == "idle" and not s["busyPrompts"]
            if idle and s["errors"]:
                raise AssertionError(
                    f"{self.name}: error output after Run All:\n" + "\n".join(s["errors"])
                )
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
                    f"{self.name}: Run All not finished after {self.run_all_s:.0f} s "
                    f"(kernel {s['status']}, cells without an execution count: {todo})"
                )
            time.sleep(0.25)

    def find_explorer(
        self, title: str | None = None, timeout_s: float = EXPLORER_RENDER_S
    ) -> dict | None:
        """The first explorer (tagged EXPLORER / CONTROL / PRESET in the DOM), or None.

        Widgets render asynchronously after the kernel is idle, so an explorer may appear late; a
        notebook without one is recognised when the widget DOM has been still for NO_EXPLORER_S.
        With `title`, only the explorer whose heading reads `title` counts (see _JS_FIND_EXPLORER).
        """
        deadline = time.monotonic() + timeout_s
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            found = self.page.evaluate(_JS_FIND_EXPLORER, title)
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
        """The src of the tagged explorer's plot image once loaded, or None."""
        return self.page.evaluate(_JS_PLOT_SRC)

    def wait_plot_settled(self, differs_from: str | None, timeout_s: float = PLOT_CHANGE_S) -> str:
        """Wait until the plot's src differs from `differs_from`, stays the same for SETTLE_S with
        the kernel idle (no ``[*]`` prompt); fail at once on error output."""
        deadline = time.monotonic() + timeout_s
        last, since = None, time.monotonic()
        while True:
            src = self.plot_src()
            if src != last:
                last, since = src, time.monotonic()
            s = self.state()
            if s and s["errors"]:
                raise AssertionError(
                    f"{self.name}: error output while the plot redraws:\n" + "\n".join(s["errors"])
                )
            if (
                src
                and src != differs_from
                and time.monotonic() - since >= SETTLE_S
                and s
                and s["status"] == "idle"
                and not s["busyPrompts"]
            ):
                return src
            if time.monotonic() > deadline:
                changed = "changed" if src and src != differs_from else "did not change"
                raise AssertionError(
                    f"{self.name}: explorer plot {changed} / did not settle in {timeout_s:.0f} s"
                )
            time.sleep(0.2)

    def move_control(self, kind: str) -> str:
        """Move the tagged control one step and describe the move.

        Slider: an arrow key (left at the maximum), then its value (``aria-valuetext``) must
        change; dropdown: another option.
        """
        control = self.page.locator(CONTROL)
        control.scroll_into_view_if_needed()
        if kind == "slider":
            # aria-valuetext, not aria-valuenow: see _JS_SLIDER.
            start = control.evaluate(_JS_SLIDER)
            before = start["value"]
            assert before is not None, f"{self.name}: the slider handle has no aria-valuetext"
            control.focus()
            control.press("ArrowLeft" if start["atMax"] else "ArrowRight")
            wait_for(
                f"{self.name}: slider value to change from {before}",
                lambda: control.get_attribute("aria-valuetext") != before,
                10,
            )
            return f"slider {before} -> {control.get_attribute('aria-valuetext')}"
        options = control.locator("option")
        values = [options.nth(i).get_attribute("value") for i in range(options.count())]
        current = control.input_value()
        choices = [v for v in values if v != current]
        assert choices, f"{self.name}: the explorer's dropdown has a single option"
        control.select_option(value=choices[0])
        return f"dropdown {current} -> {choices[0]}"
