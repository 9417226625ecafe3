"""Fixtures for the saga tests (the fakes live in saga_fakes.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so that the tests can `import saga_fakes`

from saga_fakes import FakeTime, Ledger


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()
