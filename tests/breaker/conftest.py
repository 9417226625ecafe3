"""Fixtures for the breaker tests (the fakes live in breaker_fakes.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so that the tests can `import breaker_fakes`

from breaker_fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
