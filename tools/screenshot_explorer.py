"""Take the README's picture of the network explorer (``docs/explorer.png``) in a real JupyterLab.

Run it from the repository root::

    .venv/bin/python tools/screenshot_explorer.py [--out docs/explorer.png]

It starts JupyterLab on 127.0.0.1 (a free port, a random token, temporary config, settings and
workspace folders) serving a temporary copy of ``notebooks/``, so nothing in the repository changes
except the picture. Debian's Chromium (``/usr/bin/chromium``; Playwright never downloads a browser)
opens ``00_start_here.ipynb``, runs all cells, waits for the network explorer's figure, picks the
partition preset (so the picture shows a partition band and dropped messages), waits for the new
figure and saves a screenshot cropped to the explorer: title, preset, sliders and figure.
The server, its kernels and the browser are stopped even when something fails.
"""

from __future__ import annotations

import argparse
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

from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "00_start_here.ipynb"
PRESET = "partition: a majority and a minority for 0.5 s"
CHROMIUM = "/usr/bin/chromium"
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

# Bounded waits, in seconds (generous for a loaded 2-core machine).
SERVER_START_S = 90
PAGE_READY_S = 90
RUN_ALL_S = 180
PLOT_S = 60
SETTLE_S = 1.5  # the figure must stay the same this long to count as drawn


# ---------------------------------------------------------------------------------------------
# JupyterLab server
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, method: str, path: str, timeout: float = 10) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for loopback
    req = urllib.request.Request(base + path, method=method, headers={"Authorization": f"token {token}"})
    with opener.open(req, timeout=timeout) as resp:
        body = resp.read()
    return json.loads(body) if body else None


def _write_lab_settings(settings_dir: Path) -> None:
    """A quiet Lab: every cell kept in the DOM, no news or update checks."""
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


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # started in its own session: the group id is its pid
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def jupyter_lab() -> Iterator[tuple[str, str]]:
    """Run JupyterLab on a temporary copy of the notebooks; yield (base URL, token)."""
    work = Path(tempfile.mkdtemp(prefix="distlab-shot-"))
    root = work / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
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
    token, port = secrets.token_hex(24), _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: commands, kernel status
        "--LabApp.news_url=",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = work / "jupyterlab.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {proc.returncode}:\n{log.read_text()}")
            try:
                _api(base, token, "GET", "/api/status", timeout=2)
                break
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start in {SERVER_START_S} s") from None
                time.sleep(0.25)
        yield base, token
    finally:
        for kind in ("sessions", "kernels"):  # shut the kernels down cleanly first
            try:
                for item in _api(base, token, "GET", f"/api/{kind}") or []:
                    _api(base, token, "DELETE", f"/api/{kind}/{item['id']}", timeout=30)
            except (OSError, ValueError):
                pass
        if proc.poll() is None:
            _kill_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        _kill_group(proc, signal.SIGKILL)  # whatever is left in the group
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------

# The notebook's kernel and cells, through window.jupyterapp (--LabApp.expose_app_in_browser).
_JS_STATE = """
() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.content || !panel.content.widgets) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = [], errors = [];
  panel.content.widgets.forEach((cell, index) => {
    const m = cell.model;
    if (m.type !== 'code') return;
    cells.push({index, count: m.executionCount, empty: m.sharedModel.getSource().trim() === ''});
    for (const out of m.outputs.toJSON())
      if (out.output_type === 'error') errors.push(`cell ${index}: ${out.ename}: ${out.evalue}`);
  });
  for (const el of document.querySelectorAll(
      '.jp-Notebook .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'))
    if (el.textContent.includes('Traceback')) errors.push(el.textContent.slice(0, 500));
  const busy = [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]
      .some(p => p.textContent.includes('[*]'));
  return {ready: panel.sessionContext.isReady, status: kernel ? kernel.status : null,
          dialog: !!document.querySelector('.jp-Dialog'), cells, errors, busy};
}
"""

# Tags the network explorer's widget box (the outermost VBox of the output whose title is
# "Network explorer") and its preset dropdown, for the locators below.
_JS_TAG_EXPLORER = """
() => {
  for (const out of document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')) {
    const box = out.querySelector('.widget-vbox');
    const title = box && box.querySelector('h3');
    if (!title || title.textContent.trim() !== 'Network explorer') continue;
    const preset = [...box.querySelectorAll('.widget-dropdown')].find(d =>
        (d.querySelector('.widget-label') || {}).textContent === 'preset');
    if (!preset || !box.querySelector('.widget-output img')) return false;
    box.setAttribute('data-shot', 'explorer');
    preset.querySelector('select').setAttribute('data-shot', 'preset');
    return true;
  }
  return false;
}
"""

_JS_PLOT_SRC = """
() => {
  const img = document.querySelector('[data-shot="explorer"] .widget-output img');
  return img && img.complete && img.naturalWidth > 0 ? img.getAttribute('src') : null;
}
"""


def wait_for(what: str, predicate: Callable[[], Any], timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.25)
    return value


def command(page: Page, name: str) -> None:
    page.evaluate("name => window.jupyterapp.commands.execute(name)", name)


def kernel_idle(page: Page) -> dict | None:
    s = page.evaluate(_JS_STATE)
    if s and s["dialog"]:
        raise RuntimeError("a JupyterLab dialog is open (kernel missing?)")
    if s and s["errors"]:
        raise RuntimeError("error output in the notebook:\n" + "\n".join(s["errors"]))
    return s if s and s["ready"] and s["status"] == "idle" and not s["busy"] else None


def run_all(page: Page) -> None:
    """Clear the saved outputs, run all cells, wait until every code cell ran and the kernel is idle."""
    command(page, "notebook:clear-all-cell-outputs")
    wait_for("outputs cleared", lambda: all(c["count"] is None for c in page.evaluate(_JS_STATE)["cells"]), 10)
    command(page, "notebook:run-all-cells")

    def finished() -> bool:
        s = kernel_idle(page)
        return bool(s) and all(c["count"] is not None for c in s["cells"] if not c["empty"])

    wait_for("Run All to finish", finished, RUN_ALL_S)
    time.sleep(0.75)  # idle can flicker between queued cells: make sure it holds
    wait_for("Run All to finish", finished, RUN_ALL_S)


def wait_plot(page: Page, differs_from: str | None) -> str:
    """Wait until the explorer's figure differs from `differs_from`, is loaded and stays unchanged."""
    last, since = None, time.monotonic()

    def settled() -> str | None:
        nonlocal last, since
        src = page.evaluate(_JS_PLOT_SRC)
        if src != last:
            last, since = src, time.monotonic()
        done = src and src != differs_from and time.monotonic() - since >= SETTLE_S
        return src if done and kernel_idle(page) else None

    return wait_for("the explorer's figure", settled, PLOT_S)


def screenshot(base: str, token: str, out: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(30_000)
            workspace = "shot-" + secrets.token_hex(4)  # fresh and reset: no restored tabs
            page.goto(f"{base}/lab/workspaces/{workspace}/tree/{NOTEBOOK}?reset&token={token}",
                      timeout=PAGE_READY_S * 1000)  # fmt: skip
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=PAGE_READY_S * 1000)
            wait_for("the kernel to be idle", lambda: kernel_idle(page), PAGE_READY_S)

            run_all(page)
            wait_for("the network explorer", lambda: page.evaluate(_JS_TAG_EXPLORER), PLOT_S)
            before = wait_plot(page, differs_from=None)

            preset = page.locator('[data-shot="preset"]')
            preset.scroll_into_view_if_needed()
            preset.select_option(label=PRESET)
            wait_plot(page, differs_from=before)
            preset.evaluate("el => el.blur()")  # no focus ring in the picture
            page.mouse.move(0, 0)

            explorer = page.locator('[data-shot="explorer"]')
            explorer.scroll_into_view_if_needed()
            out.parent.mkdir(parents=True, exist_ok=True)
            explorer.screenshot(path=str(out), animations="disabled")
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "explorer.png", help="PNG to write")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with jupyter_lab() as (base, token):
        screenshot(base, token, args.out.resolve())
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
