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
The server and page helpers are in ``tools/lab_session.py``, shared with the browser test.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lab_session, beside this file

import lab_session
from lab_session import NotebookPage, chromium, lab_server

REPO = lab_session.REPO
NOTEBOOK = "00_start_here.ipynb"
TITLE = "Network explorer"
PRESET = "partition: a majority and a minority for 0.5 s"
CHROMIUM = lab_session.DEFAULT_CHROMIUM
RUN_ALL_S = 180
PLOT_S = 60


def screenshot(lab: lab_session.LabServer, out: Path) -> None:
    """Open and run the notebook, set PRESET in the network explorer, save the explorer as `out`."""
    with chromium(CHROMIUM) as browser:
        page = browser.new_page(viewport=lab_session.VIEWPORT)
        page.set_default_timeout(30_000)
        nb = NotebookPage(page, NOTEBOOK, run_all_s=RUN_ALL_S)
        nb.open(lab.url(NOTEBOOK))
        nb.run_all()
        found = nb.find_explorer(title=TITLE, timeout_s=PLOT_S)
        if not found or not found["preset"]:
            raise AssertionError(f"no {TITLE!r} with a preset dropdown and a figure in {NOTEBOOK}")
        before = nb.wait_plot_settled(differs_from=None, timeout_s=PLOT_S)

        preset = page.locator(lab_session.PRESET)
        preset.scroll_into_view_if_needed()
        preset.select_option(label=PRESET)
        nb.wait_plot_settled(differs_from=before, timeout_s=PLOT_S)
        preset.evaluate("el => el.blur()")  # no focus ring in the picture
        page.mouse.move(0, 0)

        explorer = page.locator(lab_session.EXPLORER)
        explorer.scroll_into_view_if_needed()
        out.parent.mkdir(parents=True, exist_ok=True)
        explorer.screenshot(path=str(out), animations="disabled")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=REPO / "docs" / "explorer.png", help="PNG to write"
    )
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with lab_server(REPO / "notebooks", prefix="distlab-shot-") as lab:
        screenshot(lab, args.out.resolve())
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
