"""Fixtures for the history and linearizability tests: where the Jepsen/Porcupine histories are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def histories_dir() -> Path:
    """$DISTLAB_HISTORIES, else ../shared/data/histories beside the checkout."""
    env = os.environ.get("DISTLAB_HISTORIES")
    return Path(env) if env else REPO.parent / "shared" / "data" / "histories"


def expected_verdicts() -> list[tuple[str, str]]:
    path = histories_dir() / "expected.txt"
    if not path.is_file():
        return []
    return [tuple(line.split()) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def histories() -> Path:
    folder = histories_dir()
    if not (folder / "expected.txt").is_file():
        pytest.skip(
            f"the linearizability fixtures are expected in {folder} (expected.txt, etcd/, kv/); "
            "set DISTLAB_HISTORIES to their folder"
        )
    return folder
