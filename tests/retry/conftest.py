"""Fixtures for the retry tests (the fakes live in retry_fakes.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so that the tests can `import retry_fakes`

from retry_fakes import FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()
