"""Fixtures for the clock tests (the run strategies live in clock_runs.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # so that the tests can `import clock_runs`
